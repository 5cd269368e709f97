#!/usr/bin/env python3
"""The ABI check of libtapestream: the dynamic symbols it defines are exactly the global names of
its version script, each at the version of the node that names it (TAPESTREAM_1, TAPESTREAM_1.1,
...), the nodes are only added to (TAPESTREAM_1 keeps its 25 symbols of 1.0), and no C++ symbol (a
mangled _Z name, a typeinfo or vtable) leaks. Also that the SONAME is libtapestream.so.1.

Usage: abi_check.py LIBRARY VERSION_SCRIPT. Exit 0 pass, 1 fail."""
import re
import subprocess
import sys


# The symbols of 1.0: a later version may add nodes, never move or drop one of these.
FIRST_VERSION = {
    "ts_catalog_rebuild", "ts_close", "ts_connect", "ts_connect_error", "ts_control",
    "ts_features", "ts_label", "ts_last_error", "ts_list_drives", "ts_list_files",
    "ts_read_begin", "ts_read_fd", "ts_server_name", "ts_set_progress", "ts_status",
    "ts_strerror", "ts_stream_abort", "ts_stream_commit", "ts_stream_finish", "ts_stream_read",
    "ts_stream_write", "ts_verify", "ts_version", "ts_write_begin", "ts_write_fd",
}


def script_names(path):
    """Every global name of the script, with the version node that names it."""
    text = re.sub(r"/\*.*?\*/", "", open(path, encoding="utf-8").read(), flags=re.S)
    names = {}
    for node, body in re.findall(r"([A-Za-z0-9_.]+)\s*\{(.*?)\}", text, flags=re.S):
        in_global = False
        for token in re.split(r"[\s;]+", body):
            if token == "global:":
                in_global = True
            elif token == "local:":
                in_global = False
            elif in_global and token:
                names[token] = node
    return names


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    library, script = sys.argv[1], sys.argv[2]
    wanted = script_names(script)
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True,
                         text=True).stdout
    exported, problems = {}, []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":  # the version node itself
            continue
        name, _, version = parts[2].partition("@")
        exported[name] = version.lstrip("@")
        if name.startswith("_Z") or "typeinfo" in name or "vtable" in name:
            problems.append(f"a C++ symbol leaks: {name}")
    for name in sorted(FIRST_VERSION):
        if wanted.get(name) != "TAPESTREAM_1":
            problems.append(f"{name} of 1.0 is at {wanted.get(name)!r}, not TAPESTREAM_1")
    for name in sorted(set(exported) - set(wanted)):
        problems.append(f"exported but not in the version script: {name}")
    for name in sorted(set(wanted) - set(exported)):
        problems.append(f"in the version script but not exported: {name}")
    for name, version in sorted(exported.items()):
        if name in wanted and version != wanted[name]:
            problems.append(f"{name} has version {version!r}, not {wanted[name]}")
    soname = re.search(r"SONAME\)\s+Library soname: \[([^\]]+)\]",
                       subprocess.run(["readelf", "-d", library], check=True, capture_output=True,
                                      text=True).stdout)
    if not soname or soname.group(1) != "libtapestream.so.1":
        problems.append(f"SONAME is {soname.group(1) if soname else None}, not libtapestream.so.1")
    for p in problems:
        print("FAIL  " + p)
    if problems:
        return 1
    nodes = sorted(set(wanted.values()))
    print(f"ok    {len(exported)} symbols, exactly the version script's, at {', '.join(nodes)}; "
          "no C++ symbol; SONAME libtapestream.so.1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
