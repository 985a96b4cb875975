#include <parallax/klv/ber.hpp>
#include <parallax/klv/uas_local_set.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace parallax::klv {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Worked out by hand (and with the value examples of ST 0601): time stamp,
// mission id "MISSION01", heading 159.9744 (0x71C2), pitch -0.4315251
// (0xFD3D), sensor latitude 60.176822966978335 (0x5595B66D), sensor true
// altitude 14190.72 m (0xC221), version 17, then the checksum 0xA534.
const Bytes example_packet{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01,
                           0x00, 0x00, 0x00, 0x2E, 0x02, 0x08, 0x00, 0x04, 0x59, 0xF4, 0xA6, 0xAA, 0x4A,
                           0xA8, 0x03, 0x09, 0x4D, 0x49, 0x53, 0x53, 0x49, 0x4F, 0x4E, 0x30, 0x31, 0x05,
                           0x02, 0x71, 0xC2, 0x06, 0x02, 0xFD, 0x3D, 0x0D, 0x04, 0x55, 0x95, 0xB6, 0x6D,
                           0x0F, 0x02, 0xC2, 0x21, 0x41, 0x01, 0x11, 0x01, 0x02, 0xA5, 0x34};

std::string message(const Result<UasLocalSet>& r) {
    return r ? std::string("parsed") : r.error().message();
}

// Recomputes the checksum of a packet edited by a test.
void fix_checksum(Bytes& p) {
    const std::uint16_t sum = checksum(std::span<const std::uint8_t>(p).first(p.size() - 2));
    p[p.size() - 2] = static_cast<std::uint8_t>(sum >> 8);
    p[p.size() - 1] = static_cast<std::uint8_t>(sum);
}

TEST(UasLocalSetTest, ChecksumAddsEvenBytesShiftedLeft) {
    EXPECT_EQ(checksum(Bytes{0x01, 0x02, 0x03}), 0x0402);
    EXPECT_EQ(checksum(Bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x01}), 0x00FE); // 0x200FE wraps at 16 bits
    EXPECT_EQ(checksum(Bytes{}), 0);
}

TEST(UasLocalSetTest, ChecksumCoversTheExamplePacket) {
    EXPECT_EQ(checksum(std::span<const std::uint8_t>(example_packet).first(example_packet.size() - 2)), 0xA534);
}

TEST(UasLocalSetTest, BuildsTheExamplePacketByteForByte) {
    UasLocalSet set;
    ASSERT_TRUE(set.set_mission_id("MISSION01"));
    ASSERT_TRUE(set.set_platform_heading(159.9744));
    ASSERT_TRUE(set.set_platform_pitch(-0.4315251));
    ASSERT_TRUE(set.set_sensor_latitude(60.176822966978335));
    ASSERT_TRUE(set.set_sensor_true_altitude(14190.72));
    set.set_version(17);
    // Set last, written first.
    set.set_precision_time_stamp(0x000459F4A6AA4AA8);
    auto bytes = set.encode();
    ASSERT_TRUE(bytes) << bytes.error().message();
    EXPECT_EQ(*bytes, example_packet);
}

TEST(UasLocalSetTest, ParsesTheExamplePacket) {
    auto set = UasLocalSet::parse(example_packet);
    ASSERT_TRUE(set) << set.error().message();
    EXPECT_EQ(set->precision_time_stamp(), 0x000459F4A6AA4AA8U);
    EXPECT_EQ(set->mission_id(), "MISSION01");
    EXPECT_NEAR(*set->platform_heading(), 159.9744, 360.0 / 65535);
    EXPECT_NEAR(*set->platform_pitch(), -0.4315251, 40.0 / 65534);
    EXPECT_NEAR(*set->sensor_latitude(), 60.176822966978335, 180.0 / 4294967294.0);
    EXPECT_NEAR(*set->sensor_true_altitude(), 14190.72, 19900.0 / 65535);
    EXPECT_EQ(set->version(), 17);
    EXPECT_EQ(set->checksum(), 0xA534);
    EXPECT_FALSE(set->platform_roll());
    EXPECT_EQ(set->items().size(), 7U);
    auto again = set->encode();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, example_packet);
}

TEST(UasLocalSetTest, SignedMappingsAreSymmetricWithTheirLimitsAtMax) {
    UasLocalSet set;
    ASSERT_TRUE(set.set_platform_pitch(0.0));
    EXPECT_EQ(*set.raw(6), (Bytes{0x00, 0x00}));
    ASSERT_TRUE(set.set_platform_pitch(20.0));
    EXPECT_EQ(*set.raw(6), (Bytes{0x7F, 0xFF})); // +32767
    ASSERT_TRUE(set.set_platform_pitch(-20.0));
    EXPECT_EQ(*set.raw(6), (Bytes{0x80, 0x01})); // -32767
    EXPECT_DOUBLE_EQ(*set.platform_pitch(), -20.0);
    ASSERT_TRUE(set.set_sensor_longitude(180.0));
    EXPECT_EQ(*set.raw(14), (Bytes{0x7F, 0xFF, 0xFF, 0xFF}));
    ASSERT_TRUE(set.set_sensor_longitude(-180.0));
    EXPECT_EQ(*set.raw(14), (Bytes{0x80, 0x00, 0x00, 0x01}));
    ASSERT_TRUE(set.set_platform_roll_full(-180.0));
    EXPECT_EQ(*set.raw(91), (Bytes{0x80, 0x00, 0x00, 0x01}));
}

TEST(UasLocalSetTest, UnsignedMappingsCoverTheirRange) {
    UasLocalSet set;
    ASSERT_TRUE(set.set_sensor_true_altitude(-900.0));
    EXPECT_EQ(*set.raw(15), (Bytes{0x00, 0x00}));
    ASSERT_TRUE(set.set_sensor_true_altitude(19000.0));
    EXPECT_EQ(*set.raw(15), (Bytes{0xFF, 0xFF}));
    ASSERT_TRUE(set.set_platform_heading(360.0));
    EXPECT_EQ(*set.raw(5), (Bytes{0xFF, 0xFF}));
    ASSERT_TRUE(set.set_platform_true_airspeed(147.0));
    EXPECT_EQ(*set.raw(8), Bytes{147});
    ASSERT_TRUE(set.set_slant_range(5'000'000.0));
    EXPECT_EQ(*set.raw(21), (Bytes{0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(UasLocalSetTest, OutOfRangeIntegerReadsAsNaNAndWritesBack) {
    UasLocalSet set;
    ASSERT_TRUE(set.set_platform_pitch(std::nan("")));
    EXPECT_EQ(*set.raw(6), (Bytes{0x80, 0x00}));
    EXPECT_TRUE(std::isnan(*set.platform_pitch()));
    EXPECT_FALSE(set.set_platform_heading(std::nan("")));
}

TEST(UasLocalSetTest, ValuesOutsideTheRangeAreErrorsNamingTagAndRange) {
    UasLocalSet set;
    auto pitch = set.set_platform_pitch(20.5);
    ASSERT_FALSE(pitch);
    EXPECT_TRUE(pitch.error().is(Errc::out_of_range));
    EXPECT_NE(pitch.error().message().find("tag 6"), std::string::npos) << pitch.error().message();
    EXPECT_NE(pitch.error().message().find("-20..20"), std::string::npos) << pitch.error().message();
    auto alt = set.set_sensor_true_altitude(-901);
    ASSERT_FALSE(alt);
    EXPECT_NE(alt.error().message().find("tag 15"), std::string::npos);
    EXPECT_NE(alt.error().message().find("-900..19000"), std::string::npos) << alt.error().message();
    EXPECT_FALSE(set.set_sensor_latitude(90.0001));
    EXPECT_FALSE(set.set_offset_corner_latitude(1, 0.08));
    EXPECT_FALSE(set.set_offset_corner_latitude(5, 0.01));
    EXPECT_FALSE(set.set_mission_id(""));
    EXPECT_FALSE(set.set_mission_id(std::string(128, 'x')));
    EXPECT_FALSE(set.set_raw(1, {0, 0}));
    EXPECT_TRUE(set.items().empty()) << "a refused value stores nothing";
}

TEST(UasLocalSetTest, EveryMappedTagRoundTripsWithinItsStep) {
    std::mt19937 rng(601);
    for (std::uint32_t tag = 1; tag < 100; ++tag) {
        const TagInfo* info = find_tag_info(tag);
        if (info == nullptr || info->kind != ValueKind::mapped) {
            continue;
        }
        SCOPED_TRACE(std::string(info->name));
        const double span = std::ldexp(1.0, 8 * info->size) - (info->is_signed ? 2.0 : 1.0);
        const double step = (info->max - info->min) / span;
        std::uniform_real_distribution<double> dist(info->min, info->max);
        for (int i = 0; i < 200; ++i) {
            const double v = i == 0 ? info->min : i == 1 ? info->max : dist(rng);
            UasLocalSet set;
            ASSERT_TRUE(set.set_number(static_cast<Tag>(tag), v));
            auto bytes = set.encode();
            ASSERT_TRUE(bytes);
            auto back = UasLocalSet::parse(*bytes);
            ASSERT_TRUE(back) << back.error().message();
            const double got = *back->number(static_cast<Tag>(tag));
            EXPECT_LE(std::abs(got - v), step / 2 * 1.000001) << v;
            // A decoded value encodes to the same integer.
            UasLocalSet again;
            ASSERT_TRUE(again.set_number(static_cast<Tag>(tag), got));
            EXPECT_EQ(again, *back);
        }
    }
}

TEST(UasLocalSetTest, TypedValuesOfTheCommonTagsReadBack) {
    UasLocalSet set;
    ASSERT_TRUE(set.set_platform_tail_number("AF-101"));
    ASSERT_TRUE(set.set_platform_designation("MQ1-B"));
    ASSERT_TRUE(set.set_image_source_sensor("EO"));
    ASSERT_TRUE(set.set_image_coordinate_system("WGS-84"));
    ASSERT_TRUE(set.set_offset_corner_longitude(3, -0.05));
    ASSERT_TRUE(set.set_target_location_elevation(3216.0));
    set.set_generic_flag_data(0x31);
    ASSERT_TRUE(set.set_security_local_set({0x01, 0x01, 0x01}));
    ASSERT_TRUE(set.set_platform_ground_speed(140));
    ASSERT_TRUE(set.set_ground_range(3'506'979.0));
    ASSERT_TRUE(set.set_platform_pitch_full(-0.4315251));
    auto bytes = set.encode();
    ASSERT_TRUE(bytes);
    auto back = UasLocalSet::parse(*bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->platform_tail_number(), "AF-101");
    EXPECT_EQ(back->platform_designation(), "MQ1-B");
    EXPECT_EQ(back->image_source_sensor(), "EO");
    EXPECT_EQ(back->image_coordinate_system(), "WGS-84");
    EXPECT_NEAR(*back->offset_corner_longitude(3), -0.05, 0.15 / 65534);
    EXPECT_TRUE(back->has(Tag::offset_corner_longitude_3));
    EXPECT_NEAR(*back->target_location_elevation(), 3216.0, 19900.0 / 65535);
    EXPECT_EQ(back->generic_flag_data(), 0x31);
    EXPECT_EQ(back->security_local_set(), (Bytes{0x01, 0x01, 0x01}));
    EXPECT_DOUBLE_EQ(*back->platform_ground_speed(), 140.0);
    EXPECT_NEAR(*back->ground_range(), 3'506'979.0, 5e6 / 4294967295.0);
    EXPECT_NEAR(*back->platform_pitch_full(), -0.4315251, 180.0 / 4294967294.0);
    EXPECT_EQ(*back, set);
}

TEST(UasLocalSetTest, SettingAgainReplacesInPlace) {
    UasLocalSet set;
    ASSERT_TRUE(set.set_platform_heading(10));
    ASSERT_TRUE(set.set_platform_pitch(1));
    ASSERT_TRUE(set.set_platform_heading(20));
    ASSERT_EQ(set.items().size(), 2U);
    EXPECT_EQ(set.items()[0].tag, 5U);
    EXPECT_TRUE(set.remove(5));
    EXPECT_FALSE(set.remove(5));
    EXPECT_FALSE(set.platform_heading());
}

TEST(UasLocalSetTest, UnknownTagsArePreservedAndReencodedUnchanged) {
    UasLocalSet set;
    set.set_precision_time_stamp(1);
    ASSERT_TRUE(set.set_raw(200, {0xDE, 0xAD})); // a BER-OID tag of two bytes
    ASSERT_TRUE(set.set_raw(99, {}));
    auto bytes = set.encode();
    ASSERT_TRUE(bytes);
    // 16 key + 1 length + 10 time stamp + (2 + 1 + 2) tag 200 + 2 tag 99 + 4 checksum.
    ASSERT_EQ(bytes->size(), 38U);
    EXPECT_EQ((Bytes(bytes->begin() + 27, bytes->begin() + 32)), (Bytes{0x81, 0x48, 0x02, 0xDE, 0xAD}));
    auto back = UasLocalSet::parse(*bytes);
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_NE(back->raw(200), nullptr);
    EXPECT_EQ(*back->raw(200), (Bytes{0xDE, 0xAD}));
    EXPECT_EQ(back->encode().value(), *bytes);
}

TEST(UasLocalSetTest, ParsedItemsKeepTheirOrderAndDuplicates) {
    // Heading, then the time stamp, then heading again: not what ST 0601
    // asks for, but read and written back as it came.
    Bytes p{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01,
            0x00, 0x00, 0x00, 0x16, 0x05, 0x02, 0x00, 0x01, 0x02, 0x08, 0,    0,    0,
            0,    0,    0,    0,    9,    0x05, 0x02, 0x00, 0x02, 0x01, 0x02, 0,    0};
    fix_checksum(p);
    auto set = UasLocalSet::parse(p);
    ASSERT_TRUE(set) << message(set);
    ASSERT_EQ(set->items().size(), 3U);
    EXPECT_EQ(set->items()[1].tag, 2U);
    EXPECT_EQ(set->precision_time_stamp(), 9U);
    EXPECT_NEAR(*set->platform_heading(), 360.0 / 65535, 1e-12); // the first one
    EXPECT_EQ(set->encode().value(), p);
}

TEST(UasLocalSetTest, NonMinimalLengthsAreReadAndWrittenMinimal) {
    Bytes p{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01, 0x00,
            0x00, 0x00, 0x82, 0x00, 0x08, 0x41, 0x81, 0x01, 0x11, 0x01, 0x02, 0,    0};
    fix_checksum(p);
    auto set = UasLocalSet::parse(p);
    ASSERT_TRUE(set) << message(set);
    EXPECT_EQ(set->version(), 17);
    auto out = set->encode().value();
    EXPECT_EQ(out.size(), p.size() - 3);
    EXPECT_EQ(UasLocalSet::parse(out).value(), *set);
}

TEST(UasLocalSetTest, WrongChecksumSaysExpectedAndFound) {
    Bytes p = example_packet;
    p.back() ^= 0x01;
    auto r = UasLocalSet::parse(p);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::corrupt));
    EXPECT_NE(r.error().message().find("checksum 0xA535 expected 0xA534"), std::string::npos) << message(r);
    EXPECT_NE(r.error().message().find("byte 59"), std::string::npos) << message(r);
}

TEST(UasLocalSetTest, CorruptValueBytesAreCaughtByTheChecksum) {
    Bytes p = example_packet;
    p[30] ^= 0x20;
    EXPECT_NE(message(UasLocalSet::parse(p)).find("checksum"), std::string::npos);
}

TEST(UasLocalSetTest, WrongKeyIsRefusedNamingTheByte) {
    Bytes p = example_packet;
    p[10] = 0x02;
    EXPECT_NE(message(UasLocalSet::parse(p)).find("key byte 10"), std::string::npos) << message(UasLocalSet::parse(p));
    EXPECT_NE(message(UasLocalSet::parse(Bytes(example_packet.begin(), example_packet.begin() + 9))).find("key"),
              std::string::npos);
}

TEST(UasLocalSetTest, TruncatedPacketsAreRefusedAtEveryLength) {
    for (std::size_t n = 0; n < example_packet.size(); ++n) {
        auto r = UasLocalSet::parse(std::span<const std::uint8_t>(example_packet).first(n));
        ASSERT_FALSE(r) << n;
        EXPECT_TRUE(r.error().is(Errc::corrupt));
    }
    auto cut = UasLocalSet::parse(std::span<const std::uint8_t>(example_packet).first(40));
    EXPECT_NE(message(cut).find("runs past the data"), std::string::npos) << message(cut);
}

TEST(UasLocalSetTest, ItemRunningPastThePacketNamesItsOffset) {
    Bytes p = example_packet;
    p[46 + 1] = 0x30; // tag 13 at byte 46 claims 48 bytes
    auto r = UasLocalSet::parse(p);
    EXPECT_NE(message(r).find("tag 13 at byte 46"), std::string::npos) << message(r);
    EXPECT_NE(message(r).find("runs past the packet end"), std::string::npos) << message(r);
}

TEST(UasLocalSetTest, KnownTagsWithTheWrongLengthAreRefused) {
    // Tag 5 (heading) with 3 bytes instead of 2: the packet is rebuilt.
    UasLocalSet set;
    ASSERT_TRUE(set.set_raw(5, {1, 2, 3}));
    auto encoded = set.encode();
    ASSERT_FALSE(encoded);
    EXPECT_NE(encoded.error().message().find("tag 5"), std::string::npos) << encoded.error().message();

    Bytes p{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01,
            0x00, 0x00, 0x00, 0x09, 0x05, 0x03, 0x01, 0x02, 0x03, 0x01, 0x02, 0x00, 0x00};
    fix_checksum(p);
    auto r = UasLocalSet::parse(p);
    EXPECT_NE(message(r).find("tag 5 (platform heading angle) at byte 17 has 3 bytes, expected 2"), std::string::npos)
        << message(r);
}

TEST(UasLocalSetTest, ChecksumMustBePresentAndLast) {
    Bytes no_checksum{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01,
                      0x03, 0x01, 0x01, 0x00, 0x00, 0x00, 0x03, 0x41, 0x01, 0x11};
    EXPECT_NE(message(UasLocalSet::parse(no_checksum)).find("no checksum"), std::string::npos);

    Bytes p = example_packet;
    p[16] = static_cast<std::uint8_t>(p[16] + 3);
    const std::uint16_t sum = checksum(std::span<const std::uint8_t>(p).first(61));
    p[61] = static_cast<std::uint8_t>(sum >> 8);
    p[62] = static_cast<std::uint8_t>(sum);
    p.insert(p.end(), {0x41, 0x01, 0x11});
    EXPECT_NE(message(UasLocalSet::parse(p)).find("follows the checksum"), std::string::npos)
        << message(UasLocalSet::parse(p));
}

TEST(UasLocalSetTest, TrailingBytesAndBadLengthsAreRefused) {
    Bytes p = example_packet;
    p.push_back(0);
    EXPECT_NE(message(UasLocalSet::parse(p)).find("1 bytes after the end of the packet at byte 63"), std::string::npos)
        << message(UasLocalSet::parse(p));
    Bytes q = example_packet;
    q[16] = 0x80;
    EXPECT_NE(message(UasLocalSet::parse(q)).find("indefinite"), std::string::npos);
}

TEST(UasLocalSetTest, RandomBytesNeverCrashTheParser) {
    std::mt19937 rng(0x601);
    std::uniform_int_distribution<int> byte(0, 255);
    std::size_t parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes p;
        if (i % 2 == 0) {
            // Mutations of a valid packet reach deeper than noise.
            p = example_packet;
            const int edits = 1 + i % 4;
            for (int e = 0; e < edits; ++e) {
                p[static_cast<std::size_t>(byte(rng)) % p.size()] = static_cast<std::uint8_t>(byte(rng));
            }
            if (i % 8 == 0) {
                fix_checksum(p);
            }
        } else {
            p.assign(uas_local_set_key.begin(), uas_local_set_key.end());
            const int n = byte(rng) % 64;
            for (int k = 0; k < n; ++k) {
                p.push_back(static_cast<std::uint8_t>(byte(rng)));
            }
        }
        auto r = UasLocalSet::parse(p);
        if (r) {
            ++parsed;
            auto again = r->encode();
            ASSERT_TRUE(again) << again.error().message();
            auto second = UasLocalSet::parse(*again);
            ASSERT_TRUE(second);
            EXPECT_EQ(*second, *r);
        } else {
            EXPECT_NE(r.error().message().find("byte"), std::string::npos) << r.error().message();
        }
    }
    EXPECT_GT(parsed, 0U);
}

} // namespace
} // namespace parallax::klv
