#!/usr/bin/env python3
"""Issue 10, item 1: a worker thread per drive (docs/ARCHITECTURE.md), tested from outside on a
real daemon. Cases:
  threads     one thread per drive, named ts:NAME, beside the control thread, and nothing else
  data_path   a stream's data moves on its drive's thread: 1 GiB through the socket into one
              null drive costs that drive's thread (and its io-wq helpers) the CPU, not the
              control thread and not the other drive's
  pipelined   one send carrying requests for three drives and for none: the replies come in
              request order with their request ids, and a write then reads back
  fd_then_more  a connection that wrote by fd passing (a receive is under way for ABORT when
              its stream ends) goes on with requests for other drives and for none; every
              file reads back identical
  hopping     16 clients hop between drives (STATUS of each, one after the other) for a few
              seconds while some of them close their socket right after a request; the daemon
              answers throughout, holds no descriptor afterwards, and still writes and reads
  stop        SIGTERM while streams run on two drives: both commit (their clients hear
              COMMITTED), STATUS of a third drive is still answered, a new WRITE is refused
              (shutting_down),
              the daemon exits 0, and both files read back after a restart
  hung_neighbour  drive a hangs in a WRITE (hang=write); meanwhile drive b writes and reads
              back 64 MiB identical, and STATUS of a is answered within a second (stale,
              writing) and of b fresh (positioned)
  chaos       12 clients move between three drives with streams and leave at bad moments
              (drive_workers_chaos.py)
  startup     a drive that cannot be set up among good ones: exit 78 naming it, promptly (the
              other workers are ended, not left waiting); a drive named twice: exit 78
Usage: drive_workers_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive_workers_chaos  # noqa: E402
import reliability_support as rs  # noqa: E402
from reliability_support import (COMMITTED, CONTROL, CONTROL_DONE, DRIVE_STATUS, ERROR, MIB,  # noqa: E402
                                 OP_TELL, READY, STATUS, W_APPEND, W_FD, WRITE, wait_until)
from protocol_frames import (END, LIST_DRIVES, STREAM_FAILED, control_body, frame,  # noqa: E402
                             status_body, status_name)

TS_CTL_REWIND, TS_CTL_FSR = 1, 7

DRIVE_LIST = 0x8002
SHUTTING_DOWN = 19


def status_drive(f):
    """The drive a DRIVE_STATUS is about (its first string, at byte 72)."""
    n = struct.unpack_from("<H", f.body, 72)[0]
    return f.body[74:74 + n].decode()


def null_drives(*names):
    return [f"{n}=null:" for n in names]


def threads(pid):
    """{tid: (name, cpu seconds)} of a process, from /proc/PID/task."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / hz)
        except OSError:
            pass  # a thread that ended meanwhile
    return out


def cpu_by_owner(pid):
    """CPU seconds per daemon thread name, an io-wq helper (iou-wrk-TID) counted with the
    thread that created it."""
    ts = threads(pid)
    names = {tid: name for tid, (name, _) in ts.items()}
    out = {}
    for tid, (name, cpu) in ts.items():
        if name.startswith("iou-wrk-") or name.startswith("iou-sqp-"):
            name = names.get(int(name.rsplit("-", 1)[1]), name)
        out[name] = out.get(name, 0.0) + cpu
    return out


def still_writes(case, d, drive, size):
    """After the case's traffic: a write on `drive` (its first file) commits and reads back."""
    source = rs.Source(case, f"after-{drive}", size, size)
    r = case.write(d, source.path, drive=drive)
    back, data = case.read_back(d, 0, drive=drive)
    case.check(r.committed and back.rc == 0 and data == source.data,
               f"a write on {drive} afterwards commits and reads back identical: {r}")


def case_threads(case):
    """one thread per drive, named ts:NAME, beside the control thread and the catalog's"""
    image = case.path("c.tap")
    d = case.daemon(drives=null_drives("a", "b") + [f"c=emulated:{image}"])
    names = sorted(n for n, _ in threads(d.pid).values() if not n.startswith("iou-"))
    if rs.is_sanitized(case.daemon_bin):  # a sanitizer's runtime may add a thread of its own
        names = sorted(set(names))
    case.check(names == ["tapestreamd", "ts:a", "ts:b", "ts:c", "ts:catalog"],
               f"the daemon's threads are the control thread, one per drive and the catalog's: {names}")
    drives = case.cli(d, ["drives"], timeout=10)
    case.check(drives.rc == 0 and drives.out.split() == [b"a", b"b", b"c"],
               f"`tapestream drives` lists a, b, c: {drives.out!r}")
    status = case.cli(d, ["--drive", "c", "status"], timeout=10)
    as_json = case.cli(d, ["--drive", "c", "--json", "status"], timeout=10)
    case.check(b"doing:        positioned\n" in status.out and b'"drive_state":"positioned"' in as_json.out,
               f"`tapestream status` says what drive c is doing: {status.out!r} {as_json.out!r}")


def case_data_path(case):
    """a stream's data moves on its drive's thread"""
    d = case.daemon(drives=null_drives("a", "b"), args=["--buffers", "32"])
    before = cpu_by_owner(d.pid)
    size = 1024 * MIB
    feeder = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
    r = rs.run_cli(case.cli_bin, d.socket, ["--drive", "b", "--data-path", "stream", "write"],
                   stdin=feeder.stdout, timeout=120)
    feeder.stdout.close()
    feeder.wait()
    case.require(r.committed and r.reported[0] == size, f"1 GiB through the socket into b: {r}")
    after = cpu_by_owner(d.pid)
    spent = {n: after.get(n, 0.0) - before.get(n, 0.0) for n in after}
    worker, control, other = spent.get("ts:b", 0.0), spent.get("tapestreamd", 0.0), spent.get("ts:a", 0.0)
    case.note(f"CPU seconds during the stream: ts:b {worker:.2f}, control {control:.2f}, ts:a {other:.2f}")
    case.check(worker >= 0.05, f"drive b's thread did the work ({worker:.2f} s of CPU)")
    case.check(control <= max(0.03, worker / 4),
               f"the control thread did not move the data ({control:.2f} s against {worker:.2f} s)")
    case.check(other <= max(0.03, worker / 4), f"drive a's thread stayed out of it ({other:.2f} s)")


def case_pipelined(case):
    """replies in request order across drives"""
    image = case.path("c.tap")
    d = case.daemon(drives=null_drives("a", "b") + [f"c=emulated:{image}"])
    requests = [(STATUS, status_body("a")), (STATUS, status_body("b")), (LIST_DRIVES, b""),
                (CONTROL, control_body(OP_TELL, "c")), (STATUS, status_body("c")),
                (STATUS, status_body("nosuch")), (STATUS, status_body("a"))]
    expect = [DRIVE_STATUS, DRIVE_STATUS, DRIVE_LIST, CONTROL_DONE, DRIVE_STATUS, ERROR, DRIVE_STATUS]
    for round_ in range(20):
        with rs.connect(d.socket) as c:
            c.send(b"".join(frame(t, body, rid=100 * round_ + i + 1) for i, (t, body) in enumerate(requests)))
            got = [c.recv_frame(10) for _ in requests]
        ok = all(f is not None for f in got) and \
            [f.type for f in got] == expect and \
            [f.rid for f in got] == [100 * round_ + i + 1 for i in range(len(requests))] and \
            [status_drive(got[i]) for i in (0, 1, 4, 6)] == ["a", "b", "c", "a"]
        if not case.check(ok, f"round {round_}: {len(requests)} pipelined requests over three drives answered in order") \
                or round_ > 0:
            if not ok:
                case.note(f"got {got}")
                return
    still_writes(case, d, "c", 3 * MIB + 5)


def case_fd_then_more(case):
    """requests after a write by fd passing, on the same connection"""
    images = {n: case.path(f"{n}.tap") for n in ("a", "c")}
    d = case.daemon(drives=[f"{n}=emulated:{p}" for n, p in images.items()] + null_drives("b"))
    written = {n: [] for n in images}
    for round_ in range(12):
        drive = "a" if round_ % 2 == 0 else "c"
        data = rs.make_data(100 + round_, (1 + round_ % 3) * MIB + round_)
        with rs.connect(d.socket, features=1) as c:
            r, w = os.pipe()
            f = c.request(WRITE, rs.write_body(drive, W_APPEND | W_FD), fds=[r])
            os.close(r)
            case.require(f is not None and f.type == READY, f"round {round_}: READY on {drive}: {f}")
            with os.fdopen(w, "wb") as pipe:
                rs.feed(pipe, data)
            f = c.final(30)
            case.require(f is not None and f.type == COMMITTED, f"round {round_}: COMMITTED: {f}")
            # LIST_DRIVES has no body: its header alone, read by the receive under way, is a
            # whole request while the connection is leaving the drive's thread.
            answers = [c.request(LIST_DRIVES, b"", rid=2, timeout=10),
                       c.request(STATUS, status_body("b"), rid=3, timeout=10),
                       c.request(STATUS, status_body(drive), rid=4, timeout=10)]
            ok = [a is not None and a.type for a in answers] == [DRIVE_LIST, DRIVE_STATUS, DRIVE_STATUS] \
                and status_drive(answers[1]) == "b" and status_drive(answers[2]) == drive
            case.require(ok, f"round {round_}: LIST_DRIVES, STATUS b, STATUS {drive} answered on the "
                              f"connection that wrote: {answers}")
        written[drive].append(data)
    for drive, files in written.items():
        same = all(case.read_back(d, i, drive=drive)[1] == data for i, data in enumerate(files))
        case.check(same, f"the {len(files)} files on {drive} read back identical")
    started = time.monotonic()
    code = d.stop(30)
    case.check(code == 0 and time.monotonic() - started < 10,
               f"SIGTERM: exit {code} after {time.monotonic() - started:.1f} s (every move accounted for)")


def hop(socket_path, seed, until, tally):
    rnd = random.Random(seed)
    while time.monotonic() < until:
        try:
            with rs.connect(socket_path, timeout=10) as c:
                for i in range(rnd.randrange(1, 6)):
                    drive = rnd.choice("abc")
                    if rnd.random() < 0.15:  # leave with the request on its way to the drive
                        c.send(frame(STATUS, status_body(drive), rid=i + 1))
                        tally["abandoned"] += 1
                        break
                    f = c.request(STATUS, status_body(drive), rid=i + 1, timeout=10)
                    if f is None or f.type != DRIVE_STATUS or status_drive(f) != drive:
                        tally["wrong"].append(f"{drive}: {f}")
                        return
                    tally["answered"] += 1
        except (OSError, ConnectionError) as e:
            tally["wrong"].append(f"connection: {e}")
            return


def case_hopping(case):
    """connections hopping between drives, some leaving mid-way"""
    image = case.path("c.tap")
    # 16 clients reconnect about 2,500 times a second, all as one uid: a connection a client has
    # closed is counted against the per-user cap (32) until the daemon has seen it close, which
    # under ASan can lag enough to refuse a HELLO with busy. The cap is hostile.idle_connections'
    # to test; here it is set out of the way.
    d = case.daemon(drives=null_drives("a", "b") + [f"c=emulated:{image}"],
                    args=["--max-connections-per-user", "256"])
    baseline = rs.fd_count(d.pid)
    tally = {"answered": 0, "abandoned": 0, "wrong": []}
    until = time.monotonic() + 4
    hoppers = [threading.Thread(target=hop, args=(d.socket, i, until, tally)) for i in range(16)]
    for t in hoppers:
        t.start()
    for t in hoppers:
        t.join(60)
    case.check(not tally["wrong"], f"{tally['answered']} STATUS answered by the right drive, "
               f"{tally['abandoned']} abandoned on the way; wrong: {tally['wrong'][:3] or 'none'}")
    case.check(tally["answered"] > 100 and tally["abandoned"] > 5, "enough hops to mean something")
    case.check(d.alive(), "the daemon is alive")
    case.check(wait_until(lambda: rs.fd_count(d.pid) <= baseline, 10),
               f"descriptors back to {baseline} (now {rs.fd_count(d.pid)})")
    still_writes(case, d, "c", 2 * MIB + 3)


def case_stop(case):
    """SIGTERM with streams on two drives"""
    images = {n: case.path(f"{n}.tap") for n in ("a", "c")}
    drives = [f"{n}=emulated:{p}" for n, p in images.items()] + null_drives("b")
    d = case.daemon(drives=drives)
    sources = {n: rs.Source(case, n, (5 + i) * MIB + 11, 20 + i) for i, n in enumerate(images)}
    writers = {n: case.spawn(d, ["--drive", n, "--data-path", "stream", "write"]) for n in images}
    half = {n: len(s.data) // 2 for n, s in sources.items()}
    for n, w in writers.items():
        rs.feed(w.stdin, sources[n].data[:half[n]])
    case.require(wait_until(lambda: d.log().count("writes file 0") == 2, 30),
                 "both streams started")
    with rs.connect(d.socket) as c:  # a stopping daemon accepts no new connection
        d.proc.send_signal(signal.SIGTERM)
        case.require(wait_until(lambda: "stopping" in d.log(), 10), "the daemon is stopping")
        f = c.request(STATUS, status_body("b"), rid=2, timeout=10)
        case.check(f is not None and f.type == DRIVE_STATUS and status_drive(f) == "b",
                   f"STATUS of an idle drive is still answered while the daemon stops: {f}")
        f = c.request(WRITE, rs.write_body("b", W_APPEND), rid=3, timeout=10)
        case.check(f is not None and f.type == ERROR and f.status == SHUTTING_DOWN,
                   f"a WRITE while the daemon stops is refused (shutting_down): {f}")
    case.check(d.alive(), "the daemon waits for the running streams")
    for n, w in writers.items():
        rs.feed(w.stdin, sources[n].data[half[n]:])
    results = {n: rs.collect(w, 60) for n, w in writers.items()}
    for n, r in results.items():
        case.check(r.committed and r.reported[0] == len(sources[n].data),
                   f"the stream on {n} running at SIGTERM committed: {r}")
    try:
        code = d.proc.wait(30)
    except subprocess.TimeoutExpired:
        code = None
    case.check(code == 0, f"the daemon exits 0 once both streams ended: {code}")
    again = case.daemon(name="again", drives=drives)
    for n in images:
        back, data = case.read_back(again, 0, drive=n)
        case.check(back.rc == 0 and data == sources[n].data, f"file 0 on {n} reads back identical")


def case_hung_neighbour(case):
    """a drive hung in a command stalls nothing but its own requests"""
    d = case.daemon(drives=[f"a=emulated:{case.path('a.tap')}?hang=write",
                            f"b=emulated:{case.path('b.tap')}"],
                    args=["--command-timeout", "data=600", "--stop-timeout", "2"])
    stuck = case.spawn(d, ["--drive", "a", "--data-path", "stream", "write"])
    rs.feed(stuck.stdin, rs.make_data(5, 2 * MIB))
    stuck.stdin.close()
    case.require(wait_until(lambda: "writes file 0" in d.log(), 30), "the write on a started")
    source = rs.Source(case, "b", 64 * MIB + 3, 11)
    r = case.write(d, source.path, drive="b")
    back, data = case.read_back(d, 0, drive="b")
    case.check(r.committed and back.rc == 0 and data == source.data,
               f"b writes and reads back 64 MiB identical while a hangs: {r}")
    started = time.monotonic()
    status = d.status("a", timeout=5)
    took = time.monotonic() - started
    case.check(status["stale"] and took < 2.0 and status["doing"] == "writing",
               f"STATUS of the hung drive answered in {took:.2f} s, marked stale, writing: {status}")
    other = d.status("b", timeout=5)
    case.check(not other["stale"] and other["doing"] == "positioned",
               f"STATUS of b: fresh, positioned: {other}")
    case.check(stuck.poll() is None, "the writer of a still waits (its WRITE never completes)")
    d.kill()  # the stop with a hung drive is hostile.sigterm_stall's
    rs.collect(stuck, 10)


def case_startup(case):
    """a drive that cannot be set up among good ones"""
    bad = case.path("no-such-directory", "x.tap")
    for what, drives, named in (
            ("a missing image directory", null_drives("a", "b") + [f"c=emulated:{bad}"], "drive c"),
            ("a drive named twice", null_drives("a", "b", "a"), "drive a is configured twice")):
        d = case.daemon(name="bad", drives=drives, start=False)
        started = time.monotonic()
        d.start(wait=False)
        try:
            code = d.proc.wait(20)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - started
        case.check(code == 78 and named in d.log() and took < 10,
                   f"{what}: exit {code} after {took:.1f} s, the log names \"{named}\"")
        if code != 78:
            case.note(d.log()[-600:])
            d.kill()


def case_failed_before_ready(case):
    """a WRITE that fails before READY ends its request; the session goes on"""
    d = case.daemon(drives=[f"mid=emulated:{case.path('mid.tap')}"] + null_drives("b"))
    with rs.connect(d.socket) as c:  # a file of three blocks, then the tape inside it
        f = c.request(WRITE, rs.write_body("mid", W_APPEND, block_size=4096))
        case.require(f is not None and f.type == READY, f"READY: {f}")
        c.send(rs.data_frames(bytes(3 * 4096), step=4096) + frame(END, rs.end_body(3 * 4096)))
        case.require(getattr(c.final(30), "type", None) == COMMITTED, "the file of three blocks committed")
        for op, argument in ((TS_CTL_REWIND, 0), (TS_CTL_FSR, 1)):
            f = c.request(CONTROL, control_body(op, "mid", argument), timeout=30)
            case.require(f is not None and f.type == CONTROL_DONE, f"CONTROL {op}: {f}")
    for how, flags in (("by the socket", 0), ("by fd passing", W_FD)):
        with rs.connect(d.socket, features=1) as c:
            r, w = os.pipe()
            f = c.request(WRITE, rs.write_body("mid", flags), fds=[r] if flags & W_FD else [], timeout=30)
            os.close(r)
            os.close(w)
            case.check(f is not None and f.type == STREAM_FAILED and status_name(f.status) == "bad_request",
                       f"{how}: a WRITE where the tape stands mid-file answers STREAM_FAILED "
                       f"bad_request (not at a file boundary) in place of READY: {f}")
            # Regression: the session waited for an END that no client sends after such an
            # answer, so the next request on the connection was never read.
            try:
                answers = [c.request(LIST_DRIVES, b"", rid=2, timeout=5),
                           c.request(STATUS, status_body("b"), rid=3, timeout=5)]
            except TimeoutError:
                answers = "no answer within 5 s"
            case.check([getattr(a, "type", None) for a in answers] == [DRIVE_LIST, DRIVE_STATUS],
                       f"{how}: LIST_DRIVES and STATUS answered after it: {answers}")
    case.check(d.stop(30) == 0, "SIGTERM: exit 0")


CASES = {"threads": case_threads, "data_path": case_data_path, "pipelined": case_pipelined,
         "fd_then_more": case_fd_then_more, "hopping": case_hopping, "stop": case_stop,
         "hung_neighbour": case_hung_neighbour, "chaos": drive_workers_chaos.run,
         "startup": case_startup, "failed_before_ready": case_failed_before_ready}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
