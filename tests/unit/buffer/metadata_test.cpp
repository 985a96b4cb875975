#include <parallax/buffer/metadata.hpp>

#include "support/allocation_counter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace parallax {
namespace {

using check::AllocationCounter;

// ---------------------------------------------------------------------------
// Test value types and their codecs.

struct Position {
    std::int32_t lat_microdeg = 0;
    std::int32_t lon_microdeg = 0;
    friend bool operator==(const Position&, const Position&) = default;
};

// No operator==: equal only to itself.
struct Opaque {
    int value = 0;
};

struct Unregistered {
    int value = 0;
    friend bool operator==(const Unregistered&, const Unregistered&) = default;
};

constexpr std::string_view position_key = "test.position";
constexpr std::string_view label_key = "test.label";
constexpr std::string_view count_key = "test.count";
constexpr std::string_view throwing_key = "test.throws";
constexpr std::string_view tag2_key = "test.tag2";

void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<std::byte>(v >> (8 * i)));
    }
}

std::uint32_t get_u32(std::span<const std::byte> in) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        v |= static_cast<std::uint32_t>(in[static_cast<std::size_t>(i)]) << (8 * i);
    }
    return v;
}

// Registered once per process (tests may run in any order, or repeatedly).
void register_test_codecs() {
    static const bool registered = [] {
        auto position = register_metadata_codec<Position>(
            position_key,
            [](const Position& p, std::vector<std::byte>& out) {
                put_u32(out, static_cast<std::uint32_t>(p.lat_microdeg));
                put_u32(out, static_cast<std::uint32_t>(p.lon_microdeg));
            },
            [](std::span<const std::byte> in) -> Result<Position> {
                if (in.size() != 8) {
                    return fail(Errc::corrupt, "a position is 8 bytes, not " + std::to_string(in.size()));
                }
                return Position{static_cast<std::int32_t>(get_u32(in.first(4))),
                                static_cast<std::int32_t>(get_u32(in.subspan(4)))};
            });
        auto label = register_metadata_codec<std::string>(
            label_key,
            [](const std::string& s, std::vector<std::byte>& out) {
                const auto* first = reinterpret_cast<const std::byte*>(s.data());
                out.insert(out.end(), first, first + s.size());
            },
            [](std::span<const std::byte> in) -> Result<std::string> {
                return std::string(reinterpret_cast<const char*>(in.data()), in.size());
            });
        auto count = register_metadata_codec<std::uint32_t>(
            count_key, [](std::uint32_t v, std::vector<std::byte>& out) { put_u32(out, v); },
            [](std::span<const std::byte> in) -> Result<std::uint32_t> {
                if (in.size() != 4) {
                    return fail(Errc::corrupt, "a count is 4 bytes");
                }
                return get_u32(in);
            });
        auto throwing = register_metadata_codec<int>(
            throwing_key, [](int, std::vector<std::byte>&) { throw std::runtime_error("encode exploded"); },
            [](std::span<const std::byte>) -> Result<int> { throw std::runtime_error("decode exploded"); });
        auto tag2 = register_metadata_codec<std::uint32_t>(
            tag2_key, [](std::uint32_t v, std::vector<std::byte>& out) { put_u32(out, v); },
            [](std::span<const std::byte> in) -> Result<std::uint32_t> {
                if (in.size() != 4) {
                    return fail(Errc::corrupt, "4 bytes");
                }
                return get_u32(in);
            },
            2);
        return position && label && count && throwing && tag2;
    }();
    ASSERT_TRUE(registered);
}

Metadata full_metadata() {
    Metadata m;
    m.set_pts(ClockTime::from_ms(1500));
    m.set_dts(ClockTime::from_ms(1400));
    m.set_duration(ClockTime::from_ms(40));
    m.set_sequence(123456789012345ULL);
    m.set_stream_id(7);
    m.set_byte_offset(4096);
    m.set_flags(BufferFlags::keyframe | BufferFlags::discont | BufferFlags::live);
    m.set_rtp(RtpInfo{.timestamp = 90000, .ssrc = 0xdeadbeef, .sequence = 65535, .payload_type = 96, .marker = true});
    m.set_klv({0x06, 0x0e, 0x2b, 0x34, 0x02, 0x0b, 0x01, 0x01});
    m.set(position_key, Position{48'858'370, 2'294'481});
    m.set(label_key, std::string("front camera"));
    m.set(count_key, std::uint32_t{42});
    return m;
}

std::vector<std::byte> serialized(const Metadata& m) {
    auto bytes = m.serialize();
    EXPECT_TRUE(bytes) << bytes.error().message();
    return bytes ? *bytes : std::vector<std::byte>{};
}

void patch_u16(std::vector<std::byte>& bytes, std::size_t offset, std::uint16_t v) {
    bytes[offset] = static_cast<std::byte>(v);
    bytes[offset + 1] = static_cast<std::byte>(v >> 8);
}

void patch_u32(std::vector<std::byte>& bytes, std::size_t offset, std::uint32_t v) {
    for (std::size_t i = 0; i < 4; ++i) {
        bytes[offset + i] = static_cast<std::byte>(v >> (8 * i));
    }
}

// Appends one raw entry to a serialization and bumps its entry count.
void append_entry(std::vector<std::byte>& bytes, std::string_view key, std::uint16_t tag,
                  std::span<const std::byte> payload) {
    bytes.push_back(static_cast<std::byte>(key.size()));
    for (char c : key) {
        bytes.push_back(static_cast<std::byte>(c));
    }
    bytes.push_back(static_cast<std::byte>(tag));
    bytes.push_back(static_cast<std::byte>(tag >> 8));
    put_u32(bytes, static_cast<std::uint32_t>(payload.size()));
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    const auto count =
        static_cast<std::uint16_t>(static_cast<unsigned>(bytes[6]) | static_cast<unsigned>(bytes[7]) << 8);
    patch_u16(bytes, 6, static_cast<std::uint16_t>(count + 1));
}

std::vector<std::byte> bare_serialization() {
    return serialized(Metadata{});
}

// Expects deserialization to fail with `code` and a message containing each
// of `says`.
void expect_rejected(std::span<const std::byte> bytes, Errc code, std::initializer_list<std::string_view> says) {
    auto result = Metadata::deserialize(bytes);
    ASSERT_FALSE(result) << "accepted";
    EXPECT_TRUE(result.error().is(code)) << result.error().message();
    for (std::string_view s : says) {
        EXPECT_NE(result.error().message().find(s), std::string::npos)
            << "\"" << result.error().message() << "\" lacks \"" << s << "\"";
    }
}

class MetadataTest : public ::testing::Test {
protected:
    void SetUp() override { register_test_codecs(); }
};

// ---------------------------------------------------------------------------
// Fixed fields

TEST_F(MetadataTest, DefaultHasNoTimesNoFlagsNoRtpAndNoEntries) {
    Metadata m;
    EXPECT_TRUE(m.pts().is_none());
    EXPECT_TRUE(m.dts().is_none());
    EXPECT_TRUE(m.duration().is_none());
    EXPECT_EQ(m.sequence(), 0U);
    EXPECT_EQ(m.stream_id(), 0U);
    EXPECT_EQ(m.byte_offset(), Metadata::no_byte_offset);
    EXPECT_FALSE(m.has_byte_offset());
    EXPECT_EQ(m.flags(), BufferFlags::none);
    EXPECT_EQ(m.rtp(), RtpInfo{});
    EXPECT_FALSE(m.rtp().present);
    EXPECT_EQ(m.entry_count(), 0U);
    EXPECT_FALSE(m.has_entries());
    EXPECT_TRUE(m.keys().empty());
    EXPECT_TRUE(m.klv().empty());
}

TEST_F(MetadataTest, SettersStoreEveryFixedField) {
    Metadata m;
    m.set_pts(ClockTime::from_ms(1));
    m.set_dts(ClockTime::from_ms(2));
    m.set_duration(ClockTime::from_ms(3));
    m.set_sequence(4);
    m.set_stream_id(5);
    m.set_byte_offset(6);
    EXPECT_EQ(m.pts(), ClockTime::from_ms(1));
    EXPECT_EQ(m.dts(), ClockTime::from_ms(2));
    EXPECT_EQ(m.duration(), ClockTime::from_ms(3));
    EXPECT_EQ(m.sequence(), 4U);
    EXPECT_EQ(m.stream_id(), 5U);
    EXPECT_EQ(m.byte_offset(), 6U);
    EXPECT_TRUE(m.has_byte_offset());
    m.set_byte_offset(Metadata::no_byte_offset);
    EXPECT_FALSE(m.has_byte_offset());
}

TEST_F(MetadataTest, FlagOperatorsCombineMaskAndComplementWithinKnownFlags) {
    BufferFlags f = BufferFlags::keyframe | BufferFlags::header;
    EXPECT_EQ(f & BufferFlags::header, BufferFlags::header);
    EXPECT_EQ(f & BufferFlags::gap, BufferFlags::none);
    EXPECT_EQ(f ^ BufferFlags::header, BufferFlags::keyframe);
    EXPECT_EQ(~BufferFlags::none, all_buffer_flags);
    EXPECT_EQ(~all_buffer_flags, BufferFlags::none);
    EXPECT_EQ(~f & f, BufferFlags::none);
    f |= BufferFlags::eos;
    EXPECT_TRUE(has_flags(f, BufferFlags::eos | BufferFlags::keyframe));
    f &= ~BufferFlags::keyframe;
    EXPECT_FALSE(has_flags(f, BufferFlags::keyframe));
    f ^= BufferFlags::gap;
    EXPECT_TRUE(has_flags(f, BufferFlags::gap));
    EXPECT_FALSE(has_flags(f, BufferFlags::none));
    EXPECT_FALSE(has_flags(f, BufferFlags::gap | BufferFlags::delta));
    // Every named flag is a distinct bit inside all_buffer_flags.
    const BufferFlags named[] = {BufferFlags::keyframe,    BufferFlags::delta,     BufferFlags::discont,
                                 BufferFlags::eos,         BufferFlags::corrupted, BufferFlags::header,
                                 BufferFlags::decode_only, BufferFlags::gap,       BufferFlags::droppable,
                                 BufferFlags::live};
    BufferFlags all = BufferFlags::none;
    for (BufferFlags flag : named) {
        EXPECT_EQ(all & flag, BufferFlags::none);
        all |= flag;
    }
    EXPECT_EQ(all, all_buffer_flags);
}

TEST_F(MetadataTest, FlagHelpersSetTestAndUnsetFlags) {
    Metadata m;
    m.set_flag(BufferFlags::delta | BufferFlags::droppable);
    EXPECT_TRUE(m.has_flag(BufferFlags::delta));
    EXPECT_TRUE(m.has_flag(BufferFlags::delta | BufferFlags::droppable));
    EXPECT_FALSE(m.has_flag(BufferFlags::keyframe));
    m.unset_flag(BufferFlags::delta);
    EXPECT_FALSE(m.has_flag(BufferFlags::delta));
    EXPECT_TRUE(m.has_flag(BufferFlags::droppable));
    m.set_flags(BufferFlags::gap);
    EXPECT_EQ(m.flags(), BufferFlags::gap);
}

TEST_F(MetadataTest, SetRtpMarksPresentAndClearRtpZeroesEverything) {
    Metadata m;
    RtpInfo info{.timestamp = 1, .ssrc = 2, .sequence = 3, .payload_type = 4, .marker = true, .present = false};
    m.set_rtp(info);
    EXPECT_TRUE(m.rtp().present);
    EXPECT_EQ(m.rtp().timestamp, 1U);
    EXPECT_EQ(m.rtp().ssrc, 2U);
    EXPECT_EQ(m.rtp().sequence, 3U);
    EXPECT_EQ(m.rtp().payload_type, 4U);
    EXPECT_TRUE(m.rtp().marker);
    m.clear_rtp();
    EXPECT_EQ(m.rtp(), RtpInfo{});
}

// ---------------------------------------------------------------------------
// Custom entries

TEST_F(MetadataTest, GetReturnsTheValueOfTheTypeThatWasSet) {
    Metadata m;
    m.set(position_key, Position{1, 2});
    const Position* p = m.get<Position>(position_key);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, (Position{1, 2}));
}

TEST_F(MetadataTest, GetReturnsNullForAbsentKeyOrOtherType) {
    Metadata m;
    EXPECT_EQ(m.get<int>("nothing"), nullptr);
    m.set("n", 5);
    EXPECT_EQ(m.get<long>("n"), nullptr);
    EXPECT_EQ(m.get<unsigned>("n"), nullptr);
    EXPECT_EQ(m.get<int>("m"), nullptr);
    ASSERT_NE(m.get<int>("n"), nullptr);
    EXPECT_EQ(*m.get<int>("n"), 5);
}

TEST_F(MetadataTest, SetReplacesAValueOfAnyType) {
    Metadata m;
    m.set("k", 5);
    m.set("k", std::string("five"));
    EXPECT_EQ(m.entry_count(), 1U);
    EXPECT_EQ(m.get<int>("k"), nullptr);
    ASSERT_NE(m.get<std::string>("k"), nullptr);
    EXPECT_EQ(*m.get<std::string>("k"), "five");
}

TEST_F(MetadataTest, HasEraseAndCountTrackEntries) {
    Metadata m;
    m.set("a", 1);
    m.set("b", 2);
    EXPECT_TRUE(m.has("a"));
    EXPECT_TRUE(m.has("b"));
    EXPECT_FALSE(m.has("c"));
    EXPECT_EQ(m.entry_count(), 2U);
    EXPECT_TRUE(m.erase("a"));
    EXPECT_FALSE(m.erase("a"));
    EXPECT_FALSE(m.erase("zzz"));
    EXPECT_FALSE(m.has("a"));
    EXPECT_EQ(m.entry_count(), 1U);
    EXPECT_TRUE(m.has_entries());
}

TEST_F(MetadataTest, ErasingTheLastEntryReleasesTheEntryList) {
    Metadata m;
    m.set("a", 1);
    EXPECT_TRUE(m.has_entries());
    EXPECT_TRUE(m.erase("a"));
    EXPECT_FALSE(m.has_entries());
    EXPECT_EQ(m.entry_count(), 0U);
    EXPECT_FALSE(Metadata().erase("a"));
}

TEST_F(MetadataTest, ClearEntriesRemovesEveryEntry) {
    Metadata m = full_metadata();
    m.clear_entries();
    EXPECT_FALSE(m.has_entries());
    EXPECT_EQ(m.entry_count(), 0U);
    EXPECT_TRUE(m.klv().empty());
    EXPECT_EQ(m.pts(), ClockTime::from_ms(1500)); // fixed fields stay
}

TEST_F(MetadataTest, KeysIterateInAscendingOrder) {
    Metadata m;
    m.set("zeta", 1);
    m.set("alpha", 2);
    m.set("mid", 3);
    m.set("alpha", 4);
    std::vector<std::string_view> keys(m.keys().begin(), m.keys().end());
    EXPECT_EQ(keys, (std::vector<std::string_view>{"alpha", "mid", "zeta"}));
    EXPECT_EQ(m.keys().size(), 3U);
    EXPECT_FALSE(m.keys().empty());
    auto it = m.keys().begin();
    EXPECT_EQ(*it++, "alpha");
    EXPECT_EQ(*it, "mid");
    static_assert(std::forward_iterator<Metadata::KeyRange::iterator>);
}

TEST_F(MetadataTest, KlvBytesAreStoredUnderTheKlvKey) {
    Metadata m;
    m.set_klv({1, 2, 3});
    const std::vector<std::uint8_t> expected{1, 2, 3};
    EXPECT_TRUE(std::ranges::equal(m.klv(), expected));
    EXPECT_TRUE(m.has(klv_metadata_key));
    ASSERT_NE(m.get<KlvBytes>("klv"), nullptr);
    EXPECT_EQ(m.get<KlvBytes>("klv")->bytes, expected);
    m.set("klv", std::string("not klv"));
    EXPECT_TRUE(m.klv().empty());
}

TEST_F(MetadataTest, CopySharesEntriesUntilOneSideChanges) {
    Metadata original;
    original.set("a", std::string("one"));
    Metadata copy = original;
    // Shared: the same value object.
    EXPECT_EQ(copy.get<std::string>("a"), original.get<std::string>("a"));
    const std::string* original_a = original.get<std::string>("a");

    copy.set("b", 2);
    EXPECT_FALSE(original.has("b"));
    EXPECT_TRUE(copy.has("b"));
    // The list was copied, the untouched value was not.
    EXPECT_EQ(copy.get<std::string>("a"), original_a);

    copy.set("a", std::string("changed"));
    EXPECT_EQ(*original.get<std::string>("a"), "one");
    EXPECT_EQ(original.get<std::string>("a"), original_a);
    EXPECT_EQ(*copy.get<std::string>("a"), "changed");

    Metadata second = original;
    EXPECT_TRUE(second.erase("a"));
    EXPECT_TRUE(original.has("a"));
    EXPECT_FALSE(second.has_entries());
}

TEST_F(MetadataTest, AssignmentAndMoveCarryEverything) {
    const Metadata full = full_metadata();
    Metadata assigned;
    assigned = full;
    EXPECT_EQ(assigned, full);
    Metadata moved = std::move(assigned);
    EXPECT_EQ(moved, full);
    Metadata move_assigned;
    move_assigned = std::move(moved);
    EXPECT_EQ(move_assigned, full);
}

TEST_F(MetadataTest, CopyWithoutCustomEntriesDoesNotAllocate) {
    Metadata original;
    original.set_pts(ClockTime::from_ms(1));
    original.set_flags(BufferFlags::keyframe);
    original.set_rtp(RtpInfo{.timestamp = 1});
    std::vector<Metadata> copies;
    copies.reserve(8);
    std::size_t allocations = 0;
    std::size_t probe_allocations = 0;
    {
        AllocationCounter counter;
        // Proves that the counter sees allocations at all.
        ::operator delete(::operator new(16));
        probe_allocations = counter.count();
        for (int i = 0; i < 4; ++i) {
            copies.push_back(original);
        }
        Metadata assigned;
        assigned = original;
        copies.push_back(assigned);
        allocations = counter.count() - probe_allocations;
    }
    EXPECT_EQ(probe_allocations, 1U);
    EXPECT_EQ(allocations, 0U);
    EXPECT_EQ(copies.back(), original);
    static_assert(std::is_nothrow_copy_constructible_v<Metadata>);
    static_assert(sizeof(Metadata) <= 80, "the fixed fields should stay about one cache line");
}

TEST_F(MetadataTest, CopyWithCustomEntriesDoesNotAllocate) {
    const Metadata original = full_metadata();
    std::vector<Metadata> copies;
    copies.reserve(8);
    std::size_t allocations = 0;
    {
        AllocationCounter counter;
        for (int i = 0; i < 4; ++i) {
            copies.push_back(original);
        }
        allocations = counter.count();
    }
    EXPECT_EQ(allocations, 0U);
    EXPECT_EQ(copies.back(), original);
}

TEST_F(MetadataTest, EqualityComparesFixedFieldsAndEntries) {
    const Metadata a = full_metadata();
    Metadata b = full_metadata(); // equal values, distinct objects
    EXPECT_EQ(a, b);
    b.set_sequence(b.sequence() + 1);
    EXPECT_NE(a, b);
    b = full_metadata();
    b.set(count_key, std::uint32_t{43});
    EXPECT_NE(a, b);
    b = full_metadata();
    b.erase(count_key);
    EXPECT_NE(a, b);
    EXPECT_NE(b, a);
    b.set("test.other", std::uint32_t{42});
    EXPECT_NE(a, b);
    b = full_metadata();
    b.set(count_key, 42); // int, not uint32_t
    EXPECT_NE(a, b);
    EXPECT_NE(a, Metadata{});
    EXPECT_NE(Metadata{}, a);
    EXPECT_EQ(Metadata{}, Metadata{});
}

TEST_F(MetadataTest, ValuesWithoutEqualityAreEqualOnlyToThemselves) {
    Metadata a;
    a.set("o", Opaque{1});
    Metadata shared = a;
    EXPECT_EQ(a, shared);
    Metadata other;
    other.set("o", Opaque{1});
    EXPECT_NE(a, other);
}

// ---------------------------------------------------------------------------
// Serialization

TEST_F(MetadataTest, SerializeRoundTripsEveryField) {
    const Metadata m = full_metadata();
    auto bytes = m.serialize();
    ASSERT_TRUE(bytes) << bytes.error().message();
    auto back = Metadata::deserialize(*bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, m);
    EXPECT_EQ(back->pts(), m.pts());
    EXPECT_EQ(back->dts(), m.dts());
    EXPECT_EQ(back->duration(), m.duration());
    EXPECT_EQ(back->sequence(), m.sequence());
    EXPECT_EQ(back->stream_id(), m.stream_id());
    EXPECT_EQ(back->byte_offset(), m.byte_offset());
    EXPECT_EQ(back->flags(), m.flags());
    EXPECT_EQ(back->rtp(), m.rtp());
    EXPECT_TRUE(std::ranges::equal(back->klv(), m.klv()));
    EXPECT_EQ(*back->get<Position>(position_key), *m.get<Position>(position_key));
    EXPECT_EQ(*back->get<std::string>(label_key), "front camera");
    EXPECT_EQ(*back->get<std::uint32_t>(count_key), 42U);
    // Canonical: serializing again gives the same bytes.
    EXPECT_EQ(serialized(*back), *bytes);
}

TEST_F(MetadataTest, SerializeRoundTripsDefaultsAndExtremes) {
    Metadata extremes;
    extremes.set_pts(ClockTime::max());
    extremes.set_dts(ClockTime::zero());
    extremes.set_duration(ClockTime::none());
    extremes.set_sequence(~std::uint64_t{0});
    extremes.set_stream_id(~std::uint32_t{0});
    extremes.set_byte_offset(0);
    extremes.set_flags(all_buffer_flags);
    extremes.set_rtp(RtpInfo{.timestamp = ~0U, .ssrc = ~0U, .sequence = 0xffff, .payload_type = 127});
    extremes.set_klv({});
    extremes.set(label_key, std::string(255, '\xff'));
    for (const Metadata& m : {Metadata{}, extremes}) {
        auto back = Metadata::deserialize(serialized(m));
        ASSERT_TRUE(back) << back.error().message();
        EXPECT_EQ(*back, m);
    }
}

TEST_F(MetadataTest, SerializeWithoutEntriesIsTheFixedSize) {
    Metadata m;
    m.set_pts(ClockTime::from_s(1));
    EXPECT_EQ(serialized(m).size(), Metadata::fixed_serialized_size);
}

TEST_F(MetadataTest, SerializedLayoutMatchesTheDocumentedOffsets) {
    Metadata m;
    m.set_pts(ClockTime::from_ns(0x0102030405060708));
    m.set_dts(ClockTime::from_ns(0x1112131415161718));
    m.set_duration(ClockTime::from_ns(0x2122232425262728));
    m.set_sequence(0x3132333435363738);
    m.set_byte_offset(0x4142434445464748);
    m.set_stream_id(0x51525354);
    m.set_flags(BufferFlags::keyframe | BufferFlags::live);
    m.set_rtp(
        RtpInfo{.timestamp = 0x61626364, .ssrc = 0x71727374, .sequence = 0x8182, .payload_type = 0x60, .marker = true});
    m.set_klv({0xaa, 0xbb});
    const std::vector<std::byte> bytes = serialized(m);
    ASSERT_EQ(bytes.size(), Metadata::fixed_serialized_size + 1 + 3 + 2 + 4 + 2);
    auto at = [&](std::size_t offset, std::size_t size) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < size; ++i) {
            v |= static_cast<std::uint64_t>(bytes[offset + i]) << (8 * i);
        }
        return v;
    };
    EXPECT_EQ(at(0, 4), 0x444d5850U); // "PXMD"
    EXPECT_EQ(at(4, 2), 1U);
    EXPECT_EQ(at(6, 2), 1U);
    EXPECT_EQ(at(8, 8), 0x0102030405060708U);
    EXPECT_EQ(at(16, 8), 0x1112131415161718U);
    EXPECT_EQ(at(24, 8), 0x2122232425262728U);
    EXPECT_EQ(at(32, 8), 0x3132333435363738U);
    EXPECT_EQ(at(40, 8), 0x4142434445464748U);
    EXPECT_EQ(at(48, 4), 0x51525354U);
    EXPECT_EQ(at(52, 4), 0x201U);
    EXPECT_EQ(at(56, 4), 0x61626364U);
    EXPECT_EQ(at(60, 4), 0x71727374U);
    EXPECT_EQ(at(64, 2), 0x8182U);
    EXPECT_EQ(at(66, 1), 0x60U);
    EXPECT_EQ(at(67, 1), 3U);        // present | marker
    EXPECT_EQ(at(68, 1), 3U);        // key length
    EXPECT_EQ(at(69, 3), 0x766c6bU); // "klv"
    EXPECT_EQ(at(72, 2), 1U);        // tag
    EXPECT_EQ(at(74, 4), 2U);        // payload length
    EXPECT_EQ(at(78, 2), 0xbbaaU);
}

TEST_F(MetadataTest, SerializeIntoSpanWritesTheSameBytes) {
    const Metadata m = full_metadata();
    const std::vector<std::byte> expected = serialized(m);
    std::vector<std::byte> out(expected.size() + 10, std::byte{0xee});
    auto written = m.serialize(std::span<std::byte>(out));
    ASSERT_TRUE(written) << written.error().message();
    EXPECT_EQ(*written, expected.size());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin()));
    EXPECT_EQ(out.back(), std::byte{0xee});
}

TEST_F(MetadataTest, SerializeIntoTooSmallSpanFailsSayingTheSize) {
    const Metadata m = full_metadata();
    const std::size_t needed = serialized(m).size();
    std::vector<std::byte> out(needed - 1);
    auto written = m.serialize(std::span<std::byte>(out));
    ASSERT_FALSE(written);
    EXPECT_TRUE(written.error().is(Errc::out_of_range));
    EXPECT_NE(written.error().message().find("needs " + std::to_string(needed) + " bytes"), std::string::npos)
        << written.error().message();
}

TEST_F(MetadataTest, SerializeIntoSpanWithoutEntriesDoesNotAllocate) {
    Metadata m;
    m.set_pts(ClockTime::from_ms(5));
    std::array<std::byte, Metadata::fixed_serialized_size> out{};
    std::size_t allocations = 0;
    bool ok = false;
    {
        AllocationCounter counter;
        ok = m.serialize(std::span<std::byte>(out)).has_value();
        allocations = counter.count();
    }
    EXPECT_TRUE(ok);
    EXPECT_EQ(allocations, 0U);
}

TEST_F(MetadataTest, SerializeFailsForAKeyWithoutCodecNamingTheKey) {
    Metadata m;
    m.set("no.codec.here", Unregistered{1});
    auto bytes = m.serialize();
    ASSERT_FALSE(bytes);
    EXPECT_TRUE(bytes.error().is(Errc::unsupported));
    EXPECT_NE(bytes.error().message().find("'no.codec.here'"), std::string::npos) << bytes.error().message();
    std::array<std::byte, 512> out{};
    EXPECT_FALSE(m.serialize(std::span<std::byte>(out)));
}

TEST_F(MetadataTest, SerializeFailsForAValueOfAnotherTypeThanItsCodec) {
    Metadata m;
    m.set(count_key, std::string("not a count"));
    auto bytes = m.serialize();
    ASSERT_FALSE(bytes);
    EXPECT_TRUE(bytes.error().is(Errc::invalid_argument));
    EXPECT_NE(bytes.error().message().find(std::string(count_key)), std::string::npos) << bytes.error().message();
}

TEST_F(MetadataTest, SerializeFailsForBadKeys) {
    Metadata empty_key;
    empty_key.set("", 1);
    auto a = empty_key.serialize();
    ASSERT_FALSE(a);
    EXPECT_TRUE(a.error().is(Errc::invalid_argument));

    Metadata long_key;
    long_key.set(std::string(256, 'k'), 1);
    auto b = long_key.serialize();
    ASSERT_FALSE(b);
    EXPECT_TRUE(b.error().is(Errc::invalid_argument));
    EXPECT_NE(b.error().message().find("256"), std::string::npos) << b.error().message();
}

TEST_F(MetadataTest, SerializeFailsForValuesTheFormCannotHold) {
    Metadata flags;
    flags.set_flags(static_cast<BufferFlags>(1U << 20));
    auto a = flags.serialize();
    ASSERT_FALSE(a);
    EXPECT_TRUE(a.error().is(Errc::invalid_argument));
    EXPECT_NE(a.error().message().find("0x100000"), std::string::npos) << a.error().message();

    Metadata rtp;
    rtp.set_rtp(RtpInfo{.payload_type = 128});
    auto b = rtp.serialize();
    ASSERT_FALSE(b);
    EXPECT_TRUE(b.error().is(Errc::invalid_argument));
    std::array<std::byte, Metadata::fixed_serialized_size> out{};
    EXPECT_FALSE(rtp.serialize(std::span<std::byte>(out)));
}

TEST_F(MetadataTest, SerializeFailsForTooManyEntries) {
    Metadata m;
    for (std::size_t i = 0; i <= Metadata::max_serialized_entries; ++i) {
        m.set(std::to_string(i), 1);
    }
    auto bytes = m.serialize();
    ASSERT_FALSE(bytes);
    EXPECT_TRUE(bytes.error().is(Errc::out_of_range));
}

TEST_F(MetadataTest, SerializeFailsForAnOversizePayload) {
    Metadata m;
    m.set_klv(std::vector<std::uint8_t>(Metadata::max_serialized_payload + 1));
    auto bytes = m.serialize();
    ASSERT_FALSE(bytes);
    EXPECT_TRUE(bytes.error().is(Errc::out_of_range));
    EXPECT_NE(bytes.error().message().find("'klv'"), std::string::npos) << bytes.error().message();

    m.set_klv(std::vector<std::uint8_t>(Metadata::max_serialized_payload));
    auto largest = m.serialize();
    ASSERT_TRUE(largest);
    auto back = Metadata::deserialize(*largest);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->klv().size(), Metadata::max_serialized_payload);
}

TEST_F(MetadataTest, SerializeReportsACodecThatThrows) {
    Metadata m;
    m.set(throwing_key, 1);
    auto bytes = m.serialize();
    ASSERT_FALSE(bytes);
    EXPECT_NE(bytes.error().message().find("encode exploded"), std::string::npos) << bytes.error().message();
    EXPECT_NE(bytes.error().message().find(std::string(throwing_key)), std::string::npos);
}

// ---------------------------------------------------------------------------
// Deserialization of malformed input

TEST_F(MetadataTest, DeserializeRejectsEveryTruncation) {
    const std::vector<std::byte> bytes = serialized(full_metadata());
    ASSERT_GT(bytes.size(), Metadata::fixed_serialized_size);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
        auto result = Metadata::deserialize(std::span<const std::byte>(bytes).first(size));
        ASSERT_FALSE(result) << "a prefix of " << size << " bytes was accepted";
        EXPECT_TRUE(result.error().is(Errc::corrupt)) << size << ": " << result.error().message();
        EXPECT_NE(result.error().message().find("truncated at byte"), std::string::npos)
            << size << ": " << result.error().message();
    }
}

TEST_F(MetadataTest, DeserializeNamesTheFieldWhereTheInputEnds) {
    const std::vector<std::byte> bytes = bare_serialization();
    expect_rejected(std::span<const std::byte>(bytes).first(0), Errc::corrupt, {"truncated at byte 0", "magic"});
    expect_rejected(std::span<const std::byte>(bytes).first(20), Errc::corrupt,
                    {"truncated at byte 20", "dts (bytes 16-23)"});
    expect_rejected(std::span<const std::byte>(bytes).first(67), Errc::corrupt, {"truncated at byte 67", "rtp bits"});
}

TEST_F(MetadataTest, DeserializeRejectsBadMagic) {
    std::vector<std::byte> bytes = bare_serialization();
    bytes[1] = std::byte{'Y'};
    expect_rejected(bytes, Errc::corrupt, {"bad magic at byte 0", "50594d44"});
    // Even when the input is too short to hold anything else.
    expect_rejected(std::span<const std::byte>(bytes).first(2), Errc::corrupt, {"bad magic at byte 0", "5059"});
}

TEST_F(MetadataTest, DeserializeRejectsAnUnknownVersion) {
    std::vector<std::byte> bytes = bare_serialization();
    patch_u16(bytes, 4, 2);
    expect_rejected(bytes, Errc::version_mismatch, {"version 2 at byte 4"});
    patch_u16(bytes, 4, 0);
    expect_rejected(bytes, Errc::version_mismatch, {"version 0 at byte 4"});
    // Checked before the length, so a short input of a newer version says so.
    expect_rejected(std::span<const std::byte>(bytes).first(6), Errc::version_mismatch, {"version 0"});
}

TEST_F(MetadataTest, DeserializeRejectsTrailingBytes) {
    for (const Metadata& m : {Metadata{}, full_metadata()}) {
        std::vector<std::byte> bytes = serialized(m);
        const std::size_t end = bytes.size();
        bytes.push_back(std::byte{0});
        expect_rejected(bytes, Errc::corrupt, {"1 trailing bytes at byte " + std::to_string(end)});
    }
}

TEST_F(MetadataTest, DeserializeRejectsUnknownFlagBits) {
    std::vector<std::byte> bytes = bare_serialization();
    patch_u32(bytes, 52, 1U << 31);
    expect_rejected(bytes, Errc::corrupt, {"unknown flag bits 0x80000000 at byte 52"});
}

TEST_F(MetadataTest, DeserializeRejectsBadRtpFields) {
    std::vector<std::byte> bytes = bare_serialization();
    bytes[67] = std::byte{1};
    bytes[66] = std::byte{128};
    expect_rejected(bytes, Errc::corrupt, {"rtp payload type 128 at byte 66"});

    bytes = bare_serialization();
    bytes[67] = std::byte{0x05};
    expect_rejected(bytes, Errc::corrupt, {"reserved rtp bits 0x04 set at byte 67"});

    bytes = bare_serialization();
    bytes[60] = std::byte{1}; // ssrc without the present bit
    expect_rejected(bytes, Errc::corrupt, {"rtp-present bit at byte 67 is clear"});

    bytes = bare_serialization();
    bytes[67] = std::byte{2}; // marker without the present bit
    expect_rejected(bytes, Errc::corrupt, {"rtp-present bit at byte 67 is clear"});
}

TEST_F(MetadataTest, DeserializeRejectsOversizeAndUnbackedEntryCounts) {
    std::vector<std::byte> bytes = bare_serialization();
    patch_u16(bytes, 6, 0xffff);
    expect_rejected(bytes, Errc::corrupt, {"entry count 65535 at byte 6", "limit of 1024"});

    patch_u16(bytes, 6, 1000);
    bytes.resize(bytes.size() + 16);
    expect_rejected(bytes, Errc::corrupt, {"truncated at byte 68", "1000 entries need at least 8000 bytes"});
}

TEST_F(MetadataTest, DeserializeRejectsAnEmptyKey) {
    std::vector<std::byte> bytes = bare_serialization();
    append_entry(bytes, "", 1, {});
    bytes.push_back(std::byte{0}); // an entry with an empty key is one byte short of the smallest
    expect_rejected(bytes, Errc::corrupt, {"entry 0 at byte 68 has an empty key"});
}

TEST_F(MetadataTest, DeserializeRejectsKeysOutOfOrderOrRepeated) {
    const std::array<std::byte, 4> count{std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}};
    std::vector<std::byte> bytes = bare_serialization();
    append_entry(bytes, label_key, 1, {});
    const std::size_t second = bytes.size();
    append_entry(bytes, count_key, 1, count);
    expect_rejected(bytes, Errc::corrupt,
                    {"key 'test.count' of entry 1 at byte " + std::to_string(second + 1),
                     "does not come after key 'test.label'", "ascending"});

    bytes = bare_serialization();
    append_entry(bytes, count_key, 1, count);
    append_entry(bytes, count_key, 1, count);
    expect_rejected(bytes, Errc::corrupt, {"key 'test.count' of entry 1", "unique"});
}

TEST_F(MetadataTest, DeserializeRejectsOversizeAndOverlongPayloadLengths) {
    std::vector<std::byte> bytes = bare_serialization();
    append_entry(bytes, "klv", 1, {});
    patch_u32(bytes, 74, static_cast<std::uint32_t>(Metadata::max_serialized_payload + 1));
    expect_rejected(bytes, Errc::corrupt, {"payload length 16777217 of entry 'klv' at byte 74", "limit"});

    patch_u32(bytes, 74, 5);
    bytes.push_back(std::byte{1});
    expect_rejected(bytes, Errc::corrupt,
                    {"truncated at byte 78", "the payload of entry 'klv' needs 5 bytes, only 1 remain"});
}

TEST_F(MetadataTest, DeserializeRejectsAnUnknownKeyNamingIt) {
    std::vector<std::byte> bytes = bare_serialization();
    append_entry(bytes, "who\nknows", 1, {});
    expect_rejected(bytes, Errc::unsupported, {"no codec registered for key 'who\\x0aknows'", "at byte 69"});
}

TEST_F(MetadataTest, DeserializeRejectsAnotherCodecTag) {
    const std::array<std::byte, 4> payload{};
    std::vector<std::byte> bytes = bare_serialization();
    append_entry(bytes, tag2_key, 1, payload);
    expect_rejected(
        bytes, Errc::version_mismatch,
        {"entry 'test.tag2' has codec tag 1 at byte " + std::to_string(68 + 1 + tag2_key.size()), "reads tag 2"});

    Metadata m;
    m.set(tag2_key, std::uint32_t{9});
    auto back = Metadata::deserialize(serialized(m));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back->get<std::uint32_t>(tag2_key), 9U);
}

TEST_F(MetadataTest, DeserializeReportsCodecFailuresWithTheirOffset) {
    const std::array<std::byte, 3> payload{};
    std::vector<std::byte> bytes = bare_serialization();
    append_entry(bytes, count_key, 1, payload);
    const std::size_t payload_at = 68 + 1 + count_key.size() + 2 + 4;
    expect_rejected(bytes, Errc::corrupt,
                    {"the codec of key 'test.count' rejected the 3-byte payload at byte " + std::to_string(payload_at),
                     "a count is 4 bytes"});

    bytes = bare_serialization();
    append_entry(bytes, throwing_key, 1, {});
    expect_rejected(bytes, Errc::corrupt, {"'test.throws'", "decode exploded"});
}

TEST_F(MetadataTest, DeserializeSurvivesEveryByteFlip) {
    const std::vector<std::byte> good = serialized(full_metadata());
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (unsigned mask : {0x01U, 0x80U, 0xffU}) {
            std::vector<std::byte> bytes = good;
            bytes[i] ^= static_cast<std::byte>(mask);
            auto result = Metadata::deserialize(bytes);
            if (result) {
                // What is accepted is canonical: it serializes back to itself.
                ++accepted;
                EXPECT_EQ(serialized(*result), bytes) << "flip at " << i;
            } else {
                EXPECT_NE(result.error().message().find("at byte"), std::string::npos) << result.error().message();
            }
        }
    }
    // Fixed fields without checks (times, sequence...) accept any value.
    EXPECT_GT(accepted, 0U);
}

// ---------------------------------------------------------------------------
// Codec registry

TEST_F(MetadataTest, RegistryRejectsDuplicateAndBadKeysAndIncompleteCodecs) {
    auto encode = [](const Unregistered&, std::vector<std::byte>&) {};
    auto decode = [](std::span<const std::byte>) -> Result<Unregistered> { return Unregistered{}; };
    auto duplicate = register_metadata_codec<Unregistered>(position_key, encode, decode);
    ASSERT_FALSE(duplicate);
    EXPECT_TRUE(duplicate.error().is(Errc::state));
    auto klv = register_metadata_codec<Unregistered>(klv_metadata_key, encode, decode);
    ASSERT_FALSE(klv);

    auto empty = register_metadata_codec<Unregistered>("", encode, decode);
    ASSERT_FALSE(empty);
    EXPECT_TRUE(empty.error().is(Errc::invalid_argument));
    auto too_long = register_metadata_codec<Unregistered>(std::string(256, 'x'), encode, decode);
    ASSERT_FALSE(too_long);
    EXPECT_TRUE(too_long.error().is(Errc::invalid_argument));

    auto incomplete = MetadataCodecs::add("test.incomplete", MetadataCodec{});
    ASSERT_FALSE(incomplete);
    EXPECT_TRUE(incomplete.error().is(Errc::invalid_argument));
    EXPECT_FALSE(MetadataCodecs::contains("test.incomplete"));
}

TEST_F(MetadataTest, RegistryFindsAddsAndRemovesCodecs) {
    EXPECT_TRUE(MetadataCodecs::contains(klv_metadata_key));
    auto klv = MetadataCodecs::find(klv_metadata_key);
    ASSERT_NE(klv, nullptr);
    EXPECT_TRUE(*klv->type == typeid(KlvBytes));
    EXPECT_EQ(klv->tag, 1U);
    EXPECT_FALSE(unregister_metadata_codec(klv_metadata_key)); // built in
    EXPECT_TRUE(MetadataCodecs::contains(klv_metadata_key));

    constexpr std::string_view key = "test.transient";
    EXPECT_EQ(MetadataCodecs::find(key), nullptr);
    auto added = register_metadata_codec<Unregistered>(
        key, [](const Unregistered& u, std::vector<std::byte>& out) { out.push_back(static_cast<std::byte>(u.value)); },
        [](std::span<const std::byte> in) -> Result<Unregistered> {
            if (in.size() != 1) {
                return fail(Errc::corrupt, "one byte");
            }
            return Unregistered{static_cast<int>(in[0])};
        });
    ASSERT_TRUE(added) << added.error().message();
    Metadata m;
    m.set(key, Unregistered{7});
    const std::vector<std::byte> bytes = serialized(m);
    auto back = Metadata::deserialize(bytes);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, m);

    EXPECT_TRUE(unregister_metadata_codec(key));
    EXPECT_FALSE(unregister_metadata_codec(key));
    EXPECT_FALSE(MetadataCodecs::contains(key));
    EXPECT_FALSE(m.serialize());
    expect_rejected(bytes, Errc::unsupported, {"'test.transient'"});
}

TEST_F(MetadataTest, RegistryIsSafeToUseFromSeveralThreads) {
    const std::vector<std::byte> bytes = serialized(full_metadata());
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const std::string key = "test.thread." + std::to_string(t);
            for (int i = 0; i < 200; ++i) {
                auto added = register_metadata_codec<Unregistered>(
                    key, [](const Unregistered&, std::vector<std::byte>&) {},
                    [](std::span<const std::byte>) -> Result<Unregistered> { return Unregistered{}; });
                auto back = Metadata::deserialize(bytes);
                if (!added || !back || !unregister_metadata_codec(key)) {
                    failed = true;
                }
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_FALSE(failed);
}

} // namespace
} // namespace parallax
