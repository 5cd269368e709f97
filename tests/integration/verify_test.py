#!/usr/bin/env python3
"""Issue 12, items 2 and 3: reading back checked against the catalog, on a real daemon with the
emulated drive, its real image files and sha256sum. Cases:
  clean       `verify --all` and `verify --file N` of files in variable and fixed blocks (the
              fixed one padded) say ok, with sha256sum of the sources; --json; read exits 0
  damaged     one data byte flipped in the image (found from the SIMH record layout, the daemon
              stopped meanwhile): `verify --all` fails naming exactly that file and the others
              are ok; `read --file N` delivers all the data and then exits 74 with both digest
              prefixes; a read of part of it (`| head -c`) ends by SIGPIPE, not by a mismatch
  unrecorded  files the catalog does not know (written under another state directory), and one
              whose row is interrupted: verify says unrecorded and exits 0; read exits 0; a
              daemon with `--catalog none` compares nothing and refuses a rebuild
  blank       verify of a blank tape: --all checks nothing and exits 0; --file 0 exits 66
  hostile     a file beyond end of data (66), an unknown drive (64), neither or both of --file
              and --all (64), raw VERIFY frames with bad fields (bad_request), VERIFY while
              another client writes (it waits in the drive's line and then verifies the file)
  rebuild     files written, `list --json` kept, the catalog file deleted (daemon stopped),
              `catalog rebuild`: `list --json` gives the same files, sizes, blocks and digests
              (status scanned); a second rebuild marks the first one's rows superseded
  labelled    a labelled tape made of written blocks (a volume label in file 0, a data file, its
              trailer, a data file whose trailer is missing, a client's file that looks like a
              trailer of another volume): rebuild takes the label, confirms file 1 with its
              trailer's label, uid and times, lists neither label nor trailer as data, and lists
              file 3 as scanned
Usage: verify_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import re
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
import simh_reader  # noqa: E402
from protocol_frames import ERROR, connect, status_name, text  # noqa: E402

VERIFY, VERIFIED, VERIFY_DONE = 0x0008, 0x800B, 0x800C


def sha256sum(path):
    out = subprocess.run(["sha256sum", path], check=True, capture_output=True).stdout
    return out.split()[0].decode()


def emulated(case, image="emu0.tap", state="d-state", name="d"):
    # A 4 MiB pool: a stream cut short has reached the tape in part (the default pool's start
    # mark would hold these small streams back to their end).
    return case.daemon(name=name, drives=[f"emu0=emulated:{case.path(image)}"],
                       state_dir=case.path(state), args=["--pool-size", "4M"])


def verify(case, d, *args):
    return case.cli(d, ["verify", *args], timeout=120)


def verify_json(case, d, *args):
    r = case.cli(d, ["--json", "verify", *args], timeout=120)
    try:
        return r, json.loads(r.out.decode())
    except ValueError:
        return r, None


def write_three(case, d):
    """Files 0 (variable blocks), 1 (fixed blocks of 4096, the last padded), 2 (small)."""
    sources = [rs.Source(case, "zero", 3 * rs.MIB + 17, 1), rs.Source(case, "one", 300_001, 2),
               rs.Source(case, "two", 5000, 3)]
    extras = [[], rs.fixed_args(4096), []]
    for number, (source, extra) in enumerate(zip(sources, extras)):
        case.require(case.write(d, source.path, extra=extra).committed, f"file {number} written")
    return sources


def case_clean(case):
    """verify of clean files says ok with the sources' sha256sum; read exits 0"""
    d = emulated(case)
    sources = write_three(case, d)
    r, report = verify_json(case, d, "--all")
    case.require(r.rc == 0 and report is not None, f"verify --all --json exits 0 with JSON: {r} {r.out!r}")
    files = report["files"]
    case.check([f["file"] for f in files] == [0, 1, 2] and report["checked"] == 3 and
               report["ok"] == 3 and report["bad"] == 0 and report["end_of_data"],
               f"three files checked, all ok, end of data reached: {report}")
    for f, source in zip(files, sources):
        expected = sha256sum(source.path)
        case.check(f["verdict"] == "ok" and f["sha256"] == expected and
                   f["catalog"]["sha256"] == expected and f["catalog"]["status"] == "complete",
                   f"file {f['file']}: ok, read back sha256 {f['sha256']}, sha256sum of the "
                   f"source {expected}")
    case.check(files[1]["bytes"] == len(rs.padded(sources[1].data, 4096)) and
               files[1]["bytes"] == files[1]["catalog"]["bytes"],
               f"the fixed file reads back with its padding, as the catalog counts it: {files[1]}")
    text_run = verify(case, d, "--all")
    case.check(text_run.rc == 0 and text_run.out.decode().count(": ok,") == 3 and
               "verified 3 files: 3 ok, 0 unrecorded, 0 bad; end of data reached" in text_run.out.decode(),
               f"verify --all in text: {text_run.out!r}")
    one = verify(case, d, "--file", "1")
    case.check(one.rc == 0 and one.out.decode().startswith("file 1: ok, ") and
               "verified 1 file: 1 ok" in one.out.decode(), f"verify --file 1: {one.out!r} {one}")
    for number, source in enumerate(sources):
        r, data = case.read_back(d, number)
        case.check(r.rc == 0 and data == rs.padded(source.data, 4096 if number == 1 else None),
                   f"read --file {number} exits 0 with the data: {r}")


def flip_byte_in_file(image_path, file_number, at_fraction=0.5):
    """Flips one data byte of `file_number` in the image (a data byte, never a length word:
    the SIMH record is a 4-byte length, the data, the length again); returns its offset."""
    with open(image_path, "rb") as f:
        image = f.read()
    current, blocks = 0, []
    for kind, data, at in simh_reader.located(image):
        if kind == "mark":
            current += 1
            continue
        if current == file_number:
            blocks.append((at, len(data)))
    if not blocks:
        raise rs.Stop(f"file {file_number} has no blocks in {image_path}")
    at, length = blocks[int(len(blocks) * at_fraction) % len(blocks)]
    offset = at + 4 + length // 2
    with open(image_path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ 0x01]))
    return offset


def case_damaged(case):
    """one byte flipped in file 1: verify names exactly file 1; read fails after the data"""
    d = emulated(case)
    sources = [rs.Source(case, f"file{n}", size, 10 + n)
               for n, size in enumerate((2 * rs.MIB + 5, 3 * rs.MIB + 333, 70_000))]
    for number, source in enumerate(sources):
        case.require(case.write(d, source.path).committed, f"file {number} written")
    case.require(d.stop() == 0, "the daemon stops")
    offset = flip_byte_in_file(case.path("emu0.tap"), 1)
    case.note(f"flipped the byte at offset {offset} of the image (file 1)")
    d = emulated(case, name="again")
    r, report = verify_json(case, d, "--all")
    case.check(r.rc == 74 and report is not None, f"verify --all exits 74: {r}")
    if report is not None:
        verdicts = {f["file"]: f["verdict"] for f in report["files"]}
        case.check(verdicts == {0: "ok", 1: "mismatch", 2: "ok"} and report["bad"] == 1,
                   f"only file 1 is bad: {verdicts}")
    bad_lines = [line for line in r.err.splitlines() if "is bad" in line]
    case.check(len(bad_lines) == 1 and bad_lines[0].startswith("tapestream: file 1 is bad (mismatch)") and
               "files did not read back as written: file 1" in r.err,
               f"stderr names file 1 and no other: {r.err!r}")
    written = sha256sum(sources[1].path)
    out = case.path("read-1")
    r = case.cli(d, ["read", "--file", "1"], stdout_path=out, timeout=120)
    with open(out, "rb") as f:
        got = f.read()
    read_digest = sha256sum(out)
    case.check(len(got) == len(sources[1].data) and got != sources[1].data and
               sum(a != b for a, b in zip(got, sources[1].data)) == 1,
               f"read --file 1 delivers all {len(got)} bytes, one of them the flipped one")
    message = re.search(r"file 1: read back sha256 ([0-9a-f]{12})\u2026, written ([0-9a-f]{12})\u2026; "
                        r"the tape's copy is damaged", r.err)
    case.check(r.rc == 74 and message is not None and message[1] == read_digest[:12] and
               message[2] == written[:12],
               f"read --file 1 exits 74 naming both digest prefixes (read {read_digest[:12]}, "
               f"written {written[:12]}): {r}")
    for number in (0, 2):
        r, data = case.read_back(d, number)
        case.check(r.rc == 0 and data == sources[number].data, f"read --file {number} still exits 0: {r}")
        one = verify(case, d, "--file", str(number))
        case.check(one.rc == 0, f"verify --file {number} is ok: {one}")
    one = verify(case, d, "--file", "1")
    case.check(one.rc == 74 and "file 1: mismatch: file 1: read back sha256" in one.out.decode(),
               f"verify --file 1 exits 74: {one.out!r} {one}")
    # Part of the damaged file: no comparison, so no mismatch; the reader's going ends it.
    p = subprocess.run(f"'{case.cli_bin}' --socket '{d.socket}' read --file 1 | head -c 100000 >/dev/null; "
                       "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                       capture_output=True, timeout=120)
    case.check(p.stdout.strip() == b"141" and b"damaged" not in p.stderr,
               f"a read of part of file 1 ends by SIGPIPE (141), no mismatch: {p.stdout!r} {p.stderr!r}")


def case_unrecorded(case):
    """files without a complete row: verify says unrecorded and exits 0; read exits 0"""
    first = emulated(case, state="first-state", name="first")
    a = rs.Source(case, "a", 1 * rs.MIB + 1, 31)
    case.require(case.write(first, a.path).committed, "file 0 written under the first state directory")
    case.require(first.stop() == 0, "the first daemon stops")
    d = emulated(case, state="second-state", name="second")
    b = rs.Source(case, "b", 400_000, 32)
    case.require(case.write(d, b.path).committed, "file 1 written under the second")
    c = rs.Source(case, "c", 2 * rs.MIB + 300_000, 33)
    short = case.write(d, c.path, extra=["--size", str(len(c.data) + 1)])
    case.require(short.rc == 65, f"file 2 is not committed (--size one byte more): {short}")
    case.note(f"the short write: {short}")
    r, report = verify_json(case, d, "--all")
    case.require(report is not None, f"verify --all --json: {r}")
    verdicts = {f["file"]: (f["verdict"], (f["catalog"] or {}).get("status")) for f in report["files"]}
    case.check(r.rc == 0 and verdicts == {0: ("unrecorded", None), 1: ("ok", "complete"),
                                          2: ("unrecorded", "interrupted")},
               f"file 0 unrecorded (no row), 1 ok, 2 unrecorded (interrupted row), exit 0: {verdicts} {r}")
    case.check(report["files"][0]["sha256"] == sha256sum(a.path),
               "an unrecorded file's digest is still given (sha256sum of its source)")
    r, got = case.read_back(d, 0)
    case.check(r.rc == 0 and got == a.data, f"read --file 0 (no row) exits 0: {r}")
    r, got = case.read_back(d, 2)  # what of the cut stream reached the tape
    case.check(r.rc == 0 and got and rs.prefix_problem(got, c.data) is None,
               f"read --file 2 (an interrupted row) exits 0: {r}")
    # A daemon that keeps no catalog compares nothing: every file is unrecorded, and a rebuild
    # is refused (there is nowhere to record it).
    case.require(d.stop() == 0, "the daemon stops")
    bare = case.daemon(name="bare", drives=[f"emu0=emulated:{case.path('emu0.tap')}"],
                       state_dir=case.path("bare-state"), args=["--catalog", "none"])
    r, report = verify_json(case, bare, "--all")
    case.check(r.rc == 0 and report is not None and report["unrecorded"] == 3 and report["checked"] == 3,
               f"without a catalog every file is unrecorded, exit 0: {r}")
    r = case.cli(bare, ["catalog", "rebuild"])
    case.check(r.rc == 70 and "keeps no catalog" in r.err, f"catalog rebuild without a catalog: {r}")
    r, got = case.read_back(bare, 1)
    case.check(r.rc == 0 and got == b.data, f"read --file 1 without a catalog exits 0: {r}")


def case_blank(case):
    """a blank tape: verify --all checks nothing and exits 0, --file 0 exits 66"""
    d = emulated(case)
    r = verify(case, d, "--all")
    case.check(r.rc == 0 and "verified 0 files" in r.out.decode(), f"verify --all of a blank tape: {r} {r.out!r}")
    r = verify(case, d, "--file", "0")
    case.check(r.rc == 66, f"verify --file 0 of a blank tape exits 66 (end of data): {r}")


def raw_verify(d, flags, file_number, drive="emu0"):
    with connect(d.socket) as c:
        return c.request(VERIFY, struct.pack("<IIQ", flags, 0, file_number) + text(drive), timeout=30)


def case_hostile(case):
    """bad files, drives, options and frames; VERIFY while another client writes"""
    d = emulated(case)
    source = rs.Source(case, "x", 200_000, 41)
    case.require(case.write(d, source.path).committed, "file 0 written")
    r = verify(case, d, "--file", "5")
    case.check(r.rc == 66 and "there is no file 5" in r.err, f"a file beyond end of data: {r}")
    r = case.cli(d, ["--drive", "nosuch", "verify", "--all"])
    case.check(r.rc == 64, f"an unknown drive: {r}")
    for args in ([], ["--all", "--file", "0"], ["--file", "-1"]):
        r = verify(case, d, *args)
        case.check(r.rc == 64, f"verify {' '.join(args)}: usage error: {r}")
    for flags, number, what in ((1, 3, "--all with a file number"), (0x100, 0, "an unknown flag"),
                                (0, 2**64 - 1, "the current file")):
        f = raw_verify(d, flags, number)
        case.check(f is not None and f.type == ERROR and status_name(struct.unpack_from("<H", f.body)[0]) == "bad_request",
                   f"a raw VERIFY with {what} is bad_request: {f}")
    f = raw_verify(d, 0, 0)
    case.check(f is not None and f.type == VERIFIED and struct.unpack_from("<Q", f.body)[0] == 0 and
               f.body[40] == 1, f"a raw VERIFY of file 0: VERIFIED, verdict ok: {f}")
    # A slow writer holds the drive: the verify waits in line, then sees its file too.
    slow = subprocess.Popen(f"(head -c 100000 '{source.path}'; sleep 2; tail -c +100001 '{source.path}') | "
                            f"'{case.cli_bin}' --socket '{d.socket}' write", shell=True,
                            stderr=subprocess.PIPE, start_new_session=True)
    case.require(rs.wait_until(lambda: d.status()["busy"], 10), "the writer holds the drive")
    started = time.monotonic()
    r = verify(case, d, "--all")
    slow.wait(60)
    case.check(slow.returncode == 0, f"the writer committed: {slow.returncode}")
    case.check(r.rc == 0 and "verified 2 files: 2 ok" in r.out.decode() and time.monotonic() - started > 1,
               f"VERIFY while another client writes waits, then verifies both files: {r.out!r} {r}")
    case.require(case.cli(d, ["eject"]).rc == 0, "the cartridge is ejected")
    for args in (["verify", "--all"], ["verify", "--file", "0"], ["catalog", "rebuild"]):
        r = case.cli(d, args)
        case.check(r.rc == 66 and ("no_medium" in r.err or "no medium" in r.err.lower()),
                   f"{' '.join(args)} without a cartridge exits 66: {r}")


def listed(case, d):
    r = case.cli(d, ["--json", "list"])
    if r.rc != 0:
        raise rs.Stop(f"list --json: {r}")
    return json.loads(r.out.decode())


def comparable(files):
    return [(f["file"], f["bytes"], f["blocks"], f["sha256"]) for f in files]


def case_rebuild(case):
    """the catalog deleted: rebuild gives back the same files, sizes, blocks and digests"""
    d = emulated(case)
    sources = [rs.Source(case, f"r{n}", size, 50 + n)
               for n, size in enumerate((3 * rs.MIB + 9, 100, 700_001, 1))]
    for number, source in enumerate(sources):
        case.require(case.write(d, source.path).committed, f"file {number} written")
    before = listed(case, d)
    case.check(comparable(before["files"]) ==
               [(n, len(s.data), rs.blocks_of(len(s.data)), sha256sum(s.path)) for n, s in enumerate(sources)],
               "list --json before: the sources' sizes, blocks and sha256sum")
    case.require(d.stop() == 0, "the daemon stops")
    for name in os.listdir(case.path("d-state")):
        if name.startswith("catalog.sqlite"):
            os.unlink(case.path("d-state", name))
    d = emulated(case, name="again")
    r = case.cli(d, ["list"])
    case.check(r.rc == 66, f"with the catalog gone, list knows no volume: {r}")
    r = case.cli(d, ["--json", "catalog", "rebuild"], timeout=120)
    case.require(r.rc == 0, f"catalog rebuild exits 0: {r}")
    answer = json.loads(r.out.decode())
    case.check(answer["files"] == 4 and answer["data_files"] == 4 and answer["confirmed"] == 0 and
               not answer["labelled"] and answer["volume"]["medium_serial"] == before["volume"]["medium_serial"],
               f"rebuild found 4 data files on the volume {before['volume']['medium_serial']}: {answer}")
    after = listed(case, d)
    case.check(comparable(after["files"]) == comparable(before["files"]) and
               all(f["status"] == "scanned" for f in after["files"]) and
               after["volume"]["medium_serial"] == before["volume"]["medium_serial"],
               f"list --json after the rebuild: the same files, sizes, blocks, digests, status "
               f"scanned: {comparable(after['files'])}")
    r = case.cli(d, ["catalog", "rebuild"], timeout=120)
    again = listed(case, d)
    statuses = [(f["file"], f["status"]) for f in again["files"]]
    case.check(r.rc == 0 and sorted(statuses) == sorted([(n, s) for n in range(4) for s in ("scanned", "superseded")]),
               f"a second rebuild keeps the first one's rows, marked superseded: {statuses}")
    r = verify(case, d, "--all")
    case.check(r.rc == 0 and "verified 4 files: 4 ok" in r.out.decode(),
               f"verify --all checks against the scanned rows: {r.out!r}")


def case_labelled_rebuild(case):
    """a tape labelled and written by the daemon, its catalog deleted: rebuild gives back the
    same files (names, owners, digests, complete) under the same one volume, found by its label"""
    d = emulated(case)
    r = case.cli(d, ["label", "WEEKLY-9"])
    case.require(r.rc == 0, f"label WEEKLY-9: {r}")
    sources = [rs.Source(case, f"w{n}", size, 70 + n) for n, size in enumerate((1 * rs.MIB + 5, 4000))]
    for n, source in enumerate(sources):
        r = case.write(d, source.path, extra=["--label", f"part {n}"])
        case.require(r.committed and r.reported[2] == 2 * n + 1, f"stream {n} committed as file {2 * n + 1}: {r}")
    before = listed(case, d)
    case.require(d.stop() == 0, "the daemon stops")
    for name in os.listdir(case.path("d-state")):
        if name.startswith("catalog.sqlite"):
            os.unlink(case.path("d-state", name))
    d = emulated(case, name="again")
    r = case.cli(d, ["catalog", "rebuild"], timeout=120)
    case.require(r.rc == 0, f"catalog rebuild exits 0: {r}")
    r = case.cli(d, ["--json", "list", "--volume", "WEEKLY-9"])
    case.require(r.rc == 0, f"list --volume WEEKLY-9 finds the rebuilt volume: {r}")
    after = json.loads(r.out.decode())
    keys = ("file", "bytes", "blocks", "sha256", "label", "client_uid", "status")
    case.check([tuple(f[k] for k in keys) for f in after["files"]] ==
               [tuple(f[k] for k in keys) for f in before["files"]],
               f"the same files, labels, owners, digests and statuses: {after['files']}")
    case.check(after["volume"]["uuid"] == before["volume"]["uuid"], "the same volume uuid")
    # A write after the rebuild lands on the same volume row, not on a second one.
    extra = rs.Source(case, "w2", 3000, 79)
    case.require(case.write(d, extra.path).committed, "a write after the rebuild")
    r = case.cli(d, ["--json", "list", "--volume", before["volume"]["uuid"]])
    numbers = [f["file"] for f in json.loads(r.out.decode())["files"]]
    case.check(numbers == [1, 3, 5], f"one volume holds all three files: {numbers}")


def label_block(obj):
    return (json.dumps(obj) + "\n").encode()


def case_labelled(case):
    """a labelled tape: rebuild takes the label, trailers confirm their files"""
    d = emulated(case)
    uuid = "0b8f5a0c-1d2e-4f3a-8b4c-5d6e7f8a9b0c"
    data1 = rs.Source(case, "l1", 600_000, 61)
    data3 = rs.Source(case, "l3", 2 * rs.MIB, 63)
    blocks = [
        label_block({"tapestream": "volume", "format": 1, "label": "OFFSITE-7", "uuid": uuid,
                     "created": "2026-11-30T10:00:00Z", "writer": "test"}),
        None,  # file 1: data1
        label_block({"tapestream": "file", "format": 1, "volume": uuid, "file": 1, "label": "etc backup",
                     "bytes": len(data1.data), "blocks": rs.blocks_of(len(data1.data)),
                     "block_size": rs.BLOCK, "mode": "variable", "padding": 0,
                     "sha256": sha256sum(data1.path), "started": "2026-11-30T10:01:00Z",
                     "ended": "2026-11-30T10:02:00Z", "uid": 1234, "status": "complete"}),
        None,  # file 3: data3, its trailer missing
        label_block({"tapestream": "file", "format": 1, "volume": "11111111-2222-4333-8444-555555555555",
                     "file": 3, "label": "not ours", "bytes": len(data3.data),
                     "blocks": rs.blocks_of(len(data3.data)), "block_size": rs.BLOCK, "mode": "variable",
                     "padding": 0, "sha256": sha256sum(data3.path), "started": "2026-11-30T10:01:00Z",
                     "ended": "2026-11-30T10:02:00Z", "uid": 1, "status": "complete"}),
    ]
    for number, block in enumerate(blocks):
        if block is None:
            source = (data1 if number == 1 else data3).path
        else:
            source = case.path(f"block-{number}")
            with open(source, "wb") as f:
                f.write(block)
        case.require(case.write(d, source).committed, f"file {number} written")
    r = case.cli(d, ["--json", "catalog", "rebuild"], timeout=120)
    case.require(r.rc == 0, f"catalog rebuild exits 0: {r}")
    answer = json.loads(r.out.decode())
    case.check(answer["labelled"] and answer["volume"]["label"] == "OFFSITE-7" and
               answer["volume"]["uuid"] == uuid and answer["files"] == 5 and
               answer["data_files"] == 3 and answer["confirmed"] == 1,
               f"5 files on the tape: a volume label, 3 data files, 1 confirmed: {answer}")
    files = [f for f in listed(case, d)["files"] if f["status"] != "superseded"]
    by_number = {f["file"]: f for f in files}
    case.check(sorted(by_number) == [1, 3, 4], f"neither the label (0) nor the trailer (2) is data: {sorted(by_number)}")
    one = by_number.get(1, {})
    case.check(one.get("status") == "complete" and one.get("label") == "etc backup" and
               one.get("client_uid") == 1234 and one.get("sha256") == sha256sum(data1.path) and
               one.get("start_ms") == 1796032860000,
               f"file 1 is complete, with its trailer's label, uid, start and digest: {one}")
    three = by_number.get(3, {})
    case.check(three.get("status") == "scanned" and three.get("sha256") == sha256sum(data3.path),
               f"file 3 (its trailer missing) is scanned, with the scan's digest: {three}")
    four = by_number.get(4, {})
    case.check(four.get("status") == "scanned" and four.get("blocks") == 1,
               f"file 4 (a trailer of another volume) is data, scanned: {four}")
    volume = listed(case, d)["volume"]
    case.check(volume["label"] == "OFFSITE-7" and volume["uuid"] == uuid,
               f"the catalog's volume takes the tape's label and uuid: {volume}")


CASES = {"clean": case_clean, "damaged": case_damaged, "unrecorded": case_unrecorded,
         "blank": case_blank, "hostile": case_hostile, "rebuild": case_rebuild,
         "labelled": case_labelled, "labelled_rebuild": case_labelled_rebuild}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
