#include <parallax/codec/opus.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

Bytes8 with_magic(std::string_view magic, const Bytes8& rest) {
    Bytes8 out;
    out.reserve(magic.size() + rest.size());
    for (char c : magic) {
        out.push_back(static_cast<std::uint8_t>(c));
    }
    for (std::uint8_t b : rest) {
        out.push_back(b);
    }
    return out;
}

// The OpusHead GStreamer's opusenc writes for 48 kHz stereo: pre-skip 312.
const Bytes8 stereo_head = with_magic("OpusHead", {0x01, 0x02, 0x38, 0x01, 0x80, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x00});
// 5.1 in mapping family 1: 4 streams, 2 coupled, libopus's surround table.
const Bytes8 surround_head = with_magic("OpusHead", {0x01, 0x06, 0x38, 0x01, 0x80, 0xbb, 0x00, 0x00, 0x00, 0xfe, 0x01,
                                                     0x04, 0x02, 0x00, 0x04, 0x01, 0x02, 0x03, 0x05});

// The message of the error `r` holds, or "(no error)".
template <class T>
std::string error_of(const Result<T>& r) {
    return r ? std::string("(no error)") : r.error().message();
}

TEST(OpusTest, ParsesAFamilyZeroHead) {
    auto h = opus::parse_head(stereo_head);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->version, 1);
    EXPECT_EQ(h->channels, 2);
    EXPECT_EQ(h->pre_skip, 312);
    EXPECT_EQ(h->input_sample_rate, 48000U);
    EXPECT_EQ(h->output_gain, 0);
    EXPECT_EQ(h->mapping_family, 0);
    EXPECT_EQ(h->stream_count, 1);
    EXPECT_EQ(h->coupled_count, 1);
    EXPECT_TRUE(h->mapping.empty());
    EXPECT_EQ(opus::write_head(*h), stereo_head);
}

TEST(OpusTest, ParsesAFamilyOneHeadWithItsTable) {
    auto h = opus::parse_head(surround_head);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->channels, 6);
    EXPECT_EQ(h->output_gain, -512); // 0xfe00: -2 dB in Q7.8
    EXPECT_EQ(h->mapping_family, 1);
    EXPECT_EQ(h->stream_count, 4);
    EXPECT_EQ(h->coupled_count, 2);
    EXPECT_EQ(h->mapping, (Bytes8{0, 4, 1, 2, 3, 5}));
    EXPECT_EQ(opus::write_head(*h), surround_head);
}

TEST(OpusTest, AcceptsTrailingBytesAndMinorVersions) {
    Bytes8 longer = stereo_head;
    longer[8] = 0x0f;
    longer.push_back(0xaa);
    auto h = opus::parse_head(longer);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->version, 0x0f);
}

TEST(OpusTest, RefusesEveryMalformedHeadNamingFieldAndOffset) {
    struct Case {
        Bytes8 bytes;
        std::string expected;
    };
    auto patched = [](Bytes8 b, std::size_t at, std::uint8_t v) {
        b[at] = v;
        return b;
    };
    Bytes8 stereo_no_table = stereo_head;
    const std::vector<Case> cases = {
        {Bytes8{'O', 'p', 'u', 's'}, "too short for the magic"},
        {patched(stereo_head, 4, 'T'), "at byte 0: the magic is not \"OpusHead\""},
        {Bytes8(stereo_head.begin(), stereo_head.begin() + 18), "at byte 18: the header is truncated"},
        {patched(stereo_head, 8, 0x10), "at byte 8: version 16 has major version 1"},
        {patched(stereo_head, 9, 0), "at byte 9: channel count is 0"},
        {patched(stereo_head, 9, 3), "at byte 9: channel count 3 with mapping family 0"},
        {patched(patched(surround_head, 9, 9), 18, 1), "at byte 9: channel count 9 with mapping family 1"},
        {patched(stereo_head, 18, 1), "at byte 19: the stream and coupled counts of mapping family 1 are missing"},
        {patched(surround_head, 19, 0), "at byte 19: stream count is 0"},
        {patched(surround_head, 20, 5), "at byte 20: coupled count 5 exceeds stream count 4"},
        {patched(patched(patched(surround_head, 18, 255), 19, 200), 20, 100),
         "at byte 20: stream count 200 plus coupled count 100 exceeds 255"},
        {Bytes8(surround_head.begin(), surround_head.end() - 2), "at byte 25: the channel mapping table is truncated"},
        {patched(surround_head, 23, 6), "at byte 23: channel 2 maps to coded channel 6, but there are only 6"},
    };
    for (const Case& c : cases) {
        auto h = opus::parse_head(c.bytes);
        ASSERT_FALSE(h) << c.expected;
        EXPECT_NE(h.error().message().find(c.expected), std::string::npos) << h.error().message();
        EXPECT_NE(h.error().message().find("OpusHead"), std::string::npos) << h.error().message();
    }
    EXPECT_TRUE(opus::parse_head(patched(surround_head, 23, 255))) << "255 is a silent channel";
    EXPECT_TRUE(opus::parse_head(patched(stereo_head, 8, 0x10)).error().is(Errc::version_mismatch));
}

TEST(OpusTest, TagsRoundTrip) {
    opus::Tags t{"libparallax", {"TITLE=sine", "ARTIST=nobody", ""}};
    const Bytes8 bytes = opus::write_tags(t);
    const Bytes8 expected_start = with_magic("OpusTags", {11, 0, 0, 0, 'l', 'i', 'b'});
    ASSERT_GE(bytes.size(), expected_start.size());
    EXPECT_TRUE(std::equal(expected_start.begin(), expected_start.end(), bytes.begin()));
    auto back = opus::parse_tags(bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, t);
    Bytes8 padded = bytes;
    padded.push_back(0x01); // binary data after the comments is allowed
    EXPECT_EQ(opus::parse_tags(padded).value(), t);
}

TEST(OpusTest, RefusesMalformedTags) {
    const Bytes8 good = opus::write_tags({"v", {"A=b"}});
    struct Case {
        Bytes8 bytes;
        std::string expected;
    };
    Bytes8 bad_magic = good;
    bad_magic[4] = 'H';
    Bytes8 long_vendor = good;
    long_vendor[8] = 200;
    Bytes8 many = good;
    many[13] = 0xff; // comment count
    const std::vector<Case> cases = {
        {Bytes8{'O', 'p'}, "at byte 0: too short"},
        {bad_magic, "at byte 0: the magic is not \"OpusTags\""},
        {Bytes8(good.begin(), good.begin() + 10), "at byte 8: the length of the vendor string is missing"},
        {long_vendor, "at byte 8: the vendor string claims 200 bytes"},
        {Bytes8(good.begin(), good.begin() + 14), "at byte 13: the comment count is missing"},
        {many, "at byte 13: comment count 255 cannot fit"},
        {Bytes8(good.begin(), good.end() - 1), "at byte 17: the comment 0 claims 3 bytes, only 2 remain"},
    };
    for (const Case& c : cases) {
        auto t = opus::parse_tags(c.bytes);
        ASSERT_FALSE(t) << c.expected;
        EXPECT_NE(t.error().message().find(c.expected), std::string::npos) << t.error().message();
        EXPECT_TRUE(t.error().is(Errc::corrupt));
    }
}

TEST(OpusTest, FrameSizesFollowTheTocConfiguration) {
    // SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
    const std::uint32_t expected[32] = {480,  960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920,
                                        2880, 480, 960,  480,  960, 120, 240,  480,  960, 120, 240,
                                        480,  960, 120,  240,  480, 960, 120,  240,  480, 960};
    for (unsigned config = 0; config < 32; ++config) {
        EXPECT_EQ(opus::frame_samples(static_cast<std::uint8_t>(config << 3)), expected[config]) << config;
        EXPECT_EQ(opus::frame_samples(static_cast<std::uint8_t>((config << 3) | 7)), expected[config]) << config;
    }
}

TEST(OpusTest, CountsSamplesOfEveryFrameCountCode) {
    // Code 0: one frame.
    EXPECT_EQ(opus::packet_samples(Bytes8{0xf8, 1, 2, 3}).value(), 960U);
    EXPECT_EQ(opus::packet_samples(Bytes8{0x18}).value(), 2880U); // SILK 60 ms, empty frame (DTX)
    EXPECT_EQ(opus::packet_samples(Bytes8{0x80, 9}).value(), 120U);
    // Code 1: two frames of equal size.
    EXPECT_EQ(opus::packet_samples(Bytes8{0xf9, 1, 2, 3, 4}).value(), 1920U);
    EXPECT_EQ(opus::packet_samples(Bytes8{0x19, 1, 2}).value(), 5760U); // 2 x 60 ms = 120 ms
    // Code 2: two frames, the first's length coded.
    EXPECT_EQ(opus::packet_samples(Bytes8{0xfa, 2, 1, 2, 3, 4, 5}).value(), 1920U);
    Bytes8 two_byte_length{0xfa, 252, 0};
    two_byte_length.resize(3 + 252 + 10, 7);
    EXPECT_EQ(opus::packet_samples(two_byte_length).value(), 1920U);
    // Code 3 CBR: M frames of equal size.
    EXPECT_EQ(opus::packet_samples(Bytes8{0xfb, 0x03, 1, 2, 3, 4, 5, 6}).value(), 2880U);
    // Code 3 CBR with padding: 3 bytes of padding after 2 frames of 2 bytes.
    EXPECT_EQ(opus::packet_samples(Bytes8{0xfb, 0x42, 3, 1, 2, 3, 4, 0, 0, 0}).value(), 1920U);
    // Padding length 255 means 254 and another length byte: 254 + 0.
    Bytes8 long_padding{0xfb, 0x41, 255, 0};
    long_padding.resize(4 + 254, 0);
    EXPECT_EQ(opus::packet_samples(long_padding).value(), 960U);
    // Code 3 VBR: M - 1 lengths, the last frame takes the rest.
    EXPECT_EQ(opus::packet_samples(Bytes8{0xfb, 0x83, 1, 2, 9, 8, 8, 7, 7, 7}).value(), 2880U);
    // Code 3 VBR with padding.
    EXPECT_EQ(opus::packet_samples(Bytes8{0xfb, 0xc2, 1, 2, 9, 8, 8, 0}).value(), 1920U);
    // 48 frames of 2.5 ms: exactly 120 ms.
    EXPECT_EQ(opus::packet_samples(Bytes8{0x83, 48}).value(), 5760U);
}

TEST(OpusTest, RefusesMalformedPackets) {
    struct Case {
        Bytes8 bytes;
        std::string expected;
    };
    Bytes8 big_frame{0xf8};
    big_frame.resize(1 + 1276, 0);
    const std::vector<Case> cases = {
        {Bytes8{}, "at byte 0: the packet is empty"},
        {big_frame, "frame 0 has 1276 bytes, more than the 1275 allowed"},
        {Bytes8{0xf9, 1, 2, 3}, "at byte 1: code 1 needs two frames of equal size, but 3 bytes"},
        {Bytes8{0xfa}, "at byte 1: the length of frame 0 is missing"},
        {Bytes8{0xfa, 253}, "at byte 1: the second byte of the length of frame 0 is missing"},
        {Bytes8{0xfa, 5, 1, 2}, "at byte 1: frame 0 claims 5 bytes, only 2 remain"},
        {Bytes8{0xfb}, "at byte 1: code 3 needs a frame count byte"},
        {Bytes8{0xfb, 0x00}, "at byte 1: code 3 with a frame count of 0"},
        {Bytes8{0xfb, 0x07}, "at byte 1: 7 frames of 960 samples make 140.0 ms, more than 120 ms"},
        {Bytes8{0x1b, 0x03}, "more than 120 ms"},
        {Bytes8{0xfb, 0x03, 1, 2, 3, 4, 5}, "at byte 2: constant bitrate code 3: 5 bytes do not divide into 3 frames"},
        {Bytes8{0xfb, 0x41}, "at byte 2: the padding length is missing"},
        {Bytes8{0xfb, 0x41, 255}, "at byte 3: the padding length is missing"},
        {Bytes8{0xfb, 0x41, 9, 1}, "at byte 2: 9 bytes of padding, only 1 bytes follow"},
        {Bytes8{0xfb, 0x83, 1}, "at byte 3: the length of frame 1 is missing"},
        {Bytes8{0xfb, 0x83, 4, 4, 1, 2}, "at byte 4: the frame lengths add up to 8 bytes, only 2 remain"},
        {Bytes8{0xfb, 0xc2, 2, 253, 0, 0}, "at byte 3: the length of frame 0 runs into the padding"},
    };
    for (const Case& c : cases) {
        auto n = opus::packet_samples(c.bytes);
        ASSERT_FALSE(n) << c.expected;
        EXPECT_NE(n.error().message().find(c.expected), std::string::npos) << n.error().message();
        EXPECT_TRUE(n.error().is(Errc::corrupt));
    }
}

TEST(OpusTest, CapsCarryTheHeader) {
    const opus::Header h = opus::parse_head(surround_head).value();
    const Caps caps = opus::caps_for(h);
    EXPECT_EQ(caps.to_string(),
              "audio/x-opus, rate=(int)48000, channels=(int)6, channel-mapping-family=(int)1, stream-count=(int)4, "
              "coupled-count=(int)2, codec_data=(buffer)4f707573486561640106380180bb000000fe01040200040102030"
              "5");
    EXPECT_EQ(opus::header_from_caps(caps).value(), h);
    // The caps text reads back to the same header.
    EXPECT_EQ(opus::header_from_caps(Caps::parse(caps.to_string()).value()).value(), h);

    opus::Header low = opus::parse_head(stereo_head).value();
    low.input_sample_rate = 16000;
    EXPECT_EQ(opus::caps_for(low).structure(0).get_int("rate"), 16000);
    low.input_sample_rate = 0;
    EXPECT_EQ(opus::caps_for(low).structure(0).get_int("rate"), 48000);
}

TEST(OpusTest, HeaderFromCapsFieldsIsFamilyZeroWithoutPreSkip) {
    auto h = opus::header_from_caps(Caps::parse_static("audio/x-opus, rate=24000, channels=2"));
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(h->channels, 2);
    EXPECT_EQ(h->pre_skip, 0);
    EXPECT_EQ(h->input_sample_rate, 24000U);
    EXPECT_EQ(h->stream_count, 1);
    EXPECT_EQ(h->coupled_count, 1);

    struct Case {
        const char* caps;
        std::string expected;
    };
    const Case cases[] = {
        {"audio/x-raw, channels=2", "not Opus caps"},
        {"audio/x-opus", "need an int field channels"},
        {"audio/x-opus, channels=6, channel-mapping-family=1", "channel-mapping-family is 1"},
        {"audio/x-opus, channels=3", "channels is 3"},
        {"audio/x-opus, channels=2, codec_data=(string)abc", "codec_data is a string"},
        {"audio/x-opus, codec_data=(buffer)4f707573", "caps field codec_data: OpusHead at byte"},
    };
    for (const Case& c : cases) {
        auto r = opus::header_from_caps(Caps::parse_static(c.caps));
        ASSERT_FALSE(r) << c.caps;
        EXPECT_NE(r.error().message().find(c.expected), std::string::npos) << r.error().message();
    }
}

TEST(OpusTest, VorbisOrderCoversOneToEightChannels) {
    EXPECT_TRUE(opus::vorbis_channel_positions(0).empty());
    EXPECT_TRUE(opus::vorbis_channel_positions(9).empty());
    for (unsigned n = 1; n <= 8; ++n) {
        EXPECT_EQ(opus::vorbis_channel_positions(n).size(), n);
    }
    EXPECT_EQ(opus::vorbis_channel_positions(6)[5], AudioChannelPosition::lfe1);
    EXPECT_EQ(opus::vorbis_channel_positions(3)[1], AudioChannelPosition::front_center);
}

} // namespace
} // namespace parallax
