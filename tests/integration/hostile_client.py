#!/usr/bin/env python3
"""Sends tapestreamd malformed, truncated and oversized messages on fresh connections and
checks that each is refused with the right ERROR (or the connection closed), never a crash.
Usage: hostile_client.py SOCKET. Exit 0 when every case behaved."""
import socket
import struct
import sys

MAGIC = b"TPS\x01"


def frame(typ, body, version=1, flags=0, length=None):
    return MAGIC + bytes([version, flags]) + struct.pack("<HII", typ, 1, len(body) if length is None else length) + body


def text(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


HELLO = frame(1, struct.pack("<HHII", 1, 1, 0, 0) + text("hostile"))


def exchange(path, payload, hello=True):
    """Returns the status of the ERROR reply, or None if the daemon just closed."""
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(5)
        c.connect(path)
        if hello:
            c.sendall(HELLO)
            c.recv(16 + 140)
        try:
            c.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return None
        header = b""
        while len(header) < 16:
            chunk = c.recv(16 - len(header))
            if not chunk:
                return None
            header += chunk
        typ, _, length = struct.unpack_from("<HII", header, 6)
        body = c.recv(length) if length else b""
        if typ != 0x80FF:
            return ("not an error", hex(typ))
        return struct.unpack_from("<H", body)[0]


def main(path):
    cases = [
        ("bad magic", b"XXXX" + bytes(12), 1),
        ("bad version", frame(2, b"", version=9), 2),
        ("nonzero flags", frame(2, b"", flags=1), 2),
        ("unknown type", frame(0x7777, b""), 4),
        ("reply type sent to the daemon", frame(0x8004, bytes(16)), 4),
        ("oversized control message", frame(3, text("emu0"), length=100000), 3),
        ("oversized DATA", frame(0x10, b"", length=0x7FFFFFFF), 3),
        ("STATUS shorter than its string", frame(3, struct.pack("<H", 30) + b"emu0"), 3),
        ("drive name with a slash", frame(3, text("../x")), 5),
        ("DATA outside a stream", frame(0x10, b"abc"), 6),
        ("END outside a stream", frame(0x11, bytes(16)), 6),
        ("request before HELLO", frame(2, b""), 6, False),
        ("unknown control operation", frame(6, struct.pack("<HHIq", 99, 0, 0, 0) + text("emu0")), 5),
        ("unknown drive", frame(3, text("nosuch")), 7),
    ]
    ok = True
    for case in cases:
        name, payload, expected = case[:3]
        hello = case[3] if len(case) > 3 else True
        got = exchange(path, payload, hello)
        if got != expected:
            print(f"{name}: expected ERROR {expected}, got {got}", file=sys.stderr)
            ok = False
    # A truncated header, then the client leaves: nothing to answer, nothing may break.
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(path)
        c.sendall(HELLO + MAGIC + b"\x01")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
