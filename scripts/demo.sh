#!/usr/bin/env bash
# Installs what is missing, builds, and runs the bundled demo: a plx-launch
# pipeline in gst-launch syntax that encodes five seconds of 720p test video
# to AV1 and of a test tone to Opus, and muxes both into one MP4 file; each
# encoder runs on a thread of its own (--plan first shows which thread runs
# what). Then plx-launch decodes the file again, ffprobe and ffmpeg, which
# nobody here wrote, read it, and the demo says how to play it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target plx-launch plx-inspect
dir="${TMPDIR:-/tmp}/plx-demo"
mkdir -p "${dir}"
out="${dir}/demo.mp4"
plx=./build/release/tools/plx-launch
pipeline=(videotestsrc num-buffers=125 pattern=ball
          ! video/x-raw,format=I420,width=1280,height=720,framerate=25/1
          ! av1enc target-bitrate=1000 ! mp4mux name=mux ! filesink location="${out}"
          audiotestsrc num-buffers=250 samplesperbuffer=960 freq=440
          ! audio/x-raw,rate=48000,channels=2
          ! opusenc ! mux.)
echo "\$ plx-launch --plan ${pipeline[*]}"
"${plx}" --plan "${pipeline[@]}"
echo
echo "\$ plx-launch ${pipeline[*]}"
"${plx}" "${pipeline[@]}"
echo
echo "wrote ${out} ($(stat -c %s "${out}") bytes)"
echo
decode=(filesrc location="${out}" ! qtdemux name=demux
        demux.video_0 ! dav1ddec ! videoconvert ! fakesink
        demux.audio_0 ! opusdec ! audioconvert ! fakesink)
echo "\$ plx-launch ${decode[*]}"
"${plx}" "${decode[@]}"
if command -v ffprobe >/dev/null; then
    echo
    echo "what ffprobe reads in it:"
    ffprobe -v error -count_packets -of default=noprint_wrappers=1 \
        -show_entries stream=codec_name,width,height,sample_rate,channels,nb_read_packets,duration \
        "${out}" | sed 's/^/    /'
    if ffmpeg -v error -i "${out}" -f null - 2>&1 | grep -q .; then
        echo "ffmpeg reported problems decoding it:"
        ffmpeg -v error -i "${out}" -f null -
        exit 1
    fi
    echo "ffmpeg decodes both streams without a complaint."
fi
echo
echo "play it with: ffplay ${out}   (or any player that knows AV1 and Opus: mpv, VLC, a browser)"
