#!/usr/bin/env python3
"""Issue 13, item 4: per-stream telemetry on a real daemon whose drive model (the null drive,
buffer=16M, 40 MB/s down to 20 MB/s, 300 ms per backhitch) is fed in bursts with stalls. Cases:
  frames   a raw client granted `telemetry` writes 8 MiB bursts with 2 s stalls: every PROGRESS
           is 80 bytes; the drive's wait for data grows across the stalls, the backhitch count
           (from the drive's log page 3Ch) reaches the stalls', fills are per mille, the rates are
           of the drive's bytes; the journal summary of the stream says the same; a client not
           granted it gets the old 24-byte PROGRESS of the same daemon
  marks    WRITE with the stream's own start mark (appended fields): 100 % holds 2 MiB of a
           4 MiB pool back from the tape until END, 1 % sends it while the stream is open
Usage: telemetry_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail."""
import os
import re
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol_frames as pf  # noqa: E402
import reliability_support as rs  # noqa: E402

MIB = 1 << 20
MODEL = "buffer=16M&rate=40M&min_rate=20M&backhitch=300ms"
TELEMETRY = 0x20  # feature bit
W_PROGRESS = 16
UNKNOWN = (1 << 64) - 1


def telemetry_of(body):
    """The PROGRESS fields (PROTOCOL.md) as a dict; the telemetry ones only when present."""
    bytes_, on_tape, full, buffers = struct.unpack_from("<QQII", body, 0)
    out = {"bytes": bytes_, "on_tape": on_tape, "full": full, "buffers": buffers, "length": len(body)}
    if len(body) == 80:
        (out["waited_ns"], out["backhitches"], out["rate_now"], out["rate_average"], out["fill_now"],
         out["fill_min"], out["state"], out["owner_uid"], reserved, out["owner_since"]) = \
            struct.unpack_from("<QQQQHHIIIQ", body, 24)
        out["reserved"] = reserved
    return out


def paced_stream(conn, bursts, rate, stall):
    """DATA of `bursts` (sizes) at `rate` bytes/s, `stall` s between bursts; the PROGRESS frames
    that came meanwhile and the final reply."""
    progress, total, step = [], 0, 256 * 1024

    def drain():
        conn.sock.setblocking(False)
        try:
            while True:
                f = conn.recv_frame()
                if f is None:
                    break
                progress.append(f)
        except (BlockingIOError, OSError):
            pass
        finally:
            conn.sock.setblocking(True)
            conn.sock.settimeout(30)

    for i, size in enumerate(bursts):
        if i > 0:
            until = time.monotonic() + stall
            while time.monotonic() < until:
                drain()
                time.sleep(0.05)
        start = time.monotonic()
        for at in range(0, size, step):
            delay = start + at / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            conn.send(pf.data_frames(rs.make_data(total + at, step), step=conn.max_data))
        total += size
    conn.send(pf.frame(pf.END, pf.end_body(total)))
    while True:
        f = conn.recv_frame(60)
        if f is None or f.type != pf.PROGRESS:
            return [p for p in progress if p.type == pf.PROGRESS], f, total
        progress.append(f)


def frames(case):
    """PROGRESS with telemetry to a client that asked, without to one that did not."""
    d = case.daemon(drives=[f"m=null:?{MODEL}"], args=["--pool-size", "8M"])
    with pf.connect(d.socket, TELEMETRY) as conn:
        ready = conn.request(pf.WRITE, pf.write_body("m", flags=pf.W_APPEND | W_PROGRESS))
        case.require(ready is not None and ready.type == pf.READY, f"READY: {ready}")
        progress, final, total = paced_stream(conn, [8 * MIB] * 4, 30 * MIB, 2.0)
    case.require(final is not None and final.type == pf.COMMITTED, f"the stream commits: {final}")
    case.require(len(progress) >= 6, f"PROGRESS came while the stream ran: {len(progress)}")
    seen = [telemetry_of(p.body) for p in progress]
    case.check(all(s["length"] == 80 for s in seen),
               f"every PROGRESS carries the telemetry (80 bytes): {sorted({s['length'] for s in seen})}")
    case.check(all(s["reserved"] == 0 and s["state"] == 0 and s["fill_now"] <= 1000 and
                   s["fill_min"] <= s["fill_now"] for s in seen),
               "fills are per mille, the minimum at most the fill now, state streaming")
    last = seen[-1]
    waited = last["waited_ns"] / 1e9
    case.check(waited >= 3.0,
               f"the drive waited for data through most of the three 2 s stalls: {waited:.2f} s")
    case.check(all(a["waited_ns"] <= b["waited_ns"] for a, b in zip(seen, seen[1:])),
               "the wait only grows")
    hitches = [s["backhitches"] for s in seen if s["backhitches"] != UNKNOWN]
    case.check(bool(hitches) and 2 <= max(hitches) <= 4,
               f"the drive's backhitches of the stream (log page 3Ch): {hitches[-3:] if hitches else 'none'}")
    case.check(all(s["fill_min"] == 0 for s in seen[-3:]), "the pool ran dry in the stalls (minimum 0)")
    case.check(max(s["rate_now"] for s in seen) >= 10e6,
               f"a rate over the last second while the drive wrote: {max(s['rate_now'] for s in seen)} B/s")
    case.check(0 < last["rate_average"] <= 40e6 * 1.1,
               f"an average rate within the drive's 40 MB/s: {last['rate_average']} B/s")
    summary = re.search(r"file 0 committed.*", d.log())
    case.check(summary is not None and re.search(r"the drive waited \d+\.\d s for data, \d+ "
                                                  r"backhitches, pool fill at least \d+ %", summary[0]),
               f"the journal summary says how the drive was fed: {summary[0] if summary else 'none'}")

    with pf.connect(d.socket, 0) as conn:
        ready = conn.request(pf.WRITE, pf.write_body("m", flags=pf.W_APPEND | W_PROGRESS))
        case.require(ready is not None and ready.type == pf.READY, f"READY: {ready}")
        progress, final, _ = paced_stream(conn, [4 * MIB, 4 * MIB], 20 * MIB, 1.0)
    case.check(final is not None and final.type == pf.COMMITTED, f"the old client's stream commits: {final}")
    case.check(bool(progress) and all(len(p.body) == 24 for p in progress),
               f"a client not granted `telemetry` gets 24-byte PROGRESS: {sorted({len(p.body) for p in progress})}")


def on_tape_before_end(d, start_mark):
    """The bytes on tape PROGRESS reports 1.5 s after 2 MiB were sent, before END."""
    with pf.connect(d.socket, TELEMETRY) as conn:
        body = pf.write_body("m", flags=pf.W_APPEND | W_PROGRESS) + struct.pack("<HH", start_mark, 0)
        ready = conn.request(pf.WRITE, body)
        if ready is None or ready.type != pf.READY:
            return None, ready
        conn.send(pf.data_frames(rs.make_data(1, 2 * MIB), step=conn.max_data))
        time.sleep(1.5)
        conn.send(pf.frame(pf.END, pf.end_body(2 * MIB)))
        seen, final = [], None
        while True:
            f = conn.recv_frame(30)
            if f is None or f.type != pf.PROGRESS:
                final = f
                break
            seen.append(telemetry_of(f.body))
        # The PROGRESS frames before the last one (sent with the final reply) came before END.
        return max([s["on_tape"] for s in seen[:-1]] or [0]), final


def marks(case):
    """A stream's own start mark decides when its data reaches the tape."""
    d = case.daemon(drives=[f"m=emulated:{case.path('m.tap')}"], args=["--pool-size", "4M"])
    held, final = on_tape_before_end(d, 100)
    case.check(final is not None and final.type == pf.COMMITTED, f"start mark 100 %: commits ({final})")
    case.check(held == 0, f"start mark 100 %: nothing on the tape before END ({held} bytes)")
    early, final = on_tape_before_end(d, 1)
    case.check(final is not None and final.type == pf.COMMITTED, f"start mark 1 %: commits ({final})")
    case.check(early is not None and early > 0,
               f"start mark 1 %: the data reached the tape before END ({early} bytes)")


if __name__ == "__main__":
    sys.exit(rs.main({"frames": frames, "marks": marks}))
