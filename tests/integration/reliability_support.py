#!/usr/bin/env python3
"""What the reliability suites of issue 9 share (fault_matrix.py, hostile_suite.py,
load_test.py): a case runner with exit 0 pass / 1 fail / 77 skip, daemons started in a scratch
directory and stopped again, the CLI as a subprocess, raw protocol frames, /proc readings, and
a model of what a tape must hold, checked against `tapestream read` and simh_reader.py.
Every wait polls for an event with a deadline; nothing sleeps to synchronise. Stdlib only."""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
PASS, FAIL, SKIP = 0, 1, 77
BLOCK = 256 * 1024  # the daemon's default block size and buffer size
MIB = 1024 * 1024
PATHS = ("file", "pipe", "stream")  # `< file` (fd), `cat file |` (fd), `cat file |` (socket)


class Skip(Exception):
    """The case cannot run on this machine (exit 77)."""


class Stop(Exception):
    """A check the rest of the case depends on failed."""


# Raw protocol frames live in protocol_frames.py; the suites reach them through this module.
from protocol_frames import *  # noqa: E402,F401,F403  (frame, Conn, connect, the constants...)

# The CLI as a subprocess lives in cli_process.py; the suites reach it through this module too.
from cli_process import (COMMITTED_RE, FAILED_RE, CliResult, collect, feed, fixed_args,  # noqa: E402,F401
                         path_args, pipe_backlog, run_cli)


# --- Processes and /proc ----------------------------------------------------------------------

def wait_until(predicate, deadline, interval=0.02):
    """Polls `predicate` until it is true or `deadline` seconds pass; returns its last value."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        return next((int(line.split()[1]) for line in f if line.startswith(field + ":")), 0)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def is_sanitized(binary):
    """Built with ASan or TSan (slower, more memory, threads of the runtime's own)."""
    with open(binary, "rb") as f:
        content = f.read()
    return b"__asan_init" in content or b"__tsan_init" in content


def library_environment(library):
    """The environment of a Python that loads `library` with ctypes. A library built with ASan
    (ci-asan) loads only into a process whose first library is ASan's runtime: it is preloaded,
    with the leak check off (it would report the interpreter's own allocations)."""
    env = dict(os.environ)
    with open(library, "rb") as f:
        sanitized = b"__asan_init" in f.read()
    if sanitized:
        runtime = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                                 text=True, check=False).stdout.strip()
        env["LD_PRELOAD"] = runtime
        env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    return env


_help = {}


def daemon_offers(binary, option):
    """Whether `tapestreamd --help` lists `option` (used only where a test can still show its
    defect on a daemon that predates the option)."""
    if binary not in _help:
        r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
        _help[binary] = r.stdout + r.stderr
    return option in _help[binary]


def read_log(path):
    """A log file's text so far ("" before it exists)."""
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


class Daemon:
    """One tapestreamd process; its stdout and stderr both go to its log file."""

    def __init__(self, binary, socket_path, state_dir, args, wrapper, log_path):
        self.binary, self.socket, self.state_dir = binary, socket_path, state_dir
        self.args, self.wrapper, self.log_path, self.proc = args, wrapper, log_path, None

    def command(self):
        return [*self.wrapper, self.binary, "--socket", self.socket, "--state-dir", self.state_dir, *self.args]

    def start(self, wait=True, deadline=30):
        os.makedirs(self.state_dir, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True)
        if wait:
            self.wait_serving(deadline)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def answers(self, timeout=1.0):
        try:
            connect(self.socket, timeout=timeout).close()
            return True
        except (OSError, ConnectionError):
            return False

    def wait_serving(self, deadline=30):
        wait_until(lambda: not self.alive() or self.answers(), deadline)
        if not self.alive():
            raise Stop(f"tapestreamd exited with {self.proc.returncode} at start-up: {' '.join(self.command())}")
        if not self.answers():
            raise Stop(f"tapestreamd did not answer on {self.socket} within {deadline} s")

    def stop(self, deadline=20):
        """SIGTERM; the exit status, or None when it had to be killed after `deadline` s."""
        if not self.alive():
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(deadline)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def log(self):
        return read_log(self.log_path)

    def status(self, drive="emu0", timeout=5.0):
        with connect(self.socket, timeout=timeout) as c:
            f = c.request(STATUS, status_body(drive))
        if f is None or f.type != DRIVE_STATUS:
            raise Stop(f"STATUS of {drive} answered with {f}")
        return f.drive_status()

    def wait_idle(self, drive="emu0", deadline=10):
        """Until no stream owns the drive; True if it became free in time."""
        def free():
            try:
                return not self.status(drive, timeout=2)["busy"]
            except (OSError, Stop):
                return False
        return wait_until(free, deadline, 0.05)


# --- Data and its checks ----------------------------------------------------------------------

def blocks_of(size, block=None):
    return -(-size // (block or BLOCK))


def make_data(seed, size):
    return random.Random(seed).randbytes(size)


class Source:
    """A file of seeded random bytes in the scratch space, and the bytes."""

    def __init__(self, case, name, size, seed):
        self.path = case.path(f"src-{name}-{size}")
        self.data = make_data(seed ^ zlib.crc32(name.encode()), size)
        if not os.path.exists(self.path):
            with open(self.path, "wb") as f:
                f.write(self.data)


def padded(data, block):
    """What a fixed-block stream of `data` puts on the tape: whole blocks, zeros after it."""
    return data + bytes((-len(data)) % block) if block else data


def prefix_problem(got, source, block=None):
    """None when `got` is a prefix of `source` (in fixed blocks: of it padded with zeros),
    else where it differs."""
    ref = padded(source, block)
    if len(got) > len(ref):
        return f"{len(got)} bytes, longer than the {len(ref)} sent"
    if got == ref[:len(got)]:
        return None
    at = next(i for i in range(0, len(got), 65536) if got[i:i + 65536] != ref[i:i + 65536])
    at += next(i for i, (a, b) in enumerate(zip(got[at:at + 65536], ref[at:at + 65536])) if a != b)
    return f"differs from the data sent at byte {at} of {len(got)}"


# --- A case: checks, daemons, scratch space ---------------------------------------------------

class Case:
    def __init__(self, daemon_bin, cli_bin, name):
        self.daemon_bin, self.cli_bin, self.name = daemon_bin, cli_bin, name
        self.work = tempfile.mkdtemp(prefix=f"tapestream-{name}-", dir="/tmp")
        self.checks, self.failures, self.daemons, self.cleanups = 0, [], [], []
        self.quiet = False  # True: print only the checks that fail

    def check(self, ok, what):
        self.checks += 1
        if not ok or not self.quiet:
            print(("ok    " if ok else "FAIL  ") + what, flush=True)
        if not ok:
            self.failures.append(what)
        return bool(ok)

    def require(self, ok, what):
        if not self.check(ok, what):
            raise Stop(what)

    def note(self, what):
        print("      " + what, flush=True)

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def daemon(self, name="d", drives=(), args=(), wrapper=(), state_dir=None, socket_path=None, start=True):
        """A tapestreamd on its own socket and state directory in the scratch space; `drives`
        are "NAME=emulated:PATH?OPTIONS" specs."""
        d = Daemon(self.daemon_bin, socket_path or self.path(f"{name}.sock"), state_dir or self.path(f"{name}-state"),
                   [a for spec in drives for a in ("--drive", spec)] + list(args), list(wrapper),
                   self.path(f"{name}-{len(self.daemons)}.log"))
        self.daemons.append(d)
        return d.start() if start else d

    def cli(self, d, args, **kw):
        return run_cli(self.cli_bin, d.socket, args, **kw)

    def write(self, d, source_path, path="file", extra=(), drive=None, timeout=60):
        """`tapestream write` of a file by one of PATHS."""
        args = (["--drive", drive] if drive else []) + path_args(path) + ["write", *extra]
        how = {"stdin_path": source_path} if path == "file" else {"pipe_from": source_path}
        return self.cli(d, args, timeout=timeout, **how)

    def spawn(self, d, args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL):
        """`tapestream --socket S ARGS` in the background; collect() ends it."""
        err = tempfile.TemporaryFile(dir=self.work)
        p = subprocess.Popen([self.cli_bin, "--socket", d.socket, *args], stdin=stdin, stdout=stdout,
                             stderr=err, start_new_session=True)
        p.err_file, p.started = err, time.monotonic()
        return p

    def read_back(self, d, file_number, drive=None, timeout=60):
        """(CliResult, bytes) of `tapestream read --file N`."""
        out = self.path(f"readback-{file_number}")
        r = self.cli(d, (["--drive", drive] if drive else []) + ["read", "--file", str(file_number)],
                     stdout_path=out, timeout=timeout)
        with open(out, "rb") as f:
            data = f.read()
        os.unlink(out)
        return r, data

    def at_exit(self, fn):
        self.cleanups.append(fn)

    def finish(self):
        for d in self.daemons:
            if d.alive():
                d.stop(10)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # a cleanup must not hide the verdict
                print(f"cleanup: {e}", file=sys.stderr)
        shutil.rmtree(self.work, ignore_errors=True)

    def print_logs(self, last=8):
        if len(self.daemons) > last:
            print(f"--- the logs of the first {len(self.daemons) - last} daemons are left out")
        for d in self.daemons[-last:]:
            lines = d.log().splitlines()
            print(f"--- daemon log {os.path.basename(d.log_path)} ({len(lines)} lines): {' '.join(d.command())}")
            if len(lines) > 160:
                lines = lines[:40] + [f"[... {len(lines) - 120} lines ...]"] + lines[-80:]
            print("\n".join(lines))


class Tape:
    """What one tape must hold: per file the bytes `read --file N` returns and its blocks."""

    def __init__(self, case, drive=None):
        self.case, self.drive, self.files = case, drive, []

    def record(self, what, r, source, block=None, d=None, count_required=True):
        """Checks a write's outcome against the promise and records its file. `block`: the
        fixed block size, None for variable blocks. With `d`, reads the file back at once.
        Without `count_required` a refusal that names no count stands for 0 bytes."""
        c, want = self.case, len(self.files)
        if r.reported is None:
            if count_required or r.rc == 0:
                c.check(False, f"{what}: no byte count in the outcome ({r})")
                return None
            c.note(f"{what}: refused before the stream began ({r}): 0 bytes")
            if d is not None:
                self.read_one(d, want, None, what)
            return (0, 0, want, False)
        nbytes, blocks, number, _ = r.reported
        if number is not None or blocks > 0:
            c.check(number == want, f"{what}: reported file {number}, the next file is {want}")
        on_tape = padded(source, block)
        if r.committed:
            c.check(nbytes == len(source), f"{what}: committed {nbytes} bytes of {len(source)}")
            c.check(blocks == blocks_of(len(source), block),
                    f"{what}: {blocks} blocks committed, {blocks_of(len(source), block)} expected")
        else:
            c.check(nbytes <= len(on_tape), f"{what}: reported {nbytes} bytes of a {len(source)}-byte stream")
            if block:
                c.check(nbytes == blocks * block,
                        f"{what}: fixed blocks: reported {nbytes} bytes = {blocks} blocks x {block}")
            on_tape = on_tape[:nbytes]
        if r.committed or blocks > 0:
            self.files.append((on_tape, blocks))
        if d is not None:
            if r.committed or blocks > 0:
                self.read_one(d, number, on_tape, what)
            else:
                self.read_one(d, want, None, what)
        return r.reported

    def read_one(self, d, number, expect, what):
        """`expect` None: file `number` must not exist."""
        r, data = self.case.read_back(d, number, drive=self.drive)
        if expect is not None:
            self.case.check(r.rc == 0 and data == expect, f"{what}: read --file {number}: exit {r.rc}, {len(data)} "
                            f"bytes ({'identical' if data == expect else 'DIFFERENT'}), expected {len(expect)}")
        else:
            self.case.check(r.rc == 66 and not data, f"{what}: no file {number} may exist: read gave exit {r.rc}, "
                            f"{len(data)} bytes (66 and none expected)")

    def verify(self, d, what="tape"):
        """Every file reads back exactly, and there is none after the last."""
        for number, (data, _) in enumerate(self.files):
            self.read_one(d, number, data, f"{what}: file {number}")
        self.read_one(d, len(self.files), None, f"{what}: after the last file")

    def verify_image(self, image, what="image"):
        """The independent reader sees the same files, blocks and bytes."""
        r = subprocess.run([sys.executable, os.path.join(HERE, "simh_reader.py"), image, "--list"],
                           capture_output=True, text=True, timeout=120)
        want = "".join(f"{i} {b} {len(data)}\n" for i, (data, b) in enumerate(self.files))
        self.case.check(r.returncode == 0 and r.stdout == want,
                        f"{what}: simh_reader --list (exit {r.returncode}) gives "
                        f"{r.stdout.strip().replace(chr(10), '; ') or 'nothing'}; the model "
                        f"{want.strip().replace(chr(10), '; ') or 'nothing'}")


class StatusProbe(threading.Thread):
    """STATUS every `interval` s on its own connection; every reply must come within `bound` s."""

    def __init__(self, socket_path, drive="emu0", interval=0.1, bound=2.0):
        super().__init__(daemon=True)
        self.drive, self.interval, self.bound = drive, interval, bound
        self.replies, self.worst, self.problems, self.halt = 0, 0.0, [], threading.Event()
        try:  # connected before the case goes on, so that a flood cannot crowd it out
            self.conn = connect(socket_path, timeout=bound)
        except (OSError, ConnectionError) as e:
            self.conn = None
            self.problems.append(f"cannot connect: {e}")

    def run(self):
        conn, rid = self.conn, 0
        if conn is None:
            return
        while not self.halt.is_set():
            rid, start = rid + 1, time.monotonic()
            try:
                f = conn.request(STATUS, status_body(self.drive), rid=rid, timeout=self.bound)
            except OSError as e:
                f = e
            took = time.monotonic() - start
            self.worst = max(self.worst, took)
            if isinstance(f, Frame) and f.type == DRIVE_STATUS and f.rid == rid:
                self.replies += 1
            else:
                self.problems.append(f"STATUS {rid}: {f!r} after {took:.2f} s")
                if len(self.problems) > 5 or not isinstance(f, Frame):
                    break
            self.halt.wait(self.interval)
        conn.close()

    def finish(self, case):
        self.halt.set()
        self.join(10)
        case.check(not self.problems and self.replies > 0,
                   f"STATUS probe: {self.replies} replies within {self.bound} s each, the slowest "
                   f"{self.worst:.2f} s; problems: {self.problems[:3] or 'none'}")


def main(cases, argv=None):
    """`SCRIPT DAEMON CLI CASE`: runs one case of `cases` ({name: function(case)})."""
    argv = sys.argv if argv is None else argv
    if len(argv) != 4 or argv[3] not in cases:
        print(f"usage: {argv[0]} DAEMON CLI CASE\ncases: {' '.join(cases)}", file=sys.stderr)
        return 2
    name, fn = argv[3], cases[argv[3]]
    print(f"== {name}: {(fn.__doc__ or '').strip()}", flush=True)
    case, started, verdict = Case(os.path.abspath(argv[1]), os.path.abspath(argv[2]), name), time.monotonic(), PASS
    try:
        fn(case)
    except Skip as e:
        print(f"SKIP: {e}")
        verdict = SKIP
    except Stop as e:
        if str(e) not in case.failures:
            case.check(False, str(e))
    except Exception:
        traceback.print_exc(file=sys.stdout)
        case.failures.append("the test itself raised an exception")
    if verdict != SKIP and case.failures:
        verdict = FAIL
        case.print_logs()
    case.finish()
    took = time.monotonic() - started
    if verdict == FAIL:
        print(f"FAIL: {name}: {len(case.failures)} of {case.checks} checks failed in {took:.1f} s; "
              f"first: {case.failures[0]}")
    elif verdict == PASS:
        print(f"PASS: {name}: {case.checks} checks in {took:.1f} s")
    return verdict
