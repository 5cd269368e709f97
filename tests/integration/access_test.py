#!/usr/bin/env python3
"""Issue 11, item 3: who may do what, decided from the peer credentials (docs: PROTOCOL.md,
"Who may do what"). Real processes of different users (setpriv) run the CLI against a real
daemon. Cases:
  table   a table of users (root; a member of group tape; a user whose primary group is backup;
          an operator named by uid; a stranger) times operations of every class on two drives,
          under rules that grant status to everyone, read to group backup, destroy to one uid
          and position on drive b to everyone: each cell's exit status (0, or 77 not_permitted)
          is asserted; a refusal names the uid and the rule and is logged; nothing a refused
          user tried changed the tape (every file reads back)
  defaults  no rules: root and group tape may write and erase, a user outside tape may not even
          ask for the status, and the refusal says it is the default rule
  config  a rule for a drive that is not served, an unknown user, an unknown class: exit 78
          naming the rule
  pipelined  a member of group tape, who may append but not destroy, sends in one go a WRITE by
          fd passing and, behind it, an erase and a rewind: the stream commits, the erase is
          refused (not_permitted) after it, the rewind is done, and the file reads back
Usage: access_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skipped (not root).
(`access_test.py pipelined-client SOCKET` is the client side of `pipelined`, run as the user.)"""
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from cli_process import CliResult  # noqa: E402
from protocol_frames import control_body, frame, status_name  # noqa: E402
from reliability_support import COMMITTED, CONTROL, CONTROL_DONE, ERROR, READY, W_APPEND, W_FD, WRITE  # noqa: E402

TS_CTL_REWIND, TS_CTL_ERASE = 1, 12

NOT_PERMITTED = 77
TAPE_GID, BACKUP_GID = 26, 34  # Debian's base-passwd fixes both

# name: (uid, gid, supplementary groups)
USERS = {
    "root": (0, 0, []),
    "taper": (2001, 2001, [TAPE_GID]),
    "backup": (2002, BACKUP_GID, []),
    "operator": (2003, 2003, []),
    "stranger": (2004, 2004, []),
}


def system_python():
    """The interpreter another user can run (the test's own may live in root's home)."""
    return "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def need_root():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise rs.Skip("needs root and setpriv to run processes as other users")


def open_up(case, d):
    """Lets every user reach the socket and run the CLI: the socket's own mode is the daemon's
    first fence (tested elsewhere); here the rules behind it are under test."""
    os.chmod(case.work, 0o755)
    os.chmod(d.socket, 0o666)
    cli = case.path("tapestream")
    if not os.path.exists(cli):
        shutil.copy(case.cli_bin, cli)
        os.chmod(cli, 0o755)
    return cli


def run_as(case, d, user, args, stdin_path=None, timeout=60):
    uid, gid, groups = USERS[user]
    who = ["setpriv", "--reuid", str(uid), "--regid", str(gid)]
    who += ["--groups", ",".join(map(str, groups))] if groups else ["--clear-groups"]
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    p = subprocess.run([*who, open_up(case, d), "--socket", d.socket, *args], stdin=stdin,
                       capture_output=True, timeout=timeout)
    if stdin_path:
        stdin.close()
    return CliResult(p.returncode, p.stdout, p.stderr.decode(errors="replace"), 0)


def data_file(case, name, size, seed):
    data = rs.make_data(seed, size)
    with open(case.path(name), "wb") as f:
        f.write(data)
    return case.path(name), data


def write_files(case, d, tape, drive, count, size):
    for _ in range(count):
        path, data = data_file(case, f"{drive}-{len(tape.files)}", size, len(tape.files) + ord(drive))
        r = case.write(d, path, drive=drive)
        case.require(r.rc == 0, f"root writes file {len(tape.files)} on {drive}: {r}")
        tape.files.append((data, rs.blocks_of(size)))


def exit_of(d, deadline=30):
    d.start(wait=False)
    try:
        return d.proc.wait(deadline)
    except subprocess.TimeoutExpired:
        d.kill()
        return None


def case_table(case):
    """Every user times every class of operation, under rules; exits asserted cell by cell."""
    need_root()
    drives = [f"{n}=emulated:{case.path(n + '.tap')}" for n in ("a", "b")]
    rules = ["status: everyone", "read: group:backup", "destroy: uid:2003", "position@b: everyone"]
    d = case.daemon(drives=drives, args=[a for r in rules for a in ("--allow", r)])
    tapes = {n: rs.Tape(case, drive=n) for n in ("a", "b")}
    write_files(case, d, tapes["a"], "a", 2, 300_000)
    write_files(case, d, tapes["b"], "b", 1, 300_000)
    payload, payload_data = data_file(case, "payload", 100_000, 7)
    ok, no = 0, NOT_PERMITTED
    # (operation, drive, args, stdin, {user: expected exit})
    table = [
        ("status", "a", ["status"], None, dict(root=ok, taper=ok, backup=ok, operator=ok, stranger=ok)),
        ("drives", None, ["drives"], None, dict(root=ok, taper=ok, backup=ok, operator=ok, stranger=ok)),
        ("tell", "a", ["tell"], None, dict(root=ok, taper=ok, backup=ok, operator=ok, stranger=ok)),
        ("read file 0", "a", ["read", "--file", "0"], None,
         dict(root=ok, taper=no, backup=ok, operator=no, stranger=no)),
        ("rewind", "a", ["rewind"], None, dict(root=ok, taper=ok, backup=no, operator=no, stranger=no)),
        ("fsf 1", "a", ["fsf", "1"], None, dict(root=ok, taper=ok, backup=no, operator=no, stranger=no)),
        ("rewind", "b", ["rewind"], None,
         dict(root=ok, taper=ok, backup=ok, operator=ok, stranger=ok)),
        ("eject", "b", ["eject"], None, dict(stranger=ok)),
        ("load", "b", ["load"], None, dict(backup=ok)),
        ("write (append)", "a", ["write"], payload,
         dict(taper=ok, backup=no, operator=no, stranger=no)),
        ("write by the socket", "a", ["write", "--data-path", "stream"], payload,
         dict(backup=no, stranger=no)),
        # At the start of the tape, where a destroy that got through would lose every file.
        ("rewind", "a", ["rewind"], None, dict(root=ok)),
        ("erase", "a", ["erase"], None, dict(taper=no, backup=no, stranger=no)),
        ("setblk", "a", ["setblk", "0"], None, dict(taper=no, backup=no, stranger=no)),
        ("weof", "a", ["weof", "1"], None, dict(taper=no, stranger=no)),
        ("compression", "a", ["compression", "off"], None, dict(taper=no, stranger=no)),
        ("write --here", "a", ["write", "--here"], payload, dict(taper=no, backup=no, stranger=no)),
    ]
    for what, drive, args, stdin, expected in table:
        for user, rc in expected.items():
            r = run_as(case, d, user, (["--drive", drive] if drive else []) + args, stdin_path=stdin)
            case.check(r.rc == rc, f"{what}{' on ' + drive if drive else ''} as {user} "
                                   f"(uid {USERS[user][0]}): exit {r.rc}, expected {rc}"
                       + (f": {r.err.strip()[:300]}" if r.rc != rc else ""))
            if r.rc == ok and what == "write (append)":
                tapes["a"].files.append((payload_data, rs.blocks_of(len(payload_data))))
    r = run_as(case, d, "taper", ["--drive", "a", "erase"])
    case.check("uid 2001 may not destroy on drive a" in r.err and "\"allow = destroy: uid:2003\"" in r.err,
               f"the refusal names the uid and the rule: {r.err.strip()[:300]}")
    r = run_as(case, d, "stranger", ["--drive", "a", "read", "--file", "0"])
    case.check("\"allow = read: group:backup\"" in r.err, f"read refusal names its rule: {r.err.strip()[:300]}")
    case.check("(uid 2004): not_permitted: uid 2004 may not read on drive a" in d.log(),
               "the daemon logs the refusal with the connection's uid")
    r = run_as(case, d, "stranger", ["--drive", "nosuch", "rewind"])
    r2 = run_as(case, d, "stranger", ["--drive", "b", "erase"])
    case.check(r.rc == no and "drive nosuch" in r.err and r2.rc == no and "drive b" in r2.err,
               f"a drive that does not exist is refused like one that does: {r.err.strip()[:200]} / "
               f"{r2.err.strip()[:200]}")
    # Nothing a refused user tried reached the tape: every file still reads back identical.
    for tape in tapes.values():
        tape.verify(d)
    # The operator the destroy rule names may erase; the tape is then empty from there.
    r = run_as(case, d, "operator", ["--drive", "b", "rewind"])
    r = run_as(case, d, "operator", ["--drive", "b", "erase"])
    case.check(r.rc == ok, f"erase on b as the operator the rule names: exit {r.rc} {r.err.strip()[:200]}")
    r, data = case.read_back(d, 0, drive="b")
    case.check(r.rc != ok and len(data) == 0, f"b holds no file 0 after the permitted erase: exit {r.rc}")
    case.check(d.stop(30) == 0, "SIGTERM: exit 0")


def case_defaults(case):
    """No rules: root and group tape everything, everyone else nothing."""
    need_root()
    d = case.daemon(drives=[f"a=emulated:{case.path('a.tap')}"])
    payload, payload_data = data_file(case, "payload", 100_000, 3)
    r = run_as(case, d, "taper", ["write"], stdin_path=payload)
    case.check(r.rc == 0, f"a member of group tape writes: exit {r.rc} {r.err.strip()[:200]}")
    r = run_as(case, d, "taper", ["read", "--file", "0"])
    case.check(r.rc == 0 and r.out == payload_data,
               f"and reads it back identical: exit {r.rc}, {len(r.out)} bytes")
    for user in ("backup", "stranger"):
        r = run_as(case, d, user, ["status"])
        case.check(r.rc == NOT_PERMITTED and "default rule" in r.err,
                   f"{user} outside group tape may not even ask the status: exit {r.rc}: {r.err.strip()[:200]}")
        r = run_as(case, d, user, ["--drive", "a", "erase"])
        case.check(r.rc == NOT_PERMITTED, f"{user} may not erase: exit {r.rc}")
    r = run_as(case, d, "taper", ["rewind"])
    r = run_as(case, d, "taper", ["erase"])
    case.check(r.rc == 0, f"group tape may erase by default: exit {r.rc} {r.err.strip()[:200]}")
    case.check(d.stop(30) == 0, "SIGTERM: exit 0")


def case_config(case):
    """Rules that cannot be right stop the daemon at start-up, exit 78, naming the rule."""
    for rule, says in (("read@nosuch: everyone", "names drive nosuch, which is not configured"),
                       ("read: user:no-such-user-here", "no user \"no-such-user-here\""),
                       ("read: group:no-such-group-here", "no group \"no-such-group-here\""),
                       ("wipe: everyone", "\"wipe\" is not a class"),
                       ("read everyone", "no \":\"")):
        d = case.daemon(drives=[f"a=emulated:{case.path('a.tap')}"], args=["--allow", rule], start=False)
        rc = exit_of(d)
        case.check(rc == 78 and says in d.log(), f"--allow \"{rule}\": exit {rc}, says \"{says}\"")


def pipelined_client(socket_path):
    """As the user: WRITE by fd passing with an erase and a rewind behind it, in one send."""
    c = rs.connect(socket_path, features=1, timeout=30)
    r, w = os.pipe()
    c.send(frame(WRITE, rs.write_body("a", W_APPEND | W_FD), 1) +
           frame(CONTROL, control_body(TS_CTL_ERASE, "a"), 2) +
           frame(CONTROL, control_body(TS_CTL_REWIND, "a"), 3), fds=[r])
    os.close(r)
    with os.fdopen(w, "wb") as pipe:
        pipe.write(rs.make_data(11, 200_000))
    replies = []
    for _ in range(4):
        f = c.final(30)
        if f is None:
            break
        replies.append([f.type, f.rid, status_name(f.status) if f.type == ERROR else "", f.message if f.type == ERROR else ""])
    print(json.dumps(replies))


def case_pipelined(case):
    """A refused request pipelined behind a permitted stream is refused after it."""
    need_root()
    d = case.daemon(drives=[f"a=emulated:{case.path('a.tap')}"], args=["--allow", "destroy: uid:2003"])
    open_up(case, d)
    uid, gid, groups = USERS["taper"]
    p = subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(gid), "--groups", ",".join(map(str, groups)),
                        system_python(), os.path.abspath(__file__), "pipelined-client", d.socket],
                       capture_output=True, text=True, timeout=60)
    try:
        replies = json.loads(p.stdout)
    except ValueError:
        replies = None
    want = [[READY, 1], [COMMITTED, 1], [ERROR, 2], [CONTROL_DONE, 3]]
    case.check(replies is not None and [r[:2] for r in replies] == want and replies[2][2] == "not_permitted",
               f"READY, COMMITTED, ERROR not_permitted for the erase, CONTROL_DONE for the rewind: "
               f"{replies} {p.stderr.strip()[-300:]}")
    r, data = case.read_back(d, 0)
    case.check(r.rc == 0 and data == rs.make_data(11, 200_000), f"file 0 reads back identical: exit {r.rc}")
    case.check(d.stop(30) == 0, "SIGTERM: exit 0")


CASES = {"table": case_table, "defaults": case_defaults, "config": case_config,
         "pipelined": case_pipelined}

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "pipelined-client":
        pipelined_client(sys.argv[2])
        sys.exit(0)
    sys.exit(rs.main(CASES))
