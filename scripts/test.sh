#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: the unit,
# integration, fuzz-corpus and example tests (release build), the public
# header check, and the concurrency tests under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh

jobs="$(nproc)"
cmake --preset release
cmake --build --preset release -j "${jobs}"
cmake --build --preset release --target check-headers -j "${jobs}"
ctest --preset release -j "${jobs}" --timeout 600

# The concurrency tests again, under ThreadSanitizer.
cmake --preset tsan
cmake --build --preset tsan -j "${jobs}" --target unit_memory unit_buffer
ctest --preset tsan -j "${jobs}" -R 'Concurrency' --timeout 600
