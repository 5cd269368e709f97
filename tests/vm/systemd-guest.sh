#!/bin/bash
# The scenarios of the `systemd` suite. tapestream-vm-test.service runs this once the Debian 12
# guest, with systemd as PID 1, has reached multi-user.target. Each check prints PASS or FAIL
# with its numbers, and none relies on another having passed (only on the package being
# installed): a check that needs a committed file writes its own. The last line is
# "TAPESTREAM-VM-RESULT <number of failed checks>"; then the VM powers off.
set -u
export LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
socket=/run/tapestream/tapestreamd.sock
conf=/etc/tapestream/tapestreamd.conf
dropins=/etc/systemd/system/tapestreamd.service.d
images=/var/lib/tapestream
failures=0
passed=0
began=$(date +%s)

say() { echo "guest: $*"; }
# The reason a check gives for failing; the check then returns 1.
why() { reason="$*"; }

# check NAME FUNCTION: runs one check and reports it with its time.
check() {
  local name=$1 start
  shift
  start=$(date +%s)
  reason=""
  say "--- $name"
  rearm
  if "$@"; then
    passed=$((passed + 1))
    say "PASS $name ($(( $(date +%s) - start )) s)"
  else
    failures=$((failures + 1))
    say "FAIL $name: ${reason:-no reason given} ($(( $(date +%s) - start )) s)"
    journalctl -u tapestreamd.service -u tapestreamd.socket --since "@$start" --no-pager -n 15 \
      -o short-monotonic 2>&1 | sed 's/^/guest:   journal| /'
  fi
}

# A command as another user: their uid, gid and supplementary groups, nothing else (no PAM,
# no session), as a backup job started by cron or a timer would have.
as() {
  local user=$1
  shift
  setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --init-groups -- "$@"
}

# "BYTES BLOCKS FILE" from what `tapestream write` printed.
committed() { sed -n 's/.*committed \([0-9]*\) bytes in \([0-9]*\) blocks as file \([0-9]*\).*/\1 \2 \3/p' "$1"; }
# Sets c_bytes, c_blocks and c_file from the file a write's messages went to (empty: nothing
# committed).
read_committed() { read -r c_bytes c_blocks c_file < <(committed "$1") || true; }
size() { stat -c %s "$1"; }
service_state() { systemctl show -p ActiveState --value tapestreamd.service; }
main_pid() { systemctl show -p MainPID --value tapestreamd.service; }

# Each check begins with the socket listening and the service's failures forgotten, whatever
# the check before did: a daemon that failed to start often enough makes systemd stop the
# socket too (service-start-limit-hit).
rearm() {
  systemctl reset-failed tapestreamd.service tapestreamd.socket 2>/dev/null || true
  if systemctl is-enabled --quiet tapestreamd.socket 2>/dev/null; then
    systemctl start tapestreamd.socket 2>/dev/null || true
  fi
}

# The daemon reads its configuration when it starts: a changed one takes effect at the next
# activation. The unit allows 5 starts in 10 minutes (StartLimitBurst); this test starts it
# more often than that, so the counter is reset each time (reset-failed does that).
restart_clean() {
  systemctl stop tapestreamd.service
  systemctl reset-failed tapestreamd.service 2>/dev/null || true
}

# The drives of every check: the package's example configuration (every option commented)
# and the emulated drives the test uses. lto1 holds the files that must survive; scratch is
# the one the access check tries to erase (if access control failed, only it would be lost).
write_config() {
  {
    cat /tmp/tapestreamd.conf.package
    echo "# added by the VM test"
    echo "drive = lto1=emulated:$images/lto1.tap"
    echo "drive = scratch=emulated:$images/scratch.tap"
    printf '%s\n' "$@"
  } >"$conf"
}

# Files committed on lto1 by any check: "FILE PATH" lines, read back after the watchdog.
record() { echo "$1 $2" >>/tmp/lto1-files; }

# Writes PATH to lto1 as the operator; sets wrote_file (the file number) and wrote_bytes.
operator_write() {
  local path=$1 out=/tmp/w-$$-$RANDOM status
  as tapeop tapestream -d lto1 write <"$path" 2>"$out"
  status=$?
  read_committed "$out"
  wrote_bytes=${c_bytes:-} wrote_file=${c_file:-}
  if [ "$status" != 0 ] || [ "$wrote_bytes" != "$(size "$path")" ]; then
    why "write of $path as tapeop: exit $status, committed '${wrote_bytes:-nothing}' of $(size "$path") bytes: $(cat "$out")"
    return 1
  fi
  record "$wrote_file" "$path"
}

# ---- the checks

install_package() {
  local deb status
  deb=$(ls /tsvm/package/tapestream_*.deb 2>/dev/null | head -n 1)
  [ -n "$deb" ] || { why "no tapestream_*.deb in /tsvm/package"; return 1; }
  say "$(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"
  # Offline: no package lists, no mirror; everything it depends on is in the image.
  # (--no-download makes apt 2.6 lose the path of a local package: "Pathname to install is
  # not absolute".)
  (cd "$(dirname "$deb")" &&
     DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y "./$(basename "$deb")") >/tmp/apt.log 2>&1
  status=$?
  tail -n 4 /tmp/apt.log | sed 's/^/guest:   apt| /'
  if [ "$status" != 0 ]; then
    why "apt-get install ./$(basename "$deb") exited $status: $(grep -E '^E:|Depends' /tmp/apt.log | head -n 5)"
    # The other checks still get a daemon to talk to, if dpkg can install it.
    dpkg -i "$deb" >/tmp/dpkg.log 2>&1 || say "dpkg -i failed too: $(tail -n 3 /tmp/dpkg.log)"
    return 1
  fi
  [ "$(dpkg-query -W -f='${Status}' tapestream 2>/dev/null)" = "install ok installed" ] ||
    { why "apt-get succeeded but tapestream is not installed"; return 1; }
  id tapestream >/dev/null 2>&1 || { why "the package made no user tapestream"; return 1; }
  say "installed $(dpkg-query -W -f='${Version}' tapestream); user: $(id tapestream)"
}

enable_socket() {
  local mode before
  [ -f "$conf" ] || { why "the package installed no $conf"; return 1; }
  systemctl enable --now tapestreamd.socket 2>&1 | sed 's/^/guest:   /'
  [ "${PIPESTATUS[0]}" = 0 ] || { why "systemctl enable --now tapestreamd.socket failed"; return 1; }
  systemctl is-active --quiet tapestreamd.socket || { why "the socket unit is not active"; return 1; }
  [ -S "$socket" ] || { why "no socket at $socket"; return 1; }
  mode=$(stat -c '%A %U:%G' "$socket")
  before=$(service_state)
  say "socket $socket: $mode; directory $(stat -c '%A %U:%G' "$(dirname "$socket")"); service: $before"
  [ "$mode" = "srw-rw---- root:tape" ] || { why "socket is $mode, expected srw-rw---- root:tape"; return 1; }
  [ "$before" = inactive ] || { why "the service is $before before any client came (expected inactive)"; return 1; }
}

# A member of group tape writes through the socket: the connection starts the service.
tape_user_writes() {
  local before after pid out=/tmp/w-doc status
  before=$(service_state)
  as tapeop sh -c 'tar cf - /usr/share/doc 2>/dev/null | tee /tmp/doc.tar | tapestream -d lto1 write' 2>"$out"
  status=$?
  after=$(service_state)
  pid=$(main_pid)
  read_committed "$out"
  say "tar c /usr/share/doc | tapestream write: exit $status, $(size /tmp/doc.tar) bytes made, committed ${c_bytes:-?} bytes in ${c_blocks:-?} blocks as file ${c_file:-?}; service $before -> $after, main PID $pid runs as $(stat -c %U "/proc/$pid" 2>/dev/null || echo '?')"
  [ "$status" = 0 ] || { why "write exited $status: $(cat "$out")"; return 1; }
  [ "${c_bytes:-}" = "$(size /tmp/doc.tar)" ] || { why "committed ${c_bytes:-nothing}, tar made $(size /tmp/doc.tar) bytes"; return 1; }
  [ "$after" = active ] || { why "the service is $after after the write"; return 1; }
  [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = tapestream ] || { why "the daemon does not run as user tapestream"; return 1; }
  record "$c_file" /tmp/doc.tar
  as tapeop tapestream -d lto1 read --file "$c_file" 2>/tmp/r-doc | cmp - /tmp/doc.tar ||
    { why "file $c_file read back differs: $(cat /tmp/r-doc)"; return 1; }
  say "file $c_file read back: $(size /tmp/doc.tar) bytes identical"
}

# A user outside group tape cannot connect: the socket is 0660 root:tape. The CLI exits 69
# ("the daemon cannot be reached") and says why (EACCES).
outsider_refused() {
  local status
  as stranger tapestream -d lto1 status >/dev/null 2>/tmp/o-status
  status=$?
  say "status as stranger: exit $status: $(cat /tmp/o-status)"
  [ "$status" = 69 ] || { why "status as stranger (outside group tape) exited $status (expected 69)"; return 1; }
  grep -q "Permission denied" /tmp/o-status || { why "no 'Permission denied' in: $(cat /tmp/o-status)"; return 1; }
  head -c 65536 /dev/zero >/tmp/zeros
  as stranger tapestream -d lto1 write </tmp/zeros 2>/tmp/o-write
  status=$?
  say "write as stranger: exit $status: $(cat /tmp/o-write)"
  [ "$status" = 69 ] || { why "write as stranger (outside group tape) exited $status (expected 69)"; return 1; }
}

# A user who may connect (group tape) but whom the configuration's allow rules do not permit
# an operation: ERROR not_permitted, exit 77, naming the rule; root may still do it.
allow_rule_refuses() {
  local status result=0
  write_config "allow = destroy: uid:0"
  restart_clean
  as tapeop tapestream -d scratch erase 2>/tmp/a-erase
  status=$?
  say "erase as tapeop under 'allow = destroy: uid:0': exit $status: $(cat /tmp/a-erase)"
  if [ "$status" != 77 ]; then
    why "erase as tapeop exited $status (expected 77, not_permitted)"
    result=1
  else
    as tapeop tapestream -d scratch status >/dev/null 2>/tmp/a-status ||
      { why "status as tapeop refused under a destroy rule: $(cat /tmp/a-status)"; result=1; }
    tapestream -d scratch erase 2>/tmp/a-root ||
      { why "erase as root refused: $(cat /tmp/a-root)"; result=1; }
    say "the refusal in the journal: $(journalctl -u tapestreamd.service --no-pager -o cat | grep -i -m 1 'permit' || echo none)"
  fi
  write_config
  restart_clean
  return "$result"
}

# `systemctl stop tapestreamd` while a stream runs: the daemon takes no new stream, lets the
# running one end, commits it, and the client exits 0.
stop_during_write() {
  local client status stop_status stop_began stop_took deadline out=/tmp/w-slow
  rm -f /tmp/slow.dat
  # A slow producer: 24 chunks of 256 KiB, a quarter of a second apart (about 6 s).
  as tapeop sh -c 'for i in $(seq 24); do head -c 262144 /dev/urandom; sleep 0.25; done |
    tee /tmp/slow.dat | tapestream -d lto1 write' 2>"$out" &
  client=$!
  deadline=$(( $(date +%s) + 30 ))
  while [ "$(size /tmp/slow.dat 2>/dev/null || echo 0)" -lt 1048576 ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
  done
  say "stopping the service with $(size /tmp/slow.dat 2>/dev/null || echo 0) bytes sent; status: $(systemctl show -p StatusText --value tapestreamd.service)"
  stop_began=$(date +%s)
  timeout 200 systemctl stop tapestreamd.service
  stop_status=$?
  stop_took=$(( $(date +%s) - stop_began ))
  wait "$client"
  status=$?
  read_committed "$out"
  say "systemctl stop: exit $stop_status after $stop_took s, service $(service_state); client: exit $status, $(size /tmp/slow.dat) bytes made, committed ${c_bytes:-?} as file ${c_file:-?}"
  systemctl reset-failed tapestreamd.service 2>/dev/null || true
  [ "$stop_status" = 0 ] || { why "systemctl stop exited $stop_status"; return 1; }
  [ "$status" = 0 ] || { why "the client exited $status: $(cat "$out")"; return 1; }
  [ "${c_bytes:-}" = "$(size /tmp/slow.dat)" ] && [ "$c_bytes" = 6291456 ] ||
    { why "committed ${c_bytes:-nothing} bytes; the producer made $(size /tmp/slow.dat) of 6291456"; return 1; }
  record "$c_file" /tmp/slow.dat
  as tapeop tapestream -d lto1 read --file "$c_file" 2>/tmp/r-slow | cmp - /tmp/slow.dat ||
    { why "file $c_file read back differs: $(cat /tmp/r-slow)"; return 1; }
  say "file $c_file read back after a new activation: identical"
}

# The per-stream summary line reaches the journal with its structured fields.
journal_fields() {
  local uid line tries=0
  uid=$(id -u tapeop)
  head -c 123457 /dev/urandom >/tmp/journal.dat
  operator_write /tmp/journal.dat || return 1
  while [ "$tries" -lt 10 ]; do
    journalctl -u tapestreamd.service -o json --no-pager >/tmp/journal.json 2>/dev/null
    line=$(grep '"TAPESTREAM_BYTES":"123457"' /tmp/journal.json | tail -n 1)
    [ -n "$line" ] && break
    sleep 0.5
    tries=$((tries + 1))
  done
  if [ -z "$line" ]; then
    why "no journal entry with TAPESTREAM_BYTES=123457 ($(grep -c TAPESTREAM_ /tmp/journal.json) entries with TAPESTREAM_ fields); last lines: $(journalctl -u tapestreamd.service -o cat --no-pager -n 3 | tr '\n' '|')"
    return 1
  fi
  say "summary: $(echo "$line" | grep -o '"\(MESSAGE\|PRIORITY\|TAPESTREAM_[A-Z_]*\)":"[^"]*"' | tr '\n' ' ')"
  echo "$line" | grep -q '"TAPESTREAM_DRIVE":"lto1"' || { why "no TAPESTREAM_DRIVE=lto1 in the summary"; return 1; }
  echo "$line" | grep -q "\"TAPESTREAM_CLIENT_UID\":\"$uid\"" || { why "no TAPESTREAM_CLIENT_UID=$uid in the summary"; return 1; }
  echo "$line" | grep -q "\"TAPESTREAM_FILE\":\"$wrote_file\"" || say "(no TAPESTREAM_FILE=$wrote_file in the summary)"
}

# A drive whose worker blocks in WRITE (emulated fault wedge=write) stops the watchdog pings:
# systemd kills and restarts the service, and every file committed on lto1 reads back.
watchdog_restarts() {
  local restarts0 restarts client status waited=0 file path bad=0 count=0 began_check
  began_check=$(date +%s)
  head -c 2000000 /dev/urandom >/tmp/before-wedge.dat
  operator_write /tmp/before-wedge.dat || return 1
  mkdir -p "$dropins"
  # 6 s instead of the unit's 30 s: the test waits for the kill; RestartSec short for the same
  # reason. Restart=on-failure is the unit's own.
  printf '[Service]\nWatchdogSec=6s\nRestartSec=1s\n' >"$dropins/50-vm-watchdog.conf"
  write_config "drive = lto2=emulated:$images/lto2.tap?wedge=write"
  systemctl daemon-reload
  restart_clean
  as tapeop tapestream drives >/tmp/drives 2>&1 ||
    { why "the daemon does not serve lto2 with wedge=write: $(cat /tmp/drives)"; return 1; }
  say "serving: $(tr '\n' ' ' </tmp/drives); WatchdogUSec=$(systemctl show -p WatchdogUSec --value tapestreamd.service)"
  restarts0=$(systemctl show -p NRestarts --value tapestreamd.service)
  as tapeop sh -c 'head -c 4194304 /dev/zero | timeout 120 tapestream -d lto2 write' 2>/tmp/w-wedge &
  client=$!
  while [ "$waited" -lt 60 ]; do
    restarts=$(systemctl show -p NRestarts --value tapestreamd.service)
    [ "$restarts" -gt "$restarts0" ] && break
    sleep 1
    waited=$((waited + 1))
  done
  wait "$client"
  status=$?
  say "after ${waited} s: NRestarts $restarts0 -> $restarts, service $(service_state); the wedged write exited $status: $(tr '\n' ' ' </tmp/w-wedge)"
  journalctl -u tapestreamd.service --since "@$began_check" --no-pager -o cat | grep -i -E 'watchdog' |
    sed 's/^/guest:   journal| /'
  if [ "$restarts" -le "$restarts0" ]; then
    why "no restart by the watchdog in 60 s"
    rm -f "$dropins/50-vm-watchdog.conf"
    return 1
  fi
  journalctl -u tapestreamd.service --since "@$began_check" --no-pager -o cat | grep -q 'Watchdog timeout' ||
    { why "restarted, but no 'Watchdog timeout' in the journal"; bad=1; }
  while read -r file path; do
    count=$((count + 1))
    if as tapeop tapestream -d lto1 read --file "$file" 2>/tmp/r-after | cmp -s - "$path"; then
      say "after the restart, lto1 file $file ($(size "$path") bytes, $path) reads back identical"
    else
      say "after the restart, lto1 file $file ($path) differs: $(cat /tmp/r-after)"
      bad=1
    fi
  done </tmp/lto1-files
  rm -f "$dropins/50-vm-watchdog.conf"
  [ "$bad" = 0 ] || { why "${reason:-a committed file did not read back after the restart}"; return 1; }
  say "$count committed files read back after the watchdog's restart"
}

# ---- the run

say "the scenarios start at $(cut -d' ' -f1 /proc/uptime) s of uptime; PID 1 is $(cat /proc/1/comm) ($(systemctl --version | head -n 1))"
: >/tmp/lto1-files
# A backup operator in group tape, and a user outside it (base-passwd already has a group
# named "operator").
useradd --create-home --user-group tapeop && usermod -a -G tape tapeop
useradd --create-home --user-group stranger
say "users: $(id tapeop); $(id stranger)"

check "apt install ./tapestream_*.deb (offline)" install_package
if [ -f "$conf" ]; then
  cp "$conf" /tmp/tapestreamd.conf.package
else
  : >/tmp/tapestreamd.conf.package
fi
mkdir -p "$(dirname "$conf")"
write_config
check "systemctl enable --now tapestreamd.socket" enable_socket
check "a member of group tape writes; the socket starts the service" tape_user_writes
check "a user outside group tape is refused (exit 69)" outsider_refused
check "an allow rule refuses erase to group tape (exit 77)" allow_rule_refuses
check "systemctl stop during a write commits it" stop_during_write
check "the journal carries the stream summary's fields" journal_fields
check "the watchdog restarts a wedged daemon; committed files survive" watchdog_restarts

say "$passed passed, $failures failed; the scenarios took $(( $(date +%s) - began )) s, uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "TAPESTREAM-VM-RESULT $failures"
sync
systemctl poweroff --force --force
