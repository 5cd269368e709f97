#!/usr/bin/env python3
"""Streams written without the daemon's digest (WRITE flag 128, feature `no_digest`, PROTOCOL.md
"COMMITTED") against a real tapestreamd with an emulated drive. Cases:
  protocol  in raw frames: HELLO_OK grants feature 128 to a client that asks (and only then); a
            WRITE with flag 128 by DATA frames and by shared buffers commits with the "not known"
            digest (32 zero bytes) while the same write without the flag carries the SHA-256;
            flag 128 without the feature is ERROR bad_request; both files read back whole, with
            END's digest of what was read
  cli       `tapestream write --no-digest` prints no sha256 (JSON: null), `list --json` shows
            no digest for the file, `verify --file N` answers unrecorded, "written without a
            digest", where the file written with its digest verifies ok
  old       a daemon that does not grant the feature (a peer that answers HELLO as one older
            than it does): libtapestream's ts_write_begin refuses TS_WRITE_NO_DIGEST with
            -EOPNOTSUPP and says why, `tapestream write --no-digest` fails with exit 64 and that
            message before its producer runs, and no WRITE reaches the peer
Usage: no_digest_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skipped."""
import errno
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "integration")]
import protocol_frames as pf  # noqa: E402
import reliability_support as rs  # noqa: E402
import shared_test as st  # noqa: E402

F_DIGEST, F_SHARED, F_NO_DIGEST = 0x2, 0x8, 0x80
W_NO_DIGEST = 0x80
HELLO_OK_FEATURES = 4  # offset of `features granted` in HELLO_OK's body


def granted(conn_path, features):
    """The features HELLO_OK grants to a client that asks for `features`."""
    c = pf.Conn(conn_path)
    try:
        c.send(pf.frame(pf.HELLO, pf.hello_body(features)))
        f = c.recv_frame()
        return struct.unpack_from("<I", f.body, HELLO_OK_FEATURES)[0] if f and f.type == pf.HELLO_OK else None
    finally:
        c.close()


def socket_write(c, flags, payload, rid=3):
    """A WRITE by DATA frames; the final reply."""
    f = c.request(pf.WRITE, pf.write_body("emu0", pf.W_APPEND | flags), rid=rid)
    if f is None or f.type != pf.READY:
        return f
    c.send(pf.data_frames(payload, rid, c.max_data) + pf.frame(pf.END, pf.end_body(len(payload)), rid))
    return c.final(60)


def committed(f):
    nbytes, blocks, number = struct.unpack_from("<QQQ", f.body)
    return nbytes, number, f.body[32:] if len(f.body) == 64 else None


def case_protocol(case):
    """flag 128 in raw frames, by DATA and by shared buffers"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])
    case.check(granted(d.socket, F_DIGEST | F_NO_DIGEST) == F_DIGEST | F_NO_DIGEST and
               granted(d.socket, F_DIGEST) == F_DIGEST,
               "HELLO_OK grants no_digest to a client that asks, and only to one")
    payload = rs.make_data(14, 3 * 1048576 + 777)
    files = []
    with pf.connect(d.socket, features=F_DIGEST | F_NO_DIGEST | F_SHARED) as c:
        f = socket_write(c, W_NO_DIGEST, payload)
        case.require(f is not None and f.type == pf.COMMITTED, f"a WRITE with flag 128 commits ({f})")
        nbytes, number, digest = committed(f)
        case.check(nbytes == len(payload) and digest == bytes(32),
                   f"its COMMITTED: {nbytes} bytes, the digest 32 zero bytes (not known): {digest and digest.hex()[:16]}")
        files.append((number, payload))
        f = socket_write(c, 0, payload, rid=4)
        case.require(f is not None and f.type == pf.COMMITTED, f"the same WRITE without flag 128 commits ({f})")
        nbytes, number, digest = committed(f)
        case.check(digest == hashlib.sha256(payload).digest(), "without the flag COMMITTED carries the SHA-256")
        files.append((number, payload))
    with pf.connect(d.socket, features=F_DIGEST | F_NO_DIGEST | F_SHARED) as c:
        w = st.SharedWrite(c, "emu0", rid=9, flags=W_NO_DIGEST)
        case.require(w.map is not None, f"a shared WRITE with flag 128: READY and a memfd ({w.ready})")
        produced, stray = w.produce(2 * w.count + 3, last=999)
        case.require(stray is None, f"no reply but SLOT_FREE while producing ({stray})")
        f = w.end(len(produced))
        w.close()
        case.require(f is not None and f.type == pf.COMMITTED, f"the shared WRITE with flag 128 commits ({f})")
        nbytes, number, digest = committed(f)
        case.check(nbytes == len(produced) and digest == bytes(32),
                   f"its COMMITTED: {nbytes} bytes, the digest 32 zero bytes")
        files.append((number, bytes(produced)))
    with pf.connect(d.socket, features=F_DIGEST) as c:
        f = c.request(pf.WRITE, pf.write_body("emu0", pf.W_APPEND | W_NO_DIGEST), rid=6)
        case.check(f is not None and f.type == pf.ERROR and pf.status_name(f.status) == "bad_request",
                   f"flag 128 without the feature: ERROR bad_request ({f})")
    for number, data in files:
        r, got = case.read_back(d, number)
        case.check(r.rc == 0 and got == data and f"sha256 {hashlib.sha256(data).hexdigest()}" in r.err,
                   f"file {number} reads back whole, with the SHA-256 of what was read ({len(got)} bytes)")


def cli_json(case, d, args, **kw):
    r = case.cli(d, ["--json", *args], **kw)
    try:
        return r, json.loads(r.out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return r, None


def case_cli(case):
    """tapestream write --no-digest, list and verify"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])
    source = case.path("source")
    with open(source, "wb") as f:
        f.write(rs.make_data(3, 2 * 1048576 + 5))
    r = case.write(d, source, extra=["--no-digest"])
    case.check(r.rc == 0 and "committed" in r.err and "sha256" not in r.err,
               f"write --no-digest commits and prints no sha256 (rc {r.rc}: {r.err.strip()[:200]})")
    r, out = cli_json(case, d, ["write", "--no-digest"], stdin_path=source)
    case.check(r.rc == 0 and out is not None and out.get("sha256", "x") is None,
               f"write --no-digest --json: sha256 null ({out})")
    r = case.write(d, source)
    case.check(r.rc == 0 and "sha256" in r.err, "write without it prints the sha256")
    r, out = cli_json(case, d, ["list"])
    digests = [f.get("sha256", "x") for f in (out or {}).get("files", [])]
    case.check(r.rc == 0 and len(digests) == 3 and digests[0] is None and digests[1] is None and
               digests[2] == hashlib.sha256(open(source, "rb").read()).hexdigest(),
               f"list --json: the catalog records no digest for the two files without ({digests})")
    r = case.cli(d, ["list"])
    lines = [line.split() for line in r.out.decode().splitlines() if line.strip()]
    case.check(r.rc == 0 and len(lines) >= 3, f"list shows the three files ({r.out.decode()[:300]})")
    for number, verdict, words in ((0, "unrecorded", "written without a digest"),
                                   (1, "unrecorded", "written without a digest"), (2, "ok", "")):
        r = case.cli(d, ["verify", "--file", str(number)])
        text = r.out.decode() + r.err
        case.check(r.rc == 0 and verdict in text and words in text,
                   f"verify --file {number}: {verdict} {words!r} (rc {r.rc}: {text.strip()[:300]})")
    r, got = case.read_back(d, 0)
    case.check(r.rc == 0 and hashlib.sha256(got).hexdigest() in r.err, "read of file 0 prints the digest of what it read")


class OldDaemon(threading.Thread):
    """A peer that answers HELLO as a daemon that grants no `no_digest` (fd passing, digest,
    health, shared buffers), then records the type of every frame sent to it."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.seen = []

    def run(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                c = pf.Conn.__new__(pf.Conn)
                c.sock = conn
                while True:
                    try:
                        f = c.recv_frame(10)
                    except OSError:
                        break
                    if f is None:
                        break
                    self.seen.append(f.type)
                    if f.type == pf.HELLO:
                        c.send(pf.frame(pf.HELLO_OK, struct.pack("<HHII", 1, 0, 0x1 | 0x2 | 0x4 | 0x8, 65536) +
                                        pf.text("tapestreamd 0.0.1-old"), f.rid))
                    elif f.type == pf.LIST_DRIVES:
                        c.send(pf.frame(pf.DRIVE_LIST, struct.pack("<H", 1) + pf.text("emu0"), f.rid))
                    else:
                        c.send(pf.frame(pf.ERROR, struct.pack("<HH", 4, 0) + pf.text("unknown"), f.rid))


def case_old(case):
    """a daemon without the feature: the library and the CLI refuse, nothing is sent"""
    path = case.path("old.sock")
    peer = OldDaemon(path)
    peer.start()
    case.at_exit(peer.listener.close)
    library = os.path.join(os.environ.get("TS_BUILD_DIR", ""), "lib", "libtapestream.so.1")
    if not os.path.exists(library):
        raise rs.Skip(f"no {library} (TS_BUILD_DIR)")
    # In a Python of its own: a sanitized library (ci-asan) loads only behind its runtime.
    script = f"""
import ctypes
class WriteOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("flags", ctypes.c_uint32), ("block_size", ctypes.c_uint32),
                ("expected_length", ctypes.c_uint64), ("label", ctypes.c_char_p)]
lib = ctypes.CDLL({library!r})
lib.ts_last_error.restype = ctypes.c_char_p
client = ctypes.c_void_p()
r = lib.ts_connect({path!r}.encode(), b"no_digest_test", ctypes.byref(client))
if r != 0:
    print("connect", r)
    raise SystemExit
print(lib.ts_features(client))
options = WriteOptions(ctypes.sizeof(WriteOptions), {pf.W_APPEND | W_NO_DIGEST}, 0, 0, None)
stream = ctypes.c_void_p()
r = lib.ts_write_begin(client, b"emu0", ctypes.byref(options), -1, ctypes.byref(stream))
print(r)
print((lib.ts_last_error(client) or b"").decode())
lib.ts_close(client)
"""
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                       env=rs.library_environment(library))
    lines = p.stdout.splitlines()
    case.require(p.returncode == 0 and len(lines) >= 3 and not lines[0].startswith("connect"),
                 f"ts_connect to the old peer ({p.returncode}: {p.stdout.strip()} {p.stderr.strip()[-300:]})")
    case.check(int(lines[0]) & F_NO_DIGEST == 0, "the peer grants no no_digest")
    r, said = int(lines[1]), "\n".join(lines[2:])
    case.check(r == -errno.EOPNOTSUPP and "TS_WRITE_NO_DIGEST" in said and "older" in said,
               f"ts_write_begin with TS_WRITE_NO_DIGEST: -EOPNOTSUPP ({r}), \"{said}\"")
    marker = case.path("producer-ran")
    r = rs.run_cli(case.cli_bin, path, ["--drive", "emu0", "write", "--no-digest", "--", "touch", marker])
    case.check(r.rc == 64 and "--no-digest" in r.err and "older" in r.err and not os.path.exists(marker),
               f"tapestream write --no-digest: exit 64 before its producer runs (rc {r.rc}: {r.err.strip()[:200]})")
    case.check(pf.WRITE not in peer.seen, f"no WRITE reached the old daemon (frames {peer.seen})")


CASES = {"protocol": case_protocol, "cli": case_cli, "old": case_old}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
