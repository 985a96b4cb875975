#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite: the unit,
# integration, fuzz-corpus and example tests (release build), the public
# header check, the whole suite again under AddressSanitizer and
# UndefinedBehaviorSanitizer, and the concurrency tests under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh

jobs="$(nproc)"
cmake --preset release
cmake --build --preset release -j "${jobs}"
cmake --build --preset release --target check-headers -j "${jobs}"
ctest --preset release -j "${jobs}" --timeout 600

# Every test again with ASan + UBSan: bad input must never touch memory it
# should not.
cmake --preset asan
cmake --build --preset asan -j "${jobs}"
ctest --preset asan -j "${jobs}" --timeout 900

# The concurrency tests again, under ThreadSanitizer.
cmake --preset tsan
cmake --build --preset tsan -j "${jobs}" --target unit_memory unit_buffer unit_runtime
ctest --preset tsan -j "${jobs}" -R 'Concurrency' --timeout 600
