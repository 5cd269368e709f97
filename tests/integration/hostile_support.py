"""What the hostile cases of hostile_suite.py share: the seed and the drive, a daemon warmed up
with its baseline of descriptors and RSS and a STATUS probe, the check that all is back at the
baseline (settle), and the replies a case expects: ERROR, STREAM_FAILED, the frames of
pipelined requests. Stdlib only."""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from reliability_support import ERROR, STREAM_FAILED, Tape, wait_until  # noqa: E402

SEED = int(os.environ.get("TAPESTREAM_SEED", "20260901"))
DRIVE = "emu0"


def start(case, args=(), wrapper=()):
    """A daemon, warmed by one write and read, its baseline taken, a STATUS probe running."""
    d = case.daemon("h", args=args, wrapper=wrapper)
    src = rs.Source(case, "warm", 700000, SEED)
    r = case.write(d, src.path, "file")
    case.require(r.committed, f"warm-up write: {r}")
    case.require(case.read_back(d, 0)[1] == src.data, "warm-up read")
    d.tape = Tape(case)
    d.tape.files.append((src.data, 3))
    d.baseline = (rs.fd_count(d.pid), rs.rss_kib(d.pid))
    d.probe = rs.StatusProbe(d.socket, DRIVE)
    d.probe.start()
    case.note(f"baseline: {d.baseline[0]} descriptors, VmRSS {d.baseline[1]} KiB")
    return d


def offered(case, option, value):
    """[option, value] when the daemon has the option; else none, so that a daemon that
    predates it shows its defect against its own default (a bound of the test then fails)."""
    if rs.daemon_offers(case.daemon_bin, option):
        return [option, value]
    case.note(f"this tapestreamd has no {option}: running with its default")
    return []


def settle(case, d):
    """The probe's verdict; descriptors and RSS back at the baseline; the daemon still serves."""
    d.probe.finish(case)
    fds = wait_until(lambda: rs.fd_count(d.pid) <= d.baseline[0] and rs.fd_count(d.pid), 10)
    fds = fds or rs.fd_count(d.pid)
    case.check(fds <= d.baseline[0], f"descriptors back at the baseline: {fds} now, {d.baseline[0]} before")
    margin = 512 * 1024 if rs.is_sanitized(case.daemon_bin) else max(16 * 1024, d.baseline[1] // 4)
    rss = rs.rss_kib(d.pid)
    case.check(rss <= d.baseline[1] + margin, f"VmRSS {rss} KiB, baseline {d.baseline[1]} KiB (+{margin} allowed)")
    case.check(d.answers(), "the daemon still answers")


def hello_conn(d, features=0):
    return rs.connect(d.socket, features)


def expect_error(case, what, c, payload, status, fds=()):
    """`payload` answered by ERROR `status`."""
    try:
        c.send(payload, fds)
        f = c.final(3)
    except OSError as e:
        f = e
    ok = isinstance(f, rs.Frame) and f.type == ERROR and f.status == status
    case.check(ok, f"{what}: ERROR {rs.status_name(status)} expected, got {f!r}")
    return ok


def next_write(case, d, what):
    """A plain CLI write with --no-wait: the drive is free and the file number is the next."""
    src = rs.Source(case, f"next{len(d.tape.files)}", 300001, SEED)
    r = case.write(d, src.path, "file", ["--no-wait"])
    case.check(r.committed, f"{what}: the next write (--no-wait) commits: {r}")
    d.tape.record(f"{what}: the next write", r, src.data, d=d)


def stream_failed(case, what, c, status, deadline):
    """The final reply is STREAM_FAILED `status` within `deadline` s; its fields or None."""
    start = time.monotonic()
    try:
        f = c.final(deadline)
    except OSError as e:
        f = e
    took = time.monotonic() - start
    ok = isinstance(f, rs.Frame) and f.type == STREAM_FAILED and f.status == status
    case.check(ok, f"{what}: STREAM_FAILED {rs.status_name(status)} within {deadline} s: {f!r} after {took:.1f} s")
    return f.failed() if ok else None


def record_failed(case, d, what, failed, sent, closed=False):
    """A STREAM_FAILED's count reads back exactly (a prefix of what was sent); with `closed`,
    data on tape is closed by a filemark."""
    if failed is None:
        return
    n = failed["bytes"]
    case.check(n <= len(sent), f"{what}: {n} of {len(sent)} bytes reported")
    if closed and n:
        case.check(failed["filemark"], f"{what}: the {n} bytes on tape are closed by a filemark")
    mark = "closed" if failed["filemark"] else "not closed"
    r = rs.CliResult(1, b"", f"{n} bytes of the stream ({failed['blocks']} blocks) are on the tape as file "
                             f"{failed['file']}, {mark} by a filemark", 0)
    d.tape.record(what, r, sent, None, d)


def frames_until(c, count, deadline=5):
    got = []
    while len(got) < count:
        try:
            f = c.recv_frame(deadline)
        except OSError as e:
            got.append(str(e) or type(e).__name__)
            break
        if f is None:
            break
        if f.type != rs.PROGRESS:
            got.append((f.type, f.rid))
    return got
