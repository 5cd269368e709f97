#!/usr/bin/env bash
# Shoe-shining, in one run: a producer replaying a bursty rate trace (BURST_S seconds at
# BURST_MBPS, then STALL_S seconds of nothing, ROUNDS times: a mean between the drive's min_rate
# and rate) into a modelled LTO-9 scaled down tenfold (40 MB/s, matching down to 17.7 MB/s,
# a 100 MB buffer, 2.5 s per backhitch):
#   tapestream   the daemon with its defaults (pool 256 MiB, start and restart marks 50%) on the
#                null drive with that model (null:?buffer=...&rate=...)
#   mbuffer      mbuffer -m 256M -P 90 (the same memory) writing into the same model fed by a
#                pipe (drive_model_pipe, from the same parameters and the same code)
# and reports, for each, the backhitches the model counted and the effective rate (bytes over the
# time from the first byte to the last on tape). Benchmarks are not tests: this reports.
# Usage: bench/shoe_shine.sh BUILD_DIR [ROUNDS] [BURST_MBPS] [BURST_S] [STALL_S]
# TS_ARGS adds daemon options (e.g. TS_ARGS="--start-mark 90 --restart-mark 90"); SKIP_MBUFFER=1
# runs the daemon alone.
set -euo pipefail
build=${1:?build directory, e.g. build/dev}
rounds=${2:-8}
burst_mbps=${3:-120}
burst_s=${4:-2}
stall_s=${5:-7}
rate=40000000 min_rate=17700000 drive_buffer=100000000 backhitch_ms=2500
daemon=$build/daemon/tapestreamd
cli=$build/client/tapestream
pipe_model=$build/bench/drive_model_pipe
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tapestream-shoe-XXXXXX")
daemon_pid=
trap '[ -n "$daemon_pid" ] && kill $daemon_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export TAPESTREAM_SOCKET=$work/s.sock

# The trace: bursts of a fixed rate with stalls between them, paced by the clock.
producer() {
  python3 - "$rounds" "$burst_mbps" "$burst_s" "$stall_s" <<'PY'
import os, sys, time
rounds, mbps, burst, stall = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
chunk = bytes(1 << 20)
out = sys.stdout.buffer
for r in range(rounds):
    start, n = time.monotonic(), int(mbps * 1e6 * burst) >> 20
    for i in range(n):
        delay = start + i * (1 << 20) / (mbps * 1e6) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        out.write(chunk)
    out.flush()
    if r + 1 < rounds:
        time.sleep(stall)
PY
}

mean=$(awk -v b="$burst_mbps" -v s="$burst_s" -v t="$stall_s" 'BEGIN { printf "%.1f", b*s/(s+t) }')
echo "trace: $rounds x ($burst_s s at $burst_mbps MB/s, $stall_s s stall): mean $mean MB/s;" \
     "drive: rate $((rate / 1000000)) MB/s, min_rate 17.7 MB/s, buffer $((drive_buffer / 1000000)) MB," \
     "backhitch $backhitch_ms ms"
printf "%-12s %12s %12s %10s\n" tool backhitches "starved s" "MB/s"

# mbuffer into the model through a pipe.
if [ -z "${SKIP_MBUFFER:-}" ]; then
  line=$(producer | mbuffer -q -m 256M -P 90 -s 256k | "$pipe_model" $rate $min_rate $drive_buffer $backhitch_ms)
  read -r _ hitches _ starved _ bytes _ seconds _ mbs <<<"$line"
  printf "%-12s %12s %12s %10s\n" "mbuffer" "$hitches" "$starved" "$mbs"
fi

# The daemon with its defaults on the null drive with the same model.
"$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state" --log-level info \
  --drive "m=null:?capacity=64G&buffer=${drive_buffer}&rate=${rate}&min_rate=${min_rate}&backhitch=${backhitch_ms}ms" \
  ${TS_ARGS:-} >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$TAPESTREAM_SOCKET" ] && break; sleep 0.1; done
start=$(date +%s.%N)
producer | "$cli" --drive m write >/dev/null 2>"$work/cli.log"
end=$(date +%s.%N)
"$cli" --drive m status >/dev/null
sleep 0.5
hitches=$(grep -oP 'drive m: \K\d+(?= backhitches)' "$work/daemon.log" | tail -1 || true)
starved=$(grep -oP 'backhitches .*?, \K[\d.]+(?= s without data)' "$work/daemon.log" | tail -1 || true)
bytes=$(grep -oP 'committed: \K\d+(?= bytes)' "$work/daemon.log" | tail -1 || true)
mbs=$(awk -v b="${bytes:-0}" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", b/(e-s)/1e6 }')
printf "%-12s %12s %12s %10s\n" "tapestream" "${hitches:-0}" "${starved:-0}" "$mbs"
grep -o 'the pool ran dry.*' "$work/daemon.log" | tail -1 || true
