#!/usr/bin/env bash
# The man pages render without a single warning from man-db, groff or tbl: a warning is a page
# that shows something other than what its source says (a broken table, an unbreakable line).
#   man_pages_test.sh PAGE...
set -euo pipefail
command -v man >/dev/null || { echo "SKIP: man (man-db) is not installed"; exit 77; }
status=0
for page in "$@"; do
    errors=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || {
        echo "FAIL: man -l $page exited with $?"; status=1; }
    if [ -n "$errors" ]; then
        echo "FAIL: $page renders with warnings:"
        echo "$errors"
        status=1
    elif ! LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "^SEE ALSO"; then
        echo "FAIL: $page has no SEE ALSO section"
        status=1
    else
        echo "ok: $page"
    fi
done
exit $status
