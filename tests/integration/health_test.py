#!/usr/bin/env python3
"""Drive and cartridge health (issue 12, item 5) with a real daemon on the emulated drive:
`tapestream status` shows capacity, remaining, the position as file and block within the file,
and volume statistics, "unknown"/null where the drive gave nothing; an injected TapeAlert
warning shows by name and severity in a second status too and is logged once; an injected
critical flag ends a write with STREAM_FAILED whose count is exactly what `tapestream read`
returns, naming the flag; a client without the `health` feature gets the version-1 layout.
Usage: health_test.py DAEMON CLI CASE. Exit 0/1/77."""
import json
import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from protocol_frames import DRIVE_STATUS, STATUS, connect, status_body  # noqa: E402

MIB = 1 << 20


def emu(case, options=""):
    return f"emu0=emulated:{case.path('t.tap')}?capacity=64M{options}"


def status_json(case, d):
    r = case.cli(d, ["status", "--json"])
    case.require(r.rc == 0, f"status --json exits 0 ({r})")
    return json.loads(r.out)


def write_bytes(case, d, size, name):
    src = case.path(name)
    with open(src, "wb") as f:
        f.write(os.urandom(size))
    return case.write(d, src), src


def status_fields(case):
    """capacity, remaining, file/block in file, statistics; unknown never reads 0"""
    d = case.daemon(drives=[emu(case)])
    s = status_json(case, d)
    case.check(s["capacity_mib"] == 64 and s["remaining_mib"] == 64, f"an empty 64M tape: {s['capacity_mib']}/{s['remaining_mib']} MiB")
    case.check(s["file"] == 0 and s["block_in_file"] == 0 and s["block"] == 0, "at BOP: file 0, block 0")
    case.check(s["tape_alerts"] == [] and s["cleaning_requested"] is False, "no TapeAlert flag, no cleaning request")
    stats = s["volume_statistics"]
    case.check(stats["loads"] == 1, f"one load: {stats['loads']}")
    case.check(stats["mb_written_lifetime"] is None and stats["write_retries"] is None,
               "what the emulated drive does not report is null, not 0")
    case.check(s["density_code"] == 0x80 and s["density_name"] == "vendor specific", f"density {s['density_code']} {s['density_name']}")
    r, _ = write_bytes(case, d, 3 * MIB, "a")
    case.require(r.committed, f"3 MiB committed ({r})")
    r = case.cli(d, ["rewind"])
    r = case.cli(d, ["fsr", "5"])
    case.require(r.rc == 0, f"fsr 5 ({r})")
    s = status_json(case, d)
    case.check(s["file"] == 0 and s["block_in_file"] == 5 and s["block"] == 5, f"file 0, block 5: {s['file']}/{s['block_in_file']}/{s['block']}")
    case.check(s["remaining_mib"] < 64 and s["volume_statistics"]["mb_written_this_load"] == 3,
               f"remaining {s['remaining_mib']} MiB, {s['volume_statistics']['mb_written_this_load']} MB written")
    listed = json.loads(case.cli(d, ["list", "--json"]).out)
    serial = listed["volume"]["medium_serial"]
    case.check(bool(serial) and s["medium_serial"] == serial,
               f"status names the cartridge by the medium serial the catalog recorded: {s['medium_serial']!r} / {serial!r}")
    text = case.cli(d, ["status"]).out.decode()
    case.check(f"medium serial {serial}" in text, "text shows the medium serial")
    case.check("File number=0, block number=5" in text, "text shows mt's File number=, block number=")
    case.check("capacity:     64 MiB" in text and "lifetime:     unknown written" in text,
               "text shows the capacity, and unknown for what is not known")


def warning_flag(case):
    """an injected warning flag (21, Cleaning requested) shows twice and is logged once"""
    d = case.daemon(drives=[emu(case, "&tape_alert=21@1M")])
    r, _ = write_bytes(case, d, 3 * MIB, "a")
    case.require(r.committed, f"a warning does not end the write ({r})")
    for n in (1, 2):
        s = status_json(case, d)
        case.check(s["tape_alerts"] == [{"flag": 21, "name": "Cleaning requested", "severity": "warning"}],
                   f"status {n} shows flag 21 by name and severity: {s['tape_alerts']}")
        case.check(s["cleaning_requested"] is True, f"status {n}: cleaning requested")
    text = case.cli(d, ["status"]).out.decode()
    case.check("tapealert:    21 Cleaning requested (warning)" in text, "text names the flag")
    log = d.log()
    case.check(log.count("TapeAlert flag 21 (Cleaning requested), warning") == 1, "the warning is logged once")


def critical_flag(case):
    """an injected critical flag (31, Hardware B) ends a write between WRITE commands"""
    # A 4 MiB pool: the first 2 MiB reach the drive before the producer's pause (the default
    # pool's start mark would hold all 10 MiB back until the end).
    d = case.daemon(drives=[emu(case, "&tape_alert=31@1M")],
                    args=["--tapealert-interval", "1", "--pool-size", "4M"])
    src = case.path("producer")
    with open(src, "w") as f:
        f.write("head -c 2097152 /dev/urandom; sleep 2; head -c 8388608 /dev/urandom\n")
    r = case.cli(d, ["write", "--", "sh", src], timeout=60)
    case.check(r.rc == 74 and not r.committed, f"the write fails with a drive error, exit 74 ({r})")
    case.check("critical TapeAlert flag 31 (Hardware B)" in r.err, "the message names the flag")
    case.require(r.reported is not None, "the failure reports what is on the tape")
    on_tape = r.reported[0]
    case.check(0 < on_tape < 10 * MIB, f"the stream ended early: {on_tape} bytes on the tape")
    back, data = case.read_back(d, 0)
    case.check(back.rc == 0 and len(data) == on_tape, f"read returns exactly the reported {on_tape} bytes: {len(data)}")
    case.check("critical TapeAlert flag 31 (Hardware B); the stream ends" in d.log(), "the daemon logs it")


def v1_layout(case):
    """a client without `health` gets the version-1 DRIVE_STATUS layout"""
    d = case.daemon(drives=[emu(case, "&tape_alert=21@1M")])
    r, _ = write_bytes(case, d, 2 * MIB, "a")
    case.require(r.committed, f"written ({r})")
    with connect(d.socket, features=0) as c:
        f = c.request(STATUS, status_body("emu0"))
    case.require(f is not None and f.type == DRIVE_STATUS, "DRIVE_STATUS")
    body = f.body
    case.check(body[65:72] == bytes(7), "bytes 65..71 are 0")
    at, strings = 72, []
    for _ in range(7):
        n = struct.unpack_from("<H", body, at)[0]
        strings.append(body[at + 2:at + 2 + n])
        at += 2 + n
    case.check(at == len(body), f"nothing follows the strings ({len(body) - at} bytes)")
    alerts, capacity, remaining = struct.unpack_from("<QQQ", body, 32)
    case.check(alerts == 1 << 20 and capacity == 64 and 0 < remaining < 64,
               f"TapeAlert/capacity/remaining filled: {alerts:#x} {capacity} {remaining}")
    with connect(d.socket, features=4) as c:
        f = c.request(STATUS, status_body("emu0"))
    case.check(f.body[65] & 0x7 == 0x7 and len(f.body) > at, "with `health`: known mask and extension")


if __name__ == "__main__":
    sys.exit(rs.main({"status_fields": status_fields, "warning_flag": warning_flag,
                      "critical_flag": critical_flag, "v1_layout": v1_layout}))
