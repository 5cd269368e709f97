#!/usr/bin/env python3
"""Issue 12, item 6: Logical Block Protection (CRC32C) end to end, on a real daemon with the
emulated drive and its image files. Cases:
  round_trip     on by default: variable blocks and fixed blocks with a padded last one read back
                 identical (sha256sum); the image holds exactly the data (no CRC is stored), as an
                 independent SIMH reader sees it; the daemon says the blocks carried the CRC
  off            --protection off: the same round trip; corrupt_read then delivers changed data
                 (only a digest can see it), while with protection on the same fault fails the
                 READ naming the block, after the blocks before it
  corrupt_write  a byte flipped on its way to the drive: the drive refuses that WRITE (LOGICAL
                 BLOCK GUARD CHECK FAILED), the stream fails with exact accounting, and the tape
                 reads back exactly the blocks before it
  no_lbp         a drive without the Control Data Protection page (lbp=0, like scsi_debug):
                 auto streams without protection, on refuses the stream with a clear message
Usage: lbp_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCK = 256 * 1024


def sha256sum(path):
    out = subprocess.run(["sha256sum", path], check=True, capture_output=True).stdout
    return out.split()[0].decode()


def image_file(image, number):
    """File N of the image, as the independent SIMH reader gives it."""
    return subprocess.run([sys.executable, os.path.join(HERE, "simh_reader.py"), image, "--file",
                           str(number)], check=True, capture_output=True).stdout


def image_blocks(image):
    """(blocks, bytes) per file of the image, from the SIMH reader's list."""
    out = subprocess.run([sys.executable, os.path.join(HERE, "simh_reader.py"), image, "--list"],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(int(x) for x in line.split()[1:3]) for line in out.splitlines() if line.strip()]


def emulated(case, options="", args=(), name="emu0"):
    image = case.path(name + ".tap")
    spec = f"{name}=emulated:{image}" + (f"?{options}" if options else "")
    return case.daemon(drives=[spec], args=list(args)), image


def read_file(case, d, number, name):
    out = case.path(name)
    r = case.cli(d, ["read", "--file", str(number)], stdout_path=out)
    with open(out, "rb") as f:
        return r, f.read(), out


def case_round_trip(case):
    """protected by default: identical round trips, and no CRC on the medium"""
    d, image = emulated(case)
    case.check("Logical Block Protection with CRC32C" in d.log(),
               "start-up says the drive's blocks carry a CRC32C")
    plain = rs.Source(case, "plain", 3 * rs.MIB + 4321, 1)
    fixed = rs.Source(case, "fixed", 1_000_000, 2)  # 1954 blocks of 512, the last padded
    case.require(case.write(d, plain.path, path="pipe").committed, "file 0 written (variable)")
    case.require(case.write(d, fixed.path, path="file", extra=rs.fixed_args(512)).committed,
                 "file 1 written (fixed blocks of 512)")
    case.check("writes file 0" in d.log() and "CRC32C on every block" in d.log(),
               "the stream's start is logged as protected")
    r, got, out = read_file(case, d, 0, "back-0")
    case.check(r.rc == 0 and sha256sum(out) == sha256sum(plain.path),
               f"file 0 reads back identical (sha256sum): {r}")
    r, got, out = read_file(case, d, 1, "back-1")
    case.check(r.rc == 0 and got == rs.padded(fixed.data, 512),
               f"file 1 reads back as written, padding included: {r}")
    case.check("CRC32C checked on every block" in d.log(), "the reads are logged as checked")
    d.stop(10)
    # The drive stored the data alone: the image's records are the client's bytes.
    case.check(image_file(image, 0) == plain.data, "the image's file 0 is exactly the data")
    case.check(image_file(image, 1) == rs.padded(fixed.data, 512),
               "the image's file 1 is exactly the padded data")
    blocks = image_blocks(image)
    expected_blocks = (len(plain.data) + BLOCK - 1) // BLOCK
    case.check(blocks[:2] == [(expected_blocks, len(plain.data)), (1954, 1954 * 512)],
               f"the image holds blocks of the data's length only (no 4 extra bytes): {blocks}")


def case_off(case):
    """--protection off: round trip; corrupt_read changes data silently, on fails the READ"""
    source = rs.Source(case, "data", 2 * rs.MIB + 99, 3)
    d, _ = emulated(case, args=["--protection", "off"])
    case.check("Logical Block Protection off" in d.log(), "start-up says protection is off")
    case.require(case.write(d, source.path, path="file").committed, "written without protection")
    case.check("CRC32C on every block" not in d.log(), "the stream is not logged as protected")
    r, got, out = read_file(case, d, 0, "back")
    case.check(r.rc == 0 and sha256sum(out) == sha256sum(source.path),
               f"reads back identical without protection: {r}")
    d.stop(10)
    # The same image with a transfer error on the way back, 300000 bytes in (block 1).
    flip = 300_000
    d, _ = emulated(case, options=f"corrupt_read={flip}", args=["--protection", "off"])
    r, got, out = read_file(case, d, 0, "changed")
    differs = [i for i in range(0, len(got)) if i < len(source.data) and got[i] != source.data[i]] \
        if len(got) == len(source.data) else None
    case.check(differs == [flip],
               f"without protection the READ delivers changed data, byte {flip} alone "
               f"(only a digest can notice): {differs if differs is None else differs[:5]}; {r}")
    d.stop(10)
    d, _ = emulated(case, options=f"corrupt_read={flip}")
    r, got, out = read_file(case, d, 0, "refused")
    case.check(r.rc != 0 and "block 1 of file 0 failed its CRC32C check" in r.err,
               f"with protection the READ fails naming block 1 of file 0: {r}")
    case.check(got == source.data[:BLOCK],
               f"the client got block 0 and nothing of the bad block ({len(got)} bytes)")


def case_corrupt_write(case):
    """a block changed on its way to the drive is refused; the tape keeps the blocks before"""
    source = rs.Source(case, "data", 2 * rs.MIB, 4)
    flip = 3 * BLOCK + 1000  # in block 3
    d, image = emulated(case, options=f"corrupt_write={flip}")
    r = case.write(d, source.path, path="file")
    case.check(not r.committed and "block 3 of the stream failed its CRC32C check" in r.err,
               f"the write fails naming block 3: {r}")
    case.check(r.reported is not None and r.reported[:2] == (3 * BLOCK, 3),
               f"exactly the 3 blocks before it are on the tape: {r.reported}")
    r, got, out = read_file(case, d, 0, "back")
    case.check(r.rc == 0 and got == source.data[:3 * BLOCK],
               f"the file reads back as exactly those blocks ({len(got)} bytes): {r}")
    d.stop(10)
    case.check(image_file(image, 0) == source.data[:3 * BLOCK],
               "the image holds those blocks and nothing of the refused one")


def case_no_lbp(case):
    """a drive without LBP: auto runs without it, on refuses the stream"""
    source = rs.Source(case, "data", rs.MIB + 5, 5)
    d, image = emulated(case, options="lbp=0")
    case.check("offers no Logical Block Protection" in d.log(),
               "start-up says the drive offers no protection, once")
    case.require(case.write(d, source.path, path="file").committed, "auto writes without it")
    r, got, out = read_file(case, d, 0, "back")
    case.check(r.rc == 0 and got == source.data and "CRC32C on every block" not in d.log() and
               "CRC32C checked" not in d.log(), f"and reads back identical, unprotected: {r}")
    d.stop(10)
    d, _ = emulated(case, options="lbp=0", args=["--protection", "emu0=on"])
    r = case.write(d, source.path, path="file")
    case.check(not r.committed and r.rc != 0 and
               "offers no Logical Block Protection with CRC32C" in r.err,
               f"protection=on refuses the stream with a clear message: {r}")
    r, got, out = read_file(case, d, 1, "nothing")
    case.check(r.rc != 0 and got == b"", f"and nothing was written after file 0: {r}")
    bad = case.daemon(name="bad", drives=[f"emu1=emulated:{case.path('emu1.tap')}"],
                      args=["--protection", "sometimes"], start=False)
    bad.start(wait=False)
    bad.proc.wait(30)
    case.check(bad.proc.returncode == 78 and "--protection sometimes" in bad.log(),
               f"a wrong --protection value stops the start (exit {bad.proc.returncode})")


CASES = {"round_trip": case_round_trip, "off": case_off, "corrupt_write": case_corrupt_write,
         "no_lbp": case_no_lbp}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
