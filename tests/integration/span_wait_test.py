#!/usr/bin/env python3
"""Issue 15: the waits of a stream that spans volumes, against the real daemon: for a drive that
threads a cartridge the robot loaded (an emulated library's load_time=: NOT READY, BECOMING
READY), and without a library for the next cartridge from an autoloader or an operator (an
emulated drive's magazine=). span_test.py's helpers; the same DAEMON CLI CASE arguments.

Cases (argv[3]):
  slow_load  each cartridge the robot loads takes the drive 2.5 s to thread (load_time: NOT
             READY, BECOMING READY, as a real drive): the stream waits for each new volume and
             commits across three, the log saying how long each took to become ready.
  slow_load_gone  as slow_load (20 s to thread), the client leaving while the job waits for the
             second volume: the stream ends at once (no command is in flight then, and a
             connection whose client left is no longer ticked), the drive is free for the next
             client, and the daemon stops cleanly.
  magazine   no library: drive la alone, an emulated sequential autoloader (magazine=) whose
             cartridges come after each unload, 1.5 s to thread; the first one comes back first
             (it holds part 1: unloaded again untouched), then two blank ones: PART 1 and 2,
             COMMITTED for part 3, the images' files concatenated are the stream.
  magazine_empty  as magazine with one blank cartridge after the first and --volume-wait 3:
             PART 1 and 2, then STREAM_FAILED volume_full naming --volume-wait, the images
             holding exactly the parts' bytes.
Usage: span_wait_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import hashlib
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import span_test as st  # noqa: E402  (the same DAEMON CLI CASE arguments)


def load_first(d, within):
    """Slot 1 into la, then, as a script after mtx load, the drive asked until it is ready."""
    d.ok("changer", "load", "1", "--drive", "la")
    deadline = time.monotonic() + within
    while json.loads(d.ok("--json", "--drive", "la", "status").stdout).get("loaded") is not True:
        if time.monotonic() > deadline:
            st.fail("la never became ready after the load\n" + d.log_text())
        time.sleep(0.2)


def case_slow_load(work):
    lib, spec = st.library(work, ["VOL001", "VOL002", "VOL003"], "&load_time=2500ms")
    d = st.Daemon(work, spec)
    try:
        load_first(d, 30)
        data, digest, parts, last = st.write_committed_loaded(d, 150 * st.MIB)
        nbytes = struct.unpack_from("<Q", last.body)[0]
        if len(parts) != 2 or st.check_parts(parts) + nbytes != len(data):
            st.fail(f"parts {parts} and {nbytes} bytes last are not the stream's {len(data)}")
        if last.body[32:64].hex() != digest:
            st.fail("COMMITTED's digest is not the whole stream's")
        waits = [line for line in d.log_text().splitlines() if "s after the robot loaded it" in line]
        if len(waits) != 2:
            st.fail(f"{len(waits)} volumes waited for, not 2:\n" + d.log_text())
    finally:
        d.stop()


def case_slow_load_gone(work):
    lib, spec = st.library(work, ["VOL001", "VOL002", "VOL003"], "&load_time=20s")
    d = st.Daemon(work, spec)
    try:
        load_first(d, 60)
        conn = st.start_sending(d, os.urandom(70 * st.MIB))
        deadline = time.monotonic() + 60
        while "changing volumes" not in d.log_text():
            if time.monotonic() > deadline:
                st.fail("part 1 did not end\n" + d.log_text())
            time.sleep(0.02)
        time.sleep(1)  # the robot's move (0 ms) is over: the job waits for the drive to thread
        # shutdown, not close alone: the sender thread's blocked sendall keeps the socket open.
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
        gone_at = time.monotonic()
        while "the client of file 0 went away" not in d.log_text():
            if time.monotonic() - gone_at > 10:
                st.fail("the stream did not end within 10 s of its client leaving\n" + d.log_text())
            time.sleep(0.05)
        # The drive is free: another client's write is served (on the threading cartridge, once
        # it is ready, refused or not, but not left waiting for a job that never ends).
        status = json.loads(d.ok("--json", "--drive", "la", "status").stdout)
        if status.get("busy"):
            st.fail(f"la is still busy after its stream ended: {status}\n" + d.log_text())
    finally:
        d.stop()


def autoloader(work, magazine, args=(), load_time="1500ms"):
    """Drive la alone: VOL1.tap in it, `magazine` after it; no library."""
    lib = os.path.join(work, "lib")
    os.mkdir(lib)
    for name in {"VOL1"} | set(magazine):
        open(os.path.join(lib, name + ".tap"), "wb").close()
    spec = (f"la=emulated:{lib}/VOL1.tap?capacity=64M&ew=52M&load_time={load_time}"
            f"&magazine={','.join(m + '.tap' for m in magazine)}")
    return lib, st.Daemon(work, ["--drive", spec, *args])


def case_magazine(work):
    lib, d = autoloader(work, ["VOL1", "VOL2", "VOL3"])
    try:
        data = os.urandom(150 * st.MIB)
        parts, last = st.span_write(d, data)
        if last.type != st.pf.COMMITTED:
            st.fail(f"the stream was not committed: {last} {last.message}\n" + d.log_text())
        nbytes, _, file_number = struct.unpack_from("<QQQ", last.body)
        if len(parts) != 2 or st.check_parts(parts, "medium_serial") + nbytes != len(data):
            st.fail(f"parts {parts} and {nbytes} bytes last are not the stream's {len(data)}")
        if last.body[32:64].hex() != hashlib.sha256(data).hexdigest():
            st.fail("COMMITTED's digest is not the whole stream's")
        volumes = [("VOL1", parts[0]["file"]), ("VOL2", parts[1]["file"]), ("VOL3", file_number)]
        restored = b"".join(st.image_file(lib, b, f) or b"" for b, f in volumes)
        if restored != data:
            st.fail(f"VOL1, VOL2 and VOL3's files concatenated are not the stream ({len(restored)} bytes)")
        log = d.log_text()
        if log.count("is no scratch volume") != 1 or log.count("waiting up to 3600 s for the next cartridge") != 3:
            st.fail("VOL1 put back was not passed over once, or the waits were not said\n" + log)
    finally:
        d.stop()


def case_magazine_empty(work):
    lib, d = autoloader(work, ["VOL2"], ["--volume-wait", "3"])
    try:
        data = os.urandom(150 * st.MIB)
        parts, last = st.span_write(d, data)
        if last.type != st.pf.STREAM_FAILED or last.status != st.VOLUME_FULL:
            st.fail(f"not STREAM_FAILED volume_full: {last} {last.message}\n" + d.log_text())
        if "within 3 s (--volume-wait" not in last.message:
            st.fail(f"the message does not say why: {last.message}")
        if len(parts) != 2 or last.failed()["bytes"] != 0:
            st.fail(f"parts {parts}, last {last.failed()}")
        total = st.check_parts(parts, "medium_serial")
        restored = st.image_file(lib, "VOL1", parts[0]["file"]) + st.image_file(lib, "VOL2", parts[1]["file"])
        if restored != data[:total]:
            st.fail(f"the volumes hold {len(restored)} bytes, not the stream's first {total}")
    finally:
        d.stop()


def main():
    work = tempfile.mkdtemp(prefix="tapestream-span-wait-")
    try:
        {"slow_load": case_slow_load, "slow_load_gone": case_slow_load_gone,
         "magazine": case_magazine, "magazine_empty": case_magazine_empty}[st.CASE](work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS", st.CASE)


if __name__ == "__main__":
    main()
