#!/usr/bin/env python3
"""libtapestream against a real tapestreamd with an emulated drive (real image files, real
processes, GNU sha256sum). Cases:
  c_api          c_api_test online: hostile arguments on a live handle, socket and fd writes
                 read back both ways, control, catalog, verify; the CLI reads the
                 library's first file back with the digest the library reported; a label refused over data,
                 then forced, and the CLI lists that volume
  volume_full    a socket write past the end of an 8 MiB tape: volume_full, with the daemon's
                 account of what is on the tape
  shared_read    c_api_test shared_read: a file read back through shared buffers (1.4), every
                 block in place and in order with the write's digest, hostile returns refused,
                 a reader that keeps its slots and stops early, a file that is not there
  cpp_layer      tapestream.hpp: RAII streams write, read back, abort when dropped; a write
                 produced in shared slots reads back
  gone           a handle whose daemon stopped: every call fails with unreachable, no crash
  hostile_shared a fake daemon whose shared read breaks the protocol (an unsealed memfd, too
                 many slots, a stride off the page size, FILLED out of range, too long, or for a
                 slot the client holds): the library refuses each, the process lives, and the
                 handle is lost afterwards
  out_of_step    a peer (a fake daemon on a real socket) that answers with a header that does
                 not decode, then a well-formed DRIVE_LIST: the call fails, and the handle is
                 lost from then on (unreachable) instead of reading the bytes after the bad
                 header as the next answer
  sigpipe        ts_read_fd through the socket (a fake daemon that grants no fd passing) into a
                 pipe whose reader is gone, in a process with SIGPIPE's default action: the
                 call returns -EPIPE and the process lives (regression: SIGPIPE killed it), and
                 the connection is closed at once (the read stops) rather than drained to END
  example_c      the library installed into a temporary prefix (cmake --install --component
                 library); examples/c built there with `cc $(pkg-config --cflags --libs
                 tapestream)` and with the CMake package; a generated pattern and a file
                 streamed to tape; the CLI reads them back and sha256sum matches
  example_python examples/python/roundtrip.py writes and reads back; the CLI's read of its
                 first file has the same sha256sum
Usage: lib_test.py DAEMON CLI CASE, with TS_C_API_TEST, TS_CPP_LAYER_TEST, TS_BUILD_DIR and TS_SOURCE_DIR in the
environment. Exit 0 pass, 1 fail, 77 skipped."""
import errno
import glob
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import reliability_support as rs  # noqa: E402


def emulated_daemon(case):
    return case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])


def sha256sum(path):
    out = subprocess.run(["sha256sum", path], check=True, capture_output=True, text=True).stdout
    return out.split()[0]


def cli_read_sha(case, d, number):
    out = case.path(f"cli-read-{number}")
    r = case.cli(d, ["read", "--file", str(number)], stdout_path=out, timeout=60)
    case.require(r.rc == 0, f"tapestream read --file {number} exits 0 ({r})")
    return sha256sum(out)


def run(case, argv, env=None, timeout=120):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    print(f"      $ {' '.join(argv)}\n" + "".join(f"      | {line}\n" for line in
                                                 (p.stdout + p.stderr).splitlines()[-30:]), end="")
    return p


def case_c_api(case):
    """the C API against a real daemon"""
    d = emulated_daemon(case)
    p = run(case, [os.environ["TS_C_API_TEST"], "online", d.socket])
    case.check(p.returncode == 0, f"c_api_test online exits 0 (rc {p.returncode})")
    written = [line.split()[-1] for line in p.stdout.splitlines() if line.startswith("socket write sha256")]
    case.require(len(written) == 1, "c_api_test reported its socket write's digest")
    case.check(cli_read_sha(case, d, 0) == written[0],
               "the CLI reads file 0 back with the digest the library reported")
    p = run(case, [os.environ["TS_C_API_TEST"], "label", d.socket])
    case.check(p.returncode == 0, f"c_api_test label exits 0 (rc {p.returncode})")
    r = case.cli(d, ["--json", "list"], timeout=60)
    case.check(r.rc == 0 and b"c-api-again" in r.out, f"the CLI lists the volume the library labelled ({r})")


def case_volume_full(case):
    """a socket write past the end of the tape"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}?capacity=8M&ew=4M"])
    p = run(case, [os.environ["TS_C_API_TEST"], "full", d.socket])
    case.check(p.returncode == 0, f"c_api_test full exits 0 (rc {p.returncode})")


def case_shared_read(case):
    """a file read back through shared buffers with the C API (1.4)"""
    d = emulated_daemon(case)
    p = run(case, [os.environ["TS_C_API_TEST"], "shared_read", d.socket])
    case.check(p.returncode == 0, f"c_api_test shared_read exits 0 (rc {p.returncode})")


def case_cpp_layer(case):
    """the C++ layer against a real daemon"""
    d = emulated_daemon(case)
    p = run(case, [os.environ["TS_CPP_LAYER_TEST"], "--gtest_filter=CppLayerOnline.*"],
            env=dict(os.environ, TAPESTREAM_TEST_SOCKET=d.socket))
    case.check(p.returncode == 0 and "[  PASSED  ] 3 tests" in p.stdout,
               f"cpp_layer_test's three online tests pass (rc {p.returncode})")


def case_gone(case):
    """a handle whose daemon went away"""
    d = emulated_daemon(case)
    p = subprocess.Popen([os.environ["TS_C_API_TEST"], "gone", d.socket], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    case.require(p.stdout.readline().strip() == "connected", "c_api_test connected")
    case.check(d.stop() == 0, "the daemon stops")
    out, _ = p.communicate("go\n", timeout=60)
    print(out)
    case.check(p.returncode == 0, f"every call on the orphaned handle failed cleanly (rc {p.returncode})")


def fake_daemon(case, name, answer, features=0):
    """A peer on a real Unix socket that says HELLO_OK with `features`, then lets
    `answer(conn, typ, rid)` reply to each request until the client goes."""
    import socket
    import struct
    import threading
    import protocol_frames as pf
    path = case.path(name)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def request(conn):
        head = b""
        while len(head) < 16:
            got = conn.recv(16 - len(head))
            if not got:
                return None, None
            head += got
        typ, rid, length = struct.unpack("<HII", head[6:16])
        while length > 0:
            length -= len(conn.recv(length))
        return typ, rid

    def serve():
        conn, _ = server.accept()
        _, rid = request(conn)
        conn.sendall(pf.frame(pf.HELLO_OK, struct.pack("<HHII", 1, 0, features, 65536) + pf.text("fake 1"), rid))
        while True:
            typ, rid = request(conn)
            if typ is None:
                break
            answer(conn, typ, rid)
        conn.close()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return path


def library_path():
    return os.path.join(os.environ["TS_BUILD_DIR"], "lib", "libtapestream.so.1")


def run_with_library(case, script):
    """`script` in a Python of its own that loads the library with ctypes (sanitized or not:
    rs.library_environment); its standard output, stripped, and its exit status."""
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                       env=rs.library_environment(library_path()))
    return p.returncode, p.stdout.strip(), p.stderr.strip()[-300:]


def case_out_of_step(case):
    """a header that does not decode leaves the handle lost, never out of step"""
    import struct
    import protocol_frames as pf

    def answer(conn, typ, rid):
        if typ == pf.LIST_DRIVES:
            conn.sendall(b"XXXX" + bytes(12))  # not a header
            conn.sendall(pf.frame(pf.DRIVE_LIST, struct.pack("<H", 1) + pf.text("emu0"), rid))

    path = fake_daemon(case, "fake.sock", answer)
    rc, out, err = run_with_library(case, f"""
import ctypes
lib = ctypes.CDLL({library_path()!r})
client = ctypes.c_void_p()
assert lib.ts_connect({path!r}.encode(), b"lib_test", ctypes.byref(client)) == 0
print(lib.ts_list_drives(client, None, None), lib.ts_list_drives(client, None, None))
lib.ts_close(client)
""")
    case.require(rc == 0 and len(out.split()) == 2, f"the calls ran: exit {rc}, {out!r} {err}")
    first, second = (int(x) for x in out.split())
    case.check(first < 0, f"a header that does not decode fails the call: {first}")
    unreachable = -(10000 + pf.STATUS_NAMES.index("unreachable"))
    case.check(second == unreachable,
               f"the next call finds the handle lost ({unreachable}), not the stale DRIVE_LIST: "
               f"{second}")


def case_hostile_shared(case):
    """a daemon whose shared read breaks the protocol: the library refuses it, never crashes"""
    import fcntl
    import socket
    import struct
    import protocol_frames as pf
    filled, ready_shared, shared_buffers = 0x8015, 0x2, 0x8

    def ready_with(count, stride, sealed, fills=()):
        def answer(conn, typ, rid):
            if typ != pf.READ:
                return
            memfd = os.memfd_create("fake-slots", os.MFD_ALLOW_SEALING)
            os.ftruncate(memfd, max(count, 1) * stride if count < 4096 else 4096)
            if sealed:
                fcntl.fcntl(memfd, fcntl.F_ADD_SEALS,
                            fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
            ready = pf.frame(pf.READY, struct.pack("<QIIII", 0, 0, ready_shared, count, stride), rid)
            socket.send_fds(conn, [ready[:1]], [memfd])
            conn.sendall(ready[1:])
            os.close(memfd)
            for slot, length in fills:
                conn.sendall(pf.frame(filled, struct.pack("<II", slot, length), rid))
        return answer

    unreachable = -(10000 + pf.STATUS_NAMES.index("unreachable"))
    trials = {
        "a memfd that may still shrink": ready_with(4, 4096, False),
        "more slots than the protocol allows": ready_with(1000, 4096, True),
        "a stride that is no multiple of a page": ready_with(4, 1000, True),
        "FILLED for a slot out of range": ready_with(4, 4096, True, [(99, 10)]),
        "FILLED longer than a slot": ready_with(4, 4096, True, [(0, 5000)]),
        "FILLED twice for one slot": ready_with(4, 4096, True, [(1, 10), (1, 10)]),
    }
    for n, (what, answer) in enumerate(trials.items()):
        path = fake_daemon(case, f"fake{n}.sock", answer, features=shared_buffers)
        rc, out, err = run_with_library(case, f"""
import ctypes
lib = ctypes.CDLL({library_path()!r})
client = ctypes.c_void_p()
assert lib.ts_connect({path!r}.encode(), b"lib_test", ctypes.byref(client)) == 0
stream = ctypes.c_void_p()
begun = lib.ts_read_shared_begin(client, b"emu0", ctypes.c_uint64(0), ctypes.byref(stream))
codes = [begun]
if begun == 0:
    block = (ctypes.c_uint8 * 64)()
    ctypes.c_size_t.from_buffer(block).value = 32  # sizeof(struct ts_block) on x86-64
    codes = [lib.ts_shared_next(stream, block, 5000) for _ in range(2)]
print(*codes, lib.ts_list_drives(client, None, None))
lib.ts_close(client)
""")
        case.require(rc == 0, f"{what}: the process lives: exit {rc} {err}")
        codes = [int(x) for x in out.split()]
        case.check(codes[0] < 0 or (len(codes) > 2 and codes[0] == 1 and codes[1] < 0),
                   f"{what}: refused ({codes[:-1]})")
        case.check(codes[-1] == unreachable, f"{what}: the handle is lost afterwards ({codes[-1]})")


def case_sigpipe(case):
    """a read into a pipe nobody reads: -EPIPE, and the calling process lives"""
    import struct
    import protocol_frames as pf

    stopped = []

    def answer(conn, typ, rid):
        if typ != pf.READ:
            return
        # More data than the pipe's write fails on; the rest of the file is then not wanted: the
        # client must stop the read (close the connection) instead of waiting for an END that a
        # real daemon sends only after reading the whole file from the tape.
        try:
            conn.sendall(pf.frame(pf.READY, struct.pack("<QII", 0, 0, 0), rid))
            conn.sendall(pf.data_frames(bytes(4 * 1024 * 1024), rid))
            conn.settimeout(10)
            stopped.append(conn.recv(1) == b"")
        except TimeoutError:
            stopped.append(False)
            conn.sendall(pf.frame(pf.END, struct.pack("<QQ", 4 * 1024 * 1024, 64), rid))
        except OSError:  # closed while the data still came
            stopped.append(True)

    path = fake_daemon(case, "pipe.sock", answer)
    rc, out, err = run_with_library(case, f"""
import ctypes, os, signal
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
lib = ctypes.CDLL({library_path()!r})
client = ctypes.c_void_p()
assert lib.ts_connect({path!r}.encode(), b"sigpipe", ctypes.byref(client)) == 0
r, w = os.pipe()
os.close(r)
print(lib.ts_read_fd(client, b"emu0", ctypes.c_uint64(0), w, None), flush=True)
""")
    case.check(rc == 0 and out == str(-errno.EPIPE),
               f"ts_read_fd returns -EPIPE ({-errno.EPIPE}) and the process lives: exit {rc}, "
               f"printed {out!r} {err}")
    for _ in range(100):  # the fake's thread notes the end of the connection
        if stopped:
            break
        time.sleep(0.05)
    case.check(stopped == [True], f"the client closed the connection instead of draining the read ({stopped})")


def install_library(case):
    prefix = case.path("prefix")
    p = run(case, ["cmake", "--install", os.environ["TS_BUILD_DIR"], "--prefix", prefix,
                   "--component", "library"])
    case.require(p.returncode == 0, "cmake --install --component library into a temporary prefix")
    pcs = glob.glob(os.path.join(prefix, "**", "pkgconfig", "tapestream.pc"), recursive=True)
    case.require(len(pcs) == 1, f"tapestream.pc installed ({pcs})")
    libs = glob.glob(os.path.join(prefix, "**", "libtapestream.so.1"), recursive=True)
    case.require(len(libs) == 1, "libtapestream.so.1 installed")
    case.check(os.path.isfile(os.path.join(prefix, "include", "tapestream", "tapestream.h")),
               "tapestream.h installed under include/tapestream")
    return prefix, os.path.dirname(pcs[0]), os.path.dirname(libs[0])


def pattern_sha(size):
    import hashlib
    data = bytes(((i // 8) >> (8 * (i % 8))) & 0xFF for i in range(size))
    return hashlib.sha256(data).hexdigest()


def case_example_c(case):
    """examples/c built against the installed library"""
    if shutil.which("pkg-config") is None or shutil.which("cc") is None:
        raise rs.Skip("no pkg-config or cc")
    prefix, pc_dir, lib_dir = install_library(case)
    # A sanitized library (ci-asan) loads only into a program whose runtime comes first.
    sanitize = ["-fsanitize=address,undefined"] if rs.is_sanitized(
        os.path.join(lib_dir, "libtapestream.so.1")) else []
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
    flags = run(case, ["pkg-config", "--cflags", "--libs", "tapestream"], env=env)
    case.require(flags.returncode == 0, "pkg-config --cflags --libs tapestream")
    source = os.path.join(os.environ["TS_SOURCE_DIR"], "examples", "c", "tapestream_put.c")
    put = case.path("tapestream-put")
    p = run(case, ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", *sanitize, "-o", put, source,
                   *flags.stdout.split()], env=env)
    case.require(p.returncode == 0, "the example compiles with cc $(pkg-config --cflags --libs tapestream)")
    run_env = dict(os.environ, LD_LIBRARY_PATH=lib_dir)
    d = emulated_daemon(case)
    size = 5 * 1024 * 1024 + 3
    p = run(case, [put, "-s", d.socket, "-l", "pattern", "-p", str(size)], env=run_env)
    case.require(p.returncode == 0, "tapestream-put -p streams a pattern")
    case.check(p.stdout.split() == ["file", "0", "bytes", str(size), "sha256", pattern_sha(size)],
               f"it reports file 0, {size} bytes and the pattern's sha256")
    case.check(cli_read_sha(case, d, 0) == pattern_sha(size), "the CLI reads the pattern back")
    data = case.path("source.bin")
    with open(data, "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 11))
    p = run(case, [put, "-s", d.socket, data], env=run_env)
    case.require(p.returncode == 0, "tapestream-put FILE streams the file by fd passing")
    case.check(cli_read_sha(case, d, 1) == sha256sum(data), "the CLI reads the file back (sha256sum)")
    # The same example through the CMake package.
    build = case.path("example-build")
    p = run(case, ["cmake", "-S", os.path.dirname(source), "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
                   f"-DCMAKE_C_FLAGS={' '.join(sanitize)}"])
    case.require(p.returncode == 0, "find_package(tapestream 1) configures the example")
    p = run(case, ["cmake", "--build", build])
    case.require(p.returncode == 0, "the example builds against tapestream::tapestream")
    p = run(case, [os.path.join(build, "tapestream-put"), "-s", d.socket, data], env=run_env)
    case.check(p.returncode == 0 and p.stdout.split()[:2] == ["file", "2"],
               "the CMake-built example writes file 2")
    p = run(case, [put, "-s", case.path("nobody.sock"), "-p", "10"], env=run_env)
    case.check(p.returncode == 1 and "nobody.sock" in p.stderr,
               "no daemon: exit 1 with the library's message naming the socket")


def case_example_python(case):
    """examples/python/roundtrip.py"""
    d = emulated_daemon(case)
    script = os.path.join(os.environ["TS_SOURCE_DIR"], "examples", "python", "roundtrip.py")
    p = run(case, [sys.executable, "-B", script, d.socket, "emu0"])
    case.require(p.returncode == 0, f"roundtrip.py exits 0 (rc {p.returncode})")
    first = [line.split() for line in p.stdout.splitlines() if line.startswith("file 0 ")]
    case.require(len(first) == 1, "roundtrip.py wrote file 0")
    case.check(cli_read_sha(case, d, 0) == first[0][3], "the CLI reads its file 0 with the same sha256sum")


CASES = {"c_api": case_c_api, "volume_full": case_volume_full, "shared_read": case_shared_read, "cpp_layer": case_cpp_layer,
         "gone": case_gone, "out_of_step": case_out_of_step, "hostile_shared": case_hostile_shared, "sigpipe": case_sigpipe, "example_c": case_example_c,
         "example_python": case_example_python}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
