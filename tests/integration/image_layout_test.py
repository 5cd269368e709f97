#!/usr/bin/env python3
"""Issue 13, item 6: the emulated drive's two image layouts on a real daemon. Cases:
  mtdump      a tape written through the daemon with layout=packed is read by Debian's SIMH
              `mtdump` (package simh): every record length and file mark it prints is what was
              written, and it reaches the end of the tape. The same tape written aligned stops
              mtdump at the first erase gap (the reason for the packed layout, and proof that
              this check can fail). Records are kept to 64 KiB: Debian's mtdump (SIMH 3.8.1)
              refuses any record longer than 65536 bytes, whatever the layout.
  same_bytes  the same streams written to an aligned and to a packed drive read back through the
              daemon as the same bytes (and as the sources); then the aligned tape is appended to
              packed, and once more aligned, by restarted daemons, and every file of it still
              reads back exactly (the image is never rewritten, only appended to)
Usage: image_layout_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skip."""
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MTDUMP_RECORD = re.compile(r"^Obj \d+, position \d+, record \d+, length = (\d+) ")
MTDUMP_MARK = re.compile(r"^Obj \d+, position \d+, end of tape file")
KIB = 1024

# (name, size, block size): odd sizes leave a short (and odd) last block.
STREAMS = [("first", 3 * 64 * KIB + 3393, "64K"),
           ("second", 100 * KIB + 1, "32K"),
           ("third", 65536, "64K")]


def block_bytes(text):
    return int(text[:-1]) * KIB


def expected_records(streams):
    """What a tape of these streams holds, object by object: a length, or None for a mark."""
    objects = []
    for _, size, block in streams:
        b = block_bytes(block)
        objects += [b] * (size // b) + ([size % b] if size % b else []) + [None]
    return objects


def mtdump(image):
    """(objects as mtdump lists them, its whole output)."""
    out = subprocess.run(["mtdump", image], capture_output=True, text=True, timeout=60).stdout
    objects = []
    for line in out.splitlines():
        if m := MTDUMP_RECORD.match(line):
            objects.append(int(m[1]))
        elif MTDUMP_MARK.match(line):
            objects.append(None)
    return objects, out


def simh_objects(image):
    """(offset, length) of every object, by the tests' independent reader."""
    out = subprocess.run([sys.executable, os.path.join(HERE, "simh_reader.py"), image, "--objects"],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(int(x) for x in line.split()) for line in out.splitlines()]


def gapless(image):
    """Whether each object starts where the one before it ended (no gaps between them)."""
    at = 0
    for offset, length in simh_objects(image):
        if offset != at:
            return False
        at = offset + (4 if length == 0 else 8 + length + (length & 1))
    return True


def write_streams(case, d, streams, drive):
    sources = []
    for name, size, block in streams:
        source = rs.Source(case, name, size, len(name))
        r = case.write(d, source.path, extra=["--block-size", block], drive=drive)
        case.require(r.committed, f"{drive}: {name} ({size} bytes in {block} blocks) is written: {r}")
        sources.append((r.reported[2], source))
    return sources


def case_mtdump(case):
    """Debian's mtdump reads a packed image written through the daemon"""
    if shutil.which("mtdump") is None:
        raise rs.Skip("mtdump (Debian package simh) is not installed")
    packed, aligned = case.path("packed.tap"), case.path("aligned.tap")
    d = case.daemon(drives=[f"emu0=emulated:{packed}?layout=packed",
                            f"emu1=emulated:{aligned}?layout=aligned"])
    write_streams(case, d, STREAMS, "emu0")
    write_streams(case, d, STREAMS, "emu1")
    d.stop()
    expected = expected_records(STREAMS)
    listed, out = mtdump(packed)
    case.check(listed == expected,
               f"mtdump lists the packed tape's {len(expected)} objects as written "
               f"(lengths, None a mark): {listed} vs {expected}")
    case.check("Invalid record length" not in out and "Error marker" not in out and
               ("end of logical tape" in out or "End of physical tape" in out),
               f"mtdump reads the packed tape to its end without an error: {out.splitlines()[-2:]}")
    case.check(gapless(packed), "the packed image has no gap between its objects")
    listed, out = mtdump(aligned)
    case.check("Invalid record length 2147483646" in out and len(listed) < len(expected),
               f"mtdump stops at the aligned tape's first erase gap, after {len(listed)} objects: "
               f"{out.splitlines()[-1:]}")


def read_all(case, d, drive, sources, what):
    for number, source in sources:
        r, got = case.read_back(d, number, drive=drive)
        case.check(r.rc == 0 and got == source.data,
                   f"{what}: file {number} reads back as its {len(source.data)} bytes: "
                   f"{rs.prefix_problem(got, source.data) if r.rc == 0 else r}")


def case_same_bytes(case):
    """an aligned and a packed tape give the same bytes back, and so does a tape of both"""
    streams = [("big", 3 * 256 * KIB + 12345, "256K"), ("middle", 700 * KIB + 7, "64K"),
               ("small", 10 * KIB + 1, "1K")]
    aligned, packed = case.path("aligned.tap"), case.path("packed.tap")
    d = case.daemon(drives=[f"emu0=emulated:{aligned}?layout=aligned",
                            f"emu1=emulated:{packed}?layout=packed"])
    on_aligned = write_streams(case, d, streams, "emu0")
    on_packed = write_streams(case, d, streams, "emu1")
    for (n1, s1), (n2, s2) in zip(on_aligned, on_packed):
        r1, got1 = case.read_back(d, n1, drive="emu0")
        r2, got2 = case.read_back(d, n2, drive="emu1")
        case.check(r1.rc == 0 and r2.rc == 0 and got1 == got2 == s1.data,
                   f"file {n1} of the aligned tape and file {n2} of the packed one read back as the "
                   f"same {len(s1.data)} bytes: aligned {rs.prefix_problem(got1, s1.data)}, "
                   f"packed {rs.prefix_problem(got2, s2.data)}")
    d.stop()
    case.check(not gapless(aligned), "the aligned image has gaps before its 256 KiB records")
    case.check(gapless(packed), "the packed image has none")
    # The aligned tape, appended packed and then aligned again, by restarted daemons.
    sources = on_aligned
    for layout, extra in (("packed", [("later", 2 * 256 * KIB + 99, "256K")]),
                          ("aligned", [("last", 256 * KIB + 1, "128K")])):
        d = case.daemon(name=f"d-{layout}", drives=[f"emu0=emulated:{aligned}?layout={layout}"])
        sources += write_streams(case, d, extra, "emu0")
        read_all(case, d, "emu0", sources, f"the mixed tape, appended {layout}")
        d.stop()
    d = case.daemon(name="d-reopened", drives=[f"emu0=emulated:{aligned}"])
    read_all(case, d, "emu0", sources, "the mixed tape, reopened")
    case.check("erase gaps" not in d.log(),
               "a drive in the default (aligned) layout does not warn about the gaps")
    d.stop()
    d = case.daemon(name="d-packed-again", drives=[f"emu0=emulated:{aligned}?layout=packed"])
    case.check("bytes of erase gaps lie between its objects" in d.log(),
               "a packed drive on an image with gaps says that readers without gap support stop there")
    d.stop()


CASES = {"mtdump": case_mtdump, "same_bytes": case_same_bytes}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
