#!/usr/bin/env python3
"""Issue 15, item 4: moving cartridges through the daemon with `tapestream changer`.

A library of three cartridges (slots 1-3 of 4, one import/export slot) and two drives (la, lb)
served by the real daemon, driven by the real CLI:
  inventory  the cartridges in slots 1-3, both drives empty (text and --json)
  round trip load slot 1 into la, write a GNU tar stream, unload (to its source, slot 1), load
             slot 2, write another, unload, load slot 1 again: its stream reads back identical
             (sha256)
  faults     an empty source (exit 66, naming the slot), a full destination (a load into a full
             drive, a transfer onto a full slot: exit 75, naming it), a move that fails
             (move_fails=: exit 74, the cartridge where it was), a drive that does not give its
             cartridge up (stuck_drive=: exit 74, the cartridge still in it)
  busy       a load into and an unload from a drive that is streaming: refused BUSY (exit 75)
             and the stream still commits
  kill -9    the library's record (library.state) keeps a move across kill -9 and a restart
  access     a user who may ask the status but not write: status works, a move is refused
             (exit 77) and nothing moved (needs root and setpriv, else that part is skipped)
  library    with LIBTAPESTREAM given: ts_changer_status counts the elements and ts_changer_move
             transfers a cartridge and says where it went (ctypes, against the same daemon)
Usage: changer_test.py DAEMON CLI [LIBTAPESTREAM]. Exit 0 pass, 1 fail. (With --through SOCKET
after them it runs only the C API's part, in a process of its own: see library_environment.)"""
import ctypes
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
import reliability_support as rs  # noqa: E402

DAEMON, CLI = sys.argv[1], sys.argv[2]
LIBRARY = sys.argv[3] if len(sys.argv) > 3 else None


class Element(ctypes.Structure):  # struct ts_element, tapestream.h
    _fields_ = [("struct_size", ctypes.c_size_t), ("kind", ctypes.c_uint8),
                ("flags", ctypes.c_uint8), ("address", ctypes.c_uint16),
                ("number", ctypes.c_uint32), ("source", ctypes.c_uint32),
                ("barcode", ctypes.c_char * 65), ("drive", ctypes.c_char * 33)]


def through_the_library(d):
    """The C API's part, in a Python of its own that can load a sanitized library."""
    p = subprocess.run([sys.executable, os.path.abspath(__file__), DAEMON, CLI, LIBRARY,
                        "--through", d.socket], env=rs.library_environment(LIBRARY),
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        fail(f"the C API's part: exit {p.returncode}: {p.stdout.strip()} {p.stderr.strip()[-500:]}")


def library_part(socket_path):
    """The C API against the daemon: 7 elements; slot 3 to slot 4 and back."""
    lib = ctypes.CDLL(LIBRARY)
    client = ctypes.c_void_p()
    if lib.ts_connect(socket_path.encode(), b"changer_test", ctypes.byref(client)) != 0:
        fail("ts_connect failed")
    lib.ts_last_error.restype = ctypes.c_char_p
    count = lib.ts_changer_status(client, None, None, None)
    if count != 7:
        fail(f"ts_changer_status: {count}, not 7 elements: {lib.ts_last_error(client)}")
    for slot, to_slot in ((3, 4), (4, 3)):
        source, dest = Element(), Element()
        source.struct_size = dest.struct_size = ctypes.sizeof(Element)
        r = lib.ts_changer_move(client, None, 3, slot, to_slot, None, ctypes.byref(source),
                                ctypes.byref(dest))
        if r != 0 or dest.number != to_slot or dest.barcode != b"VOL003" or source.flags != 0:
            fail(f"ts_changer_move {slot} -> {to_slot}: {r} {lib.ts_last_error(client)}, "
                 f"to {dest.number} {dest.barcode}")
    # Refused by the daemon: an empty source is TS_ERROR(TS_NO_MEDIUM).
    r = lib.ts_changer_move(client, None, 3, 4, 3, None, None, None)
    if r != -(10000 + 10):
        fail(f"ts_changer_move from an empty slot: {r}, not TS_ERROR(TS_NO_MEDIUM)")
    lib.ts_close(client)


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


class Daemon:
    def __init__(self, work, library, extra=()):
        self.work = work
        self.socket = os.path.join(work, "s.sock")
        self.log_path = os.path.join(work, "daemon.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [DAEMON, "--socket", self.socket, "--state-dir", os.path.join(work, "state"),
             "--catalog", "none", "--log-target", "stderr", "--library", library, *extra],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                fail("the daemon did not start: " + self.log_text())
            time.sleep(0.05)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def cli(self, *args, stdin=None, timeout=60, prefix=(), cli=CLI):
        return subprocess.run([*prefix, cli, "--socket", self.socket, *args], stdin=stdin,
                              capture_output=True, timeout=timeout)

    def ok(self, *args, **kw):
        r = self.cli(*args, **kw)
        if r.returncode != 0:
            fail(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.decode()}")
        return r

    def refused(self, code, says, *args, **kw):
        r = self.cli(*args, **kw)
        if r.returncode != code or says not in r.stderr.decode():
            fail(f"{' '.join(args)}: exit {r.returncode} (want {code}), "
                 f"\"{r.stderr.decode().strip()}\" (want \"{says}\")")
        return r

    def where(self):
        """barcode -> (kind, number or drive name), from `changer status --json`."""
        status = json.loads(self.ok("--json", "changer", "status").stdout)
        return {e["barcode"]: (e["kind"], e["drive"] or e["number"])
                for e in status["elements"] if e["full"]}

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        os.unlink(self.socket)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(timeout=30) != 0:
            fail("the daemon did not stop cleanly: " + self.log_text())


def make_library(work, name):
    lib = os.path.join(work, name)
    os.mkdir(lib)
    for barcode in ("VOL001", "VOL002", "VOL003"):
        open(os.path.join(lib, barcode + ".tap"), "wb").close()
    return lib


def tar_of(work, name, seed):
    tree = os.path.join(work, name)
    os.mkdir(tree)
    for i in range(12):
        with open(os.path.join(tree, f"f{i}"), "wb") as f:
            f.write(hashlib.sha256(f"{seed}{i}".encode()).digest() * (2000 + 97 * i))
    return subprocess.run(["tar", "-C", tree, "-cf", "-", "."], capture_output=True,
                          check=True).stdout


def write_stream(d, drive, data):
    with tempfile.TemporaryFile() as source:
        source.write(data)
        source.seek(0)
        d.ok("--drive", drive, "write", stdin=source)


def sha256sum(data):
    return subprocess.run(["sha256sum"], input=data, capture_output=True, check=True).stdout.split()[0]


def inventory_and_round_trip(work, d):
    text = d.ok("changer", "inventory").stdout.decode()
    for line in ("VOL001           slot 1", "VOL002           slot 2", "VOL003           slot 3"):
        if line not in text:
            fail(f"inventory lacks \"{line}\": {text}")
    if d.where() != {"VOL001": ("slot", 1), "VOL002": ("slot", 2), "VOL003": ("slot", 3)}:
        fail(f"status at start: {d.where()}")
    first, second = tar_of(work, "t1", 1), tar_of(work, "t2", 2)
    d.ok("changer", "load", "1", "--drive", "la")
    if d.where()["VOL001"] != ("drive", "la"):
        fail(f"VOL001 not in la after load: {d.where()}")
    write_stream(d, "la", first)
    d.ok("changer", "unload", "--drive", "la")
    d.ok("changer", "load", "2", "--drive", "la")
    write_stream(d, "la", second)
    d.ok("changer", "unload", "--drive", "la")
    if d.where() != {"VOL001": ("slot", 1), "VOL002": ("slot", 2), "VOL003": ("slot", 3)}:
        fail(f"unload did not put the cartridges back where they came from: {d.where()}")
    d.ok("changer", "load", "1", "--drive", "la")
    r = d.ok("--drive", "la", "read", "--file", "0")
    if sha256sum(r.stdout) != sha256sum(first):
        fail(f"VOL001 read back differs: {len(r.stdout)} bytes of {len(first)}")
    if subprocess.run(["tar", "-tf", "-"], input=r.stdout, capture_output=True).stdout.count(b"./f") != 12:
        fail("GNU tar does not list the files read back from VOL001")


def faults(d):
    d.refused(66, "slot 4 is empty", "changer", "load", "4", "--drive", "lb")
    d.refused(75, "drive la is full", "changer", "load", "2", "--drive", "la")
    d.refused(75, "slot 3 is full", "changer", "transfer", "2", "3")
    d.refused(64, "has no slot 9", "changer", "transfer", "2", "9")
    d.refused(64, "not a drive of library", "changer", "load", "2", "--drive", "nosuch")
    d.ok("changer", "transfer", "2", "5")  # into the import/export slot, numbered after slots
    if d.where()["VOL002"] != ("import/export", 5):
        fail(f"transfer to the import/export slot: {d.where()}")


def busy(d):
    proc = subprocess.Popen(
        [CLI, "--socket", d.socket, "--drive", "la", "write", "--",
         "sh", "-c", "head -c 200000 /dev/urandom; sleep 3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1)
    d.refused(75, "in use by a stream", "changer", "unload", "--drive", "la")
    d.refused(75, "in use by a stream", "changer", "load", "3", "--drive", "la")
    if proc.wait(timeout=60) != 0:
        fail(f"the stream refused moves stood in the way of failed: {proc.stderr.read().decode()}")


def stuck_and_failing(work):
    lib = make_library(work, "lib-faults")
    d = Daemon(work, f"lib1=emulated-library:{lib}?slots=4&ie=1&drives=la,lb&capacity=16M"
                     "&move_time=0ms&move_fails=1&stuck_drive=lb")
    d.refused(74, "failed", "changer", "load", "1", "--drive", "la")
    if d.where().get("VOL001") != ("slot", 1):
        fail(f"a failed move moved the cartridge: {d.where()}")
    d.ok("changer", "load", "2", "--drive", "lb")
    d.refused(74, "drive lb", "changer", "unload", "--drive", "lb")
    if d.where().get("VOL002") != ("drive", "lb"):
        fail(f"the stuck drive gave its cartridge up: {d.where()}")
    d.stop()


def access(work, d):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("SKIP (part): access needs root and setpriv")
        return
    os.chmod(work, 0o755)
    os.chmod(d.socket, 0o666)
    cli = os.path.join(work, "tapestream")
    shutil.copy(CLI, cli)
    os.chmod(cli, 0o755)
    nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    before = d.where()
    r = d.cli("changer", "status", prefix=nobody, cli=cli)
    if r.returncode != 0:
        fail(f"status as uid 65534: exit {r.returncode}: {r.stderr.decode()}")
    r = d.cli("changer", "transfer", "3", "4", prefix=nobody, cli=cli)
    if r.returncode != 77 or "65534" not in r.stderr.decode():
        fail(f"a move by uid 65534 without write: exit {r.returncode}: {r.stderr.decode()}")
    if d.where() != before:
        fail("a refused move moved a cartridge")


def main():
    work = tempfile.mkdtemp(prefix="tapestream-changer-")
    try:
        lib = make_library(work, "lib")
        spec = f"lib0=emulated-library:{lib}?slots=4&ie=1&drives=la,lb&capacity=64M&move_time=0ms"
        allow = ["--allow", "status: everyone"]
        d = Daemon(work, spec, allow)
        inventory_and_round_trip(work, d)
        faults(d)
        busy(d)
        d.kill()
        d = Daemon(work, spec, allow)
        if d.where() != {"VOL001": ("drive", "la"), "VOL002": ("import/export", 5),
                         "VOL003": ("slot", 3)}:
            fail(f"after kill -9 the library's record lost a move: {d.where()}")
        access(work, d)
        if LIBRARY:
            through_the_library(d)
        d.stop()
        stuck_and_failing(work)
        print("PASS: inventory, load/write/unload/read back, faults, busy, kill -9, access")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 5 and sys.argv[4] == "--through":
        library_part(sys.argv[5])
        sys.exit(0)
    main()
