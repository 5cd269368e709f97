#!/usr/bin/env bash
# Issue 9, defects 4 and 9: what tapestreamd refuses at start-up (exit 78, nothing removed or
# taken over) and what the CLI refuses as usage (exit 64), with real processes.
# Usage: startup_and_usage_test.sh DAEMON CLI CASE
set -euo pipefail
daemon=$1
cli=$2
case_name=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/tapestream-usage-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
export TAPESTREAM_SOCKET=$work/tapestreamd.sock

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; cat "$log" >&2; }
  done
  exit 1
}

start_daemon() {  # start_daemon NAME SOCKET STATE [options...]: waits until it answers
  local name=$1 socket=$2 state=$3
  shift 3
  "$daemon" --socket "$socket" --state-dir "$state" "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 200); do
    # Answering, not just a socket file: a stale one may be there before the daemon replaces it.
    "$cli" --socket "$socket" drives >/dev/null 2>&1 && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || fail "$name exited at start-up"
    sleep 0.05
  done
  fail "$name did not come up"
}

# expect_refusal STATUS PATTERN COMMAND...: the command exits STATUS saying PATTERN (a daemon
# that starts instead of refusing is stopped after 10 s).
expect_refusal() {
  local want=$1 pattern=$2 status
  shift 2
  set +e
  timeout 10 "$@" >"$work/refused.out" 2>"$work/refused.err"
  status=$?
  set -e
  [ "$status" = "$want" ] || fail "$*: exit $status, expected $want: $(cat "$work/refused.err")"
  grep -q -- "$pattern" "$work/refused.err" || fail "$*: no \"$pattern\" in: $(cat "$work/refused.err")"
}

case "$case_name" in
one_owner)
  start_daemon first "$TAPESTREAM_SOCKET" "$work/state"
  echo data >"$work/data"
  "$cli" write <"$work/data" 2>/dev/null || fail "write to the first daemon"
  # The same socket from another state directory: the socket's lock refuses it.
  expect_refusal 78 "in use by another tapestreamd" \
    "$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state2"
  # The same state directory (and its image) from another socket.
  expect_refusal 78 "state directory .* is in use by another tapestreamd" \
    "$daemon" --socket "$work/other.sock" --state-dir "$work/state"
  # The first daemon serves on, its socket and its file untouched.
  [ -S "$TAPESTREAM_SOCKET" ] || fail "the first daemon's socket was removed"
  [ "$("$cli" read --file 0)" = data ] || fail "the first daemon does not serve file 0 any more"
  # Two drives of one daemon on one image.
  expect_refusal 78 "in use" "$daemon" --socket "$work/third.sock" --state-dir "$work/state3" \
    --drive "a=emulated:$work/shared.tap" --drive "b=emulated:$work/shared.tap"
  echo "one owner: a second daemon on the socket and on the state directory, and a second drive on an image, refused with exit 78"
  ;;

socket_path)
  # A regular file where the socket goes is somebody's data: refused, never unlinked.
  echo "not a socket" >"$work/file.sock"
  expect_refusal 78 "is not a socket; not removing it" \
    "$daemon" --socket "$work/file.sock" --state-dir "$work/state"
  [ "$(cat "$work/file.sock")" = "not a socket" ] || fail "the regular file at the socket path changed"
  mkdir "$work/dir.sock"
  expect_refusal 78 "is not a socket" "$daemon" --socket "$work/dir.sock" --state-dir "$work/state"
  # A socket nobody listens on (a daemon that died) is replaced.
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
    "$TAPESTREAM_SOCKET"
  [ -S "$TAPESTREAM_SOCKET" ] || fail "no stale socket made"
  start_daemon stale "$TAPESTREAM_SOCKET" "$work/state"
  "$cli" status >/dev/null || fail "the daemon that replaced the stale socket does not answer"
  # A bare name is a socket in the working directory (it used to fail: "cannot create the
  # socket's directory : Invalid argument").
  mkdir "$work/bare"
  cd "$work/bare"
  start_daemon bare bare.sock "$work/bare-state"
  [ -S "$work/bare/bare.sock" ] || fail "the bare socket name is not in the working directory"
  cd "$work"
  echo "socket path: a regular file and a directory refused and kept; a stale socket replaced;" \
    "a bare name in the working directory"
  ;;

daemon_options)
  expect_refusal 64 "log-level bogus" "$daemon" --socket "$work/s" --state-dir "$work/st" --log-level bogus
  expect_refusal 78 "is not a regular file" "$daemon" --config "$work" --socket "$work/s"
  echo "bogus = 1" >"$work/unknown.conf"
  expect_refusal 78 "unknown.conf" "$daemon" --config "$work/unknown.conf" --socket "$work/s"
  echo "buffers = many" >"$work/value.conf"
  expect_refusal 78 "value.conf" "$daemon" --config "$work/value.conf" --socket "$work/s"
  expect_refusal 78 "the classes are" "$daemon" --socket "$work/s" --state-dir "$work/st" \
    --command-timeout writes=5
  # Logs go to standard error, as --help says; standard output stays empty.
  start_daemon quiet "$TAPESTREAM_SOCKET" "$work/state"
  "$cli" status >/dev/null
  [ ! -s "$work/quiet.out" ] || fail "the daemon wrote to standard output: $(cat "$work/quiet.out")"
  "$daemon" --help >"$work/help"
  grep -q "logging to stderr" "$work/help" || fail "--help does not say where logs go"
  echo "daemon options: unknown log level 64, configuration errors 78, logs on stderr"
  ;;

cli_usage)
  start_daemon usage "$TAPESTREAM_SOCKET" "$work/state"
  expect_refusal 64 "expected a file number" "$cli" read --file -1
  expect_refusal 64 "expected a file number" "$cli" read --file 1x
  expect_refusal 64 "takes no argument" "$cli" rewind 3
  expect_refusal 64 "takes one argument" "$cli" fsf 1 2
  expect_refusal 64 "needs an argument" "$cli" seek
  expect_refusal 64 "goes with write only" "$cli" read -- cat
  expect_refusal 64 "at most 255 bytes of UTF-8" "$cli" write --label $'\xff' </dev/null
  # A count of 0 moves nothing for every verb that counts; weof 0 flushes.
  for verb in weof fsf bsf fsr bsr; do
    "$cli" "$verb" 0 || fail "$verb 0 failed"
  done
  # A read's JSON never goes into the data on standard output.
  set +e
  "$cli" --json read --file 7 >"$work/data.out" 2>"$work/data.err"
  status=$?
  set -e
  [ "$status" = 66 ] || fail "read of a missing file: exit $status"
  [ ! -s "$work/data.out" ] || fail "the read's error went into its data: $(cat "$work/data.out")"
  grep -q '"error":"end_of_data"' "$work/data.err" || fail "no JSON error on stderr: $(cat "$work/data.err")"
  # A terminal as standard input is refused, as tar refuses one.
  script -qec "$cli write" /dev/null >"$work/tty.out" 2>&1 || true
  grep -q "standard input is a terminal" "$work/tty.out" || fail "a terminal was not refused: $(cat "$work/tty.out")"
  # With no cartridge, tell has no position to report.
  "$cli" eject
  expect_refusal 66 "does not say where the tape stands" "$cli" tell
  "$cli" status >"$work/status"
  grep -q "medium: *none" "$work/status" || fail "status after eject: $(cat "$work/status")"
  "$cli" load
  echo "cli usage: --file -1, extra and missing arguments, bad labels, a terminal refused; counts of 0 accepted; tell without a cartridge fails"
  ;;

protocol_edges)
  start_daemon edges "$TAPESTREAM_SOCKET" "$work/state"
  python3 "$here/hostile_client.py" "$TAPESTREAM_SOCKET" --stream-edges || fail "protocol edge cases"
  # Nothing the edge cases sent made a file: the next write is file 0.
  echo data | "$cli" write 2>"$work/w" || fail "write after the edge cases: $(cat "$work/w")"
  grep -q "as file 0 " "$work/w" || fail "an edge case took a file number: $(cat "$work/w")"
  python3 "$here/hostile_client.py" "$TAPESTREAM_SOCKET" --pipelined-write || fail "a pipelined write"
  [ "$("$cli" read --file 1)" = "burst of data" ] || fail "the pipelined write is not file 1"
  python3 "$here/hostile_client.py" "$TAPESTREAM_SOCKET" --pipelined-fd-write || fail "a pipelined fd write"
  [ "$("$cli" read --file 2)" = "fd burst" ] || fail "the pipelined fd write is not file 2"
  echo "protocol edges: END with a wrong count, a label that is not UTF-8, pipelined requests and a pipelined write"
  ;;

*)
  echo "unknown case $case_name" >&2
  exit 2
  ;;
esac
echo "PASS: $case_name"
