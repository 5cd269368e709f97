#!/usr/bin/env python3
"""Issue 15, item 4: `tapestream mtx` prints what mtx prints, so that scripts written for mtx work.

Real daemons serve emulated libraries shaped like the libraries of recorded real mtx output
(mtx_samples/, each file's source in its README.md), driven through the real CLI and its
tapestream-mtx link:
  samples    the cartridges are put where the recorded library had them (with mtx's own
             transfer, load and unload, through tapestream-mtx); then `status` is compared line
             by line with the recording: byte for byte for the TANDBERG StorageLoader (1 drive,
             7 slots: the tags' padding too), without the blanks the source lost for Proxmox's
             (2 drives, 20 slots, 4 import/export)
  moves      load/unload/first/next/last print mtx's "Loading media ...done" lines (compared
             with recorded ones), several commands in one call, nobarcode, the loaded drive's
             line, CHANGER= instead of -f; an unload right after a load (the drive's first
             command after the robot brought the cartridge gets UNIT ATTENTION: the daemon
             refused such an unload with medium_changed before it asked again)
  errors     mtx's texts and exit status 1: an empty source, a full destination, a full drive,
             an empty drive, a slot or drive out of range, an unknown library, a usage error
  bareos     Bareos's mtx-changer pipelines (list, listall, loaded, slots; copied in
             bareos_mtx_changer_parsing.sh) on tapestream-mtx's output give the expected answers
With --amanda, instead: Amanda's chg-robot (Debian 12's amanda-server) takes the inventory,
loads slot 2, ejects it back and moves slot 3 to the mail slot through tapestream-mtx
(amanda_chg_robot.pl); exit 77 when Amanda's Perl modules are not there ($TAPESTREAM_AMANDA_PERL,
else where amanda-server installs them).
Usage: mtx_test.py DAEMON CLI [--amanda]. Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

DAEMON, CLI = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "mtx_samples")
MTX = os.path.join(os.path.dirname(os.path.abspath(CLI)), "tapestream-mtx")
BAREOS = os.path.join(HERE, "bareos_mtx_changer_parsing.sh")


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


STARTED = []  # every daemon, so that a failing check does not leave one running


class Daemon:
    def __init__(self, work, name, directory, shape, barcodes):
        os.mkdir(directory)
        for barcode in barcodes:
            open(os.path.join(directory, barcode + ".tap"), "wb").close()
        self.socket = os.path.join(work, name + ".sock")
        self.log_path = os.path.join(work, name + ".log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [DAEMON, "--socket", self.socket, "--state-dir", os.path.join(work, name + "-state"),
             "--catalog", "none", "--log-target", "stderr", "--library",
             f"{name}=emulated-library:{directory}?{shape}&capacity=16M&move_time=0ms"],
            stdout=self.log, stderr=self.log)
        STARTED.append(self.proc)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                fail("the daemon did not start: " + open(self.log_path, errors="replace").read())
            time.sleep(0.05)

    def mtx(self, *args, env=None):
        """tapestream-mtx ARGS, as a script that runs mtx by its path does."""
        environment = {k: v for k, v in os.environ.items() if k != "CHANGER"}
        environment.update(TAPESTREAM_SOCKET=self.socket, **(env or {}))
        return subprocess.run([MTX, *args], capture_output=True, text=True, env=environment,
                              timeout=60)

    def ok(self, *args, **kw):
        r = self.mtx(*args, **kw)
        if r.returncode != 0:
            fail(f"mtx {' '.join(args)}: exit {r.returncode}: {r.stderr}")
        return r.stdout

    def refused(self, says, *args):
        r = self.mtx(*args)
        if r.returncode != 1 or says not in r.stderr:
            fail(f"mtx {' '.join(args)}: exit {r.returncode} (want 1), stderr {r.stderr!r} "
                 f"(want {says!r})")
        return r

    def addresses(self):
        """slot number -> the changer's element address, from `tapestream changer status`."""
        r = subprocess.run([CLI, "--socket", self.socket, "--json", "changer", "status"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            fail(f"changer status: {r.stderr}")
        return {e["number"]: e["address"] for e in json.loads(r.stdout)["elements"]
                if e["kind"] != "drive"}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        if self.proc.wait(timeout=30) != 0:
            fail("the daemon did not stop cleanly: " + open(self.log_path, errors="replace").read())


def sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return f.read().splitlines()


def compare(got, want, what, strip):
    got_lines = got.splitlines()
    if len(got_lines) != len(want):
        fail(f"{what}: {len(got_lines)} lines, the recording has {len(want)}:\n{got}")
    for number, (g, w) in enumerate(zip(got_lines, want), 1):
        if (g.strip() if strip else g) != (w.strip() if strip else w):
            fail(f"{what}, line {number}:\n  tapestream: {g!r}\n  real mtx:   {w!r}")


def with_device(lines, device):
    """The recording's header names its /dev/sgN; ours names the library given with -f."""
    head = lines[0]
    start = head.index("Changer ") + len("Changer ")
    return [head[:start] + device + head[head.index(":", start):]] + lines[1:]


def tandberg(work):
    want = sample("tandberg_storageloader_1x7.txt")
    tags = [line.split("VolumeTag=")[1].strip() for line in want[2:]]
    d = Daemon(work, "tandberg", os.path.join(work, "tandberg"), "slots=7&ie=0&drives=t0", tags)
    # The library starts with the cartridges in barcode order; the recording's order is one
    # cycle away from it, moved with the drive as the only free place (no mail slot, no empty slot).
    start = sorted(tags)
    if [start.index(t) + 1 for t in tags] != [2, 3, 6, 4, 7, 5, 1]:
        fail(f"the sample's tags are not the expected ones: {tags}")
    d.ok("load", "1", "transfer", "2", "1", "transfer", "3", "2", "transfer", "6", "3",
         "transfer", "5", "6", "transfer", "7", "5", "unload", "7", "0")
    compare(d.ok("-f", "tandberg", "status"), with_device(want, "tandberg"),
            "status of the 1-drive 7-slot library", strip=False)
    d.stop()


def proxmox(work):
    want = sample("proxmox_2x20_4ie.txt")
    tags = [line.split("VolumeTag=")[1].strip() for line in want if "VolumeTag=" in line]
    d = Daemon(work, "px", os.path.join(work, "px"), "slots=20&ie=4&drives=p0,p1", tags)
    # From barcode order (CLN001CU CLN002CU test1 test22L1 test23L1) to the recording's.
    d.ok("-f", "px", "transfer", "1", "6", "transfer", "2", "1", "transfer", "4", "2",
         "transfer", "5", "7", "transfer", "3", "5", "transfer", "7", "3", "transfer", "6", "4")
    compare(d.ok("-f", "px", "status"), with_device(want, "px"),
            "status of the 2-drive 24-slot library", strip=True)
    # The same text a script gets from `tapestream mtx` as from the link.
    r = subprocess.run([CLI, "--socket", d.socket, "mtx", "-f", "px", "status"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or r.stdout != d.ok("-f", "px", "status"):
        fail(f"tapestream mtx status differs from tapestream-mtx status: {r.stderr}")
    return d


def moves(d):
    recorded = sample("moves_quadstor.txt")
    out = d.ok("-f", "px", "first")
    if out.splitlines() != [recorded[0]]:
        fail(f"first: {out!r}, not {recorded[0]!r}")
    out = d.ok("-f", "px", "unload")
    if out.splitlines() != [recorded[2]]:
        fail(f"unload: {out!r}, not {recorded[2]!r}")
    out = d.ok("-f", "px", "first", "1", "unload", "1", "1")
    if out.splitlines() != [recorded[1].replace("drive 3", "drive 1"),
                            recorded[3].replace("drive 3", "drive 1")]:
        fail(f"first 1, unload 1 1: {out!r}")
    out = d.ok("-f", "px", "load", "3", "0", "status")
    pad = "test23L1".ljust(32)
    if ("Loading media from Storage Element 3 into drive 0...done\n"
            f"  Storage Changer px:2 Drives, 24 Slots ( 4 Import/Export )\n"
            f"Data Transfer Element 0:Full (Storage Element 3 Loaded):VolumeTag = {pad}\n"
            "Data Transfer Element 1:Empty\n") not in out or \
            "      Storage Element 3:Empty\n" not in out:
        fail(f"load 3 0 status: {out}")
    out = d.ok("-f", "px", "nobarcode", "status")
    if "VolumeTag" in out or "Data Transfer Element 0:Full (Storage Element 3 Loaded)\n" not in out:
        fail(f"nobarcode status: {out}")
    # next: back to slot 3, then the next full storage slot (4).
    out = d.ok("-f", "px", "next", "0")
    if out != ("Unloading drive 0 into Storage Element 3...done\n"
               "Loading media from Storage Element 4 into drive 0...done\n"):
        fail(f"next: {out!r}")
    out = d.ok("next", "0", env={"CHANGER": "px"})
    if out != ("Unloading drive 0 into Storage Element 4...done\n"
               "Loading media from Storage Element 5 into drive 0...done\n"):
        fail(f"next with CHANGER=: {out!r}")
    d.refused("No More Media", "-f", "px", "next")
    out = d.ok("-f", "px", "first", "first")
    if out != ("Loading media from Storage Element 1 into drive 0...done\n"
               "loading...done.\n"):
        fail(f"first first (the drive holds slot 1 already): {out!r}")
    d.ok("-f", "px", "invert", "altres", "noattach", "eepos", "0", "unload", "0", "0")


def errors(d):
    address = d.addresses()
    d.refused(f"mtx: Source Element Address {address[6]} is Empty", "-f", "px", "load", "6", "1")
    d.refused(f"mtx: Destination Element Address {address[2]} is Already Full",
              "-f", "px", "transfer", "1", "2")
    d.refused("mtx: Source Element Address", "-f", "px", "transfer", "6", "7")
    d.ok("-f", "px", "load", "1", "0")
    d.refused("mtx: Drive 0 Full (Storage Element 1 loaded)", "-f", "px", "load", "2", "0")
    d.refused("mtx: Storage Element 2 is Already Full", "-f", "px", "unload", "2", "0")
    d.refused("mtx: No Source for tape in drive 1!", "-f", "px", "unload", "0", "1")
    d.refused("mtx: Data Transfer Element 1 is Empty", "-f", "px", "unload", "7", "1")
    d.refused("mtx: Invalid <storage-element-number> argument '99' to 'load' command",
              "-f", "px", "load", "99", "1")
    d.refused("mtx: illegal <drive-number> argument '5' to 'load' command",
              "-f", "px", "load", "2", "5")
    d.refused("mtx: Invalid destination", "-f", "px", "transfer", "2", "25")
    d.refused("mtx: No source specified", "-f", "px", "load")
    d.refused("mtx: Invalid <storage-element-number> argument '2147483647' to 'load' command",
              "-f", "px", "load", "99999999999999999999999")
    d.refused("mtx: cannot open SCSI device 'nosuch'", "-f", "nosuch", "status")
    d.refused("Usage:", "-f", "px", "frobnicate")
    d.refused("Usage:", "-f")
    # Commands run in order until one fails: the load before the failure is done and said.
    r = d.mtx("-f", "px", "unload", "1", "0", "load", "6", "0")
    if r.returncode != 1 or r.stdout != ("Unloading drive 0 into Storage Element 1...done\n"
                                         "Loading media from Storage Element 6 into drive 0...") \
            or f"Source Element Address {address[6]} is Empty" not in r.stderr:
        fail(f"unload then a failing load: exit {r.returncode}, {r.stdout!r}, {r.stderr!r}")


def bareos(d):
    d.ok("-f", "px", "load", "3", "0")
    pad = lambda tag: tag.ljust(32)  # noqa: E731

    def answer(*args):
        r = subprocess.run(["sh", BAREOS, MTX, "px", *args], capture_output=True, text=True,
                           env=dict(os.environ, TAPESTREAM_SOCKET=d.socket), timeout=60)
        if r.returncode != 0:
            fail(f"mtx-changer {args[0]}: exit {r.returncode}: {r.stderr}")
        return r.stdout.splitlines()

    if answer("slots") != ["24"]:
        fail(f"mtx-changer slots: {answer('slots')}")
    if answer("loaded", "0") != ["3"] or answer("loaded", "1") != ["0"]:
        fail(f"mtx-changer loaded: {answer('loaded', '0')} {answer('loaded', '1')}")
    want_list = ["1:CLN002CU", "2:test22L1", "4:CLN001CU", "5:test1", "3:test23L1"]
    if answer("list") != want_list:
        fail(f"mtx-changer list: {answer('list')}, not {want_list}")
    want_all = (["D:0:F:3:test23L1", "D:1:E", "S:1:F:" + pad("CLN002CU"), "S:2:F:" + pad("test22L1"),
                 "S:3:E", "S:4:F:" + pad("CLN001CU"), "S:5:F:" + pad("test1")] +
                [f"S:{n}:E" for n in range(6, 25)])
    if answer("listall") != want_all:
        fail(f"mtx-changer listall: {answer('listall')}")


def amanda(work):
    perl_dir = os.environ.get("TAPESTREAM_AMANDA_PERL", "/usr/lib/x86_64-linux-gnu/amanda/perl")
    if not os.path.exists(os.path.join(perl_dir, "Amanda/Changer/robot.pm")):
        print(f"SKIP: no Amanda chg-robot in {perl_dir} (install amanda-server, or set "
              "TAPESTREAM_AMANDA_PERL)")
        sys.exit(77)
    tags = ["AMD001L6", "AMD002L6", "AMD003L6"]
    d = Daemon(work, "amlib", os.path.join(work, "amlib"), "slots=4&ie=1&drives=a0", tags)
    # chg-robot wants its device to exist as a file; tapestream-mtx takes a path's last
    # component as the library's name. It runs mtx with a cleaned environment
    # (Amanda::Util::safe_env), so the socket comes from a wrapper, as a site would do with
    # --socket or the default socket.
    conf = os.path.join(work, "amanda")
    os.mkdir(conf)
    device = os.path.join(conf, "amlib")
    open(device, "w").close()
    wrapper = os.path.join(conf, "mtx")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nTAPESTREAM_SOCKET='{d.socket}' exec '{MTX}' \"$@\"\n")
    os.chmod(wrapper, 0o755)
    with open(os.path.join(conf, "amanda.conf"), "w") as f:
        f.write(f"""org "tapestream"
define changer robot {{
    tpchanger "chg-robot:{device}"
    property "mtx" "{wrapper}"
    property "tape-device" "0=null:"
    property "load-poll" "0s"
    changerfile "{os.path.join(conf, 'chg-robot.state')}"
}}
""")
    environment = dict(os.environ)
    root = os.path.dirname(perl_dir)
    environment["LD_LIBRARY_PATH"] = ":".join(filter(None, [root, os.environ.get("LD_LIBRARY_PATH")]))
    environment["PERL5LIB"] = ":".join(filter(None, [perl_dir, os.environ.get("PERL5LIB")]))
    r = subprocess.run(["perl", os.path.join(HERE, "amanda_chg_robot.pl"), conf],
                       capture_output=True, text=True, env=environment, timeout=180)
    lines = r.stdout.splitlines()
    if r.returncode != 0:
        fail(f"chg-robot: exit {r.returncode}: {r.stdout} {r.stderr[-2000:]}")
    want = ["inventory 1 full AMD001L6 -", "inventory 2 full AMD002L6 -",
            "inventory 3 full AMD003L6 -", "inventory 4 empty - -", "inventory 5 empty - ie",
            "loaded 2 0",
            "inventory-after-load 2 loaded-in-0 AMD002L6 -",
            "ejected", "moved 3 5"]
    for line in want:
        if line not in lines:
            fail(f"chg-robot did not answer {line!r}: {lines} {r.stderr[-2000:]}")
    status = d.ok("-f", "amlib", "status")
    if "Storage Element 2:Full :VolumeTag=AMD002L6" not in status or \
            "Storage Element 5 IMPORT/EXPORT:Full :VolumeTag=AMD003L6" not in status or \
            "Data Transfer Element 0:Empty" not in status:
        fail(f"the library after chg-robot's moves: {status}")
    d.stop()
    print("PASS: Amanda chg-robot inventory, load, eject and move through tapestream-mtx")


def main():
    if not os.access(MTX, os.X_OK):
        fail(f"no tapestream-mtx next to {CLI}")
    work = tempfile.mkdtemp(prefix="tapestream-mtx-")
    try:
        if "--amanda" in sys.argv[3:]:
            amanda(work)
            return
        tandberg(work)
        d = proxmox(work)
        moves(d)
        errors(d)
        bareos(d)
        d.stop()
        print("PASS: status as recorded (1x7, 2x24), moves, errors, Bareos's mtx-changer parsing")
    finally:
        for proc in STARTED:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
