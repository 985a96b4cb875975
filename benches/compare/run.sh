#!/usr/bin/env bash
# Runs libparallax and GStreamer side by side (one program, one run) and
# prints each operation's medians and the ratio GStreamer / libparallax.
# Usage: benches/compare/run.sh [repetitions]   (from anywhere in the tree)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
reps="${1:-5}"
cmake --preset release >/dev/null
cmake --build --preset release --target buffer_compare_bench >/dev/null
out="$(mktemp)"
trap 'rm -f "${out}"' EXIT
build/release/benches/buffer_compare_bench --benchmark_repetitions="${reps}" \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.3 \
    --benchmark_format=csv 2>/dev/null >"${out}"
python3 - "${out}" <<'PY'
import csv, re, sys
pattern = re.compile(r"^BM_(\w+?)_(parallax|gstreamer)(/\d+)?_median$")
rows = {}
with open(sys.argv[1]) as f:
    for row in csv.DictReader(f):
        m = pattern.match(row["name"])
        if m:
            op = m.group(1) + (m.group(3) or "")
            rows.setdefault(op, {})[m.group(2)] = float(row["real_time"])
def show(v):
    return f"{v:.1f} ns" if v is not None else "-"
print(f"{'operation':<24}{'libparallax':>14}{'GStreamer':>14}{'GStreamer / libparallax':>26}")
for op, libs in rows.items():
    plx, gst = libs.get("parallax"), libs.get("gstreamer")
    ratio = f"{gst / plx:.1f}x" if plx and gst else "-"
    print(f"{op:<24}{show(plx):>14}{show(gst):>14}{ratio:>26}")
PY
