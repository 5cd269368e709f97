#!/usr/bin/env bash
# Which transfer size makes zero-copy pay (seed 001), measured on a real kernel's SCSI stack:
# inside the QEMU VM of tests/vm, the same 256 MiB go to scsi_debug's tape (delay=0) through
#   tapestream-bsg  head -c | tapestream write, the daemon on bsg io_uring commands (zero copy)
#   tapestream-sg   the same through the sg driver (indirect I/O: the driver copies each block)
#   dd              head -c | dd of=/dev/nst0 bs=B iflag=fullblock   (the st driver)
#   mbuffer         head -c | mbuffer -s B -m 16M -o /dev/nst0        (the st driver)
# at 64 KiB, 256 KiB and 1 MiB blocks, a fresh tape for every run. CPU is the whole VM's busy
# time (every process and the kernel). Under TCG only ratios mean anything: each row is
# compared with dd at the same block size, in the same run. Benchmarks are not tests.
# Usage: bench/vm_transports.sh BUILD_DIR [ROUNDS]   (mbuffer must be installed on the host)
set -euo pipefail
build=${1:?build directory, e.g. build/main}
rounds=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
TAPESTREAM_VM_ARGS=$rounds TAPESTREAM_VM_TIMEOUT=${TAPESTREAM_VM_TIMEOUT:-3600} \
  "$here/../tests/vm/run" "$build" bench | tee "$out" | grep -a 'BENCH' || true
python3 - "$out" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1], errors="replace"):
    if "BENCH " not in line:
        continue
    _, tool, size, nbytes, centis, jiffies = line.split("BENCH ", 1)[1].split()[:1] + line.split("BENCH ", 1)[1].split()
    runs.setdefault((tool, int(size)), []).append((int(nbytes), int(centis), int(jiffies)))
if not runs:
    sys.exit("no BENCH lines: the VM did not run the benchmark")
def median(tool, size, what):
    values = []
    for nbytes, centis, jiffies in runs[(tool, size)]:
        seconds = max(centis, 1) / 100
        values.append(nbytes / seconds / 2**20 if what == "rate" else (jiffies / 100) / (nbytes / 2**30))
    return statistics.median(values)
tools = ["tapestream-bsg", "tapestream-sg", "dd", "mbuffer"]
print("\n| block | tool | MiB/s | CPU s/GiB | rate vs dd | CPU vs dd | runs |")
print("|---|---|---:|---:|---:|---:|---:|")
for size in sorted({s for _, s in runs}):
    if ("dd", size) not in runs:
        continue
    dd_rate, dd_cpu = median("dd", size, "rate"), median("dd", size, "cpu")
    for tool in tools:
        if (tool, size) not in runs:
            continue
        rate, cpu = median(tool, size, "rate"), median(tool, size, "cpu")
        print(f"| {size // 1024} KiB | {tool} | {rate:.0f} | {cpu:.2f} | {rate / dd_rate:.2f} | "
              f"{cpu / dd_cpu:.2f} | {len(runs[(tool, size)])} |")
PY
