#!/usr/bin/env python3
"""Clients written against protocol version 1 keep working (issue 14, item 5).

v1_sessions.json holds the bytes the `tapestream` CLI of protocol version 1 sent, and the
frames the daemon answered, for a fixed sequence of commands on a fresh emulated tape
(several writes by fd passing and by the socket stream, fixed blocks, control operations,
reads back, status, list, refusals). They were recorded once through a proxy on the CLI's
socket (`v1_compat.py record DAEMON CLI OUT`) and are never regenerated to make a test pass:
a change that breaks them breaks deployed clients.

`v1_compat.py DAEMON CLI replay` sends the recorded client bytes to today's daemon, in the
recorded order, descriptors included (a fresh file with the same bytes where the CLI passed
its standard input; a fresh file where it passed its standard output, whose contents are then
compared with what was written), and checks each answer: the same frame types in the same
order (PROGRESS frames, whose number depends on timing, aside); READY, COMMITTED and
CONTROL_DONE byte for byte; ERROR and STREAM_FAILED by status code; the rest by type.
Exit 0/1/77."""
import array
import hashlib
import json
import os
import socket
import struct
import sys
import tempfile
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from protocol_frames import (COMMITTED, CONTROL_DONE, ERROR, PROGRESS, READY,  # noqa: E402
                             STREAM_FAILED)

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "v1_sessions.json")
HEADER = 16
EXACT = {READY, COMMITTED, CONTROL_DONE}
BY_STATUS = {ERROR, STREAM_FAILED}


def pattern(size, seed):
    """The bytes of a recorded stream's source: reproducible from its size and seed."""
    out, block = bytearray(), 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{block}".encode()).digest()
        block += 1
    return bytes(out[:size])


# The commands recorded, in order, on one fresh tape: (arguments, standard input, standard
# output). A source is (size, seed); "file" stdout is a file the CLI gets (passed by fd).
COMMANDS = [
    (["drives"], None, None),
    (["status"], None, None),
    (["--data-path", "fd", "write", "--label", "by fd"], (300_000, 1), None),
    (["--data-path", "stream", "write", "--label", "by socket"], (70_000, 2), None),
    (["--data-path", "stream", "write", "--fixed", "--block-size", "4096"], (10_000, 3), None),
    (["--data-path", "fd", "write", "--size", "999"], (1000, 4), None),  # refused: length
    (["tell"], None, None),
    (["rewind"], None, None),
    (["fsf", "1"], None, None),
    (["--data-path", "fd", "read", "--file", "0"], None, "file"),
    (["--data-path", "stream", "read", "--file", "1"], None, "file"),
    (["--data-path", "stream", "read", "--file", "2"], None, "file"),
    (["list"], None, None),
    (["--drive", "nosuch", "status"], None, None),
    (["read", "--file", "9"], None, "file"),
]


def frames_of(chunks):
    """[(frame bytes, index of the chunk that completed it, fds that came with its first byte)]
    from one direction's chunks [(index, bytes, fds)]."""
    out, buf, start_fds = [], b"", []
    for index, data, fds in chunks:
        if not buf:
            start_fds = list(fds)
        buf += data
        while len(buf) >= HEADER:
            length = struct.unpack_from("<I", buf, 12)[0]
            if len(buf) < HEADER + length:
                break
            out.append((buf[:HEADER + length], index, start_fds))
            buf, start_fds = buf[HEADER + length:], []
    return out


# --- recording (a developer's tool, run once) ---------------------------------------------------

def pump(src, dst, direction, events, lock):
    while True:
        try:
            data, anc, _, _ = src.recvmsg(1 << 20, socket.CMSG_SPACE(16 * 4))
        except OSError:
            data, anc = b"", []
        fds = []
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += array.array("i", payload[:len(payload) - len(payload) % 4])
        if not data:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        with lock:
            events.append((direction, data, ["passed"] * len(fds)))
        dst.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else [])
        for fd in fds:
            os.close(fd)


def record_session(upstream, listen_path, run):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listen_path)
    server.listen(1)
    events, lock, threads = [], threading.Lock(), []

    def serve():
        conn, _ = server.accept()
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        up.connect(upstream)
        for a, b, d in ((conn, up, "client"), (up, conn, "daemon")):
            t = threading.Thread(target=pump, args=(a, b, d, events, lock))
            t.start()
            threads.append(t)

    acceptor = threading.Thread(target=serve)
    acceptor.start()
    result = run()
    acceptor.join(10)
    for t in threads:
        t.join(10)
    server.close()
    os.unlink(listen_path)
    indexed = list(enumerate(events))
    client = frames_of([(i, d, f) for i, (w, d, f) in indexed if w == "client"])
    daemon = frames_of([(i, d, f) for i, (w, d, f) in indexed if w == "daemon"])
    merged = sorted([(i, "client", f, fds) for f, i, fds in client] +
                    [(i, "daemon", f, fds) for f, i, fds in daemon], key=lambda e: (e[0], e[1] == "daemon"))
    # Answers compared by type alone keep only their header (DATA read back would double the
    # fixture for nothing).
    kept = [f if w == "client" or frame_type(f) in EXACT | BY_STATUS else f[:HEADER]
            for _, w, f, _ in merged]
    return result, [{"from": w, "hex": f.hex(), **({"fd": True} if fds else {})}
                    for f, (_, w, _, fds) in zip(kept, merged)]


def record(daemon_bin, cli_bin, out_path):
    case = rs.Case(daemon_bin, cli_bin, "v1-record")
    try:
        d = case.daemon()
        proxy = case.path("proxy.sock")
        sessions = []
        for args, source, stdout in COMMANDS:
            kw = {}
            if source:
                src = case.path(f"src-{source[1]}")
                with open(src, "wb") as f:
                    f.write(pattern(*source))
                kw["stdin_path"] = src
            if stdout:
                kw["stdout_path"] = case.path("out")
            result, events = record_session(d.socket, proxy, lambda: rs.run_cli(cli_bin, proxy, args, **kw))
            print(f"{' '.join(args)}: exit {result.rc}, {len(events)} frames")
            sessions.append({"args": args, "source": source, "stdout": stdout, "exit": result.rc, "events": events})
        with open(out_path, "w") as f:
            json.dump({"recorded_with": "tapestream CLI, protocol version 1", "sessions": sessions}, f, indent=1)
            f.write("\n")
    finally:
        case.finish()


# --- replay (the test) ----------------------------------------------------------------------------

def read_frame(sock):
    buf = b""
    while len(buf) < HEADER:
        chunk = sock.recv(HEADER - len(buf))
        if not chunk:
            return None
        buf += chunk
    length = struct.unpack_from("<I", buf, 12)[0]
    while len(buf) < HEADER + length:
        chunk = sock.recv(min(1 << 20, HEADER + length - len(buf)))
        if not chunk:
            return None
        buf += chunk
    return buf


def frame_type(f):
    return struct.unpack_from("<H", f, 6)[0]


def replay_session(case, socket_path, session, written):
    """Sends the session's client frames and checks the daemon's answers; returns the bytes a
    passed standard output received, or None."""
    what = " ".join(session["args"])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(socket_path)
    out_path = None
    try:
        for event in session["events"]:
            recorded = bytes.fromhex(event["hex"])
            if event["from"] == "client":
                fds = []
                if event.get("fd"):
                    if session["source"]:
                        path = case.path("replay-src")
                        with open(path, "wb") as f:
                            f.write(pattern(*session["source"]))
                        fds = [os.open(path, os.O_RDONLY)]
                    else:
                        out_path = case.path("replay-out")
                        fds = [os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
                sock.sendmsg([recorded], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else [])
                for fd in fds:
                    os.close(fd)
                continue
            if frame_type(recorded) == PROGRESS:
                continue
            got = read_frame(sock)
            while got is not None and frame_type(got) == PROGRESS:
                got = read_frame(sock)
            if got is None:
                case.check(False, f"{what}: the daemon closed before answering {frame_type(recorded):#06x}")
                return None
            t = frame_type(recorded)
            if frame_type(got) != t:
                case.check(False, f"{what}: answer {frame_type(got):#06x}, recorded {t:#06x} "
                                  f"(body {got[HEADER:HEADER + 80].hex()})")
                return None
            if t in EXACT:
                case.check(got == recorded, f"{what}: {t:#06x} byte for byte "
                                            f"({got[HEADER:].hex()} / {recorded[HEADER:].hex()})")
            elif t in BY_STATUS:
                case.check(got[HEADER:HEADER + 2] == recorded[HEADER:HEADER + 2],
                           f"{what}: {t:#06x} with status {got[HEADER:HEADER + 2].hex()} "
                           f"(recorded {recorded[HEADER:HEADER + 2].hex()})")
        case.note(f"{what}: {len(session['events'])} recorded frames replayed")
    finally:
        sock.close()
    if out_path is None:
        return None
    with open(out_path, "rb") as f:
        return f.read()


def case_replay(case):
    """every recorded v1 session against today's daemon, on a fresh tape"""
    with open(FIXTURE) as f:
        sessions = json.load(f)["sessions"]
    case.require(len(sessions) == len(COMMANDS), f"{len(sessions)} recorded sessions")
    d = case.daemon()
    written = []
    for session in sessions:
        got = replay_session(case, d.socket, session, written)
        if session["source"]:
            written.append(pattern(*session["source"]))
        if got is not None and session["args"][-2:] == ["--file", "0"]:
            n = int(session["args"][-1])
            case.check(got == written[n], f"{' '.join(session['args'])}: the passed file received "
                                          f"exactly what file {n} was written with ({len(got)} bytes)")


def main():
    if len(sys.argv) == 5 and sys.argv[3] == "record":
        record(sys.argv[1], sys.argv[2], sys.argv[4])
        return 0
    return rs.main({"replay": case_replay})


if __name__ == "__main__":
    sys.exit(main())
