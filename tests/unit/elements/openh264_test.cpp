// openh264enc and openh264dec: an encode-decode round trip keeps the
// pictures (PSNR of at least 30 dB at the default settings), odd sizes
// included; ffprobe and ffmpeg read what the encoder writes without a
// complaint; a stream written by ffmpeg (libx264, Baseline profile)
// decodes to exactly the pictures ffmpeg decodes; damaged data gives
// warnings or an error, never a crash; properties keep to their ranges.
// Tests that need ffmpeg are skipped, saying why, without it.

#include <parallax/check/harness.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "codec/openh264_library.hpp"
#include "integration/gst_compare_support.hpp"
#include "video_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace parallax::openh264_test {
namespace {

namespace fs = std::filesystem;
using Bytes8 = std::vector<std::uint8_t>;
using check::read_file;
using check::run_program;
using check::ScratchDir;

bool have_ffmpeg() {
    static const bool found =
        run_program({"ffmpeg", "-hide_banner", "-version"}) && run_program({"ffprobe", "-hide_banner", "-version"});
    return found;
}

bool ffmpeg_has_encoder(const std::string& name) {
    std::string out;
    return run_program({"ffmpeg", "-hide_banner", "-encoders"}, &out) &&
           out.find(" " + name + " ") != std::string::npos;
}

Bytes8 bytes_of(const Buffer& b) {
    const auto d = b.data();
    Bytes8 out(d.size());
    std::transform(d.begin(), d.end(), out.begin(), [](std::byte x) { return std::to_integer<std::uint8_t>(x); });
    return out;
}

// Frame i of a smooth moving test picture, packed I420 (w x h).
Bytes8 test_picture(std::uint32_t w, std::uint32_t h, int i) {
    const VideoInfo info = check::info_of(VideoFormat::i420, w, h);
    check::PlainFrame f(info);
    const auto frame = f.edit();
    for (std::size_t c = 0; c < 3; ++c) {
        for (std::uint32_t y = 0; y < info.component_height(c); ++y) {
            for (std::uint32_t x = 0; x < info.component_width(c); ++x) {
                const double fx = static_cast<double>(x) + 2.0 * i;
                const double fy = static_cast<double>(y);
                const double v = c == 0 ? 128 + 60 * std::sin(fx / 13.0) * std::cos(fy / 17.0) + fy / 4
                                        : 128 + 30 * std::sin((fx + fy) / (c == 1 ? 11.0 : 7.0));
                check::set_raw_sample(frame, c, x, y, static_cast<unsigned>(std::lround(std::clamp(v, 0.0, 255.0))));
            }
        }
    }
    Bytes8 out(f.bytes.size());
    std::transform(f.bytes.begin(), f.bytes.end(), out.begin(),
                   [](std::byte x) { return std::to_integer<std::uint8_t>(x); });
    return out;
}

struct Encoded {
    std::vector<Bytes8> units;
    std::vector<bool> key;
    std::optional<Caps> caps;
};

Encoded encode(std::uint32_t w, std::uint32_t h, int frames, const std::string& props = "") {
    Encoded e;
    auto harness = check::Harness::create("openh264enc " + props);
    EXPECT_TRUE(harness) << (harness ? "" : harness.error().to_string());
    if (!harness) {
        return e;
    }
    auto& hs = **harness;
    EXPECT_TRUE(hs.start());
    EXPECT_TRUE(hs.set_input_caps(check::video_caps("I420", w, h)));
    e.caps = check::last_caps(hs);
    for (int i = 0; i < frames; ++i) {
        const Bytes8 pic = test_picture(w, h, i);
        auto b = hs.make_buffer(std::as_bytes(std::span(pic)));
        EXPECT_TRUE(b);
        b->meta().set_pts(ClockTime::from_ns(static_cast<std::uint64_t>(i) * ClockTime::ns_per_s / 30));
        EXPECT_EQ(hs.push(std::move(*b)), Flow::ok);
        auto out = hs.pull();
        EXPECT_TRUE(out) << "frame " << i;
        if (!out) {
            break;
        }
        EXPECT_EQ(out->meta().pts(), ClockTime::from_ns(static_cast<std::uint64_t>(i) * ClockTime::ns_per_s / 30));
        e.units.push_back(bytes_of(*out));
        e.key.push_back(out->meta().has_flag(BufferFlags::keyframe));
    }
    EXPECT_FALSE(hs.error());
    return e;
}

struct Decoded {
    std::vector<Bytes8> pictures; // packed I420
    std::vector<ClockTime> pts;
    std::optional<Caps> caps;
    std::optional<Error> error;
    std::size_t warnings = 0;
};

// Decodes `units`, access unit i with pts[i] (i / 30 s when not given).
Decoded decode(const std::vector<Bytes8>& units, const std::string& props = "",
               const std::vector<ClockTime>& pts = {}) {
    Decoded d;
    auto harness = check::Harness::create("openh264dec " + props);
    EXPECT_TRUE(harness) << (harness ? "" : harness.error().to_string());
    if (!harness) {
        return d;
    }
    auto& hs = **harness;
    EXPECT_TRUE(hs.start());
    EXPECT_TRUE(
        hs.set_input_caps(Caps::parse_static("video/x-h264, stream-format=byte-stream, alignment=au, framerate=30/1")));
    for (std::size_t i = 0; i < units.size(); ++i) {
        auto b = hs.make_buffer(std::as_bytes(std::span(units[i])));
        EXPECT_TRUE(b);
        b->meta().set_pts(i < pts.size() ? pts[i] : ClockTime::from_ns(i * ClockTime::ns_per_s / 30));
        if (hs.push(std::move(*b)) != Flow::ok) {
            break;
        }
    }
    hs.push_event(Event::eos());
    while (auto out = hs.pull(std::chrono::milliseconds(500))) {
        d.pictures.push_back(bytes_of(*out));
        d.pts.push_back(out->meta().pts());
    }
    d.caps = check::last_caps(hs);
    d.error = hs.error();
    for (const Message& m : hs.messages()) {
        d.warnings += m.type == MessageType::warning ? 1U : 0U;
    }
    return d;
}

double psnr(const Bytes8& a, const Bytes8& b) {
    EXPECT_EQ(a.size(), b.size());
    double sum = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        sum += d * d;
    }
    const double mse = sum / static_cast<double>(std::max<std::size_t>(a.size(), 1));
    return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

void write_file(const fs::path& path, const std::vector<Bytes8>& units) {
    std::ofstream out(path, std::ios::binary);
    for (const Bytes8& u : units) {
        out.write(reinterpret_cast<const char*>(u.data()), static_cast<std::streamsize>(u.size()));
    }
}

void expect_round_trip(std::uint32_t w, std::uint32_t h) {
    constexpr int frames = 20;
    const Encoded e = encode(w, h, frames);
    ASSERT_EQ(e.units.size(), static_cast<std::size_t>(frames));
    EXPECT_TRUE(e.key[0]);
    ASSERT_TRUE(e.caps);
    const Structure& s = e.caps->structure(0);
    EXPECT_EQ(s.get_string("stream-format"), "byte-stream");
    EXPECT_EQ(s.get_string("alignment"), "au");
    EXPECT_EQ(s.get_string("profile"), "constrained-baseline");
    EXPECT_EQ(s.get_int("width"), static_cast<int>(w));
    EXPECT_EQ(s.get_int("height"), static_cast<int>(h));
    EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(30, 1).value());

    auto nals = h264::split_annex_b(e.units[0]);
    ASSERT_TRUE(nals);
    ASSERT_FALSE(nals->empty());
    ASSERT_EQ((*nals)[0].type, h264::NalType::sps);
    auto sps = h264::parse_sps((*nals)[0].bytes);
    ASSERT_TRUE(sps) << sps.error().message();
    EXPECT_EQ(sps->width, w);
    EXPECT_EQ(sps->height, h);
    EXPECT_EQ(sps->profile_idc, 66);

    const Decoded d = decode(e.units);
    EXPECT_FALSE(d.error) << d.error->to_string();
    ASSERT_EQ(d.pictures.size(), static_cast<std::size_t>(frames));
    ASSERT_TRUE(d.caps);
    auto info = VideoInfo::from_caps(*d.caps);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->width(), w);
    EXPECT_EQ(info->height(), h);
    EXPECT_EQ(info->format(), VideoFormat::i420);
    for (int i = 0; i < frames; ++i) {
        const double p = psnr(test_picture(w, h, i), d.pictures[static_cast<std::size_t>(i)]);
        EXPECT_GE(p, 30.0) << "frame " << i;
        EXPECT_EQ(d.pts[static_cast<std::size_t>(i)],
                  ClockTime::from_ns(static_cast<std::uint64_t>(i) * ClockTime::ns_per_s / 30));
    }
}

TEST(OpenH264Test, EncodeDecodeRoundTripKeepsThePictures) {
    expect_round_trip(320, 240);
}

TEST(OpenH264Test, SizesThatAreNotMultiplesOf16RoundTrip) {
    expect_round_trip(174, 142);
}

TEST(OpenH264Test, GopSizeSetsTheKeyFrames) {
    const Encoded e = encode(64, 64, 10, "gop-size=4");
    ASSERT_EQ(e.units.size(), 10U);
    for (std::size_t i = 0; i < e.units.size(); ++i) {
        EXPECT_EQ(e.key[i], i % 4 == 0) << "frame " << i;
        auto nals = h264::split_annex_b(e.units[i]);
        ASSERT_TRUE(nals);
        EXPECT_EQ(h264::is_idr(*nals), i % 4 == 0) << "frame " << i;
    }
}

TEST(OpenH264Test, FfprobeAndFfmpegReadTheEncoderOutput) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg or ffprobe is not installed";
    }
    const Encoded e = encode(320, 240, 15);
    ASSERT_EQ(e.units.size(), 15U);
    ScratchDir dir("OpenH264Test", "ffprobe");
    const fs::path file = dir.path() / "out.h264";
    write_file(file, e.units);
    std::string probe;
    ASSERT_TRUE(run_program({"ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                             "stream=codec_name,width,height,nb_read_frames", "-of", "default=nw=1", file.string()},
                            &probe));
    EXPECT_NE(probe.find("codec_name=h264"), std::string::npos) << probe;
    EXPECT_NE(probe.find("width=320"), std::string::npos) << probe;
    EXPECT_NE(probe.find("height=240"), std::string::npos) << probe;
    EXPECT_NE(probe.find("nb_read_frames=15"), std::string::npos) << probe;
    std::string complaints;
    ASSERT_TRUE(
        run_program({"sh", "-c", "ffmpeg -nostdin -v error -i \"$0\" -f null - 2>&1", file.string()}, &complaints));
    EXPECT_EQ(complaints, "");
}

TEST(OpenH264Test, DecodesAnX264StreamToTheSamePicturesAsFfmpeg) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    if (!ffmpeg_has_encoder("libx264")) {
        GTEST_SKIP() << "ffmpeg has no libx264 encoder to write a test stream";
    }
    ScratchDir dir("OpenH264Test", "x264");
    const fs::path stream = dir.path() / "x264.h264";
    const fs::path reference = dir.path() / "ref.yuv";
    ASSERT_TRUE(run_program({"ffmpeg",       "-v",      "error",      "-y",
                             "-f",           "lavfi",   "-i",         "testsrc=size=176x144:rate=25",
                             "-frames:v",    "12",      "-pix_fmt",   "yuv420p",
                             "-c:v",         "libx264", "-profile:v", "baseline",
                             "-g",           "5",       "-f",         "h264",
                             stream.string()}));
    ASSERT_TRUE(run_program({"ffmpeg", "-v", "error", "-y", "-i", stream.string(), "-f", "rawvideo", "-pix_fmt",
                             "yuv420p", reference.string()}));
    const auto expected = read_file<std::uint8_t>(reference);
    const auto bytes = read_file<std::uint8_t>(stream);

    // h264parse cuts the file into access units, as in a pipeline.
    auto parse = check::Harness::create("h264parse").value();
    ASSERT_TRUE(parse->start());
    ASSERT_TRUE(parse->set_input_caps(Caps::parse_static("video/x-h264, stream-format=byte-stream")));
    ASSERT_EQ(parse->push(parse->make_buffer(std::as_bytes(std::span(bytes))).value()), Flow::ok);
    ASSERT_TRUE(parse->push_event(Event::eos()));
    std::vector<Bytes8> units;
    while (auto b = parse->pull(std::chrono::milliseconds(500))) {
        units.push_back(bytes_of(*b));
    }
    ASSERT_EQ(units.size(), 12U);

    const Decoded d = decode(units);
    EXPECT_FALSE(d.error) << d.error->to_string();
    EXPECT_EQ(d.warnings, 0U);
    ASSERT_EQ(d.pictures.size(), 12U);
    Bytes8 all;
    for (const Bytes8& p : d.pictures) {
        all.insert(all.end(), p.begin(), p.end());
    }
    ASSERT_EQ(all.size(), expected.size());
    EXPECT_TRUE(all == expected) << "decoded pictures differ from ffmpeg's";
}

TEST(OpenH264Test, DecodesAnX264StreamWithBFramesInDisplayOrder) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    if (!ffmpeg_has_encoder("libx264")) {
        GTEST_SKIP() << "ffmpeg has no libx264 encoder to write a test stream";
    }
    ScratchDir dir("OpenH264Test", "x264-bframes");
    const fs::path stream = dir.path() / "main.h264";
    const fs::path reference = dir.path() / "ref.yuv";
    ASSERT_TRUE(run_program(
        {"ffmpeg",    "-v", "error",    "-y",      "-f",   "lavfi",   "-i",           "testsrc=size=176x144:rate=25",
         "-frames:v", "12", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-profile:v",   "main",
         "-bf",       "2",  "-g",       "6",       "-f",   "h264",    stream.string()}));
    ASSERT_TRUE(run_program({"ffmpeg", "-v", "error", "-y", "-i", stream.string(), "-f", "rawvideo", "-pix_fmt",
                             "yuv420p", reference.string()}));
    const auto expected = read_file<std::uint8_t>(reference);
    const auto bytes = read_file<std::uint8_t>(stream);
    auto parse = check::Harness::create("h264parse").value();
    ASSERT_TRUE(parse->start());
    ASSERT_TRUE(parse->set_input_caps(Caps::parse_static("video/x-h264, stream-format=byte-stream")));
    ASSERT_EQ(parse->push(parse->make_buffer(std::as_bytes(std::span(bytes))).value()), Flow::ok);
    ASSERT_TRUE(parse->push_event(Event::eos()));
    std::vector<Bytes8> units;
    while (auto b = parse->pull(std::chrono::milliseconds(500))) {
        units.push_back(bytes_of(*b));
    }
    ASSERT_EQ(units.size(), 12U);

    // The pictures come out in display order, with the pts of the input
    // sorted (pts are presentation times: whatever order the access units
    // bring them in, display order sorts them).
    for (const bool shuffled : {false, true}) {
        SCOPED_TRACE(shuffled ? "pts out of order" : "pts in order");
        std::vector<ClockTime> in_pts;
        for (std::size_t i = 0; i < units.size(); ++i) {
            const std::size_t k = shuffled ? (i % 3 == 1 ? i + 1 : (i % 3 == 2 ? i - 1 : i)) : i;
            in_pts.push_back(ClockTime::from_ns(k * ClockTime::ns_per_s / 30));
        }
        const Decoded d = decode(units, "", in_pts);
        EXPECT_FALSE(d.error) << d.error->to_string();
        ASSERT_EQ(d.pictures.size(), 12U);
        Bytes8 all;
        for (const Bytes8& p : d.pictures) {
            all.insert(all.end(), p.begin(), p.end());
        }
        EXPECT_TRUE(all == expected) << "decoded pictures differ from ffmpeg's";
        for (std::size_t i = 0; i < d.pts.size(); ++i) {
            EXPECT_EQ(d.pts[i], ClockTime::from_ns(i * ClockTime::ns_per_s / 30)) << "picture " << i;
        }
    }
}

TEST(OpenH264Test, DamagedDataGivesWarningsOrAnErrorNeverACrash) {
    const Encoded e = encode(96, 64, 12, "gop-size=6");
    ASSERT_EQ(e.units.size(), 12U);
    std::vector<Bytes8> damaged = e.units;
    std::uint32_t seed = 12345;
    for (std::size_t i = 1; i < damaged.size(); ++i) {
        Bytes8& u = damaged[i];
        for (std::size_t k = 8; k < u.size(); k += 5) {
            seed = seed * 1103515245U + 12345U;
            u[k] = static_cast<std::uint8_t>(seed >> 16);
        }
    }
    damaged.push_back(Bytes8{0x00, 0x00, 0x00, 0x01, 0x65, 0xff, 0xff, 0xff, 0x00, 0x00, 0x01, 0x41});
    damaged.push_back(Bytes8{0x12, 0x34, 0x56});
    const Decoded d = decode(damaged, "max-errors=-1");
    EXPECT_FALSE(d.error) << d.error->to_string();
    EXPECT_GE(d.warnings, 1U);
    EXPECT_GE(d.pictures.size(), 1U); // the intact first picture

    // With a limit, damaged units in a row end in an error naming the element.
    std::vector<Bytes8> garbage(8, Bytes8{0x00, 0x00, 0x00, 0x01, 0x65, 0x88, 0x84, 0x21, 0xa0, 0xff, 0x13});
    const Decoded g = decode(garbage, "max-errors=2");
    EXPECT_EQ(g.warnings, 2U);
    ASSERT_TRUE(g.error);
    EXPECT_NE(g.error->message().find("in a row"), std::string::npos) << g.error->message();
}

TEST(OpenH264Test, PropertiesKeepToTheirRanges) {
    EXPECT_TRUE(check::Harness::create("openh264enc bitrate=2000000 gop-size=30 rate-control=bitrate complexity=low "
                                       "usage-type=screen qp-min=10 qp-max=40 multi-thread=2 enable-frame-skip=true"));
    EXPECT_FALSE(check::Harness::create("openh264enc qp-max=52"));
    EXPECT_FALSE(check::Harness::create("openh264enc qp-min=-1"));
    EXPECT_FALSE(check::Harness::create("openh264enc bitrate=-5"));
    EXPECT_FALSE(check::Harness::create("openh264enc rate-control=fastest"));
    EXPECT_FALSE(check::Harness::create("openh264enc complexity=extreme"));
    EXPECT_FALSE(check::Harness::create("openh264enc multi-thread=65"));
    EXPECT_FALSE(check::Harness::create("openh264dec max-errors=-2"));

    // qp-min above qp-max is refused when the encoder opens.
    auto h = check::Harness::create("openh264enc qp-min=40 qp-max=20").value();
    ASSERT_TRUE(h->start());
    EXPECT_FALSE(h->set_input_caps(check::video_caps("I420", 64, 64)));
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("qp-min"), std::string::npos) << h->error()->message();
}

TEST(OpenH264Test, EveryRateControlModeEncodes) {
    for (const char* mode : {"quality", "bitrate", "buffer", "off"}) {
        SCOPED_TRACE(mode);
        const Encoded e = encode(64, 48, 3, fmt::format("rate-control={}", mode));
        EXPECT_EQ(e.units.size(), 3U);
    }
}

TEST(OpenH264LibraryTest, TheLibraryTheBuildNamedLoadsAndChecksOut) {
    auto lib = detail::load_openh264_library(PARALLAX_OPENH264_SONAME);
    ASSERT_TRUE(lib) << lib.error().to_string();
    EXPECT_NE(lib->create_encoder, nullptr);
    EXPECT_NE(lib->destroy_decoder, nullptr);
}

TEST(OpenH264LibraryTest, AMissingLibrarySaysWhichAndHowToNameAnother) {
    auto lib = detail::load_openh264_library("/nonexistent/libopenh264.so.7");
    ASSERT_FALSE(lib);
    EXPECT_EQ(lib.error().code(), make_error_code(Errc::unsupported));
    EXPECT_NE(lib.error().message().find("/nonexistent/libopenh264.so.7"), std::string::npos) << lib.error().message();
    EXPECT_NE(lib.error().message().find("PARALLAX_OPENH264_LIBRARY"), std::string::npos) << lib.error().message();
}

TEST(OpenH264LibraryTest, ALibraryWithoutTheEntryPointsIsRefused) {
    auto lib = detail::load_openh264_library("libz.so.1");
    ASSERT_FALSE(lib);
    EXPECT_NE(lib.error().message().find("no symbol WelsCreateSVCEncoder"), std::string::npos) << lib.error().message();
}

TEST(OpenH264LibraryTest, AnotherVersionIsRefusedBeforeItIsUsed) {
    auto lib = detail::load_openh264_library(FAKE_OPENH264);
    ASSERT_FALSE(lib);
    EXPECT_EQ(lib.error().code(), make_error_code(Errc::version_mismatch));
    EXPECT_NE(lib.error().message().find("is version 1.0.0; libparallax was built for"), std::string::npos)
        << lib.error().message();
}

} // namespace
} // namespace parallax::openh264_test
