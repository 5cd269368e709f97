#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` builds tapestream_VERSION_ARCH.deb into a scratch directory,
# and dpkg-deb shows that it holds exactly the installed files, owned by root; that its Depends
# come from the linked libraries (dpkg-shlibdeps) plus systemd-sysusers; that the configuration
# is a conffile; and that the maintainer scripts parse, and do what Debian's helpers would when
# run (with every system command replaced by a stub that records its arguments).
# lintian, when installed, is run and its report shown; it does not decide the result (a
# CPack package has no changelog or copyright file, which lintian always reports).
#   package_test.sh BUILD_DIR EXPECTED_FILES VERSION
set -euo pipefail
build=$1 expected=$2 version=$3
for tool in cpack dpkg-deb dpkg-shlibdeps fakeroot; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (dpkg-dev, fakeroot)"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arch=$(dpkg --print-architecture)
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
    { echo "FAIL: cpack:"; cat "$work/cpack.log"; exit 1; }
deb=$work/out/tapestream_${version}_${arch}.deb
[ -f "$deb" ] || { echo "FAIL: no $deb; cpack made:"; ls "$work/out"; exit 1; }
echo "ok: $(basename "$deb")"
status=0
fail() { echo "FAIL: $*"; status=1; }

# Files and owners.
got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's/^\.//' | sort)
want=$(sort "$expected")
[ "$got" = "$want" ] || { fail "the package's files differ (< expected, > packaged):"; diff <(echo "$want") <(echo "$got") || true; }
others=$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')
[ -z "$others" ] || fail "files not owned by root: $others"

# Control fields.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in 'libc6 ' 'liburing2 ' 'libboost-program-options1.74.0 ' 'libspdlog' 'libstdc++6 '; do
    grep -qF "$lib" <<<"$depends" || fail "Depends lacks ${lib% }: the shlibdeps did not run?"
done
grep -qF "systemd | systemd-standalone-sysusers | systemd-sysusers" <<<"$depends" ||
    fail "Depends lacks systemd-sysusers, which the postinst runs"
[ "$(dpkg-deb -f "$deb" Package)" = tapestream ] || fail "Package is not tapestream"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version is not $version"

# Control files.
dpkg-deb -e "$deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = /etc/tapestream/tapestreamd.conf ] ||
    fail "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
    [ -x "$work/control/$script" ] || fail "$script is missing or not executable"
    sh -n "$work/control/$script" || fail "$script does not parse"
done

# The maintainer scripts, run against stubs. /run/systemd/system decides whether systemd
# runs here, so the calls that need a running systemd are checked only when it does.
mkdir "$work/bin"
for cmd in systemd-sysusers systemd-tmpfiles deb-systemd-helper deb-systemd-invoke systemctl udevadm; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 0\n' "$cmd" "$work" >"$work/bin/$cmd"
    chmod +x "$work/bin/$cmd"
done
run() { : >"$work/calls"; PATH=$work/bin:$PATH sh -e "$work/control/$1" "${@:2}" >/dev/null 2>&1 ||
    fail "$1 $* exited with $?"; }
expect_call() { grep -qxF "$1" "$work/calls" || fail "$2: no call \"$1\"; calls: $(tr '\n' ';' <"$work/calls")"; }
run postinst configure
expect_call "systemd-sysusers tapestream.conf" "postinst configure"
expect_call "deb-systemd-helper unmask tapestreamd.socket" "postinst configure"
expect_call "deb-systemd-helper enable tapestreamd.socket" "postinst configure"
if [ -d /run/systemd/system ]; then
    expect_call "systemd-tmpfiles --create tapestream.conf" "postinst configure"
    expect_call "systemctl --system daemon-reload" "postinst configure"
    expect_call "deb-systemd-invoke start tapestreamd.socket" "postinst configure"
fi
run postinst configure 0.0.9
grep -q "restart" "$work/calls" && fail "postinst upgrade restarts something: $(cat "$work/calls")"
run prerm remove
[ -d /run/systemd/system ] && expect_call "deb-systemd-invoke stop tapestreamd.socket tapestreamd.service" "prerm remove"
run prerm upgrade 0.1.1
grep -q "stop" "$work/calls" && fail "prerm upgrade stops something: $(cat "$work/calls")"
# postrm tests for /usr/bin/deb-systemd-helper by path (as dh does) and then calls the stub.
# Only "remove" runs here: "purge" removes /run/tapestream, this machine's.
if [ -x /usr/bin/deb-systemd-helper ]; then
    run postrm remove
    expect_call "deb-systemd-helper mask tapestreamd.socket tapestreamd.service" "postrm remove"
fi
grep -q "deb-systemd-helper purge tapestreamd.socket tapestreamd.service" "$work/control/postrm" ||
    fail "postrm purge does not purge the units' state"

if command -v lintian >/dev/null; then
    echo "lintian (informational):"
    lintian --no-tag-display-limit "$deb" || true
fi
[ $status -eq 0 ] && echo "ok: files, owners, Depends, conffiles and maintainer scripts"
exit $status
