#!/usr/bin/env bash
# AV1 decoding and encoding: libparallax's elements beside the reference
# command lines (and GStreamer's av1enc), on the same files, in one run,
# alternating. Prints each case's median wall time over the repetitions and
# the frame rate, and libparallax's overhead against the reference.
#
#   decode: 600 frames of 1280x720 AV1 (ffmpeg's testsrc2 through libaom,
#           real-time mode, 2 Mbit/s) from an IVF file:
#             plx-launch -q filesrc ! ivfparse ! dav1ddec n-threads=T ! fakesink
#             dav1d --threads T --muxer null       (decodes, writes nothing)
#             dav1d --threads T --muxer yuv -o /dev/null
#                                                  (decodes and copies every
#                                                  picture out, as dav1ddec does)
#           (also as the median of each repetition's ratio), and, with one
#           thread, libparallax and dav1d --muxer null run at
#           the same time on the two cores, once each way round, as the
#           median over repetitions of the geometric mean of both ratios.
#   icount: the one-thread decode once under callgrind (valgrind), for each
#           program: instructions executed and page faults (GNU time),
#           measures this VM's timing spread does not move.
#   encode: 60 frames of 1280x720 (videotestsrc pattern=ball), real time,
#           cpu-used 8, 2000 kbit/s, two threads:
#             plx-launch -q videotestsrc ! av1enc ! fakesink
#             gst-launch-1.0 -q videotestsrc ! av1enc ! fakesink
#             aomenc --rt on the same frames, read from a raw file
#           and the sources alone (videotestsrc ! fakesink), whose time the
#           encode figures include.
#   opus:   60 s of a stereo 48 kHz sine to Opus in Ogg, 64 kbit/s
#           constrained VBR, complexity 10, 20 ms frames:
#             plx-launch -q audiotestsrc ! opusenc ! oggmux ! fakesink
#             gst-launch-1.0 -q audiotestsrc ! opusenc ! oggmux ! fakesink
#             opusenc (opus-tools) on the same samples from a raw file
#           and the sources alone.
#   ts:     60 s of 1280x720 H.264 at 30 fps (libx264, 2 Mbit/s) and stereo
#           Opus (64 kbit/s) in a transport stream written by ffmpeg:
#             demux: plx-launch -q filesrc ! tsdemux ! fakesink (both streams)
#                    gst-launch-1.0 -q the same
#                    ffmpeg -i in.ts -map 0 -c copy -f null -
#             remux: plx-launch -q filesrc ! tsdemux ! mpegtsmux ! fakesink
#                    gst-launch-1.0 -q filesrc ! tsdemux ! h264parse/opusparse
#                        ! mpegtsmux ! fakesink (GStreamer's mpegtsmux wants
#                        parsed input)
#                    ffmpeg -i in.ts -map 0 -c copy -f mpegts /dev/null
#           reported as how many times faster than real time.
#
# Usage: benches/compare/run_codecs.sh [repetitions [section...]]
#        (from anywhere in the tree; sections: decode icount encode opus ts,
#        all by default; icount needs valgrind)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
reps="${1:-5}"
sections="${*:2}"
sections="${sections:-decode icount encode opus ts}"
want() { [[ " ${sections} " == *" $1 "* ]]; }
cmake --preset release >/dev/null
cmake --build --preset release --target plx-launch >/dev/null
plx=build/release/tools/plx-launch
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# Wall time of a command in microseconds (its output discarded).
micros() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# name, frames, file of samples (microseconds)
report() {
    local m
    m=$(median <"$3")
    awk -v n="$1" -v f="$2" -v m="$m" 'BEGIN {printf "  %-44s %9.1f ms %8.1f fps\n", n, m / 1000, f / (m / 1e6)}'
}
# name, file: median and how many times faster than real time (60 s)
realtime() {
    local m
    m=$(median <"$2")
    awk -v n="$1" -v m="$m" 'BEGIN {printf "  %-44s %9.1f ms %8.0fx real time\n", n, m / 1000, 60 / (m / 1e6)}'
}
ratio() { # label, file a, file b: median a / median b - 1, in percent
    local a b
    a=$(median <"$2")
    b=$(median <"$3")
    awk -v l="$1" -v a="$a" -v b="$b" 'BEGIN {printf "  %-44s %+8.1f %%\n", l, (a / b - 1) * 100}'
}

if want decode || want icount; then
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 600 -c:v libaom-av1 -usage realtime \
    -cpu-used 8 -b:v 2M -g 60 -f ivf "${work}/720p.ivf"
fi

if want decode; then
echo "AV1 decode, 600 frames 1280x720 (median of ${reps})"
for threads in 1 2; do
    : >"${work}/plx" && : >"${work}/null" && : >"${work}/yuv"
    for _ in $(seq "${reps}"); do
        micros "${plx}" -q filesrc location="${work}/720p.ivf" ! ivfparse ! dav1ddec n-threads="${threads}" \
            ! fakesink >>"${work}/plx"
        micros dav1d -q -i "${work}/720p.ivf" --threads "${threads}" --muxer null -o /dev/null >>"${work}/null"
        micros dav1d -q -i "${work}/720p.ivf" --threads "${threads}" --muxer yuv -o /dev/null >>"${work}/yuv"
    done
    echo " ${threads} thread(s):"
    report "plx-launch filesrc ! ivfparse ! dav1ddec" 600 "${work}/plx"
    report "dav1d --muxer null" 600 "${work}/null"
    report "dav1d --muxer yuv -o /dev/null" 600 "${work}/yuv"
    ratio "libparallax against dav1d --muxer null" "${work}/plx" "${work}/null"
    ratio "libparallax against dav1d --muxer yuv" "${work}/plx" "${work}/yuv"
    # The runs alternate, so each repetition's pair saw nearly the same
    # machine: the median of their ratios moves less than the ratio of
    # the medians when the machine's speed drifts.
    paste "${work}/plx" "${work}/null" | awk '{printf "%.5f\n", $1 / $2}' >"${work}/ratios"
    awk -v r="$(median <"${work}/ratios")" \
        'BEGIN {printf "  %-44s %+8.1f %%\n", "against --muxer null, median of run ratios", (r - 1) * 100}'
done
# One thread each, both at the same moment, each pinned to a core of its
# own, then again with the cores swapped (two virtual CPUs need not be
# equally fast): the geometric mean of the two ratios is one repetition's
# figure. Both see the same machine at the same time, so the median holds
# still where the machine's speed drifts between runs (a VM whose virtual
# CPUs change hosts) and the medians above swing by more than the
# difference being measured.
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    : >"${work}/pairs"
    for _ in $(seq "${reps}"); do
        for a in 0 1; do
            micros taskset -c "${a}" "${plx}" -q filesrc location="${work}/720p.ivf" ! ivfparse \
                ! dav1ddec n-threads=1 ! fakesink >"${work}/p${a}" &
            micros taskset -c $((1 - a)) dav1d -q -i "${work}/720p.ivf" --threads 1 --muxer null -o /dev/null \
                >"${work}/d${a}" &
            wait
        done
        awk -v a0="$(cat "${work}/p0")" -v b0="$(cat "${work}/d0")" -v a1="$(cat "${work}/p1")" \
            -v b1="$(cat "${work}/d1")" 'BEGIN {printf "%.5f\n", sqrt(a0 / b0 * a1 / b1)}' >>"${work}/pairs"
    done
    echo " 1 thread each, at the same time on two cores, each way round (median of ${reps}):"
    awk -v r="$(median <"${work}/pairs")" \
        'BEGIN {printf "  %-44s %+8.1f %%\n", "libparallax against dav1d --muxer null", (r - 1) * 100}'
fi
fi

if want icount; then
echo
echo "AV1 decode, 600 frames 1280x720, one thread: instructions (callgrind) and page faults"
if command -v valgrind >/dev/null; then
    # Instructions of the whole process, every thread, start-up included.
    instructions() {
        valgrind --tool=callgrind --callgrind-out-file="${work}/cg.out" "$@" >/dev/null 2>"${work}/cg.err"
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "${work}/cg.err"
    }
    # Minor and major page faults (GNU time).
    faults() {
        if [[ -x /usr/bin/time ]]; then
            /usr/bin/time -f '%R %F' "$@" 2>&1 >/dev/null | tail -n 1 | awk '{print $1 + $2}'
        else
            echo 0
        fi
    }
    plx_decode=("${plx}" -q filesrc location="${work}/720p.ivf" ! ivfparse ! dav1ddec n-threads=1 ! fakesink)
    ref_decode=(dav1d -q -i "${work}/720p.ivf" --threads 1 --muxer null -o /dev/null)
    pi=$(instructions "${plx_decode[@]}")
    ri=$(instructions "${ref_decode[@]}")
    pf=$(faults "${plx_decode[@]}")
    rf=$(faults "${ref_decode[@]}")
    awk -v pi="${pi}" -v ri="${ri}" -v pf="${pf}" -v rf="${rf}" 'BEGIN {
        printf "  %-44s %14.0f instructions %6d page faults\n", "plx-launch filesrc ! ivfparse ! dav1ddec", pi, pf
        printf "  %-44s %14.0f instructions %6d page faults\n", "dav1d --muxer null", ri, rf
        printf "  %-44s %+8.3f %% instructions, %+d page faults\n", "libparallax against dav1d", (pi / ri - 1) * 100, pf - rf
    }'
else
    echo "  (valgrind is not installed: skipped)"
fi
fi

if want encode; then
echo
echo "AV1 encode, 60 frames 1280x720, real time, cpu-used 8, 2000 kbit/s, 2 threads (median of ${reps})"
caps="video/x-raw,format=I420,width=1280,height=720,framerate=30/1"
"${plx}" -q videotestsrc pattern=ball num-buffers=60 ! "${caps}" ! filesink location="${work}/ball.yuv"
have_gst_av1enc=0
if gst-inspect-1.0 av1enc >/dev/null 2>&1; then
    have_gst_av1enc=1
fi
: >"${work}/plx" && : >"${work}/gst" && : >"${work}/aom" && : >"${work}/plx_src" && : >"${work}/gst_src"
for _ in $(seq "${reps}"); do
    micros "${plx}" -q videotestsrc pattern=ball num-buffers=60 ! "${caps}" ! av1enc usage-profile=realtime \
        cpu-used=8 target-bitrate=2000 threads=2 ! fakesink >>"${work}/plx"
    micros "${plx}" -q videotestsrc pattern=ball num-buffers=60 ! "${caps}" ! fakesink >>"${work}/plx_src"
    if [[ ${have_gst_av1enc} == 1 ]]; then
        micros gst-launch-1.0 -q videotestsrc pattern=ball num-buffers=60 ! "${caps}" ! av1enc \
            usage-profile=realtime cpu-used=8 target-bitrate=2000 threads=2 ! fakesink >>"${work}/gst"
        micros gst-launch-1.0 -q videotestsrc pattern=ball num-buffers=60 ! "${caps}" ! fakesink >>"${work}/gst_src"
    fi
    micros aomenc --rt --cpu-used=8 --target-bitrate=2000 --threads=2 --limit=60 -w 1280 -h 720 --fps=30/1 \
        --i420 --ivf -o /dev/null "${work}/ball.yuv" >>"${work}/aom"
done
report "plx-launch videotestsrc ! av1enc" 60 "${work}/plx"
report "plx-launch videotestsrc (source alone)" 60 "${work}/plx_src"
report "aomenc --rt (raw file)" 60 "${work}/aom"
ratio "libparallax against aomenc" "${work}/plx" "${work}/aom"
if [[ ${have_gst_av1enc} == 1 ]]; then
    report "gst-launch-1.0 videotestsrc ! av1enc" 60 "${work}/gst"
    report "gst-launch-1.0 videotestsrc (source alone)" 60 "${work}/gst_src"
    ratio "libparallax against GStreamer" "${work}/plx" "${work}/gst"
fi
fi

if want opus; then
echo
echo "Opus encode, 60 s stereo 48 kHz, 64 kbit/s constrained VBR, complexity 10 (median of ${reps})"
acaps="audio/x-raw,format=S16LE,rate=48000,channels=2"
asrc=(audiotestsrc num-buffers=3000 samplesperbuffer=960 freq=440)
"${plx}" -q "${asrc[@]}" ! "${acaps}" ! filesink location="${work}/tone.raw"
: >"${work}/plx" && : >"${work}/gst" && : >"${work}/cli" && : >"${work}/plx_src" && : >"${work}/gst_src"
for _ in $(seq "${reps}"); do
    micros "${plx}" -q "${asrc[@]}" ! "${acaps}" ! opusenc bitrate=64000 bitrate-type=constrained-vbr complexity=10 \
        frame-size=20 ! oggmux ! fakesink >>"${work}/plx"
    micros "${plx}" -q "${asrc[@]}" ! "${acaps}" ! fakesink >>"${work}/plx_src"
    micros gst-launch-1.0 -q "${asrc[@]}" ! "${acaps}" ! opusenc bitrate=64000 bitrate-type=constrained-vbr \
        complexity=10 frame-size=20 ! oggmux ! fakesink >>"${work}/gst"
    micros gst-launch-1.0 -q "${asrc[@]}" ! "${acaps}" ! fakesink >>"${work}/gst_src"
    micros opusenc --quiet --raw --raw-rate 48000 --raw-chan 2 --raw-bits 16 --bitrate 64 --cvbr --comp 10 \
        --framesize 20 "${work}/tone.raw" /dev/null >>"${work}/cli"
done
realtime "plx-launch audiotestsrc ! opusenc ! oggmux" "${work}/plx"
realtime "plx-launch audiotestsrc (source alone)" "${work}/plx_src"
realtime "gst-launch-1.0 audiotestsrc ! opusenc ! oggmux" "${work}/gst"
realtime "gst-launch-1.0 audiotestsrc (source alone)" "${work}/gst_src"
realtime "opusenc (opus-tools, raw file)" "${work}/cli"
ratio "libparallax against GStreamer" "${work}/plx" "${work}/gst"
ratio "libparallax against opusenc (opus-tools)" "${work}/plx" "${work}/cli"
fi

if want ts; then
echo
echo "MPEG-TS, 60 s of 1280x720 H.264 + stereo Opus (median of ${reps})"
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=f=440:sample_rate=48000 -t 60 \
    -c:v libx264 -preset ultrafast -b:v 2M -g 60 -pix_fmt yuv420p -c:a libopus -b:a 64k -ac 2 -f mpegts \
    -y "${work}/in.ts"
ts="${work}/in.ts"
for f in plx_demux gst_demux ff_demux plx_remux gst_remux ff_remux; do : >"${work}/${f}"; done
for _ in $(seq "${reps}"); do
    micros "${plx}" -q filesrc location="${ts}" ! tsdemux name=d d. ! queue ! fakesink d. ! queue ! fakesink \
        >>"${work}/plx_demux"
    micros gst-launch-1.0 -q filesrc location="${ts}" ! tsdemux name=d d. ! queue ! fakesink d. ! queue ! fakesink \
        >>"${work}/gst_demux"
    micros ffmpeg -v error -i "${ts}" -map 0 -c copy -f null - >>"${work}/ff_demux"
    micros "${plx}" -q filesrc location="${ts}" ! tsdemux name=d d. ! queue ! m. d. ! queue ! m. mpegtsmux name=m \
        ! fakesink >>"${work}/plx_remux"
    micros gst-launch-1.0 -q filesrc location="${ts}" ! tsdemux name=d d.video_0_0100 ! queue ! h264parse \
        ! mpegtsmux name=m ! fakesink d.audio_0_0101 ! queue ! opusparse ! m. >>"${work}/gst_remux"
    micros ffmpeg -v error -i "${ts}" -map 0 -c copy -f mpegts -y /dev/null >>"${work}/ff_remux"
done
realtime "plx-launch filesrc ! tsdemux" "${work}/plx_demux"
realtime "gst-launch-1.0 filesrc ! tsdemux" "${work}/gst_demux"
realtime "ffmpeg -c copy -f null (demux only)" "${work}/ff_demux"
ratio "libparallax demux against GStreamer" "${work}/plx_demux" "${work}/gst_demux"
ratio "libparallax demux against ffmpeg" "${work}/plx_demux" "${work}/ff_demux"
realtime "plx-launch tsdemux ! mpegtsmux" "${work}/plx_remux"
realtime "gst-launch-1.0 tsdemux ! parse ! mpegtsmux" "${work}/gst_remux"
realtime "ffmpeg -c copy -f mpegts (remux)" "${work}/ff_remux"
ratio "libparallax remux against GStreamer" "${work}/plx_remux" "${work}/gst_remux"
ratio "libparallax remux against ffmpeg" "${work}/plx_remux" "${work}/ff_remux"
fi
