#include <parallax/caps/caps.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/codec/opus.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parallax {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

std::vector<std::byte> bytes(const std::vector<std::uint8_t>& values) {
    std::vector<std::byte> out;
    for (std::uint8_t v : values) {
        out.push_back(static_cast<std::byte>(v));
    }
    return out;
}

opus::Header stereo_header(std::uint16_t pre_skip) {
    opus::Header h;
    h.channels = 2;
    h.pre_skip = pre_skip;
    h.input_sample_rate = 48000;
    h.coupled_count = 1;
    return h;
}

// Three packets of 20 ms (CELT fullband, code 0) and one of 2 x 20 ms.
std::vector<std::vector<std::byte>> packets() {
    return {bytes({0xfc, 1, 2}), bytes({0xfc, 3}), bytes({0xfc, 4, 5, 6}), bytes({0xfd, 1, 2})};
}

TEST(OpusParseTest, SetsDurationsAfterPreSkipAndInterpolatesTimestamps) {
    auto h = check::Harness::create("opusparse").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(opus::caps_for(stereo_header(312))));
    for (const auto& p : packets()) {
        ASSERT_EQ(h->push(h->make_buffer(p).value()), Flow::ok);
    }
    const std::uint64_t expected_pts[] = {0, 13'500'000, 33'500'000, 53'500'000};
    const std::uint64_t expected_duration[] = {13'500'000, 20'000'000, 20'000'000, 40'000'000};
    for (int i = 0; i < 4; ++i) {
        auto out = h->pull();
        ASSERT_TRUE(out) << i;
        EXPECT_EQ(out->meta().pts().ns(), expected_pts[i]) << i;
        EXPECT_EQ(out->meta().duration().ns(), expected_duration[i]) << i;
    }
    bool saw_caps = false;
    for (const Event& e : h->take_events()) {
        if (e.type() == EventType::caps) {
            saw_caps = true;
            const Structure& s = e.caps_value()->structure(0);
            EXPECT_EQ(s.get_bool("parsed"), true);
            EXPECT_EQ(s.get_bool("framed"), true);
            EXPECT_EQ(opus::header_from_caps(*e.caps_value()).value(), stereo_header(312));
        }
    }
    EXPECT_TRUE(saw_caps);
}

TEST(OpusParseTest, KeepsTimestampsAndDurationsThatArePresent) {
    auto h = check::Harness::create("opusparse").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("audio/x-opus, channels=2")));
    auto b = h->make_buffer(packets()[0]).value();
    b.meta().set_pts(ClockTime::from_ns(7'000'000'000));
    b.meta().set_duration(ClockTime::from_ns(5'000'000));
    ASSERT_EQ(h->push(std::move(b)), Flow::ok);
    ASSERT_EQ(h->push(h->make_buffer(packets()[1]).value()), Flow::ok);
    auto first = h->pull();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->meta().pts().ns(), 7'000'000'000U);
    EXPECT_EQ(first->meta().duration().ns(), 5'000'000U);
    auto second = h->pull();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->meta().pts().ns(), 7'005'000'000U);
    EXPECT_EQ(second->meta().duration().ns(), 20'000'000U); // no header: no pre-skip
}

TEST(OpusParseTest, TakesInBandHeadersOutOfTheStream) {
    auto h = check::Harness::create("opusparse").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("audio/x-opus")));
    ASSERT_EQ(h->push(h->make_buffer(bytes(opus::write_head(stereo_header(960)))).value()), Flow::ok);
    ASSERT_EQ(h->push(h->make_buffer(bytes(opus::write_tags({"x", {"A=b"}}))).value()), Flow::ok);
    for (const auto& p : packets()) {
        ASSERT_EQ(h->push(h->make_buffer(p).value()), Flow::ok);
    }
    // Only the four audio packets come out; the first is all pre-skip.
    auto first = h->pull();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->size(), 3U);
    EXPECT_EQ(first->meta().duration().ns(), 0U);
    EXPECT_EQ(h->buffers_out(), 3U);
    Caps last;
    for (const Event& e : h->take_events()) {
        if (e.type() == EventType::caps) {
            last = *e.caps_value();
        }
    }
    EXPECT_EQ(opus::header_from_caps(last).value().pre_skip, 960);
}

TEST(OpusParseTest, MalformedPacketIsAnErrorNamingItsIndex) {
    auto h = check::Harness::create("opusparse").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("audio/x-opus, channels=1")));
    ASSERT_EQ(h->push(h->make_buffer(packets()[0]).value()), Flow::ok);
    ASSERT_EQ(h->push(h->make_buffer(packets()[1]).value()), Flow::ok);
    EXPECT_EQ(h->push(h->make_buffer(bytes({0xfd, 1, 2, 3})).value()), Flow::error);
    ASSERT_TRUE(h->error());
    EXPECT_FALSE(h->error()->element().empty());
    const std::string m = h->error()->message();
    EXPECT_NE(m.find("packet 2"), std::string::npos) << m;
    EXPECT_NE(m.find("code 1 needs two frames of equal size"), std::string::npos) << m;

    auto h2 = check::Harness::create("opusparse").value();
    ASSERT_TRUE(h2->start());
    ASSERT_TRUE(h2->set_input_caps(Caps::parse_static("audio/x-opus")));
    EXPECT_EQ(h2->push(h2->make_buffer(0).value()), Flow::error);
    ASSERT_TRUE(h2->error());
    EXPECT_NE(h2->error()->message().find("packet 0"), std::string::npos) << h2->error()->to_string();
}

} // namespace
} // namespace parallax
