#!/usr/bin/env python3
"""Issue 13, item 3: the drive model of the emulated and the null drive (buffer=, rate=,
min_rate=, backhitch=) on a real daemon, fed by a paced producer through the CLI. Cases:
  steady   a producer at 30 MiB/s, between the drive's min_rate (20M) and rate (40M), for 3 s
           into the null drive: the drive never runs dry, so STATUS (which reads the drive's log
           page 3Ch) logs no backhitch
  stalls   the same producer stopping for 2 s after every 8 MiB, four times, into an emulated
           drive with an image: each stall empties the drive's buffer, so the drive reports a
           backhitch for each (at least 3, and the log says how long it stood without data), and
           the stream's summary says how often the daemon's pool ran dry; the stream still commits and reads back identical (WRITE FILEMARKS drained the buffer)
  paced    bursts of 48 MiB at 120 MiB/s with 1.6 s stalls (a mean of 24 MiB/s, above the
           drive's min_rate) into the null drive with a 64 MiB pool, twice in one run: fed at the
           producer's pace (the default with a model's min_rate) the drive has no backhitch;
           with --min-rate 0 (WRITEs as fast as the drive takes them) the same trace empties the
           pool and the drive's buffer in each stall, and costs backhitches
  crash    the daemon killed (SIGKILL) while a stream's blocks sit in the drive's buffer: as a
           real drive's power loss, the crash loses the acknowledged blocks the buffer held (at
           most its 16 MiB) and keeps those before them; the next daemon closes the unfinished
           file with a filemark before its own stream, and the file reads back as a prefix of
           what was sent, shorter than it by at least the last block, by at most the buffer and
           what the daemon and the sockets held
Usage: drive_model_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import hashlib
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402

MIB = 1 << 20
MODEL = "buffer=16M&rate=40M&min_rate=20M&backhitch=300ms"
CHUNK = 256 * 1024
BACKHITCHES = re.compile(r"drive (\S+): (\d+) backhitches \((\d+) since the last report\), ([\d.]+) s")


def paced_write(case, d, drive, bursts, rate, stall):
    """`tapestream write` fed `bursts` (sizes in bytes) at `rate` bytes/s with `stall` seconds
    between them; (CLI result, the bytes sent)."""
    p = case.spawn(d, ["--drive", drive, "write"], stdout=subprocess.DEVNULL)
    sent = hashlib.sha256()
    total = 0
    for i, size in enumerate(bursts):
        if i > 0:
            time.sleep(stall)
        start = time.monotonic()
        for at in range(0, size, CHUNK):
            chunk = rs.make_data(total + at, min(CHUNK, size - at))
            delay = start + at / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            p.stdin.write(chunk)
            sent.update(chunk)
        total += size
    p.stdin.close()
    rc = p.wait(60)
    p.err_file.seek(0)
    err = p.err_file.read().decode(errors="replace")
    return rc, err, sent.hexdigest(), total


def reported_backhitches(case, d, drive):
    """STATUS reads the drive's pages; the daemon logs the backhitch count when it grew."""
    r = case.cli(d, ["--drive", drive, "status"])
    case.check(r.rc == 0, f"status of {drive}: exit {r.rc}")
    found = [m for m in BACKHITCHES.finditer(d.log()) if m[1] == drive]
    return found[-1] if found else None


def steady(case):
    """A producer between min_rate and rate: no backhitch."""
    d = case.daemon(drives=[f"m=null:?{MODEL}"], args=["--pool-size", "8M"])
    rc, err, _, total = paced_write(case, d, "m", [90 * MIB], 30 * MIB, 0)
    case.require(rc == 0, f"a steady 90 MiB stream commits: exit {rc} {err.strip()[-200:]}")
    report = reported_backhitches(case, d, "m")
    case.check(report is None, f"no backhitch reported: {report[0] if report else 'none'}")


def stalls(case):
    """A producer that stalls: a backhitch for each stall; the data is all on the tape."""
    image = case.path("m.tap")
    d = case.daemon(drives=[f"m=emulated:{image}?{MODEL}"], args=["--pool-size", "8M"])
    rc, err, digest, total = paced_write(case, d, "m", [8 * MIB] * 4, 30 * MIB, 2.0)
    case.require(rc == 0, f"a stalling 32 MiB stream commits: exit {rc} {err.strip()[-200:]}")
    report = reported_backhitches(case, d, "m")
    case.require(report is not None, "the daemon logs the drive's backhitches")
    count, starved = int(report[2]), float(report[4])
    case.check(3 <= count <= 4, f"a backhitch for each of the 3 stalls: {count}")
    case.check(starved >= 3 * 1.0, f"the drive stood without data for most of the stalls: {starved} s")
    dry = re.search(r"file 0 committed.*the pool ran dry (\d+) times", d.log())
    case.check(dry is not None and int(dry[1]) >= 3,
               f"the stream's summary says how often the pool ran dry: {dry[0] if dry else 'no'}")
    r, data = case.read_back(d, 0, drive="m")
    case.check(r.rc == 0 and len(data) == total and hashlib.sha256(data).hexdigest() == digest,
               f"file 0 reads back identical ({len(data)} of {total} bytes)")


def paced(case):
    """The drive fed at the producer's pace against as fast as it takes data: one trace."""
    counts = {}
    for name, extra in (("paced", []), ("unpaced", ["--min-rate", "0"])):
        d = case.daemon(name=name, drives=[f"m=null:?{MODEL}"], args=["--pool-size", "64M"] + extra)
        case.check(("fed at their producer's pace" in d.log()) == (name == "paced"),
                   f"{name}: the log says whether writes are paced")
        rc, err, _, total = paced_write(case, d, "m", [48 * MIB] * 6, 120 * MIB, 1.6)
        case.require(rc == 0, f"{name}: the stream commits: exit {rc} {err.strip()[-200:]}")
        summary = re.search(r"(\d+) backhitch", err)
        case.require(summary is not None, f"{name}: the CLI's summary counts backhitches: {err.strip()[-300:]}")
        counts[name] = int(summary[1])
        # The journal's summary of the stream says it was paced, and from which speed.
        pace = r"file 0 committed.*fed at its producer's pace \(the drive's lowest speed ([\d.]+) MB/s\)"
        rs.wait_until(lambda: "file 0 committed" in d.log(), 5)
        said = re.search(pace, d.log())
        case.check((said is not None and said[1] == "21.0") == (name == "paced"),
                   f"{name}: the stream's summary says whether and from which speed it was paced")
        d.stop()
    case.note(f"backhitches: {counts}")
    case.check(counts["paced"] == 0, f"paced: no backhitch ({counts['paced']})")
    case.check(counts["unpaced"] >= 2, f"unpaced: the stalls cost backhitches ({counts['unpaced']})")


def crash(case):
    """SIGKILL with blocks in the drive's buffer: what the emulated drive keeps."""
    image = case.path("m.tap")
    spec = f"m=emulated:{image}?{MODEL}"
    d = case.daemon(drives=[spec], args=["--pool-size", "4M"])
    source = rs.make_data(5, 40 * MIB)
    p = case.spawn(d, ["--drive", "m", "write"])
    p.stdin.write(source)  # returns once all but the pipes', sockets' and pool's bytes are in
    p.stdin.flush()
    time.sleep(1.5)  # the producer pauses: the rest goes to the drive's buffer
    d.kill()
    p.kill()
    p.wait(10)
    again = case.daemon(name="again", drives=[spec], args=["--pool-size", "4M"])
    second = rs.Source(case, "second", MIB, 9)
    r = case.write(again, second.path, drive="m")
    case.require(r.committed, f"the next stream commits after the crash: {r}")
    case.check("had no filemark" in again.log(),
               "the next daemon closes the unfinished file with a filemark first")
    back, data = case.read_back(again, 0, drive="m")
    problem = rs.prefix_problem(data, source)
    case.check(back.rc == 0 and problem is None,
               f"file 0 keeps {len(data)} bytes, a prefix of the 40 MiB sent: {problem or 'yes'}")
    case.check(len(data) <= len(source) - CHUNK,
               f"the crash lost the blocks in the drive's buffer: {len(data)} of {len(source)} bytes kept")
    case.check(len(data) >= len(source) - 26 * MIB,
               f"at most the buffer's 16 MiB and the 10 MiB the daemon and sockets may hold are lost: "
               f"{len(data)} bytes kept")


if __name__ == "__main__":
    sys.exit(rs.main({"steady": steady, "stalls": stalls, "paced": paced, "crash": crash}))
