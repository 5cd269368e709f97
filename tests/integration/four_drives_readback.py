"""Reading back what four_drives_test.py wrote: a `tapestream read --file N` of one drive by
either data path into a pipe or a file, hashed and compared with its source (Reader), several
at once (read_all), the end of a drive's tape, and its image as simh_reader.py lists it; and
the CLI's --json summary (parse_json). Stdlib only."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reliability_support as rs  # noqa: E402
from reliability_support import HERE, MIB  # noqa: E402

WRITE_TIMEOUT = 150  # seconds for any one CLI; the whole case stays below ctest's TIMEOUT
STATUS_TIMEOUT = 20


def parse_json(text):
    try:
        return json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


class Reader(threading.Thread):
    """`tapestream read --file N` of one drive, by fd or through the socket, into a pipe that
    this test hashes or into a regular file; the length and SHA-256 of what came."""

    def __init__(self, case, d, drive, file_number, path, into):
        super().__init__(daemon=True)
        self.case, self.d, self.drive, self.file_number, self.path, self.into = case, d, drive, file_number, path, into
        self.rc, self.size, self.sha, self.summary, self.err, self.seconds = None, None, None, None, "", 0.0

    def run(self):
        c = self.case
        cmd = [c.cli_bin, "--socket", self.d.socket, "--drive", self.drive, "--json", "--data-path", self.path,
               "read", "--file", str(self.file_number)]
        start = time.monotonic()
        h, n = hashlib.sha256(), 0
        if self.into == "pipe":
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            c.at_exit(lambda: p.poll() is None and os.killpg(p.pid, signal.SIGKILL))
            err = []
            drain = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
            drain.start()
            while chunk := p.stdout.read(MIB):
                h.update(chunk)
                n += len(chunk)
            try:
                self.rc = p.wait(WRITE_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                self.rc = p.wait()
            drain.join(10)
            self.err = (err[0] if err else b"").decode(errors="replace")
        else:
            out = c.path(f"readback-{self.drive}-{self.file_number}")
            r = rs.run_cli(c.cli_bin, self.d.socket, cmd[3:], stdout_path=out, timeout=WRITE_TIMEOUT)
            self.rc, self.err = r.rc, r.err
            with open(out, "rb") as f:
                while chunk := f.read(MIB):
                    h.update(chunk)
                    n += len(chunk)
            os.unlink(out)
        self.seconds = time.monotonic() - start
        self.size, self.sha = n, h.hexdigest()
        self.summary = parse_json(self.err)  # read --json: the summary is on standard error

    def verdict(self, source):
        c, what = self.case, f"read {self.drive} file {self.file_number} (--data-path {self.path}, into a {self.into})"
        c.check(self.rc == 0 and self.size == source.size and self.sha == source.sha,
                f"{what}: exit {self.rc}, {self.size} bytes in {self.seconds:.1f} s, sha256 "
                f"{(self.sha or '')[:16]}..: {'identical to' if self.sha == source.sha else 'NOT'} {source.name} "
                f"({source.size} bytes {source.sha[:16]}..){'' if self.rc == 0 else ': ' + self.err.strip()[:300]}")
        # The daemon's SHA-256 of what it gave must be the source's, as sha256sum says it.
        want = {"drive": self.drive, "bytes": source.size, "blocks": source.blocks,
                "sha256": source.sha}
        c.check(self.summary == want, f"{what}: its --json summary {self.summary}, expected {want}")


def read_all(case, d, jobs):
    """Runs [(drive, file, path, into, source)] at once; checks each."""
    readers = [(Reader(case, d, drive, n, path, into), src) for drive, n, path, into, src in jobs]
    for r, _ in readers:
        r.start()
    for r, _ in readers:
        r.join(WRITE_TIMEOUT + 10)
    for r, src in readers:
        r.verdict(src)


def check_tape_ends(case, d, drive, files):
    """`read --file N` after a drive's last file: exit 66, nothing."""
    r = case.cli(d, ["--drive", drive, "read", "--file", str(files)], timeout=STATUS_TIMEOUT)
    case.check(r.rc == 66 and not r.out, f"{drive}: no file {files} (it holds {files}): read gave exit {r.rc}, "
               f"{len(r.out)} bytes (66 and none expected)")


def check_image(case, drive, image, sources):
    """The independent SIMH reader sees exactly these files on this drive's image."""
    r = subprocess.run([sys.executable, os.path.join(HERE, "simh_reader.py"), image, "--list"],
                       capture_output=True, text=True, timeout=120)
    want = "".join(f"{i} {s.blocks} {s.size}\n" for i, s in enumerate(sources))
    case.check(r.returncode == 0 and r.stdout == want,
               f"{drive}: simh_reader --list {os.path.basename(image)} (exit {r.returncode}): "
               f"{r.stdout.strip().replace(chr(10), '; ') or r.stderr.strip()[:200] or 'nothing'}; "
               f"expected {want.strip().replace(chr(10), '; ')}")
