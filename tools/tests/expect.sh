#!/bin/sh
# Runs a command and checks its exit status and output (the CTest tests of
# plx-launch and plx-inspect).
#
#   expect.sh STATUS [--out RE]... [--err RE]... [--no-out RE]... [--no-err RE]... -- COMMAND [ARG]...
#
# STATUS is the exit status wanted. --out and --err name extended regular
# expressions (grep -E) that some line of stdout / stderr must match;
# --no-out / --no-err one that no line of stdout / stderr may match.
set -u

if [ $# -lt 3 ]; then
    echo "usage: $0 STATUS [--out RE]... [--err RE]... [--no-out RE]... [--no-err RE]... -- COMMAND [ARG]..." >&2
    exit 2
fi
want_status=$1
shift

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/checks"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case $1 in
    --out | --err | --no-out | --no-err)
        [ $# -ge 2 ] || { echo "$0: $1 needs a pattern" >&2; exit 2; }
        printf '%s\n%s\n' "$1" "$2" >>"$tmp/checks"
        shift 2
        ;;
    *)
        echo "$0: unknown option $1" >&2
        exit 2
        ;;
    esac
done
[ $# -gt 1 ] || { echo "$0: no command after --" >&2; exit 2; }
shift

"$@" >"$tmp/out" 2>"$tmp/err"
status=$?

show() {
    echo "--- command: $*"
    echo "--- stdout:"
    cat "$tmp/out"
    echo "--- stderr:"
    cat "$tmp/err"
}

failed=0
if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: exit status $status, expected $want_status"
    failed=1
fi
while IFS= read -r kind && IFS= read -r pattern; do
    case $kind in
    --out)
        grep -Eq -e "$pattern" "$tmp/out" || { echo "FAIL: no stdout line matches: $pattern"; failed=1; }
        ;;
    --err)
        grep -Eq -e "$pattern" "$tmp/err" || { echo "FAIL: no stderr line matches: $pattern"; failed=1; }
        ;;
    --no-out)
        if grep -Eq -e "$pattern" "$tmp/out"; then
            echo "FAIL: a stdout line matches: $pattern"
            failed=1
        fi
        ;;
    --no-err)
        if grep -Eq -e "$pattern" "$tmp/err"; then
            echo "FAIL: a stderr line matches: $pattern"
            failed=1
        fi
        ;;
    esac
done <"$tmp/checks"

if [ "$failed" -ne 0 ]; then
    show "$@"
    exit 1
fi
exit 0
