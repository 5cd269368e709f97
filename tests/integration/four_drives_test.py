#!/usr/bin/env python3
"""Issue 10, item 7: four emulated drives streaming at once, each read back identical.

One tapestreamd serves four emulated drives (d0..d3, each on its own image, each with its own
serial number). Round 1 runs four `tapestream write`s at once, one per drive, each with its own
seeded random data of its own size, each by another data path:
  d0  a regular file through the socket (--data-path stream: the CLI read(2)s it)
  d1  a pipe passed to the daemon (--data-path fd)
  d2  a pipe through the socket (--data-path stream: the CLI splices it)
  d3  a producer run by the CLI (`write -- cat`), whose pipe is passed to the daemon
d1..d3 are fed by this test and held part-way (their streams stay open) while d0 runs from
start to end, so the daemon provably has four streams at once; meanwhile `tapestream status`
asks every drive, again and again. Round 2 sends two writers to d2 at once: the second (a
regular file, passed: O_DIRECT) waits in the daemon's FIFO while the first runs, a third
with --no-wait gets exit 75, and the two commit as consecutive files. Every file is read back
(by file number, by both data paths, round 1 on all four drives at once) and compared by
SHA-256 with what was written; the committed byte, block and file counts the CLI printed
(--json) and the daemon logged must be the written ones; every drive must hold exactly its
own files (reading the file after the last gives exit 66, and simh_reader.py lists each image).
Every wait is for an event (a process exit, a log line, a descriptor in the daemon) with a
deadline; the daemon and the CLIs are stopped on any failure.
Usage: four_drives_test.py DAEMON CLI four_drives. Exit 0 pass, 1 fail. TAPESTREAM_SEED."""
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from reliability_support import BLOCK, MIB, Stop, wait_until  # noqa: E402
from four_drives_readback import (STATUS_TIMEOUT, WRITE_TIMEOUT, check_image,  # noqa: E402
                                 check_tape_ends, parse_json, read_all)

SEED = int(os.environ.get("TAPESTREAM_SEED", "20261007"))
DRIVES = ("d0", "d1", "d2", "d3")
# Round 1: (drive, size, how). Sizes are not multiples of the block size, and all differ.
ROUND1 = (("d0", 118 * MIB + 12345, "file-stream"),
          ("d1", 41 * MIB + 777, "pipe-fd"),
          ("d2", 87 * MIB + 4099, "pipe-stream"),
          ("d3", 63 * MIB + 1, "producer"))
SAME_DRIVE = "d2"
ROUND2_FIRST = 23 * MIB + 5          # a pipe, passed to the daemon, held open by the test
ROUND2_SECOND = 37 * MIB + BLOCK - 1  # a regular file, passed (O_DIRECT); waits for the first
HELD = 6 * MIB      # what a held writer gets before its gate: more than the drive's buffer pool
# WRITE_TIMEOUT and STATUS_TIMEOUT (seconds for any one CLI, and for one status): four_drives_readback.py
LOG_WAIT = 30


class Source:
    """A file of seeded random bytes (distinct per name), its length and SHA-256."""

    def __init__(self, case, name, size):
        self.name, self.size, self.path = name, size, case.path(f"src-{name}")
        rng, h, left = random.Random(f"{SEED}/{name}"), hashlib.sha256(), size
        with open(self.path, "wb") as f:
            while left:
                chunk = rng.randbytes(min(left, MIB))
                h.update(chunk)
                f.write(chunk)
                left -= len(chunk)
        self.sha = h.hexdigest()
        self.blocks = -(-size // BLOCK)


class Gate:
    """A pipe that this test feeds from a source file: the first `held` bytes at once, the
    rest only after open(). `fed_held` is set once the pipe's reader has taken the first part
    (all but what a pipe buffers)."""

    def __init__(self, source, held):
        self.source, self.held = source, held
        self.read_end, w = os.pipe()
        self.writer = os.fdopen(w, "wb", buffering=0)
        self.fed, self.error = 0, None
        self.fed_held, self.opened, self.abort = threading.Event(), threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        try:
            with open(self.source.path, "rb") as f:
                while chunk := f.read(MIB if self.fed >= self.held else min(MIB, self.held - self.fed)):
                    if self.fed >= self.held:
                        self.fed_held.set()
                        while not self.opened.wait(0.1):
                            if self.abort.is_set():
                                return
                    self.writer.write(chunk)
                    self.fed += len(chunk)
            self.fed_held.set()
        except (BrokenPipeError, OSError, ValueError) as e:
            self.error = f"feeding {self.source.name}: {e} after {self.fed} bytes"
        finally:
            try:
                self.writer.close()
            except OSError:
                pass

    def open(self):
        self.opened.set()

    def close(self):
        """On failure: the feeder stops (its pipe is closed when it returns)."""
        self.abort.set()


class Writer:
    """A `tapestream ... write` running in the background; its --json on stdout."""

    def __init__(self, case, d, drive, source, args, stdin_fd, tail=(), label=None):
        self.drive, self.source, self.label = drive, source, label
        self.err_path = case.path(f"cli-{label}.err")
        cmd = [case.cli_bin, "--socket", d.socket, "--drive", drive, "--json", *args, "write",
               "--label", label, *tail]
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=stdin_fd, stdout=subprocess.PIPE, stderr=err,
                                         start_new_session=True)
        self.started, self.rc, self.out, self.seconds = time.monotonic(), None, "", None
        case.at_exit(self.kill)

    def alive(self):
        return self.proc.poll() is None

    def wait(self, timeout=WRITE_TIMEOUT):
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, _ = self.proc.communicate()
        self.rc, self.out = self.proc.returncode, out.decode(errors="replace")
        self.seconds = time.monotonic() - self.started
        return self

    def err(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace").strip()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def summary(self):
        return f"exit {self.rc} after {self.seconds:.1f} s, stdout {self.out.strip()!r}, stderr {self.err()[:400]!r}"


def check_committed(case, w, file_number):
    """The writer exited 0 and its --json says: this drive, this file, every byte and block."""
    j = parse_json(w.out) if w.rc == 0 else None
    want = {"drive": w.drive, "file": file_number, "bytes": w.source.size, "blocks": w.source.blocks,
            "block_size": BLOCK, "fixed": False, "pad": 0}
    got = {k: j.get(k) for k in want} if isinstance(j, dict) else None
    case.check(got == want, f"{w.label}: committed {got} in {w.seconds:.1f} s; expected {want} ({w.summary()})")


def status(case, d, drive):
    """`tapestream --json status` of one drive: (exit, the JSON or None, seconds)."""
    r = case.cli(d, ["--drive", drive, "--json", "status"], timeout=STATUS_TIMEOUT)
    return r.rc, parse_json(r.out.decode(errors="replace")) if r.rc == 0 else None, r.seconds, r


def status_ok(drive, rc, j):
    return (rc == 0 and isinstance(j, dict) and j.get("drive") == drive and j.get("serial") == serial(drive)
            and j.get("transport") == "emulated" and j.get("loaded") is True)


def serial(drive):
    return f"FOURDRV-{drive.upper()}"


class StatusPoller(threading.Thread):
    """`tapestream status` of every drive in turn until stopped; every answer is recorded as
    (round, drive, exit, json, seconds)."""

    def __init__(self, case, d):
        super().__init__(daemon=True)
        self.case, self.d, self.answers, self.rounds = case, d, [], 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            for drive in DRIVES:
                rc, j, seconds, r = status(self.case, self.d, drive)
                self.answers.append((self.rounds, drive, rc, j, seconds, r))
            self.rounds += 1

    def wait_rounds(self, n, deadline=60):
        target = self.rounds + n
        return wait_until(lambda: self.rounds >= target or not self.is_alive(), deadline, 0.02)

    def stop(self):
        self.halt.set()
        self.join(STATUS_TIMEOUT * len(DRIVES) + 5)


def log_lines(d):
    return d.log().splitlines()


def find_line(lines, pattern):
    """The index of the first line that matches, or None."""
    rx = re.compile(pattern)
    return next((i for i, line in enumerate(lines) if rx.search(line)), None)


def writes_line(drive, file_number, label, suffix):
    return (rf"info drive {drive}: connection \d+ \(uid \d+\) writes file {file_number}"
            rf"{re.escape(suffix)}, label \"{re.escape(label)}\"(, CRC32C on every block)?$")


def committed_line(drive, file_number, source):
    return rf"info drive {drive}: file {file_number} committed: {source.size} bytes in {source.blocks} blocks "


def wait_log(case, d, pattern, what, procs=()):
    """Until the daemon has logged `pattern`; fails early when the daemon or one of `procs`
    (Writers that must still run) has exited."""
    def seen():
        return (find_line(log_lines(d), pattern) is not None or not d.alive()
                or any(not p.alive() for p in procs))
    wait_until(seen, LOG_WAIT, 0.02)
    ok = find_line(log_lines(d), pattern) is not None
    case.require(ok, f"{what}: the daemon logged /{pattern}/"
                 + ("" if ok else f" (daemon alive: {d.alive()}; writers: "
                    + "; ".join(f"{p.label} {'running' if p.alive() else p.wait(1).summary()}" for p in procs) + ")"))


def four_drives(case):
    """four emulated drives streaming at once, two writers queued on one drive, all read back identical"""
    started = time.monotonic()
    images = {drive: case.path(f"{drive}.tap") for drive in DRIVES}
    # The daemon dies with this script even if it is killed (ctest's TIMEOUT), where setpriv can.
    wrapper = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []
    d = case.daemon(drives=[f"{drive}=emulated:{images[drive]}?serial={serial(drive)}" for drive in DRIVES],
                    args=["--stop-timeout", "5"], wrapper=wrapper)  # a failed case is not kept 60 s
    r = case.cli(d, ["--json", "drives"], timeout=STATUS_TIMEOUT)
    case.require(r.rc == 0 and parse_json(r.out.decode()) == list(DRIVES),
                 f"drives --json lists {r.out.decode().strip()} ({r.rc}); expected {list(DRIVES)}")
    for drive in DRIVES:
        rc, j, seconds, r = status(case, d, drive)
        case.require(status_ok(drive, rc, j) and j.get("busy") is False and j.get("bop") is True,
                     f"{drive}: status before any stream: idle at BOP with its own serial ({r})")

    sources = {drive: Source(case, f"r1-{drive}", size) for drive, size, _ in ROUND1}
    first, second = Source(case, "r2-first", ROUND2_FIRST), Source(case, "r2-second", ROUND2_SECOND)
    small = Source(case, "r2-nowait", MIB + 3)
    everything = [*sources.values(), first, second, small]
    case.require(len({s.sha for s in everything}) == len(everything), "every stream's data is distinct")
    case.note(f"data: {sum(s.size for s in everything) / MIB:.0f} MiB in {len(everything)} files, made in "
              f"{time.monotonic() - started:.1f} s (seed {SEED})")

    # ---- Round 1: d1..d3 begin and are held part-way; d0 runs whole meanwhile.
    how = {drive: h for drive, _, h in ROUND1}
    suffix = {"file-stream": "", "pipe-fd": " from a passed descriptor", "pipe-stream": "",
              "producer": " from a passed descriptor"}
    gates, writers = {}, {}
    round1_start = time.monotonic()
    for drive in ("d1", "d2", "d3"):
        g = gates[drive] = Gate(sources[drive], HELD)
        case.at_exit(g.close)
        if how[drive] == "pipe-fd":
            w = Writer(case, d, drive, sources[drive], ["--data-path", "fd"], g.read_end, label=f"r1-{drive}")
        elif how[drive] == "pipe-stream":
            w = Writer(case, d, drive, sources[drive], ["--data-path", "stream"], g.read_end, label=f"r1-{drive}")
        else:  # the producer reads the test's pipe (its standard input); the CLI passes its output
            w = Writer(case, d, drive, sources[drive], [], g.read_end, tail=["--", "cat"], label=f"r1-{drive}")
        os.close(g.read_end)
        writers[drive] = w
        g.start()
    for drive in ("d1", "d2", "d3"):
        wait_log(case, d, writes_line(drive, 0, f"r1-{drive}", suffix[how[drive]]), f"{drive} ({how[drive]}) began",
                 procs=[writers[drive]])
        g = gates[drive]
        g.fed_held.wait(LOG_WAIT)
        case.require(g.fed_held.is_set() and g.error is None and writers[drive].alive(),
                     f"{drive}: {g.fed} bytes taken, held open now ({g.error or 'feeding'}; "
                     f"writer {'running' if writers[drive].alive() else writers[drive].wait(1).summary()})")

    poller = StatusPoller(case, d)
    poller.start()
    case.at_exit(poller.halt.set)
    with open(sources["d0"].path, "rb") as f:
        writers["d0"] = Writer(case, d, "d0", sources["d0"], ["--data-path", "stream"], f.fileno(), label="r1-d0")
    writers["d0"].wait()
    check_committed(case, writers["d0"], 0)
    mark = poller.rounds + 1  # every round from here on ran with d0 done and d1..d3 held open
    case.check(poller.wait_rounds(4), f"status: 3 more whole rounds of all four drives while d1..d3 are held "
               f"({poller.rounds} rounds so far)")
    for drive in ("d1", "d2", "d3"):
        case.check(writers[drive].alive() and not gates[drive].opened.is_set(),
                   f"{drive}: still running, held, when d0 has committed")
        gates[drive].open()
    for drive in ("d1", "d2", "d3"):
        writers[drive].wait()
        check_committed(case, writers[drive], 0)
        case.check(gates[drive].error is None and gates[drive].fed == sources[drive].size,
                   f"{drive}: the test fed {gates[drive].fed} of {sources[drive].size} bytes ({gates[drive].error or 'no error'})")
    poller.wait_rounds(1)
    poller.stop()
    case.note(f"round 1: four writes of {sum(s.size for s in sources.values()) / MIB:.0f} MiB in "
              f"{time.monotonic() - round1_start:.1f} s; d0 alone {writers['d0'].seconds:.1f} s")

    # Every drive answered STATUS every time, as itself; the held drives were busy.
    per_drive = {drive: [a for a in poller.answers if a[1] == drive] for drive in DRIVES}
    bad = [a for a in poller.answers if not status_ok(a[1], a[2], a[3])]
    worst = max(a[4] for a in poller.answers)
    case.check(not bad and all(len(v) >= 4 for v in per_drive.values()),
               f"status: {len(poller.answers)} answers in {poller.rounds} rounds "
               f"({', '.join(f'{k} {len(v)}' for k, v in per_drive.items())}), all exit 0 with the drive's own "
               f"name and serial, the slowest {worst:.2f} s; wrong: {[(a[1], a[2], a[5]) for a in bad[:3]] or 'none'}")
    held = [a for a in poller.answers if mark <= a[0] < mark + 3 and a[1] != "d0"]
    case.check(len(held) == 9 and all(a[3] and a[3].get("busy") is True for a in held),
               f"status while d1..d3 were held: {len(held)} answers, busy: "
               f"{[(a[1], a[3] and a[3].get('busy')) for a in held]}")

    # The daemon's log: each stream by its data path on its drive; d0's whole stream lay inside
    # the three held ones (four streams at once).
    lines = log_lines(d)
    at = {}
    for drive in DRIVES:
        at[drive] = (find_line(lines, writes_line(drive, 0, f"r1-{drive}", suffix[how[drive]])),
                     find_line(lines, committed_line(drive, 0, sources[drive])))
        case.check(None not in at[drive], f"{drive}: the log shows file 0 by {how[drive]} written and committed "
                   f"(lines {at[drive]})")
    if all(None not in v for v in at.values()):
        held_begin = max(at[drive][0] for drive in ("d1", "d2", "d3"))
        held_end = min(at[drive][1] for drive in ("d1", "d2", "d3"))
        case.check(held_begin < at["d0"][0] < at["d0"][1] < held_end,
                   f"four streams at once: d1..d3 began by log line {held_begin}, d0 ran from line {at['d0'][0]} "
                   f"to {at['d0'][1]}, the first of d1..d3 committed at line {held_end}")

    # Read back file 0 of all four drives at once, by both data paths; each is its own data.
    read_all(case, d, [("d0", 0, "fd", "pipe", sources["d0"]), ("d1", 0, "stream", "pipe", sources["d1"]),
                       ("d2", 0, "fd", "file", sources["d2"]), ("d3", 0, "stream", "file", sources["d3"])])
    for drive in DRIVES:
        check_tape_ends(case, d, drive, 1)

    # ---- Round 2: two writers to one drive at once; the second waits for the first.
    drive = SAME_DRIVE
    g = Gate(first, HELD)
    case.at_exit(g.close)
    a = Writer(case, d, drive, first, [], g.read_end, label="r2-first")
    os.close(g.read_end)
    g.start()
    wait_log(case, d, writes_line(drive, 1, "r2-first", " from a passed descriptor"), "r2-first began", procs=[a])
    g.fed_held.wait(LOG_WAIT)
    case.require(g.fed_held.is_set() and a.alive(), f"r2-first: {g.fed} bytes taken, held open now")
    with open(second.path, "rb") as f:
        b = Writer(case, d, drive, second, [], f.fileno(), label="r2-second")

    def daemon_holds(path):  # the daemon took the WRITE of `path` (fd passing): it waits in the FIFO
        try:
            return any(os.readlink(f"/proc/{d.pid}/fd/{fd}") == path for fd in os.listdir(f"/proc/{d.pid}/fd"))
        except OSError:
            return False
    wait_until(lambda: daemon_holds(second.path) or not b.alive(), LOG_WAIT)
    case.require(daemon_holds(second.path) and b.alive(),
                 f"r2-second: the daemon holds its passed file and it waits "
                 f"({'running' if b.alive() else b.wait(1).summary()})")
    with open(small.path, "rb") as f:
        c = Writer(case, d, drive, small, [], f.fileno(), tail=["--no-wait"], label="r2-nowait").wait(STATUS_TIMEOUT)
    j = parse_json(c.out)
    case.check(c.rc == 75 and isinstance(j, dict) and j.get("error") == "busy",
               f"r2-nowait: a third writer with --no-wait is refused: {c.summary()}")
    rc, j, _, r = status(case, d, drive)
    case.check(status_ok(drive, rc, j) and j.get("busy") is True, f"{drive}: status says busy while r2-first runs ({r})")
    case.check(b.alive() and find_line(log_lines(d), r"label \"r2-second\"") is None,
               "r2-second: still waiting (not begun) while r2-first is held")
    g.open()
    a.wait()
    b.wait()
    check_committed(case, a, 1)
    check_committed(case, b, 2)
    lines = log_lines(d)
    a_done = find_line(lines, committed_line(drive, 1, first))
    b_begin = find_line(lines, writes_line(drive, 2, "r2-second", " from a passed file (O_DIRECT)"))
    case.check(a_done is not None and b_begin is not None and a_done < b_begin,
               f"{drive}: r2-first committed (log line {a_done}) before r2-second began as file 2 by O_DIRECT "
               f"(log line {b_begin})")
    case.check(find_line(lines, r"label \"r2-nowait\"") is None, "r2-nowait: never began")

    # Read back d2's three files (file 0 again: round 2 appended after it) and check every tape.
    read_all(case, d, [(drive, 1, "stream", "pipe", first), (drive, 2, "fd", "pipe", second),
                       (drive, 0, "fd", "file", sources[drive])])
    holds = {dr: [sources[dr]] for dr in DRIVES}
    holds[drive] += [first, second]
    for dr in DRIVES:
        check_tape_ends(case, d, dr, len(holds[dr]))
    case.check(d.alive(), "the daemon still runs")
    rc = d.stop(30)
    case.check(rc == 0, f"the daemon stopped on SIGTERM with exit {rc}")
    nowait = r" warning connection \d+ \(uid \d+\): busy: drive " + drive + " is in use$"
    case.check(len([line for line in log_lines(d) if re.search(nowait, line)]) == 1,
               "the daemon logged the --no-wait refusal once")
    errors = [line for line in log_lines(d) if re.search(r" (warning|warn|error|critical) ", line)
              and not re.search(nowait, line)]
    case.check(not errors, f"the daemon logged no other warning or error: {errors[:3] or 'none'}")
    for dr in DRIVES:
        check_image(case, dr, images[dr], holds[dr])
    case.note(f"the case took {time.monotonic() - started:.1f} s")


def on_signal(signum, _frame):
    raise Stop(f"the test got signal {signum}")  # the runner stops the daemon and the CLIs


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    sys.exit(rs.main({"four_drives": four_drives}))
