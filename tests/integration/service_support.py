#!/usr/bin/env python3
"""What the service tests (service_test.py) share: the service manager's side of sd_notify (a
datagram socket the test binds and hands the daemon as NOTIFY_SOCKET, which records every
notification with its arrival time and its sender's pid), a daemon started as systemd starts an
activated service (systemd-socket-activate binds the socket and execs the daemon on the first
connection, so the daemon's pid is the activator's: WATCHDOG_PID is set to it), and a fake
journald (a datagram socket at /run/systemd/journal/socket in a private mount namespace).
Every wait polls for an event with a deadline; nothing sleeps to synchronise. Stdlib only."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import reliability_support as rs

SO_PASSCRED, SCM_CREDENTIALS = 16, 2


class Datagrams(threading.Thread):
    """A datagram socket bound at `path`; every message kept as (arrival time, sender pid,
    bytes). `on_message(record)` runs in the listening thread as each one arrives."""

    def __init__(self, path, on_message=None):
        super().__init__(daemon=True)
        self.path, self.on_message = path, on_message
        self.records, self.lock, self.halt = [], threading.Condition(), threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.start()

    def run(self):
        while not self.halt.is_set():
            try:
                data, ancillary, _, _ = self.sock.recvmsg(256 * 1024, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            except OSError:
                break
            pid = next((struct.unpack("iII", d[:12])[0] for level, kind, d in ancillary
                        if level == socket.SOL_SOCKET and kind == SCM_CREDENTIALS), None)
            record = (time.monotonic(), pid, data)
            if self.on_message:
                self.on_message(record)
            with self.lock:
                self.records.append(record)
                self.lock.notify_all()

    def wait_for(self, predicate, deadline, start=0):
        """The first record from index `start` on for which `predicate(record)` holds, waiting
        up to `deadline` s for it; None if none came."""
        end = time.monotonic() + deadline
        with self.lock:
            while True:
                hit = next((r for r in self.records[start:] if predicate(r)), None)
                left = end - time.monotonic()
                if hit is not None or left <= 0:
                    return hit
                self.lock.wait(left)

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def close(self):
        self.halt.set()
        self.join(5)
        self.sock.close()


class Notifications(Datagrams):
    """The service manager's notification socket: each message a dict of its assignments."""

    @staticmethod
    def fields(record):
        out = {}
        for line in record[2].decode(errors="replace").split("\n"):
            if "=" in line:
                key, value = line.split("=", 1)
                out[key] = value
        return out

    def wait_key(self, key, deadline, start=0, value=None, contains=None):
        def match(r):
            f = self.fields(r)
            return key in f and (value is None or f[key] == value) and (contains is None or contains in f[key])
        return self.wait_for(match, deadline, start)

    def times(self, key, value=None):
        return [t for t, _, _ in (r for r in self.snapshot()
                                  if key in self.fields(r) and (value is None or self.fields(r)[key] == value))]

    def pids(self):
        return {pid for _, pid, _ in self.snapshot()}


def journal_entry(data):
    """A journald native protocol datagram as {field: value}: "FIELD=value\\n", or for values
    with a newline "FIELD\\n", a 64-bit little-endian length, the value, "\\n"."""
    out, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            out[key.decode()] = value.decode(errors="replace")
            i = nl + 1
        else:
            n = struct.unpack_from("<Q", data, nl + 1)[0]
            out[line.decode()] = data[nl + 9:nl + 9 + n].decode(errors="replace")
            i = nl + 9 + n + 1
    return out


class Activated:
    """tapestreamd under `systemd-socket-activate -l SOCKET...`: the activator binds the
    sockets and execs the daemon (same pid) on the first connection, passing NOTIFY_SOCKET and
    the WATCHDOG_* variables given, WATCHDOG_PID set to that pid."""

    def __init__(self, case, name, listen, daemon_socket, drives=(), args=(), env=None, datagram=False):
        if not shutil.which("systemd-socket-activate"):
            raise rs.Skip("no systemd-socket-activate (package systemd)")
        self.case, self.listen, self.socket = case, list(listen), daemon_socket
        self.log_path = case.path(f"{name}.log")
        self.state_dir = case.path(f"{name}-state")
        os.makedirs(self.state_dir, exist_ok=True)
        exports = [a for k, v in (env or {}).items() for a in ("-E", f"{k}={v}")]
        daemon = [case.daemon_bin, "--socket", daemon_socket, "--state-dir", self.state_dir,
                  *[a for spec in drives for a in ("--drive", spec)], *args]
        self.command = ["sh", "-c", 'exec systemd-socket-activate -E WATCHDOG_PID=$$ "$@"', "sh",
                        *(["--datagram"] if datagram else []),
                        *[a for p in self.listen for a in ("-l", p)], *exports, *daemon]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        case.at_exit(self.kill)
        listening = rs.wait_until(lambda: self.log().count("Listening on") == len(self.listen)
                                  or self.proc.poll() is not None, 20)
        if not listening or self.proc.poll() is not None:
            raise rs.Stop(f"systemd-socket-activate did not listen: {self.log()[-600:]}")

    @property
    def pid(self):
        return self.proc.pid

    def execed(self):
        """The activator has become tapestreamd."""
        try:
            with open(f"/proc/{self.pid}/comm") as f:
                return f.read().strip() == "tapestreamd"
        except OSError:
            return False

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        return rs.read_log(self.log_path)

    def wait_exit(self, deadline):
        """The exit status, or None if it still runs after `deadline` s."""
        try:
            return self.proc.wait(deadline)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.alive():
            os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()

    def print_log(self):
        print(f"--- log of {' '.join(self.command)}\n{self.log()[-6000:]}")


def in_private_mount_namespace(case, argv):
    """Re-runs this script under `unshare --mount` (once), so that it may hide /run/systemd
    behind a tmpfs of its own; True when it already runs there."""
    if os.environ.get("TAPESTREAM_PRIVATE_MOUNTS") == "1":
        return True
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise rs.Skip("needs root and unshare for a private /run/systemd")
    env = dict(os.environ, TAPESTREAM_PRIVATE_MOUNTS="1")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if r.returncode != 0:
        raise rs.Skip(f"unshare --mount fails here: {r.stderr.decode().strip()}")
    shutil.rmtree(case.work, ignore_errors=True)  # the run in the namespace makes its own
    os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable, *argv], env)
    return False  # not reached


def fake_journald(case):
    """In the private mount namespace: a tmpfs on /run/systemd and a Datagrams socket at
    /run/systemd/journal/socket, where sd_journal_send(3) writes."""
    # Mounts only: a directory made here would appear outside the namespace too.
    top = "/run/systemd" if os.path.isdir("/run/systemd") else "/run"
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", top], check=True)
    os.makedirs("/run/systemd/journal")
    journal = Datagrams("/run/systemd/journal/socket")
    case.at_exit(journal.close)
    return journal
