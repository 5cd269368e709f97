"""The tapestream CLI as a subprocess, for the reliability suites (reliability_support.py
passes all of it on): a run with its exit status, output and reported byte counts (CliResult,
run_cli), the end of one spawned in the background (collect), a pipe fed and its backlog, and
the options of a data path and of fixed blocks. Stdlib only."""
import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import time

MIB = 1024 * 1024


COMMITTED_RE = re.compile(r"committed (\d+) bytes in (\d+) blocks as file (\d+)")
FAILED_RE = re.compile(r"(\d+) bytes of the stream \((\d+) blocks\) are on the tape"
                       r"(?: as file (\d+), (closed|not closed) by a filemark)?")


class CliResult:
    """Exit status, output, and what a write reported: (bytes, blocks, file, filemark); file
    None when a failure left no block ("...: no file was made")."""

    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds
        c, f = COMMITTED_RE.search(err), FAILED_RE.search(err)
        self.committed = c is not None and rc == 0
        self.reported = ((int(c[1]), int(c[2]), int(c[3]), True) if c else
                         (int(f[1]), int(f[2]), f[3] and int(f[3]), f[4] == "closed") if f else None)

    def __repr__(self):
        return f"exit {self.rc} after {self.seconds:.1f} s: {self.err.strip()[:600]}"


def run_cli(cli, socket_path, args, stdin_path=None, pipe_from=None, stdin=None, stdout_path=None, timeout=60):
    """`tapestream --socket S ARGS` with stdin from a file (`< path`), a pipe (`cat path |`),
    the given descriptor, or /dev/null. rc None: killed after `timeout` s."""
    feeder = None
    if stdin_path is not None:
        stdin = open(stdin_path, "rb")
    elif pipe_from is not None:
        feeder = subprocess.Popen(["cat", pipe_from], stdout=subprocess.PIPE)
        stdin = feeder.stdout
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    start = time.monotonic()
    p = subprocess.Popen([cli, "--socket", socket_path, *args], stdin=stdin or subprocess.DEVNULL,
                         stdout=out, stderr=subprocess.PIPE, start_new_session=True)
    if stdin_path is not None or feeder is not None:
        stdin.close()
    try:
        o, e = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        o, e = p.communicate()
        rc, e = None, (e or b"") + f"\n[killed by the test after {timeout} s]".encode()
    if feeder is not None:
        feeder.kill()
        feeder.wait()
    if stdout_path:
        out.close()
    return CliResult(rc, o or b"", (e or b"").decode(errors="replace"), time.monotonic() - start)


def collect(p, timeout=30):
    """The CliResult of a spawned CLI; rc None when it had to be killed after `timeout` s."""
    try:
        if p.stdin:
            p.stdin.close()
    except OSError:
        pass
    try:
        rc = p.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        rc = None
    p.err_file.seek(0)
    err = p.err_file.read().decode(errors="replace")
    p.err_file.close()
    return CliResult(rc, b"", err, time.monotonic() - p.started)


def feed(pipe, data, chunk=MIB):
    """Writes `data` into a pipe; the bytes it took (fewer when the reader went away)."""
    done = 0
    try:
        while done < len(data):
            pipe.write(data[done:done + chunk])
            pipe.flush()
            done = min(len(data), done + chunk)
    except (BrokenPipeError, ValueError):
        pass
    return done


def pipe_backlog(pipe):
    """Bytes waiting in a pipe (FIONREAD works on either end)."""
    return struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0" * 4))[0]


def path_args(path):
    return ["--data-path", "stream" if path == "stream" else "fd"]


def fixed_args(block):
    return ["--fixed", "--block-size", str(block)] if block else []
