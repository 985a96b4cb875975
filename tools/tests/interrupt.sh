#!/bin/sh
# Interrupts a running plx-launch with SIGINT and checks how it ends.
#
#   interrupt.sh PLX_LAUNCH [-e]
#
# With -e, plx-launch must send eos, get it back and exit 0 ("Got EOS");
# without, it must stop at once and exit 0. The pipeline never ends by
# itself: should the interrupt be lost, the test's TIMEOUT ends it.
set -u

launch=$1
shift
tmp=$(mktemp -d) || exit 2
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$launch" "$@" fakesrc ! fakesink >"$tmp/out" 2>"$tmp/err" &
pid=$!

# Interrupt only once data flows (before that the signal would arrive while
# the pipeline is being built, which is a different test).
tries=0
until grep -q "Setting pipeline to RUNNING" "$tmp/out"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: plx-launch did not start running"
        cat "$tmp/out" "$tmp/err"
        exit 1
    fi
    sleep 0.05
done
kill -INT "$pid"
wait "$pid"
status=$?
pid=

failed=0
if [ "$status" -ne 0 ]; then
    echo "FAIL: exit status $status, expected 0"
    failed=1
fi
grep -q "Interrupt: Stopping pipeline" "$tmp/out" || { echo "FAIL: the interrupt was not handled"; failed=1; }
case " $* " in
*" -e "*)
    grep -q "Forcing EOS" "$tmp/out" || { echo "FAIL: no eos sent"; failed=1; }
    grep -q 'Got EOS from element "pipeline0"' "$tmp/out" || { echo "FAIL: eos did not come back"; failed=1; }
    ;;
*)
    if grep -q "Got EOS" "$tmp/out"; then
        echo "FAIL: eos without -e"
        failed=1
    fi
    ;;
esac
if [ "$failed" -ne 0 ]; then
    echo "--- stdout:"
    cat "$tmp/out"
    echo "--- stderr:"
    cat "$tmp/err"
    exit 1
fi
exit 0
