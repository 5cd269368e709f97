#!/usr/bin/env python3
"""Issue 15, items 5 and 6: a stream that spans volumes, against the real daemon serving an
emulated library (--library), written with raw protocol frames (WRITE flag 32, feature `span`),
read back with the real CLI (`tapestream changer load`, `tapestream read`) and from the images
with an independent SIMH reader (dd-style: each part's file, concatenated).

Cases (argv[3]):
  whole      three 64 MiB cartridges, early warning at 52 MiB, a 150 MiB random stream: PART for
             parts 1 and 2, COMMITTED for part 3; the parts' counts add up to the stream; each
             volume's file read back through the daemon, and from the image files, concatenated,
             is the stream (sha256); COMMITTED's digest is the stream's.
  no_scratch two cartridges for the same stream: parts 1 and 2 committed (PART), then
             STREAM_FAILED volume_full naming "no scratch volume"; the images hold exactly the
             parts' bytes, the stream's first bytes.
  not_blank  a cartridge in the way holds data: it goes back untouched (its image unchanged),
             and the stream goes on on the next one.
  write_protected  a blank cartridge in the way is write protected (its image file may not be
             written: the emulated cartridge's write-protect tab): it goes back untouched, the
             log says why, and the stream goes on on the next one, committed.
  move_fails the changer's move that loads the second volume fails: PART 1, then STREAM_FAILED
             drive_error; part 1 stays on its volume.
  medium_error  the drive's WRITE 250 fails (in part 2): PART 1, then STREAM_FAILED medium_error
             with part 2's exact count, which is what the second volume holds; `read
             --stream` refuses the stream (part 2 failed, exit 74), `--incomplete` gives part 1.
  stop_between_parts  SIGTERM (stop timeout 1 s) while the robot moves the cartridges (3 s a
             move): PART 1, then STREAM_FAILED shutting_down; no later volume written; the
             daemon exits 0.
  kill       kill -9 of the daemon while part 2 is written, then a restart: the catalog holds
             part 1 complete and part 2 interrupted, both naming the stream; part 1's volume
             still holds exactly its bytes.
Usage: span_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol_frames as pf  # noqa: E402
import simh_reader  # noqa: E402

DAEMON, CLI, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
MIB = 1024 * 1024
PART, FEATURE_SPAN, W_SPAN, FEATURE_DIGEST = 0x8011, 0x10, 0x20, 0x2
VOLUME_FULL, DRIVE_ERROR = 12, 14


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


class Daemon:
    def __init__(self, work, library, args=()):
        """`library`: an --library spec, or the arguments that give the drives (a list)."""
        self.work = work
        self.socket = os.path.join(work, "s.sock")
        self.log = open(os.path.join(work, "daemon.log"), "ab")
        self.proc = subprocess.Popen(
            [DAEMON, "--socket", self.socket, "--state-dir", os.path.join(work, "state"),
             "--log-target", "stderr",
             *(["--library", library] if isinstance(library, str) else library),
             # Parts end while the client still sends: the stream must reach the tape before
             # its END, which the default pool (256 MiB, start mark at half) would hold back.
             "--pool-size", "4M", *args],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                fail("the daemon did not start: " + self.log_text())
            time.sleep(0.05)

    def log_text(self):
        with open(os.path.join(self.work, "daemon.log"), "rb") as f:
            return f.read().decode(errors="replace")[-6000:]

    def ok(self, *args, timeout=120, input=None):
        r = subprocess.run([CLI, "--socket", self.socket, *args], capture_output=True,
                           timeout=timeout, input=input)
        if r.returncode != 0:
            fail(f"tapestream {' '.join(args)}: exit {r.returncode}: {r.stderr.decode()}\n"
                 + self.log_text())
        return r

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("the daemon did not stop on SIGTERM: " + self.log_text())
        if code != 0:
            fail("the daemon did not stop cleanly: " + self.log_text())


def library(work, barcodes, extra=""):
    lib = os.path.join(work, "lib")
    os.mkdir(lib)
    for barcode in barcodes:
        open(os.path.join(lib, barcode + ".tap"), "wb").close()
    spec = (f"lib0=emulated-library:{lib}?slots=6&ie=1&drives=la&capacity=64M&ew=52M"
            f"&move_time=0ms{extra}")
    return lib, spec


def span_write(d, data):
    """Writes `data` with WRITE flag 32 on la; the PART bodies and the final frame."""
    conn = pf.Conn(d.socket, timeout=300)
    conn.send(pf.frame(pf.HELLO, pf.hello_body(FEATURE_SPAN | FEATURE_DIGEST)))
    hello = conn.recv_frame()
    if hello is None or hello.type != pf.HELLO_OK:
        fail(f"HELLO: {hello}")
    if not struct.unpack_from("<I", hello.body, 4)[0] & FEATURE_SPAN:
        fail("the daemon did not grant `span`")
    max_data = struct.unpack_from("<I", hello.body, 8)[0]
    conn.send(pf.frame(pf.WRITE, pf.write_body("la", flags=pf.W_APPEND | W_SPAN), rid=2))
    ready = conn.recv_frame()
    if ready is None or ready.type != pf.READY:
        fail(f"WRITE: {ready}\n" + d.log_text())
    step = min(max_data, 1 * MIB)
    errors = []

    def sender():
        try:
            view = memoryview(data)
            for at in range(0, len(data), step):
                conn.sock.sendall(pf.frame(pf.DATA, bytes(view[at:at + step]), rid=2))
            conn.sock.sendall(pf.frame(pf.END, pf.end_body(len(data)), rid=2))
        except OSError as e:  # the daemon stopped reading after a failure: expected then
            errors.append(e)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    parts = []
    while True:
        f = conn.recv_frame(timeout=300)
        if f is None:
            fail("the daemon closed the connection\n" + d.log_text())
        if f.type == PART:
            index, _, file_number, nbytes, blocks, total = struct.unpack_from("<IIQQQQ", f.body)
            n = struct.unpack_from("<H", f.body, 40)[0]
            barcode = f.body[42:42 + n].decode()
            m = struct.unpack_from("<H", f.body, 42 + n)[0]
            serial = f.body[44 + n:44 + n + m].decode()
            parts.append({"index": index, "file": file_number, "bytes": nbytes, "blocks": blocks,
                          "total": total, "barcode": barcode, "medium_serial": serial})
            continue
        if f.type in (pf.COMMITTED, pf.STREAM_FAILED):
            thread.join(timeout=60)
            conn.close()
            return parts, f
        if f.type == pf.PROGRESS:
            continue
        fail(f"unexpected {f}\n" + d.log_text())


def image_file(lib, barcode, file_number):
    with open(os.path.join(lib, barcode + ".tap"), "rb") as f:
        image = f.read()
    found = list(simh_reader.files(image))
    if file_number >= len(found):
        return None
    return b"".join(found[file_number])


def check_parts(parts, by="barcode"):
    """The stream's bytes in `parts`; each part on a volume of its own, named by `by` (a
    library's barcode, or without a library the medium serial number)."""
    total = 0
    for i, p in enumerate(parts):
        if p["index"] != i + 1:
            fail(f"part indexes {[q['index'] for q in parts]}")
        total += p["bytes"]
        if p["total"] != total:
            fail(f"part {i + 1}: running total {p['total']}, counted {total}")
        if not p[by] or (by == "barcode" and not p[by].startswith("VOL")):
            fail(f"part {i + 1}: {by} {p[by]!r}")
    if len({p[by] for p in parts}) != len(parts):
        fail(f"two parts on one volume: {parts}")
    return total


def write_committed(d, size):
    """Slot 1 into la, then `size` random bytes written spanning, which must commit:
    (data, its sha256, the PARTs, COMMITTED)."""
    d.ok("changer", "load", "1", "--drive", "la")
    return write_committed_loaded(d, size)


def write_committed_loaded(d, size):
    data = os.urandom(size)
    parts, last = span_write(d, data)
    if last.type != pf.COMMITTED:
        fail(f"the stream was not committed: {last} {last.message}\n" + d.log_text())
    return data, hashlib.sha256(data).hexdigest(), parts, last


def case_whole(work):
    lib, spec = library(work, ["VOL001", "VOL002", "VOL003"])
    d = Daemon(work, spec)
    try:
        data, digest, parts, last = write_committed(d, 150 * MIB)
        nbytes, blocks, file_number = struct.unpack_from("<QQQ", last.body)
        if len(parts) != 2:
            fail(f"{len(parts)} PARTs before COMMITTED, not 2: {parts}")
        total = check_parts(parts) + nbytes
        if total != len(data):
            fail(f"the parts hold {total} bytes, the stream is {len(data)}")
        if len(last.body) != 64 or last.body[32:64].hex() != digest:
            fail("COMMITTED's digest is not the whole stream's")
        third = ({"VOL001", "VOL002", "VOL003"} - {p["barcode"] for p in parts}).pop()
        volumes = [(p["barcode"], p["file"], p["bytes"]) for p in parts] + [(third, file_number, nbytes)]
        # dd-style: each part's file from its image, concatenated.
        restored = b"".join(image_file(lib, b, f) or b"" for b, f, _ in volumes)
        if hashlib.sha256(restored).hexdigest() != digest:
            fail(f"the parts' files concatenated are not the stream ({len(restored)} bytes)")
        # And through the daemon: each volume loaded in turn, its file read.
        d.ok("changer", "unload", "--drive", "la")
        read_back = b""
        for barcode, f, n in volumes:
            slot = str(int(barcode[3:]))
            d.ok("changer", "load", slot, "--drive", "la")
            got = d.ok("--drive", "la", "read", "--file", str(f)).stdout
            if len(got) != n:
                fail(f"{barcode} file {f}: read {len(got)} bytes, the part has {n}")
            read_back += got
            d.ok("changer", "unload", "--drive", "la")
        if hashlib.sha256(read_back).hexdigest() != digest:
            fail("the parts read back through the daemon are not the stream")
        files = d.ok("--json", "changer", "status").stdout  # the library still answers
        if not files:
            fail("no changer status")
    finally:
        d.stop()


def case_no_scratch(work):
    lib, spec = library(work, ["VOL001", "VOL002"])
    d = Daemon(work, spec)
    try:
        d.ok("changer", "load", "1", "--drive", "la")
        data = os.urandom(150 * MIB)
        parts, last = span_write(d, data)
        if last.type != pf.STREAM_FAILED or last.status != VOLUME_FULL:
            fail(f"not STREAM_FAILED volume_full: {last}")
        if "no scratch volume" not in last.message:
            fail(f"the message does not say why: {last.message}")
        if len(parts) != 2 or last.failed()["bytes"] != 0:
            fail(f"parts {parts}, last {last.failed()}")
        total = check_parts(parts)
        restored = b"".join(image_file(lib, p["barcode"], p["file"]) for p in parts)
        if len(restored) != total or restored != data[:total]:
            fail(f"the volumes hold {len(restored)} bytes, not the stream's first {total}")
        d.ok("--drive", "la", "status")  # the drive answers after the failed stream
    finally:
        d.stop()


def case_not_blank(work):
    lib, spec = library(work, ["VOL001", "VOL002", "VOL003", "VOL004"])
    d = Daemon(work, spec)
    try:
        d.ok("changer", "load", "2", "--drive", "la")
        r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "write"],
                           input=b"precious" * 1000, capture_output=True, timeout=60)
        if r.returncode != 0:
            fail(f"the write to VOL002: {r.stderr.decode()}")
        d.ok("changer", "unload", "--drive", "la")
        with open(os.path.join(lib, "VOL002.tap"), "rb") as f:
            before = hashlib.sha256(f.read()).hexdigest()
        _, _, parts, last = write_committed(d, 150 * MIB)
        if any(p["barcode"] == "VOL002" for p in parts):
            fail(f"a part went to VOL002, which held data: {parts}")
        with open(os.path.join(lib, "VOL002.tap"), "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != before:
                fail("VOL002's image changed")
        if "no scratch volume left" in d.log_text():
            fail("ran out of volumes: " + d.log_text())
    finally:
        d.stop()


def case_write_protected(work):
    # VOL002's image may not be written (chmod a-w): its write-protect tab is set.
    lib, spec = library(work, ["VOL001", "VOL002", "VOL003", "VOL004"])
    protected = os.path.join(lib, "VOL002.tap")
    os.chmod(protected, 0o444)
    d = Daemon(work, spec)
    try:
        data, digest, parts, last = write_committed(d, 150 * MIB)
        if any(p["barcode"] == "VOL002" for p in parts):
            fail(f"a part went to VOL002, which is write protected: {parts}")
        if os.path.getsize(protected) != 0:
            fail(f"VOL002's image changed: {os.path.getsize(protected)} bytes")
        if "volume VOL002 is write protected; it goes back untouched" not in d.log_text():
            fail("the log does not say why VOL002 was passed over\n" + d.log_text())
        nbytes, _, file_number = struct.unpack_from("<QQQ", last.body)
        third = ({"VOL001", "VOL003", "VOL004"} - {p["barcode"] for p in parts}).pop()
        volumes = [(p["barcode"], p["file"]) for p in parts] + [(third, file_number)]
        restored = b"".join(image_file(lib, b, f) or b"" for b, f in volumes)
        if check_parts(parts) + nbytes != len(data) or hashlib.sha256(restored).hexdigest() != digest:
            fail(f"the parts on {volumes} are not the stream ({len(restored)} bytes)")
    finally:
        d.stop()


def case_move_fails(work):
    # Moves: 1 loads VOL001; 2 puts it back after part 1; 3 would load the next one.
    lib, spec = library(work, ["VOL001", "VOL002", "VOL003"], "&move_fails=3")
    d = Daemon(work, spec)
    try:
        d.ok("changer", "load", "1", "--drive", "la")
        data = os.urandom(80 * MIB)
        parts, last = span_write(d, data)
        if last.type != pf.STREAM_FAILED or last.status != DRIVE_ERROR:
            fail(f"not STREAM_FAILED drive_error: {last}")
        if len(parts) != 1:
            fail(f"parts {parts}")
        total = check_parts(parts)
        if image_file(lib, parts[0]["barcode"], parts[0]["file"]) != data[:total]:
            fail("part 1 is not the stream's first bytes")
        if "loading the next volume failed" not in last.message:
            fail(f"the message does not say what failed: {last.message}")
    finally:
        d.stop()


def case_medium_error(work):
    lib, spec = library(work, ["VOL001", "VOL002", "VOL003"], "&medium_error_write=250")
    d = Daemon(work, spec)
    try:
        d.ok("changer", "load", "1", "--drive", "la")
        data = os.urandom(100 * MIB)
        parts, last = span_write(d, data)
        if last.type != pf.STREAM_FAILED or last.status != 13:
            fail(f"not STREAM_FAILED medium_error: {last}")
        if len(parts) != 1:
            fail(f"parts {parts}")
        total = check_parts(parts)
        failed = last.failed()
        # Variable blocks, one WRITE each: part 2 holds the blocks before the drive's 250th WRITE.
        blocks = 250 - parts[0]["blocks"] - 1
        if failed["blocks"] != blocks or failed["bytes"] != blocks * 262144:
            fail(f"part 2 counted {failed}, expected {blocks} blocks of 256 KiB")
        second = "VOL002"  # the first full slot after VOL001's
        on_tape = image_file(lib, second, failed["file"])
        if on_tape != data[total:total + failed["bytes"]]:
            fail(f"{second} does not hold exactly part 2's counted bytes")
        if image_file(lib, parts[0]["barcode"], parts[0]["file"]) != data[:total]:
            fail("part 1 is not the stream's first bytes")
        # The CLI's restore: refused whole (part 2 failed), and with --incomplete part 1 alone.
        files = json.loads(d.ok("--drive", "la", "--json", "list").stdout)["files"]
        stream = str([f["span"]["stream"] for f in files if f["span"]][0])
        r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "read", "--stream", stream],
                           capture_output=True, timeout=120)
        if r.returncode != 74 or r.stdout or b"part 2 of stream" not in r.stderr or b"is failed" not in r.stderr:
            fail(f"read --stream: exit {r.returncode}, {len(r.stdout)} bytes: {r.stderr.decode()}")
        got = d.ok("--drive", "la", "read", "--stream", stream, "--incomplete", timeout=300)
        if got.stdout != data[:total] or b"part 2 is failed in the catalog" not in got.stderr:
            fail(f"read --stream --incomplete: {len(got.stdout)} bytes, not part 1's {total}: "
                 f"{got.stderr.decode()}")
    finally:
        d.stop()


def start_sending(d, data):
    """A spanning WRITE on la with `data` sent by a thread, no END: the connection."""
    conn = pf.Conn(d.socket, timeout=120)
    conn.send(pf.frame(pf.HELLO, pf.hello_body(FEATURE_SPAN)))
    step = min(struct.unpack_from("<I", conn.recv_frame().body, 8)[0], MIB)
    conn.send(pf.frame(pf.WRITE, pf.write_body("la", flags=pf.W_APPEND | W_SPAN), rid=2))
    if conn.recv_frame().type != pf.READY:
        fail("no READY")

    def sender():
        try:
            for at in range(0, len(data), step):
                conn.sock.sendall(pf.frame(pf.DATA, data[at:at + step], rid=2))
        except OSError:
            pass  # the daemon stopped reading, or was killed

    threading.Thread(target=sender, daemon=True).start()
    return conn


def case_stop_between_parts(work):
    """SIGTERM while the volumes change, the stop timeout passing during the robot's move: the
    client hears PART 1 and STREAM_FAILED shutting_down, no next part is written, and the daemon
    exits (before the fix of finding 1/2 of review4 a cut in such a window could be kept and
    never acted on, holding the drive and the daemon's stop forever)."""
    lib, spec = library(work, ["VOL001", "VOL002", "VOL003"], "&move_time=3000ms")
    d = Daemon(work, spec, ["--stop-timeout", "1"])
    d.ok("changer", "load", "1", "--drive", "la", timeout=60)
    data = os.urandom(70 * MIB)
    conn = start_sending(d, data)
    deadline = time.monotonic() + 60
    while "changing volumes" not in d.log_text():
        if time.monotonic() > deadline:
            fail("part 1 did not end\n" + d.log_text())
        time.sleep(0.02)
    d.proc.send_signal(signal.SIGTERM)
    frames = []
    while True:
        f = conn.recv_frame(timeout=60)
        if f is None:
            break
        frames.append(f)
        if f.type in (pf.COMMITTED, pf.STREAM_FAILED):
            break
    try:
        code = d.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        d.proc.kill()
        fail("the daemon did not stop within 30 s of SIGTERM (stop timeout 1 s)\n" + d.log_text())
    conn.close()
    types = [f.type for f in frames if f.type != pf.PROGRESS]
    if types != [PART, pf.STREAM_FAILED]:
        fail(f"the client heard {[hex(t) for t in types]}, not PART then STREAM_FAILED\n"
             + d.log_text())
    part1 = struct.unpack_from("<IIQQQQ", frames[0].body)[3]
    failed = frames[-1]
    if pf.status_name(failed.status) != "shutting_down" or "stop" not in failed.message:
        fail(f"STREAM_FAILED {failed.status} {failed.message!r}, not shutting_down")
    if code != 0:
        fail(f"the daemon exited {code}\n" + d.log_text())
    if image_file(lib, "VOL001", 0) != data[:part1]:
        fail("VOL001's file 0 is not the stream's first part")
    for other in ("VOL002", "VOL003"):
        if image_file(lib, other, 0) is not None:
            fail(f"{other} got a part although the stream was cut before it")


def case_kill(work):
    lib, spec = library(work, ["VOL001", "VOL002", "VOL003"])
    d = Daemon(work, spec)
    d.ok("changer", "load", "1", "--drive", "la")
    data = os.urandom(100 * MIB)
    conn = start_sending(d, data)
    f = conn.recv_frame(timeout=120)
    if f is None or f.type != PART:
        fail(f"no PART: {f}\n" + d.log_text())
    part1 = struct.unpack_from("<IIQQQQ", f.body)[3]
    deadline = time.monotonic() + 60
    while "part 2 of its stream goes to file" not in d.log_text():
        if time.monotonic() > deadline:
            fail("part 2 did not start\n" + d.log_text())
        time.sleep(0.05)
    time.sleep(0.3)
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(timeout=30)
    conn.close()
    os.unlink(d.socket)
    d = Daemon(work, spec)  # the restart marks what was left writing interrupted
    try:
        d.ok("--drive", "la", "status")
        import sqlite3
        db = sqlite3.connect(os.path.join(work, "state", "catalog.sqlite"))
        rows = db.execute("SELECT span_part, status, bytes, span_offset, span_stream, id FROM files "
                          "ORDER BY span_part").fetchall()
        db.close()
        if len(rows) != 2 or rows[0][:3] != (1, "complete", part1) or rows[1][:2] != (2, "interrupted"):
            fail(f"catalog rows {rows}")
        if rows[1][3] != part1 or rows[0][4] != rows[0][5] or rows[1][4] != rows[0][5]:
            fail(f"the parts do not name their stream: {rows}")
        if image_file(lib, "VOL001", 0) != data[:part1]:
            fail("VOL001 does not hold part 1 exactly")
    finally:
        d.stop()


def main():
    work = tempfile.mkdtemp(prefix="tapestream-span-")
    try:
        {"whole": case_whole, "no_scratch": case_no_scratch, "not_blank": case_not_blank,
         "write_protected": case_write_protected,
         "move_fails": case_move_fails, "kill": case_kill,
         "stop_between_parts": case_stop_between_parts,
         "medium_error": case_medium_error}[CASE](work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS", CASE)


if __name__ == "__main__":
    main()
