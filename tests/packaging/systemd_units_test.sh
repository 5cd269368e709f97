#!/usr/bin/env bash
# The installed units, checked by systemd's own tools, on any machine (no systemd as PID 1):
#   verify    `systemd-analyze verify` on the units as installed into a scratch DESTDIR prints
#             nothing: no unknown or misspelt setting, a dependency that exists, an ExecStart
#             that is executable and man pages that `man` finds. verify looks ExecStart up on
#             this machine, and --root= (systemd 252) wants a whole OS tree there (it fails on
#             a missing sysinit.target), so the units are checked in a copy whose ExecStart
#             points into the DESTDIR, with MANPATH at the DESTDIR's man pages.
#   security  `systemd-analyze security --offline=true` rates the service at most 2.0 ("OK"),
#             and exactly at the figure docs/OPERATIONS.md records: a loosened unit fails here,
#             and so does a tightened one until the document says so.
#   systemd_units_test.sh BUILD_DIR SOURCE_DIR verify|security
set -euo pipefail
build=$1 source=$2 mode=$3
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
DESTDIR=$root/tree cmake --install "$build" --prefix /usr >/dev/null
unit_dir=$(cd "$root/tree" && dirname "$(find . -name tapestreamd.service | sed 's/^\.//')")
mkdir "$root/units"
cp "$root/tree$unit_dir/tapestreamd.service" "$root/tree$unit_dir/tapestreamd.socket" "$root/units/"
sed -i "s#^ExecStart=/usr/sbin/tapestreamd #ExecStart=$root/tree/usr/sbin/tapestreamd #" \
    "$root/units/tapestreamd.service"
grep -q "^ExecStart=$root/tree/usr/sbin/tapestreamd " "$root/units/tapestreamd.service" ||
    { echo "FAIL: the service's ExecStart is not /usr/sbin/tapestreamd ..."; exit 1; }
cd "$root"  # systemd-analyze resolves the unit paths; keep it away from the source tree

case $mode in
verify)
    if ! out=$(MANPATH=$root/tree/usr/share/man systemd-analyze verify \
        "$root/units/tapestreamd.socket" "$root/units/tapestreamd.service" 2>&1) || [ -n "$out" ]; then
        echo "FAIL: systemd-analyze verify:"
        echo "$out"
        exit 1
    fi
    echo "ok: systemd-analyze verify tapestreamd.socket tapestreamd.service: clean"
    ;;
security)
    out=$(systemd-analyze security --offline=true --no-pager "$root/units/tapestreamd.service" 2>&1) || true
    line=$(grep "Overall exposure level for tapestreamd.service" <<<"$out") ||
        { echo "FAIL: no exposure level in:"; echo "$out"; exit 1; }
    echo "$line"
    exposure=$(sed -E 's/.*: ([0-9]+\.[0-9]+) .*/\1/' <<<"$line")
    documented=$(grep -oE "Overall exposure level for tapestreamd.service: [0-9]+\.[0-9]+" \
        "$source/docs/OPERATIONS.md" | head -1 | sed -E 's/.*: //') ||
        { echo "FAIL: docs/OPERATIONS.md does not record the exposure level"; exit 1; }
    grep "✗" <<<"$out" || true
    if awk -v e="$exposure" 'BEGIN { exit !(e > 2.0) }'; then
        echo "FAIL: exposure $exposure is above 2.0 (\"OK\"): the unit has been loosened"
        exit 1
    fi
    if [ "$exposure" != "$documented" ]; then
        echo "FAIL: exposure $exposure, but docs/OPERATIONS.md records $documented: a higher" \
             "figure means the unit was loosened; a lower one, update the document"
        exit 1
    fi
    echo "ok: exposure $exposure <= 2.0, as documented"
    ;;
*)
    echo "usage: $0 BUILD_DIR SOURCE_DIR verify|security" >&2
    exit 64
    ;;
esac
