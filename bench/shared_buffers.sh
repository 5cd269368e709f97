#!/usr/bin/env bash
# Shared buffers against the other data paths, into one null drive (no disk; the null drive takes
# WRITE without touching the data), in the same run, the configurations interleaved per round:
#   gen     bench/shared_buffers generate: the counter pattern made in a private buffer (the
#           producer's own cost, subtracted below)
#   shm     bench/shared_buffers shared: the same pattern made in the daemon's slots
#           (ts_shared_acquire/submit): no copy between the producer and the tape
#   shm-nd  the same with TS_WRITE_NO_DIGEST: the daemon takes no SHA-256 of the stream
#   fd      zero_pipe SIZE | tapestream write --data-path fd     (the daemon reads the pipe)
#   fd-nd   the same with --no-digest
#   stream  zero_pipe SIZE | tapestream write --data-path stream (DATA frames on the socket)
# GB/s is SIZE / wall time; cpu-s/GiB counts every process (producer, CLI, and the daemon's
# threads from /proc/PID/stat); "beyond gen" is the shm rows' CPU less gen's, per GiB. The
# daemon hashes every stream (SHA-256) but the -nd ones. Benchmarks are not tests.
# BLOCK is the daemon's buffer size and every stream's block size, so the shm rows' slot size.
# Usage: [DAEMON_ARGS="--protection off"] bench/shared_buffers.sh BUILD_DIR [SIZE_MiB] [ROUNDS] [BLOCK]
#   e.g. bench/shared_buffers.sh build/rel 4096 5 4M
set -euo pipefail
build=${1:?build directory, e.g. build/rel}
mib=${2:-2048}
rounds=${3:-3}
block=${4:-1M}
bytes=$((mib * 1048576))
daemon=$build/daemon/tapestreamd
cli=$build/client/tapestream
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tapestream-shared-XXXXXX")
daemon_pid=
trap '[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export TAPESTREAM_SOCKET=$work/s.sock
hz=$(getconf CLK_TCK)
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
block_bytes=$(numfmt --from=iec "$block")

"$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state" --log-level warn \
  --buffer-size "$block" --block-size "$block" --drive "null0=null:?capacity=64T&serial=NULL0" \
  ${DAEMON_ARGS:-} 2>"$work/daemon.log" &
daemon_pid=$!
while [ ! -S "$TAPESTREAM_SOCKET" ]; do
  kill -0 "$daemon_pid" || { cat "$work/daemon.log" >&2; exit 1; }
  sleep 0.05
done

# One configuration: prints "tool round GB/s cpu-s/GiB wall".
run() {
  local tool=$1 round=$2 job before after
  case $tool in
    gen) job="'$build/bench/shared_buffers' generate $bytes $block_bytes >/dev/null" ;;
    shm) job="'$build/bench/shared_buffers' shared '$TAPESTREAM_SOCKET' null0 $bytes $block_bytes >/dev/null" ;;
    shm-nd) job="'$build/bench/shared_buffers' shared '$TAPESTREAM_SOCKET' null0 $bytes $block_bytes no-digest >/dev/null" ;;
    fd|stream) job="'$build/bench/zero_pipe' $bytes | '$cli' --drive null0 write --data-path $tool 2>'$work/cli.log'" ;;
    fd-nd) job="'$build/bench/zero_pipe' $bytes | '$cli' --drive null0 write --data-path fd --no-digest 2>'$work/cli.log'" ;;
  esac
  before=$(cpu_of "$daemon_pid")
  /usr/bin/time -f "%e %U %S" -o "$work/t" bash -c "$job"
  after=$(cpu_of "$daemon_pid")
  local wall user sys
  read -r wall user sys <"$work/t"
  awk -v w="$wall" -v u="$user" -v s="$sys" -v d="$((after - before))" -v hz="$hz" -v m="$mib" \
    -v r="$round" -v tool="$tool" \
    'BEGIN { gib = m / 1024; printf "%-6s %3d %8.2f %10.3f %8.2f\n", tool, r,
             gib * 1073741824 / w / 1e9, (u + s + d / hz) / gib, w }'
}

printf "%-6s %3s %8s %10s %8s\n" tool rnd "GB/s" "cpu-s/GiB" "wall s"
for round in $(seq "$rounds"); do
  for tool in gen shm shm-nd fd fd-nd stream; do
    run "$tool" "$round" | tee -a "$work/rows"
  done
done

echo
echo "medians of $rounds rounds, ${mib} MiB per stream, blocks of $block, null drive"
awk '
  function median(key,   n, i, j, t, v) {
    n = split(vals[key], v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { vals[$1 " rate"] = vals[$1 " rate"] " " $3; vals[$1 " cpu"] = vals[$1 " cpu"] " " $4 }
  END {
    printf "%-6s %8s %10s %12s\n", "tool", "GB/s", "cpu-s/GiB", "beyond gen"
    n = split("gen shm shm-nd fd fd-nd stream", tools, " ")
    for (i = 1; i <= n; i++) {
      t = tools[i]
      printf "%-6s %8.2f %10.3f %12s\n", t, median(t " rate"), median(t " cpu"),
             t ~ /^shm/ ? sprintf("%.3f", median(t " cpu") - median("gen cpu")) : "-"
    }
  }' "$work/rows"
