// av1parse: temporal units out of an OBU stream cut anywhere, caps with
// av1C, key/delta flags, timestamps, renegotiation on a new sequence header,
// data before the first sequence header, and errors that name the offset.

#include <parallax/caps/caps.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/codec/av1.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;
using Bytes8 = std::vector<std::uint8_t>;

// Three 64x64 frames from `aomenc --limit=3 --cpu-used=8 --ivf`, in IVF.
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

// The temporal units of aomenc_ivf.
std::vector<Bytes8> aomenc_units() {
    std::vector<Bytes8> units;
    const std::span<const std::uint8_t> all(aomenc_ivf);
    for (std::size_t pos = 32; pos + 12 <= all.size();) {
        const std::size_t size =
            std::size_t{all[pos]} | (std::size_t{all[pos + 1]} << 8) | (std::size_t{all[pos + 2]} << 16);
        units.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(pos + 12),
                           all.begin() + static_cast<std::ptrdiff_t>(pos + 12 + size));
        pos += 12 + size;
    }
    return units;
}

Bytes8 concat(const std::vector<Bytes8>& parts) {
    Bytes8 out;
    for (const Bytes8& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

Buffer make(check::Harness& h, std::span<const std::uint8_t> bytes, ClockTime pts = ClockTime()) {
    auto b = h.make_buffer(std::as_bytes(bytes)).value();
    b.meta().set_pts(pts);
    return b;
}

Bytes8 bytes_of(const Buffer& b) {
    const auto d = b.data();
    Bytes8 out(d.size());
    std::transform(d.begin(), d.end(), out.begin(), [](std::byte x) { return std::to_integer<std::uint8_t>(x); });
    return out;
}

std::vector<Caps> caps_events(check::Harness& h) {
    std::vector<Caps> caps;
    for (const Event& e : h.take_events()) {
        if (e.type() == EventType::caps) {
            caps.push_back(*e.caps_value());
        }
    }
    return caps;
}

std::unique_ptr<check::Harness> started(const std::string& input_caps) {
    auto h = check::Harness::create("av1parse");
    EXPECT_TRUE(h) << h.error().to_string();
    EXPECT_TRUE((*h)->start());
    EXPECT_TRUE((*h)->set_input_caps(Caps::parse_static(input_caps)));
    return std::move(*h);
}

TEST(Av1ParseTest, GathersAByteStreamCutAnywhereIntoTemporalUnits) {
    const auto units = aomenc_units();
    ASSERT_EQ(units.size(), 3U);
    const Bytes8 stream = concat(units);
    for (const std::size_t chunk : {1U, 7U, 100U, 4096U}) {
        SCOPED_TRACE(chunk);
        auto h = started("video/x-av1,stream-format=obu-stream,alignment=obu,framerate=25/1");
        for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
            const std::size_t n = std::min(chunk, stream.size() - pos);
            ASSERT_EQ(h->push(make(*h, std::span(stream).subspan(pos, n))), Flow::ok);
        }
        ASSERT_TRUE(h->push_event(Event::eos()));
        for (std::size_t i = 0; i < units.size(); ++i) {
            auto out = h->pull();
            ASSERT_TRUE(out) << "unit " << i;
            EXPECT_EQ(bytes_of(*out), units[i]) << "unit " << i;
            EXPECT_EQ(out->meta().has_flag(BufferFlags::delta), i != 0) << "unit " << i;
            EXPECT_EQ(out->meta().has_flag(BufferFlags::keyframe), i == 0) << "unit " << i;
        }
        EXPECT_TRUE(h->wait_eos());
        EXPECT_FALSE(h->error());
        const auto caps = caps_events(*h);
        ASSERT_EQ(caps.size(), 1U);
        const Structure& s = caps[0].structure(0);
        EXPECT_EQ(s.name(), "video/x-av1");
        EXPECT_EQ(s.get_string("alignment"), "tu");
        EXPECT_EQ(s.get_string("stream-format"), "obu-stream");
        EXPECT_EQ(s.get_int("width"), 64);
        EXPECT_EQ(s.get_int("height"), 64);
        EXPECT_EQ(s.get_bool("parsed"), true);
        EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(25, 1).value());
        const CapsValue* cd = s.get("codec_data");
        ASSERT_NE(cd, nullptr);
        ASSERT_NE(cd->get_if<parallax::Bytes>(), nullptr);
        const Bytes8& av1c = cd->get_if<parallax::Bytes>()->data;
        ASSERT_GE(av1c.size(), 4U);
        EXPECT_EQ(av1c[0], 0x81);
        EXPECT_EQ(Bytes8(av1c.begin() + 4, av1c.end()), Bytes8(units[0].begin() + 2, units[0].begin() + 14));
    }
}

TEST(Av1ParseTest, KeepsTheTimestampsOfTemporalUnits) {
    const auto units = aomenc_units();
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=tu");
    for (std::size_t i = 0; i < units.size(); ++i) {
        ASSERT_EQ(h->push(make(*h, units[i], ClockTime::from_ns(i * 40'000'000))), Flow::ok);
    }
    // alignment=tu: each buffer is a whole unit, out at once.
    for (std::size_t i = 0; i < units.size(); ++i) {
        auto out = h->pull();
        ASSERT_TRUE(out);
        EXPECT_EQ(out->meta().pts().ns(), i * 40'000'000);
        EXPECT_EQ(bytes_of(*out), units[i]);
    }
    const auto caps = caps_events(*h);
    ASSERT_EQ(caps.size(), 1U);
    EXPECT_FALSE(caps[0].structure(0).has("framerate"));
}

TEST(Av1ParseTest, AUnitTakesThePtsOfTheBufferItStartsIn) {
    const auto units = aomenc_units();
    auto h = started("video/x-av1,stream-format=obu-stream");
    // Buffer A: unit 0 and the first 3 bytes of unit 1; buffer B: the rest.
    Bytes8 a = units[0];
    a.insert(a.end(), units[1].begin(), units[1].begin() + 3);
    const Bytes8 b(units[1].begin() + 3, units[1].end());
    ASSERT_EQ(h->push(make(*h, a, ClockTime::from_ns(1000))), Flow::ok);
    ASSERT_EQ(h->push(make(*h, b, ClockTime::from_ns(2000))), Flow::ok);
    ASSERT_TRUE(h->push_event(Event::eos()));
    auto first = h->pull();
    auto second = h->pull();
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->meta().pts().ns(), 1000U);
    EXPECT_EQ(second->meta().pts().ns(), 1000U); // its first byte came in buffer A
    EXPECT_EQ(bytes_of(*second), units[1]);
}

TEST(Av1ParseTest, ANewSequenceHeaderRenegotiates) {
    auto units = aomenc_units();
    Bytes8 changed = units[0];
    changed[2 + 2 + 8] |= 0x01; // color_range of the sequence header payload
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=tu");
    ASSERT_EQ(h->push(make(*h, units[0])), Flow::ok);
    ASSERT_EQ(h->push(make(*h, units[0])), Flow::ok); // the same header again: no new caps
    ASSERT_EQ(h->push(make(*h, changed)), Flow::ok);
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(h->pull());
    }
    const auto caps = caps_events(*h);
    ASSERT_EQ(caps.size(), 2U);
    const auto* first = caps[0].structure(0).get("codec_data")->get_if<parallax::Bytes>();
    const auto* second = caps[1].structure(0).get("codec_data")->get_if<parallax::Bytes>();
    ASSERT_TRUE(first && second);
    EXPECT_NE(first->data, second->data);
    EXPECT_TRUE(av1::parse_av1c(second->data).value().full_range);
}

TEST(Av1ParseTest, DataBeforeTheFirstSequenceHeaderIsDroppedWithAWarning) {
    const auto units = aomenc_units();
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=tu");
    ASSERT_EQ(h->push(make(*h, units[1])), Flow::ok);
    ASSERT_EQ(h->push(make(*h, units[0])), Flow::ok);
    auto out = h->pull();
    ASSERT_TRUE(out);
    EXPECT_EQ(bytes_of(*out), units[0]);
    bool warned = false;
    for (const Message& m : h->messages()) {
        if (m.type == MessageType::warning && m.error &&
            m.error->message().find("before the first sequence header") != std::string::npos) {
            warned = true;
        }
    }
    EXPECT_TRUE(warned);
    EXPECT_FALSE(h->error());
}

TEST(Av1ParseTest, TheSequenceHeaderOfCodecDataIsUsed) {
    const auto units = aomenc_units();
    const Bytes8 seq_obu(units[0].begin() + 2, units[0].begin() + 14);
    const auto seq = av1::parse_sequence_header(std::span(seq_obu).subspan(2)).value();
    Structure s("video/x-av1");
    s.set("stream-format", "obu-stream");
    s.set("alignment", "tu");
    s.set("codec_data", parallax::Bytes{av1::make_av1c(seq, seq_obu)});
    Caps in;
    in.append(s);
    auto h = check::Harness::create("av1parse").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(in));
    // A unit without a sequence header is not dropped now.
    ASSERT_EQ(h->push(make(*h, units[1])), Flow::ok);
    auto out = h->pull();
    ASSERT_TRUE(out);
    EXPECT_TRUE(out->meta().has_flag(BufferFlags::delta));
}

TEST(Av1ParseTest, BadBytesAreAnErrorNamingTheOffset) {
    const auto units = aomenc_units();
    Bytes8 stream = units[0];
    const std::size_t bad_at = stream.size();
    stream.push_back(0x92); // forbidden bit
    stream.push_back(0x00);
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=obu");
    EXPECT_EQ(h->push(make(*h, stream)), Flow::error);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "AV1 OBU at byte " + std::to_string(bad_at) + " of the stream: obu_forbidden_bit is set");
}

TEST(Av1ParseTest, AStreamEndingInsideAnObuIsAnError) {
    const auto units = aomenc_units();
    const Bytes8 cut(units[0].begin(), units[0].end() - 5);
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=obu");
    EXPECT_EQ(h->push(make(*h, cut)), Flow::ok); // waits for the rest
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_NE(e->message().find("AV1 OBU at byte 14 of the stream: obu_size"), std::string::npos) << e->message();
    EXPECT_NE(e->message().find("runs past the end"), std::string::npos) << e->message();
}

TEST(Av1ParseTest, AnInsaneObuSizeIsAnErrorWithoutWaiting) {
    const Bytes8 stream = {0x12, 0x00, 0x32, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=obu");
    EXPECT_EQ(h->push(make(*h, stream)), Flow::error);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(),
              "AV1 OBU at byte 2 of the stream: obu_size 4294967295 exceeds the limit of 268435456 bytes");
}

TEST(Av1ParseTest, AnnexBInputIsRefused) {
    auto h = check::Harness::create("av1parse").value();
    ASSERT_TRUE(h->start());
    h->set_input_caps(Caps::parse_static("video/x-av1,stream-format=annexb,alignment=tu"));
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->is(Errc::unsupported));
    EXPECT_NE(e->message().find("stream-format annexb is not supported"), std::string::npos) << e->message();
}

TEST(Av1ParseTest, ABrokenSequenceHeaderIsAnError) {
    const Bytes8 stream = {0x12, 0x00, 0x0a, 0x01, 0x60};
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=tu");
    EXPECT_EQ(h->push(make(*h, stream)), Flow::error);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->message(), "AV1 OBU at byte 2 of the stream: AV1 sequence header: seq_profile 3 is reserved (byte 0)");
}

TEST(Av1ParseTest, AFlushForgetsPartialData) {
    const auto units = aomenc_units();
    auto h = started("video/x-av1,stream-format=obu-stream,alignment=obu");
    ASSERT_EQ(h->push(make(*h, std::span(units[0]).first(20))), Flow::ok);
    h->push_event(Event::flush_start());
    h->push_event(Event::flush_stop());
    ASSERT_EQ(h->push(make(*h, units[0])), Flow::ok);
    h->push_event(Event::eos());
    auto out = h->pull();
    ASSERT_TRUE(out);
    EXPECT_EQ(bytes_of(*out), units[0]);
    EXPECT_FALSE(h->error());
}

} // namespace
} // namespace parallax
