#!/usr/bin/env python3
"""The layering check of issue 10: dependencies point down, and files stay small.

Every `#include "..."` in daemon/, client/, lib/ and proto/ is resolved (beside the including
file, then under daemon/, proto/, lib/ and lib/include/, the include roots of the build) and both ends are given a layer.
A layer may include itself and the layers listed for it below; anything else is reported as

    FILE:LINE includes X: LAYER may not depend on LAYER2

The rule table (DESIGN.md, "Architecture"; top to bottom):

    layer      files                                   may include
    ---------  --------------------------------------  ------------------------------------------
    main       daemon/main.cpp, daemon/tools/,         server catalog drive emulated transport scsi
               daemon/service/                         uring base common proto
    server     daemon/server/                          catalog drive emulated transport scsi uring
                                                       base common proto
    catalog    daemon/catalog/                         base common (off every drive's data path:
                                                       the drive layers may not include it)
    drive      daemon/drive/, daemon/stream/           transport scsi uring base common
                                                       (NOT proto: the drive knows nothing of the
                                                       wire protocol)
    emulated   daemon/emulated/                        transport scsi uring base common
    transport  daemon/transport/                       scsi uring base common
    scsi       daemon/scsi/                            base common (pure SCSI knowledge, no I/O)
    uring      daemon/uring/                           base common
    base       daemon/base/                            common (daemon-only: StartupError, locks)
    proto      proto/ (not proto/common/)              common
    common     proto/common/                           nothing
    lib        lib/ (libtapestream)                    libapi proto common
    libapi     lib/include/ (its installed headers)    proto (the C header tapestream_proto.h)
    client     client/                                 libapi only: the CLI is a client of the
                                                       public API like any other program

It also reports every C++ source or header in daemon/, client/, lib/ and proto/ over 500 lines
(tests/ is out of its scope). Exit status: 0 clean, 1 violations found, 2 usage error.

`--self-test` plants violations in a temporary copy of the tree and requires each to be
reported, so that this check is itself a test that can fail.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

MAX_LINES = 500
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cc", ".hh")
SCANNED = ("daemon", "client", "lib", "proto")
INCLUDE_ROOTS = ("daemon", "proto", "lib", "lib/include")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')

ALLOWED = {
    "main": {"server", "catalog", "drive", "emulated", "transport", "scsi", "uring", "base", "common",
             "proto"},
    "server": {"catalog", "drive", "emulated", "transport", "scsi", "uring", "base", "common", "proto"},
    "catalog": {"base", "common"},
    "drive": {"transport", "scsi", "uring", "base", "common"},
    "emulated": {"transport", "scsi", "uring", "base", "common"},
    "transport": {"scsi", "uring", "base", "common"},
    "scsi": {"base", "common"},
    "uring": {"base", "common"},
    "base": {"common"},
    "proto": {"common"},
    "common": set(),
    "lib": {"libapi", "proto", "common"},
    "libapi": {"proto"},
    "client": {"libapi"},
}

# Prefix (relative to the root, '/' separated) to layer; the longest matching prefix wins.
PREFIXES = {
    "daemon/main.cpp": "main",
    "daemon/tools/": "main",
    "daemon/service/": "main",
    "daemon/server/": "server",
    "daemon/catalog/": "catalog",
    "daemon/drive/": "drive",
    "daemon/stream/": "drive",
    "daemon/emulated/": "emulated",
    "daemon/transport/": "transport",
    "daemon/scsi/": "scsi",
    "daemon/uring/": "uring",
    "daemon/base/": "base",
    "daemon/common/": "common",
    "proto/common/": "common",
    "proto/": "proto",
    "lib/": "lib",
    "lib/include/": "libapi",
    "client/": "client",
}


def layer_of(relative):
    best = None
    for prefix, layer in PREFIXES.items():
        if relative == prefix or (prefix.endswith("/") and relative.startswith(prefix)):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return best[1] if best else None


def sources(root):
    for top in SCANNED:
        for directory, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith(SOURCE_SUFFIXES):
                    yield os.path.join(directory, name)


def resolve(root, including, target):
    candidates = [os.path.join(os.path.dirname(including), target)]
    candidates += [os.path.join(root, r, target) for r in INCLUDE_ROOTS]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return os.path.relpath(os.path.realpath(candidate), os.path.realpath(root))
    return None


def check(root):
    """Returns the list of problems, each one line."""
    problems = []
    oversized = []
    for path in sources(root):
        relative = os.path.relpath(path, root).replace(os.sep, "/")
        layer = layer_of(relative)
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        if len(lines) > MAX_LINES:
            oversized.append(f"{relative}: {len(lines)} lines (at most {MAX_LINES})")
        if layer is None:
            continue
        for number, line in enumerate(lines, 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            target = resolve(root, path, match.group(1))
            if target is None:
                continue  # not one of ours (a system or generated header)
            other = layer_of(target.replace(os.sep, "/"))
            if other is None or other == layer or other in ALLOWED[layer]:
                continue
            problems.append(f"{relative}:{number} includes {match.group(1)}: "
                            f"{layer} may not depend on {other}")
    return problems + oversized


def run(root):
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"layering check: {len(problems)} problem(s) "
              "(rules at the top of tests/layering/check_layers.py)")
        return 1
    print("layering check: every include points down, every file is at most "
          f"{MAX_LINES} lines")
    return 0


# Each plant: (file to create or append to, text, a substring the report must contain).
PLANTS = [
    ("proto/codec.hpp", '#include "uring/ring.hpp"\n', "proto may not depend on uring"),
    ("client/cli.hpp", '#include "base/startup_error.hpp"\n', "client may not depend on base"),
    ("client/cli.hpp", '#include "connection.hpp"\n', "client may not depend on lib"),
    ("client/cli.hpp", '#include "codec.hpp"\n', "client may not depend on proto"),
    ("lib/handle.hpp", '#include "server/server.hpp"\n', "lib may not depend on server"),
    ("proto/codec.hpp", '#include "connection.hpp"\n', "proto may not depend on lib"),
    ("proto/common/result.hpp", '#include "codec.hpp"\n', "common may not depend on proto"),
    ("daemon/scsi/sense.hpp", '#include "transport/transport.hpp"\n',
     "scsi may not depend on transport"),
    ("daemon/transport/transport.hpp", '#include "server/server.hpp"\n',
     "transport may not depend on server"),
    ("daemon/drive/planted.cpp", '#include "codec.hpp"\n', "drive may not depend on proto"),
    ("daemon/uring/planted.cpp", "//\n" * (MAX_LINES + 1), "planted.cpp: 501 lines"),
]


def self_test(root):
    failures = 0
    for path, text, expected in PLANTS:
        with tempfile.TemporaryDirectory(prefix="tapestream-layering-") as scratch:
            for top in SCANNED:
                shutil.copytree(os.path.join(root, top), os.path.join(scratch, top))
            with open(os.path.join(scratch, path), "a", encoding="utf-8") as f:
                f.write(text)
            problems = check(scratch)
            if not any(expected in p for p in problems):
                print(f"self-test FAILED: planting in {path} was not reported as "
                      f"\"{expected}\"; the check said: {problems}")
                failures += 1
            else:
                print(f"self-test ok: {path}: {expected}")
    if failures:
        return 1
    print(f"self-test passed: all {len(PLANTS)} planted violations were reported")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."),
                        help="the source tree (default: this script's ../..)")
    parser.add_argument("--self-test", action="store_true",
                        help="plant violations in a copy of the tree and require each reported")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    if not all(os.path.isdir(os.path.join(root, top)) for top in SCANNED):
        print(f"{root} has no {', '.join(SCANNED)}", file=sys.stderr)
        return 2
    return self_test(root) if args.self_test else run(root)


if __name__ == "__main__":
    sys.exit(main())
