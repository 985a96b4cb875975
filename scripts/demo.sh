#!/usr/bin/env bash
# Installs what is missing, builds, and runs the bundled demo: a plx-launch
# pipeline in gst-launch syntax. A test source fills 64 KiB buffers with a
# counting byte pattern; a tee hands the same buffers (no copy) to two
# branches, each behind a queue on a thread of its own: one writes a file,
# one counts into fakesink. --plan first shows which thread runs what.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target plx-launch plx-inspect
out="${TMPDIR:-/tmp}/plx-demo.bin"
pipeline=(testsrc num-buffers=2000 blocksize=65536 pattern=counter ! tee name=t
          t. ! queue ! filesink location="${out}"
          t. ! queue ! fakesink)
echo "\$ plx-launch --plan ${pipeline[*]}"
./build/release/tools/plx-launch --plan "${pipeline[@]}"
echo
echo "\$ plx-launch ${pipeline[*]}"
./build/release/tools/plx-launch "${pipeline[@]}"
echo
echo "wrote $(stat -c %s "${out}") bytes to ${out}"
rm -f "${out}"
