#!/bin/sh
# Runs plx-launch where one of the libraries the elements open at run time
# cannot be loaded (an empty file bound over it in a private mount
# namespace) and checks that only the element needing it fails, naming the
# library, while other pipelines run.
#
#   missing-library.sh PLX_LAUNCH SONAME ELEMENT
#
# e.g. missing-library.sh plx-launch libaom.so.3 av1enc. Exits 77 (skipped)
# where private mount namespaces are not available (not root, or no
# unshare).
set -u

if [ "${PARALLAX_IN_MOUNT_NS:-}" != 1 ]; then
    command -v unshare >/dev/null 2>&1 || { echo "skipped: no unshare"; exit 77; }
    unshare -m true 2>/dev/null || { echo "skipped: no private mount namespace here"; exit 77; }
    PARALLAX_IN_MOUNT_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi

launch=$1
soname=$2
element=$3
file=$(ldconfig -p | awk -v s="$soname" '$1 == s { print $NF; exit }')
[ -n "$file" ] || { echo "FAIL: $soname is not in the loader's cache"; exit 1; }
mount --bind /dev/null "$(readlink -f "$file")" || { echo "FAIL: cannot bind over $file"; exit 1; }

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

if ! "$launch" -q fakesrc num-buffers=1 ! fakesink >"$tmp/out" 2>"$tmp/err"; then
    echo "FAIL: a pipeline that does not need $soname failed without it"
    cat "$tmp/out" "$tmp/err"
    exit 1
fi

"$launch" videotestsrc num-buffers=1 ! "$element" ! fakesink >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" -ne 1 ]; then
    echo "FAIL: $element without $soname exited $status, not 1"
    cat "$tmp/out" "$tmp/err"
    exit 1
fi
if ! grep -q "from element /pipeline0/${element}0: .*(${soname}) cannot be loaded: " "$tmp/err"; then
    echo "FAIL: the error does not name ${element}0 and ${soname}:"
    cat "$tmp/err"
    exit 1
fi
cat "$tmp/err"
exit 0
