#!/usr/bin/env bash
# ipcsink -> ipcsrc against GStreamer's shmsink -> shmsrc, two processes each
# (64-byte throughput, live one-way latency, 1080p RGBA frames written and
# untouched). Needs gstreamer1.0-plugins-bad for shmsink/shmsrc.
# Usage: benches/compare/run_ipc.sh [repetitions]   (from anywhere in the tree)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cmake --preset release >/dev/null
cmake --build --preset release --target ipc_compare_bench >/dev/null
build/release/benches/ipc_compare_bench "${1:-3}"
