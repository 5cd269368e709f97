#!/usr/bin/env bash
# What each emulated image layout costs, in one run on one disk (docs/PERFORMANCE.md, "Image
# layouts"): for block sizes of 256 KiB and 1 MiB, in alternating rounds,
#   dd       dd if=/dev/zero of=FILE bs=SIZE count=N oflag=direct conv=fdatasync
#   aligned  image_layout_bench FILE aligned SIZE TOTAL   (large records from the registered
#            buffer straight to the disk: O_DIRECT WRITE_FIXED, no copy)
#   packed   image_layout_bench FILE packed SIZE TOTAL    (every byte copied into page-aligned
#            staging, then written O_DIRECT)
#   buffered image_layout_bench FILE buffered SIZE TOTAL  (aligned, with the drive's buffer: a
#            WRITE is acknowledged before the page that links it in, which goes with the next)
# Each ends with the data synced (dd: conv=fdatasync; the drive: WRITE FILEMARKS Immed=0).
# Prints every run and the medians, and each layout's median rate as a ratio of dd's.
# Benchmarks are not tests: this reports.
# Usage: bench/image_layouts.sh BUILD_DIR [TOTAL_MiB] [ROUNDS]
set -euo pipefail
build=${1:?build directory, e.g. build}
mib=${2:-1024}
rounds=${3:-3}
bench=$build/bench/image_layout_bench
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tapestream-layouts-XXXXXX")
trap 'rm -rf "$work"' EXIT
total=$((mib * 1048576))
results=$work/results

for size in 262144 1048576; do
  for round in $(seq "$rounds"); do
    rm -f "$work/dd"
    start=$(date +%s.%N)
    dd if=/dev/zero of="$work/dd" bs="$size" count=$((total / size)) oflag=direct conv=fdatasync \
      status=none
    end=$(date +%s.%N)
    rate=$(awk -v b="$total" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", b / (e - s) / 1048576 }')
    echo "dd $size: $rate MiB/s (round $round)"
    echo "dd $size $rate" >>"$results"
    for layout in aligned packed buffered; do
      rm -f "$work/image.tap"
      line=$("$bench" "$work/image.tap" "$layout" "$size" "$total")
      echo "$line (round $round)"
      # "packed 262144: 812.3 MiB/s, 1.26 s, cpu 0.41 s (0.41 s/GiB), direct yes": fields 1-3, 10
      echo "$line" | awk '{ gsub(":", "", $2); gsub("[(]", "", $10); print $1, $2, $3, $10 }' >>"$results"
    done
  done
done
rm -f "$work/dd" "$work/image.tap"

echo
echo "medians over $rounds rounds of $mib MiB:"
printf "| %-7s | %-6s | %-9s | %-8s | %-10s |\n" writer block "MiB/s" "× dd" "CPU s/GiB"
printf "| %-7s | %-6s | %-9s | %-8s | %-10s |\n" --- --- --- --- ---
for size in 262144 1048576; do
  median() {  # median of column $2 for writer $1 at this size
    awk -v w="$1" -v s="$size" -v c="$2" '$1 == w && $2 == s { print $c }' "$results" | sort -g |
      awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
  }
  dd_rate=$(median dd 3)
  for writer in dd aligned packed buffered; do
    rate=$(median "$writer" 3)
    cpu=$([ "$writer" = dd ] && echo "-" || median "$writer" 4)
    printf "| %-7s | %-6s | %-9s | %-8s | %-10s |\n" "$writer" "$((size / 1024))K" "$rate" \
      "$(awk -v a="$rate" -v b="$dd_rate" 'BEGIN { printf "%.2f", a / b }')" "$cpu"
  done
done
