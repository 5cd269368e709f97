#!/usr/bin/env python3
"""Issue 11, item 5 (the fast half): tapestreamd as a systemd service, tested on any machine
with real processes: systemd-socket-activate in the service manager's place, a notification
socket of the test's own (NOTIFY_SOCKET), a fake journald in a private mount namespace. Cases:
  activation    the daemon adopts the activated socket (the connection that started it is
                served, `tapestream status` works), READY=1 only once every drive is identified,
                STATUS= in words that name the drives and a running stream's file and rate,
                WATCHDOG=1 every WatchdogSec/2, every notification from the daemon's own pid
                (NotifyAccess=main), STOPPING=1 on SIGTERM, exit 0, the socket file left to
                the manager
  watchdog      a drive whose WRITE never completes (hang=write) does not stop the pings; a
                drive whose worker thread blocks in the kernel (wedge=write) does: the daemon
                logs which drive, STATUS= says so, the other drives still answer, and SIGTERM
                still ends the daemon (exit 1) within stop-timeout + 15 s
  not_ready     a drive that cannot be set up: no READY=1, exit 78
  wrong_socket  an activated socket on another path, two sockets, a datagram socket: each exit
                78 with what is wrong and how to fix it
  socket_access a socket the daemon binds: group tape and mode 0660 by default, socket-group
                and socket-mode applied, bad values exit 78; not root: the default group is
                kept (said at info), an explicit group it is not in is exit 78
  journal       --log-target journal: every line in the journal with PRIORITY and
                SYSLOG_IDENTIFIER, one summary per stream (write committed, write failed, read)
                with TAPESTREAM_DRIVE/FILE/BYTES/RATE/RESULT/CLIENT_UID/LABEL; auto chooses the
                journal for JOURNAL_STREAM = stderr's device:inode or INVOCATION_ID with parent
                PID 1 (not an INVOCATION_ID a service's child inherited), else stderr;
                a journal that takes nothing: the lines go to stderr
Usage: service_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skip."""
import grp
import hashlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
import service_support as ss  # noqa: E402

WATCHDOG_USEC = 2_000_000  # pings every 1 s
PING = WATCHDOG_USEC / 2e6
IDENTIFIED = re.compile(r"info drive (\S+): .* serial ")


def notifications(case):
    n = ss.Notifications(case.path("notify.sock"))
    case.at_exit(n.close)
    return n


def service_env(notify):
    return {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)}


def ping_gaps(notify, since):
    times = [t for t in notify.times("WATCHDOG", "1") if t >= since]
    return [b - a for a, b in zip(times, times[1:])]


def wait_pings(notify, count, since, deadline):
    return rs.wait_until(lambda: len([t for t in notify.times("WATCHDOG", "1") if t >= since]) >= count,
                         deadline, 0.05)


class Feeder(threading.Thread):
    """Feeds a spawned `tapestream write` until told to stop, then closes its stdin."""

    def __init__(self, proc):
        super().__init__(daemon=True)
        self.proc, self.done, self.sent = proc, threading.Event(), 0
        self.start()

    def run(self):
        chunk = bytes(256 * 1024)
        while not self.done.is_set():
            try:
                self.proc.stdin.write(chunk)
                self.proc.stdin.flush()
                self.sent += len(chunk)
            except (BrokenPipeError, ValueError, OSError):
                return
            self.done.wait(0.005)  # a steady stream, not a flood: the null drive takes anything

    def finish(self):
        self.done.set()
        self.join(30)


def case_activation(case):
    """the daemon adopts the socket; READY, STATUS, WATCHDOG, STOPPING"""
    notify = notifications(case)
    image = case.path("e.tap")
    sock = case.path("act.sock")
    seen = {}

    d = None

    def at_ready(record):  # the daemon's log as it stood when READY=1 came
        if b"READY=1" in record[2] and d is not None:
            seen["log"] = d.log()
    notify.on_message = at_ready
    d = ss.Activated(case, "act", [sock], sock, drives=["a=null:", f"e=emulated:{image}"], env=service_env(notify))
    case.check(not d.execed() and not notify.snapshot(),
               "before a client connects, the activator waits and nothing is notified")
    status = case.cli(d, ["--drive", "e", "status"], timeout=30)
    case.require(status.rc == 0 and b"drive:        e" in status.out,
                 f"the connection that activated the daemon is served: `tapestream status` {status}")
    case.check(d.execed(), "the activator's process became tapestreamd (same pid)")
    ready = notify.wait_key("READY", 10, value="1")
    case.require(ready is not None, "READY=1 arrives")
    identified = sorted(set(IDENTIFIED.findall(seen.get("log", ""))))
    case.check(identified == ["a", "e"], f"when READY=1 came, both drives were identified: {identified}")
    first_status = ss.Notifications.fields(ready).get("STATUS", "")
    case.check(first_status == "2 drives; a idle; e idle", f"STATUS= with READY=1: {first_status!r}")
    case.check("(the socket systemd passed)" in d.log(),
               "the daemon says it serves the socket systemd passed")

    # A stream on drive a shows in STATUS=, with its file and, from the second look, its rate.
    writer = subprocess.Popen([case.cli_bin, "--socket", sock, "--drive", "a", "write", "--label", "svc"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    feeder = Feeder(writer)
    streaming = notify.wait_for(lambda r: re.search(r"a writing file 0 at \d+ MB/s",
                                                    ss.Notifications.fields(r).get("STATUS", "")), 20)
    feeder.finish()
    _, err = writer.communicate(timeout=30)
    case.check(streaming is not None, "STATUS= says drive a writes file 0 and at what rate: "
               + repr([ss.Notifications.fields(r).get("STATUS") for r in notify.snapshot()][-4:]))
    case.check(writer.returncode == 0 and b"committed" in err, f"the write commits: {err[-300:]!r}")

    start = ready[0]
    case.check(wait_pings(notify, 5, start, 15), "WATCHDOG=1 keeps coming")
    gaps = ping_gaps(notify, start)
    case.check(gaps and all(0.5 * PING <= g <= 1.6 * PING for g in gaps),
               f"WATCHDOG=1 every WatchdogSec/2 = {PING} s: gaps {[round(g, 2) for g in gaps]}")
    case.check(notify.pids() == {d.pid}, f"every notification comes from the daemon's pid {d.pid} "
               f"(NotifyAccess=main): {notify.pids()}")

    count = len(notify.snapshot())
    os.kill(d.pid, signal.SIGTERM)
    stopping = notify.wait_key("STOPPING", 10, start=count, value="1")
    case.check(stopping is not None and "stopping" in ss.Notifications.fields(stopping).get("STATUS", ""),
               f"STOPPING=1 (with STATUS=stopping...) on SIGTERM: {stopping}")
    rc = d.wait_exit(20)
    case.check(rc == 0, f"the daemon exits 0 after SIGTERM: {rc}")
    case.check(stat.S_ISSOCK(os.lstat(sock).st_mode), "the activated socket's file is left to the manager")
    if case.failures:
        d.print_log()


def case_watchdog(case):
    """a hung command keeps the watchdog fed; a wedged worker stops it"""
    notify = notifications(case)
    sock = case.path("wd.sock")
    d = ss.Activated(case, "wd", [sock], sock,
                     drives=["h=null:?hang=write", "w=null:?wedge=write", "b=null:"],
                     args=["--command-timeout", "data=600", "--stop-timeout", "1"], env=service_env(notify))
    case.require(case.cli(d, ["--drive", "b", "status"], timeout=30).rc == 0, "activated by a status of b")
    ready = notify.wait_key("READY", 10, value="1")
    case.require(ready is not None, "READY=1 arrives")

    def spawn_write(drive):
        p = case.spawn(d, ["--drive", drive, "write"], stdin=subprocess.PIPE)
        rs.feed(p.stdin, bytes(300_000))
        p.stdin.close()
        p.stdin = None
        case.at_exit(lambda: p.kill() if p.poll() is None else None)
        return p

    hung = spawn_write("h")
    case.require(rs.wait_until(lambda: "drive h: connection" in d.log() and "writes file 0" in d.log(), 20),
                 "drive h starts its write, whose WRITE(6) never completes")
    since = time.monotonic()
    case.check(wait_pings(notify, 4, since, 10),
               f"WATCHDOG=1 goes on while h's WRITE hangs: gaps {[round(g, 2) for g in ping_gaps(notify, since)]}")
    case.check("drive h: its worker has not turned" not in d.log(), "h's worker is not taken for stuck")

    wedged = spawn_write("w")
    case.require(rs.wait_until(lambda: "wedge=" in d.log(), 20), "drive w's worker wedges in its WRITE(6)")
    stuck = rs.wait_until(lambda: "drive w: its worker has not turned" in d.log(), 10)
    case.check(stuck, "the daemon logs that drive w's worker stopped turning")
    case.check("drive h: its worker has not turned" not in d.log() and
               "drive b: its worker has not turned" not in d.log(), "and names no other drive")
    after = time.monotonic()
    late = notify.wait_key("WATCHDOG", 3 * PING, start=len(notify.snapshot()))
    case.check(late is None, f"no WATCHDOG=1 for {3 * PING} s once w is stuck")
    said = notify.wait_key("STATUS", 5, contains="w stopped turning")
    case.check(said is not None, "STATUS= says w stopped turning")
    b = case.cli(d, ["--drive", "b", "status"], timeout=10)
    case.check(b.rc == 0, f"drive b still answers: {b}")

    count = len(notify.snapshot())
    os.kill(d.pid, signal.SIGTERM)
    case.check(notify.wait_key("STOPPING", 10, start=count, value="1") is not None, "STOPPING=1 on SIGTERM")
    rc = d.wait_exit(1 + 15 + 10)
    took = time.monotonic() - after
    case.check(rc == 1, f"with a wedged worker, SIGTERM ends the daemon with exit 1 within stop-timeout "
               f"+ 10 s + 5 s (and some slack): {rc} after {took:.1f} s")
    case.check("does not end" in d.log(), "the daemon says it leaves the stuck worker behind")
    for p in (hung, wedged):
        if p.poll() is None:
            p.kill()
        p.wait(10)
    if case.failures:
        d.print_log()


def case_not_ready(case):
    """a drive that cannot be set up: no READY=1, exit 78"""
    notify = notifications(case)
    sock = case.path("nr.sock")
    os.makedirs(case.path("not-an-image"))
    d = ss.Activated(case, "nr", [sock], sock, drives=["a=null:", f"bad=emulated:{case.path('not-an-image')}"],
                     env=service_env(notify))
    status = case.cli(d, ["status"], timeout=30)
    rc = d.wait_exit(30)
    case.check(rc == 78, f"exit 78: {rc}; the client: {status}")
    case.check("bad" in d.log(), "the log names the drive")
    case.check(notify.wait_key("READY", 0.5) is None, f"no READY=1: {notify.snapshot()}")


def case_wrong_socket(case):
    """an activated socket that is not the configured one: exit 78 saying so"""
    configured = case.path("conf.sock")
    other = case.path("other.sock")
    d = ss.Activated(case, "path", [other], configured)
    trigger(other)
    rc = d.wait_exit(30)
    log = d.log()
    case.check(rc == 78 and other in log and configured in log and "ListenStream=" in log,
               f"a socket on another path: exit 78 naming both paths and ListenStream= ({rc}): {log[-400:]}")
    case.check(not os.path.exists(configured), "nothing is bound at the configured path")

    two = ss.Activated(case, "two", [case.path("s1.sock"), case.path("s2.sock")], case.path("s1.sock"))
    trigger(case.path("s1.sock"))
    rc = two.wait_exit(30)
    case.check(rc == 78 and "passed 2 sockets" in two.log(), f"two sockets: exit 78 ({rc}): {two.log()[-300:]}")

    dgram = case.path("dgram.sock")
    dg = ss.Activated(case, "dgram", [dgram], dgram, datagram=True)
    trigger(dgram, datagram=True)
    rc = dg.wait_exit(30)
    case.check(rc == 78 and "not a listening Unix stream socket" in dg.log(),
               f"a datagram socket: exit 78 ({rc}): {dg.log()[-300:]}")


def trigger(path, datagram=False):
    """What makes systemd-socket-activate exec its command: a connection, or a datagram."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM if datagram else socket.SOCK_STREAM)
    try:
        if datagram:
            s.sendto(b"x", path)
        else:
            s.connect(path)
    finally:
        s.close()


def case_socket_access(case):
    """socket-group and socket-mode of a socket the daemon binds"""
    if os.geteuid() != 0:
        raise rs.Skip("needs root to give the socket to any group")
    try:
        tape, nogroup = grp.getgrnam("tape").gr_gid, grp.getgrnam("nogroup").gr_gid
    except KeyError:
        raise rs.Skip("needs the groups tape and nogroup (Debian's)")

    def mode_and_group(path):
        st = os.lstat(path)
        return stat.S_IMODE(st.st_mode), st.st_gid

    d = case.daemon("default", drives=["a=null:"])
    case.check(mode_and_group(d.socket) == (0o660, tape),
               f"by default the socket is 0660, group tape: {oct(mode_and_group(d.socket)[0])}, gid {mode_and_group(d.socket)[1]}")
    d.stop()
    d = case.daemon("given", drives=["a=null:"], args=["--socket-group", "nogroup", "--socket-mode", "0602"])
    case.check(mode_and_group(d.socket) == (0o602, nogroup),
               f"--socket-group nogroup --socket-mode 0602: {oct(mode_and_group(d.socket)[0])}, gid {mode_and_group(d.socket)[1]}")
    case.check(rs.wait_until(lambda: d.stop() == 0 and not os.path.exists(d.socket), 20),
               "a socket the daemon bound is removed when it stops")

    for args, words in ((["--socket-mode", "0888"], "socket-mode 0888"), (["--socket-mode", "1777"], "socket-mode 1777"),
                        (["--socket-mode", "rw"], "socket-mode rw"), (["--socket-mode", ""], "socket-mode"),
                        (["--socket-group", "tapestream-no-such-group"], "socket-group tapestream-no-such-group")):
        bad = case.daemon("bad", drives=["a=null:"], args=args, start=False)
        r = subprocess.run(bad.command(), capture_output=True, text=True, timeout=60)
        case.check(r.returncode == 78 and words in r.stderr and not os.path.exists(bad.socket),
                   f"{' '.join(args)}: exit 78 naming it, nothing bound ({r.returncode}): {r.stderr.strip()[-200:]}")

    if not shutil.which("setpriv"):
        raise rs.Skip("needs setpriv for the cases of a daemon that is not root")
    shared = case.path("nobody")
    os.makedirs(os.path.join(shared, "state"))
    os.chmod(case.work, 0o755)
    for path in (shared, os.path.join(shared, "state")):
        os.chmod(path, 0o777)
    as_nobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "--"]
    small = ["--buffers", "2", "--buffer-size", "64K", "--block-size", "64K"]
    d = case.daemon("nobody", drives=["a=null:"], args=small, wrapper=as_nobody,
                    socket_path=os.path.join(shared, "n.sock"), state_dir=os.path.join(shared, "state"))
    case.check(mode_and_group(d.socket) == (0o660, nogroup) and "not in group tape" in d.log(),
               f"not root, socket-group left at tape: the daemon's own group, said at info: "
               f"{mode_and_group(d.socket)}; {d.log()[-300:]}")
    d.stop()
    bad = case.daemon("nobody-tape", drives=["a=null:"], args=[*small, "--socket-group", "tape"], wrapper=as_nobody,
                      socket_path=os.path.join(shared, "t.sock"), state_dir=os.path.join(shared, "state"), start=False)
    r = subprocess.run(bad.command(), capture_output=True, text=True, timeout=60)
    case.check(r.returncode == 78 and "neither root nor in that group" in r.stderr and not os.path.exists(bad.socket),
               f"not root, --socket-group tape: exit 78 saying why ({r.returncode}): {r.stderr.strip()[-300:]}")


def case_journal(case):
    """--log-target journal: priorities, identifier, a summary per stream with its fields"""
    ss.in_private_mount_namespace(case, sys.argv)
    journal = ss.fake_journald(case)
    entries = lambda: [ss.journal_entry(r[2]) for r in journal.snapshot()]  # noqa: E731
    image, bad_image = case.path("j.tap"), case.path("m.tap")
    d = case.daemon("j", drives=[f"emu0=emulated:{image}", f"m=emulated:{bad_image}?medium_error_write=1"],
                    args=["--log-target", "journal"])
    src = rs.Source(case, "j", 700_000, 11)
    w = case.write(d, src.path, drive="emu0", extra=["--label", "nightly backup"])
    case.require(w.committed, f"a write commits: {w}")
    back, data = case.read_back(d, 0, drive="emu0")
    case.require(back.rc == 0 and data == src.data, "and reads back")
    failed = case.write(d, src.path, drive="m")
    case.check(not failed.committed, f"a write on m fails (medium_error_write=1): {failed}")

    def find(**want):
        hit = journal.wait_for(lambda r: all(ss.journal_entry(r[2]).get(k) == v for k, v in want.items()), 10)
        return ss.journal_entry(hit[2]) if hit else None

    committed = find(TAPESTREAM_RESULT="committed")
    case.require(committed is not None, f"a summary with TAPESTREAM_RESULT=committed: {entries()[-5:]}")
    expect = {"TAPESTREAM_DRIVE": "emu0", "TAPESTREAM_FILE": "0", "TAPESTREAM_BYTES": "700000",
              "TAPESTREAM_CLIENT_UID": str(os.getuid()), "TAPESTREAM_LABEL": "nightly backup",
              "TAPESTREAM_SHA256": hashlib.sha256(src.data).hexdigest(),
              "PRIORITY": "6", "SYSLOG_IDENTIFIER": "tapestreamd"}
    case.check(all(committed.get(k) == v for k, v in expect.items()) and
               committed.get("TAPESTREAM_RATE", "").isdigit() and int(committed["TAPESTREAM_RATE"]) > 0 and
               "file 0 committed: 700000 bytes" in committed.get("MESSAGE", ""),
               f"the write's summary: {committed}")
    read = find(TAPESTREAM_RESULT="complete")
    case.check(read is not None and read.get("TAPESTREAM_BYTES") == "700000" and read.get("TAPESTREAM_FILE") == "0"
               and "TAPESTREAM_LABEL" not in read and read.get("PRIORITY") == "6"
               and read.get("TAPESTREAM_SHA256") == hashlib.sha256(src.data).hexdigest(),
               f"the read's summary: {read}")
    summary = find(TAPESTREAM_DRIVE="m", TAPESTREAM_RESULT="medium_error")
    case.check(summary is not None and summary.get("PRIORITY") == "6" and summary.get("TAPESTREAM_BYTES") == "0",
               f"the failed write's summary, at info: {summary}")
    error = journal.wait_for(lambda r: ss.journal_entry(r[2]).get("PRIORITY") == "3" and
                             "drive m: file 0 failed (medium_error)" in ss.journal_entry(r[2]).get("MESSAGE", ""), 5)
    case.check(error is not None, "the failure itself at PRIORITY=3 (error)")
    serving = find(MESSAGE=f"serving on {d.socket}")
    case.check(serving is not None and serving.get("PRIORITY") == "6" and
               not any(k.startswith("TAPESTREAM_") for k in serving),
               f"a plain line at info carries no TAPESTREAM_ fields: {serving}")
    case.check("committed" not in d.log(), f"nothing logged to stderr: {d.log()[-300:]}")
    d.stop()

    # auto: the journal when stderr is the journal or under systemd; stderr otherwise.
    def auto(name, env, wrapper=()):
        before = len(journal.snapshot())
        saved = {k: os.environ.get(k) for k in ("JOURNAL_STREAM", "INVOCATION_ID")}
        for k in saved:
            os.environ.pop(k, None)
        a = case.daemon(name, drives=["a=null:"], wrapper=wrapper, start=False)
        open(a.log_path, "ab").close()  # the daemon's stderr: its device and inode are known now
        st = os.stat(a.log_path)
        os.environ.update({k: v.format(dev=st.st_dev, ino=st.st_ino) for k, v in env.items()})
        try:
            a.start()
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        a.stop() if not wrapper else a.kill()  # killing the namespace's init ends it
        in_journal = any("serving on" in e.get("MESSAGE", "") for e in entries()[before:])
        return in_journal, "serving on" in a.log()

    # A service's main process has PID 1 for its parent: in a PID namespace of its own, a shell
    # that is PID 1 there starts the daemon the way the service manager would.
    as_main = ["unshare", "--pid", "--fork", "--kill-child", "--", "sh", "-c", '"$@"; exit $?', "sh"]
    invocation = {"INVOCATION_ID": "0123456789abcdef"}
    for name, env, wrapper, journal_expected in (
            ("stream", {"JOURNAL_STREAM": "{dev}:{ino}"}, (), True),
            ("invocation-main", invocation, as_main, True),
            ("invocation-inherited", invocation, (), False),  # a CI runner service's test daemon
            ("other", {"JOURNAL_STREAM": "1:2"}, (), False), ("plain", {}, (), False)):
        got = auto(name, env, wrapper)
        case.check(got == (journal_expected, not journal_expected),
                   f"auto with {env or 'neither'}{', parent PID 1' if wrapper else ''}: in the journal "
                   f"{got[0]}, on stderr {got[1]}")

    journal.close()  # the socket file stays: sending to it is refused
    f = case.daemon("refused", drives=["a=null:"], args=["--log-target", "journal"])
    f.stop()
    case.check("the journal does not take messages" in f.log() and "serving on" in f.log(),
               f"a journal that refuses: the lines go to stderr: {f.log()[-300:]}")
    os.unlink("/run/systemd/journal/socket")  # sd_journal_send would drop lines in silence
    f = case.daemon("absent", drives=["a=null:"], args=["--log-target", "journal"])
    f.stop()
    case.check("no journal here" in f.log() and "serving on" in f.log(),
               f"no journal at all: the lines go to stderr: {f.log()[-300:]}")


CASES = {"activation": case_activation, "watchdog": case_watchdog, "not_ready": case_not_ready,
         "wrong_socket": case_wrong_socket, "socket_access": case_socket_access, "journal": case_journal}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
