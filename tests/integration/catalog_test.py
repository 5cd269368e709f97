#!/usr/bin/env python3
"""Issue 12, item 1: the catalog, with a real daemon, the real CLI, real image files and SQLite
files. Cases:
  list         several writes (sizes, block counts, labels), then `tapestream list` and its JSON
               agree with what the writes reported; the text lines name each file; the catalog
               survives a daemon restart; an unknown volume is exit 66
  interrupted  a client SIGKILLed mid-stream, a WRITE whose producer ends before its --size, and
               a daemon SIGKILLed during a stream then restarted: each row says interrupted
  overwritten  three files, then a write at file 1 (rewind, fsf 1, write --here): files 1 and 2
               of before are kept, marked overwritten; a WEOF at file 1 marks the new file 1;
               an erase at file 0 marks the rest
  unwritable   the catalog on a full tmpfs and in a read-only directory: streams still commit,
               the daemon says so in its log once, and list answers with an error
  refusals     a catalog file of garbage, another program's database and one of a newer schema
               stop the start (exit 78) and are left byte for byte as they were
Usage: catalog_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skipped."""
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402

EXIT_CONFIG = 78
EXIT_NO_MEDIUM = 66


def listing(case, d, *extra):
    r = case.cli(d, ["list", "--json", *extra], timeout=30)
    case.require(r.rc == 0, f"list --json {' '.join(extra)} exits 0 (rc {r.rc}: {r.err.strip()})")
    return json.loads(r.out)


def by_file(files):
    return {f["file"]: f for f in files if f["status"] != "overwritten"}


def case_list(case):
    """several writes, then list (text and JSON), and again after a restart"""
    d = case.daemon()
    sizes = [("small one", 1000), ("two blocks", 300_000), ("many", 3 * 1024 * 1024 + 5)]
    wrote = []
    for i, (label, size) in enumerate(sizes):
        src = rs.Source(case, f"s{i}", size, i)
        r = case.write(d, src.path, extra=["--label", label])
        case.require(r.committed, f"write of {size} bytes ({label!r}) committed: {r.err.strip()}")
        wrote.append((label, size, r.reported, hashlib.sha256(src.data).hexdigest()))
    first = listing(case, d)
    files = first["files"]
    case.check(len(files) == len(sizes), f"{len(files)} rows for {len(sizes)} writes")
    case.check(bool(first["volume"]["medium_serial"]), f"the volume has a medium serial: {first['volume']}")
    for label, size, (nbytes, blocks, number, _), digest in wrote:
        f = by_file(files).get(number)
        case.require(f is not None, f"file {number} is listed")
        case.check(f["label"] == label, f"file {number}: label {f['label']!r} is {label!r}")
        case.check(f["bytes"] == size == nbytes, f"file {number}: {f['bytes']} bytes, {size} written")
        case.check(f["blocks"] == blocks, f"file {number}: {f['blocks']} blocks, as COMMITTED said ({blocks})")
        case.check(f["status"] == "complete", f"file {number}: status {f['status']}")
        case.check(f["mode"] == "variable" and f["padding"] == 0, f"file {number}: variable blocks, no padding")
        case.check(f["end_ms"] >= f["start_ms"] > 0, f"file {number}: start and end times")
        case.check(f["sha256"] == digest, f"file {number}: the SHA-256 {f['sha256']} is sha256sum's {digest}")
    text = case.cli(d, ["list"])
    case.check(text.rc == 0, f"list exits 0 ({text.err.strip()})")
    lines = text.out.decode().splitlines()
    case.check(len(lines) == 1 + len(sizes), f"a volume line and a line per file: {lines}")
    case.check(all(label in text.out.decode() for label, *_ in sizes), "every label is in the text")
    case.check(" 293K " in text.out.decode() and " 3.0M " in text.out.decode(), "human sizes 293K and 3.0M")
    case.check(all(digest[:12] in text.out.decode() for *_, digest in wrote), "each line has its digest's first 12 hex digits")
    serial = first["volume"]["medium_serial"]
    case.check(listing(case, d, "--volume", serial)["files"] == files, "--volume SERIAL selects the same volume")
    unknown = case.cli(d, ["list", "--volume", "NO-SUCH-VOLUME"])
    case.check(unknown.rc == EXIT_NO_MEDIUM and "NO-SUCH-VOLUME" in unknown.err,
               f"an unknown volume: exit {unknown.rc}, {unknown.err.strip()}")
    case.require(d.stop() == 0, "the daemon stops cleanly")
    again = case.daemon(state_dir=d.state_dir, socket_path=d.socket)
    case.check(listing(case, again)["files"] == files, "the catalog is the same after a restart")


def spawn_writer(case, d, extra=()):
    """A write whose data this test feeds by the socket; returns the CLI process."""
    return case.spawn(d, ["--data-path", "stream", "write", *extra], stdin=subprocess.PIPE)


def feed(p, nbytes):
    chunk = os.urandom(1 << 20)
    left = nbytes
    while left > 0:
        p.stdin.write(chunk[:min(left, len(chunk))])
        left -= min(left, len(chunk))
    p.stdin.flush()


def on_tape_soon(case, d, before, deadline=10):
    """Until the running stream has blocks on the tape (DRIVE_STATUS's position moves past
    `before`)."""
    def moved():
        try:
            return d.status()["block"] > before + 1
        except (OSError, rs.Stop, KeyError):
            return False
    return rs.wait_until(moved, deadline, 0.05)


def case_interrupted(case):
    """SIGKILLed client, a short producer, a SIGKILLed daemon: the rows say interrupted"""
    d = case.daemon(args=["--pool-size", "4M"])  # streams reach the tape while they run
    src = rs.Source(case, "base", 10_000, 1)
    case.require(case.write(d, src.path, extra=["--label", "base"]).committed, "file 0 committed")

    p = spawn_writer(case, d, ["--label", "killed client"])
    feed(p, 8 << 20)
    case.check(on_tape_soon(case, d, 2), "the killed client's stream reached the tape")
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    case.check(d.wait_idle(), "the drive is free after the client was killed")

    # More than the drive's buffers hold, so that blocks reach the tape before the end.
    short = rs.Source(case, "short", 8 << 20, 2)
    r = case.write(d, short.path, path="pipe", extra=["--size", "16M", "--label", "short producer"])
    case.check(r.rc == 65, f"a producer shorter than --size: exit {r.rc} ({r.err.strip()})")

    before = d.status()["block"]
    p = spawn_writer(case, d, ["--label", "killed daemon"])
    feed(p, 8 << 20)
    case.check(on_tape_soon(case, d, before), "the stream reached the tape before the daemon was killed")
    d.kill()
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    again = case.daemon(state_dir=d.state_dir, socket_path=d.socket, args=["--pool-size", "4M"])
    files = {f["label"]: f for f in listing(case, again)["files"]}
    case.check(files.get("base", {}).get("status") == "complete", f"base is complete: {files.get('base')}")
    for label in ("killed client", "short producer", "killed daemon"):
        f = files.get(label)
        case.check(f is not None and f["status"] == "interrupted", f"{label!r}: {f}")
    killed = files.get("killed daemon") or {}
    case.check("daemon stopped" in (killed.get("failure") or ""), f"its failure says why: {killed.get('failure')}")
    case.check("recovered" in again.log() or "now interrupted" in again.log(), "the restart logs the rows it marked")


def case_overwritten(case):
    """a write at an earlier file, and an erase, keep the rows and mark them overwritten"""
    d = case.daemon()
    for i in range(3):
        src = rs.Source(case, f"f{i}", 5000 + i, i)
        case.require(case.write(d, src.path, extra=["--label", f"f{i}"]).committed, f"file {i} committed")
    for verb in (["rewind"], ["fsf", "1"]):
        r = case.cli(d, verb)
        case.require(r.rc == 0, f"{' '.join(verb)}: {r.err.strip()}")
    src = rs.Source(case, "again", 7000, 9)
    r = case.write(d, src.path, extra=["--here", "--label", "again"])
    case.require(r.committed and r.reported[2] == 1, f"write --here at file 1: {r.err.strip()}")
    files = listing(case, d)["files"]
    status = {f["label"]: f["status"] for f in files}
    case.check(len(files) == 4, f"four rows, none deleted: {status}")
    case.check(status == {"f0": "complete", "f1": "overwritten", "f2": "overwritten", "again": "complete"},
               f"statuses {status}")
    # A WEOF at file 1 ends the tape there as a write would: "again" is gone, f0 stays.
    for verb in (["rewind"], ["fsf", "1"], ["weof", "1"]):
        r = case.cli(d, verb)
        case.require(r.rc == 0, f"{' '.join(verb)}: {r.err.strip()}")
    status = statuses_once(case, d, lambda s: s.get("again") == "overwritten")
    case.check(status == {"f0": "complete", "f1": "overwritten", "f2": "overwritten", "again": "overwritten"},
               f"after a WEOF at file 1: {status}")
    for verb in (["rewind"], ["erase"]):
        r = case.cli(d, verb)
        case.require(r.rc == 0, f"{' '.join(verb)}: {r.err.strip()}")
    status = statuses_once(case, d, lambda s: set(s.values()) == {"overwritten"})
    case.check(set(status.values()) == {"overwritten"}, f"after an erase at file 0 every row is overwritten: {status}")


def statuses_once(case, d, settled, deadline=10):
    """The rows' statuses by label once `settled` holds (or at the deadline): a control
    operation reaches the catalog through its queue, after CONTROL_DONE."""
    end = time.monotonic() + deadline
    while True:
        status = {f["label"]: f["status"] for f in listing(case, d)["files"]}
        if settled(status) or time.monotonic() > end:
            return status
        time.sleep(0.05)


def case_unwritable(case):
    """a full or read-only catalog never stops a stream"""
    if os.geteuid() != 0:
        raise rs.Skip("mounting a small tmpfs needs root")
    mnt = case.path("full")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]).returncode != 0:
        raise rs.Skip("cannot mount a tmpfs here")
    case.at_exit(lambda: subprocess.run(["umount", "-l", mnt]))
    with open(os.path.join(mnt, "filler"), "wb") as f:
        try:
            f.write(b"x" * (1 << 20))
        except OSError:
            pass  # the file system is full now
    ro = case.path("ro")
    os.makedirs(ro)
    subprocess.run(["mount", "--bind", ro, ro], check=True)
    case.at_exit(lambda: subprocess.run(["umount", "-l", ro]))
    subprocess.run(["mount", "-o", "remount,bind,ro", ro, ro], check=True)
    for where, path in (("full", os.path.join(mnt, "catalog.sqlite")), ("read-only", os.path.join(ro, "catalog.sqlite"))):
        d = case.daemon(name=where.replace("-", ""), args=["--catalog", path])
        for i in range(3):
            src = rs.Source(case, f"{where}{i}", 200_000, i)
            r = case.write(d, src.path, extra=["--label", f"{where} {i}"])
            case.check(r.committed, f"{where} catalog: write {i} committed ({r.err.strip()})")
        r = case.cli(d, ["list"])
        case.check(r.rc != 0, f"{where} catalog: list fails with a reason (rc {r.rc}: {r.err.strip()})")
        logged = [line for line in d.log().splitlines() if "catalog" in line and "error" in line]
        case.check(1 <= len(logged) <= 2, f"{where} catalog: logged once per kind, not per stream: {logged}")
        case.check(d.stop() == 0, f"{where} catalog: the daemon stops cleanly")


def case_refusals(case):
    """garbage, a stranger's database and a newer schema stop the start and are left alone"""
    files = {}
    garbage = case.path("garbage.sqlite")
    with open(garbage, "wb") as f:
        f.write(os.urandom(10_000))
    files["garbage"] = garbage
    stranger = case.path("stranger.sqlite")
    db = sqlite3.connect(stranger)
    with db:
        db.execute("CREATE TABLE photos (name TEXT)")
        db.execute("INSERT INTO photos VALUES ('cat.jpg')")
    db.close()
    files["another program's database"] = stranger
    future = case.path("future.sqlite")
    d = case.daemon(name="maker", args=["--catalog", future])
    d.stop()
    db = sqlite3.connect(future)
    with db:
        db.execute("UPDATE schema SET version = 7")
    db.close()  # checkpointed: what the refused daemon finds is all in the file
    files["a newer schema"] = future
    for what, path in files.items():
        with open(path, "rb") as f:
            before = f.read()
        d = case.daemon(name="refused", args=["--catalog", path], start=False)
        d.start(wait=False)
        rc = d.proc.wait(30)
        case.check(rc == EXIT_CONFIG, f"{what}: exit {rc} (78 expected)")
        case.check(path in d.log() and "left as it is" in d.log(), f"{what}: the log names the file and leaves it")
        with open(path, "rb") as f:
            case.check(f.read() == before, f"{what}: the file is unchanged")
        case.check(not os.path.exists(path + "-wal") or os.path.getsize(path + "-wal") == 0,
                   f"{what}: no WAL was started on it")


CASES = {"list": case_list, "interrupted": case_interrupted, "overwritten": case_overwritten,
         "unwritable": case_unwritable, "refusals": case_refusals}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
