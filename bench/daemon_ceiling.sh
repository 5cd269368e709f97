#!/usr/bin/env bash
# The daemon's own ceiling: N streams at once into N null drives (no disk, no data kept), against
# `cat` moving the same pipes in the same run:
#   cat   N x  head -c SIZE /dev/zero | cat >/dev/null
#   ts    N x  head -c SIZE /dev/zero | tapestream --drive nullK write    (fd passing: the daemon
#              reads each pipe into its registered buffers; the null drive takes WRITE without
#              touching the data)
# for N in STREAMS (default "1 2 4"), ROUNDS rounds, the configurations interleaved in each
# round. Rates are aggregate (N x SIZE / wall time of the slowest); CPU is every process: head,
# cat or the CLI (user + sys of the children, from /usr/bin/time) and, for ts, the daemon (all
# its threads, from /proc/PID/stat). Benchmarks are not tests: this reports, medians at the end.
# PRODUCER is `head` (head -c SIZE /dev/zero, which copies every byte into the pipe: on a
# 2-core machine two producers take a core each, and nothing can scale past them) or
# `vmsplice` (bench/zero_pipe: the pipe takes references to one region's pages, the reader
# makes the only copy, so the consumers' scaling is what is measured).
# Usage: bench/daemon_ceiling.sh BUILD_DIR [SIZE_MiB] [ROUNDS] [STREAMS] [PRODUCER]
#   e.g. bench/daemon_ceiling.sh build/rel 4096 5 "1 2 4" vmsplice
set -euo pipefail
build=${1:?build directory, e.g. build/rel}
mib=${2:-4096}
rounds=${3:-5}
streams=${4:-1 2 4}
producer=${5:-head}
case $producer in
  head) produce="head -c ${mib}M /dev/zero" ;;
  vmsplice) produce="'$build/bench/zero_pipe' $((mib * 1048576))" ;;
  *) echo "PRODUCER is head or vmsplice" >&2; exit 2 ;;
esac
daemon=$build/daemon/tapestreamd
cli=$build/client/tapestream
max=$(printf '%s\n' $streams | sort -n | tail -1)
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tapestream-ceiling-XXXXXX")
daemon_pid=
trap '[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export TAPESTREAM_SOCKET=$work/s.sock
hz=$(getconf CLK_TCK)
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of all threads, in ticks

drives=()
for k in $(seq 0 $((max - 1))); do
  drives+=(--drive "null$k=null:?capacity=64T&serial=NULL$k")
done
"$daemon" --socket "$TAPESTREAM_SOCKET" --state-dir "$work/state" --log-level warn "${drives[@]}" \
  2>"$work/daemon.log" &
daemon_pid=$!
while [ ! -S "$TAPESTREAM_SOCKET" ]; do
  kill -0 "$daemon_pid" || { cat "$work/daemon.log" >&2; exit 1; }
  sleep 0.05
done

# One configuration: prints "tool n round GB/s cpu-s/GiB wall daemon-cpu-s/GiB".
run() {
  local tool=$1 n=$2 round=$3 job="" k before=0 after=0
  for k in $(seq 0 $((n - 1))); do
    if [ "$tool" = cat ]; then
      job+="$produce | cat >/dev/null & "
    else
      job+="$produce | '$cli' --drive null$k write 2>'$work/cli$k.log' & "
    fi
  done
  job+="wait"
  [ "$tool" = ts ] && before=$(cpu_of "$daemon_pid")
  /usr/bin/time -f "%e %U %S" -o "$work/t" bash -c "$job"
  [ "$tool" = ts ] && after=$(cpu_of "$daemon_pid")
  if [ "$tool" = ts ]; then
    for k in $(seq 0 $((n - 1))); do
      grep -q "committed $((mib * 1048576)) bytes" "$work/cli$k.log" ||
        { cat "$work/cli$k.log" "$work/daemon.log" >&2; exit 1; }
    done
  fi
  local wall user sys
  read -r wall user sys <"$work/t"
  awk -v w="$wall" -v u="$user" -v s="$sys" -v d="$((after - before))" -v hz="$hz" -v m="$mib" \
    -v n="$n" -v r="$round" -v tool="$tool" \
    'BEGIN { gib = n * m / 1024; printf "%-4s %2d %3d %8.2f %10.3f %8.2f %10.3f\n", tool, n, r,
             gib * 1073741824 / w / 1e9, (u + s + d / hz) / gib, w, d / hz / gib }'
}

printf "%-4s %2s %3s %8s %10s %8s %10s\n" tool N rnd "GB/s" "cpu-s/GiB" "wall s" "daemon"
for round in $(seq "$rounds"); do
  for n in $streams; do
    for tool in cat ts; do
      run "$tool" "$n" "$round" | tee -a "$work/rows"
    done
  done
done

echo
echo "medians of $rounds rounds, ${mib} MiB per stream from $producer (ratios of medians)"
awk -v streams="$streams" '
  function median(key,   n, i, j, t, v) {
    n = split(vals[key], v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { vals[$1 " " $2 " rate"] = vals[$1 " " $2 " rate"] " " $4
    vals[$1 " " $2 " cpu"] = vals[$1 " " $2 " cpu"] " " $5
    vals[$1 " " $2 " dmn"] = vals[$1 " " $2 " dmn"] " " $7 }
  END {
    printf "%-4s %2s %8s %10s %10s %12s %12s\n", "tool", "N", "GB/s", "cpu-s/GiB", "daemon", "rate vs cat", "rate vs N=1"
    k = split(streams, ns, " ")
    for (i = 1; i <= k; i++) {
      n = ns[i]
      for (t = 1; t <= 2; t++) {
        tool = t == 1 ? "cat" : "ts"
        r = median(tool " " n " rate"); c = median(tool " " n " cpu")
        printf "%-4s %2d %8.2f %10.3f %10.3f %12.2f %12.2f\n", tool, n, r, c, median(tool " " n " dmn"),
               r / median("cat " n " rate"), r / median(tool " " ns[1] " rate")
      }
    }
  }' "$work/rows"
