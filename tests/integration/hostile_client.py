#!/usr/bin/env python3
"""Sends tapestreamd malformed, truncated and oversized messages on fresh connections and
checks that each is refused with the right ERROR (or the connection closed), never a crash.
With --fd-passing: descriptors passed where they do not belong, of the wrong kind, or not at
all, each refused, and every one the daemon got closed again (the caller counts them).
With --stream-edges: an END whose count is wrong and a label that is not UTF-8 (neither may
make a file), and requests pipelined on one connection (answered in order).
With --pipelined-write: WRITE, DATA, END and STATUS in one burst: COMMITTED, then the status.
With --pipelined-fd-write: the same with the data by fd passing.
Usage: hostile_client.py SOCKET [--fd-passing|--stream-edges|--pipelined-write]. Exit 0 when
every case behaved."""
import os
import socket
import tempfile
import struct
import sys

MAGIC = b"TPS\x01"


def frame(typ, body, version=1, flags=0, length=None):
    return MAGIC + bytes([version, flags]) + struct.pack("<HII", typ, 1, len(body) if length is None else length) + body


def text(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


HELLO = frame(1, struct.pack("<HHII", 1, 1, 0, 0) + text("hostile"))
HELLO_FD = frame(1, struct.pack("<HHII", 1, 1, 1, 0) + text("hostile"))  # asks for fd_passing


def exchange(path, payload, hello=True, fds=(), hello_frame=HELLO):
    """Returns the status of the ERROR reply, ("not an error", type) for another reply, or None
    if the daemon just closed. `fds` travel with the payload (SCM_RIGHTS)."""
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(5)
        c.connect(path)
        if hello:
            c.sendall(hello_frame)
            c.recv(16 + 140)
        try:
            if fds:
                sent = socket.send_fds(c, [payload], list(fds))
                c.sendall(payload[sent:])
            else:
                c.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return None
        reply = read_frame(c)
        if reply is None:
            return None
        typ, _, body = reply
        if typ != 0x80FF:
            return ("not an error", hex(typ))
        return struct.unpack_from("<H", body)[0]


def write_request(flags, drive="emu0"):
    return frame(4, struct.pack("<IIQI", flags, 0, 0, 0) + text(drive) + text(""))


def read_request(flags, drive="emu0"):
    return frame(5, struct.pack("<IIQ", flags, 0, 0) + text(drive))


def fd_passing_cases(path):
    """Each case: name, payload, expected status, descriptors, HELLO asking for fd passing."""
    scratch = tempfile.mkdtemp()
    write_only = os.open(os.path.join(scratch, "w"), os.O_WRONLY | os.O_CREAT, 0o600)
    read_only = os.open(os.path.join(scratch, "w"), os.O_RDONLY)
    directory = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
    path_only = os.open(os.path.join(scratch, "w"), os.O_PATH)
    pipe_r, pipe_w = os.pipe()
    cases = [
        ("fd passing not agreed in HELLO", write_request(4 | 2), 5, [pipe_r], HELLO),
        ("WRITE by fd passing without a descriptor", write_request(4 | 2), 5, [], HELLO_FD),
        ("a directory to write from", write_request(4 | 2), 5, [directory], HELLO_FD),
        ("a write-only file to write from", write_request(4 | 2), 5, [write_only], HELLO_FD),
        ("an O_PATH descriptor to write from", write_request(4 | 2), 5, [path_only], HELLO_FD),
        ("a read-only file to read into", read_request(4), 5, [read_only], HELLO_FD),
        ("descriptors with STATUS", frame(3, text("emu0")), ("not an error", "0x8003"),
         [pipe_r, pipe_w, read_only, write_only, directory, pipe_r, pipe_w, read_only], HELLO_FD),
        ("descriptors with an unknown drive", write_request(4, "nosuch"), 7, [pipe_r], HELLO_FD),
    ]
    ok = True
    for name, payload, expected, fds, hello in cases:
        got = exchange(path, payload, fds=fds, hello_frame=hello)
        if got != expected:
            print(f"{name}: expected {expected}, got {got}", file=sys.stderr)
            ok = False
    # A descriptor with HELLO itself, the first frame.
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(5)
        c.connect(path)
        socket.send_fds(c, [HELLO_FD], [pipe_r])
        reply = c.recv(16 + 140)
        if struct.unpack_from("<H", reply, 6)[0] != 0x8001:
            print("HELLO with a descriptor was not answered with HELLO_OK", file=sys.stderr)
            ok = False
    for fd in (write_only, read_only, directory, path_only, pipe_r, pipe_w):
        os.close(fd)
    return ok


def read_frame(c):
    """(type, request id, body) of the next frame, or None when the daemon closed."""
    header = b""
    while len(header) < 16:
        chunk = c.recv(16 - len(header))
        if not chunk:
            return None
        header += chunk
    typ, rid, length = struct.unpack_from("<HII", header, 6)
    body = b""
    while len(body) < length:
        chunk = c.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return typ, rid, body


def numbered(typ, body, rid):
    return MAGIC + bytes([1, 0]) + struct.pack("<HII", typ, rid, len(body)) + body


def stream_edges(path):
    ok = True
    with socket.socket(socket.AF_UNIX) as c:  # issue 9, defect 9: an END with a wrong count
        c.settimeout(10)
        c.connect(path)
        c.sendall(HELLO + write_request(8))
        replies = [read_frame(c), read_frame(c)]
        if replies[1] is None or replies[1][0] != 0x8004:
            print(f"WRITE was not answered with READY: {replies}", file=sys.stderr)
            return False
        c.sendall(frame(0x10, b"0123456789") + frame(0x11, struct.pack("<QQ", 5, 0)))
        failed = read_frame(c)
        if failed is None or failed[0] != 0x8009:
            print(f"END with a wrong count: expected STREAM_FAILED, got {failed}", file=sys.stderr)
            ok = False
        else:
            status, _, _, nbytes, blocks = struct.unpack_from("<HHIQQ", failed[2])
            if status != 5 or nbytes != 0 or blocks != 0:
                print(f"END with a wrong count: status {status}, {nbytes} bytes in {blocks} blocks",
                      file=sys.stderr)
                ok = False
    bad_label = frame(4, struct.pack("<IIQI", 8, 0, 0, 0) + text("emu0") + struct.pack("<H", 1) + b"\xff")
    got = exchange(path, bad_label)
    if got != 5:
        print(f"a label that is not UTF-8: expected ERROR 5, got {got}", file=sys.stderr)
        ok = False
    with socket.socket(socket.AF_UNIX) as c:  # pipelined: all answered, in order
        c.settimeout(10)
        c.connect(path)
        burst = (numbered(1, struct.pack("<HHII", 1, 1, 0, 0) + text("pipelined"), 1) +
                 numbered(3, text("emu0"), 2) + numbered(2, b"", 3) +
                 numbered(6, struct.pack("<HHIq", 10, 0, 0, 0) + text("emu0"), 4))
        c.sendall(burst)
        got = [read_frame(c) for _ in range(4)]
        seen = [(f[0], f[1]) if f else None for f in got]
        want = [(0x8001, 1), (0x8003, 2), (0x8002, 3), (0x8006, 4)]
        if seen != want:
            print(f"pipelined requests: expected {want}, got {seen}", file=sys.stderr)
            ok = False
    return ok


def pipelined_write(path):
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        write = struct.pack("<IIQI", 8, 0, 0, 0) + text("emu0") + text("burst")
        c.sendall(numbered(1, struct.pack("<HHII", 1, 1, 0, 0) + text("burst"), 1) +
                  numbered(4, write, 2) + numbered(0x10, b"burst of data", 2) +
                  numbered(0x11, struct.pack("<QQ", 13, 0), 2) + numbered(3, text("emu0"), 3))
        seen = [(f[0], f[1]) if f else None for f in (read_frame(c) for _ in range(4))]
        want = [(0x8001, 1), (0x8004, 2), (0x8008, 2), (0x8003, 3)]
        if seen != want:
            print(f"a pipelined write: expected {want}, got {seen}", file=sys.stderr)
            return False
    return True


def pipelined_fd_write(path):
    """A WRITE by fd passing and a STATUS right behind it: the STATUS waits for COMMITTED (the
    daemon reads frames during such a write only for ABORT; it must not take the STATUS for a
    violation and abandon the stream)."""
    r, w = os.pipe()
    os.write(w, b"fd burst")
    os.close(w)
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        c.sendall(numbered(1, struct.pack("<HHII", 1, 1, 1, 0) + text("burst"), 1))
        if read_frame(c)[0] != 0x8001:
            return False
        write = struct.pack("<IIQI", 8 | 4, 0, 0, 0) + text("emu0") + text("")
        burst = numbered(4, write, 2) + numbered(3, text("emu0"), 3)
        socket.send_fds(c, [burst], [r])
        os.close(r)
        seen = [(f[0], f[1]) if f else None for f in (read_frame(c) for _ in range(3))]
        want = [(0x8004, 2), (0x8008, 2), (0x8003, 3)]
        if seen != want:
            print(f"a pipelined fd write: expected {want}, got {seen}", file=sys.stderr)
            return False
    return True


def main(path):
    if len(sys.argv) > 2 and sys.argv[2] == "--pipelined-fd-write":
        return 0 if pipelined_fd_write(path) else 1
    if len(sys.argv) > 2 and sys.argv[2] == "--fd-passing":
        return 0 if fd_passing_cases(path) else 1
    if len(sys.argv) > 2 and sys.argv[2] == "--stream-edges":
        return 0 if stream_edges(path) else 1
    if len(sys.argv) > 2 and sys.argv[2] == "--pipelined-write":
        return 0 if pipelined_write(path) else 1
    cases = [
        ("bad magic", b"XXXX" + bytes(12), 1),
        ("bad version", frame(2, b"", version=9), 2),
        ("nonzero flags", frame(2, b"", flags=1), 2),
        ("unknown type", frame(0x7777, b""), 4),
        ("reply type sent to the daemon", frame(0x8004, bytes(16)), 4),
        ("oversized control message", frame(3, text("emu0"), length=100000), 3),
        ("oversized DATA", frame(0x10, b"", length=0x7FFFFFFF), 3),
        ("STATUS shorter than its string", frame(3, struct.pack("<H", 30) + b"emu0"), 3),
        ("drive name with a slash", frame(3, text("../x")), 5),
        ("DATA outside a stream", frame(0x10, b"abc"), 6),
        ("END outside a stream", frame(0x11, bytes(16)), 6),
        ("request before HELLO", frame(2, b""), 6, False),
        ("unknown control operation", frame(6, struct.pack("<HHIq", 99, 0, 0, 0) + text("emu0")), 5),
        ("unknown drive", frame(3, text("nosuch")), 7),
    ]
    ok = True
    for case in cases:
        name, payload, expected = case[:3]
        hello = case[3] if len(case) > 3 else True
        got = exchange(path, payload, hello)
        if got != expected:
            print(f"{name}: expected ERROR {expected}, got {got}", file=sys.stderr)
            ok = False
    # A truncated header, then the client leaves: nothing to answer, nothing may break.
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(path)
        c.sendall(HELLO + MAGIC + b"\x01")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
