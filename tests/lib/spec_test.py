#!/usr/bin/env python3
"""What proto/PROTOCOL.md says of request ids, file numbers, "not known" values and pipelining
(issue 14, item 5), held against a real tapestreamd with an emulated drive, in raw frames
(tests/integration/protocol_frames.py). Each check names the PROTOCOL.md statement it pins.
Usage: spec_test.py DAEMON CLI CASE (CASE: frames). Exit 0 pass, 1 fail, 77 skipped."""
import os
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import protocol_frames as pf  # noqa: E402
import reliability_support as rs  # noqa: E402

CURRENT_FILE = 2**64 - 1


def ready(f):
    return struct.unpack_from("<QII", f.body)


def case_frames(case):
    """request ids, files from 0, READY's unknowns, pipelining"""
    d = case.daemon(drives=[f"emu0=emulated:{case.path('tape.tap')}"])
    with pf.connect(d.socket) as c:
        # Files count from 0; READY's block size is the one in force, the default for a WRITE's 0.
        c.send(pf.frame(pf.WRITE, pf.write_body("emu0"), rid=41))
        f = c.final()
        case.require(f is not None and f.type == pf.READY and f.rid == 41, f"WRITE id 41: READY id 41 ({f})")
        number, block_size, flags = ready(f)
        case.check(number == 0, f"the first file on a blank tape is file 0 (READY says {number})")
        case.check(block_size > 0, f"READY names the block size in force, not the WRITE's 0 ({block_size})")
        # DATA and END with other ids than the WRITE's: the daemon does not look at them.
        c.send(pf.frame(pf.DATA, b"x" * 1000, rid=999) + pf.frame(pf.END, pf.end_body(1000), rid=12345))
        f = c.final()
        case.check(f is not None and f.type == pf.COMMITTED and f.rid == 41,
                   f"DATA and END with other ids commit, and COMMITTED carries the WRITE's id 41 ({f})")
        # A READ of the file where the tape stands: READY echoes 2^64-1, block size 0, flags 0.
        c.send(pf.frame(pf.CONTROL, pf.control_body(1, "emu0"), rid=5))  # rewind
        f = c.final()
        case.check(f is not None and f.type == pf.CONTROL_DONE and f.rid == 5, f"rewind answered with id 5 ({f})")
        c.send(pf.frame(pf.READ, pf.read_body("emu0", CURRENT_FILE), rid=6))
        f = c.final()
        case.require(f is not None and f.type == pf.READY and f.rid == 6, f"READ id 6: READY id 6 ({f})")
        case.check(ready(f) == (CURRENT_FILE, 0, 0),
                   f"a READ's READY: file number as requested (2^64-1), block size 0, flags 0 ({ready(f)})")
        kinds = []
        while True:
            f = c.final()
            case.require(f is not None, "the READ ends")
            case.check(f.rid == 6, f"every frame of the READ's answer carries id 6 ({f})")
            kinds.append(f.type)
            if f.type != pf.DATA:
                break
        case.check(kinds[-1] == pf.END, f"the READ ends with END ({kinds[-1]:#06x})")
        # Pipelining, with ids neither unique nor increasing: answered in order, each its id.
        c.send(pf.frame(pf.STATUS, pf.status_body("emu0"), rid=9) +
               pf.frame(pf.LIST_DRIVES, b"", rid=9) + pf.frame(pf.STATUS, pf.status_body("emu0"), rid=3))
        got = [c.final() for _ in range(3)]
        case.check([(f.type, f.rid) for f in got if f is not None] ==
                   [(pf.DRIVE_STATUS, 9), (pf.DRIVE_LIST, 9), (pf.DRIVE_STATUS, 3)],
                   f"three pipelined requests answered in order with their ids ({got})")
        # A refused frame: ERROR with the id of the request the daemon last took, not the frame's.
        c.send(pf.frame(pf.END, pf.end_body(0), rid=77))
        f = c.final()
        case.check(f is not None and f.type == pf.ERROR and pf.status_name(f.status) == "out_of_sequence"
                   and f.rid == 3, f"END outside a stream: ERROR out_of_sequence with id 3, the last request's ({f})")
    with pf.connect(d.socket) as c:
        # During a write's data phase a refusal carries the WRITE's id.
        c.send(pf.frame(pf.WRITE, pf.write_body("emu0"), rid=21))
        f = c.final()
        case.require(f is not None and f.type == pf.READY, f"a second WRITE starts ({f})")
        case.check(ready(f)[0] == 1, f"the next file is file 1 ({ready(f)[0]})")
        c.send(pf.frame(pf.LIST_DRIVES, b"", rid=22))
        f = c.final()
        case.check(f is not None and f.type == pf.ERROR and f.rid == 21,
                   f"a request in a socket write's data phase: ERROR with the WRITE's id 21 ({f})")


CASES = {"frames": case_frames}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
