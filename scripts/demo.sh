#!/usr/bin/env bash
# Installs what is missing, builds, and runs the bundled demo: a buffer
# crossing into a second process without a copy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target share_buffer
./build/release/examples/share_buffer
