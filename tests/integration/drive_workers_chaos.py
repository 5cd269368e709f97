#!/usr/bin/env python3
"""The chaos case of drive_workers_test.py: clients that move between three drives' workers
with streams, and leave at bad moments. Each of CLIENTS threads opens connections and sends a
few random requests on each: STATUS, CONTROL tell, a write through the socket (committed, or
aborted with ABORT, or left by closing the socket in the middle of its data), a write by fd
passing from a pipe, and a read of file 0. Writes never wait for a busy drive (BUSY is a
correct answer). Afterwards: no wrong answer, the daemon alive, its descriptors back to where
they were, every drive idle, every committed file reads back identical (by the file number
COMMITTED gave), and SIGTERM ends the daemon with 0 within 10 s. Stdlib only."""
import os
import random
import socket
import struct
import threading
import time

import reliability_support as rs
from reliability_support import (ABORT, BUSY, COMMITTED, CONTROL, CONTROL_DONE, DATA, DRIVE_STATUS,  # noqa: E402
                                 END, ERROR, INCOMPLETE, MIB, OP_TELL, READ, READY, STATUS,
                                 STREAM_FAILED, W_APPEND, W_FD, W_NO_WAIT, WRITE, wait_until)
# (drive_workers_test.py puts this folder on sys.path before importing this module.)
from protocol_frames import abort_body, control_body, end_body, frame, read_body, status_body  # noqa: E402

CLIENTS = 12
SECONDS = 8
DRIVES = "abc"


def write_over_socket(c, drive, data, ending, rid):
    """WRITE through the socket; `ending` is "end", "abort" or "vanish". Returns the final frame
    (None after "vanish"), or the refusal."""
    f = c.request(WRITE, rs.write_body(drive, W_APPEND | W_NO_WAIT), rid=rid, timeout=30)
    if f is None or f.type != READY:
        return f
    cut = len(data) if ending == "end" else len(data) // 2
    c.send(rs.data_frames(data[:cut], rid=rid, step=c.max_data))
    if ending == "vanish":
        c.sock.shutdown(socket.SHUT_RDWR)
        return None
    if ending == "abort":
        c.send(frame(ABORT, abort_body("chaos"), rid))
    else:
        c.send(frame(END, end_body(len(data)), rid))
    return c.final(30)


def write_by_fd(c, drive, data, rid):
    r, w = os.pipe()
    f = c.request(WRITE, rs.write_body(drive, W_APPEND | W_NO_WAIT | W_FD), rid=rid, fds=[r], timeout=30)
    os.close(r)
    if f is None or f.type != READY:
        os.close(w)
        return f
    with os.fdopen(w, "wb") as pipe:
        rs.feed(pipe, data)
    return c.final(30)


def read_file0(c, drive, rid):
    f = c.request(READ, read_body(drive, 0), rid=rid, timeout=30)
    if f is None or f.type != READY:
        return f
    while True:
        f = c.recv_frame(30)
        if f is None or f.type != DATA:
            return f


def client(socket_path, seed, until, tally, lock):
    rnd = random.Random(seed)
    while time.monotonic() < until:
        try:
            with rs.connect(socket_path, features=1, timeout=30) as c:
                for rid in range(1, rnd.randrange(2, 5)):
                    drive = rnd.choice(DRIVES)
                    action = rnd.choice(("status", "tell", "write", "write", "fd", "abort", "vanish", "read"))
                    data = rnd.randbytes(rnd.randrange(1, 3 * MIB)) if action in ("write", "fd", "abort", "vanish") else b""
                    if action == "status":
                        f = c.request(STATUS, status_body(drive), rid=rid, timeout=30)
                        ok = f is not None and f.type == DRIVE_STATUS
                    elif action == "tell":
                        f = c.request(CONTROL, control_body(OP_TELL, drive), rid=rid, timeout=30)
                        ok = f is not None and (f.type == CONTROL_DONE or (f.type == ERROR and f.status == BUSY))
                    elif action == "read":
                        f = read_file0(c, drive, rid)
                        ok = f is not None and f.type in (END, STREAM_FAILED, ERROR)
                    elif action == "fd":
                        f = write_by_fd(c, drive, data, rid)
                        ok = f is not None and (f.type == COMMITTED or (f.type == ERROR and f.status == BUSY))
                    else:
                        f = write_over_socket(c, drive, data, {"write": "end"}.get(action, action), rid)
                        if action == "vanish":
                            with lock:
                                tally["vanished"] += f is None
                            break  # the socket is gone
                        ok = f is not None and (
                            f.type == COMMITTED or (f.type == ERROR and f.status == BUSY) or
                            (action == "abort" and f.type == STREAM_FAILED and f.status == INCOMPLETE))
                    with lock:
                        if not ok:
                            tally["wrong"].append(f"{action} on {drive}: {f}")
                            return
                        tally[action] += 1
                        if f.type == COMMITTED:
                            tally["files"][drive][struct.unpack_from("<Q", f.body, 16)[0]] = data
        except (OSError, ConnectionError) as e:
            with lock:
                tally["wrong"].append(f"connection: {e!r}")
            return


def run(case):
    images = {n: case.path(f"{n}.tap") for n in DRIVES}
    d = case.daemon(drives=[f"{n}=emulated:{p}" for n, p in images.items()])
    baseline = rs.fd_count(d.pid)
    tally = {"wrong": [], "vanished": 0, "files": {n: {} for n in DRIVES},
             **{a: 0 for a in ("status", "tell", "write", "fd", "abort", "vanish", "read")}}
    lock = threading.Lock()
    until = time.monotonic() + SECONDS
    threads = [threading.Thread(target=client, args=(d.socket, 1000 + i, until, tally, lock))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    tally["vanish"] = tally["vanished"]  # counted apart: a client that vanished has no answer
    counts = ", ".join(f"{a} {tally[a]}" for a in ("status", "tell", "write", "fd", "abort", "vanish", "read"))
    case.check(not tally["wrong"], f"no wrong answer ({counts}); wrong: {tally['wrong'][:3] or 'none'}")
    committed = sum(len(f) for f in tally["files"].values())
    case.check(committed >= 6 and tally["vanished"] >= 1, f"{committed} files committed, enough to mean something")
    case.require(d.alive(), "the daemon is alive")
    case.check(all(d.wait_idle(n, 30) for n in DRIVES), "every drive is idle again")
    case.check(wait_until(lambda: rs.fd_count(d.pid) <= baseline, 10),
               f"descriptors back to {baseline} (now {rs.fd_count(d.pid)})")
    for drive, files in tally["files"].items():
        same = [n for n, data in sorted(files.items()) if case.read_back(d, n, drive=drive)[1] == data]
        case.check(len(same) == len(files), f"{drive}: {len(same)} of {len(files)} committed files read back identical")
    started = time.monotonic()
    code = d.stop(30)
    case.check(code == 0 and time.monotonic() - started < 10,
               f"SIGTERM: exit {code} after {time.monotonic() - started:.1f} s")
