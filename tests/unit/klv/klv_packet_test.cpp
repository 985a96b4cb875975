#include <parallax/klv/klv_packet.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace parallax::klv {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A packet with a generic UL key, the length field `length` and `n` value bytes.
Bytes packet(std::size_t n, Bytes length) {
    Bytes p(16 + length.size() + n);
    const Bytes key{0x06, 0x0E, 0x2B, 0x34, 0x01, 0x01, 0x01, 0x01, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    std::copy(key.begin(), key.end(), p.begin());
    std::copy(length.begin(), length.end(), p.begin() + 16);
    p.resize(16 + length.size());
    for (std::size_t i = 0; i < n; ++i) {
        p.push_back(static_cast<std::uint8_t>(i));
    }
    return p;
}

TEST(KlvPacketTest, WholePacketGivesItsSize) {
    const Bytes p = packet(5, {0x05});
    auto r = next_packet(p);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ(**r, 22U);
}

TEST(KlvPacketTest, OnlyTheFirstOfTwoPacketsIsMeasured) {
    Bytes p = packet(200, {0x81, 0xC8});
    const Bytes q = packet(1, {0x01});
    p.insert(p.end(), q.begin(), q.end());
    auto r = next_packet(p);
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ(**r, 16U + 2U + 200U);
}

TEST(KlvPacketTest, EveryPrefixOfAPacketNeedsMoreData) {
    const Bytes p = packet(300, {0x82, 0x01, 0x2C});
    for (std::size_t n = 0; n < p.size(); ++n) {
        auto r = next_packet(std::span<const std::uint8_t>(p).first(n));
        ASSERT_TRUE(r) << n << ": " << r.error().message();
        EXPECT_FALSE(r->has_value()) << n;
    }
    auto whole = next_packet(p);
    ASSERT_TRUE(whole && whole->has_value());
    EXPECT_EQ(**whole, p.size());
}

TEST(KlvPacketTest, BytesThatAreNoKeyAreRefused) {
    const Bytes junk{0x06, 0x0E, 0x2C, 0x34, 0x00};
    auto r = next_packet(junk);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::corrupt));
    EXPECT_NE(r.error().message().find("byte 2"), std::string::npos) << r.error().message();
}

TEST(KlvPacketTest, IndefiniteOrHugeLengthsAreRefused) {
    auto indefinite = next_packet(packet(0, {0x80}));
    ASSERT_FALSE(indefinite);
    EXPECT_NE(indefinite.error().message().find("byte 16"), std::string::npos) << indefinite.error().message();
    auto overlong = next_packet(packet(0, {0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    ASSERT_FALSE(overlong);
    auto huge = next_packet(packet(0, {0x84, 0x7F, 0, 0, 0}), 1024);
    ASSERT_FALSE(huge);
    EXPECT_NE(huge.error().message().find("1024"), std::string::npos) << huge.error().message();
}

TEST(KlvPacketTest, FindKeyFindsFullAndPartialPrefixes) {
    const Bytes s{0x00, 0x06, 0x0E, 0x2B, 0x34, 0x11, 0x06, 0x0E};
    EXPECT_EQ(find_key(s), 1U);
    EXPECT_EQ(find_key(s, 2), 6U); // a prefix cut by the end may continue
    const Bytes none{0x00, 0x06, 0x0F};
    EXPECT_EQ(find_key(none), none.size());
}

} // namespace
} // namespace parallax::klv
