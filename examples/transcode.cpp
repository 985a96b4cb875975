// Encoding and decoding: one pipeline encodes two seconds of test video to
// AV1 in an IVF file and test audio to Opus in an Ogg file (two branches, each
// on its own threads); a second pipeline reads both files back, decodes them,
// and counts the video frames and audio samples that come out.
#include <parallax/elements/app/appsink.hpp>
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

int report(const parallax::Error& e) {
    fmt::print(stderr, "error: {}\n", e.to_string());
    return EXIT_FAILURE;
}

// Parses `text`, runs it to the end; on a syntax error shows where it is.
parallax::Result<std::unique_ptr<parallax::Pipeline>> run(const std::string& text) {
    auto pipeline = parallax::Pipeline::parse(text);
    if (!pipeline) {
        fmt::print(stderr, "{}\n", parallax::format_pipeline_error(text, pipeline.error()));
        return pipeline;
    }
    using namespace std::chrono_literals;
    if (auto ok = (*pipeline)->run(60s); !ok) {
        return parallax::fail(ok.error());
    }
    return pipeline;
}

} // namespace

int main() {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / "plx-transcode";
    fs::create_directories(dir);
    const std::string video = (dir / "ball.ivf").string();
    const std::string audio = (dir / "tone.opus").string();

    // 1. Encode. The capsfilters fix what is encoded: 8-bit 4:2:0 video at
    //    25 frames a second, stereo audio at 48 kHz (Opus's own rate).
    //    av1enc's defaults are real-time ones (usage-profile=realtime,
    //    cpu-used=8); opusenc's are 64 kbit/s VBR, 20 ms frames.
    const std::string encode = fmt::format(
        "videotestsrc num-buffers=50 pattern=ball ! video/x-raw,format=I420,width=640,height=360,framerate=25/1 "
        "! av1enc target-bitrate=500 ! ivfmux ! filesink location={} "
        "audiotestsrc num-buffers=100 samplesperbuffer=960 freq=440 "
        "! audio/x-raw,rate=48000,channels=2 ! opusenc ! oggmux ! filesink location={}",
        video, audio);
    auto encoder = run(encode);
    if (!encoder) {
        return report(encoder.error());
    }
    fmt::print("wrote {} ({} bytes) and {} ({} bytes)\n", video, fs::file_size(video), audio, fs::file_size(audio));

    // 2. Decode. oggdemux makes its pad when it finds the Opus stream: the
    //    link to opusdec is made then. The appsinks hand what is decoded to
    //    the application, here to two counters.
    const std::string decode =
        fmt::format("filesrc location={} ! ivfparse ! dav1ddec ! appsink name=video sync=false "
                    "filesrc location={} ! oggdemux ! opusdec ! appsink name=audio sync=false",
                    video, audio);
    auto decoder = parallax::Pipeline::parse(decode);
    if (!decoder) {
        fmt::print(stderr, "{}\n", parallax::format_pipeline_error(decode, decoder.error()));
        return EXIT_FAILURE;
    }
    std::atomic<std::size_t> frames = 0;
    std::atomic<std::size_t> samples = 0;
    std::string picture;
    (*(*decoder)->get<parallax::AppSink>("video"))->set_new_sample([&](parallax::AppSink& sink) {
        if (auto s = sink.pull_sample(); s && frames++ == 0) {
            picture = s->caps.to_string(); // only this thread writes it; read after the run
        }
    });
    (*(*decoder)->get<parallax::AppSink>("audio"))->set_new_sample([&](parallax::AppSink& sink) {
        if (auto s = sink.pull_sample()) {
            const auto info = parallax::AudioInfo::from_caps(s->caps);
            if (info) {
                samples += s->buffer.size() / info->bytes_per_frame();
            }
        }
    });
    using namespace std::chrono_literals;
    if (auto ok = (*decoder)->run(60s); !ok) {
        return report(ok.error());
    }
    fmt::print("decoded {} frames of {}\n", frames.load(), picture);
    fmt::print("decoded {} audio samples per channel ({:.2f} s)\n", samples.load(),
               static_cast<double>(samples.load()) / 48000.0);
    fmt::print("play them with: ffplay {}   and   opusdec {} - | aplay\n", video, audio);
    // Opus encodes in 20 ms frames: what was fed comes back, pre-skip trimmed.
    return frames == 50 && samples == 100 * 960 ? EXIT_SUCCESS : EXIT_FAILURE;
}
