#!/usr/bin/env bash
# Damaged images with real processes: tapestreamd refuses them at start-up (exit 78, the message
# naming where and what) without touching the file; ?damaged=readonly serves the files before
# the damage and refuses writes; ?damaged=cut cuts the image there and writes go on after it.
# Images that are no SIMH image, symbolic links and directories are refused too.
# Usage: image_damage_test.sh DAEMON CLI
set -euo pipefail
daemon=$1
cli=$2
here=$(cd "$(dirname "$0")" && pwd)
reader=(python3 "$here/simh_reader.py")
work=$(mktemp -d /tmp/tapestream-image-damage-XXXXXX)
daemon_pid=""
export TAPESTREAM_SOCKET=$work/tapestreamd.sock

stop_daemon() {
  [ -n "$daemon_pid" ] || return 0
  kill "$daemon_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$daemon_pid" 2>/dev/null && echo "the daemon ignored SIGTERM" >&2
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
}
cleanup() {
  stop_daemon
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- daemon log" >&2
  cat "$work/daemon.log" >&2 || true
  exit 1
}

start_daemon() {  # start_daemon SPEC: serves emu0 on SPEC
  rm -f "$TAPESTREAM_SOCKET"
  "$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state" --drive "emu0=$1" \
    >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 200); do
    [ -S "$TAPESTREAM_SOCKET" ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited at start-up on $1"
    sleep 0.05
  done
  fail "the daemon did not come up on $1"
}

# refused SPEC PATTERN...: the daemon exits 78 at start-up, its message holding every PATTERN.
refused() {
  local spec=$1 status=0
  shift
  timeout 60 "$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state" \
    --drive "emu0=$spec" >"$work/daemon.log" 2>&1 || status=$?
  [ "$status" = 78 ] || fail "$spec: exit $status at start-up, not 78"
  for pattern in "$@"; do
    grep -qF -- "$pattern" "$work/daemon.log" || fail "$spec: the message does not say \"$pattern\""
  done
}

unchanged() {  # unchanged PATH SUM: the image is byte for byte what it was
  [ "$(sha256sum <"$1")" = "$2" ] || fail "$1 changed"
}

# An image with three committed files, written through the daemon and the CLI.
good=$work/good.tap
start_daemon "emulated:$good"
for n in 0 1 2; do
  head -c $((300000 + n * 150001)) /dev/urandom >"$work/f$n"
  "$cli" write <"$work/f$n" 2>"$work/w" || fail "write $n: $(cat "$work/w")"
  grep -q "as file $n on emu0" "$work/w" || fail "file $n was committed as: $(cat "$work/w")"
done
stop_daemon
"${reader[@]}" "$good" --objects >"$work/objects" || fail "the independent reader cannot read the image"
# The offsets of file 1's blocks: after the first tape mark, before the second.
mapfile -t file1 < <(awk '$2 == 0 { marks++; next } marks == 1 { print $1 }' "$work/objects")
[ "${#file1[@]}" -ge 2 ] || fail "file 1 has ${#file1[@]} blocks, not 2 or more"
# Without the 256 MiB the drive allocates ahead (zeros, no tape), so that the many sha256sums
# below take moments: up to the page after the open end, which follows the last object.
read -r last_offset last_length < <(tail -n 1 "$work/objects")
[ "$last_length" = 0 ] || fail "the tape does not end with a filemark"
truncate -s $(((last_offset + 4 + 6 + 4099) / 4096 * 4096)) "$good"

put_word() {  # put_word IMAGE OFFSET HEX8 (the bytes as they lie in the file)
  printf "$(echo "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

flip_bit() {  # flip_bit IMAGE OFFSET: the word at OFFSET, 256 more or less
  local at=$(($2 + 1)) byte
  byte=$(od -An -tu1 -j "$at" -N1 "$1" | tr -d ' ')
  printf "\\x$(printf %02x $((byte ^ 1)))" | dd of="$1" bs=1 seek="$at" conv=notrunc status=none
}
end_of_medium() { put_word "$1" "$2" ffffffff; }

# damaged_tape NAME OFFSET PATTERN PATCH: the image with PATCH applied at OFFSET, in file 1.
damaged_tape() {
  local name=$1 offset=$2 pattern=$3 image=$work/$1.tap sum
  cp "$good" "$image"
  "$4" "$image" "$offset"
  sum=$(sha256sum <"$image")
  refused "emulated:$image" "$image" "damaged at byte offset $offset" "$pattern" \
    "damaged=readonly" "damaged=cut"
  unchanged "$image" "$sum"

  start_daemon "emulated:$image?damaged=readonly"
  grep -qF "damaged at byte offset $offset" "$work/daemon.log" || fail "$name: readonly logs no offset"
  "$cli" read --file 0 | cmp - "$work/f0" || fail "$name: file 0 does not read back"
  local status=0
  head -c 1000 /dev/urandom | "$cli" write 2>"$work/w" || status=$?
  [ "$status" = 66 ] || fail "$name: a write on the readonly image exits $status, not 66: $(cat "$work/w")"
  stop_daemon
  unchanged "$image" "$sum"

  start_daemon "emulated:$image?damaged=cut"
  grep -qF "cutting it there (damaged=cut)" "$work/daemon.log" || fail "$name: cut logs nothing"
  head -c 77777 /dev/urandom >"$work/new"
  "$cli" write <"$work/new" 2>"$work/w" || fail "$name: write after the cut: $(cat "$work/w")"
  local file
  file=$(sed -n 's/.* as file \([0-9]*\) on emu0.*/\1/p' "$work/w")
  [ -n "$file" ] || fail "$name: no file number in: $(cat "$work/w")"
  "$cli" read --file "$file" | cmp - "$work/new" || fail "$name: the new file $file differs"
  "$cli" read --file 0 | cmp - "$work/f0" || fail "$name: file 0 does not read back after the cut"
  stop_daemon
  [ "$(sha256sum <"$image")" != "$sum" ] || fail "$name: damaged=cut left the image as it was"
  start_daemon "emulated:$image"  # clean again
  "$cli" read --file "$file" | cmp - "$work/new" || fail "$name: the new file differs after a restart"
  stop_daemon
}

# not_an_image NAME PATTERN: refused whatever damaged= says, and left as it is.
not_an_image() {
  local image=$work/$1.tap sum
  sum=$(sha256sum <"$image")
  for option in "" "?damaged=readonly" "?damaged=cut"; do
    refused "emulated:$image$option" "$image" "is not a SIMH tape image" "$2"
    unchanged "$image" "$sum"
  done
}

# A flipped bit in the length word of file 1's first block: its two lengths differ.
damaged_tape flipped "${file1[0]}" "leading length" flip_bit
# FFFFFFFFh in place of the leading length of file 1's second block.
damaged_tape stray "${file1[1]}" "end-of-medium word" end_of_medium

# A huge length at offset 0, and a text file.
cp "$good" "$work/huge.tap"
put_word "$work/huge.tap" 0 f0ffff00
not_an_image huge "at offset 0"
printf 'tapestream is not a SIMH image\n%.0s' $(seq 200) >"$work/text.tap"
not_an_image text "a text file?"

# A symbolic link to the good image: not followed unless follow_symlinks=1.
ln -s "$good" "$work/link.tap"
sum=$(sha256sum <"$good")
refused "emulated:$work/link.tap" "is a symbolic link to $good" "follow_symlinks=1"
start_daemon "emulated:$work/link.tap?follow_symlinks=1"
"$cli" read --file 2 | cmp - "$work/f2" || fail "file 2 does not read back through the link"
stop_daemon
unchanged "$good" "$sum"

# A directory.
mkdir "$work/dir.tap"
refused "emulated:$work/dir.tap" "is a directory, not a regular file"
echo "image damage: all cases passed"
