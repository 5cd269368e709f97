#!/bin/sh
# What Bareos's mtx-changer script does with mtx's output, for mtx_test.py to run against
# `tapestream-mtx`. Its `list`, `listall`, `loaded` and `slots` pipelines are copied unchanged
# (the grep/awk/sed lines) from bareos/bareos core/scripts/mtx-changer.in (commit
# 2663588bcd321ca89d73c9350594056ca7c7af2a); what Bareos adds around them (its configuration
# file, the debug log, the temporary file's place, the inventory and vxa_packetloader options) is
# left out. Usage: bareos_mtx_changer_parsing.sh MTX CHANGER COMMAND [DRIVE]
MTX=$1
ctl=$2
cmd=$3
drive=${4:-0}
TMPFILE=$(mktemp)
trap 'rm -f "$TMPFILE"' EXIT

case $cmd in
   list)
      ${MTX} -f $ctl status >${TMPFILE}
      rtn=$?
      cat ${TMPFILE} | grep " Storage Element [0-9]*:.*Full" | awk "{print \$3 \$4}" | sed "s/Full *\(:VolumeTag=\)*//"
      cat ${TMPFILE} | grep "^Data Transfer Element [0-9]*:Full (Storage Element [0-9]" | awk '{printf "%s:%s\n",$7,$10}'
      exit $rtn
      ;;

   listall)
      ${MTX} -f $ctl status > "${TMPFILE}"
      rtn=$?
      awk "/Data Transfer Element/ {gsub(\"=\",\":\",\$9);gsub(\"Full\",\"F:\",\$4);gsub(\"Empty\",\"E\",\$4);print \"D:\"\$4 \$7 \$9 \$10}" "${TMPFILE}"
      awk -F ":" "/^ .*Storage Element .*[0-9]:/ {gsub(\"[ ].*Storage Element \",\"\",\$1);gsub(\"Full \",\":F\",\$2);gsub(\"Empty\",\":E\",\$2);gsub(\"VolumeTag=\",\":\",\$3);print \"S:\"\$1 \$2 \$3}" "${TMPFILE}"
      awk -F ":" "/^ .*Storage Element .*[0-9] IMPORT\/EXPORT:/ {gsub(\"[ ].*Storage Element \",\"\",\$1);gsub(\" IMPORT/EXPORT\",\"\",\$1);gsub(\"Full \",\":F\",\$2);gsub(\"Empty\",\":E\",\$2);gsub(\"VolumeTag=\",\":\",\$3);print \"S:\"\$1 \$2 \$3}" "${TMPFILE}"
      exit $rtn
      ;;

   loaded)
      ${MTX} -f $ctl status >${TMPFILE}
      rtn=$?
      cat ${TMPFILE} | grep "^Data Transfer Element $drive:Full" | awk "{print \$7}"
      cat ${TMPFILE} | grep "^Data Transfer Element $drive:Empty" | awk "{print 0}"
      exit $rtn
      ;;

   slots)
      ${MTX} -f $ctl status | grep " *Storage Changer" | awk "{print \$5}"
      ;;
esac
