#!/usr/bin/env bash
# Compares, in one run, the CPU and wall time of moving SIZE bytes from `head -c` into a file:
#   mbuffer     head -c SIZE /dev/zero | mbuffer -m 1G -s 256k -o FILE
#   ts-stream   head -c SIZE /dev/zero | tapestream write --data-path stream
#   ts-fd       head -c SIZE /dev/zero | tapestream write --data-path fd
#   ts-fd-file  tapestream write --data-path fd < SOURCE   (a regular file: O_DIRECT reads;
#               not the same job: SOURCE is written first, outside the timing)
#   ts-fd-bare  ts-fd with the work mbuffer does not do left out: --no-digest (no SHA-256 of
#               the stream) and --protection off (no CRC32C of every block)
#   pipe-floor  head -c SIZE /dev/zero | cat >/dev/null: what any reader of the producer's pipe
#               costs at least (its CPU is the floor of every row above but ts-fd-file)
#   disk        dd if=/dev/zero of=FILE bs=4M oflag=direct conv=fdatasync: the disk's rate for
#               large direct writes, the ceiling of every row's rate
# (tapestream: the emulated drive, whose image is FILE.)
# Each run ends with the data flushed to the disk (mbuffer: sync; tapestream: WRITE FILEMARKS
# Immed=0 is an fdatasync of the image). CPU is every process of the pipeline (children's user +
# sys from /usr/bin/time), the daemon's CPU from /proc. Benchmarks are not tests: this reports.
# DRIVE_OPTIONS adds options to the emulated drive's spec (e.g. the drive's buffer:
# DRIVE_OPTIONS='&buffer=1G&rate=1T&min_rate=1M&backhitch=0s', docs/EMULATED_DRIVE.md).
# Usage: bench/stream_vs_mbuffer.sh BUILD_DIR [SIZE_MiB] [ROUNDS]   (needs mbuffer: apt-get install mbuffer)
set -euo pipefail
build=${1:?build directory, e.g. build/main}
mib=${2:-4096}
rounds=${3:-3}
daemon=$build/daemon/tapestreamd
cli=$build/client/tapestream
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tapestream-bench-XXXXXX")
trap 'kill $daemon_pid 2>/dev/null; wait $daemon_pid 2>/dev/null; rm -rf "$work"' EXIT
export TAPESTREAM_SOCKET=$work/s.sock

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)

printf "%-12s %6s %10s %10s %12s\n" tool round "GB/s" "cpu-s/GiB" "wall s"
for round in $(seq "$rounds"); do
  rm -f "$work/out"
  /usr/bin/time -f "%e %U %S" -o "$work/t" bash -c \
    "head -c ${mib}M /dev/zero | mbuffer -q -m 1G -s 256k -o '$work/out' && sync '$work/out'"
  read -r wall user sys <"$work/t"
  awk -v w="$wall" -v u="$user" -v s="$sys" -v m="$mib" -v r="$round" \
    'BEGIN { printf "%-12s %6d %10.2f %10.2f %12.2f\n", "mbuffer", r, m*1048576/w/1e9, (u+s)/(m/1024), w }'
  rm -f "$work/out"
  for floor in pipe-floor disk; do
    if [ "$floor" = pipe-floor ]; then
      job="head -c ${mib}M /dev/zero | cat >/dev/null"
    else
      job="dd if=/dev/zero of='$work/out' bs=4M count=$((mib / 4)) oflag=direct conv=fdatasync status=none"
    fi
    /usr/bin/time -f "%e %U %S" -o "$work/t" bash -c "$job"
    read -r wall user sys <"$work/t"
    awk -v w="$wall" -v u="$user" -v s="$sys" -v m="$mib" -v r="$round" -v name="$floor" \
      'BEGIN { printf "%-12s %6d %10.2f %10.2f %12.2f\n", name, r, m*1048576/w/1e9, (u+s)/(m/1024), w }'
    rm -f "$work/out"
  done

  for path in stream fd fd-file fd-bare; do
    rm -rf "$work/state" "$TAPESTREAM_SOCKET"
    bare=()
    [ "$path" = fd-bare ] && bare=(--protection off)
    "$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state" --log-level warn \
      --drive "emu0=emulated:$work/state/emu0.tap?capacity=64G${DRIVE_OPTIONS:-}" "${bare[@]}" &
    daemon_pid=$!
    while [ ! -S "$TAPESTREAM_SOCKET" ]; do sleep 0.05; done
    if [ "$path" = fd-file ]; then
      [ -f "$work/source" ] || { head -c "${mib}M" /dev/zero >"$work/source"; sync "$work/source"; }
      job="'$cli' write --data-path fd <'$work/source' 2>'$work/cli.log'"
    elif [ "$path" = fd-bare ]; then
      job="head -c ${mib}M /dev/zero | '$cli' write --data-path fd --no-digest 2>'$work/cli.log'"
    else
      job="head -c ${mib}M /dev/zero | '$cli' write --data-path $path 2>'$work/cli.log'"
    fi
    before=$(cpu_of "$daemon_pid")
    /usr/bin/time -f "%e %U %S" -o "$work/t" bash -c "$job"
    after=$(cpu_of "$daemon_pid")
    grep -q "committed $((mib * 1048576)) bytes" "$work/cli.log" || { cat "$work/cli.log" >&2; exit 1; }
    read -r wall user sys <"$work/t"
    awk -v w="$wall" -v u="$user" -v s="$sys" -v d="$(( after - before ))" -v hz="$hz" -v m="$mib" \
      -v r="$round" -v name="ts-$path" \
      'BEGIN { printf "%-12s %6d %10.2f %10.2f %12.2f\n", name, r, m*1048576/w/1e9, (u+s+d/hz)/(m/1024), w }'
    kill "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
  done
done
