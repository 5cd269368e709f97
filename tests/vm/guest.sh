#!/bin/sh
# The suites that run inside the test VM (busybox sh). Called by /init with the suite's name
# and its extra arguments; exits with the suite's status.
set -u
suite=$1
shift

say() { echo "guest: $*"; }

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
}

case $suite in
  conformance-bsg) conformance bsg "$@" ;;
  conformance-sg) conformance sg "$@" ;;
  *) say "unknown suite $suite"; exit 2 ;;
esac
