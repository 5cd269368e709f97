#!/usr/bin/env python3
"""Writes the hand-made seeds of the session fuzzer into tests/fuzz/seeds/session/.

    python3 tests/fuzz/gen_session_seeds.py [OUTPUT_DIRECTORY]

Each seed is a script in the format that the comment at the top of fuzz_session.cpp describes
(an action byte, kind in the low 4 bits and client in bits 4-5, then the action's bytes); the
helpers below spell the actions out so that a seed reads as what it does. Files in the output
directory that this script does not write (reproducers of findings, named finding-*) are left
alone. Run it again after changing the script format, and commit what it writes.
"""
import os
import struct
import sys

# Drive selectors (index into drive_names in fuzz_session.cpp).
EMU0, EMU1, UNKNOWN = 0, 1, 4
# Block size, expected length and file number selectors (indices into their tables).
BLOCK_DEFAULT, BLOCK_512 = 0, 2
FILE_CURRENT, FILE_0, FILE_1 = 0, 1, 2
# Data size selectors (data_sizes).
SIZE_0, SIZE_100, SIZE_4K, SIZE_64K, SIZE_1M = 0, 2, 3, 5, 7
# Descriptor kinds (descriptors() in fuzz_session.cpp).
PIPE_EOF, PIPE_OPEN, PIPE_SINK, PIPE_BROKEN, MEMFD, OWN_SOCKET, SECOND_CONNECTION, FOREIGN_SOCKET = (
    0, 1, 2, 4, 8, 11, 12, 13)
# Flags (PROTOCOL.md).
FIXED, NO_WAIT, FD, APPEND = 1, 2, 4, 8
CTL_REWIND, CTL_TELL = 1, 10


def act(kind, client=0):
    return bytes([kind | client << 4])


def text(s):
    b = s.encode()
    return bytes([len(b)]) + b


def hello(features=0, client=0):
    return act(0, client) + bytes([0x05, features]) + text("seed")


def list_drives(client=0):
    return act(1, client)


def status(drive, client=0):
    return act(2, client) + bytes([drive])


def write_body(flags, drive, block=BLOCK_DEFAULT, expected=0, label="seed"):
    return bytes([flags, block, expected, drive]) + text(label)


def write(flags, drive, client=0, **kw):
    return act(3, client) + write_body(flags, drive, **kw)


def read_body(flags, file, drive):
    return bytes([flags, file, drive])


def read(flags, file, drive, client=0):
    return act(4, client) + read_body(flags, file, drive)


def control(op, drive, flags=0, argument=0, client=0):
    return act(5, client) + bytes([op, flags, argument, drive])


def data(n, client=0):
    return act(6, client) + struct.pack("<H", n)


def end(mode=0, delta=0, client=0):
    return act(7, client) + bytes([mode, delta & 0xFF])


def abort(reason, client=0):
    return act(8, client) + text(reason)


def raw(b, client=0):
    return act(9, client) + bytes([len(b)]) + b


def pass_fd(kind, size, inner_kind, inner_body, client=0):
    return act(10, client) + bytes([kind, size, inner_kind]) + inner_body


def drain(mode, client=0):
    return act(11, client) + bytes([mode])


def close(mode, client=0):
    return act(12, client) + bytes([mode])


def turn(n):
    assert n < 16
    return act(13) + bytes([n])


def long_wait():
    return act(13) + bytes([255, 0xA5])


def connect():
    return act(14)


def header(type_, length, bits, body=b"", client=0):
    return act(15, client) + struct.pack("<HHB", type_, length, bits) + body


def committed_file(drive=EMU0, n=3000):
    return write(0, drive) + turn(3) + data(n) + end() + turn(10)


SEEDS = {
    # WRITE, DATA by the socket, END with the right count: COMMITTED.
    "write-socket-committed": hello() + write(0, EMU0) + turn(3) + data(1000) + data(5000)
    + end() + turn(15),
    # The same appended on the drive without long positioning, in fixed 512-byte blocks.
    "write-socket-fixed-emu1": hello() + write(FIXED | APPEND, EMU1, block=BLOCK_512) + turn(3)
    + data(1000) + end() + turn(15),
    # WRITE whose data comes through a passed pipe that ends.
    "write-fd-pipe": hello(features=1)
    + pass_fd(PIPE_EOF, SIZE_4K, 3, write_body(FD | APPEND, EMU0)) + turn(15),
    # WRITE from a passed memfd of 1 MiB to the 2 MiB tape, three times: the tape fills.
    # (Each waits for the one before: a request that comes during a stream by fd passing is
    # out_of_sequence.)
    "write-fd-memfd-fills-emu1": hello(features=1)
    + 3 * (pass_fd(MEMFD, SIZE_1M, 3, write_body(FD | APPEND, EMU1)) + 6 * turn(15)),
    # A file committed, the tape rewound, the file read back by the socket.
    "read-socket": hello() + committed_file() + control(CTL_REWIND, EMU0) + turn(5)
    + read(0, FILE_0, EMU0) + turn(15),
    # The same read into a passed pipe that the harness reads, then one whose reader is gone.
    "read-fd-pipes": hello(features=1) + committed_file()
    + pass_fd(PIPE_SINK, SIZE_0, 4, read_body(FD, FILE_0, EMU0)) + turn(15)
    + pass_fd(PIPE_BROKEN, SIZE_0, 4, read_body(FD, FILE_0, EMU0)) + turn(15),
    # Requests one after another without waiting for the replies.
    "pipelined": hello() + list_drives() + status(EMU0) + status(EMU1) + status(UNKNOWN)
    + control(CTL_TELL, EMU0) + write(0, EMU0) + data(100) + end() + read(0, FILE_0, EMU0)
    + 4 * turn(15),
    # Garbage: bytes that are no frame, after a good HELLO; then a header with a bad magic.
    "garbage": hello() + raw(b"\x00\xffGET / HTTP/1.0\r\n\r\n") + turn(3) + connect()
    + header(0x0001, 14, 1, b"\x01\x00" * 7, client=1) + turn(3),
    # END whose count is 5 bytes more than the DATA sent: nothing may be committed.
    "end-wrong-count": hello() + write(0, EMU0) + turn(3) + data(100) + end(mode=1, delta=5)
    + turn(15),
    # ABORT after some data: the stream ends incomplete.
    "abort": hello() + write(0, EMU0) + turn(3) + data(2000) + abort("producer died")
    + turn(15),
    # A STATUS pipelined behind a WRITE by fd passing whose pipe stays open (the stream runs).
    "write-fd-then-pipelined-status": hello(features=1)
    + pass_fd(PIPE_OPEN, SIZE_4K, 3, write_body(FD | APPEND, EMU0)) + turn(5) + status(EMU0)
    + turn(5),
    # The client passes its own end of the connection as a WRITE's data.
    "own-socket": hello(features=1)
    + pass_fd(OWN_SOCKET, SIZE_0, 3, write_body(FD | APPEND, EMU0)) + turn(10),
    # Another connection to the daemon passed as a READ's output; a socket to another process
    # as a WRITE's input.
    "passed-sockets": hello(features=1) + committed_file()
    + pass_fd(SECOND_CONNECTION, SIZE_0, 4, read_body(FD, FILE_0, EMU0)) + turn(10)
    + pass_fd(FOREIGN_SOCKET, SIZE_4K, 3, write_body(FD | APPEND, EMU0)) + turn(15),
    # Two clients want one drive: the second is refused (no wait), then queues; the first
    # leaves in the middle of its stream.
    "two-writers": hello() + write(0, EMU0) + turn(3) + data(500) + connect() + hello(client=1)
    + write(NO_WAIT, EMU0, client=1) + write(APPEND, EMU0, client=1) + turn(3) + close(1)
    + turn(15) + data(10, client=1) + end(client=1) + turn(15),
    # A writer that half-closes after some data, and a reader that does not read.
    "half-close-and-stuck-reader": hello() + committed_file() + connect() + hello(client=1)
    + drain(1, client=1) + read(0, FILE_0, EMU0, client=1) + write(APPEND, EMU1) + turn(3)
    + data(700) + close(0) + turn(15),
    # A writer that gets READY and then says nothing past the stream timeout.
    "silent-writer-times-out": hello() + write(0, EMU0) + long_wait(),
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "seeds", "session")
    os.makedirs(out, exist_ok=True)
    for name, script in SEEDS.items():
        assert len(script) <= 4096, name
        with open(os.path.join(out, name), "wb") as f:
            f.write(script)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()
