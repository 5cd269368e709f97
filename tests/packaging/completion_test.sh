#!/usr/bin/env bash
# The bash completions complete: each case sets COMP_WORDS and COMP_CWORD as bash does for a
# TAB at the end of the line, calls the completion function and compares COMPREPLY.
#   completion_test.sh COMPLETION_DIR
set -uo pipefail
dir=$1
# shellcheck source=/dev/null
source "$dir/tapestream" || { echo "FAIL: cannot source $dir/tapestream"; exit 1; }
# shellcheck source=/dev/null
source "$dir/tapestreamd" || { echo "FAIL: cannot source $dir/tapestreamd"; exit 1; }

failures=0
# expect "LINE" "WORDS..." [contains]: complete LINE and expect exactly WORDS (sorted), or
# with "contains" at least WORDS. LINE is split into COMP_WORDS as bash splits it: at spaces,
# and at "=" and ":" (COMP_WORDBREAKS), which become words of their own; a trailing space
# starts an empty word. WORDS are what bash would put in place of the last of those words.
expect() {
    local line=$1 want=$2 mode=${3:-exact}
    read -r -a COMP_WORDS <<<"$(sed -E 's/([=:]+)/ \1 /g' <<<"$line")"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    local function
    function=$(complete -p "${COMP_WORDS[0]}" | sed -E 's/.*-F ([^ ]+).*/\1/')
    "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
    local ok=1
    if [[ $mode == exact ]]; then
        [[ $got == "$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ' | sed 's/ $//')" ]] || ok=0
    else
        local w
        for w in $want; do
            [[ " $got " == *" $w "* ]] || ok=0
        done
    fi
    if ((ok)); then
        echo "ok: '$line' -> $got"
    else
        echo "FAIL: '$line' -> '$got', expected ${mode/exact/exactly} '$want'"
        failures=$((failures + 1))
    fi
}

expect "tapestream wr" "write"
expect "tapestream " "write read status drives tell rewind eject erase seek setblk compression offline" contains
expect "tapestream --so" "--socket"
expect "tapestream --j" "--json"
expect "tapestream --drive lto1 st" "status"
expect "tapestream -d lto1 --json re" "read rewind"
expect "tapestream write --no-w" "--no-wait"
expect "tapestream write --no-d" "--no-digest"
expect "tapestream write --data-path " "auto fd stream"
expect "tapestream write --fi" "--fixed"
expect "tapestream read --f" "--file"
expect "tapestream erase --l" "--long"
expect "tapestream compression o" "on off"
expect "tapestream status --lo" ""
expect "tapestream write -- tru" "true" contains
expect "tapestreamd --log-level w" "warn"
expect "tapestreamd --log-target j" "journal"
expect "tapestreamd --st" "--start-mark --state-dir --stream-timeout --stop-timeout"
expect "tapestreamd --self" "--self-check"
expect "tapestreamd --socket-" "--socket-group --socket-mode"
expect "tapestreamd --drive lto1=em" "emulated:"
expect "tapestreamd --drive lto1=" "=scsi: =bsg: =sg: =emulated: =null:"
expect "tapestreamd --drive lto1" ""
expect "tapestreamd --log-level=w" "warn"
expect "tapestreamd --log-level=" "=trace =debug =info =warn =error =critical =off"
expect "tapestreamd --drive lto1=scsi:0:0:1:0 --st" "--start-mark --state-dir --stream-timeout --stop-timeout"
expect "tapestream --data-path=f" "fd"
expect "tapestream write --data-path=s" "stream"
expect "tapestream --socket=/tmp/x --drive=lto1 re" "read rewind"
expect "tapestreamd --command-timeout erase" "erase_short= erase_long="
expect "tapestreamd --allow de" "destroy:"
expect "tapestreamd --buffers " ""

if ((failures)); then
    echo "$failures completion case(s) failed"
    exit 1
fi
