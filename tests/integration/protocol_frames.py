#!/usr/bin/env python3
"""Raw frames of the tapestream protocol (proto/PROTOCOL.md) for the reliability suites: bodies
built by hand, frames read back and decoded, a blocking connection with descriptor passing.
Written from the specification, not from the daemon's codec. Stdlib only."""
import os
import select
import socket
import struct
import time


HELLO, LIST_DRIVES, STATUS, WRITE, READ, CONTROL, DATA, END, ABORT = 1, 2, 3, 4, 5, 6, 0x10, 0x11, 0x12
HELLO_OK, DRIVE_LIST, DRIVE_STATUS, READY, CONTROL_DONE = 0x8001, 0x8002, 0x8003, 0x8004, 0x8006
COMMITTED, STREAM_FAILED, PROGRESS, ERROR = 0x8008, 0x8009, 0x800A, 0x80FF
STATUS_NAMES = ("ok bad_magic bad_version bad_length bad_type bad_request out_of_sequence "
                "unknown_drive busy not_permitted no_medium write_protected volume_full "
                "medium_error drive_error timeout medium_changed end_of_data client_gone "
                "shutting_down internal unreachable incomplete stalled").split()
BAD_REQUEST, BUSY, INCOMPLETE, STALLED = 5, 8, 22, 23
W_NO_WAIT, W_FD, W_APPEND = 2, 4, 8  # WRITE flags (W_FD is READ's too)
ST_BUSY, ST_COMPRESSION, ST_STALE = 16, 32, 128
OP_TELL, OP_COMPRESSION = 10, 14
DRIVE_STATES = {0: None, 1: "no medium", 2: "loaded", 3: "positioned", 4: "writing", 5: "reading",
                6: "at early warning", 7: "failed"}  # DRIVE_STATUS byte 64


def status_name(code):
    return STATUS_NAMES[code] if 0 <= code < len(STATUS_NAMES) else f"status {code}"


def frame(typ, body=b"", rid=1, version=1, flags=0, length=None):
    n = len(body) if length is None else length
    return b"TPS\x01" + bytes([version, flags]) + struct.pack("<HII", typ, rid, n) + body


def text(s):
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<H", len(b)) + b


status_body = abort_body = text  # STATUS: a drive name; ABORT: a message


def hello_body(features=0, name="reliability"):
    return struct.pack("<HHII", 1, 1, features, 0) + text(name)


def control_body(op, drive, argument=0, flags=0):
    return struct.pack("<HHIq", op, flags, 0, argument) + text(drive)


def write_body(drive, flags=W_APPEND, block_size=0, expected=0, label=""):
    return struct.pack("<IIQI", flags, block_size, expected, 0) + text(drive) + text(label)


def read_body(drive, file_number, flags=0):
    return struct.pack("<IIQ", flags, 0, file_number) + text(drive)


def end_body(nbytes):
    return struct.pack("<QQ", nbytes, 0)


def data_frames(payload, rid=1, step=65536):
    """DATA frames of at most `step` bytes (a connection's max_data) each."""
    return b"".join(frame(DATA, payload[i:i + step], rid) for i in range(0, len(payload), step))


class Frame:
    def __init__(self, typ, rid, body):
        self.type, self.rid, self.body = typ, rid, body

    def __repr__(self):
        if self.type == ERROR:
            return f"ERROR {status_name(self.status)} \"{self.message}\" (id {self.rid})"
        if self.type == STREAM_FAILED:
            return f"STREAM_FAILED {status_name(self.status)} {self.failed()['bytes']} bytes (id {self.rid})"
        return f"frame {self.type:#06x} (id {self.rid}, {len(self.body)} bytes)"

    @property
    def status(self):  # of ERROR and STREAM_FAILED
        return struct.unpack_from("<H", self.body)[0]

    @property
    def message(self):
        at = 4 if self.type == ERROR else 32
        return self.body[at + 2:at + 2 + struct.unpack_from("<H", self.body, at)[0]].decode(errors="replace")

    def drive_status(self):
        state, block_size, _, _, block, file_number = struct.unpack_from("<IIIIQQ", self.body)
        return {"state": state, "block_size": block_size, "block": block, "file": file_number,
                "busy": bool(state & ST_BUSY), "stale": bool(state & ST_STALE),
                "age_ms": struct.unpack_from("<Q", self.body, 56)[0],
                "doing": DRIVE_STATES.get(self.body[64])}

    def control_done(self):
        block, file_number, state = struct.unpack_from("<QQI", self.body)
        return {"block": block, "file": file_number, "state": state}

    def failed(self):
        status, flags, _, nbytes, blocks, file_number = struct.unpack_from("<HHIQQQ", self.body)
        return {"status": status, "filemark": bool(flags & 1), "bytes": nbytes, "blocks": blocks,
                "file": file_number}


class Conn:
    """One client connection speaking raw frames."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def send(self, data, fds=()):
        sent = socket.send_fds(self.sock, [data], list(fds)) if fds else 0
        self.sock.sendall(data[sent:])

    def recv_exact(self, n):
        out = bytearray()
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                return None
            out += chunk
        return bytes(out)

    def recv_frame(self, timeout=None):
        """The next frame, or None when the daemon closed; socket.timeout after `timeout`."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        header = self.recv_exact(16)
        if header is None:
            return None
        typ, rid, length = struct.unpack_from("<HII", header, 6)
        body = self.recv_exact(length) if length else b""
        return None if body is None else Frame(typ, rid, body)

    def final(self, timeout=None):
        """The next frame that is not PROGRESS."""
        while True:
            f = self.recv_frame(timeout)
            if f is None or f.type != PROGRESS:
                return f

    def hello(self, features=0, name="reliability"):
        self.send(frame(HELLO, hello_body(features, name)))
        f = self.recv_frame()
        if f is None or f.type != HELLO_OK:
            raise ConnectionError(f"HELLO answered with {f}")
        self.max_data = struct.unpack_from("<I", f.body, 8)[0]

    def request(self, typ, body, rid=1, fds=(), timeout=None):
        self.send(frame(typ, body, rid), fds)
        return self.final(timeout)


def connect(path, features=0, timeout=5.0):
    c = Conn(path, timeout)
    try:
        c.hello(features)
    except Exception:
        c.close()
        raise
    return c


