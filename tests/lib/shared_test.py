#!/usr/bin/env python3
"""Shared buffers (issue 14, item 2; PROTOCOL.md "Shared buffers") against a real tapestreamd with
emulated drives (real image files), in raw frames: the client maps the memfd READY passes,
produces in place, SUBMITs slots and reuses them on SLOT_FREE; what the CLI reads back has the
sha256sum of what was produced. Cases:
  write     a stream of whole blocks and a short last one commits; COMMITTED's digest and the
            CLI's read back match; the memfd is sealed and starts as zeros; the slots of the
            default 256 MiB pool are at most 16 MiB
  hostile   slot out of range (count, 2^32-1), a slot submitted twice, length 0, length over the
            block size, a SUBMIT after a short block: each cuts the stream with STREAM_FAILED
            bad_request that accounts exactly for what is on the tape (read back and compared),
            and the next stream works; SUBMIT outside a shared write, DATA in one, and
            a shared WRITE without the feature are refused
  killed    a client process SIGKILLed while it holds slots (and the daemon holds others): the
            drive is free again, the next stream commits, and the killed stream's file reads back
            as exactly a prefix of what it submitted
  isolation two clients on two drives at once, and a client after another on the same drive:
            each gets its own memfd of zeros, never another's bytes
  read      a file read back through shared buffers (FILLED, RETURN) is what was written, END's
            digest its SHA-256; a RETURN of a slot out of range or not held cuts the read with
            STREAM_FAILED bad_request that counts exactly what the slots gave
  example   examples/c/tapestream_shared.c writes a pattern and a file; the CLI reads them back
  crossing  RETURNs that cross a read's END, alone or with the next request in the same send(),
            on the default pool (its slot pool is unmapped as the read ends, which widens the
            window in which a RETURN crosses the move back): the connection answers that next
            request, read after read (a RETURN carried by the connection's move back to the
            control thread once left it deaf)
Usage: shared_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skipped."""
import hashlib
import mmap
import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import protocol_frames as pf  # noqa: E402
import reliability_support as rs  # noqa: E402

F_DIGEST, F_SHARED = 0x2, 0x8
W_SHARED = 0x40
SUBMIT, SLOT_FREE = 0x0013, 0x8014
READY_SHARED = 0x2
BLOCK = 64 * 1024
F_GET_SEALS = 1034
# 16 buffers, so 15 slots whose start mark (half) a few blocks reach: the cases that need blocks
# on the tape before END (the 256 MiB default would hold them all until then).
SMALL_POOL = ["--pool-size", "4M"]
# hostile also wants its short block on the tape at once after the slots ran dry: no restart mark.
SEALS_WANTED = 0x0002 | 0x0004 | 0x0001  # shrink, grow, seal


def pattern(index, length=BLOCK):
    """Block `index` of a stream: a counter pattern no two blocks share."""
    head = struct.pack("<Q", index) * 8
    return (head * (length // len(head) + 1))[:length]


class SharedWrite:
    """A WRITE with shared buffers on a raw connection: READY's memfd mapped, slots tracked."""

    def __init__(self, conn, drive, block=BLOCK, expected=0, rid=7, flags=0):
        self.c, self.rid = conn, rid
        conn.send(pf.frame(pf.WRITE, pf.write_body(drive, pf.W_APPEND | W_SHARED | flags, block, expected), rid))
        header, fds = self.recv_with_fds(16)
        typ, _, length = struct.unpack_from("<HII", header, 6)
        body = conn.recv_exact(length)
        self.ready = pf.Frame(typ, rid, body)
        self.fd = fds[0] if fds else None
        self.map = None
        if typ == pf.READY and len(body) == 24 and self.fd is not None:
            self.file, self.block, self.flags, self.count, self.stride = struct.unpack("<QIIII", body)
            self.map = mmap.mmap(self.fd, self.count * self.stride, mmap.MAP_SHARED,
                                 mmap.PROT_READ | mmap.PROT_WRITE)
            self.free = list(range(self.count))
        self.submitted = 0

    def recv_with_fds(self, n):
        data, fds, _, _ = socket.recv_fds(self.c.sock, n, 4)
        while len(data) < n:
            more = self.c.recv_exact(n - len(data))
            data += more
        return data, fds

    def slot(self, i):
        return memoryview(self.map)[i * self.stride:i * self.stride + self.block]

    def submit(self, slot, length):
        self.c.send(pf.frame(SUBMIT, struct.pack("<II", slot, length), self.rid))

    def take_frames(self, until_free=False):
        """Reads frames: SLOT_FREE gives the slot back; returns the first other frame, or None
        once a slot is free (until_free)."""
        while True:
            f = self.c.recv_frame(30)
            if f is None:
                return None
            if f.type == SLOT_FREE:
                self.free.append(struct.unpack_from("<I", f.body)[0])
                if until_free:
                    return None
                continue
            if f.type == pf.PROGRESS:
                continue
            return f

    def produce(self, blocks, last=0):
        """Submits `blocks` whole pattern blocks and a last one of `last` bytes; returns the bytes."""
        out = bytearray()
        for i in range(blocks + (1 if last else 0)):
            while not self.free:
                f = self.take_frames(until_free=True)
                if f is not None:
                    return out, f
            s = self.free.pop(0)
            n = BLOCK if i < blocks else last
            data = pattern(i, n)
            self.slot(s)[:n] = data
            self.submit(s, n)
            out += data
        return out, None

    def end(self, nbytes):
        self.c.send(pf.frame(pf.END, pf.end_body(nbytes), self.rid))
        return self.take_frames()

    def close(self):
        if self.map is not None:
            self.map.close()
        if self.fd is not None:
            os.close(self.fd)


def cli_read(case, d, drive, number):
    r, data = case.read_back(d, number, drive=drive)
    return r, data


def case_write(case):
    """a shared-buffer stream commits and reads back"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])
    with pf.connect(d.socket, features=F_SHARED | F_DIGEST) as c:
        w = SharedWrite(c, "emu0")
        case.require(w.map is not None, f"READY with a memfd and 24 bytes ({w.ready}, fd {w.fd})")
        case.check(w.flags & READY_SHARED and w.block == BLOCK and 1 <= w.count <= 256 and
                   w.stride % 4096 == 0 and w.stride >= BLOCK,
                   f"READY: flag 2, block {w.block}, {w.count} slots {w.stride} apart")
        import fcntl
        seals = fcntl.fcntl(w.fd, F_GET_SEALS)
        case.check(seals & SEALS_WANTED == SEALS_WANTED, f"the memfd is sealed (seals {seals:#x})")
        case.check(w.map[:] == bytes(len(w.map)), "a fresh memfd: all zeros")
        produced, stray = w.produce(3 * w.count + 5, last=1234)
        case.require(stray is None, f"no reply but SLOT_FREE while producing ({stray})")
        f = w.end(len(produced))
        case.require(f is not None and f.type == pf.COMMITTED, f"END commits ({f})")
        nbytes, blocks, number = struct.unpack_from("<QQQ", f.body)
        digest = f.body[32:64]
        case.check(nbytes == len(produced) and blocks == 3 * w.count + 6,
                   f"COMMITTED: {nbytes} bytes in {blocks} blocks")
        case.check(digest == hashlib.sha256(produced).digest(),
                   "COMMITTED's digest is the SHA-256 of what was produced")
        w.close()
    r, data = cli_read(case, d, "emu0", number)
    case.check(r.rc == 0 and hashlib.sha256(data).hexdigest() == hashlib.sha256(produced).hexdigest(),
               f"the CLI reads file {number} back with the produced sha256 ({len(data)} bytes)")
    # The default pool is 1024 buffers of 256 KiB; the slots stop at 16 MiB whatever the pool.
    with pf.connect(d.socket, features=F_SHARED) as c:
        w = SharedWrite(c, "emu0", block=262144)
        case.check(w.map is not None and 2 <= w.count and w.count * w.block <= 16 << 20,
                   f"slots of 256 KiB on a 256 MiB pool: {getattr(w, 'count', 0)} of them, at most 16 MiB")
        w.close()


def hostile_stream(case, d, what, act, whole_first):
    """A stream with `whole_first` blocks on the tape (0, or at least the start watermark of half
    the slots, so that they go to the drive), then `act(w)`: STREAM_FAILED bad_request
    whose account is what the file reads back as; the next stream still commits."""
    with pf.connect(d.socket, features=F_SHARED) as c:
        w = SharedWrite(c, "emu0")
        case.require(w.map is not None, f"{what}: READY with a memfd ({w.ready})")
        produced, _ = w.produce(whole_first)
        # Every block on the tape before the hostile frame: all slots back.
        while len(w.free) < w.count and whole_first:
            case.require(w.take_frames(until_free=True) is None, f"{what}: SLOT_FREE")
        on_tape = act(w)  # bytes the act itself puts on the tape, if any
        if isinstance(on_tape, bytes):
            produced += on_tape
            whole_first += 1
        f = w.take_frames()
        case.require(f is not None and f.type == pf.STREAM_FAILED,
                     f"{what}: the stream is cut with STREAM_FAILED ({f})")
        failed = f.failed()
        case.check(pf.status_name(failed["status"]) == "bad_request" and failed["bytes"] == len(produced)
                   and failed["blocks"] == whole_first,
                   f"{what}: bad_request, {failed['bytes']} bytes in {failed['blocks']} blocks on the tape "
                   f"({len(produced)} submitted before)")
        c.send(pf.frame(pf.END, pf.end_body(0), 7))
        w.close()
        # The connection goes on: a plain request is answered.
        f = c.request(pf.LIST_DRIVES, b"", rid=8)
        case.check(f is not None and f.type == pf.DRIVE_LIST, f"{what}: the connection serves on ({f})")
    return failed, produced


def short_then_more(w):
    w.slot(0)[:100] = pattern(99, 100)
    w.submit(0, 100)
    w.submit(1, BLOCK)
    return pattern(99, 100)


def case_hostile(case):
    """hostile slot numbers and lengths"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"], args=SMALL_POOL + ["--restart-mark", "1"])
    files = []
    acts = [
        ("slot = count", lambda w: w.submit(w.count, 10), 8),
        ("slot 2^32-1", lambda w: w.submit(0xFFFFFFFF, 10), 0),
        ("length 0", lambda w: w.submit(0, 0), 20),
        ("length over the block", lambda w: w.submit(0, BLOCK + 1), 0),
        ("length 2^32-1", lambda w: w.submit(1, 0xFFFFFFFF), 10),
        ("a slot submitted twice", lambda w: (w.slot(0).__setitem__(slice(0, BLOCK), pattern(0)),
                                              w.submit(0, BLOCK), w.submit(0, BLOCK)), 0),
        # The short block goes to the drive at once (the stream is writing): it is on the tape.
        ("a SUBMIT after a short block", short_then_more, 9),
    ]
    for what, act, whole in acts:
        failed, produced = hostile_stream(case, d, what, act, whole)
        if failed["blocks"] > 0:
            files.append((failed["file"], produced))
    for number, produced in files:
        r, data = cli_read(case, d, "emu0", number)
        case.check(r.rc == 0 and data == bytes(produced),
                   f"file {number} reads back as exactly the {len(produced)} bytes accounted for")
    # Out of sequence and without the feature: refused, nothing starts.
    with pf.connect(d.socket, features=F_SHARED) as c:
        c.send(pf.frame(SUBMIT, struct.pack("<II", 0, 1)))
        f = c.final()
        case.check(f is not None and f.type == pf.ERROR and pf.status_name(f.status) == "out_of_sequence",
                   f"SUBMIT outside a stream: ERROR out_of_sequence ({f})")
    with pf.connect(d.socket, features=0) as c:
        f = c.request(pf.WRITE, pf.write_body("emu0", pf.W_APPEND | W_SHARED, BLOCK))
        case.check(f is not None and f.type == pf.ERROR and pf.status_name(f.status) == "bad_request",
                   f"a shared WRITE without the feature: ERROR bad_request ({f})")
    with pf.connect(d.socket, features=F_SHARED) as c:
        w = SharedWrite(c, "emu0")
        case.require(w.map is not None, "a shared stream starts")
        c.send(pf.frame(pf.DATA, b"x" * 100, 7))
        f = w.take_frames()
        case.check(f is not None and f.type == pf.ERROR and pf.status_name(f.status) == "out_of_sequence",
                   f"DATA in a shared stream: ERROR out_of_sequence ({f})")
        w.close()
    with pf.connect(d.socket, features=F_SHARED) as c:
        w = SharedWrite(c, "emu0")
        produced, _ = w.produce(5, last=77)
        f = w.end(len(produced))
        case.check(f is not None and f.type == pf.COMMITTED, f"after all that, a stream commits ({f})")
        w.close()


CHILD = r"""
import os, sys, time, struct
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import protocol_frames as pf
import shared_test as st
c = pf.connect(sys.argv[3], features=st.F_SHARED)
w = st.SharedWrite(c, "emu0")
produced, _ = w.produce(int(sys.argv[4]))
# Killed right after its last SUBMIT: the daemon holds the slots still on their way to the
# drive, the client the rest.
print(len(produced), flush=True)
time.sleep(600)
"""


def case_killed(case):
    """a client killed while holding slots"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"], args=SMALL_POOL)
    here = os.path.dirname(os.path.abspath(__file__))
    blocks = 40
    child = subprocess.Popen([sys.executable, "-c", CHILD, os.path.join(here, "..", "integration"), here,
                              d.socket, str(blocks)], stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    case.require(line.strip().isdigit(), f"the client produced its blocks ({line!r})")
    submitted = int(line)
    time.sleep(0.5)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    case.check(child.returncode == -signal.SIGKILL, "the client was killed with SIGKILL")
    # The drive is free again: the next shared stream gets READY and commits.
    with pf.connect(d.socket, features=F_SHARED) as c:
        w = SharedWrite(c, "emu0")
        case.require(w.map is not None, f"the next stream starts after the killed one ({w.ready})")
        case.check(w.file == 1, f"it is file 1, after the killed stream's file 0 ({w.file})")
        produced, _ = w.produce(10, last=5)
        f = w.end(len(produced))
        case.check(f is not None and f.type == pf.COMMITTED, f"the next stream commits ({f})")
        w.close()
    expected = b"".join(pattern(i) for i in range(blocks))
    r, data = cli_read(case, d, "emu0", 0)
    case.check(r.rc == 0 and len(data) % BLOCK == 0 and 0 < len(data) <= submitted and
               data == expected[:len(data)],
               f"the killed stream's file 0 reads back as a prefix of what it submitted "
               f"({len(data)} of {submitted} bytes)")
    log = open(d.log_path).read() if hasattr(d, "log_path") else ""
    case.check(not log or "went away" in log, "the daemon logged the client that went away")


def case_isolation(case):
    """no client sees another's bytes"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('a.tap')}", f"emu1=emulated:{case.path('b.tap')}"])
    with pf.connect(d.socket, features=F_SHARED) as a, pf.connect(d.socket, features=F_SHARED) as b:
        wa, wb = SharedWrite(a, "emu0"), SharedWrite(b, "emu1", rid=9)
        case.require(wa.map is not None and wb.map is not None, "two shared streams on two drives")
        case.check(os.fstat(wa.fd).st_ino != os.fstat(wb.fd).st_ino, "two memfds, not one")
        pa, _ = wa.produce(20)
        case.check(wb.map[:] == bytes(len(wb.map)), "B's slots hold zeros while A produces on the other drive")
        pb, _ = wb.produce(20, last=3)
        case.check(wa.end(len(pa)).type == pf.COMMITTED and wb.end(len(pb)).type == pf.COMMITTED,
                   "both commit")
        wa.close()
        wb.close()
    with pf.connect(d.socket, features=F_SHARED) as c:
        w = SharedWrite(c, "emu0")
        case.require(w.map is not None, "a later stream on the same drive")
        case.check(w.map[:] == bytes(len(w.map)), "its memfd is fresh: zeros, nothing of A's stream")
        w.close()


def counter_pattern(length):
    """examples/c's pattern: the little-endian 64-bit counter of each 8-byte word."""
    words = (length + 7) // 8
    return b"".join(struct.pack("<Q", i) for i in range(words))[:length]


def case_example(case):
    """examples/c/tapestream_shared.c through libtapestream"""
    example = os.environ.get("TS_SHARED_EXAMPLE")
    case.require(example and os.path.exists(example), f"TS_SHARED_EXAMPLE names the example ({example})")
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])
    runs = []
    length = 5 * 1024 * 1024 + 12345
    runs.append((["-p", str(length)], counter_pattern(length)))
    source = case.path("input.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(3 * 256 * 1024))  # ends on a slot boundary: no short last slot
    with open(source, "rb") as f:
        runs.append(([source], f.read()))
    runs.append((["-b", "65536", "-p", "1"], counter_pattern(1)))
    for args, expected in runs:
        p = subprocess.run([example, "-s", d.socket, *args], capture_output=True, text=True, timeout=120)
        words = p.stdout.split()
        case.require(p.returncode == 0 and len(words) == 6,
                     f"tapestream-shared {' '.join(args)} exits 0 ({p.returncode}: {p.stdout}{p.stderr})")
        number, nbytes, digest = int(words[1]), int(words[3]), words[5]
        want = hashlib.sha256(expected).hexdigest()
        case.check(nbytes == len(expected) and digest == want,
                   f"file {number}: {nbytes} bytes, the library reports the produced sha256")
        r, data = cli_read(case, d, "emu0", number)
        case.check(r.rc == 0 and hashlib.sha256(data).hexdigest() == want,
                   f"the CLI reads file {number} back with the same sha256")
        # And the example itself, through shared slots (libtapestream 1.4).
        p = subprocess.run([example, "-s", d.socket, "-r", str(number)], capture_output=True,
                           timeout=120)
        said = p.stderr.decode(errors="replace").split()
        case.check(p.returncode == 0 and p.stdout == expected and len(said) == 6 and said[5] == want,
                   f"tapestream-shared -r {number} gives the file back through shared slots "
                   f"({p.returncode}, {len(p.stdout)} bytes: {p.stderr.decode(errors='replace')[-200:]})")


R_SHARED, FILLED, RETURN = 0x40, 0x8015, 0x0014


def shared_read(case, conn, drive, number, hostile=None):
    """A READ with shared buffers: (final frame, bytes as FILLED gave them)."""
    conn.send(pf.frame(pf.READ, pf.read_body(drive, number, R_SHARED), 11))
    data, fds, _, _ = socket.recv_fds(conn.sock, 16, 4)
    while len(data) < 16:
        data += conn.recv_exact(16 - len(data))
    typ, _, length = struct.unpack_from("<HII", data, 6)
    body = conn.recv_exact(length)
    case.require(typ == pf.READY and len(body) == 24 and fds, f"READ with shared buffers: READY and a memfd ({typ:#x})")
    _, block, flags, count, stride = struct.unpack("<QIIII", body)
    m = mmap.mmap(fds[0], count * stride, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    out = bytearray()
    try:
        while True:
            f = conn.recv_frame(30)
            if f is None or f.type != FILLED:
                if f is not None and f.type == pf.PROGRESS:
                    continue
                return f, bytes(out)
            slot, n = struct.unpack("<II", f.body)
            out += m[slot * stride:slot * stride + n]
            frames = [(slot, 0)] if hostile is None or len(out) < hostile[0] else hostile[1](slot, count)
            try:
                conn.send(b"".join(pf.frame(RETURN, struct.pack("<II", s, r), 11) for s, r in frames))
            except OSError:  # the daemon refused a frame and closed: its ERROR is still to read
                pass
    finally:
        m.close()
        os.close(fds[0])


def case_read(case):
    """a file read back through shared buffers; a hostile RETURN"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])
    with pf.connect(d.socket, features=F_SHARED | F_DIGEST) as c:
        w = SharedWrite(c, "emu0")
        produced, _ = w.produce(60, last=4321)
        f = w.end(len(produced))
        case.require(f is not None and f.type == pf.COMMITTED, f"a shared write commits ({f})")
        w.close()
        f, got = shared_read(case, c, "emu0", 0)
        case.check(f is not None and f.type == pf.END, f"the shared read ends with END ({f})")
        nbytes, blocks = struct.unpack_from("<QQ", f.body)
        case.check(got == bytes(produced) and nbytes == len(produced) and blocks == 61,
                   f"the slots gave exactly what was written ({len(got)} bytes, END {nbytes} in {blocks})")
        case.check(f.body[16:48] == hashlib.sha256(produced).digest(), "END's digest is of what the slots gave")
        f = c.request(pf.LIST_DRIVES, b"", rid=12)
        case.check(f is not None and f.type == pf.DRIVE_LIST, f"the connection serves on ({f})")
    # (A slot returned twice is refused the same way when the daemon still holds it; whether it
    # does depends on whether its next READ came back first, so no test can pin it.)
    for what, bad in (("a slot out of range", lambda slot, count: [(count, 0)]),
                      ("slot 2^32-1", lambda slot, count: [(0xFFFFFFFF, 0)])):
        with pf.connect(d.socket, features=F_SHARED) as c:
            f, got = shared_read(case, c, "emu0", 0, hostile=(BLOCK * 5, bad))
            case.check(f is not None and f.type == pf.STREAM_FAILED and
                       pf.status_name(f.failed()["status"]) == "bad_request" and
                       f.failed()["bytes"] == len(got) and got == bytes(produced[:len(got)]),
                       f"RETURN of {what}: STREAM_FAILED bad_request, {len(got)} bytes given ({f})")
    with pf.connect(d.socket, features=F_SHARED) as c:
        f, got = shared_read(case, c, "emu0", 0, hostile=(BLOCK * 5, lambda slot, count: [(slot, 1)]))
        case.check(f is not None and f.type == pf.ERROR and pf.status_name(f.status) == "bad_request",
                   f"a RETURN whose reserved word is not 0: ERROR bad_request ({f})")
    with pf.connect(d.socket, features=F_SHARED) as c:
        f, got = shared_read(case, c, "emu0", 0)
        case.check(f is not None and f.type == pf.END and got == bytes(produced),
                   f"after those, a shared read is whole again ({f})")


def crossing_read(conn, drive, number, hold):
    """A shared READ whose client holds up to `hold` RETURNs and sends what it holds, with a
    LIST_DRIVES, in one send() right after END; (END or the final frame, the LIST_DRIVES answer)."""
    conn.send(pf.frame(pf.READ, pf.read_body(drive, number, R_SHARED), 11))
    data, fds, _, _ = socket.recv_fds(conn.sock, 16, 4)
    while len(data) < 16:
        data += conn.recv_exact(16 - len(data))
    typ, _, length = struct.unpack_from("<HII", data, 6)
    conn.recv_exact(length)
    if typ != pf.READY or not fds:
        return pf.Frame(typ, 11, b""), None
    os.close(fds[0])
    held = []
    while True:
        f = conn.recv_frame(30)
        if f is not None and f.type == pf.PROGRESS:
            continue
        if f is None or f.type != FILLED:
            break
        held.append(pf.frame(RETURN, struct.pack("<II", struct.unpack_from("<I", f.body)[0], 0), 11))
        if len(held) > hold:
            conn.send(b"".join(held))
            held = []
    conn.send(b"".join(held) + pf.frame(pf.LIST_DRIVES, b"", 12))
    try:
        answer = conn.recv_frame(10)
    except OSError:  # socket.timeout: the connection is deaf
        answer = "no answer within 10 s"
    return f, answer


def case_crossing(case):
    """RETURNs crossing a read's END, with the next request pipelined: it is answered"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])
    with pf.connect(d.socket, features=F_SHARED) as c:
        w = SharedWrite(c, "emu0")
        produced, _ = w.produce(40, last=100)
        f = w.end(len(produced))
        case.require(f is not None and f.type == pf.COMMITTED, f"a shared write commits ({f})")
        w.close()
    rounds, answered = 0, 0
    for hold in (0, 1, 3, 8):
        with pf.connect(d.socket, features=F_SHARED) as c:
            for _ in range(15):
                end, answer = crossing_read(c, "emu0", 0, hold)
                rounds += 1
                if end is None or end.type != pf.END or getattr(answer, "type", None) != pf.DRIVE_LIST:
                    case.check(False, f"holding {hold} RETURNs: END ({end}), then LIST_DRIVES answered ({answer})")
                    break
                answered += 1
    case.check(answered == rounds, f"every LIST_DRIVES after a read's END was answered ({answered} of {rounds})")


CASES = {"read": case_read, "example": case_example, "write": case_write, "hostile": case_hostile, "killed": case_killed, "isolation": case_isolation, "crossing": case_crossing}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
