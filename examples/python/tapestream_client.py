"""A pure-Python client of tapestreamd, written from proto/PROTOCOL.md: HELLO, LIST_DRIVES,
WRITE and READ through the socket (DATA frames) or by fd passing (socket.send_fds). No
dependency beyond the standard library (Python 3.9+).

    with Client("/run/tapestream/tapestreamd.sock") as c:
        committed = c.write_bytes(b"hello", drive="lto0")
        data, end = c.read_bytes(committed["file"], drive="lto0")
"""
import os
import socket
import struct

MAGIC = b"TPS\x01"
VERSION = 1
HEADER = struct.Struct("<4sBBHII")  # magic, version, flags, type, request_id, length

HELLO, LIST_DRIVES, WRITE, READ = 0x0001, 0x0002, 0x0004, 0x0005
DATA, END, ABORT = 0x0010, 0x0011, 0x0012
HELLO_OK, DRIVE_LIST, READY = 0x8001, 0x8002, 0x8004
COMMITTED, STREAM_FAILED, PROGRESS, ERROR = 0x8008, 0x8009, 0x800A, 0x80FF

FEATURE_FD_PASSING, FEATURE_DIGEST = 0x1, 0x2
WRITE_FD, WRITE_APPEND = 0x4, 0x8
READ_FD = 0x4
READ_CURRENT_FILE = 2**64 - 1

STATUS_NAMES = ["ok", "bad_magic", "bad_version", "bad_length", "bad_type", "bad_request",
                "out_of_sequence", "unknown_drive", "busy", "not_permitted", "no_medium",
                "write_protected", "volume_full", "medium_error", "drive_error", "timeout",
                "medium_changed", "end_of_data", "client_gone", "shutting_down", "internal",
                "unreachable", "incomplete", "stalled"]


class TapestreamError(Exception):
    """The daemon said no: `status` is its status name, `account` STREAM_FAILED's numbers."""

    def __init__(self, status, message, account=None):
        super().__init__(f"{status}: {message}")
        self.status, self.message, self.account = status, message, account


def _string(text):
    raw = text.encode("utf-8")
    return struct.pack("<H", len(raw)) + raw


def _read_string(body, at):
    (n,) = struct.unpack_from("<H", body, at)
    if at + 2 + n > len(body):
        raise TapestreamError("bad_length", "a string runs past the body")
    return body[at + 2:at + 2 + n].decode("utf-8"), at + 2 + n


def _status_name(code):
    return STATUS_NAMES[code] if code < len(STATUS_NAMES) else f"status {code}"


class Client:
    def __init__(self, socket_path, name="tapestream_client.py"):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(socket_path)
        self.next_id = 1
        self.request(HELLO, struct.pack("<HHII", VERSION, VERSION,
                                        FEATURE_FD_PASSING | FEATURE_DIGEST, 0) + _string(name))
        kind, body = self.receive()
        if kind != HELLO_OK:
            self._refused(kind, body, "HELLO")
        _, _, self.features, self.max_data = struct.unpack_from("<HHII", body)
        self.server, _ = _read_string(body, 12)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    # Frames.
    def request(self, kind, body=b"", fds=()):
        """Sends a request with a new request_id; DATA and END that follow carry the same id."""
        self.current_id, self.next_id = self.next_id, self.next_id + 1
        self.send(kind, body, fds)

    def send(self, kind, body=b"", fds=()):
        frame = HEADER.pack(MAGIC, VERSION, 0, kind, self.current_id, len(body)) + body
        if fds:  # the descriptor travels with the frame's first byte
            sent = socket.send_fds(self.sock, [frame], list(fds))
            self.sock.sendall(frame[sent:])
        else:
            self.sock.sendall(frame)

    def _exact(self, n):
        chunks, left = [], n
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise TapestreamError("unreachable", "tapestreamd closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        """(type, body) of the next frame that is not PROGRESS."""
        while True:
            magic, version, flags, kind, _, length = HEADER.unpack(self._exact(HEADER.size))
            if magic != MAGIC or version != VERSION or flags != 0:
                raise TapestreamError("bad_magic", "not a tapestream frame")
            if length > max(getattr(self, "max_data", 0), 1 << 24):
                raise TapestreamError("bad_length", f"a frame of {length} bytes")
            body = self._exact(length)
            if kind != PROGRESS:
                return kind, body

    def _refused(self, kind, body, what):
        if kind == ERROR:
            (status,) = struct.unpack_from("<H", body)
            raise TapestreamError(_status_name(status), _read_string(body, 4)[0])
        if kind == STREAM_FAILED:
            status, flags, _, nbytes, blocks, number = struct.unpack_from("<HHIQQQ", body)
            raise TapestreamError(_status_name(status), _read_string(body, 32)[0],
                                  {"bytes": nbytes, "blocks": blocks, "file": number, "flags": flags})
        raise TapestreamError("bad_type", f"{what}: unexpected message type {kind:#06x}")

    # Requests.
    def drives(self):
        self.request(LIST_DRIVES)
        kind, body = self.receive()
        if kind != DRIVE_LIST:
            self._refused(kind, body, "LIST_DRIVES")
        (count,), at, names = struct.unpack_from("<H", body), 2, []
        for _ in range(count):
            name, at = _read_string(body, at)
            names.append(name)
        return names

    def _committed(self):
        kind, body = self.receive()
        if kind != COMMITTED:
            self._refused(kind, body, "WRITE")
        nbytes, blocks, number, block_size, flags = struct.unpack_from("<QQQII", body)
        digest = body[32:64].hex() if len(body) >= 64 else None
        return {"bytes": nbytes, "blocks": blocks, "file": number, "block_size": block_size,
                "flags": flags, "sha256": digest}

    def _write_request(self, drive, flags, expected, label, fds=()):
        body = struct.pack("<IIQI", flags | WRITE_APPEND, 0, expected, 0) + _string(drive) + _string(label)
        self.request(WRITE, body, fds)
        kind, reply = self.receive()
        if kind != READY:
            self._refused(kind, reply, "WRITE")

    def write_bytes(self, data, drive, label=""):
        """`data` as one tape file through the socket: DATA frames and END."""
        self._write_request(drive, 0, len(data), label)
        view, chunk = memoryview(data), min(self.max_data, 1 << 20)
        for at in range(0, len(data), chunk):
            self.send(DATA, bytes(view[at:at + chunk]))
        self.send(END, struct.pack("<QQ", len(data), 0))
        return self._committed()

    def write_fd(self, fd, drive, label=""):
        """The daemon reads `fd` (a file, a pipe or a socket) to its end itself."""
        if not self.features & FEATURE_FD_PASSING:
            raise TapestreamError("bad_request", "the daemon did not grant fd passing")
        self._write_request(drive, WRITE_FD, 0, label, fds=[fd])
        return self._committed()

    def _read_request(self, drive, number, flags, fds=()):
        self.request(READ, struct.pack("<IIQ", flags, 0, number) + _string(drive), fds)
        kind, body = self.receive()
        if kind != READY:
            self._refused(kind, body, "READ")

    def _end(self, body):
        nbytes, blocks = struct.unpack_from("<QQ", body)
        return {"bytes": nbytes, "blocks": blocks,
                "sha256": body[16:48].hex() if len(body) >= 48 else None}

    def read_bytes(self, number, drive):
        """(data, END) of tape file `number` through the socket."""
        self._read_request(drive, number, 0)
        parts = []
        while True:
            kind, body = self.receive()
            if kind == DATA:
                parts.append(body)
            elif kind == END:
                return b"".join(parts), self._end(body)
            else:
                self._refused(kind, body, "READ")

    def read_fd(self, number, fd, drive):
        """The daemon writes tape file `number` to `fd` itself; returns its END."""
        self._read_request(drive, number, READ_FD, fds=[fd])
        kind, body = self.receive()
        if kind != END:
            self._refused(kind, body, "READ")
        return self._end(body)


def default_socket():
    return os.environ.get("TAPESTREAM_SOCKET", "/run/tapestream/tapestreamd.sock")
