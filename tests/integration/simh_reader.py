#!/usr/bin/env python3
"""An independent reader of SIMH magtape images, written from the format's description
(each record: 32-bit little-endian length, data padded to even length, the length again;
0 = tape mark; 0xFFFFFFFF = end of medium; 0xFFFFFFFE = erase gap; 0xFFFEFFFF = half gap,
after which a reader moves on 2 bytes, as open-simh's sim_tape.c does), not from tapestream's
code, so that tests can check the emulated drive's images with something that is not itself.

    simh_reader.py IMAGE --list        one line per file: "FILE BLOCKS BYTES"
    simh_reader.py IMAGE --file N      the data of file N on stdout
    simh_reader.py IMAGE --objects     one line per object: "OFFSET LENGTH" (0: a tape mark),
                                       the offset being that of its leading length word
Exit status: 0 read, 1 the image is malformed, 2 usage.
"""
import struct
import sys


def records(image):
    """Yields ('data', bytes) and ('mark', None) until the end of the tape."""
    for kind, data, _ in located(image):
        yield (kind, data)


def located(image):
    """records(), with the offset of each object's leading length word."""
    at = 0
    while at + 4 <= len(image):
        (length,) = struct.unpack_from("<I", image, at)
        if length == 0xFFFFFFFF:
            return
        if length == 0xFFFFFFFE:
            at += 4
            continue
        if length == 0xFFFEFFFF:
            at += 2
            continue
        if length == 0:
            yield ("mark", None, at)
            at += 4
            continue
        if length & 0xF0000000:
            raise ValueError(f"record class {length >> 28:#x} at offset {at}")
        padded = length + (length & 1)
        end = at + 4 + padded
        if end + 4 > len(image):
            raise ValueError(f"record of {length} bytes at offset {at} runs past the image")
        (trailer,) = struct.unpack_from("<I", image, end)
        if trailer != length:
            raise ValueError(f"record at offset {at}: header {length}, trailer {trailer}")
        yield ("data", image[at + 4 : at + 4 + length], at)
        at = end + 4


def files(image):
    """Lists of blocks, one list per file; a final file with no blocks is not listed."""
    current = []
    for kind, data in records(image):
        if kind == "mark":
            yield current
            current = []
        else:
            current.append(data)
    if current:
        yield current


def main(argv):
    if len(argv) < 3 or argv[2] not in ("--list", "--file", "--objects") or (argv[2] == "--file") != (len(argv) == 4):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        image = f.read()
    if argv[2] == "--objects":
        try:
            for kind, data, at in located(image):
                print(at, 0 if kind == "mark" else len(data))
        except ValueError as e:
            print(f"simh_reader: {e}", file=sys.stderr)
            return 1
        return 0
    try:
        all_files = list(files(image))
    except ValueError as e:
        print(f"simh_reader: {e}", file=sys.stderr)
        return 1
    if argv[2] == "--list":
        for number, blocks in enumerate(all_files):
            print(number, len(blocks), sum(len(b) for b in blocks))
        return 0
    number = int(argv[3])
    if number >= len(all_files):
        print(f"simh_reader: no file {number}", file=sys.stderr)
        return 1
    for block in all_files[number]:
        sys.stdout.buffer.write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
