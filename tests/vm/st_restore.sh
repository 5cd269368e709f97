#!/bin/sh
# Restoring without tapestream (docs/RESTORE.md): the daemon writes three files through one of
# its transports, stops, and the kernel's st driver reads them back with mt-st and GNU dd, as a
# machine without tapestream would. Sourced by guest.sh, whose helpers (say, fail, expect,
# tagged, committed, start_daemon, stop_daemon) it uses.
#
# scsi_debug keeps only the first 4 bytes of every block and reads zeros after them, so every
# block of the data here is a 4-byte tag and zeros: what comes back is then exactly what was
# sent, and any block lost, repeated, cut or moved changes the digest.

# mt-st and coreutils (busybox's mt has no asf; its dd is not the one RESTORE.md describes).
RESTORE_TOOLS=/opt/tapestream/restore-tools

st_mt() {
  "$RESTORE_TOOLS/mt-st" -f "$NST" "$@" 2>/tmp/mt.err || fail "mt-st -f $NST $*: $(cat /tmp/mt.err)"
}

# Reads from where the tape stands into OUT with dd's block size BS; prints dd's record count
# ("full+partial"), which says how many reads returned a whole BS and how many less.
st_dd() {
  out=$1 bs=$2
  shift 2
  "$RESTORE_TOOLS/dd" if="$NST" of="$out" bs="$bs" "$@" 2>/tmp/dd.err ||
    fail "dd if=$NST bs=$bs $*: $(cat /tmp/dd.err)"
  sed -n 's/ records in$//p' /tmp/dd.err
}

digest() { "$RESTORE_TOOLS/sha256sum" <"$1" | cut -d' ' -f1; }

# The restore's digest must be the source's; it is left in SUM.
same_digest() {
  SUM=$(digest "$1")
  source_sum=$(digest "$2")
  [ "$SUM" = "$source_sum" ] || fail "$3: sha256 of the restore $SUM, of the source $source_sum"
}

# The padding a fixed-block write reports: "(fixed blocks of SIZE bytes, the last padded with
# N zero bytes)".
padding() { sed -n 's/.*the last padded with \([0-9]*\) zero bytes.*/\1/p' "$1"; }

restore_without_tapestream() {
  transport=$1
  start_daemon "$transport:$NST"  # the daemon's default block size, 256K
  # File 0, variable blocks (the default): 5 blocks of 256K and a short last one.
  { tagged R 5 262144; tagged r 1 1000; } >/tmp/source0
  # File 1, fixed blocks of 8K: 7 whole blocks and 3000 bytes, which the daemon pads to 8192.
  { tagged F 7 8192; tagged f 1 3000; } >/tmp/source1
  # File 2, variable blocks of 64K: 3 blocks and a short last one.
  { tagged S 3 65536; tagged s 1 700; } >/tmp/source2
  tapestream write </tmp/source0 2>/tmp/w || fail "write file 0: $(cat /tmp/w)"
  expect "$(committed /tmp/w)" "1311720 6 0" "variable file 0"
  tapestream write --fixed --block-size 8K </tmp/source1 2>/tmp/w || fail "write file 1: $(cat /tmp/w)"
  expect "$(committed /tmp/w)" "60344 8 1" "fixed file 1"
  pad=$(padding /tmp/w)
  expect "$pad" 5192 "the padding file 1's commit reports"
  tapestream write --block-size 64K </tmp/source2 2>/tmp/w || fail "write file 2: $(cat /tmp/w)"
  expect "$(committed /tmp/w)" "197308 4 2" "variable file 2"
  stop_daemon
  say "restore: the daemon wrote 3 files through $transport and stopped; now only st, mt-st and dd"

  # The drive is in variable-block mode again (the daemon sets it back after a fixed stream).
  st_mt asf 0
  "$RESTORE_TOOLS/mt-st" -f "$NST" status | tee /tmp/mt.status
  grep -q "Tape block size 0 bytes" /tmp/mt.status || fail "the drive is not in variable-block mode"
  grep -q "File number=0, block number=0" /tmp/mt.status || fail "asf 0 is not file 0, block 0"

  # Variable blocks, bs larger than the block (a power of two up to the drive's maximum): one
  # block per read, the short one included.
  expect "$(st_dd /tmp/restore0 1M)" "0+6" "records of file 0 with bs=1M"
  same_digest /tmp/restore0 /tmp/source0 "file 0 (variable, bs=1M)"
  sum0=$SUM
  # bs equal to the block size: five whole reads and the short one.
  st_mt asf 0
  expect "$(st_dd /tmp/restore0 256k)" "5+1" "records of file 0 with bs=256k"
  same_digest /tmp/restore0 /tmp/source0 "file 0 (variable, bs=256k)"
  # bs below the block: the drive reports the longer block (ILI) and st fails the read with
  # ENOMEM, having moved past that block: the next read gets the second one.
  st_mt asf 0
  set +e
  "$RESTORE_TOOLS/dd" if="$NST" of=/tmp/small bs=64k 2>/tmp/dd.err
  small=$?
  set -e
  expect "$small" 1 "dd's status for bs=64k on 256K blocks"
  grep -q "error reading '$NST': Cannot allocate memory" /tmp/dd.err || fail "no ENOMEM for bs=64k: $(cat /tmp/dd.err)"
  expect "$(wc -c </tmp/small)" 0 "bytes dd wrote for bs=64k"
  expect "$(st_dd /tmp/rest 1M)" "0+5" "records after the failed read (blocks 1 to 5)"
  expect "$("$RESTORE_TOOLS/head" -c 4 /tmp/rest)" R001 "the block after the failed read"
  say "restore: dd bs=64k of 256K blocks: status 1, 'Cannot allocate memory', nothing written; the tape moved past that block (the next dd began at R001)"
  say "restore: file 0 (variable, 256K blocks and a 1000-byte one): bs=1M 0+6 records, bs=256k 5+1, sha256 $sum0 = the source's"

  # Fixed blocks: the drive set to the file's block size, dd in multiples of it.
  st_mt asf 1
  st_mt setblk 8192
  "$RESTORE_TOOLS/mt-st" -f "$NST" status | grep "Tape block size" | tee /tmp/mt.status
  grep -q "Tape block size 8192 bytes" /tmp/mt.status || fail "setblk 8192 did not take"
  st_dd /tmp/restore1 64k >/dev/null
  expect "$(wc -c </tmp/restore1)" 65536 "bytes of file 1 in fixed mode (8 blocks of 8192)"
  "$RESTORE_TOOLS/head" -c 60344 /tmp/restore1 >/tmp/restore1.cut
  same_digest /tmp/restore1.cut /tmp/source1 "file 1 (fixed, head -c 60344)"
  sum1=$SUM
  "$RESTORE_TOOLS/head" -c "$pad" /dev/zero | cmp - /tmp/restore1 0 60344 ||
    fail "the last $pad bytes of file 1 are not zeros"
  st_mt setblk 0
  # The same file in variable mode: each fixed block is one block of 8192 bytes on the tape.
  st_mt asf 1
  expect "$(st_dd /tmp/restore1 1M)" "0+8" "records of file 1 in variable mode with bs=1M"
  "$RESTORE_TOOLS/head" -c 60344 /tmp/restore1 | cmp - /tmp/source1 || fail "file 1 in variable mode differs"
  say "restore: file 1 (fixed 8K, 60344 bytes): setblk 8192 gave 65536 bytes, head -c 60344 sha256 $sum1 = the source's, the last $pad bytes zeros; setblk 0 and bs=1M gave 0+8 records, the same bytes"

  # The next file follows the filemark: a second dd without positioning reads it.
  st_mt asf 1
  st_dd /tmp/restore1 1M >/dev/null
  expect "$(st_dd /tmp/restore2 64k)" "3+1" "records of file 2 with bs=64k, right after file 1"
  same_digest /tmp/restore2 /tmp/source2 "file 2 (variable 64K, bs=64k)"
  sum2=$SUM
  say "restore: file 2 (variable, 64K blocks and a 700-byte one), read by the dd after file 1's: 3+1 records, sha256 $sum2 = the source's"

  # Finding files without the catalog: fsf over a filemark, one dd of one block shows the
  # file's block size; the block a file starts with is its first 4 bytes' tag here.
  st_mt rewind
  st_mt fsf 2
  expect "$(st_dd /tmp/first 1M count=1)" "0+1" "records of one block read after fsf 2"
  expect "$(wc -c </tmp/first)" 65536 "size of file 2's first block"
  expect "$("$RESTORE_TOOLS/head" -c 4 /tmp/first)" S000 "tag of file 2's first block"
  say "restore: rewind, fsf 2, dd count=1: a 65536-byte block tagged S000, file 2's first"

  # End of data: the file after the last one is empty to dd.
  st_mt asf 3
  expect "$(st_dd /tmp/after 1M)" "0+0" "records at end of data"
  expect "$(wc -c </tmp/after)" 0 "bytes at end of data"
  # Reading on at end of data: st has reported it once and now fails the read.
  set +e
  "$RESTORE_TOOLS/dd" if="$NST" of=/tmp/after bs=1M 2>/tmp/dd.err
  again=$?
  set -e
  expect "$again" 1 "dd's status for a second read at end of data"
  grep -q "error reading '$NST': Input/output error" /tmp/dd.err || fail "no EIO at end of data: $(cat /tmp/dd.err)"
  set +e
  "$RESTORE_TOOLS/mt-st" -f "$NST" asf 4 2>/tmp/mt.err
  status=$?
  set -e
  [ "$status" != 0 ] || fail "asf 4 past the end of data succeeded"
  say "restore: asf 3 (end of data): dd read 0 records, exit 0, a second dd 'Input/output error'; asf 4 fails (status $status: $(cat /tmp/mt.err))"
  say "restore without tapestream through $transport: 3 files, sha256 of each restore = its source's"
}

# A stream cut by a failure: early_warning_and_overflow leaves file 0 as 9981 blocks of 4096
# zero bytes that did not commit (early warning) and were closed by a filemark. dd gives back
# exactly the bytes the failure reported, one block per read.
restore_cut_file() {
  reported=$1 blocks=$2
  st_mt asf 0
  expect "$(st_dd /tmp/cut 1M)" "0+$blocks" "records of the cut file 0 with bs=1M"
  expect "$(wc -c </tmp/cut)" "$reported" "bytes of the cut file 0"
  "$RESTORE_TOOLS/head" -c "$reported" /dev/zero | cmp - /tmp/cut || fail "the cut file 0 is not its zeros"
  rm -f /tmp/cut
  say "restore: the file cut at early warning: dd gave 0+$blocks records, the $reported bytes the failure reported"
}
