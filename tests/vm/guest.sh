#!/bin/sh
# The suites that run inside the test VM (busybox sh). Called by /init with the suite's name
# and its extra arguments; exits with the suite's status.
set -eu
suite=$1
shift

say() { echo "guest: $*"; }
# restore_without_tapestream, restore_cut_file: what the daemon wrote, read back through st
# with mt-st and dd (docs/RESTORE.md).
. /opt/tapestream/st_restore.sh

# Loads the SCSI drivers and scsi_debug as a tape (ptype=1) with the given parameters, then
# finds the tape's SCSI address and its bsg, sg and st nodes.
load_tape() {
  modprobe sg || return 1
  modprobe st || return 1
  modprobe scsi_debug ptype=1 "$@" || return 1
  for _ in $(seq 1 50); do
    for device in /sys/bus/scsi/devices/*; do
      if [ -r "$device/type" ] && [ "$(cat "$device/type")" = 1 ]; then
        TAPE=$(basename "$device")
      fi
    done
    if [ -n "${TAPE:-}" ] && [ -e "/dev/bsg/$TAPE" ] && [ -d "/sys/bus/scsi/devices/$TAPE/scsi_generic" ]; then
      break
    fi
    sleep 0.1
  done
  [ -n "${TAPE:-}" ] || { say "no tape appeared"; return 1; }
  BSG=/dev/bsg/$TAPE
  SG=/dev/$(ls "/sys/bus/scsi/devices/$TAPE/scsi_generic")
  NST=/dev/n$(ls "/sys/bus/scsi/devices/$TAPE/scsi_tape" | grep '^st[0-9]*$' | head -n 1)
  say "tape $TAPE: $BSG $SG $NST; $(uname -r)"
}

conformance() {
  transport=$1
  shift
  load_tape "$@" || return 1
  case $transport in
    bsg) node=$BSG ;;
    sg) node=$SG ;;
  esac
  TAPESTREAM_CONFORMANCE_TARGET=$transport:$node TAPESTREAM_CONFORMANCE_SCSI_DEBUG=1 \
    conformance_tests --gtest_filter=Conformance.* --gtest_color=no
  if [ "$transport" = sg ]; then
    say "again with sg's direct I/O (allow_dio=1)"
    echo 1 >/sys/module/sg/parameters/allow_dio
    TAPESTREAM_CONFORMANCE_TARGET=$transport:$node TAPESTREAM_CONFORMANCE_SCSI_DEBUG=1 \
      conformance_tests --gtest_filter=Conformance.* --gtest_color=no
  fi
}

fail() { say "FAIL: $*"; exit 1; }

# Discovery and transport selection on a real kernel: --probe finds the tape and picks bsg;
# the daemon serves it by address, by node and by serial number, through each transport.
selection() {
  tapestreamd --probe | tee /tmp/probe || fail "--probe failed"
  grep -q "tape drives in sysfs: 1" /tmp/probe || fail "--probe did not find the tape"
  # scsi_debug emulates no changer: the changer discovery reads the real sysfs and finds none.
  grep -q "medium changers in sysfs: 0" /tmp/probe || fail "--probe found a changer that is not there"
  grep -q "transport: bsg: $BSG takes IORING_OP_URING_CMD" /tmp/probe || fail "--probe did not choose bsg"
  serial=$(sed -n 's/.*serial \([^ ]*\)$/\1/p' /tmp/probe | head -n 1)
  for spec in "scsi:$TAPE" "bsg:$NST" "sg:$SG" "scsi:$serial"; do
    tapestreamd --probe --drive "tape=$spec" >/tmp/probe-one || fail "--probe --drive tape=$spec"
    grep "^  tape = " /tmp/probe-one
    start_daemon "$spec"
    tapestream status --json | tee /tmp/status || fail "status on $spec"
    expected=${spec%%:*}
    [ "$expected" = scsi ] && expected=bsg
    grep -q "\"transport\":\"$expected\"" /tmp/status || fail "$spec is not served through $expected"
    stop_daemon
  done
}

# A changer on a real kernel, as far as one can go without one: scsi_debug as a medium changer
# (ptype=8) is found in sysfs and opened through bsg and through sg like a drive; it implements
# no SMC command, so --library must stop the daemon with the answer the command came back with
# from the kernel (its sense: ILLEGAL REQUEST), and never serve a library it cannot read.
changer_path() {
  rmmod scsi_debug || fail "rmmod scsi_debug"
  modprobe scsi_debug ptype=8 || fail "scsi_debug as a changer"
  changer=
  for _ in $(seq 1 50); do
    for device in /sys/bus/scsi/devices/*; do
      if [ -r "$device/type" ] && [ "$(cat "$device/type")" = 8 ]; then
        changer=$(basename "$device")
      fi
    done
    [ -n "$changer" ] && [ -e "/dev/bsg/$changer" ] && [ -d "/sys/bus/scsi/devices/$changer/scsi_generic" ] && break
    sleep 0.1
  done
  [ -n "$changer" ] || fail "scsi_debug's changer did not appear"
  changer_sg=/dev/$(ls "/sys/bus/scsi/devices/$changer/scsi_generic")
  tapestreamd --probe | tee /tmp/probe-changer || fail "--probe with a changer failed"
  grep -q "medium changers in sysfs: 1" /tmp/probe-changer || fail "--probe did not find the changer"
  grep -q "transport: bsg: /dev/bsg/$changer takes IORING_OP_URING_CMD" /tmp/probe-changer ||
    fail "--probe did not open the changer through bsg"
  for spec in "scsi:$changer" "bsg:/dev/bsg/$changer" "sg:$changer_sg"; do
    rm -rf /tmp/state
    set +e
    tapestreamd --socket /run/ch.sock --state-dir /tmp/state --catalog none --drive x=null: \
      --library "lib0=$spec" 2>/tmp/changer.log
    status=$?
    set -e
    cat /tmp/changer.log
    [ "$status" = 78 ] || fail "--library lib0=$spec: exit $status, not 78"
    grep -q "library lib0: its changer refused READ ELEMENT STATUS (ILLEGAL REQUEST" /tmp/changer.log ||
      fail "--library lib0=$spec: the changer's answer is not told"
  done
  say "changer $changer: found, opened through bsg and sg, its refusal told"
}

start_daemon() {
  rm -rf /tmp/state /run/ts.sock
  tapestreamd --socket /run/ts.sock --state-dir /tmp/state --drive "tape=$1" --log-level warn ${2:-} \
    2>/tmp/daemon.log &
  daemon=$!
  for _ in $(seq 1 100); do [ -S /run/ts.sock ] && break; sleep 0.1; done
  [ -S /run/ts.sock ] || { cat /tmp/daemon.log; fail "the daemon did not start on $1"; }
}

stop_daemon() {
  kill -TERM "$daemon"
  wait "$daemon" || { cat /tmp/daemon.log; fail "the daemon did not stop cleanly"; }
}

# COUNT blocks of SIZE bytes, each starting with a 4-byte tag (PREFIX and a 3-digit number),
# then zeros: exactly what scsi_debug, which keeps only 4 bytes a block, gives back.
tagged() {
  prefix=$1 count=$2 size=$3
  i=0
  while [ "$i" -lt "$count" ]; do
    printf '%s%03d' "$prefix" "$i"
    head -c $((size - 4)) /dev/zero
    i=$((i + 1))
  done
}

# What a write printed: "committed BYTES bytes in BLOCKS blocks as file FILE".
committed() { sed -n 's/.*committed \([0-9]*\) bytes in \([0-9]*\) blocks as file \([0-9]*\).*/\1 \2 \3/p' "$1"; }
on_tape() { sed -n 's/.*; \([0-9]*\) bytes of the stream (\([0-9]*\) blocks) are on the tape as file \([0-9]*\).*/\1 \2 \3/p' "$1"; }
expect() { [ "$1" = "$2" ] || fail "$3: expected $2, got $1"; }

# Several files with filemarks through the daemon and the CLI, read back and positioned.
files_and_positions() {
  transport=$1
  start_daemon "$transport:$NST" "--block-size 64K"
  tagged A 10 65536 >/tmp/a
  { tagged B 5 65536; tagged b 1 1000; } >/tmp/b
  tagged C 1 600 >/tmp/c
  tapestream write </tmp/a 2>/tmp/w || fail "write a: $(cat /tmp/w)"
  expect "$(committed /tmp/w)" "655360 10 0" "file 0"
  # One owner per drive: a second daemon on the same drive, through either transport, is refused
  # at start-up (issue 9, defect 4) and the first one serves on.
  for other in bsg sg; do
    set +e
    tapestreamd --socket /run/ts2.sock --state-dir /tmp/state2 --drive "again=$other:$NST" \
      2>/tmp/second.log
    status=$?
    set -e
    expect "$status" 78 "a second daemon on the drive through $other: $(cat /tmp/second.log)"
    grep -q "in use by another tapestreamd" /tmp/second.log || fail "no reason given: $(cat /tmp/second.log)"
  done
  expect "$(tapestream tell)" "file unknown, block 11" "the first daemon after the second was refused"
  # Both data paths: the daemon reading the passed file (the default), and the bytes over the
  # socket for file 1 (written and read back).
  tapestream write --data-path stream </tmp/b 2>/tmp/w || fail "write b: $(cat /tmp/w)"
  expect "$(committed /tmp/w)" "328680 6 1" "file 1"
  tapestream write </tmp/c 2>/tmp/w || fail "write c: $(cat /tmp/w)"
  expect "$(committed /tmp/w)" "600 1 2" "file 2"
  # 10 + 6 + 1 blocks and 3 filemarks: the tape is at end of data, unit 20.
  expect "$(tapestream tell)" "file unknown, block 20" "tell at end of data"
  for file in 1 0 2; do
    name=$(echo a b c | cut -d' ' -f$((file + 1)))
    path=$([ "$file" = 1 ] && echo stream || echo auto)
    tapestream read --data-path "$path" --file "$file" >/tmp/back 2>/dev/null || fail "read file $file"
    cmp /tmp/back "/tmp/$name" || fail "file $file read back differs"
  done
  set +e
  tapestream read --file 3 >/tmp/back 2>/tmp/r
  status=$?
  set -e
  expect "$status" 66 "read of a file beyond the last"
  tapestream rewind
  tapestream fsf 1
  expect "$(tapestream tell)" "file unknown, block 11" "tell after fsf 1"
  tapestream seek 13
  expect "$(tapestream tell)" "file unknown, block 13" "tell after seek 13"
  tapestream read >/tmp/back 2>/dev/null || fail "read from block 13"
  tail -c +$((2 * 65536 + 1)) /tmp/b | cmp - /tmp/back || fail "read from block 13 differs"
  # The read ended past file 1's filemark (unit 17); BSF stops on its beginning side.
  tapestream bsf 1
  expect "$(tapestream tell)" "file unknown, block 17" "tell after bsf 1"
  tapestream eod
  expect "$(tapestream tell)" "file unknown, block 20" "tell after eod"
  stop_daemon
  say "files and positions through $transport: 3 files committed, read back and positioned"
}

# scsi_debug's tape warns at unit 9980 and overflows at 9998 (10,000 units of any size).
early_warning_and_overflow() {
  transport=$1
  # Reads ask for a whole buffer; 4K buffers keep the sg driver from copying 256K a block.
  start_daemon "$transport:$NST" "--block-size 4K --buffer-size 4K"
  set +e
  head -c $((10000 * 4096)) /dev/zero | tapestream write 2>/tmp/w
  status=$?
  set -e
  expect "$status" 73 "write into early warning: $(cat /tmp/w)"
  # The block at unit 9980 is written with the warning; the filemark follows it.
  expect "$(on_tape /tmp/w)" "$((9981 * 4096)) 9981 0" "committed at early warning"
  tapestream read --file 0 2>/dev/null | wc -c >/tmp/n
  expect "$(cat /tmp/n)" "$((9981 * 4096))" "bytes read back after early warning"
  # scsi_debug warns only at unit 9980 itself: appends after it commit whole until a WRITE
  # reaches unit 9998 and fails with VOLUME OVERFLOW. Each append is 2 blocks and a filemark.
  file=1
  while :; do
    set +e
    tagged V 2 4096 | tapestream write 2>/tmp/w
    status=$?
    set -e
    [ "$status" = 0 ] || break
    expect "$(committed /tmp/w)" "8192 2 $file" "append $file past early warning"
    [ "$file" -lt 20 ] || fail "no VOLUME OVERFLOW after 20 appends"
    file=$((file + 1))
  done
  expect "$status" 73 "the append that overflows: $(cat /tmp/w)"
  grep -q "volume_overflow" /tmp/w || fail "no VOLUME OVERFLOW reported: $(cat /tmp/w)"
  set -- $(on_tape /tmp/w)
  expect "$3" "$file" "file number of the overflowing append"
  tapestream read --file "$file" 2>/dev/null | wc -c >/tmp/n || true
  expect "$(cat /tmp/n)" "$1" "bytes of the overflowing append read back"
  say "early warning through $transport: $((9981 * 4096)) bytes committed and read back; VOLUME OVERFLOW on append $file with $1 bytes on the tape, read back: $(cat /tmp/w)"
  stop_daemon
}

# A fresh, empty tape: scsi_debug keeps its tape only while the module is loaded.
reload_tape() {
  rmmod scsi_debug || fail "rmmod scsi_debug"
  TAPE=
  load_tape "$@" || fail "scsi_debug did not come back"
}

# The daemon and the CLI on the tape through one transport (bsg also checks discovery).
daemon_suite() {
  transport=$1
  shift
  export TAPESTREAM_SOCKET=/run/ts.sock
  load_tape "$@" || return 1
  if [ "$transport" = bsg ]; then
    selection
    changer_path
  fi
  reload_tape "$@"
  files_and_positions "$transport"
  # Once, through the transport the daemon chooses by itself: the bytes on the tape are the same.
  if [ "$transport" = bsg ]; then
    reload_tape delay=0
    restore_without_tapestream "$transport"
  fi
  reload_tape delay=0  # 10,000 commands at scsi_debug's default 4 ms would take 40 s
  early_warning_and_overflow "$transport"
  [ "$transport" = bsg ] && restore_cut_file $((9981 * 4096)) 9981
  say "daemon through $transport: all checks passed"
}

# Busy CPU time of the whole VM in jiffies (user, nice, system, irq, softirq, steal): every
# process and the kernel, so a daemon and its client are counted together.
busy_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
uptime_centis() { awk '{ split($1, t, "."); print t[1] * 100 + t[2] }' /proc/uptime; }

# One measured run: "BENCH tool block_size bytes centiseconds busy_jiffies".
measure() {
  tool=$1 size=$2 bytes=$3
  shift 3
  t0=$(uptime_centis) j0=$(busy_jiffies)
  sh -c "$*" >/dev/null 2>/tmp/bench-err || { cat /tmp/bench-err; fail "$tool at $size: $*"; }
  t1=$(uptime_centis) j1=$(busy_jiffies)
  echo "BENCH $tool $size $bytes $((t1 - t0)) $((j1 - j0))"
}

# The same bytes to the same tape through tapestream (bsg, sg), dd and mbuffer (st driver),
# at 64K, 256K and 1M blocks; scsi_debug with delay=0, a fresh tape for every run.
bench_suite() {
  total=$((256 * 1024 * 1024))
  rounds=${1:-2}
  export TAPESTREAM_SOCKET=/run/ts.sock
  load_tape delay=0 || return 1
  round=1
  while [ "$round" -le "$rounds" ]; do
    for size in 65536 262144 1048576; do
      count=$((total / size))
      source="head -c $total /dev/zero"
      for transport in bsg sg; do
        reload_tape delay=0
        start_daemon "$transport:$NST" "--block-size $size --buffer-size $size"
        measure "tapestream-$transport" "$size" "$total" "$source | tapestream write"
        stop_daemon
      done
      reload_tape delay=0
      measure dd "$size" "$total" "$source | dd of=$NST bs=$size iflag=fullblock"
      if command -v mbuffer >/dev/null; then
        reload_tape delay=0
        measure mbuffer "$size" "$total" "$source | mbuffer -q -s $size -m 16M -o $NST"
      fi
    done
    round=$((round + 1))
  done
}

case $suite in
  bench) bench_suite "$@" ;;
  daemon-bsg) daemon_suite bsg "$@" ;;
  daemon-sg) daemon_suite sg "$@" ;;
  conformance-bsg) conformance bsg "$@" ;;
  conformance-sg) conformance sg "$@" ;;
  *) say "unknown suite $suite"; exit 2 ;;
esac
