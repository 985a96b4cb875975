#!/usr/bin/env bash
# Runs libparallax and GStreamer 1.22 side by side (one program per topic,
# one run, alternating cases) and prints each case's medians and the ratio
# GStreamer / libparallax; then the video and audio converters (each bench
# prints its own table: element cost per frame or per second of audio, and
# the resamplers' SNR); then compares peak RSS and wall time of plx-launch
# and gst-launch-1.0 on a one-buffer pipeline.
# Usage: benches/compare/run.sh [repetitions]   (from anywhere in the tree)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
reps="${1:-5}"
cmake --preset release >/dev/null
cmake --build --preset release --target buffer_compare_bench pipeline_compare_bench video_compare_bench \
    audio_compare_bench plx-launch >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "${out}"' EXIT
for bench in buffer_compare_bench pipeline_compare_bench; do
    build/release/benches/${bench} --benchmark_repetitions="${reps}" \
        --benchmark_report_aggregates_only=true --benchmark_min_time=0.3 \
        --benchmark_format=csv 2>/dev/null >"${out}/${bench}.csv"
done
python3 - "${out}"/*.csv <<'PY'
import csv, re, sys
pattern = re.compile(r"^BM_(\w+?)_(parallax|gstreamer|dd)(/\d+)?(/iterations:\d+)?(/manual_time)?_median$")
scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
rows = {}
for path in sys.argv[1:]:
    with open(path) as f:
        lines = [l for l in f if not l.startswith("#")]
    for row in csv.DictReader(lines):
        m = pattern.match(row["name"])
        if not m:
            continue
        op = m.group(1) + (m.group(3) or "")
        per_buffer = row.get("ns_per_buffer")
        rate = row.get("bytes_per_second")
        if rate:
            # A copy: shown as MiB/s, and the ratio is taken the other way up.
            value, unit = float(rate) / 2**20, "MiB/s"
        elif per_buffer:
            # The counter is seconds per buffer (an inverted rate).
            value, unit = float(per_buffer) * 1e9, "ns/buffer"
        else:
            value, unit = float(row["real_time"]) * scale[row["time_unit"]], "ns"
        rows.setdefault(op, {})[m.group(2)] = (value, unit)
def show(v):
    if v is None:
        return "-"
    value, unit = v
    if unit == "MiB/s":
        return f"{value:.0f} MiB/s"
    if unit == "ns" and value >= 1e6:
        return f"{value / 1e6:.2f} ms"
    if unit == "ns" and value >= 1e3:
        return f"{value / 1e3:.2f} us"
    return f"{value:.1f} {unit}"
print(f"{'case':<22}{'libparallax':>18}{'GStreamer':>18}{'GStreamer / libparallax':>26}")
for op, libs in rows.items():
    plx, gst = libs.get("parallax"), libs.get("gstreamer")
    ratio = "-"
    if plx and gst:
        ratio = f"{plx[0] / gst[0]:.2f}x (plx / gst)" if plx[1] == "MiB/s" else f"{gst[0] / plx[0]:.1f}x"
    print(f"{op:<22}{show(plx):>18}{show(gst):>18}{ratio:>26}")
    if "dd" in libs:
        print(f"{'  dd bs=1M':<22}{'':>18}{show(libs['dd']):>18}{plx[0] / libs['dd'][0]:>25.2f}x  (libparallax / dd)")
PY

echo
build/release/benches/video_compare_bench --benchmark_repetitions="${reps}" \
    --benchmark_report_aggregates_only=true 2>/dev/null | sed -n '/^per frame/,$p'
echo
build/release/benches/audio_compare_bench --benchmark_repetitions="${reps}" \
    --benchmark_report_aggregates_only=true 2>/dev/null | grep -E '^quality:|_median'

# Peak RSS and wall time of the command-line tools, one buffer end to end.
measure() {
    local samples=()
    for _ in 1 2 3 4 5; do
        samples+=("$(/usr/bin/time -f '%M %e' "$@" 2>&1 >/dev/null | tail -1)")
    done
    printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p
}
plx="$(measure build/release/tools/plx-launch -q fakesrc num-buffers=1 ! fakesink)"
gst="$(measure gst-launch-1.0 -q fakesrc num-buffers=1 ! fakesink)"
echo
echo "one buffer end to end (median of 5): peak RSS KiB, wall seconds"
echo "  plx-launch      ${plx}"
echo "  gst-launch-1.0  ${gst}"
