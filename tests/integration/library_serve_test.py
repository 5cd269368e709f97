#!/usr/bin/env python3
"""Issue 15, item 2 (the part built so far): tapestreamd serves an emulated library.

A library of three cartridges and two drives (la, lb) is served with --library; its changer's
record (library.state) is written between runs as a move leaves it, to put VOL002 into drive la.
Checked against the real daemon and CLI: at the first start every cartridge is in a slot and
both drives are empty (a write to la is refused: no medium); after the record puts VOL002 into
la, `tapestream write --drive la` commits there, and the data is on VOL002's image (GNU tar of
a tree, compared by sha256 after reading back); after kill -9 and a restart, VOL002 is still in
la and reads back identical; lb stays empty; a --library that is not a library, names no
drive, or names a real changer sysfs does not have, is a configuration error (exit 78).
Usage: library_serve_test.py DAEMON CLI. Exit 0 pass, 1 fail."""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

DAEMON, CLI = sys.argv[1], sys.argv[2]
DRIVE_A, SLOT1 = 256, 4096  # the emulated library's addresses (library_model.hpp)


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


class Daemon:
    def __init__(self, work, library):
        self.work = work
        self.socket = os.path.join(work, "s.sock")
        self.log = open(os.path.join(work, "daemon.log"), "ab")
        self.proc = subprocess.Popen(
            [DAEMON, "--socket", self.socket, "--state-dir", os.path.join(work, "state"),
             "--catalog", "none", "--log-target", "stderr", "--library", library],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                fail("the daemon did not start: " + self.log_text())
            time.sleep(0.05)

    def log_text(self):
        with open(os.path.join(self.work, "daemon.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def cli(self, *args, stdin=None, timeout=60):
        return subprocess.run([CLI, "--socket", self.socket, *args], stdin=stdin,
                              capture_output=True, timeout=timeout)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        os.unlink(self.socket)  # a killed daemon leaves its socket; the next one checks it

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(timeout=30) != 0:
            fail("the daemon did not stop cleanly: " + self.log_text())


def config_error(work, library, says=None):
    r = subprocess.run([DAEMON, "--socket", os.path.join(work, "x.sock"), "--state-dir",
                        os.path.join(work, "state-x"), "--catalog", "none", "--library", library],
                       capture_output=True, timeout=30)
    if r.returncode != 78:
        fail(f"--library {library}: exit {r.returncode}, not 78: {r.stderr.decode()}")
    if says is not None and says not in r.stderr.decode():
        fail(f"--library {library}: the error does not say {says!r}: {r.stderr.decode()}")


def main():
    work = tempfile.mkdtemp(prefix="tapestream-library-")
    try:
        lib = os.path.join(work, "lib")
        os.mkdir(lib)
        for barcode in ("VOL001", "VOL002", "VOL003"):
            open(os.path.join(lib, barcode + ".tap"), "wb").close()
        spec = f"lib0=emulated-library:{lib}?slots=4&ie=1&drives=la,lb&capacity=64M&move_time=0ms"

        config_error(work, "lib0=emulated:" + os.path.join(work, "x.tap"))
        config_error(work, f"lib0=emulated-library:{lib}?slots=4")
        # A real changer is looked for in sysfs (this machine has none; tests/vm has one).
        config_error(work, "lib0=scsi:", "names no changer")
        config_error(work, "lib0=sg:/dev/sch7", 'no medium changer "/dev/sch7" in sysfs; found')
        config_error(work, "lib0=mtx:/dev/sch0", "expected emulated-library:DIR?drives=A,B, or scsi:")

        d = Daemon(work, spec)
        if "library lib0: 8 elements, 3 holding a cartridge" not in d.log_text():
            fail("the start-up inventory is not in the log: " + d.log_text())
        r = d.cli("--drive", "la", "write", stdin=subprocess.DEVNULL)
        if r.returncode == 0:
            fail("a write to an empty drive committed")
        d.stop()
        if os.path.exists(os.path.join(lib, "library.state")):
            fail("a start with no move wrote a record")
        # What MOVE MEDIUM from slot 2 to drive la leaves in the record (the first start put
        # the cartridges into the slots in barcode order).
        with open(os.path.join(lib, "library.state"), "w") as f:
            f.write(f"tapestream-library 1\n{SLOT1} VOL001\n{DRIVE_A} VOL002 {SLOT1 + 1}\n"
                    f"{SLOT1 + 2} VOL003\n")

        tree = os.path.join(work, "tree")
        os.mkdir(tree)
        for i in range(20):
            with open(os.path.join(tree, f"f{i}"), "wb") as f:
                f.write(os.urandom(100_000 + i * 3001))
        archive = subprocess.run(["tar", "-C", tree, "-cf", "-", "."], capture_output=True,
                                 check=True).stdout
        want = hashlib.sha256(archive).hexdigest()

        d = Daemon(work, spec)
        with tempfile.TemporaryFile() as source:
            source.write(archive)
            source.seek(0)
            r = d.cli("--drive", "la", "write", stdin=source)
        if r.returncode != 0:
            fail(f"write to la (VOL002): exit {r.returncode}: {r.stderr.decode()}")
        if os.path.getsize(os.path.join(lib, "VOL002.tap")) == 0:
            fail("the write did not reach VOL002's image")
        r = d.cli("--drive", "lb", "write", stdin=subprocess.DEVNULL)
        if r.returncode == 0:
            fail("a write to the empty drive lb committed")
        d.kill()

        d = Daemon(work, spec)
        r = d.cli("--drive", "la", "read", "--file", "0")
        if r.returncode != 0 or hashlib.sha256(r.stdout).hexdigest() != want:
            fail(f"read back from la after kill -9: exit {r.returncode}, "
                 f"{len(r.stdout)} bytes of {len(archive)}: {r.stderr.decode()}")
        listing = subprocess.run(["tar", "-tf", "-"], input=r.stdout, capture_output=True)
        if listing.returncode != 0 or listing.stdout.count(b"./f") != 20:
            fail("GNU tar does not list the 20 files read back")
        d.stop()
        print("PASS: a library's drives served; VOL002 written in la, read back after kill -9")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
