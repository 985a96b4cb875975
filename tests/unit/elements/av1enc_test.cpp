// av1enc: every rate-control mode and usage profile encodes, the output caps
// carry the sequence header, key frames and timestamps are right, EOS
// drains, bad settings and formats are refused, a size change mid-stream
// restarts the encoder, and dav1d decodes the output close to the input.

#include <parallax/caps/value.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "unit/elements/video_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t frame_ns = 33'333'333;

// A smooth picture: diagonal luma gradient, chroma gradients, and a bright
// box that moves a little each frame.
void paint(const WritableVideoFrame& f, unsigned index) {
    const bool wide = f.info().format_info().bits == 16;
    const unsigned max = wide ? 1023 : 255;
    const std::uint32_t w = f.width();
    const std::uint32_t h = f.height();
    for (std::size_t c = 0; c < 3; ++c) {
        const std::uint32_t cw = f.component_width(c);
        const std::uint32_t ch = f.component_height(c);
        for (std::uint32_t y = 0; y < ch; ++y) {
            auto row = f.component_row(c, y);
            for (std::uint32_t x = 0; x < cw; ++x) {
                unsigned v = 0;
                if (c == 0) {
                    v = 40 + (x * 120 / cw) + (y * 60 / ch);
                    const std::uint32_t bx = (w / 4 + index * 2) * cw / w;
                    const std::uint32_t by = (h / 4) * ch / h;
                    if (x >= bx && x < bx + cw / 4 && y >= by && y < by + ch / 3) {
                        v = 220;
                    }
                } else if (c == 1) {
                    v = 96 + x * 64 / cw;
                } else {
                    v = 160 - y * 64 / ch;
                }
                if (wide) {
                    v = v * 4;
                    v = std::min(v, max);
                    row[x * 2] = std::byte(v & 0xff);
                    row[x * 2 + 1] = std::byte(v >> 8);
                } else {
                    row[x * f.component_pixel_stride(c)] = std::byte(v);
                }
            }
        }
    }
}

Buffer make_frame(check::Harness& h, const VideoInfo& info, unsigned index) {
    Buffer b = h.make_buffer(info.size()).value();
    auto f = WritableVideoFrame::map(info, b).value();
    paint(f, index);
    b.meta().set_pts(ClockTime::from_ns(1'000'000'000 + index * frame_ns));
    b.meta().set_duration(ClockTime::from_ns(frame_ns));
    return b;
}

struct Encoded {
    std::unique_ptr<check::Harness> harness; // first: the buffers live in its arenas
    std::vector<Buffer> buffers;
    std::vector<Caps> caps; // every caps event that came out, in order
    std::vector<Buffer> inputs;
};

// Pushes `frames` pattern frames through `description`, then EOS.
std::optional<Encoded> encode(std::string_view description, const VideoInfo& info, unsigned frames) {
    Encoded e;
    auto h = check::Harness::create(description);
    EXPECT_TRUE(h) << description << ": " << (h ? "" : h.error().to_string());
    if (!h) {
        return std::nullopt;
    }
    e.harness = std::move(*h);
    EXPECT_TRUE(e.harness->start());
    auto caps_ok = e.harness->set_input_caps(info.to_caps());
    EXPECT_TRUE(caps_ok) << description << ": " << (caps_ok ? "" : caps_ok.error().to_string());
    if (!caps_ok) {
        return std::nullopt;
    }
    for (unsigned i = 0; i < frames; ++i) {
        Buffer b = make_frame(*e.harness, info, i);
        e.inputs.push_back(b);
        const Flow f = e.harness->push(std::move(b));
        EXPECT_EQ(f, Flow::ok) << description << ": frame " << i;
        if (f != Flow::ok) {
            return std::nullopt;
        }
    }
    EXPECT_TRUE(e.harness->push_event(Event::eos()));
    EXPECT_TRUE(e.harness->wait_eos()) << description;
    while (auto b = e.harness->pull(10ms)) {
        e.buffers.push_back(std::move(*b));
    }
    for (const Event& ev : e.harness->take_events()) {
        if (const Caps* c = ev.caps_value()) {
            e.caps.push_back(*c);
        }
    }
    EXPECT_FALSE(e.harness->error()) << description << ": " << e.harness->error()->to_string();
    return e;
}

// A fixed raw format at `fps` frames per second.
VideoInfo video_info(VideoFormat format, std::uint32_t w, std::uint32_t h, int fps = 30) {
    const std::string text = fmt::format("video/x-raw, format={}, width={}, height={}, framerate={}/1",
                                         video_format_info(format).name, w, h, fps);
    return VideoInfo::from_caps(Caps::parse(text).value()).value();
}

bool is_key(const Buffer& b) {
    return !b.meta().has_flag(BufferFlags::delta);
}

TEST(Av1EncTest, IsRegisteredWithGStreamersProperties) {
    auto h = check::Harness::create("av1enc");
    ASSERT_TRUE(h);
    Element& e = (*h)->element();
    for (const char* name : {"cpu-used",       "target-bitrate",    "end-usage",      "cq-level",      "min-quantizer",
                             "max-quantizer",  "keyframe-max-dist", "keyframe-mode",  "usage-profile", "threads",
                             "row-mt",         "tile-columns",      "tile-rows",      "lag-in-frames", "buf-sz",
                             "buf-initial-sz", "buf-optimal-sz",    "undershoot-pct", "overshoot-pct", "drop-frame"}) {
        EXPECT_NE(e.property(name), nullptr) << name;
    }
    // Defaults that run in real time and work in every mode.
    EXPECT_EQ(e.get_property("usage-profile").value(), "realtime");
    EXPECT_EQ(e.get_property("max-quantizer").value(), "63");
    EXPECT_EQ(e.get_property("lag-in-frames").value(), "0");
    EXPECT_EQ(e.get_property("row-mt").value(), "true");
    EXPECT_EQ(e.get_property("threads").value(), "0");
    // GStreamer's enum numbers are accepted.
    ASSERT_TRUE(e.set_property("end-usage", "2"));
    EXPECT_EQ(e.get_property("end-usage").value(), "cq");
    ASSERT_TRUE(e.set_property("usage-profile", "2"));
    EXPECT_EQ(e.get_property("usage-profile").value(), "all-intra");
}

struct ModeCase {
    const char* end_usage;
    const char* usage;
};

class Av1EncModeTest : public ::testing::TestWithParam<ModeCase> {};

// Ten frames in, ten temporal units out, key frame first, then delta units
// (except all-intra, where every frame is a key frame), timestamps kept.
TEST_P(Av1EncModeTest, EncodesTenFrames) {
    const ModeCase mc = GetParam();
    const VideoInfo info = video_info(VideoFormat::i420, 128, 96, 30);
    const std::string desc = fmt::format("av1enc end-usage={} usage-profile={} cpu-used={}", mc.end_usage, mc.usage,
                                         std::string_view(mc.usage) == "realtime" ? 8 : 6);
    auto e = encode(desc, info, 10);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->buffers.size(), 10U) << desc;
    const bool intra = std::string_view(mc.usage) == "all-intra";
    for (std::size_t i = 0; i < e->buffers.size(); ++i) {
        const Buffer& b = e->buffers[i];
        EXPECT_GT(b.size(), 0U);
        EXPECT_EQ(b.meta().pts(), e->inputs[i].meta().pts()) << desc << ": buffer " << i;
        EXPECT_EQ(b.meta().duration().ns(), frame_ns) << desc << ": buffer " << i;
        EXPECT_EQ(is_key(b), i == 0 || intra) << desc << ": buffer " << i;
    }
    ASSERT_FALSE(e->caps.empty());
    EXPECT_EQ(e->caps.front().structure(0).name(), "video/x-av1");
}

INSTANTIATE_TEST_SUITE_P(EveryMode, Av1EncModeTest,
                         ::testing::Values(ModeCase{"vbr", "realtime"}, ModeCase{"cbr", "realtime"},
                                           ModeCase{"cq", "realtime"}, ModeCase{"q", "realtime"},
                                           ModeCase{"vbr", "good-quality"}, ModeCase{"cbr", "good-quality"},
                                           ModeCase{"cq", "good-quality"}, ModeCase{"q", "good-quality"},
                                           ModeCase{"vbr", "all-intra"}, ModeCase{"cbr", "all-intra"},
                                           ModeCase{"cq", "all-intra"}, ModeCase{"q", "all-intra"}),
                         [](const ::testing::TestParamInfo<ModeCase>& p) {
                             std::string name = fmt::format("{}_{}", p.param.end_usage, p.param.usage);
                             for (char& ch : name) {
                                 if (ch == '-') {
                                     ch = '_';
                                 }
                             }
                             return name;
                         });

// The caps come out before the first buffer and describe the stream, with
// the sequence header of the first temporal unit in codec_data.
TEST(Av1EncTest, OutputCapsCarryTheSequenceHeader) {
    const VideoInfo info = video_info(VideoFormat::i420, 128, 96, 25);
    auto e = encode("av1enc", info, 3);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->caps.size(), 1U);
    const Structure& s = e->caps[0].structure(0);
    EXPECT_EQ(s.name(), "video/x-av1");
    EXPECT_EQ(s.get_string("stream-format"), "obu-stream");
    EXPECT_EQ(s.get_string("alignment"), "tu");
    EXPECT_EQ(s.get_string("profile"), "main");
    EXPECT_EQ(s.get_int("width"), 128);
    EXPECT_EQ(s.get_int("height"), 96);
    EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(25, 1).value());
    const CapsValue* cd = s.get("codec_data");
    ASSERT_NE(cd, nullptr);
    const Bytes* av1c = cd->get_if<Bytes>();
    ASSERT_NE(av1c, nullptr);
    auto seq = av1::parse_av1c(av1c->data);
    ASSERT_TRUE(seq) << seq.error().to_string();
    EXPECT_EQ(seq->max_width, 128U);
    EXPECT_EQ(seq->max_height, 96U);
    EXPECT_EQ(seq->profile, 0);
    EXPECT_EQ(seq->bit_depth, 8);

    // The first temporal unit is a random access point holding that header.
    ASSERT_FALSE(e->buffers.empty());
    const auto* first = reinterpret_cast<const std::uint8_t*>(e->buffers[0].data().data());
    const std::span<const std::uint8_t> tu(first, e->buffers[0].size());
    auto key = av1::is_key_temporal_unit(tu, *seq);
    ASSERT_TRUE(key) << key.error().to_string();
    EXPECT_TRUE(*key);
}

// The chroma format picks the AV1 profile; 10-bit input makes a 10-bit stream.
TEST(Av1EncTest, ProfileFollowsTheInputFormat) {
    struct Case {
        VideoFormat format;
        const char* profile;
        unsigned bit_depth;
    };
    for (const Case c : {Case{VideoFormat::yv12, "main", 8}, Case{VideoFormat::y444, "high", 8},
                         Case{VideoFormat::y42b, "professional", 8}, Case{VideoFormat::i420_10le, "main", 10}}) {
        const VideoInfo info = video_info(c.format, 64, 48, 30);
        auto e = encode("av1enc", info, 4);
        ASSERT_TRUE(e) << info.to_string();
        EXPECT_EQ(e->buffers.size(), 4U) << info.to_string();
        ASSERT_FALSE(e->caps.empty()) << info.to_string();
        const Structure& s = e->caps[0].structure(0);
        EXPECT_EQ(s.get_string("profile"), c.profile) << info.to_string();
        EXPECT_EQ(s.get_int("bit-depth-luma"), static_cast<int>(c.bit_depth)) << info.to_string();
    }
}

TEST(Av1EncTest, KeyframeMaxDistIsRespected) {
    const VideoInfo info = video_info(VideoFormat::i420, 64, 48, 30);
    auto e = encode("av1enc keyframe-max-dist=4", info, 12);
    ASSERT_TRUE(e);
    ASSERT_EQ(e->buffers.size(), 12U);
    EXPECT_TRUE(is_key(e->buffers[0]));
    std::size_t last_key = 0;
    std::size_t keys = 0;
    for (std::size_t i = 0; i < e->buffers.size(); ++i) {
        if (is_key(e->buffers[i])) {
            EXPECT_LE(i - last_key, 4U) << "buffer " << i;
            last_key = i;
            ++keys;
        }
    }
    EXPECT_LE(e->buffers.size() - 1 - last_key, 3U) << "no key frame for more than 4 frames at the end";
    EXPECT_GE(keys, 3U);

    auto none = encode("av1enc keyframe-mode=disabled", info, 12);
    ASSERT_TRUE(none);
    ASSERT_EQ(none->buffers.size(), 12U);
    for (std::size_t i = 1; i < none->buffers.size(); ++i) {
        EXPECT_FALSE(is_key(none->buffers[i])) << "buffer " << i;
    }
}

// With lag the encoder holds frames back; EOS gets every one of them out,
// in order, before the EOS itself.
TEST(Av1EncTest, EosDrainsFramesHeldByLag) {
    const VideoInfo info = video_info(VideoFormat::i420, 64, 48, 30);
    auto h = check::Harness::create("av1enc usage-profile=good-quality cpu-used=6 lag-in-frames=8").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(info.to_caps()));
    std::vector<ClockTime> pts;
    for (unsigned i = 0; i < 10; ++i) {
        Buffer b = make_frame(*h, info, i);
        pts.push_back(b.meta().pts());
        ASSERT_EQ(h->push(std::move(b)), Flow::ok);
    }
    EXPECT_LT(h->buffers_out(), 10U) << "lag-in-frames=8 holds frames back";
    EXPECT_FALSE(h->eos());
    ASSERT_TRUE(h->push_event(Event::eos()));
    ASSERT_TRUE(h->wait_eos());
    std::vector<Buffer> out;
    while (auto b = h->pull(10ms)) {
        out.push_back(std::move(*b));
    }
    ASSERT_EQ(out.size(), 10U);
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].meta().pts(), pts[i]) << "buffer " << i;
    }
    EXPECT_FALSE(h->error());
}

// A flush drops what the encoder holds; the stream then restarts with a key
// frame and every later frame comes out.
TEST(Av1EncTest, FlushDropsHeldFramesAndRestartsWithAKeyFrame) {
    const VideoInfo info = video_info(VideoFormat::i420, 64, 48, 30);
    auto h = check::Harness::create("av1enc usage-profile=good-quality cpu-used=6 lag-in-frames=8").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(info.to_caps()));
    for (unsigned i = 0; i < 3; ++i) {
        ASSERT_EQ(h->push(make_frame(*h, info, i)), Flow::ok);
    }
    EXPECT_EQ(h->buffers_out(), 0U) << "lag-in-frames=8 holds the first frames";
    ASSERT_TRUE(h->push_event(Event::flush_start()));
    ASSERT_TRUE(h->push_event(Event::flush_stop()));
    std::vector<ClockTime> pts;
    for (unsigned i = 10; i < 14; ++i) {
        Buffer b = make_frame(*h, info, i);
        pts.push_back(b.meta().pts());
        ASSERT_EQ(h->push(std::move(b)), Flow::ok);
    }
    ASSERT_TRUE(h->push_event(Event::eos()));
    ASSERT_TRUE(h->wait_eos());
    std::vector<Buffer> out;
    while (auto b = h->pull(10ms)) {
        out.push_back(std::move(*b));
    }
    ASSERT_EQ(out.size(), 4U);
    EXPECT_TRUE(is_key(out[0]));
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].meta().pts(), pts[i]) << "buffer " << i;
    }
    EXPECT_FALSE(h->error());
}

TEST(Av1EncTest, BadPropertyValuesNameTheProperty) {
    auto h = check::Harness::create("av1enc").value();
    Element& e = h->element();
    auto bad_enum = e.set_property("end-usage", "sideways");
    ASSERT_FALSE(bad_enum);
    EXPECT_NE(bad_enum.error().message().find("end-usage"), std::string::npos) << bad_enum.error().message();
    auto too_fast = e.set_property("cpu-used", "11");
    ASSERT_FALSE(too_fast);
    EXPECT_NE(too_fast.error().message().find("cpu-used"), std::string::npos) << too_fast.error().message();
    auto bad_q = e.set_property("max-quantizer", "64");
    ASSERT_FALSE(bad_q);
    EXPECT_NE(bad_q.error().message().find("max-quantizer"), std::string::npos) << bad_q.error().message();
    EXPECT_FALSE(check::Harness::create("av1enc tile-columns=7"));
}

// Settings that are each valid but do not go together are refused when the
// encoder opens, naming the property.
TEST(Av1EncTest, ConflictingSettingsAreAnErrorNamingTheProperty) {
    const VideoInfo info = video_info(VideoFormat::i420, 64, 48, 30);
    struct Case {
        const char* description;
        const char* property;
    };
    for (const Case c : {Case{"av1enc usage-profile=good-quality cpu-used=10", "cpu-used"},
                         Case{"av1enc min-quantizer=40 max-quantizer=20", "min-quantizer"},
                         Case{"av1enc end-usage=q cq-level=50 max-quantizer=40", "cq-level"}}) {
        auto h = check::Harness::create(c.description).value();
        ASSERT_TRUE(h->start());
        EXPECT_FALSE(h->set_input_caps(info.to_caps())) << c.description;
        const auto err = h->error();
        ASSERT_TRUE(err) << c.description;
        EXPECT_NE(err->message().find(c.property), std::string::npos) << err->message();
        EXPECT_NE(err->message().find("av1enc"), std::string::npos) << err->message();
    }
}

TEST(Av1EncTest, RefusesFormatsItCannotEncode) {
    for (const char* format : {"GRAY8", "RGB", "NV12", "YUY2"}) {
        auto h = check::Harness::create("av1enc").value();
        ASSERT_TRUE(h->start());
        EXPECT_FALSE(h->set_input_caps(check::video_caps(format, 64, 48))) << format;
    }
    auto h = check::Harness::create("av1enc").value();
    ASSERT_TRUE(h->start());
    EXPECT_FALSE(h->set_input_caps(check::video_caps("I420", 2, 2))) << "below libaom's smallest frame";
}

// New caps with another size: the old encoder is drained under the old caps,
// then new caps and a key frame follow.
TEST(Av1EncTest, SizeChangeRestartsTheEncoder) {
    const VideoInfo a = video_info(VideoFormat::i420, 128, 96, 30);
    const VideoInfo b = video_info(VideoFormat::i420, 64, 48, 30);
    auto h = check::Harness::create("av1enc usage-profile=good-quality cpu-used=6 lag-in-frames=4").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(a.to_caps()));
    for (unsigned i = 0; i < 5; ++i) {
        ASSERT_EQ(h->push(make_frame(*h, a, i)), Flow::ok);
    }
    ASSERT_TRUE(h->set_input_caps(b.to_caps()));
    EXPECT_EQ(h->buffers_out(), 5U) << "the old size is drained before the new caps";
    for (unsigned i = 5; i < 10; ++i) {
        ASSERT_EQ(h->push(make_frame(*h, b, i)), Flow::ok);
    }
    ASSERT_TRUE(h->push_event(Event::eos()));
    ASSERT_TRUE(h->wait_eos());
    std::vector<Buffer> out;
    while (auto buf = h->pull(10ms)) {
        out.push_back(std::move(*buf));
    }
    ASSERT_EQ(out.size(), 10U);
    EXPECT_TRUE(is_key(out[0]));
    EXPECT_TRUE(is_key(out[5])) << "the new encoder starts with a key frame";
    std::vector<int> widths;
    for (const Event& ev : h->take_events()) {
        if (const Caps* c = ev.caps_value(); c != nullptr && c->structure(0).name() == "video/x-av1") {
            widths.push_back(c->structure(0).get_int("width").value_or(0));
        }
    }
    EXPECT_EQ(widths, (std::vector<int>{128, 64}));
    EXPECT_FALSE(h->error());
}

// --- Decoding with the dav1d command-line tool ---

void put_le(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

// An IVF file: 32-byte header, then per frame a 12-byte header and the data.
std::vector<std::uint8_t> make_ivf(const std::vector<Buffer>& tus, std::uint32_t w, std::uint32_t h) {
    std::vector<std::uint8_t> out{'D', 'K', 'I', 'F'};
    put_le(out, 0, 2);  // version
    put_le(out, 32, 2); // header size
    out.insert(out.end(), {'A', 'V', '0', '1'});
    put_le(out, w, 2);
    put_le(out, h, 2);
    put_le(out, 30, 4); // time base denominator
    put_le(out, 1, 4);  // numerator
    put_le(out, tus.size(), 4);
    put_le(out, 0, 4);
    for (std::size_t i = 0; i < tus.size(); ++i) {
        put_le(out, tus[i].size(), 4);
        put_le(out, i, 8);
        const auto* p = reinterpret_cast<const std::uint8_t*>(tus[i].data().data());
        out.insert(out.end(), p, p + tus[i].size());
    }
    return out;
}

bool have_dav1d() {
    return std::system("dav1d --version > /dev/null 2>&1") == 0;
}

// PSNR over every sample of every plane, input frames against dav1d's
// planar output (8 bits, or 16-bit words for deeper streams).
double psnr(const VideoInfo& info, const std::vector<Buffer>& inputs, const std::vector<std::uint8_t>& decoded) {
    const bool wide = info.format_info().bits == 16;
    const double peak = wide ? 1023.0 : 255.0;
    const std::size_t bps = wide ? 2 : 1;
    double sq = 0;
    std::size_t n = 0;
    std::size_t at = 0;
    for (const Buffer& in : inputs) {
        const auto f = VideoFrame::map(info, in).value();
        for (std::size_t c = 0; c < 3; ++c) {
            for (std::uint32_t y = 0; y < f.component_height(c); ++y) {
                const auto row = f.component_row(c, y);
                for (std::uint32_t x = 0; x < f.component_width(c); ++x) {
                    if (at + bps > decoded.size()) {
                        return 0;
                    }
                    double a = 0;
                    double b = 0;
                    if (wide) {
                        a = std::to_integer<unsigned>(row[x * 2]) | (std::to_integer<unsigned>(row[x * 2 + 1]) << 8);
                        b = decoded[at] | (decoded[at + 1] << 8);
                    } else {
                        a = std::to_integer<unsigned>(row[x * f.component_pixel_stride(c)]);
                        b = decoded[at];
                    }
                    at += bps;
                    sq += (a - b) * (a - b);
                    ++n;
                }
            }
        }
    }
    if (at != decoded.size()) {
        ADD_FAILURE() << "dav1d wrote " << decoded.size() << " bytes, expected " << at;
    }
    const double mse = sq / static_cast<double>(n);
    return mse == 0 ? 99.0 : 10.0 * std::log10(peak * peak / mse);
}

std::optional<double> decode_psnr(const VideoInfo& info, const Encoded& e) {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("av1enc_test_{}", ::getpid());
    std::filesystem::create_directories(dir);
    const auto ivf = dir / "in.ivf";
    const auto yuv = dir / "out.yuv";
    {
        const auto bytes = make_ivf(e.buffers, info.width(), info.height());
        std::ofstream f(ivf, std::ios::binary);
        f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    const std::string cmd =
        fmt::format("dav1d -q -i '{}' -o '{}' --muxer yuv > /dev/null 2>&1", ivf.string(), yuv.string());
    const int rc = std::system(cmd.c_str());
    EXPECT_EQ(rc, 0) << cmd;
    std::optional<double> result;
    if (rc == 0) {
        std::ifstream f(yuv, std::ios::binary);
        const std::vector<std::uint8_t> decoded{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
        result = psnr(info, e.inputs, decoded);
    }
    std::filesystem::remove_all(dir);
    return result;
}

TEST(Av1EncTest, Dav1dDecodesTheDefaultOutputFaithfully) {
    if (!have_dav1d()) {
        GTEST_SKIP() << "the dav1d command-line tool is not installed";
    }
    for (const VideoFormat format : {VideoFormat::i420, VideoFormat::y444, VideoFormat::i420_10le}) {
        const VideoInfo info = video_info(format, 128, 96, 30);
        auto e = encode("av1enc", info, 10);
        ASSERT_TRUE(e);
        ASSERT_EQ(e->buffers.size(), 10U);
        const auto db = decode_psnr(info, *e);
        ASSERT_TRUE(db) << info.to_string();
        EXPECT_GE(*db, 30.0) << info.to_string();
        RecordProperty(fmt::format("psnr_{}", info.format_info().name), fmt::format("{:.2f}", *db));
    }
}

} // namespace
} // namespace parallax
