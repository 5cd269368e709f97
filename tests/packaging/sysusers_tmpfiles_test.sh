#!/usr/bin/env bash
# The sysusers.d and tmpfiles.d snippets do what the units rely on, applied by systemd's own
# tools to a scratch root that has only root and Debian's group tape (gid 26), as the package's
# postinst applies them: user tapestream (home /var/lib/tapestream, no shell) in group tape;
# /run/tapestream 0750 tapestream:tape (the socket and the daemon's lock file); /var/lib/tapestream
# 0750 tapestream:tapestream (as StateDirectory= makes it).
#   sysusers_tmpfiles_test.sh SOURCE_DIR
set -euo pipefail
source=$1
command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null ||
    { echo "SKIP: no systemd-sysusers or systemd-tmpfiles"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: systemd-tmpfiles --root needs root to set owners"; exit 77; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc"
echo 'root:x:0:0:root:/root:/bin/bash' >"$root/etc/passwd"
printf 'root:x:0:\ntape:x:26:\n' >"$root/etc/group"
systemd-sysusers --root="$root" "$source/units/tapestream.sysusers"
systemd-tmpfiles --root="$root" --create "$source/units/tapestream.tmpfiles"
status=0
user=$(grep '^tapestream:' "$root/etc/passwd") || { echo "FAIL: no user tapestream"; exit 1; }
IFS=: read -r _ _ uid gid _ home shell <<<"$user"
[ "$home" = /var/lib/tapestream ] || { echo "FAIL: home $home"; status=1; }
[ "$shell" = /usr/sbin/nologin ] || { echo "FAIL: shell $shell"; status=1; }
[ "$uid" -lt 1000 ] || { echo "FAIL: uid $uid is not a system uid"; status=1; }
grep -qE '^tape:x:26:(.*,)?tapestream(,.*)?$' "$root/etc/group" ||
    { echo "FAIL: tapestream is not in group tape: $(grep '^tape:' "$root/etc/group")"; status=1; }
check_dir() {
    local got
    got=$(stat -c '%a %u %g' "$root$1")
    [ "$got" = "$2" ] || { echo "FAIL: $1 is '$got' (mode uid gid), expected '$2'"; status=1; }
}
check_dir /run/tapestream "750 $uid 26"
check_dir /var/lib/tapestream "750 $uid $gid"
[ $status -eq 0 ] && echo "ok: user tapestream ($uid) in tape; /run/tapestream and /var/lib/tapestream"
exit $status
