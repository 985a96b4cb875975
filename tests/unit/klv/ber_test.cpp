#include <parallax/klv/ber.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax::klv {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encoded_length(std::uint64_t n) {
    Bytes out;
    encode_ber_length(n, out);
    return out;
}

Bytes encoded_oid(std::uint32_t n) {
    Bytes out;
    encode_ber_oid(n, out);
    return out;
}

TEST(BerTest, LengthsBelow128UseTheShortForm) {
    EXPECT_EQ(encoded_length(0), Bytes{0x00});
    EXPECT_EQ(encoded_length(127), Bytes{0x7F});
    EXPECT_EQ(ber_length_size(127), 1U);
}

TEST(BerTest, LongerLengthsUseTheMinimalLongForm) {
    EXPECT_EQ(encoded_length(128), (Bytes{0x81, 0x80}));
    EXPECT_EQ(encoded_length(255), (Bytes{0x81, 0xFF}));
    EXPECT_EQ(encoded_length(256), (Bytes{0x82, 0x01, 0x00}));
    EXPECT_EQ(encoded_length(0x123456), (Bytes{0x83, 0x12, 0x34, 0x56}));
    EXPECT_EQ(encoded_length(~std::uint64_t{0}), (Bytes{0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
    EXPECT_EQ(ber_length_size(256), 3U);
}

TEST(BerTest, LengthsDecodeBackWithTheirSize) {
    for (std::uint64_t n : {0ULL, 1ULL, 127ULL, 128ULL, 300ULL, 65535ULL, 65536ULL, 0xFFFFFFFFFFULL}) {
        const Bytes b = encoded_length(n);
        auto d = decode_ber_length(b);
        ASSERT_TRUE(d) << n << ": " << d.error().message();
        EXPECT_EQ(d->value, n);
        EXPECT_EQ(d->size, b.size());
    }
}

TEST(BerTest, NonMinimalLongFormIsRead) {
    const Bytes b{0x82, 0x00, 0x05, 0xAA};
    auto d = decode_ber_length(b);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->value, 5U);
    EXPECT_EQ(d->size, 3U);
}

TEST(BerTest, IndefiniteLengthIsRefusedWithItsOffset) {
    const Bytes b{0x80, 0x00};
    auto d = decode_ber_length(b, 16);
    ASSERT_FALSE(d);
    EXPECT_TRUE(d.error().is(Errc::corrupt));
    EXPECT_NE(d.error().message().find("indefinite"), std::string::npos) << d.error().message();
    EXPECT_NE(d.error().message().find("byte 16"), std::string::npos) << d.error().message();
}

TEST(BerTest, OverLongLengthIsRefused) {
    const Bytes b{0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    auto d = decode_ber_length(b, 3);
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message().find("9 length bytes"), std::string::npos) << d.error().message();
    EXPECT_NE(d.error().message().find("byte 3"), std::string::npos);
}

TEST(BerTest, TruncatedAndMissingLengthsAreRefused) {
    const Bytes b{0x83, 0x01, 0x02};
    auto d = decode_ber_length(b, 40);
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message().find("truncated"), std::string::npos) << d.error().message();
    EXPECT_NE(d.error().message().find("byte 40"), std::string::npos);
    auto e = decode_ber_length({}, 7);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message().find("byte 7"), std::string::npos) << e.error().message();
}

TEST(BerTest, OidNumbersUseSevenBitsPerByte) {
    EXPECT_EQ(encoded_oid(0), Bytes{0x00});
    EXPECT_EQ(encoded_oid(127), Bytes{0x7F});
    EXPECT_EQ(encoded_oid(128), (Bytes{0x81, 0x00}));
    EXPECT_EQ(encoded_oid(144), (Bytes{0x81, 0x10}));
    EXPECT_EQ(encoded_oid(16383), (Bytes{0xFF, 0x7F}));
    EXPECT_EQ(encoded_oid(16384), (Bytes{0x81, 0x80, 0x00}));
    EXPECT_EQ(encoded_oid(0xFFFFFFFF), (Bytes{0x8F, 0xFF, 0xFF, 0xFF, 0x7F}));
    for (std::uint32_t n : {0U, 1U, 127U, 128U, 144U, 300U, 16384U, 0xFFFFFFFFU}) {
        const Bytes b = encoded_oid(n);
        auto d = decode_ber_oid(b);
        ASSERT_TRUE(d) << n;
        EXPECT_EQ(d->value, n);
        EXPECT_EQ(d->size, b.size());
    }
}

TEST(BerTest, BadOidNumbersAreRefusedWithTheirOffset) {
    auto truncated = decode_ber_oid(Bytes{0x81, 0x82}, 20);
    ASSERT_FALSE(truncated);
    EXPECT_NE(truncated.error().message().find("truncated"), std::string::npos);
    EXPECT_NE(truncated.error().message().find("byte 20"), std::string::npos);
    auto padded = decode_ber_oid(Bytes{0x80, 0x05}, 2);
    ASSERT_FALSE(padded);
    EXPECT_NE(padded.error().message().find("not minimal"), std::string::npos);
    auto huge = decode_ber_oid(Bytes{0x9F, 0xFF, 0xFF, 0xFF, 0x7F});
    ASSERT_FALSE(huge);
    EXPECT_NE(huge.error().message().find("32 bits"), std::string::npos);
}

} // namespace
} // namespace parallax::klv
