#!/usr/bin/env bash
# Installs what is missing, builds, and runs the bundled demo: a plx-launch
# pipeline in gst-launch syntax that encodes five seconds of test video to
# AV1 (in an IVF file) and of a test tone to Opus (in an Ogg file), each
# branch on threads of its own; --plan first shows which thread runs what.
# Then the demo reads both files back with plx-launch and with ffprobe, which
# nobody here wrote, and says how to play them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target plx-launch plx-inspect
dir="${TMPDIR:-/tmp}/plx-demo"
mkdir -p "${dir}"
video="${dir}/ball.ivf"
audio="${dir}/tone.opus"
plx=./build/release/tools/plx-launch
pipeline=(videotestsrc num-buffers=125 pattern=ball
          ! video/x-raw,format=I420,width=1280,height=720,framerate=25/1
          ! av1enc ! ivfmux ! filesink location="${video}"
          audiotestsrc num-buffers=250 samplesperbuffer=960 freq=440
          ! audio/x-raw,rate=48000,channels=2
          ! opusenc ! oggmux ! filesink location="${audio}")
echo "\$ plx-launch --plan ${pipeline[*]}"
"${plx}" --plan "${pipeline[@]}"
echo
echo "\$ plx-launch ${pipeline[*]}"
"${plx}" "${pipeline[@]}"
echo
echo "wrote ${video} ($(stat -c %s "${video}") bytes) and ${audio} ($(stat -c %s "${audio}") bytes)"
echo
decode=(filesrc location="${video}" ! ivfparse ! dav1ddec ! fakesink
        filesrc location="${audio}" ! oggdemux ! opusdec ! fakesink)
echo "\$ plx-launch ${decode[*]}"
"${plx}" "${decode[@]}"
if command -v ffprobe >/dev/null; then
    echo
    for f in "${video}" "${audio}"; do
        echo "ffprobe ${f}:"
        ffprobe -v error -count_packets -of default=noprint_wrappers=1 \
            -show_entries stream=codec_name,width,height,sample_rate,channels,nb_read_packets \
            -show_entries format=format_name "${f}" | sed 's/^/    /'
    done
fi
echo
echo "play them with: ffplay ${video}   and   ffplay ${audio}"
