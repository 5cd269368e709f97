#!/usr/bin/env python3
"""Issue 15, what span_test.py left to the CLI: `tapestream write --span` against the real daemon
serving an emulated library of 64 MiB tapes (early warning at 52 MiB), through libtapestream's
PART callback.

Cases (argv[3]):
  write       a 150 MiB random file as standard input (fd passing), --json: one stderr line per
              committed part (2), exit 0, the JSON's parts and stream_bytes add up to the file,
              and each part's file read from its image, concatenated, has the file's sha256.
  read        the same stream read back whole by `read --stream S` and `read --span --file N`
              (the library loads each part's cartridge in turn), identical (sha256); with the
              barcodes of two cartridges swapped, refused on the medium serial (exit 74, 0
              bytes).
  cleaning    a cleaning cartridge (CLN001) in the library is never a scratch volume.
  no_scratch  two cartridges, 150 MiB through the socket (--data-path stream, from a pipe): exit
              73 (volume_full), the message names no scratch volume and counts the bytes of
              both committed parts exactly, which are the stream's first bytes on the images;
              `read --stream S` of it is refused (exit 65, nothing given: no part is marked
              the last), `--incomplete` gives exactly the committed bytes.
  operator    no library: drive la alone with an emulated sequential autoloader (magazine=, as
              an operator would put cartridges in; 3 s to thread), data from a pipe: `write
              --span` says after each part that the stream goes on once a blank cartridge is
              in, while the next part has not begun (the CLI hears PART though the daemon
              reads nothing meanwhile), names each part's volume by its medium serial, exits
              0, and the images' files concatenated are the input.
Usage: span_cli_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import span_test as st  # noqa: E402  (the same DAEMON CLI CASE arguments)
import span_wait_test as sw  # noqa: E402

DAEMON, CLI, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
MIB = st.MIB
PART_LINE = re.compile(r"tapestream: part (\d+) committed: (\d+) bytes in (\d+) blocks as file "
                       r"(\d+) on (VOL\d+) \(medium serial (\w+)\); (\d+) bytes of the stream so far")


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def part_lines(stderr):
    return [{"index": int(m[1]), "bytes": int(m[2]), "blocks": int(m[3]), "file": int(m[4]),
             "barcode": m[5], "serial": m[6], "total": int(m[7])}
            for m in PART_LINE.finditer(stderr)]


def case_write(work):
    lib, spec = st.library(work, ["VOL001", "VOL002", "VOL003"])
    d = st.Daemon(work, spec)
    try:
        d.ok("changer", "load", "1", "--drive", "la")
        data = os.urandom(150 * MIB)
        source = os.path.join(work, "input.bin")
        with open(source, "wb") as f:
            f.write(data)
        with open(source, "rb") as f:
            r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "--json", "write",
                                "--span"], stdin=f, capture_output=True, timeout=300)
        stderr = r.stderr.decode()
        if r.returncode != 0:
            fail(f"exit {r.returncode}: {stderr}\n" + d.log_text())
        parts = part_lines(stderr)
        if len(parts) != 2:
            fail(f"{len(parts)} part lines on stderr, not 2: {stderr}")
        st.check_parts(parts)
        summary = json.loads(r.stdout.decode())
        if summary["stream_bytes"] != len(data):
            fail(f"stream_bytes {summary['stream_bytes']}, the file has {len(data)}")
        if [(p["index"], p["bytes"], p["file"], p["barcode"]) for p in summary["parts"]] != \
                [(p["index"], p["bytes"], p["file"], p["barcode"]) for p in parts]:
            fail(f"the JSON's parts {summary['parts']} are not stderr's {parts}")
        if parts[-1]["total"] + summary["bytes"] != len(data):
            fail(f"the parts and the last part's {summary['bytes']} bytes are not the file")
        digest = hashlib.sha256(data).hexdigest()
        if summary["sha256"] != digest:
            fail("the summary's sha256 is not the file's")
        third = ({"VOL001", "VOL002", "VOL003"} - {p["barcode"] for p in parts}).pop()
        volumes = [(p["barcode"], p["file"]) for p in parts] + [(third, summary["file"])]
        restored = b"".join(st.image_file(lib, b, f) or b"" for b, f in volumes)
        if hashlib.sha256(restored).hexdigest() != digest:
            fail(f"the parts concatenated ({len(restored)} bytes) are not the file")
        check_listed_spans(d, parts, summary)
    finally:
        d.stop()


def check_listed_spans(d, parts, summary):
    """`tapestream list --json` of each volume: every part names the same stream, its index and
    its offset in the stream (FILE_LIST's span fields, feature span_list); the text lists say it
    too."""
    listed = []
    for p in parts + [None]:
        volume = ["--volume", p["serial"]] if p else []  # the last: the cartridge in the drive
        files = json.loads(d.ok("--drive", "la", "--json", "list", *volume).stdout)["files"]
        spans = [f["span"] for f in files if f["span"] is not None]
        if len(spans) != 1:
            fail(f"{volume}: span fields {spans}, not one part")
        listed.append(spans[0])
        text = d.ok("--drive", "la", "list", *volume).stdout.decode()
        last = ", the last" if p is None else ""
        if f"[stream {spans[0]['stream']} part {spans[0]['part']} from byte {spans[0]['offset']}{last}]" \
                not in text:
            fail(f"the text list does not show the part: {text}")
    offsets = [0] + [p["total"] for p in parts]
    if [s["part"] for s in listed] != [1, 2, 3] or [s["offset"] for s in listed] != offsets:
        fail(f"listed parts {listed}, offsets should be {offsets}")
    if len({s["stream"] for s in listed}) != 1:
        fail(f"the parts name different streams: {listed}")
    if [s["last"] for s in listed] != [False, False, True]:
        fail(f"only the part the stream committed with is marked the last: {listed}")
    if offsets[-1] + summary["bytes"] != summary["stream_bytes"]:
        fail("the last part's offset and bytes are not the stream")


def case_read(work):
    """Issue 15 item 3: the 150 MiB stream written with --span comes back whole through
    `tapestream read --stream S` (every cartridge loaded in turn by the library) and through
    `read --span --file N` naming a part, identical (sha256); an unknown stream is exit 66 with
    nothing given."""
    lib, spec = st.library(work, ["VOL001", "VOL002", "VOL003", "VOL004"])
    d = st.Daemon(work, spec)
    try:
        # review5 #6: a spanning stream that commits in its first part is found by its
        # cartridge's barcode too (no swap ever named it). On VOL004, which the big stream then
        # passes over as no scratch volume.
        d.ok("changer", "load", "4", "--drive", "la")
        small = os.urandom(20 * MIB + 3)
        d.ok("--drive", "la", "write", "--span", input=small)
        files = json.loads(d.ok("--drive", "la", "--json", "list").stdout)["files"]
        one = [f["span"] for f in files if f["span"]]
        if len(one) != 1 or not one[0]["last"]:
            fail(f"the one-part stream's span fields: {one}")
        got = d.ok("--drive", "la", "read", "--stream", str(one[0]["stream"]), timeout=300)
        if got.stdout != small or b"in 1 part\n" not in got.stderr:
            fail(f"read --stream of a one-part stream: {len(got.stdout)} bytes: {got.stderr.decode()}")
        d.ok("changer", "unload", "--drive", "la")
        d.ok("changer", "load", "1", "--drive", "la")
        data = os.urandom(150 * MIB)
        r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "--json", "write", "--span"],
                           input=data, capture_output=True, timeout=300)
        if r.returncode != 0:
            fail(f"write --span: exit {r.returncode}: {r.stderr.decode()}")
        summary = json.loads(r.stdout.decode())
        files = json.loads(d.ok("--drive", "la", "--json", "list").stdout)["files"]
        stream = [f["span"]["stream"] for f in files if f["span"]][0]
        digest = hashlib.sha256(data).hexdigest()
        # The drive holds the last part's cartridge: the read goes back to the first.
        for how in (["--stream", str(stream)], ["--span", "--file", str(summary["file"])],
                    ["--stream", str(stream), "--data-path", "stream"]):
            got = d.ok("--drive", "la", "read", *how, timeout=300)
            if hashlib.sha256(got.stdout).hexdigest() != digest:
                fail(f"read {how}: {len(got.stdout)} bytes, not the stream: {got.stderr.decode()}")
            err = got.stderr.decode()
            if f"read {len(data)} bytes of stream {stream} in 3 parts" not in err:
                fail(f"read {how}: the summary is missing: {err}")
        r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "read", "--stream", "999"],
                           capture_output=True, timeout=120)
        if r.returncode != 66 or r.stdout or b"no cartridge of the library holds a part" not in r.stderr:
            fail(f"read of an unknown stream: exit {r.returncode}, {len(r.stdout)} bytes, "
                 f"{r.stderr.decode()}")
        # review5 #5: barcode labels swapped between two cartridges (their images, which carry
        # their medium serial numbers, trade names): the drive's serial number exposes it before
        # a byte of the wrong tape is given.
        one, two = (os.path.join(lib, f"VOL00{n}.tap") for n in (1, 2))
        os.rename(one, one + ".swap")
        os.rename(two, one)
        os.rename(one + ".swap", two)
        r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "read", "--stream", str(stream)],
                           capture_output=True, timeout=300)
        said = r.stderr.decode()
        if r.returncode != 74 or r.stdout or "wrong cartridge" not in said or \
                "0 bytes of the stream were restored" not in said:
            fail(f"read with swapped labels: exit {r.returncode}, {len(r.stdout)} bytes, {said}")
    finally:
        d.stop()


def case_cleaning(work):
    """Issue 15 item 4: a cleaning cartridge (CLN001, a blank image in slot 1) is never taken as
    a scratch volume: the stream starts on VOL001 (slot 2) and goes on on VOL002 and VOL003, and
    CLN001's image stays empty."""
    lib, spec = st.library(work, ["CLN001", "VOL001", "VOL002", "VOL003"])
    d = st.Daemon(work, spec)
    try:
        d.ok("changer", "load", "2", "--drive", "la")
        data = os.urandom(150 * MIB)
        r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "write", "--span"],
                           input=data, capture_output=True, timeout=300)
        stderr = r.stderr.decode()
        if r.returncode != 0:
            fail(f"write --span: exit {r.returncode}: {stderr}\n" + d.log_text())
        parts = part_lines(stderr)
        if [p["barcode"] for p in parts] != ["VOL001", "VOL002"]:
            fail(f"the parts went to {[p['barcode'] for p in parts]}, not VOL001 and VOL002")
        if os.path.getsize(os.path.join(lib, "CLN001.tap")) != 0:
            fail("the cleaning cartridge's image was written")
    finally:
        d.stop()


def case_no_scratch(work):
    lib, spec = st.library(work, ["VOL001", "VOL002"])
    d = st.Daemon(work, spec)
    try:
        d.ok("changer", "load", "1", "--drive", "la")
        data = os.urandom(150 * MIB)
        r = subprocess.run(f"cat | {CLI} --socket {d.socket} --drive la write --span "
                           "--data-path stream", shell=True, input=data, capture_output=True,
                           timeout=300)
        stderr = r.stderr.decode()
        if r.returncode != 73:
            fail(f"exit {r.returncode}, not 73 (volume_full): {stderr}\n" + d.log_text())
        parts = part_lines(stderr)
        if len(parts) != 2:
            fail(f"{len(parts)} part lines, not 2: {stderr}")
        total = st.check_parts(parts)
        if "no scratch volume" not in stderr:
            fail(f"the message does not say why: {stderr}")
        expected = (f"{total} bytes of the stream are committed in 2 parts ({parts[0]['bytes']} "
                    f"bytes as file {parts[0]['file']} on {parts[0]['barcode']}, "
                    f"{parts[1]['bytes']} bytes as file {parts[1]['file']} on {parts[1]['barcode']})")
        if expected not in stderr:
            fail(f"the message does not count every volume: {stderr!r}, wanted {expected!r}")
        if "of the part that failed, 0 bytes of the stream (0 blocks) are on the volume" not in stderr:
            fail(f"the failed part's count is missing: {stderr}")
        restored = b"".join(st.image_file(lib, p["barcode"], p["file"]) for p in parts)
        if restored != data[:total]:
            fail(f"the volumes hold {len(restored)} bytes, not the stream's first {total}")
        # review5 #2: its two complete parts are not the stream. Refused before a byte is given,
        # unless --incomplete asks for what there is.
        files = json.loads(d.ok("--drive", "la", "--json", "list", "--volume",
                                parts[0]["serial"]).stdout)["files"]
        spans = [f["span"] for f in files if f["span"]]
        if len(spans) != 1 or spans[0]["last"]:
            fail(f"the failed stream's first part: {spans}")
        stream = str(spans[0]["stream"])
        r = subprocess.run([CLI, "--socket", d.socket, "--drive", "la", "read", "--stream", stream],
                           capture_output=True, timeout=120)
        said = r.stderr.decode()
        if r.returncode != 65 or r.stdout or "not known to be whole" not in said or \
                f"its 2 parts in the library ({total} bytes)" not in said:
            fail(f"read --stream of the failed stream: exit {r.returncode}, {len(r.stdout)} bytes, {said}")
        got = d.ok("--drive", "la", "read", "--stream", stream, "--incomplete", timeout=300)
        if got.stdout != data[:total] or b"not known to be whole" not in got.stderr:
            fail(f"read --stream --incomplete: {len(got.stdout)} bytes, not the {total} committed: "
                 f"{got.stderr.decode()}")
    finally:
        d.stop()


def case_operator(work):
    lib, d = sw.autoloader(work, ["VOL2", "VOL3"], load_time="3s")
    try:
        data = os.urandom(150 * MIB)
        # Through a pipe (the CLI splices it into the socket), as `tar c | tapestream write`.
        w = subprocess.Popen([CLI, "--socket", d.socket, "--drive", "la", "--json", "write",
                              "--span"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        feeder = threading.Thread(target=lambda: (w.stdin.write(data), w.stdin.close()), daemon=True)
        feeder.start()
        # The request reaches the operator while the drive is empty or threading, not once the
        # next part has begun (the CLI is blocked sending then: the daemon reads nothing).
        first = w.stderr.readline().decode()
        asked = w.stderr.readline().decode()
        log = d.log_text()
        if "part 1 committed" not in first or "blank cartridge" not in asked:
            fail(f"not the part's line and the request: {first!r} {asked!r}")
        if "part 2 of its stream goes to" in log:
            fail("the request came only after the next part began\n" + log)
        out, rest = w.communicate(timeout=300)
        feeder.join(timeout=10)
        stderr = first + asked + rest.decode()
        r = subprocess.CompletedProcess(w.args, w.returncode, out, stderr.encode())
        if r.returncode != 0:
            fail(f"exit {r.returncode}: {stderr}\n" + d.log_text())
        serials = re.findall(r"tapestream: part \d committed: \d+ bytes in \d+ blocks as file 0 on "
                             r"the volume of medium serial (\S+);", stderr)
        asks = stderr.count("the stream goes on when a blank cartridge is in the drive")
        if len(serials) != 2 or len(set(serials)) != 2 or asks != 2:
            fail(f"not two parts on two volumes, each followed by the request: {stderr}")
        summary = json.loads(r.stdout.decode())
        restored = b"".join(st.image_file(lib, v, 0) for v in ("VOL1", "VOL2", "VOL3"))
        if summary["stream_bytes"] != len(data) or restored != data:
            fail(f"stream_bytes {summary['stream_bytes']}, images {len(restored)} bytes: not the input")
    finally:
        d.stop()


def main():
    work = tempfile.mkdtemp(prefix="tapestream-span-cli-")
    try:
        {"write": case_write, "no_scratch": case_no_scratch, "read": case_read,
         "cleaning": case_cleaning, "operator": case_operator}[CASE](work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS", CASE)


if __name__ == "__main__":
    main()
