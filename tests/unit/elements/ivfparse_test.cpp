// ivfparse: frames out of an IVF byte stream cut anywhere, caps from the
// header (and from the AV1 sequence header), timestamps from the timebase,
// durations, key/delta flags for AV1 and VP8, and errors naming the offset.

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

namespace parallax::ivfparse_test {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

// Three 64x64 frames at 25 fps from `aomenc --limit=3 --cpu-used=8 --ivf`.
constexpr std::uint8_t aomenc_ivf[] = {
    0x44, 0x4b, 0x49, 0x46, 0x00, 0x00, 0x20, 0x00, 0x41, 0x56, 0x30, 0x31, 0x40, 0x00, 0x40, 0x00, 0x19, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x02, 0xaf, 0xff, 0x9b, 0x5f, 0x20,
    0x08, 0x32, 0x56, 0x10, 0x00, 0x82, 0x00, 0x00, 0x02, 0x0b, 0x80, 0x00, 0xb5, 0x1e, 0x94, 0x32, 0x9b, 0xd5, 0x7c,
    0x77, 0x40, 0x9c, 0xa2, 0x04, 0xf1, 0x49, 0xd8, 0xf6, 0x29, 0x7c, 0xb8, 0xd2, 0x1d, 0x58, 0x54, 0x1d, 0x6e, 0x00,
    0xed, 0x12, 0xa0, 0x58, 0x69, 0xab, 0x5b, 0x0d, 0x76, 0x53, 0x3b, 0xcd, 0xef, 0x3f, 0xe4, 0x0f, 0x1a, 0xd6, 0x3d,
    0x3e, 0xe1, 0xca, 0x87, 0xce, 0xbf, 0x72, 0x9f, 0x79, 0x08, 0x03, 0xc2, 0x2e, 0xe4, 0x03, 0x57, 0xca, 0xfb, 0xbf,
    0x6f, 0x8a, 0x51, 0x12, 0xba, 0x5f, 0x2f, 0x4d, 0xca, 0x66, 0xbe, 0xdb, 0x04, 0x2f, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x32, 0x2b, 0x30, 0x03, 0xc0, 0x80, 0x00, 0x00, 0x46, 0x88, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x20, 0x00, 0xb7, 0x2f, 0x3c, 0xaf, 0x91, 0x99, 0x2d, 0x79, 0xd8, 0x72, 0x87, 0x49, 0x85,
    0xba, 0x26, 0xb9, 0x94, 0x02, 0xfa, 0xf5, 0xa5, 0x98, 0x7b, 0x49, 0x38, 0xe6, 0xce, 0x20, 0x28, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x32, 0x24, 0x30, 0x05, 0xc1, 0x04, 0x00, 0x00, 0x46,
    0x89, 0x00, 0x00, 0x02, 0x00, 0x00, 0x20, 0x00, 0xb9, 0xc7, 0xc9, 0xe6, 0x69, 0xef, 0x41, 0x71, 0x83, 0x42, 0xac,
    0x5e, 0x6f, 0x64, 0x66, 0xd0, 0x90, 0x9a, 0x5d, 0x7a, 0x80,
};

Bytes8 bytes_of(const Buffer& b) {
    const auto d = b.data();
    Bytes8 out(d.size());
    std::transform(d.begin(), d.end(), out.begin(), [](std::byte x) { return std::to_integer<std::uint8_t>(x); });
    return out;
}

std::vector<Event> events_of(check::Harness& h, EventType type) {
    std::vector<Event> out;
    for (Event& e : h.take_events()) {
        if (e.type() == type) {
            out.push_back(std::move(e));
        }
    }
    return out;
}

std::unique_ptr<check::Harness> started() {
    auto h = check::Harness::create("ivfparse");
    EXPECT_TRUE(h) << h.error().to_string();
    EXPECT_TRUE((*h)->start());
    EXPECT_TRUE((*h)->set_input_caps(Caps::parse_static("video/x-ivf")));
    return std::move(*h);
}

void push_in_chunks(check::Harness& h, std::span<const std::uint8_t> data, std::size_t chunk) {
    for (std::size_t pos = 0; pos < data.size(); pos += chunk) {
        const std::size_t n = std::min(chunk, data.size() - pos);
        auto b = h.make_buffer(std::as_bytes(data.subspan(pos, n))).value();
        b.meta().set_byte_offset(pos);
        const Flow f = h.push(std::move(b));
        if (f != Flow::ok) {
            return;
        }
    }
}

// An IVF file of `fourcc` with the given rate/scale and frames.
Bytes8 make_ivf(const char* fourcc, std::uint32_t rate, std::uint32_t scale,
                const std::vector<std::pair<std::uint64_t, Bytes8>>& frames) {
    ivf::FileHeader h;
    std::copy(fourcc, fourcc + 4, h.fourcc.begin());
    h.width = 320;
    h.height = 240;
    h.framerate = Fraction::make(rate, scale).value();
    const auto fh = ivf::write_file_header(h);
    Bytes8 out(fh.begin(), fh.end());
    for (const auto& [ts, data] : frames) {
        const auto hdr = ivf::write_frame_header({static_cast<std::uint32_t>(data.size()), ts});
        out.insert(out.end(), hdr.begin(), hdr.end());
        out.insert(out.end(), data.begin(), data.end());
    }
    return out;
}

TEST(IvfParseTest, ReadsAnAomencFileCutAnywhere) {
    const std::span<const std::uint8_t> file(aomenc_ivf);
    const std::size_t sizes[] = {102, 47, 40};
    const std::size_t offsets[] = {32, 146, 205};
    for (const std::size_t chunk : {1U, 5U, 33U, 4096U}) {
        SCOPED_TRACE(chunk);
        auto h = started();
        push_in_chunks(*h, file, chunk);
        ASSERT_TRUE(h->push_event(Event::eos()));
        for (std::size_t i = 0; i < 3; ++i) {
            auto out = h->pull();
            ASSERT_TRUE(out) << "frame " << i;
            EXPECT_EQ(bytes_of(*out), Bytes8(file.begin() + static_cast<std::ptrdiff_t>(offsets[i] + 12),
                                             file.begin() + static_cast<std::ptrdiff_t>(offsets[i] + 12 + sizes[i])));
            EXPECT_EQ(out->meta().pts().ns(), i * 40'000'000U);
            EXPECT_EQ(out->meta().duration().ns(), 40'000'000U);
            EXPECT_EQ(out->meta().byte_offset(), offsets[i]);
            EXPECT_EQ(out->meta().has_flag(BufferFlags::keyframe), i == 0);
            EXPECT_EQ(out->meta().has_flag(BufferFlags::delta), i != 0);
        }
        EXPECT_TRUE(h->wait_eos());
        EXPECT_FALSE(h->error());
        const auto events = h->take_events();
        std::vector<Caps> caps;
        bool segment = false;
        for (const Event& e : events) {
            if (e.type() == EventType::caps) {
                caps.push_back(*e.caps_value());
            } else if (e.type() == EventType::segment) {
                segment = true;
                EXPECT_EQ(e.segment_value()->format, Format::time);
            }
        }
        EXPECT_TRUE(segment);
        ASSERT_EQ(caps.size(), 1U);
        const Structure& s = caps[0].structure(0);
        EXPECT_EQ(s.name(), "video/x-av1");
        EXPECT_EQ(s.get_string("stream-format"), "obu-stream");
        EXPECT_EQ(s.get_string("alignment"), "tu");
        EXPECT_EQ(s.get_int("width"), 64);
        EXPECT_EQ(s.get_int("height"), 64);
        EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(25, 1).value());
        EXPECT_EQ(s.get_string("profile"), "main");
        EXPECT_TRUE(s.has("codec_data"));
    }
}

TEST(IvfParseTest, FramesInsideOneBufferAreSlicesOfItAndCutOnesAreCopies) {
    // Frames at 32 (102 bytes), 146 (47) and 205 (40); the first buffer ends
    // inside the second frame.
    const std::span<const std::uint8_t> file(aomenc_ivf);
    auto h = started();
    auto first = h->make_buffer(std::as_bytes(file.first(170))).value();
    auto second = h->make_buffer(std::as_bytes(file.subspan(170))).value();
    second.meta().set_byte_offset(170);
    second.meta().set_pts(ClockTime::from_ns(12345));
    second.meta().set_duration(ClockTime::from_ns(777));
    const Arena* first_arena = first.arena();
    const SlotIndex first_slot = first.slot();
    const Arena* second_arena = second.arena();
    const SlotIndex second_slot = second.slot();
    ASSERT_EQ(h->push(std::move(first)), Flow::ok);
    ASSERT_EQ(h->push(std::move(second)), Flow::ok);
    ASSERT_TRUE(h->push_event(Event::eos()));
    auto a = h->pull();
    auto b = h->pull();
    auto c = h->pull();
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->arena(), first_arena);
    EXPECT_EQ(a->slot(), first_slot);
    EXPECT_EQ(a->offset(), 32U + 12U);
    EXPECT_FALSE(b->arena() == first_arena && b->slot() == first_slot);
    EXPECT_FALSE(b->arena() == second_arena && b->slot() == second_slot);
    EXPECT_EQ(c->arena(), second_arena);
    EXPECT_EQ(c->slot(), second_slot);
    EXPECT_EQ(bytes_of(*b), Bytes8(file.begin() + 146 + 12, file.begin() + 146 + 12 + 47));
    EXPECT_EQ(bytes_of(*c), Bytes8(file.begin() + 205 + 12, file.begin() + 205 + 12 + 40));
    // Only the parser's own fields, not the input buffer's: its byte offset
    // and pts were those of the chunk.
    EXPECT_EQ(c->meta().byte_offset(), 205U);
    EXPECT_EQ(c->meta().pts().ns(), 80'000'000U);
    EXPECT_EQ(c->meta().duration().ns(), 40'000'000U);
    EXPECT_TRUE(h->wait_eos());
    EXPECT_FALSE(h->error());
}

TEST(IvfParseTest, TimestampsFollowTheTimebase) {
    // Timebase 1/1000: timestamps are milliseconds; durations are the gaps.
    const Bytes8 file = make_ivf("VP80", 1000, 1, {{0, {0x00, 1}}, {33, {0x01, 2}}, {100, {0x01, 3}}});
    auto h = started();
    push_in_chunks(*h, file, 7);
    h->push_event(Event::eos());
    const std::uint64_t pts[] = {0, 33'000'000, 100'000'000};
    const std::uint64_t durations[] = {33'000'000, 67'000'000, 67'000'000};
    for (std::size_t i = 0; i < 3; ++i) {
        auto out = h->pull();
        ASSERT_TRUE(out);
        EXPECT_EQ(out->meta().pts().ns(), pts[i]);
        EXPECT_EQ(out->meta().duration().ns(), durations[i]);
        // VP8: bit 0 of the frame tag is 0 on key frames.
        EXPECT_EQ(out->meta().has_flag(BufferFlags::keyframe), i == 0);
    }
    const auto caps = events_of(*h, EventType::caps);
    ASSERT_EQ(caps.size(), 1U);
    const Structure& s = caps[0].caps_value()->structure(0);
    EXPECT_EQ(s.name(), "video/x-vp8");
    EXPECT_EQ(s.get_int("width"), 320);
    EXPECT_EQ(s.get_int("height"), 240);
    EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(1000, 1).value());
}

TEST(IvfParseTest, Vp9KeyFramesAreFound) {
    // frame_marker 2, profile 0, show_existing_frame 0, frame_type 0 (key) / 1.
    const Bytes8 file = make_ivf("VP90", 30, 1, {{0, {0x80, 0}}, {1, {0x84, 0}}, {2, {0x88, 0}}});
    auto h = started();
    push_in_chunks(*h, file, 4096);
    h->push_event(Event::eos());
    auto key = h->pull();
    auto inter = h->pull();
    auto existing = h->pull();
    ASSERT_TRUE(key && inter && existing);
    EXPECT_TRUE(key->meta().has_flag(BufferFlags::keyframe));
    EXPECT_TRUE(inter->meta().has_flag(BufferFlags::delta));
    EXPECT_TRUE(existing->meta().has_flag(BufferFlags::delta));
    EXPECT_EQ(existing->meta().pts().ns(), 2'000'000'000U / 30);
    const auto caps = events_of(*h, EventType::caps);
    ASSERT_EQ(caps.size(), 1U);
    EXPECT_EQ(caps[0].caps_value()->structure(0).name(), "video/x-vp9");
}

TEST(IvfParseTest, BadMagicIsAnError) {
    Bytes8 file(std::begin(aomenc_ivf), std::end(aomenc_ivf));
    file[1] = 'X';
    auto h = started();
    push_in_chunks(*h, file, 4096);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "IVF file header: magic at byte 0 is \"DXIF\", not \"DKIF\"");
    EXPECT_EQ(e->element(), h->element().name());
}

TEST(IvfParseTest, AnUnknownFourccIsAnError) {
    Bytes8 file(std::begin(aomenc_ivf), std::end(aomenc_ivf));
    file[8] = 'H';
    file[11] = 0x07;
    auto h = started();
    push_in_chunks(*h, file, 4096);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "IVF file header: fourcc \"HV0\\x07\" at byte 8 is not AV01, VP80 or VP90");
}

TEST(IvfParseTest, AWrongHeaderSizeIsAnError) {
    Bytes8 file(std::begin(aomenc_ivf), std::end(aomenc_ivf));
    file[6] = 40;
    auto h = started();
    push_in_chunks(*h, file, 4096);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "IVF file header: header size 40 at byte 6 is not 32");
}

TEST(IvfParseTest, ATruncatedFrameIsAnErrorAtEos) {
    const Bytes8 file(std::begin(aomenc_ivf), std::end(aomenc_ivf) - 10);
    auto h = started();
    push_in_chunks(*h, file, 64);
    EXPECT_FALSE(h->error()); // it may still come
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    // The whole frames come out first.
    EXPECT_TRUE(h->pull());
    EXPECT_TRUE(h->pull());
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "IVF frame at byte 205 is truncated: the stream ends after 42 of its bytes");
}

TEST(IvfParseTest, ATruncatedHeaderIsAnErrorAtEos) {
    const Bytes8 file(std::begin(aomenc_ivf), std::begin(aomenc_ivf) + 20);
    auto h = started();
    push_in_chunks(*h, file, 64);
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "IVF file header at byte 0 is truncated: the stream ends after 20 of its bytes");
}

TEST(IvfParseTest, AnInsaneFrameSizeIsAnError) {
    Bytes8 file = make_ivf("AV01", 25, 1, {});
    const auto hdr = ivf::write_frame_header({0xF0000000U, 0});
    file.insert(file.end(), hdr.begin(), hdr.end());
    auto h = started();
    push_in_chunks(*h, file, 4096);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "IVF frame at byte 32: frame size 4026531840 exceeds the limit of 268435456 bytes");
}

TEST(IvfParseTest, BrokenAv1DataIsAWarningNotAnError) {
    const Bytes8 file = make_ivf("AV01", 25, 1, {{0, {0x92, 0x00}}});
    auto h = started();
    push_in_chunks(*h, file, 4096);
    h->push_event(Event::eos());
    auto out = h->pull();
    ASSERT_TRUE(out);
    EXPECT_FALSE(out->meta().has_flag(BufferFlags::keyframe));
    EXPECT_FALSE(h->error());
}

TEST(IvfParseTest, AnEmptyStreamJustEnds) {
    auto h = started();
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    EXPECT_FALSE(h->error());
    EXPECT_EQ(h->buffers_out(), 0U);
}

} // namespace
} // namespace parallax::ivfparse_test
