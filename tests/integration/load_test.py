#!/usr/bin/env python3
"""The load test of issue 9 (defect 8: STATUS and CONTROL shared one control buffer per drive,
so with compression on/off in a loop next to STATUS loops most controls failed and status
replies were impossible, "file 1 at block 0"). Three emulated drives; 64 client connections
issue STATUS and CONTROL (tell, compression on/off) for TAPESTREAM_LOAD_SECONDS (default 60)
while two drives each write and then read back TAPESTREAM_LOAD_BYTES (default 1 GiB; a
repeated 1 MiB random block with a counter, checked by SHA-256); the third drive takes most of
the controls. Zero errors (ERROR busy for a CONTROL on a drive a stream owns is expected and
counted), zero implausible replies, data identical.
Usage: load_test.py DAEMON CLI [load]. Exit 0/1/77. TAPESTREAM_SEED."""
import os
import random
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from reliability_support import (BLOCK, CONTROL, CONTROL_DONE, DRIVE_STATUS, ERROR, MIB,  # noqa: E402
                                 OP_COMPRESSION, OP_TELL, ST_COMPRESSION, STATUS)

SEED = int(os.environ.get("TAPESTREAM_SEED", "20260901"))
SECONDS = float(os.environ.get("TAPESTREAM_LOAD_SECONDS", "60"))
SIZE = int(os.environ.get("TAPESTREAM_LOAD_BYTES", str(1024 * MIB)))
CLIENTS = 64
DATA_DRIVES, CONTROL_DRIVE = ("d0", "d1"), "d2"
CONTROL_FILE = 5 * BLOCK - 1000  # the control drive's tape: one file of 5 blocks

GENERATOR = """
import hashlib, random, struct, sys
seed, size = int(sys.argv[1]), int(sys.argv[2])
base, h, out = random.Random(seed).randbytes(1 << 20), hashlib.sha256(), sys.stdout.buffer
for i in range(size >> 20):
    chunk = struct.pack("<Q", i) + base[8:]
    h.update(chunk)
    out.write(chunk)
out.flush()
print(h.hexdigest(), file=sys.stderr)
"""
HASHER = """
import hashlib, sys
h, n = hashlib.sha256(), 0
while chunk := sys.stdin.buffer.read(1 << 20):
    h.update(chunk)
    n += len(chunk)
print(n, h.hexdigest())
"""


class Drive:
    """What a drive's tape holds (one file of `blocks` blocks) and the phase it is in; a
    phase's generation number changes whenever a stream starts or ends."""

    def __init__(self, name, blocks):
        self.name, self.blocks, self.generation, self.phase = name, blocks, 0, "idle"

    def enter(self, phase):
        self.generation += 1
        self.phase = phase

    def plausible(self, file_number, block):
        return (file_number == 0 and block <= self.blocks) or (file_number == 1 and block == self.blocks + 1)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts, self.errors, self.implausible, self.worst_status = {}, [], [], 0.0

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def error(self, what):
        with self.lock:
            self.errors.append(what)

    def odd(self, what):
        with self.lock:
            self.implausible.append(what)


def client(number, sock_path, drives, tally, deadline):
    """One connection: STATUS on any drive, tell on any, compression on/off mostly on the
    control drive, each reply checked against what was asked."""
    rng = random.Random(SEED * 1000 + number)
    last = {}  # drive -> (generation, file, block)
    try:
        conn = rs.connect(sock_path, timeout=30)
    except (OSError, ConnectionError) as e:
        tally.error(f"client {number}: cannot connect: {e}")
        return
    rid = 0
    while time.monotonic() < deadline:
        rid += 1
        pick = rng.random()
        if pick < 0.55:
            drive = drives[rng.choice(sorted(drives))]
            op, what, body = None, "STATUS", rs.status_body(drive.name)
        else:
            drive = drives[CONTROL_DRIVE if rng.random() < 0.75 else rng.choice(DATA_DRIVES)]
            if pick < 0.7:
                op, what, body = OP_TELL, "tell", rs.control_body(OP_TELL, drive.name)
            else:
                arg = rng.randint(0, 1)
                op, what = OP_COMPRESSION, f"compression {'on' if arg else 'off'}"
                body = rs.control_body(OP_COMPRESSION, drive.name, arg)
        generation, start = drive.generation, time.monotonic()
        try:
            f = conn.request(STATUS if op is None else CONTROL, body, rid=rid, timeout=30)
        except OSError as e:
            tally.error(f"client {number}: {what} on {drive.name}: {e!r}")
            return
        took = time.monotonic() - start
        steady = generation == drive.generation
        label = f"client {number}: {what} on {drive.name} ({drive.phase})"
        if f is None or f.rid != rid:
            tally.error(f"{label}: {f!r}, not the reply to request {rid}")
            return
        if f.type == ERROR and f.status == rs.BUSY and op is not None and drive.name in DATA_DRIVES:
            tally.count("busy (expected: a stream owns the drive)")
        elif f.type == ERROR:
            tally.error(f"{label}: {f!r}")
        elif (op is None) != (f.type == DRIVE_STATUS) or (op is not None and f.type != CONTROL_DONE):
            tally.error(f"{label}: answered with {f!r}")
        else:
            if op is None:
                s = f.drive_status()
                name = f.body[74:74 + int.from_bytes(f.body[72:74], "little")].decode(errors="replace")
                with tally.lock:
                    tally.worst_status = max(tally.worst_status, took)
                if name != drive.name:
                    tally.odd(f"{label}: the status of drive {name!r}")
            else:
                s = f.control_done()
                if op == OP_COMPRESSION and bool(s["state"] & ST_COMPRESSION) != what.endswith("on"):
                    tally.odd(f"{label}: the reply says compression {'on' if s['state'] & ST_COMPRESSION else 'off'}")
            position = (s["file"], s["block"])
            if not drive.plausible(*position):
                tally.odd(f"{label}: file {position[0]} at block {position[1]} (the tape holds one file of "
                          f"{drive.blocks} blocks)")
            seen = last.get(drive.name)
            # A read starts where the write left the tape, at end of data, and locates back to
            # file 0: that one step back is the read's own.
            left_by_write = drive.phase == "reading" and seen and seen[1:] == (1, drive.blocks + 1)
            if steady and seen and seen[0] == generation and position < seen[1:] and not left_by_write:
                tally.odd(f"{label}: file {position[0]} block {position[1]} after file {seen[1]} block {seen[2]}")
            if steady:
                last[drive.name] = (generation, *position)
            tally.count(what)
        time.sleep(rng.random() * 0.005)  # think time, so that 64 clients do not starve the data
    conn.close()


def data_job(case, d, drive, path, results):
    """Writes SIZE bytes to `drive` by `path` and reads them back; compares SHA-256."""
    what = f"{drive.name} ({path})"
    gen = subprocess.Popen([sys.executable, "-c", GENERATOR, str(SEED + ord(drive.name[-1])), str(SIZE)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    drive.enter("writing")
    begun = time.monotonic()
    w = case.cli(d, ["--drive", drive.name, "--data-path", path, "write"], stdin=gen.stdout,
                 timeout=SECONDS * 4 + 120)
    gen.stdout.close()
    sent_sha = gen.stderr.read().decode().strip()
    gen.wait()
    wrote = time.monotonic() - begun
    drive.enter("between")
    drive.enter("reading")
    begun = time.monotonic()
    reader = subprocess.Popen([case.cli_bin, "--socket", d.socket, "--drive", drive.name, "--data-path", path,
                               "read", "--file", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    hasher = subprocess.Popen([sys.executable, "-c", HASHER], stdin=reader.stdout, stdout=subprocess.PIPE)
    reader.stdout.close()
    got = hasher.communicate(timeout=SECONDS * 4 + 120)[0].decode().split()
    read_rc = reader.wait(60)
    drive.enter("done")
    results[drive.name] = (what, w, sent_sha, got, read_rc, reader.stderr.read().decode().strip(), wrote,
                           time.monotonic() - begun)


def load(case):
    """Defect 8: 64 clients of STATUS and CONTROL next to two 1 GiB streams written and read back:
    zero errors, zero implausible replies, data identical."""
    print(f"seed {SEED}; {CLIENTS} clients for {SECONDS:.0f} s; {SIZE} bytes per data drive")
    drives = {name: Drive(name, SIZE // BLOCK) for name in DATA_DRIVES}
    drives[CONTROL_DRIVE] = Drive(CONTROL_DRIVE, -(-CONTROL_FILE // BLOCK))
    args = [a for name in drives for a in ("--drive", f"{name}=emulated:{case.path(name + '.tap')}")]
    if rs.daemon_offers(case.daemon_bin, "--max-connections-per-user"):
        args += ["--max-connections-per-user", "256"]
    d = case.daemon("load", args=args)
    src = rs.Source(case, "control", CONTROL_FILE, SEED)
    r = case.write(d, src.path, "file", drive=CONTROL_DRIVE)
    case.require(r.committed, f"{CONTROL_DRIVE} holds one file of {drives[CONTROL_DRIVE].blocks} blocks: {r}")
    tally, results = Tally(), {}
    deadline = time.monotonic() + SECONDS
    clients = [threading.Thread(target=client, args=(i, d.socket, drives, tally, deadline), daemon=True)
               for i in range(CLIENTS)]
    for t in clients:
        t.start()
    jobs = [threading.Thread(target=data_job, args=(case, d, drives[name], path, results), daemon=True)
            for name, path in zip(DATA_DRIVES, ("fd", "stream"))]
    for t in jobs:
        t.start()
    for t in jobs + clients:
        t.join(max(1.0, deadline - time.monotonic()) + SECONDS * 4 + 180)
    case.check(not any(t.is_alive() for t in jobs + clients), "every client and data job ended")
    for name in DATA_DRIVES:
        if name not in results:
            case.check(False, f"{name}: the data job did not finish")
            continue
        what, w, sent_sha, got, read_rc, read_err, wrote, read = results[name]
        case.check(w.committed and w.reported and w.reported[0] == SIZE, f"{what}: write of {SIZE} bytes: {w}")
        same = "identical" if got[1:] == [sent_sha] else "DIFFERENT"
        case.check(read_rc == 0 and got == [str(SIZE), sent_sha],
                   f"{what}: read back {got[0] if got else '?'} bytes, SHA-256 {same} (exit {read_rc} "
                   f"{read_err[:200]}); written in {wrote:.1f} s, read in {read:.1f} s")
    ops = sum(v for k, v in tally.counts.items() if not k.startswith("busy"))
    case.note(f"replies: {dict(sorted(tally.counts.items()))}; slowest STATUS {tally.worst_status:.2f} s")
    case.check(ops >= CLIENTS * 10, f"{ops} STATUS and CONTROL replies checked (at least {CLIENTS * 10})")
    case.check(not tally.errors, f"{len(tally.errors)} errors: {tally.errors[:5]}")
    case.check(not tally.implausible, f"{len(tally.implausible)} implausible replies: {tally.implausible[:5]}")
    case.check(tally.worst_status <= 2.0, f"every STATUS answered within 2 s (slowest {tally.worst_status:.2f} s)")
    case.check(d.stop(30) == 0, "tapestreamd exits 0 on SIGTERM")


if __name__ == "__main__":
    argv = sys.argv if len(sys.argv) == 4 else sys.argv + ["load"]
    sys.exit(rs.main({"load": load}, argv))
