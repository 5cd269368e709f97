#!/usr/bin/env python3
"""Issue 12, items 3 and 4: labelled tapes (docs/TAPE_FORMAT.md, "The labelled layout") with a
real daemon, the real CLI, real image files and sha256sum. Cases:
  layout      `tapestream label` on a blank tape, then three writes (one in fixed blocks): they
              are files 1, 3 and 5; file 0 reads back as the volume label JSON; files 2, 4 and 6
              are trailers whose bytes, blocks, sha256 (sha256sum of the sources), padding and
              uuid are right; file 1 is the source byte for byte; list --volume NAME finds it
  plain       a tape never labelled gets no trailers: two writes are files 0 and 1, file 2 is
              end of data, and the image holds no label block
  refusals    bad names (empty, 65 bytes, a control character) are exit 64; a tape with data
              and a labelled tape are refused without --force (exit 64, the message says what is
              there); --force labels them, the catalog marks the old rows overwritten and the
              tape then holds only the label
  recognised  a tape labelled and written under one state directory, then a daemon with a fresh
              state directory on the same image: its next write is file 3 with a trailer of the
              same uuid, and list --volume NAME finds the volume
  here        write --here on a labelled tape: at a data file's place (file 3) it is written
              and gets its trailer; at file 0 (the label) or a trailer's place it is refused
  interrupted a stream whose producer fails (exit 3 a second after 2 MiB; 4 buffers, so that the
              drive has the data by then) is not committed (exit
              65) and still gets a trailer: status interrupted, the counts the write reported,
              no sha256
  permissions LABEL needs `write`; with --force on a labelled tape also `destroy`: a user with
              write only labels a blank tape but is refused (exit 77, nothing written) over a
              label; a user with both relabels it (real processes of other users, setpriv)
  trailer_fails  the drive refuses the trailer's WRITE (medium_error_write=3: the label is the
              first WRITE, the stream's one block the second): the write exits 74 saying all its
              bytes are on the tape, closed by a filemark, but not confirmed by a trailer; the
              catalog says failed; the data reads back and no trailer follows it. The next
              write is file 2 (its trailer file 3): write --here at file 3 (odd, but a trailer's
              place) is refused because file 2 is not a trailer; at file 4 (even, but after
              file 3, the trailer of file 2) it is written and gets its trailer
  empty       an empty stream that commits on a labelled tape is file 1 and gets its trailer
              (file 2), so that the next write is file 3, not a trailer's place
  filemark_fails  label --force over a tape with data whose label block is written but whose
              filemark never completes (hang=write_filemarks, --command-timeout filemark=3): the
              label fails, and the catalog no longer calls the file it overwrote complete
  reset_sweep a reset (unit_attention=N) at every command from the daemon's start to past the
              label's last: each label is either written (file 0 reads back as it) or refused
              with nothing written (file 0 is not there), or its block written without its
              filemark, which the message says; a reset after the daemon began to look at the
              tape and before its WRITE refuses the label ("changed while the tape was looked
              at") instead of writing a tape nobody looked at
  here_reset_sweep  a reset (unit_attention=N) at every command of `eod` and `write --here` on
              a labelled tape whose file 2 is the trailer of file 1: the write is file 3, or
              refused; a reset while it reads file 2 (its READ met the reset, or a MODE SELECT
              or LOCATE sent again after one) refuses it as a reset, never as "file 2 is not the
              trailer of file 1", which is false (regression: the failed READ was taken for a
              block that is not a trailer); a reset while file 0 is looked at (the LOCATE
              back is sent again after one) refuses it too
Usage: label_test.py DAEMON CLI CASE. Exit 0 pass, 1 fail, 77 skipped."""
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from digest_test import sha256sum  # noqa: E402

EXIT_USAGE = 64
EXIT_NO_FILE = 66


def emulated(case, name="d", image="tape.tap", state_dir=None, options="", args=()):
    return case.daemon(name=name, drives=[f"emu0=emulated:{case.path(image)}{options}"],
                       state_dir=state_dir, args=args)


def label(case, d, name, *extra):
    return case.cli(d, ["--json", "label", name, *extra], timeout=60)


def labelled(case, d, name, *extra):
    r = label(case, d, name, *extra)
    case.require(r.rc == 0, f"label {name!r} {' '.join(extra)} exits 0 ({r})")
    return json.loads(r.out)


def read_json(case, d, number):
    r, data = case.read_back(d, number)
    case.require(r.rc == 0, f"read --file {number} exits 0 ({r})")
    try:
        return json.loads(data)
    except ValueError:
        case.require(False, f"file {number} is one JSON object: {data[:200]!r}")
    return None


def committed(case, d, source, extra=()):
    r = case.write(d, source.path, extra=list(extra))
    case.require(r.committed, f"write of {len(source.data)} bytes {' '.join(extra)} committed ({r})")
    return r.reported


def check_trailer(case, trailer, volume, data_file, source, blocks, fixed=None):
    what = f"the trailer after file {data_file}"
    case.check(trailer.get("tapestream") == "file" and trailer.get("volume") == volume["uuid"],
               f"{what} is a trailer of volume {volume['uuid']}: {trailer}")
    case.check(trailer.get("file") == data_file, f"{what} names file {data_file}: {trailer.get('file')}")
    case.check(trailer.get("bytes") == len(source.data) and trailer.get("blocks") == blocks,
               f"{what}: {trailer.get('bytes')} bytes in {trailer.get('blocks')} blocks, the write "
               f"said {len(source.data)} in {blocks}")
    case.check(trailer.get("sha256") == sha256sum(source.path),
               f"{what}: sha256 {trailer.get('sha256')} is sha256sum of the source")
    case.check(trailer.get("status") == "complete", f"{what}: status {trailer.get('status')}")
    if fixed:
        case.check(trailer.get("mode") == "fixed" and trailer.get("block_size") == fixed and
                   trailer.get("padding") == blocks * fixed - len(source.data),
                   f"{what}: fixed blocks of {fixed}, padding {trailer.get('padding')}")
    else:
        case.check(trailer.get("mode") == "variable", f"{what}: mode {trailer.get('mode')}")


def case_layout(case):
    """label, three writes: data in files 1, 3, 5, label in 0, trailers in 2, 4, 6"""
    d = emulated(case)
    volume = labelled(case, d, "weekly-07")
    case.check(volume["label"] == "weekly-07" and len(volume["uuid"]) == 36 and not volume["voided"],
               f"label answers the name and a uuid: {volume}")
    a = rs.Source(case, "a", 3 * rs.MIB + 77, 1)
    b = rs.Source(case, "b", 1000, 2)
    c = rs.Source(case, "c", 10_000, 3)
    ra = committed(case, d, a)
    rb = committed(case, d, b)
    rc = committed(case, d, c, rs.fixed_args(4096))
    case.check((ra[2], rb[2], rc[2]) == (1, 3, 5), f"the writes are files 1, 3 and 5: {ra}, {rb}, {rc}")
    head = read_json(case, d, 0)
    case.check(head.get("tapestream") == "volume" and head.get("label") == "weekly-07" and
               head.get("uuid") == volume["uuid"] and head.get("format") == 1,
               f"file 0 is the volume label: {head}")
    check_trailer(case, read_json(case, d, 2), volume, 1, a, ra[1])
    check_trailer(case, read_json(case, d, 4), volume, 3, b, rb[1])
    check_trailer(case, read_json(case, d, 6), volume, 5, c, rc[1], fixed=4096)
    r, data = case.read_back(d, 1)
    case.check(r.rc == 0 and data == a.data, f"file 1 reads back as the source byte for byte ({r})")
    r, data = case.read_back(d, 7)
    case.check(r.rc == EXIT_NO_FILE, f"file 7 is end of data (exit {r.rc})")
    listed = case.cli(d, ["list", "--json", "--volume", "weekly-07"], timeout=30)
    case.require(listed.rc == 0, f"list --volume weekly-07 exits 0 ({listed})")
    out = json.loads(listed.out)
    case.check(out["volume"]["label"] == "weekly-07" and out["volume"]["uuid"] == volume["uuid"],
               f"the catalog's volume has the label and uuid: {out['volume']}")
    case.check(sorted(f["file"] for f in out["files"]) == [1, 3, 5],
               f"the catalog lists files 1, 3, 5 and no label or trailer: {[f['file'] for f in out['files']]}")


def case_plain(case):
    """a plain tape: no trailers, files 0 and 1"""
    d = emulated(case)
    a = rs.Source(case, "a", 300_000, 4)
    b = rs.Source(case, "b", 5000, 5)
    ra, rb = committed(case, d, a), committed(case, d, b)
    case.check((ra[2], rb[2]) == (0, 1), f"the writes are files 0 and 1: {ra}, {rb}")
    for number, source in ((0, a), (1, b)):
        r, data = case.read_back(d, number)
        case.check(r.rc == 0 and data == source.data, f"file {number} is the source ({r})")
    r, _ = case.read_back(d, 2)
    case.check(r.rc == EXIT_NO_FILE, f"file 2 is end of data: no trailer (exit {r.rc})")
    d.stop()
    with open(case.path("tape.tap"), "rb") as f:
        image = f.read()
    case.check(b'"tapestream"' not in image, "the image holds no label or trailer block")


def case_refusals(case):
    """bad names; data and labels refused without --force; --force voids the catalog rows"""
    d = emulated(case)
    for name, what in (("", "empty"), ("n" * 65, "65 bytes"), ("bad\tname", "a tab")):
        r = label(case, d, name)
        case.check(r.rc == EXIT_USAGE and "refused" in r.err, f"a name {what} is refused, exit 64 ({r})")
    src = rs.Source(case, "a", 100_000, 6)
    committed(case, d, src)
    r = label(case, d, "monday")
    case.check(r.rc == EXIT_USAGE and "holds data" in r.err,
               f"a tape with data is refused without --force, exit 64, saying so ({r})")
    r, data = case.read_back(d, 0)
    case.check(r.rc == 0 and data == src.data, "the refused label left the data as it was")
    volume = labelled(case, d, "monday", "--force")
    case.check(volume["voided"], f"label --force says the data is gone: {volume}")
    out = json.loads(case.cli(d, ["list", "--json", "--volume", "monday"], timeout=30).out or "{}")
    statuses = [f["status"] for f in out.get("files", [])]
    case.check(statuses == ["overwritten"], f"the catalog marks the old file overwritten: {statuses}")
    r, _ = case.read_back(d, 1)
    case.check(r.rc == EXIT_NO_FILE, f"the tape holds only the label: file 1 is end of data (exit {r.rc})")
    r = label(case, d, "tuesday")
    case.check(r.rc == EXIT_USAGE and 'labelled "monday"' in r.err,
               f"a labelled tape is refused without --force, naming its label ({r})")
    again = labelled(case, d, "tuesday", "--force")
    case.check(again["uuid"] != volume["uuid"], "the new label has a new uuid")
    head = read_json(case, d, 0)
    case.check(head.get("label") == "tuesday", f"file 0 is the new label: {head}")


def case_recognised(case):
    """labelled under one state directory, recognised under a fresh one"""
    first = emulated(case, name="first")
    volume = labelled(case, first, "offsite-3")
    committed(case, first, rs.Source(case, "a", 20_000, 7))
    first.stop()
    second = emulated(case, name="second")
    b = rs.Source(case, "b", 70_000, 8)
    rb = committed(case, second, b)
    case.check(rb[2] == 3, f"the fresh daemon's write is file 3: {rb}")
    trailer = read_json(case, second, 4)
    check_trailer(case, trailer, volume, 3, b, rb[1])
    listed = case.cli(second, ["list", "--json", "--volume", "offsite-3"], timeout=30)
    case.require(listed.rc == 0, f"the fresh catalog finds volume offsite-3 ({listed})")
    out = json.loads(listed.out)
    case.check(out["volume"]["uuid"] == volume["uuid"], f"with its uuid: {out['volume']}")
    case.check([f["file"] for f in out["files"]] == [3], f"and the file it wrote: {out['files']}")


def case_here(case):
    """write --here on a labelled tape: at a data file's place only"""
    d = emulated(case)
    volume = labelled(case, d, "here-1")
    committed(case, d, rs.Source(case, "a", 10_000, 9))
    committed(case, d, rs.Source(case, "b", 10_000, 10))
    for moves, what in (([["rewind"]], "file 0, the volume label"),
                        ([["rewind"], ["fsf", "2"]], "file 2, a trailer")):
        for m in moves:
            case.require(case.cli(d, m).rc == 0, f"{' '.join(m)}")
        r = case.write(d, rs.Source(case, "x", 1000, 11).path, extra=["--here"])
        case.check(r.rc == EXIT_USAGE and "labelled" in r.err,
                   f"write --here at {what} is refused, exit 64 ({r})")
    head = read_json(case, d, 0)
    case.check(head.get("uuid") == volume["uuid"], "the volume label is still there")
    for m in (["rewind"], ["fsf", "3"]):
        case.require(case.cli(d, m).rc == 0, " ".join(m))
    c = rs.Source(case, "c", 50_000, 12)
    r = case.write(d, c.path, extra=["--here"])
    case.check(r.committed and r.reported[2] == 3, f"write --here at file 3 is file 3 ({r})")
    check_trailer(case, read_json(case, d, 4), volume, 3, c, r.reported[1])
    r, _ = case.read_back(d, 5)
    case.check(r.rc == EXIT_NO_FILE, f"the tape ends after its trailer (exit {r.rc})")


def case_interrupted(case):
    """a producer that fails: the stream's trailer says interrupted, with no digest"""
    d = emulated(case, args=["--buffers", "4"])
    volume = labelled(case, d, "cut-1")
    src = rs.Source(case, "a", 2 * rs.MIB + 1000, 14)
    r = case.cli(d, ["write", "--", "sh", "-c", f"cat {src.path}; sleep 1; exit 3"], timeout=60)
    case.require(r.rc == 65 and r.reported and r.reported[2] == 1 and r.reported[3],
                 f"the write is not committed (exit 65), file 1 closed by a filemark ({r})")
    nbytes, blocks = r.reported[0], r.reported[1]
    trailer = read_json(case, d, 2)
    case.check(trailer.get("tapestream") == "file" and trailer.get("volume") == volume["uuid"] and
               trailer.get("file") == 1 and trailer.get("status") == "interrupted",
               f"file 2 is the trailer of file 1, status interrupted: {trailer}")
    case.check(trailer.get("bytes") == nbytes and trailer.get("blocks") == blocks and
               "sha256" not in trailer,
               f"with the counts the write reported ({nbytes} bytes, {blocks} blocks) and no sha256")
    r, data = case.read_back(d, 1)
    case.check(r.rc == 0 and len(data) == nbytes and data == src.data[:nbytes],
               f"file 1 holds exactly those bytes ({r})")


def case_permissions(case):
    """label: write for a blank tape, destroy as well to force one that holds something"""
    from access_test import need_root, run_as  # noqa: E402 (users by setpriv)
    need_root()
    rules = ["status: everyone", "write: uid:2003,uid:2004", "destroy: uid:2004"]
    d = emulated(case, args=[a for r in rules for a in ("--allow", r)])
    r = run_as(case, d, "operator", ["--json", "label", "ops-1"])
    case.check(r.rc == 0, f"a user with write labels a blank tape: exit {r.rc} {r.err.strip()[:300]}")
    r = run_as(case, d, "operator", ["label", "ops-2", "--force"])
    case.check(r.rc == 77 and "may not destroy" in r.err and 'labelled "ops-1"' in r.err,
               f"without destroy, --force over a label is refused, exit 77: {r.err.strip()[:300]}")
    case.check(read_json(case, d, 0).get("label") == "ops-1", "the refused label wrote nothing")
    r = run_as(case, d, "stranger", ["label", "ops-2", "--force"])
    case.check(r.rc == 0, f"a user with write and destroy relabels it: exit {r.rc} {r.err.strip()[:300]}")
    case.check(read_json(case, d, 0).get("label") == "ops-2", "file 0 is the new label")
    # A catalog rebuild supersedes rows whose names and owners only the catalog knew: write.
    rules = ["status: everyone", "read: uid:2002", "write: uid:2003"]
    d2 = emulated(case, name="rebuild", image="rebuild.tap", args=[a for r in rules for a in ("--allow", r)])
    r = run_as(case, d2, "backup", ["catalog", "rebuild"])
    case.check(r.rc == 77 and "may not write" in r.err,
               f"a reader may not rebuild the catalog, exit 77: {r.rc} {r.err.strip()[:300]}")
    r = run_as(case, d2, "operator", ["catalog", "rebuild"])
    case.check(r.rc == 0, f"a writer may: exit {r.rc} {r.err.strip()[:300]}")


def case_trailer_fails(case):
    """a trailer the drive refuses: STREAM_FAILED, the data there but not confirmed"""
    d = emulated(case, options="?medium_error_write=3")
    labelled(case, d, "faulty")
    src = rs.Source(case, "a", 1000, 13)
    r = case.write(d, src.path)
    case.check(r.rc == 74 and not r.committed, f"the write is not committed, exit 74 ({r})")
    case.check("all 1000 bytes in 1 blocks" in r.err and "not confirmed by a trailer" in r.err and
               "closed by a filemark" in r.err, f"the message says what is on the tape ({r})")
    out = json.loads(case.cli(d, ["list", "--json", "--volume", "faulty"], timeout=30).out or "{}")
    rows = [(f["file"], f["status"]) for f in out.get("files", [])]
    case.check(rows == [(1, "failed")], f"the catalog records file 1 as failed: {rows}")
    r, data = case.read_back(d, 1)
    case.check(r.rc == 0 and data == src.data, f"file 1 holds all the stream's bytes ({r})")
    r, _ = case.read_back(d, 2)
    case.check(r.rc == EXIT_NO_FILE, f"no trailer follows it (exit {r.rc})")
    # From here on the data files are even: --here decides by what the file before says.
    b = rs.Source(case, "b", 3000, 15)
    rb = committed(case, d, b)
    case.check(rb[2] == 2, f"the next write is file 2: {rb}")
    for m in (["rewind"], ["fsf", "3"]):
        case.require(case.cli(d, m).rc == 0, " ".join(m))
    r = case.write(d, rs.Source(case, "x", 1000, 11).path, extra=["--here"])
    case.check(r.rc == EXIT_USAGE and "file 2 is not the trailer of file 1" in r.err,
               f"write --here at file 3, file 2's trailer, is refused, exit 64 ({r})")
    trailer = read_json(case, d, 3)
    case.check(trailer.get("file") == 2, f"file 3 is still the trailer of file 2: {trailer}")
    for m in (["rewind"], ["fsf", "4"]):
        case.require(case.cli(d, m).rc == 0, " ".join(m))
    c = rs.Source(case, "c", 2000, 16)
    r = case.write(d, c.path, extra=["--here"])
    case.check(r.committed and r.reported[2] == 4, f"write --here at file 4 is file 4 ({r})")
    trailer = read_json(case, d, 5)
    case.check(trailer.get("file") == 4 and trailer.get("bytes") == 2000,
               f"file 5 is the trailer of file 4: {trailer}")


def case_empty(case):
    """an empty stream on a labelled tape: its file keeps a trailer, the layout its parity"""
    d = emulated(case)
    volume = labelled(case, d, "empty-1")
    empty = case.path("empty")
    open(empty, "wb").close()
    r = case.write(d, empty)
    case.require(r.committed, f"an empty stream commits ({r})")
    case.check(r.reported[2] == 1, f"the empty stream is file 1: {r.reported}")
    trailer = read_json(case, d, 2)
    case.check(trailer.get("tapestream") == "file" and trailer.get("file") == 1 and
               trailer.get("volume") == volume["uuid"] and trailer.get("bytes") == 0,
               f"file 2 is the trailer of the committed empty file 1: {trailer}")
    a = rs.Source(case, "a", 5000, 7)
    ra = committed(case, d, a)
    case.check(ra[2] == 3, f"the next write is file 3, a data file's place: {ra}")


def label_over_data_on_a_hanging_drive(case, hang, timeout):
    """label --force over a committed file on a drive where `hang` never completes: the label's
    result and the catalog's statuses of the volume's files afterwards"""
    d = emulated(case)
    committed(case, d, rs.Source(case, "a", 20_000, 17))
    d.stop()
    d = emulated(case, name="hang", state_dir=d.state_dir, options=f"?hang={hang}",
                 args=["--command-timeout", timeout])
    r = label(case, d, "broken", "--force")
    out = json.loads(case.cli(d, ["list", "--json"], timeout=30).out or "{}")
    return r, [(f["file"], f["status"]) for f in out.get("files", [])]


def case_filemark_fails(case):
    """a label whose filemark fails still overwrote the tape's beginning: the catalog says so"""
    r, statuses = label_over_data_on_a_hanging_drive(case, "write_filemarks", "filemark=3")
    case.check(r.rc != 0 and "its filemark was not written" in r.err and "WRITE FILEMARKS" in r.err,
               f"the label fails at its filemark ({r})")
    case.check(statuses == [(0, "overwritten")],
               f"the file the label's block overwrote is not complete any more: {statuses}")


def case_write_times_out(case):
    """a label WRITE that timed out may have overwritten the tape's beginning: the catalog says so"""
    r, statuses = label_over_data_on_a_hanging_drive(case, "write", "data=3")
    case.check(r.rc != 0 and "may have recorded part of it at the beginning of the tape" in r.err
               and "label it again with --force" in r.err,
               f"the label fails at its WRITE and says what that may have done ({r})")
    case.check(statuses == [(0, "overwritten")],
               f"the file a timed-out label WRITE may have overwritten is not complete: {statuses}")


def case_reset_sweep(case):
    """a reset anywhere in a label: written whole, or refused with nothing written"""
    case.quiet = True
    refused_after_look, last_refused, n = [], None, 0
    # Start-up absorbs the first resets; go on to 4 past the last one that refused a label.
    while n <= 80 and (last_refused is None or n - last_refused <= 4):
        d = emulated(case, name=f"n{n}", image=f"n{n}.tap", options=f"?unit_attention={n}")
        r = label(case, d, f"sweep-{n}")
        head, data = case.read_back(d, 0)
        if head.rc not in (0, EXIT_NO_FILE):  # the reset fell on the read: read again
            head, data = case.read_back(d, 0)
        if r.rc == 0:
            case.check(head.rc == 0 and json.loads(data or b"{}").get("label") == f"sweep-{n}",
                       f"N={n}: the label it reported is file 0 ({head})")
        elif "its filemark was not written" in r.err:  # the block went, its filemark did not
            last_refused = n
            case.check(head.rc in (0, EXIT_NO_FILE) and "label it again with --force" in r.err,
                       f"N={n}: a label without its filemark says so: label {r}, file 0 {head}")
        else:
            last_refused = n
            case.check(head.rc == EXIT_NO_FILE and ("nothing was written" in r.err or
                                                    "was not written (its WRITE failed" in r.err),
                       f"N={n}: a refused label wrote nothing: label {r}, file 0 {head}")
            if "changed while the tape was looked at" in r.err:
                refused_after_look.append(n)
        case.note(f"N={n}: label exit {r.rc}: {r.err.strip()[:120]}")
        d.stop()
        n += 1
    case.check(len(refused_after_look) >= 1,
               f"a reset between the look and the WRITE refuses the label: N={refused_after_look}")


def case_here_reset_sweep(case):
    """a reset while write --here reads the file before its place: a reset, not a layout"""
    case.quiet = True
    base = emulated(case, name="base", image="base.tap")
    volume = labelled(case, base, "here-sweep")
    committed(case, base, rs.Source(case, "a", 10_000, 21))
    base.stop()
    x = rs.Source(case, "x", 20_000, 22)
    on_the_way, in_the_look, last_refused, n = [], [], None, 0
    while n <= 80 and (last_refused is None or n - last_refused <= 12):
        image = case.path(f"h{n}.tap")
        shutil.copyfile(case.path("base.tap"), image)
        d = case.daemon(name=f"h{n}", drives=[f"emu0=emulated:{image}?unit_attention={n}"])
        moved = case.cli(d, ["eod"])
        r = case.write(d, x.path, extra=["--here"])
        if r.rc == 0:
            case.check(r.committed and r.reported[2] == 3, f"N={n}: write --here is file 3 ({r})")
            back, data = case.read_back(d, 3)
            if back.rc != 0:  # the reset fell on the read: read again
                back, data = case.read_back(d, 3)
            case.check(back.rc == 0 and data == x.data, f"N={n}: file 3 reads back as written")
        else:
            last_refused = n
            case.check("is not the trailer" not in r.err,
                       f"N={n}: file 2 is the trailer of file 1, and no reset makes it another: "
                       f"eod {moved.rc}, write {r}")
            if "nothing was written" in r.err:
                back, _ = case.read_back(d, 3)
                if back.rc not in (0, EXIT_NO_FILE):  # the reset fell on the read: read again
                    back, _ = case.read_back(d, 3)
                case.check(back.rc == EXIT_NO_FILE, f"N={n}: a refused write left no file 3 ({back})")
            if "reset or its cartridge changed on the way" in r.err:
                on_the_way.append(n)
            if "changed while the tape was looked at" in r.err:
                in_the_look.append(n)
        head, data = case.read_back(d, 0)
        if head.rc != 0:  # the reset fell on the read: read again
            head, data = case.read_back(d, 0)
        case.check(head.rc == 0 and json.loads(data or b"{}").get("uuid") == volume["uuid"],
                   f"N={n}: file 0 is still the volume label ({head}, {data[:80]!r})")
        case.note(f"N={n}: eod exit {moved.rc}, write exit {r.rc}: {r.err.strip()[:120]}")
        d.stop()
        n += 1
    case.check(len(on_the_way) >= 1,
               f"a reset while the file before is read refuses the write as a reset: N={on_the_way}")
    # The look at file 0 (the daemon has not seen this cartridge) ends with a LOCATE back, sent
    # again after a unit attention: on another cartridge that would be another tape's block.
    case.check(len(in_the_look) >= 1,
               f"a reset while file 0 is looked at refuses the write: N={in_the_look}")


CASES = {"layout": case_layout, "plain": case_plain, "refusals": case_refusals,
         "recognised": case_recognised, "here": case_here, "interrupted": case_interrupted,
         "permissions": case_permissions,
         "trailer_fails": case_trailer_fails, "empty": case_empty,
         "filemark_fails": case_filemark_fails, "write_times_out": case_write_times_out,
         "reset_sweep": case_reset_sweep,
         "here_reset_sweep": case_here_reset_sweep}

if __name__ == "__main__":
    sys.exit(rs.main(CASES))
