// dav1ddec: AV1 streams written by ffmpeg (libaom) decode to exactly the
// pictures ffmpeg's own dav1d decoding gives, in every output format, with
// caps that follow the pictures (a change of size mid-stream included);
// broken data is an error naming the element. Skipped, saying why, without
// ffmpeg.

#include <parallax/check/harness.hpp>
#include <parallax/container/ivf.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>
#include <parallax/video/video_meta.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;
using check::read_file;
using check::run_program;
using check::ScratchDir;

struct IvfFrame {
    std::uint64_t timestamp = 0;
    std::vector<std::uint8_t> bytes;
};

struct IvfFile {
    ivf::FileHeader header;
    std::vector<IvfFrame> frames;
};

std::optional<IvfFile> read_ivf(const fs::path& path) {
    const auto bytes = read_file<std::uint8_t>(path);
    const std::span<const std::uint8_t> all(bytes);
    auto header = ivf::parse_file_header(all);
    if (!header) {
        ADD_FAILURE() << header.error().message();
        return std::nullopt;
    }
    IvfFile file{*header, {}};
    std::size_t at = ivf::file_header_size;
    while (at < all.size()) {
        auto frame = ivf::parse_frame_header(all.subspan(at), at);
        if (!frame || all.size() - at - ivf::frame_header_size < frame->size) {
            ADD_FAILURE() << "truncated IVF frame at byte " << at;
            return std::nullopt;
        }
        const auto data = all.subspan(at + ivf::frame_header_size, frame->size);
        file.frames.push_back({frame->timestamp, {data.begin(), data.end()}});
        at += ivf::frame_header_size + frame->size;
    }
    return file;
}

bool have_ffmpeg() {
    static const bool found = run_program({"ffmpeg", "-hide_banner", "-version"});
    return found;
}

// `frames` pictures of ffmpeg's testsrc2 at 25 fps, encoded by libaom into
// an IVF file.
bool encode(const fs::path& out, std::string_view size, int frames, std::string_view pix_fmt) {
    return run_program({"ffmpeg",    "-v",
                        "error",     "-y",
                        "-f",        "lavfi",
                        "-i",        fmt::format("testsrc2=size={}:rate=25", size),
                        "-frames:v", std::to_string(frames),
                        "-pix_fmt",  std::string(pix_fmt),
                        "-c:v",      "libaom-av1",
                        "-cpu-used", "8",
                        "-g",        "4",
                        "-f",        "ivf",
                        out.string()});
}

// What ffmpeg's dav1d decoding of `in` gives, as packed raw frames.
std::vector<std::uint8_t> reference_decode(const fs::path& in, std::string_view pix_fmt, const fs::path& out) {
    if (!run_program({"ffmpeg", "-v", "error", "-y", "-c:v", "libdav1d", "-i", in.string(), "-f", "rawvideo",
                      "-pix_fmt", std::string(pix_fmt), out.string()})) {
        ADD_FAILURE() << "ffmpeg could not decode " << in;
        return {};
    }
    return read_file<std::uint8_t>(out);
}

struct Decoded {
    std::vector<Caps> caps;          // every caps event, in order
    std::vector<std::uint8_t> bytes; // every output buffer, concatenated
    std::vector<ClockTime> pts;
    std::optional<Error> error;
    std::size_t with_meta = 0; // buffers that came with a VideoMeta
    std::string zero_copy;     // the element's pictures-zero-copy at the end
    std::string copied;        // its pictures-copied
};

// A buffer that carries a VideoMeta, its rows packed (no padding) as ffmpeg
// writes raw video; empty when it does not map.
std::vector<std::uint8_t> packed_rows(const Buffer& buffer, const VideoMeta& meta) {
    std::vector<std::uint8_t> out;
    auto info = VideoInfo::make(meta.format, meta.width, meta.height);
    EXPECT_TRUE(info);
    if (!info) {
        return out;
    }
    auto frame = VideoFrame::map(*info, buffer);
    EXPECT_TRUE(frame) << (frame ? "" : frame.error().message());
    if (!frame) {
        return out;
    }
    for (std::size_t plane = 0; plane < frame->n_planes(); ++plane) {
        // ffmpeg's raw frames have the rows of the picture only (no extra
        // row for an odd height).
        const std::size_t comp = plane == 0 ? 0 : plane;
        for (std::size_t y = 0; y < frame->component_height(comp); ++y) {
            const auto row = frame->row(plane, y);
            const auto* p = reinterpret_cast<const std::uint8_t*>(row.data());
            out.insert(out.end(), p, p + row.size());
        }
    }
    return out;
}

// Pushes the frames of `files`, one file after the other, through
// `dav1ddec <props>` and collects what comes out until eos. `metas`: what
// the harness says it reads (video_meta_api: pictures in dav1d's layout).
Decoded decode(const std::vector<IvfFile>& files, const std::string& props = "", std::vector<std::string> metas = {}) {
    Decoded d;
    auto h = check::Harness::create("dav1ddec " + props);
    EXPECT_TRUE(h) << (h ? "" : h.error().message());
    if (!h) {
        return d;
    }
    auto& harness = **h;
    harness.set_output_metas(std::move(metas));
    EXPECT_TRUE(harness.set_input_caps(
        Caps::parse_static("video/x-av1, stream-format=obu-stream, alignment=tu, framerate=25/1")));
    EXPECT_TRUE(harness.start());
    std::uint64_t base = 0;
    for (const IvfFile& file : files) {
        for (const IvfFrame& frame : file.frames) {
            auto b = harness.make_buffer(std::as_bytes(std::span(frame.bytes)));
            EXPECT_TRUE(b);
            b->meta().set_pts(ClockTime::from_ns((base + frame.timestamp) * ClockTime::ns_per_s / 25));
            const Flow f = harness.push(std::move(*b));
            if (f != Flow::ok) {
                d.error = harness.error();
                return d;
            }
        }
        base += file.frames.size();
    }
    EXPECT_TRUE(harness.push_event(Event::eos()));
    EXPECT_TRUE(harness.wait_eos());
    while (harness.buffers_out() > 0) {
        auto out = harness.pull();
        if (!out) {
            break;
        }
        if (const VideoMeta* meta = video_meta(out->meta())) {
            ++d.with_meta;
            const auto rows = packed_rows(*out, *meta);
            d.bytes.insert(d.bytes.end(), rows.begin(), rows.end());
        } else {
            const auto* p = reinterpret_cast<const std::uint8_t*>(out->data().data());
            d.bytes.insert(d.bytes.end(), p, p + out->size());
        }
        d.pts.push_back(out->meta().pts());
    }
    d.zero_copy = harness.element().get_property("pictures-zero-copy").value_or("?");
    d.copied = harness.element().get_property("pictures-copied").value_or("?");
    for (const Event& e : harness.take_events()) {
        if (e.type() == EventType::caps) {
            d.caps.push_back(*e.caps_value());
        }
    }
    d.error = harness.error();
    return d;
}

struct FormatCase {
    const char* pix_fmt; // ffmpeg's name
    const char* format;  // ours
};

class Dav1dDecFormatTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(Dav1dDecFormatTest, DecodesExactlyAsFfmpegDoes) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    const FormatCase c = GetParam();
    ScratchDir dir("dav1ddec", c.pix_fmt);
    const fs::path stream = dir.path() / "in.ivf";
    ASSERT_TRUE(encode(stream, "128x96", 9, c.pix_fmt)) << "ffmpeg could not encode " << c.pix_fmt;
    const auto file = read_ivf(stream);
    ASSERT_TRUE(file);
    ASSERT_EQ(file->frames.size(), 9U);

    const Decoded d = decode({*file});
    ASSERT_FALSE(d.error) << d.error->message();
    ASSERT_EQ(d.caps.size(), 1U);
    auto info = VideoInfo::from_caps(d.caps[0]);
    ASSERT_TRUE(info) << d.caps[0].to_string();
    EXPECT_EQ(to_string(info->format()), c.format);
    EXPECT_EQ(info->width(), 128U);
    EXPECT_EQ(info->height(), 96U);
    EXPECT_EQ(info->framerate(), Fraction::make(25, 1).value());
    ASSERT_EQ(d.pts.size(), 9U);
    for (std::size_t i = 0; i < d.pts.size(); ++i) {
        EXPECT_EQ(d.pts[i], ClockTime::from_ns(i * ClockTime::ns_per_s / 25)) << "frame " << i;
    }
    const auto expected = reference_decode(stream, c.pix_fmt, dir.path() / "ref.yuv");
    ASSERT_EQ(d.bytes.size(), expected.size());
    EXPECT_TRUE(d.bytes == expected) << "the pictures differ from ffmpeg's";
    EXPECT_EQ(d.with_meta, 0U);
    EXPECT_EQ(d.copied, "9");
    EXPECT_EQ(d.zero_copy, "0");

    // Downstream reads a VideoMeta: the same pictures, in dav1d's own
    // layout, none copied.
    const Decoded shared = decode({*file}, "", {std::string(video_meta_api)});
    ASSERT_FALSE(shared.error) << shared.error->message();
    EXPECT_EQ(shared.with_meta, 9U);
    EXPECT_EQ(shared.zero_copy, "9");
    EXPECT_EQ(shared.copied, "0");
    ASSERT_EQ(shared.bytes.size(), expected.size());
    EXPECT_TRUE(shared.bytes == expected) << "the pictures in dav1d's layout differ from ffmpeg's";
}

INSTANTIATE_TEST_SUITE_P(
    Dav1dDec, Dav1dDecFormatTest,
    ::testing::Values(FormatCase{"yuv420p", "I420"}, FormatCase{"yuv422p", "Y42B"}, FormatCase{"yuv444p", "Y444"},
                      FormatCase{"gray", "GRAY8"}, FormatCase{"yuv420p10le", "I420_10LE"},
                      FormatCase{"yuv422p10le", "I422_10LE"}, FormatCase{"yuv444p10le", "Y444_10LE"},
                      FormatCase{"yuv420p12le", "I420_12LE"}, FormatCase{"yuv422p12le", "I422_12LE"},
                      FormatCase{"yuv444p12le", "Y444_12LE"}),
    [](const auto& param_info) { return std::string(param_info.param.pix_fmt); });

TEST(Dav1dDecTest, ANewSizeMidStreamSendsNewCapsFirst) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    ScratchDir dir("dav1ddec", "resize");
    ASSERT_TRUE(encode(dir.path() / "a.ivf", "128x96", 5, "yuv420p"));
    ASSERT_TRUE(encode(dir.path() / "b.ivf", "96x64", 4, "yuv420p"));
    const auto a = read_ivf(dir.path() / "a.ivf");
    const auto b = read_ivf(dir.path() / "b.ivf");
    ASSERT_TRUE(a && b);

    const Decoded d = decode({*a, *b}, "n-threads=2 max-frame-delay=1");
    ASSERT_FALSE(d.error) << d.error->message();
    ASSERT_EQ(d.caps.size(), 2U);
    EXPECT_EQ(VideoInfo::from_caps(d.caps[0])->width(), 128U);
    EXPECT_EQ(VideoInfo::from_caps(d.caps[1])->width(), 96U);
    EXPECT_EQ(VideoInfo::from_caps(d.caps[1])->height(), 64U);
    ASSERT_EQ(d.pts.size(), 9U);
    auto expected = reference_decode(dir.path() / "a.ivf", "yuv420p", dir.path() / "a.yuv");
    const auto second = reference_decode(dir.path() / "b.ivf", "yuv420p", dir.path() / "b.yuv");
    expected.insert(expected.end(), second.begin(), second.end());
    EXPECT_TRUE(d.bytes == expected) << "the pictures differ from ffmpeg's";
}

// The element takes one picture per send and drains at eos: with every
// thread count and frame delay, every picture comes out once, in order,
// as ffmpeg decodes it (with frame threads dav1d holds several frames in
// flight, which all have to come out at eos).
TEST(Dav1dDecTest, EveryPictureComesOutWithAnyThreadsAndFrameDelay) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    ScratchDir dir("dav1ddec", "threads");
    const fs::path stream = dir.path() / "in.ivf";
    ASSERT_TRUE(encode(stream, "128x96", 24, "yuv420p"));
    const auto file = read_ivf(stream);
    ASSERT_TRUE(file);
    const auto expected = reference_decode(stream, "yuv420p", dir.path() / "ref.yuv");
    for (const char* threads : {"1", "2", "4"}) {
        for (const char* delay : {"-1", "1", "3"}) {
            SCOPED_TRACE(fmt::format("n-threads={} max-frame-delay={}", threads, delay));
            const Decoded d = decode({*file}, fmt::format("n-threads={} max-frame-delay={}", threads, delay));
            ASSERT_FALSE(d.error) << d.error->message();
            ASSERT_EQ(d.pts.size(), 24U);
            EXPECT_TRUE(std::is_sorted(d.pts.begin(), d.pts.end()));
            EXPECT_TRUE(d.bytes == expected) << "the pictures differ from ffmpeg's";
        }
    }
}

// dav1d pads its pictures to 128 columns and rows; an odd size shows that
// the VideoMeta's strides and offsets, not the caps', place every row.
TEST(Dav1dDecTest, OddSizedPicturesInDav1dsLayoutAreFfmpegsPictures) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    ScratchDir dir("dav1ddec", "odd");
    const fs::path stream = dir.path() / "in.ivf";
    ASSERT_TRUE(encode(stream, "127x95", 3, "yuv420p"));
    const auto file = read_ivf(stream);
    ASSERT_TRUE(file);
    const Decoded d = decode({*file}, "n-threads=2", {std::string(video_meta_api)});
    ASSERT_FALSE(d.error) << d.error->message();
    EXPECT_EQ(d.with_meta, 3U);
    const auto expected = reference_decode(stream, "yuv420p", dir.path() / "ref.yuv");
    ASSERT_EQ(d.bytes.size(), expected.size());
    EXPECT_TRUE(d.bytes == expected) << "the pictures differ from ffmpeg's";
}

// In a pipeline: the pictures go on uncopied through elements that pass
// them untouched (a videoconvert with nothing to convert included) and to
// converters (which map frames with their VideoMeta), and are copied for a
// sink that writes the bytes as they are.
TEST(Dav1dDecTest, PicturesAreCopiedOnlyWhereDownstreamReadsTheCapsLayout) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    ScratchDir dir("dav1ddec", "pipeline");
    const fs::path stream = dir.path() / "in.ivf";
    ASSERT_TRUE(encode(stream, "128x96", 6, "yuv420p"));
    const auto counts = [&](const std::string& downstream) {
        auto p = Pipeline::parse(
            fmt::format("filesrc location={} ! ivfparse ! dav1ddec name=d ! {}", stream.string(), downstream));
        EXPECT_TRUE(p) << (p ? "" : p.error().message());
        if (!p) {
            return std::string();
        }
        EXPECT_TRUE((*p)->run(std::chrono::seconds(60))) << downstream;
        Element& d = *(*p)->find("d");
        return d.get_property("pictures-zero-copy").value() + "/" + d.get_property("pictures-copied").value();
    };
    EXPECT_EQ(counts("fakesink"), "6/0");
    EXPECT_EQ(counts("queue ! fakesink"), "6/0");
    EXPECT_EQ(counts("identity ! fakesink"), "6/0");
    EXPECT_EQ(counts("videoconvert ! fakesink"), "6/0");
    EXPECT_EQ(counts("tee name=t t. ! fakesink t. ! queue ! fakesink"), "6/0");
    EXPECT_EQ(counts("queue ! identity ! videoconvert ! tee name=t t. ! fakesink t. ! queue ! fakesink"), "6/0");
    EXPECT_EQ(counts("videoconvert ! video/x-raw,format=RGBA ! fakesink"), "6/0");
    EXPECT_EQ(counts("queue ! videoconvert ! filesink location=/dev/null"), "0/6");
    EXPECT_EQ(counts("tee name=t t. ! fakesink t. ! queue ! fakesink signal-handoffs=true"), "0/6");
}

// No raw format holds 10-bit luma alone in the low bits of 16-bit words.
TEST(Dav1dDecTest, TenBitMonochromeIsAnErrorNamingWhatTheStreamIs) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed";
    }
    ScratchDir dir("dav1ddec", "gray10");
    const fs::path stream = dir.path() / "in.ivf";
    ASSERT_TRUE(encode(stream, "64x48", 2, "gray10le"));
    const auto file = read_ivf(stream);
    ASSERT_TRUE(file);
    const Decoded d = decode({*file});
    ASSERT_TRUE(d.error);
    EXPECT_NE(d.error->message().find("dav1ddec"), std::string::npos) << d.error->message();
    EXPECT_NE(d.error->message().find("4:0:0 with 10 bits per sample"), std::string::npos) << d.error->message();
    EXPECT_TRUE(d.bytes.empty());
}

TEST(Dav1dDecTest, BrokenDataIsAnErrorNamingTheElement) {
    auto h = check::Harness::create("dav1ddec");
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->set_input_caps(Caps::parse_static("video/x-av1, stream-format=obu-stream, alignment=tu")));
    ASSERT_TRUE((*h)->start());
    // The forbidden bit of an OBU header is set.
    std::vector<std::uint8_t> junk(64, 0xff);
    auto b = (*h)->make_buffer(std::as_bytes(std::span(junk)));
    ASSERT_TRUE(b);
    EXPECT_EQ((*h)->push(std::move(*b)), Flow::error);
    const auto error = (*h)->error();
    ASSERT_TRUE(error);
    EXPECT_NE(error->message().find("dav1ddec"), std::string::npos) << error->message();
    EXPECT_NE(error->message().find("could not decode"), std::string::npos) << error->message();
}

TEST(Dav1dDecTest, StatesItsOutputFromTheInputCaps) {
    auto h = check::Harness::create("dav1ddec");
    ASSERT_TRUE(h);
    Element& dec = (*h)->element();
    const Caps raw = dec.transform_caps(*dec.pad("sink"), *dec.pad("src"),
                                        Caps::parse_static("video/x-av1, stream-format=obu-stream, alignment=tu, "
                                                           "width=640, height=360, framerate=30/1, "
                                                           "bit-depth-luma=10, chroma-format=4:2:0"));
    EXPECT_EQ(raw.to_string(), "video/x-raw, format=(string)I420_10LE, width=(int)640, height=(int)360, "
                               "framerate=(fraction)30/1");
}

TEST(Dav1dDecTest, RefusesPropertyValuesOutOfRange) {
    auto h = check::Harness::create("dav1ddec");
    ASSERT_TRUE(h);
    auto bad = (*h)->element().set_property("max-frame-delay", "1000");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("max-frame-delay"), std::string::npos) << bad.error().message();
}

} // namespace
} // namespace parallax
