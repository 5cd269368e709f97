#!/usr/bin/env bash
# The main job with real processes: tapestreamd on the emulated drive, the tapestream CLI, GNU
# tar, real Unix sockets and the drive's image file.
# Usage: main_job_test.sh DAEMON CLI CASE [DATA_PATH]
#   DATA_PATH: fd or stream, how write and read move the data (default: the CLI's own choice)
set -euo pipefail
daemon=$1
case_name=$3
data_path=${4:-auto}
# Every CLI call of a case takes the data path under test (control commands ignore it).
cli=("$2" --data-path "$data_path")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/tapestream-main-job-XXXXXX)
daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; then
    for _ in $(seq 50); do
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$daemon_pid" 2>/dev/null && echo "the daemon ignored SIGTERM" >&2
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
export TAPESTREAM_SOCKET=$work/tapestreamd.sock

fail() {
  echo "FAIL: $*" >&2
  echo "--- daemon log" >&2
  cat "$work/daemon.log" >&2 || true
  exit 1
}

start_daemon() {  # start_daemon [extra daemon options...]
  "$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state" "$@" >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 100); do
    [ -S "$TAPESTREAM_SOCKET" ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited at start-up"
    sleep 0.05
  done
  fail "the daemon did not come up"
}

wait_for_log() {  # wait_for_log PATTERN: until the daemon has logged it (at most 10 s)
  for _ in $(seq 200); do
    grep -q "$1" "$work/daemon.log" && return 0
    sleep 0.05
  done
  fail "the daemon never logged \"$1\""
}

daemon_alive() {
  kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon died"
  "${cli[@]}" tell >/dev/null || fail "the daemon does not answer"
}

# The byte count a failed write reported: "... N bytes of the stream (M blocks) are on the tape as file F ..."
reported() { sed -n 's/.*; \([0-9]*\) bytes of the stream (\([0-9]*\) blocks) are on the tape as file \([0-9]*\).*/\1 \3/p' "$1"; }

# A write that must end with exit STATUS; the byte count it reports on the tape must read back
# byte for byte. failing_write STATUS DATA pipe|file [write options...]
failing_write() {
  local want=$1 data=$2 how=$3 status
  shift 3
  set +e
  if [ "$how" = pipe ]; then
    cat "$data" | "${cli[@]}" write "$@" 2>"$work/w"
  else
    "${cli[@]}" write "$@" <"$data" 2>"$work/w"
  fi
  status=$?
  set -e
  [ "$status" = "$want" ] || fail "expected exit $want, got $status: $(cat "$work/w")"
  read -r bytes file < <(reported "$work/w")
  [ -n "$bytes" ] || fail "no byte count in: $(cat "$work/w")"
  "${cli[@]}" read --file "$file" >"$work/back"
  [ "$(stat -c %s "$work/back")" = "$bytes" ] || fail "reported $bytes, read back $(stat -c %s "$work/back")"
  cmp -n "$bytes" "$data" "$work/back" || fail "the bytes on tape are not the stream's"
}

case "$case_name" in
tar_round_trip)
  start_daemon
  mkdir -p "$work/tree/sub dir" "$work/out"
  cp -r "$here/../../daemon" "$work/tree/"
  head -c 1234567 /dev/urandom >"$work/tree/sub dir/random.bin"
  ln -s "sub dir/random.bin" "$work/tree/link"
  tar cf - -C "$work/tree" . | "${cli[@]}" write --label "tree" || fail "write"
  "${cli[@]}" read --file 0 | tar xf - -C "$work/out" || fail "read"
  "${cli[@]}" read --file 0 | tar df - -C "$work/tree" || fail "tar --compare found differences"
  diff -r "$work/tree" "$work/out" || fail "the tree read back differs"
  ;;

files_append_and_read_n)
  start_daemon
  for n in 0 1 2 3; do
    head -c $((n * 100000 + 7)) /dev/urandom >"$work/f$n"
    "${cli[@]}" write <"$work/f$n" 2>"$work/w$n" || fail "write $n"
    grep -q "as file $n on emu0" "$work/w$n" || fail "file $n was committed as: $(cat "$work/w$n")"
  done
  "${cli[@]}" rewind
  for n in 2 0 3 1; do
    "${cli[@]}" read --file $n | cmp - "$work/f$n" || fail "file $n differs"
  done
  # Append means after the last file, wherever the tape is.
  "${cli[@]}" rewind
  head -c 999 /dev/urandom >"$work/f4"
  "${cli[@]}" write <"$work/f4" 2>"$work/w4"
  grep -q "as file 4" "$work/w4" || fail "append wrote $(cat "$work/w4")"
  "${cli[@]}" read --file 4 | cmp - "$work/f4" || fail "file 4 differs"
  ;;

exact_sizes)
  start_daemon
  block=262144
  file=0
  for size in 0 1 $((block - 1)) $block $((block + 1)) $((300 * 1024 * 1024 + 12345)); do
    head -c "$size" /dev/urandom >"$work/data"
    # a pipe: the splice path
    cat "$work/data" | "${cli[@]}" write 2>"$work/w" || fail "write of $size bytes: $(cat "$work/w")"
    grep -q "committed $size bytes" "$work/w" || fail "size $size: $(cat "$work/w")"
    "${cli[@]}" read --file $file >"$work/back"
    [ "$(stat -c %s "$work/back")" = "$size" ] || fail "size $size read back as $(stat -c %s "$work/back")"
    cmp "$work/data" "$work/back" || fail "size $size differs"
    file=$((file + 1))
  done
  # The catalog lists what read --file finds: the empty stream's file 0 too.
  "${cli[@]}" --json list | python3 -c '
import json, sys
files = json.load(sys.stdin)["files"]
assert [f["file"] for f in files] == list(range(6)), [f["file"] for f in files]
assert files[0]["bytes"] == 0 and files[0]["status"] == "complete", files[0]
' || fail "list does not show the six files, the empty one first: $("${cli[@]}" list)"
  ;;

fixed_blocks)
  # Protection off: this case is about fixed-block WRITEs that carry a buffer's worth of blocks,
  # which only unprotected streams send (a protected one sends one block and its CRC per WRITE,
  # tests/integration/lbp_test.py).
  start_daemon --protection off \
    --drive "emu0=emulated:$work/state/emu0.tap?capacity=64M&ew=48M&medium_error_write=40"
  head -c 1000000 /dev/urandom >"$work/data"
  cat "$work/data" | "${cli[@]}" write --fixed --block-size 512 2>"$work/w" || fail "write: $(cat "$work/w")"
  grep -q "committed 1000000 bytes in 1954 blocks as file 0 .*fixed blocks of 512 bytes, the last padded with 448 zero bytes" "$work/w" ||
    fail "fixed write reported: $(cat "$work/w")"
  "${cli[@]}" read --file 0 >"$work/back"
  [ "$(stat -c %s "$work/back")" = 1000448 ] || fail "read back $(stat -c %s "$work/back") bytes, not 1954 blocks"
  cmp -n 1000000 "$work/data" "$work/back" || fail "the fixed-block data differs"
  [ "$(tail -c 448 "$work/back" | tr -d '\0' | wc -c)" = 0 ] || fail "the padding is not zeros"
  [ "$(python3 "$here/simh_reader.py" "$work/state/emu0.tap" --list)" = "0 1954 1000448" ] ||
    fail "the image holds: $(python3 "$here/simh_reader.py" "$work/state/emu0.tap" --list)"
  "${cli[@]}" status | grep -q "block size: *variable" || fail "the drive stayed in fixed-block mode"
  # Variable blocks again, then a fixed stream that a medium error ends: 16 blocks of 64 KiB per
  # WRITE, the 40th WRITE fails; what is reported is what reads back.
  "${cli[@]}" write <"$work/data" 2>"$work/w" || fail "variable write after fixed: $(cat "$work/w")"
  head -c $((40 * 1024 * 1024)) /dev/urandom >"$work/big"
  failing_write 74 "$work/big" file --fixed --block-size 64K
  echo "fixed blocks: 1954 blocks of 512 read back; a medium error left $bytes bytes, read back"
  ;;

progress_on_a_terminal)
  # A 4 MiB pool (16 buffers): the stream reaches the drive while it runs, not all at its end
  # (the default pool's start mark is larger than the whole stream).
  start_daemon --pool-size 4M
  # stderr on a pseudo-terminal (script(1)); a pause in the stream so that the daemon's
  # twice-a-second PROGRESS comes while data still flows.
  # --size: the stream's length is known, so the line has a percentage and an ETA.
  script -qec "{ head -c 8000000 /dev/urandom; sleep 1.2; head -c 8000000 /dev/urandom; } |
               ${cli[*]} write --size 16000000" /dev/null >"$work/tty" || fail "write: $(cat "$work/tty")"
  tr '\r' '\n' <"$work/tty" >"$work/lines"
  # Mid-stream: bytes of the known size, the drive's rates, the pool's fill now and its lowest.
  grep -Eq "^written [0-9.]+ [KM]iB / 15.3 MiB  [0-9]+%  [0-9.]+ [KM]?i?B/s \(avg [0-9.]+ [KM]?i?B/s\)  pool [0-9]+% \(min [0-9]+%\)  0:00:0[0-9]  ETA 0:00:[0-9]{2}" \
    "$work/lines" || fail "no progress line with percentage, rates, pool fill and ETA: $(cat "$work/lines")"
  # The end: the line becomes the summary, with the drive's idle time and backhitches.
  grep -Eq "^written 15.3 MiB in 0:00:0[0-9], [0-9.]+ [KM]iB/s on average; the drive stood idle [0-9.]+ s" \
    "$work/lines" || fail "no summary line: $(cat "$work/lines")"
  script -qec "${cli[*]} read --file 0 >/dev/null" /dev/null >"$work/tty" || fail "read"
  tr '\r' '\n' <"$work/tty" | grep -q "^read 15.3 MiB in " || fail "no read summary: $(cat "$work/tty")"
  # Not on a terminal: no progress line, the summary once, as a message of the CLI.
  head -c 100000 /dev/urandom | "${cli[@]}" write 2>"$work/w" || fail "write: $(cat "$work/w")"
  grep -q $'\r' "$work/w" && fail "a progress line where standard error is a file: $(cat -A "$work/w")"
  [ "$(grep -c "^tapestream: written 97.7 KiB in " "$work/w")" = 1 ] || fail "no summary: $(cat "$work/w")"
  ;;

progress_waiting)
  # Queued behind another user's stream, the terminal says whose it is and since when; then it
  # streams. The holder is uid 2001 (setpriv) where this runs as root, so that the uid shown is
  # the holder's, not the waiter's own.
  holder=("${cli[@]}")
  holder_uid=$(id -u)
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    holder_uid=2001
    start_daemon --allow "write: uid:$holder_uid" --allow "status: uid:$holder_uid"
    chmod 755 "$work"
    chmod 666 "$TAPESTREAM_SOCKET"
    cp "$2" "$work/tapestream"  # the build tree may be closed to other users
    chmod 755 "$work/tapestream"
    holder=(setpriv --reuid "$holder_uid" --regid "$holder_uid" --clear-groups
            "$work/tapestream" --data-path "$data_path")
  else
    start_daemon
  fi
  drive=$("${cli[@]}" drives | head -n 1)
  mkfifo "$work/fifo"
  before=$(date +%H:%M)
  "${holder[@]}" write <"$work/fifo" 2>"$work/first" &
  first=$!
  exec 3>"$work/fifo"
  echo "first" >&3
  wait_for_log "connection [0-9]* .*writes file 0"
  script -qfec "echo second | ${cli[*]} write" /dev/null >"$work/tty" 3>&- &
  second=$!
  for _ in $(seq 100); do
    grep -q "waiting for $drive: in use by uid $holder_uid since " "$work/tty" && break
    sleep 0.05
  done
  after=$(date +%H:%M)
  grep -Eq "waiting for $drive: in use by uid $holder_uid since ($before|$after)" "$work/tty" ||
    fail "no waiting line naming uid $holder_uid since $before: $(cat -A "$work/tty")"
  exec 3>&-
  wait "$first" || fail "the first writer failed: $(cat "$work/first")"
  wait "$second" || fail "the waiting writer failed: $(cat "$work/tty")"
  tr '\r' '\n' <"$work/tty" | grep -q "^written 7 B in " || fail "no summary after waiting: $(cat -A "$work/tty")"
  [ "$("${cli[@]}" read --file 1)" = second ] || fail "file 1"
  ;;

client_killed_mid_write)
  start_daemon
  mkfifo "$work/fifo"
  "${cli[@]}" write <"$work/fifo" 2>/dev/null &
  writer=$!
  exec 3>"$work/fifo"
  head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/data"
  cat "$work/data" >&3
  sleep 0.3
  kill -9 "$writer"
  # Gone before its input ends: with fd passing the daemon holds the pipe and would otherwise
  # see a normal end of data.
  wait "$writer" 2>/dev/null || true
  exec 3>&-
  for _ in $(seq 50); do
    grep -q "went away" "$work/daemon.log" && break
    sleep 0.1
  done
  line=$(grep "went away" "$work/daemon.log") || fail "the daemon did not notice the client leave"
  bytes=$(echo "$line" | sed -n 's/.*away; \([0-9]*\) bytes.*/\1/p')
  daemon_alive
  "${cli[@]}" read --file 0 >"$work/back" || true
  [ "$(stat -c %s "$work/back")" = "$bytes" ] || fail "the log says $bytes bytes, reading gives $(stat -c %s "$work/back")"
  cmp -n "$bytes" "$work/data" "$work/back" || fail "the bytes on tape are not the stream's"
  echo "client killed: $bytes bytes on tape, read back identical"
  ;;

busy_drive)
  start_daemon
  mkfifo "$work/fifo"
  "${cli[@]}" write <"$work/fifo" 2>"$work/first" &
  first=$!
  exec 3>"$work/fifo"
  echo "first" >&3
  wait_for_log "connection 1 .*writes file 0"
  set +e
  echo "second" | "${cli[@]}" write --no-wait 2>"$work/second" 3>&-
  status=$?
  set -e
  [ "$status" = 75 ] || fail "a second writer with --no-wait got exit $status, not 75: $(cat "$work/second")"
  echo "third" | "${cli[@]}" write 2>"$work/third" 3>&- &  # not holding the FIFO open
  third=$!
  sleep 0.5
  kill -0 "$third" || fail "the waiting writer did not wait: $(cat "$work/third")"
  # A writer killed while it waits in line gives its place up: the drive is neither held for
  # it nor handed to it, and the writer behind it still gets the drive.
  echo "killed" | "${cli[@]}" write 2>/dev/null 3>&- &
  killed=$!
  echo "fifth" | "${cli[@]}" write 2>"$work/fifth" 3>&- &
  fifth=$!
  sleep 0.5
  kill -KILL "$killed"
  wait "$killed" 2>/dev/null || true
  exec 3>&-
  wait "$first" || fail "the first writer failed"
  wait "$third" || fail "the waiting writer failed after the first: $(cat "$work/third")"
  wait "$fifth" || fail "the writer behind a killed one failed: $(cat "$work/fifth")"
  [ "$("${cli[@]}" read --file 0)" = first ] || fail "file 0"
  [ "$("${cli[@]}" read --file 1)" = third ] || fail "file 1"
  [ "$("${cli[@]}" read --file 2)" = fifth ] || fail "file 2 is not the writer behind the killed one"
  set +e
  "${cli[@]}" read --file 3 >/dev/null 2>&1
  status=$?
  set -e
  [ "$status" = 66 ] || fail "the killed writer made a file (read --file 3: exit $status)"
  ;;

fd_passing_refusals)
  start_daemon
  head -c 3000000 /dev/urandom >"$work/data"
  mkfifo "$work/fifo"
  "${cli[@]}" write <"$work/fifo" 2>"$work/w" &
  writer=$!
  exec 3>"$work/fifo"
  head -c 1000000 "$work/data" >&3
  fds_before=$(ls "/proc/$daemon_pid/fd" | wc -l)
  python3 "$here/hostile_client.py" "$TAPESTREAM_SOCKET" --fd-passing ||
    fail "a bad descriptor or fd-passing request was not refused cleanly"
  for _ in $(seq 40); do  # the last refused connections may still be closing
    fds_after=$(ls "/proc/$daemon_pid/fd" | wc -l)
    [ "$fds_after" = "$fds_before" ] && break
    sleep 0.05
  done
  [ "$fds_after" = "$fds_before" ] ||
    fail "the daemon holds $fds_after descriptors after the refusals, $fds_before before"
  tail -c +1000001 "$work/data" >&3
  exec 3>&-
  wait "$writer" || fail "the other session's stream failed: $(cat "$work/w")"
  "${cli[@]}" read --file 0 | cmp - "$work/data" || fail "the other session's data differs"
  daemon_alive
  ;;

malformed_messages)
  start_daemon
  head -c $((8 * 1024 * 1024)) /dev/urandom >"$work/data"
  mkfifo "$work/fifo"
  "${cli[@]}" write <"$work/fifo" 2>"$work/w" &
  writer=$!
  exec 3>"$work/fifo"
  head -c 1000000 "$work/data" >&3
  python3 "$here/hostile_client.py" "$TAPESTREAM_SOCKET" || fail "a hostile message was not refused cleanly"
  tail -c +1000001 "$work/data" >&3
  exec 3>&-
  wait "$writer" || fail "the other session's stream failed: $(cat "$work/w")"
  "${cli[@]}" read --file 0 | cmp - "$work/data" || fail "the other session's data differs"
  daemon_alive
  ;;

medium_error)
  start_daemon --drive "emu0=emulated:$work/state/emu0.tap?medium_error_write=7"
  head -c $((5 * 1024 * 1024)) /dev/urandom >"$work/data"
  failing_write 74 "$work/data" file
  echo "medium error: $bytes bytes reported and read back"
  ;;

early_warning)
  start_daemon --drive "emu0=emulated:$work/state/emu0.tap?capacity=8M&ew=4M"
  head -c $((16 * 1024 * 1024)) /dev/urandom >"$work/data"
  failing_write 73 "$work/data" pipe
  echo "early warning: $bytes bytes reported and read back"
  ;;

graceful_stop)
  start_daemon
  mkfifo "$work/fifo"
  "${cli[@]}" write <"$work/fifo" 2>"$work/w" 3>&- &
  writer=$!
  exec 3>"$work/fifo"
  head -c 3000000 /dev/urandom >"$work/data"
  head -c 1000000 "$work/data" >&3
  wait_for_log "writes file 0"
  kill -TERM "$daemon_pid"
  wait_for_log "stopping"
  kill -0 "$daemon_pid" || fail "the daemon stopped in the middle of a stream"
  tail -c +1000001 "$work/data" >&3
  exec 3>&-
  wait "$writer" || fail "the stream running at SIGTERM was not committed: $(cat "$work/w")"
  for _ in $(seq 50); do
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$daemon_pid" 2>/dev/null && fail "the daemon did not exit after its last stream"
  wait "$daemon_pid" || fail "the daemon exited with an error"
  daemon_pid=""
  start_daemon
  "${cli[@]}" read --file 0 | cmp - "$work/data" || fail "the stream committed at shutdown differs"
  ;;

*)
  echo "unknown case $case_name" >&2
  exit 2
  ;;
esac
echo "PASS: $case_name"
