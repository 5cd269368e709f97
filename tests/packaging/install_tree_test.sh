#!/usr/bin/env bash
# `cmake --install` with prefix /usr into a scratch DESTDIR installs exactly the expected files
# (nothing missing, no test or benchmark program extra), the units are the ones in units/, and
# the installed man pages and completions are the checked ones.
#   install_tree_test.sh BUILD_DIR SOURCE_DIR EXPECTED_FILES
set -euo pipefail
build=$1 source=$2 expected=$3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
DESTDIR=$root cmake --install "$build" --prefix /usr >/dev/null
got=$(cd "$root" && find . -type f -o -type l | sed 's/^\.//' | sort)
want=$(sort "$expected")  # read once: EXPECTED_FILES may be a pipe
if [ "$got" != "$want" ]; then
    echo "FAIL: the installed files differ from $expected (< expected, > installed):"
    diff <(echo "$want") <(echo "$got") || true
    exit 1
fi
echo "ok: $(wc -l <<<"$got") files, as expected"
status=0
unit_dir=$(dirname "$(grep '/tapestreamd.service$' <<<"$want")")
for f in tapestreamd.service tapestreamd.socket; do
    cmp -s "$source/units/$f" "$root$unit_dir/$f" || { echo "FAIL: $unit_dir/$f is not units/$f"; status=1; }
done
zcat "$root/usr/share/man/man8/tapestreamd.8.gz" | cmp -s - "$source/man/tapestreamd.8" ||
    { echo "FAIL: the installed tapestreamd.8.gz is not man/tapestreamd.8"; status=1; }
[ -x "$root/usr/sbin/tapestreamd" ] && [ -x "$root/usr/bin/tapestream" ] ||
    { echo "FAIL: the binaries are not executable"; status=1; }
"$root/usr/sbin/tapestreamd" --version | grep -q '^tapestreamd ' ||
    { echo "FAIL: the installed tapestreamd does not run"; status=1; }
exit $status
