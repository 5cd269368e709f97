#!/usr/bin/env python3
"""Issue 12, item 2: the SHA-256 of every stream, on a real daemon with the emulated drive, held
to `sha256sum` of the same bytes. Cases:
  write_paths  COMMITTED's digest (as `tapestream write` prints it, and in its --json) is
               sha256sum of the source, for the socket stream, fd passing of a pipe, fd passing of
               a regular file (O_DIRECT; a size that is no multiple of 4096), fixed blocks with a
               padded last block (the padding is not in it), and an empty stream
  read_back    READ's END digest is sha256sum of what was delivered: by raw frames over the
               socket, and as `tapestream read` prints it by both data paths; a fixed-block
               file's padding is in it, since the reader gets it
  frames       raw protocol: HELLO_OK grants `digest` only to a client that asks; COMMITTED is
               64 bytes and END 48 with it, and 32 and 16 bytes (as before digests) without
Usage: digest_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import os
import re
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from protocol_frames import (COMMITTED, DATA, END, HELLO, HELLO_OK, READ, READY, WRITE,  # noqa: E402
                             connect, data_frames, end_body, frame, hello_body, read_body,
                             write_body)

FEATURE_DIGEST = 2
W_FIXED = 1
DIGEST_LINE = re.compile(r"tapestream: sha256 ([0-9a-f]{64})\n")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def sha256sum(path):
    """The hex digest as the real sha256sum prints it."""
    out = subprocess.run(["sha256sum", path], check=True, capture_output=True).stdout
    return out.split()[0].decode()


def sha256sum_of(case, data, name):
    path = case.path(name)
    with open(path, "wb") as f:
        f.write(data)
    return sha256sum(path)


def printed_digest(r):
    m = DIGEST_LINE.search(r.err)
    return m[1] if m else None


def emulated(case, name="emu0"):
    return case.daemon(drives=[f"{name}=emulated:{case.path(name + '.tap')}"])


def case_write_paths(case):
    """COMMITTED's digest is sha256sum of the source on every write path"""
    d = emulated(case)
    odd = rs.Source(case, "odd", 3 * rs.MIB + 1234, 12)  # no multiple of 4096: O_DIRECT's tail
    writes = [("the socket stream", "stream", odd.path, []),
              ("fd passing of a pipe", "pipe", odd.path, []),
              ("fd passing of a regular file (O_DIRECT)", "file", odd.path, [])]
    fixed = rs.Source(case, "fixed", 1_000_000, 13)  # 1954 blocks of 512, the last padded by 448
    writes.append(("fixed blocks of 512, the last padded", "file", fixed.path, rs.fixed_args(512)))
    empty = case.path("empty")
    open(empty, "wb").close()
    writes.append(("an empty stream", "stream", empty, []))
    for what, path, source, extra in writes:
        r = case.write(d, source, path=path, extra=extra)
        expected = sha256sum(source)
        case.check(r.committed and printed_digest(r) == expected,
                   f"{what}: the CLI prints sha256 {printed_digest(r)}, sha256sum says {expected}: {r}")
    case.check(sha256sum(empty) == EMPTY_SHA256, "sha256sum of nothing is the FIPS 180-2 empty digest")
    as_json = case.cli(d, ["--json", "--data-path", "fd", "write"], stdin_path=odd.path)
    case.check(as_json.rc == 0 and f'"sha256":"{sha256sum(odd.path)}"'.encode() in as_json.out,
               f"write --json carries the digest: {as_json.out!r}")


def read_frames(c, file_number, rid=7):
    """READ over the socket: (bytes delivered, the END frame or whatever ended it)."""
    f = c.request(READ, read_body("emu0", file_number), rid=rid, timeout=30)
    if f is None or f.type != READY:
        raise rs.Stop(f"READ of file {file_number} answered with {f}")
    got = bytearray()
    while True:
        f = c.final(30)
        if f is None or f.type != DATA:
            return bytes(got), f
        got += f.body


def case_read_back(case):
    """READ's END digest is sha256sum of what was delivered, padding included"""
    d = emulated(case)
    source = rs.Source(case, "plain", 5 * rs.MIB + 77, 21)
    fixed = rs.Source(case, "fixed", 1_000_000, 22)
    case.require(case.write(d, source.path, path="pipe").committed, "file 0 written")
    case.require(case.write(d, fixed.path, path="file", extra=rs.fixed_args(512)).committed,
                 "file 1 written in fixed blocks of 512")
    padded = rs.padded(fixed.data, 512)
    with connect(d.socket, features=FEATURE_DIGEST) as c:
        for number, expected_data, what in ((0, source.data, "variable blocks"),
                                            (1, padded, "fixed blocks, the last padded")):
            got, end = read_frames(c, number)
            expected = sha256sum_of(case, got, f"delivered-{number}")
            ok = end is not None and end.type == END and len(end.body) == 48
            case.check(ok and end.body[16:].hex() == expected and got == expected_data,
                       f"file {number} ({what}): END carries {end.body[16:].hex() if ok else end}, "
                       f"sha256sum of the {len(got)} bytes delivered is {expected}")
    case.check(sha256sum_of(case, padded, "padded") != sha256sum(fixed.path),
               "the fixed file's padding changes its digest (the read's digest is not the write's)")
    for path in ("stream", "fd"):
        for number, data in ((0, source.data), (1, padded)):
            out = case.path(f"read-{path}-{number}")
            r = case.cli(d, ["--data-path", path, "read", "--file", str(number)], stdout_path=out)
            expected = sha256sum(out)
            with open(out, "rb") as f:
                same = f.read() == data
            case.check(r.rc == 0 and same and printed_digest(r) == expected,
                       f"`tapestream --data-path {path} read --file {number}` prints sha256 "
                       f"{printed_digest(r)}, sha256sum of its output is {expected}: {r}")
    as_json = case.cli(d, ["--json", "read", "--file", "0"], stdout_path=case.path("json-out"))
    case.check(as_json.rc == 0 and f'"sha256":"{sha256sum(source.path)}"' in as_json.err,
               f"read --json carries the digest on stderr: {as_json.err!r}")


def hello_features(c_sock, features):
    c_sock.send(frame(HELLO, hello_body(features)))
    f = c_sock.recv_frame()
    if f is None or f.type != HELLO_OK:
        raise rs.Stop(f"HELLO answered with {f}")
    return struct.unpack_from("<I", f.body, 4)[0]


def write_frames(c, data, flags=rs.W_APPEND, block_size=0, rid=3):
    f = c.request(WRITE, write_body("emu0", flags, block_size), rid=rid, timeout=30)
    if f is None or f.type != READY:
        raise rs.Stop(f"WRITE answered with {f}")
    c.send(data_frames(data, rid) + frame(END, end_body(len(data)), rid))
    return c.final(60)


def case_frames(case):
    """`digest` only for a client that asks; bodies as before without it"""
    d = emulated(case)
    data = rs.make_data(31, 2 * rs.MIB + 5)
    expected = sha256sum_of(case, data, "data")
    for features, digest in ((FEATURE_DIGEST, True), (0, False), (1, False), (3, True)):
        c = rs.Conn(d.socket, 10)
        try:
            granted = hello_features(c, features)
            case.check(bool(granted & FEATURE_DIGEST) == digest and granted & ~3 == 0,
                       f"HELLO asking for features {features} is granted {granted}")
            c.max_data = 65536
            committed = write_frames(c, data, rid=10 + features)
            if committed is None or committed.type != COMMITTED:
                case.check(False, f"features {features}: the write answered {committed}")
                continue
            number = struct.unpack_from("<Q", committed.body, 16)[0]
            if digest:
                case.check(len(committed.body) == 64 and committed.body[32:].hex() == expected,
                           f"features {features}: COMMITTED is 64 bytes and carries "
                           f"{committed.body[32:].hex()}, sha256sum says {expected}")
            else:
                case.check(len(committed.body) == 32,
                           f"features {features}: COMMITTED is 32 bytes, no digest ({len(committed.body)})")
            got, end = read_frames(c, number, rid=20 + features)
            size = 48 if digest else 16
            case.check(end is not None and end.type == END and len(end.body) == size and got == data and
                       (not digest or end.body[16:].hex() == expected),
                       f"features {features}: END of the read back is {size} bytes "
                       f"({end and len(end.body)}){' with the digest' if digest else ''}")
        finally:
            c.close()
    fixed_data = rs.make_data(32, 10_000)
    with connect(d.socket, features=FEATURE_DIGEST) as c:
        c.max_data = 65536
        committed = write_frames(c, fixed_data, flags=rs.W_APPEND | W_FIXED, block_size=4096, rid=40)
        ok = committed is not None and committed.type == COMMITTED and len(committed.body) == 64
        case.check(ok and committed.body[32:].hex() == expected_of(case, fixed_data),
                   f"a fixed-block write's COMMITTED digest leaves out the padding: {committed}")


def expected_of(case, data):
    return sha256sum_of(case, data, "fixed-data")


CASES = {"write_paths": case_write_paths, "read_back": case_read_back, "frames": case_frames}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
