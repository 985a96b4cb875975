// pngdec: PNGs written by ffmpeg (RGB, palette, gray with alpha, 16-bit
// gray, Adam7 interlaced) decode to exactly the samples ffmpeg's own
// decoding gives; a whole file decodes however it is cut into buffers, and
// several images in a row decode one by one with new caps when the size
// changes; the frame rate comes from the input caps; corrupt input (cut
// short, a flipped byte in IDAT or in its CRC, garbage, a bad header) is an
// error naming the element and the image, never a crash. The ffmpeg checks
// are skipped, saying why, without ffmpeg.

#include <parallax/check/harness.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "integration/gst_compare_support.hpp"
#include "video_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace parallax::pngdec_test {
namespace {

namespace fs = std::filesystem;
using check::Harness;
using check::last_caps;
using check::read_file;
using check::run_program;
using check::ScratchDir;

bool have_ffmpeg() {
    static const bool found = run_program({"ffmpeg", "-hide_banner", "-version"});
    return found;
}

// One frame of ffmpeg's testsrc as a PNG of `pix_fmt`, Adam7-interlaced
// when asked.
std::vector<std::byte> ffmpeg_png(const fs::path& dir, std::string_view size, std::string_view pix_fmt,
                                  bool interlaced = false) {
    const fs::path file = dir / fmt::format("{}-{}{}.png", size, pix_fmt, interlaced ? "-adam7" : "");
    std::vector<std::string> argv = {"ffmpeg",    "-v",    "error",    "-y",
                                     "-f",        "lavfi", "-i",       fmt::format("testsrc=size={}", size),
                                     "-frames:v", "1",     "-pix_fmt", std::string(pix_fmt)};
    if (interlaced) {
        argv.insert(argv.end(), {"-flags", "+ildct"}); // ffmpeg's PNG encoder then writes Adam7
    }
    argv.push_back(file.string());
    if (!run_program(argv)) {
        ADD_FAILURE() << "ffmpeg could not write " << file;
        return {};
    }
    return read_file(file);
}

// What ffmpeg decodes `png` to, as packed raw samples of `pix_fmt`.
std::vector<std::byte> ffmpeg_decode(const fs::path& dir, std::span<const std::byte> png, std::string_view pix_fmt) {
    const fs::path in = dir / "in.png";
    const fs::path out = dir / "out.raw";
    check::write_file(in, png);
    if (!run_program({"ffmpeg", "-v", "error", "-y", "-i", in.string(), "-f", "rawvideo", "-pix_fmt",
                      std::string(pix_fmt), out.string()})) {
        ADD_FAILURE() << "ffmpeg could not decode " << in << " to " << pix_fmt;
        return {};
    }
    return read_file(out);
}

struct Decoded {
    std::unique_ptr<Harness> harness; // first: the frames live in its arenas
    std::vector<Buffer> frames;
    std::vector<Caps> caps; // each caps event that came out
    std::optional<Error> error;
};

// Runs `png` through pngdec, cut into buffers of `block` bytes (0: one
// buffer), then EOS.
Decoded decode(std::span<const std::byte> png, std::size_t block = 0, std::string_view caps = "image/png") {
    Decoded d;
    d.harness = Harness::create("pngdec").value();
    EXPECT_TRUE(d.harness->start());
    EXPECT_TRUE(d.harness->set_input_caps(Caps::parse(caps).value()));
    const std::size_t step = block == 0 ? std::max<std::size_t>(png.size(), 1) : block;
    for (std::size_t at = 0; at < png.size(); at += step) {
        const auto part = png.subspan(at, std::min(step, png.size() - at));
        if (d.harness->push(d.harness->make_buffer(part).value()) != Flow::ok) {
            break;
        }
    }
    d.harness->push_event(Event::eos());
    while (auto b = d.harness->pull(std::chrono::milliseconds(0))) {
        d.frames.push_back(std::move(*b));
    }
    for (const Event& e : d.harness->take_events()) {
        if (const Caps* c = e.caps_value()) {
            d.caps.push_back(*c);
        }
    }
    d.error = d.harness->error();
    return d;
}

std::vector<std::byte> packed_rows(const VideoInfo& vi, const Buffer& b) {
    const auto frame = VideoFrame::map(vi, b).value();
    std::vector<std::byte> out;
    for (std::uint32_t y = 0; y < vi.height(); ++y) {
        const auto row = frame.row(0, y);
        out.insert(out.end(), row.begin(), row.end());
    }
    return out;
}

// The one frame of `d`, packed, and its format.
std::optional<std::pair<VideoInfo, std::vector<std::byte>>> only_frame(const Decoded& d) {
    if (d.error) {
        ADD_FAILURE() << d.error->to_string();
        return std::nullopt;
    }
    if (d.frames.size() != 1 || d.caps.empty()) {
        ADD_FAILURE() << d.frames.size() << " frames, " << d.caps.size() << " caps";
        return std::nullopt;
    }
    const VideoInfo vi = VideoInfo::from_caps(d.caps.back()).value();
    return std::pair{vi, packed_rows(vi, d.frames.front())};
}

TEST(PngDecTest, FfmpegRgbImageDecodesToFfmpegsOwnSamples) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed: no PNG writer and reference decoder to compare with";
    }
    ScratchDir dir("PngDecTest", "rgb");
    const auto png = ffmpeg_png(dir.path(), "64x48", "rgb24");
    const auto want = ffmpeg_decode(dir.path(), png, "rgb24");
    ASSERT_EQ(want.size(), 64U * 48U * 3U);
    for (const std::size_t block : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{4096}}) {
        SCOPED_TRACE(fmt::format("blocks of {} bytes", block));
        const auto got = only_frame(decode(png, block));
        ASSERT_TRUE(got);
        EXPECT_EQ(got->first.format(), VideoFormat::rgb);
        EXPECT_EQ(got->first.width(), 64U);
        EXPECT_EQ(got->first.height(), 48U);
        EXPECT_EQ(got->first.framerate(), Fraction::make(0, 1).value());
        EXPECT_EQ(got->second, want);
    }
}

TEST(PngDecTest, PaletteGrayAlphaSixteenBitAndInterlacedImagesDecodeAsFfmpegDoes) {
    if (!have_ffmpeg()) {
        GTEST_SKIP() << "ffmpeg is not installed: no PNG writer and reference decoder to compare with";
    }
    ScratchDir dir("PngDecTest", "formats");
    {
        SCOPED_TRACE("pal8");
        const auto png = ffmpeg_png(dir.path(), "40x30", "pal8");
        const auto got = only_frame(decode(png));
        ASSERT_TRUE(got);
        ASSERT_TRUE(got->first.format() == VideoFormat::rgb || got->first.format() == VideoFormat::rgba);
        const char* pix_fmt = got->first.format() == VideoFormat::rgb ? "rgb24" : "rgba";
        EXPECT_EQ(got->second, ffmpeg_decode(dir.path(), png, pix_fmt));
    }
    {
        SCOPED_TRACE("ya8");
        const auto png = ffmpeg_png(dir.path(), "40x30", "ya8");
        const auto got = only_frame(decode(png));
        ASSERT_TRUE(got);
        ASSERT_EQ(got->first.format(), VideoFormat::rgba);
        // ffmpeg's own samples, gray copied to R, G and B.
        const auto ya = ffmpeg_decode(dir.path(), png, "ya8");
        ASSERT_EQ(ya.size(), 40U * 30U * 2U);
        std::vector<std::byte> want;
        for (std::size_t i = 0; i < ya.size(); i += 2) {
            want.insert(want.end(), {ya[i], ya[i], ya[i], ya[i + 1]});
        }
        EXPECT_EQ(got->second, want);
    }
    {
        SCOPED_TRACE("gray16be");
        const auto png = ffmpeg_png(dir.path(), "40x30", "gray16be");
        const auto got = only_frame(decode(png));
        ASSERT_TRUE(got);
        ASSERT_EQ(got->first.format(), VideoFormat::gray16_le);
        EXPECT_EQ(got->second, ffmpeg_decode(dir.path(), png, "gray16le"));
    }
    {
        SCOPED_TRACE("rgb24, Adam7 interlaced");
        const auto png = ffmpeg_png(dir.path(), "41x29", "rgb24", true);
        ASSERT_GT(png.size(), 28U);
        EXPECT_EQ(std::to_integer<int>(png[28]), 1) << "ffmpeg did not interlace the image";
        const auto got = only_frame(decode(png, 33));
        ASSERT_TRUE(got);
        ASSERT_EQ(got->first.format(), VideoFormat::rgb);
        EXPECT_EQ(got->second, ffmpeg_decode(dir.path(), png, "rgb24"));
    }
    {
        SCOPED_TRACE("gray");
        const auto png = ffmpeg_png(dir.path(), "40x30", "gray");
        const auto got = only_frame(decode(png));
        ASSERT_TRUE(got);
        ASSERT_EQ(got->first.format(), VideoFormat::gray8);
        EXPECT_EQ(got->second, ffmpeg_decode(dir.path(), png, "gray"));
    }
}

// A small image of each size, made by pngenc.
std::vector<std::byte> make_png(std::uint32_t w, std::uint32_t h, std::uint8_t fill) {
    auto enc = Harness::create("pngenc").value();
    const VideoInfo vi = check::info_of(VideoFormat::gray8, w, h);
    EXPECT_TRUE(enc->start());
    EXPECT_TRUE(enc->set_input_caps(vi.to_caps()));
    EXPECT_EQ(enc->push(enc->make_buffer(vi.size(), fill).value()), Flow::ok);
    auto out = enc->pull();
    EXPECT_TRUE(out);
    const auto bytes = out->data();
    return {bytes.begin(), bytes.end()};
}

TEST(PngDecTest, ImagesInARowDecodeOneByOneWithNewCapsWhenTheSizeChanges) {
    std::vector<std::byte> stream;
    for (const auto& png : {make_png(8, 8, 1), make_png(8, 8, 2), make_png(16, 4, 3)}) {
        stream.insert(stream.end(), png.begin(), png.end());
    }
    for (const std::size_t block : {std::size_t{0}, std::size_t{7}, std::size_t{50}}) {
        SCOPED_TRACE(fmt::format("blocks of {} bytes", block));
        const Decoded d = decode(stream, block, "image/png, framerate=5/1");
        ASSERT_FALSE(d.error) << d.error->to_string();
        ASSERT_EQ(d.frames.size(), 3U);
        ASSERT_EQ(d.caps.size(), 2U);
        const VideoInfo first = VideoInfo::from_caps(d.caps[0]).value();
        const VideoInfo second = VideoInfo::from_caps(d.caps[1]).value();
        EXPECT_EQ(first.width(), 8U);
        EXPECT_EQ(second.width(), 16U);
        EXPECT_EQ(second.height(), 4U);
        EXPECT_EQ(first.framerate(), Fraction::make(5, 1).value());
        EXPECT_EQ(std::to_integer<int>(packed_rows(first, d.frames[0]).front()), 1);
        EXPECT_EQ(std::to_integer<int>(packed_rows(first, d.frames[1]).front()), 2);
        EXPECT_EQ(std::to_integer<int>(packed_rows(second, d.frames[2]).back()), 3);
    }
}

// The error of `d`, checked to name the element and image `image`.
std::string error_text(const Decoded& d, int image) {
    if (!d.error) {
        ADD_FAILURE() << "no error";
        return {};
    }
    const std::string text = d.error->to_string();
    EXPECT_NE(text.find("pngdec"), std::string::npos) << text;
    EXPECT_NE(text.find(fmt::format("image {}", image)), std::string::npos) << text;
    return text;
}

// Where the first IDAT chunk's data starts in `png`.
std::size_t idat_data(const std::vector<std::byte>& png) {
    for (std::size_t i = 8; i + 8 <= png.size(); ++i) {
        if (std::memcmp(png.data() + i, "IDAT", 4) == 0) {
            return i + 4;
        }
    }
    return 0;
}

TEST(PngDecTest, CorruptInputIsAnErrorNamingTheImageNeverACrash) {
    const auto good = make_png(32, 32, 7);
    {
        SCOPED_TRACE("truncated");
        const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
        const Decoded d = decode(cut);
        EXPECT_TRUE(d.frames.empty());
        EXPECT_NE(error_text(d, 0).find("truncated"), std::string::npos);
    }
    {
        SCOPED_TRACE("truncated after a good image");
        std::vector<std::byte> two = good;
        two.insert(two.end(), good.begin(), good.end() - 5);
        const Decoded d = decode(two, 64);
        EXPECT_EQ(d.frames.size(), 1U);
        EXPECT_NE(error_text(d, 1).find("truncated"), std::string::npos);
    }
    {
        SCOPED_TRACE("flipped byte in IDAT");
        // The chunk's CRC no longer matches; zlib may notice the damage
        // first, and either way libpng says what it found.
        std::vector<std::byte> bad = good;
        const std::size_t at = idat_data(bad);
        ASSERT_NE(at, 0U);
        bad[at + 2] ^= std::byte{0x40};
        const Decoded d = decode(bad);
        EXPECT_TRUE(d.frames.empty());
        const std::string text = error_text(d, 0);
        EXPECT_NE(text.find("libpng: IDAT"), std::string::npos) << text;
    }
    {
        SCOPED_TRACE("flipped byte in the CRC of IDAT");
        std::vector<std::byte> bad = good;
        const std::size_t at = idat_data(bad);
        ASSERT_NE(at, 0U);
        const std::uint32_t length =
            (std::to_integer<std::uint32_t>(bad[at - 8]) << 24) | (std::to_integer<std::uint32_t>(bad[at - 7]) << 16) |
            (std::to_integer<std::uint32_t>(bad[at - 6]) << 8) | std::to_integer<std::uint32_t>(bad[at - 5]);
        bad[at + length + 1] ^= std::byte{0x01};
        const Decoded d = decode(bad);
        EXPECT_TRUE(d.frames.empty());
        const std::string text = error_text(d, 0);
        EXPECT_NE(text.find("CRC error"), std::string::npos) << text;
    }
    {
        SCOPED_TRACE("garbage");
        std::vector<std::byte> garbage(1000);
        for (std::size_t i = 0; i < garbage.size(); ++i) {
            garbage[i] = static_cast<std::byte>(i * 37 + 11);
        }
        const Decoded d = decode(garbage);
        EXPECT_TRUE(d.frames.empty());
        EXPECT_NE(error_text(d, 0).find("signature"), std::string::npos);
    }
    {
        SCOPED_TRACE("bad IHDR (zero width) with a valid CRC");
        std::vector<std::byte> bad = good;
        // Width 0, then the IHDR's CRC recomputed, so that libpng itself
        // must reject the value.
        std::memset(bad.data() + 16, 0, 4);
        std::uint32_t crc = 0xffffffffU;
        for (std::size_t i = 12; i < 12 + 4 + 13; ++i) {
            crc ^= std::to_integer<std::uint32_t>(bad[i]);
            for (int k = 0; k < 8; ++k) {
                crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
            }
        }
        crc ^= 0xffffffffU;
        for (int k = 0; k < 4; ++k) {
            bad[29 + static_cast<std::size_t>(k)] = static_cast<std::byte>(crc >> (24 - 8 * k));
        }
        const Decoded d = decode(bad);
        EXPECT_TRUE(d.frames.empty());
        EXPECT_NE(error_text(d, 0).find("libpng"), std::string::npos);
    }
    {
        SCOPED_TRACE("a chunk that announces 2 GiB");
        // Signature and IHDR kept, then a chunk header whose length would
        // have the element wait for (and hold) 2 GiB of input.
        std::vector<std::byte> huge(good.begin(), good.begin() + 33);
        for (const int b : {0x7f, 0xff, 0xff, 0x00, int{'I'}, int{'D'}, int{'A'}, int{'T'}}) {
            huge.push_back(static_cast<std::byte>(b));
        }
        const Decoded d = decode(huge, 7);
        EXPECT_TRUE(d.frames.empty());
        EXPECT_NE(error_text(d, 0).find("larger than 256 MiB"), std::string::npos) << error_text(d, 0);
    }
}

TEST(PngDecTest, StopDropsAPartialImage) {
    auto dec = Harness::create("pngdec").value();
    ASSERT_TRUE(dec->start());
    ASSERT_TRUE(dec->set_input_caps(Caps::parse("image/png").value()));
    const auto good = make_png(4, 4, 9);
    const std::vector<std::byte> half(good.begin(), good.begin() + 20);
    EXPECT_EQ(dec->push(dec->make_buffer(half).value()), Flow::ok);
    ASSERT_TRUE(dec->stop());
    ASSERT_TRUE(dec->start());
    EXPECT_EQ(dec->push(dec->make_buffer(good).value()), Flow::ok);
    EXPECT_TRUE(dec->pull());
}

} // namespace
} // namespace parallax::pngdec_test
