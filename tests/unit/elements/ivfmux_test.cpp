// ivfmux: the file header from the caps, frame headers with timestamps in
// the timebase, the default timebase, a round trip through ivfparse, and
// frames without caps.

#include <parallax/caps/caps.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/container/ivf.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace parallax {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

Bytes8 bytes_of(const Buffer& b) {
    const auto d = b.data();
    Bytes8 out(d.size());
    std::transform(d.begin(), d.end(), out.begin(), [](std::byte x) { return std::to_integer<std::uint8_t>(x); });
    return out;
}

Buffer frame(check::Harness& h, const Bytes8& data, std::uint64_t pts_ns) {
    auto b = h.make_buffer(std::as_bytes(std::span(data))).value();
    b.meta().set_pts(ClockTime::from_ns(pts_ns));
    return b;
}

// Everything the muxer wrote, in order.
Bytes8 drain(check::Harness& h) {
    Bytes8 out;
    while (auto b = h.pull(std::chrono::milliseconds(200))) {
        const Bytes8 bytes = bytes_of(*b);
        out.insert(out.end(), bytes.begin(), bytes.end());
    }
    return out;
}

TEST(IvfMuxTest, WritesTheHeaderAndFramesInTheFramerateTimebase) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(
        Caps::parse_static("video/x-av1,stream-format=obu-stream,alignment=tu,width=64,height=48,framerate=25/1")));
    const Bytes8 a{0x12, 0x00, 0xaa};
    const Bytes8 b{0x12, 0x00, 0xbb, 0xcc};
    ASSERT_EQ(h->push(frame(*h, a, 0)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, b, 40'000'000)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, a, 120'000'001)), Flow::ok); // rounds to 3
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    const Bytes8 file = drain(*h);
    auto header = ivf::parse_file_header(file).value();
    EXPECT_EQ(std::string(header.fourcc.begin(), header.fourcc.end()), "AV01");
    EXPECT_EQ(header.width, 64);
    EXPECT_EQ(header.height, 48);
    EXPECT_EQ(header.framerate, Fraction::make(25, 1).value());
    EXPECT_EQ(header.frame_count, 0U);
    std::size_t pos = 32;
    const std::uint64_t timestamps[] = {0, 1, 3};
    const Bytes8* data[] = {&a, &b, &a};
    for (std::size_t i = 0; i < 3; ++i) {
        auto fh = ivf::parse_frame_header(std::span(file).subspan(pos), pos).value();
        EXPECT_EQ(fh.timestamp, timestamps[i]);
        ASSERT_EQ(fh.size, data[i]->size());
        EXPECT_EQ(Bytes8(file.begin() + static_cast<std::ptrdiff_t>(pos + 12),
                         file.begin() + static_cast<std::ptrdiff_t>(pos + 12 + fh.size)),
                  *data[i]);
        pos += 12 + fh.size;
    }
    EXPECT_EQ(pos, file.size());
    bool ivf_caps = false;
    for (const Event& e : h->take_events()) {
        if (e.type() == EventType::caps) {
            ivf_caps = e.caps_value()->structure(0).name() == "video/x-ivf";
        }
    }
    EXPECT_TRUE(ivf_caps);
}

TEST(IvfMuxTest, WithoutFramerateTheTimebaseIsAMicrosecond) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("video/x-vp9,width=10,height=10")));
    ASSERT_EQ(h->push(frame(*h, {1, 2, 3}, 1'234'567'000)), Flow::ok);
    h->push_event(Event::eos());
    const Bytes8 file = drain(*h);
    auto header = ivf::parse_file_header(file).value();
    EXPECT_EQ(std::string(header.fourcc.begin(), header.fourcc.end()), "VP90");
    EXPECT_EQ(header.framerate, Fraction::make(1'000'000, 1).value());
    EXPECT_EQ(ivf::parse_frame_header(std::span(file).subspan(32), 32).value().timestamp, 1'234'567U);
}

TEST(IvfMuxTest, Vp8GetsItsFourcc) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("video/x-vp8,width=10,height=10,framerate=30000/1001")));
    ASSERT_EQ(h->push(frame(*h, {1}, 0)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, {1}, 1'001'000'000)), Flow::ok); // 30 frames later
    h->push_event(Event::eos());
    const Bytes8 file = drain(*h);
    auto header = ivf::parse_file_header(file).value();
    EXPECT_EQ(std::string(header.fourcc.begin(), header.fourcc.end()), "VP80");
    EXPECT_EQ(header.framerate, Fraction::make(30000, 1001).value());
    EXPECT_EQ(ivf::parse_frame_header(std::span(file).subspan(32 + 13), 45).value().timestamp, 30U);
}

TEST(IvfMuxTest, RoundTripsThroughIvfParse) {
    // A file made here, parsed by ivfparse and written again: the same bytes.
    ivf::FileHeader fh;
    fh.fourcc = {'V', 'P', '8', '0'};
    fh.width = 176;
    fh.height = 144;
    fh.framerate = Fraction::make(30, 1).value();
    const auto hdr = ivf::write_file_header(fh);
    Bytes8 file(hdr.begin(), hdr.end());
    for (std::uint64_t i = 0; i < 5; ++i) {
        const Bytes8 data(10 + i, static_cast<std::uint8_t>(i == 0 ? 0x00 : 0x01));
        const auto f = ivf::write_frame_header({static_cast<std::uint32_t>(data.size()), i});
        file.insert(file.end(), f.begin(), f.end());
        file.insert(file.end(), data.begin(), data.end());
    }
    auto parse = check::Harness::create("ivfparse").value();
    auto mux = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(parse->start());
    ASSERT_TRUE(mux->start());
    ASSERT_TRUE(parse->set_input_caps(Caps::parse_static("video/x-ivf")));
    ASSERT_EQ(parse->push(parse->make_buffer(std::as_bytes(std::span(file))).value()), Flow::ok);
    parse->push_event(Event::eos());
    std::optional<Caps> caps;
    std::vector<Buffer> frames;
    while (auto b = parse->pull(std::chrono::milliseconds(200))) {
        frames.push_back(std::move(*b));
    }
    for (const Event& e : parse->take_events()) {
        if (e.type() == EventType::caps) {
            caps = *e.caps_value();
        }
    }
    ASSERT_TRUE(caps);
    ASSERT_EQ(frames.size(), 5U);
    ASSERT_TRUE(mux->set_input_caps(*caps));
    for (Buffer& b : frames) {
        ASSERT_EQ(mux->push(std::move(b)), Flow::ok);
    }
    mux->push_event(Event::eos());
    EXPECT_EQ(drain(*mux), file);
}

TEST(IvfMuxTest, AFrameBeforeCapsIsAnError) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    EXPECT_EQ(h->push(frame(*h, {1}, 0)), Flow::error);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_NE(e->message().find("before caps"), std::string::npos) << e->message();
}

} // namespace
} // namespace parallax
