#include <parallax/klv/ber.hpp>
#include <parallax/klv/uas_local_set.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace parallax::klv {
namespace {

constexpr TagInfo uint_tag(std::uint32_t tag, std::string_view name, std::uint8_t size) {
    return TagInfo{tag, name, ValueKind::uint, size, false, 0, 0};
}
constexpr TagInfo unsigned_tag(std::uint32_t tag, std::string_view name, std::uint8_t size, double min, double max) {
    return TagInfo{tag, name, ValueKind::mapped, size, false, min, max};
}
constexpr TagInfo signed_tag(std::uint32_t tag, std::string_view name, std::uint8_t size, double max) {
    return TagInfo{tag, name, ValueKind::mapped, size, true, -max, max};
}
constexpr TagInfo text_tag(std::uint32_t tag, std::string_view name) {
    return TagInfo{tag, name, ValueKind::text, 0, false, 0, 0};
}

// Ordered by tag number (find_tag_info searches it).
constexpr std::array tag_table{
    uint_tag(1, "checksum", 2),
    uint_tag(2, "precision time stamp", 8),
    text_tag(3, "mission id"),
    text_tag(4, "platform tail number"),
    unsigned_tag(5, "platform heading angle", 2, 0, 360),
    signed_tag(6, "platform pitch angle", 2, 20),
    signed_tag(7, "platform roll angle", 2, 50),
    unsigned_tag(8, "platform true airspeed", 1, 0, 255),
    unsigned_tag(9, "platform indicated airspeed", 1, 0, 255),
    text_tag(10, "platform designation"),
    text_tag(11, "image source sensor"),
    text_tag(12, "image coordinate system"),
    signed_tag(13, "sensor latitude", 4, 90),
    signed_tag(14, "sensor longitude", 4, 180),
    unsigned_tag(15, "sensor true altitude", 2, -900, 19000),
    unsigned_tag(16, "sensor horizontal field of view", 2, 0, 180),
    unsigned_tag(17, "sensor vertical field of view", 2, 0, 180),
    unsigned_tag(18, "sensor relative azimuth angle", 4, 0, 360),
    signed_tag(19, "sensor relative elevation angle", 4, 180),
    unsigned_tag(20, "sensor relative roll angle", 4, 0, 360),
    unsigned_tag(21, "slant range", 4, 0, 5'000'000),
    unsigned_tag(22, "target width", 2, 0, 10'000),
    signed_tag(23, "frame center latitude", 4, 90),
    signed_tag(24, "frame center longitude", 4, 180),
    unsigned_tag(25, "frame center elevation", 2, -900, 19000),
    signed_tag(26, "offset corner latitude point 1", 2, 0.075),
    signed_tag(27, "offset corner longitude point 1", 2, 0.075),
    signed_tag(28, "offset corner latitude point 2", 2, 0.075),
    signed_tag(29, "offset corner longitude point 2", 2, 0.075),
    signed_tag(30, "offset corner latitude point 3", 2, 0.075),
    signed_tag(31, "offset corner longitude point 3", 2, 0.075),
    signed_tag(32, "offset corner latitude point 4", 2, 0.075),
    signed_tag(33, "offset corner longitude point 4", 2, 0.075),
    signed_tag(40, "target location latitude", 4, 90),
    signed_tag(41, "target location longitude", 4, 180),
    unsigned_tag(42, "target location elevation", 2, -900, 19000),
    uint_tag(47, "generic flag data", 1),
    TagInfo{48, "security local set", ValueKind::bytes, 0, false, 0, 0},
    unsigned_tag(56, "platform ground speed", 1, 0, 255),
    unsigned_tag(57, "ground range", 4, 0, 5'000'000),
    uint_tag(65, "UAS LS version number", 1),
    signed_tag(90, "platform pitch angle (full)", 4, 90),
    signed_tag(91, "platform roll angle (full)", 4, 180),
};

constexpr std::size_t max_text_size = 127;
constexpr std::uint32_t checksum_tag = 1;
constexpr std::uint32_t time_stamp_tag = 2;

std::uint64_t read_be(std::span<const std::uint8_t> bytes) {
    std::uint64_t v = 0;
    for (std::uint8_t b : bytes) {
        v = (v << 8) | b;
    }
    return v;
}

std::vector<std::uint8_t> write_be(std::uint64_t v, std::size_t size) {
    std::vector<std::uint8_t> out(size);
    for (std::size_t i = 0; i < size; ++i) {
        out[size - 1 - i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    return out;
}

// The integers a mapped value spans: 2^bits - 1 steps for unsigned ones,
// 2^bits - 2 for signed ones (whose most negative integer is reserved).
double steps(const TagInfo& info) {
    const double span = std::ldexp(1.0, 8 * info.size);
    return info.is_signed ? span - 2.0 : span - 1.0;
}

std::string describe(const TagInfo& info) {
    return fmt::format("tag {} ({})", info.tag, info.name);
}

// Checks that `value` has the length `info` requires; `where` is the
// value's offset for messages.
Result<void> check_length(const TagInfo& info, std::span<const std::uint8_t> value, std::string_view where) {
    switch (info.kind) {
    case ValueKind::uint:
    case ValueKind::mapped:
        if (value.size() != info.size) {
            return fail(Errc::corrupt,
                        fmt::format("{}{} has {} bytes, expected {}", describe(info), where, value.size(), info.size));
        }
        break;
    case ValueKind::text:
        if (value.empty() || value.size() > max_text_size) {
            return fail(Errc::corrupt, fmt::format("{}{} has {} bytes, expected 1 to {}", describe(info), where,
                                                   value.size(), max_text_size));
        }
        break;
    case ValueKind::bytes:
        break;
    }
    return {};
}

} // namespace

const TagInfo* find_tag_info(std::uint32_t tag) noexcept {
    const auto* it = std::lower_bound(tag_table.begin(), tag_table.end(), tag,
                                      [](const TagInfo& info, std::uint32_t t) { return info.tag < t; });
    return it != tag_table.end() && it->tag == tag ? &*it : nullptr;
}

std::uint16_t checksum(std::span<const std::uint8_t> bytes) noexcept {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        sum += static_cast<std::uint32_t>(bytes[i]) << (i % 2 == 0 ? 8 : 0);
    }
    return static_cast<std::uint16_t>(sum);
}

Result<UasLocalSet> UasLocalSet::parse(std::span<const std::uint8_t> packet) {
    for (std::size_t i = 0; i < key_size; ++i) {
        if (i >= packet.size()) {
            return fail(Errc::corrupt, fmt::format("packet of {} bytes ends inside the 16-byte key", packet.size()));
        }
        if (packet[i] != uas_local_set_key[i]) {
            return fail(Errc::corrupt,
                        fmt::format("not a UAS Datalink Local Set: key byte {} is 0x{:02X}, expected 0x{:02X}", i,
                                    packet[i], uas_local_set_key[i]));
        }
    }
    auto length = decode_ber_length(packet.subspan(key_size), key_size);
    if (!length) {
        return fail(length.error());
    }
    const std::size_t start = key_size + length->size;
    const std::size_t available = packet.size() - start;
    if (length->value > available) {
        return fail(Errc::corrupt, fmt::format("packet length {} at byte {} runs past the data: {} bytes follow",
                                               length->value, key_size, available));
    }
    if (length->value < available) {
        return fail(Errc::corrupt, fmt::format("{} bytes after the end of the packet at byte {}",
                                               available - length->value, start + length->value));
    }

    UasLocalSet set;
    std::size_t pos = start;
    bool seen_checksum = false;
    while (pos < packet.size()) {
        const std::size_t item_start = pos;
        if (seen_checksum) {
            return fail(Errc::corrupt, fmt::format("item at byte {} follows the checksum, which must be last", pos));
        }
        auto tag = decode_ber_oid(packet.subspan(pos), pos);
        if (!tag) {
            return fail(tag.error());
        }
        pos += tag->size;
        auto len = decode_ber_length(packet.subspan(pos), pos);
        if (!len) {
            return fail(len.error());
        }
        pos += len->size;
        if (len->value > packet.size() - pos) {
            return fail(Errc::corrupt,
                        fmt::format("tag {} at byte {}: length {} runs past the packet end ({} bytes left)", tag->value,
                                    item_start, len->value, packet.size() - pos));
        }
        const auto value = packet.subspan(pos, static_cast<std::size_t>(len->value));
        const auto tag_number = static_cast<std::uint32_t>(tag->value);
        if (const TagInfo* info = find_tag_info(tag_number)) {
            if (auto ok = check_length(*info, value, fmt::format(" at byte {}", item_start)); !ok) {
                return fail(ok.error());
            }
        }
        if (tag_number == checksum_tag) {
            // The sum covers everything before the two checksum bytes.
            const std::uint16_t expected = klv::checksum(packet.first(pos));
            const auto found = static_cast<std::uint16_t>(read_be(value));
            if (found != expected) {
                return fail(Errc::corrupt, fmt::format("checksum 0x{:04X} expected 0x{:04X} (checksum item at byte {})",
                                                       found, expected, item_start));
            }
            set.checksum_ = found;
            seen_checksum = true;
        } else {
            set.items_.push_back(Item{tag_number, std::vector<std::uint8_t>(value.begin(), value.end())});
        }
        pos += value.size();
    }
    if (!seen_checksum) {
        return fail(Errc::corrupt, fmt::format("no checksum item (tag 1) before the packet end at byte {}", pos));
    }
    return set;
}

Result<std::vector<std::uint8_t>> UasLocalSet::encode() const {
    std::vector<std::uint8_t> body;
    auto append = [&body](const Item& item) -> Result<void> {
        if (const TagInfo* info = find_tag_info(item.tag)) {
            if (auto ok = check_length(*info, item.value, ""); !ok) {
                return ok;
            }
        }
        encode_ber_oid(item.tag, body);
        encode_ber_length(item.value.size(), body);
        body.insert(body.end(), item.value.begin(), item.value.end());
        return {};
    };
    for (const Item& item : items_) {
        if (auto ok = append(item); !ok) {
            return fail(ok.error());
        }
    }
    constexpr std::size_t checksum_item_size = 4; // tag, length, two bytes
    std::vector<std::uint8_t> packet(uas_local_set_key.begin(), uas_local_set_key.end());
    encode_ber_length(body.size() + checksum_item_size, packet);
    packet.insert(packet.end(), body.begin(), body.end());
    packet.push_back(checksum_tag);
    packet.push_back(2);
    const std::uint16_t sum = klv::checksum(packet);
    packet.push_back(static_cast<std::uint8_t>(sum >> 8));
    packet.push_back(static_cast<std::uint8_t>(sum));
    return packet;
}

const std::vector<std::uint8_t>* UasLocalSet::raw(std::uint32_t tag) const noexcept {
    for (const Item& item : items_) {
        if (item.tag == tag) {
            return &item.value;
        }
    }
    return nullptr;
}

void UasLocalSet::store(std::uint32_t tag, std::vector<std::uint8_t> value) {
    for (Item& item : items_) {
        if (item.tag == tag) {
            item.value = std::move(value);
            return;
        }
    }
    // ST 0601 wants the time stamp first; other new items go last.
    if (tag == time_stamp_tag) {
        items_.insert(items_.begin(), Item{tag, std::move(value)});
    } else {
        items_.push_back(Item{tag, std::move(value)});
    }
}

Result<void> UasLocalSet::set_raw(std::uint32_t tag, std::vector<std::uint8_t> value) {
    if (tag == checksum_tag) {
        return fail(Errc::invalid_argument, "tag 1 (checksum) is computed by encode(), it cannot be set");
    }
    store(tag, std::move(value));
    return {};
}

bool UasLocalSet::remove(std::uint32_t tag) {
    const auto before = items_.size();
    std::erase_if(items_, [tag](const Item& item) { return item.tag == tag; });
    return items_.size() != before;
}

std::optional<double> UasLocalSet::number(Tag tag) const {
    const TagInfo* info = find_tag_info(static_cast<std::uint32_t>(tag));
    const auto* bytes = raw(static_cast<std::uint32_t>(tag));
    if (info == nullptr || info->kind != ValueKind::mapped || bytes == nullptr || bytes->size() != info->size) {
        return std::nullopt;
    }
    const std::uint64_t u = read_be(*bytes);
    const double scale = (info->max - info->min) / steps(*info);
    if (!info->is_signed) {
        return info->min + static_cast<double>(u) * scale;
    }
    const unsigned bits = 8U * info->size;
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    if (u == sign) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    // Two's complement of `bits` bits, widened.
    const auto s = static_cast<std::int64_t>(u) - ((u & sign) != 0 ? static_cast<std::int64_t>(sign << 1) : 0);
    return static_cast<double>(s) * scale;
}

Result<void> UasLocalSet::set_number(Tag tag, double value) {
    const TagInfo* info = find_tag_info(static_cast<std::uint32_t>(tag));
    if (info == nullptr || info->kind != ValueKind::mapped) {
        return fail(Errc::invalid_argument,
                    fmt::format("tag {} has no real-valued mapping", static_cast<std::uint32_t>(tag)));
    }
    const unsigned bits = 8U * info->size;
    if (std::isnan(value)) {
        if (!info->is_signed) {
            return fail(Errc::out_of_range,
                        fmt::format("{}: NaN is not a value of range {}..{}", describe(*info), info->min, info->max));
        }
        store(info->tag, write_be(std::uint64_t{1} << (bits - 1), info->size));
        return {};
    }
    if (!(value >= info->min && value <= info->max)) {
        return fail(Errc::out_of_range,
                    fmt::format("{}: {} is outside its range {}..{}", describe(*info), value, info->min, info->max));
    }
    std::uint64_t u = 0;
    if (info->is_signed) {
        // Symmetric: zero maps to zero, +-max to +-(2^(bits-1) - 1).
        const auto s = static_cast<std::int64_t>(std::round(value * steps(*info) / (info->max - info->min)));
        const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
        u = static_cast<std::uint64_t>(s) & mask;
    } else {
        u = static_cast<std::uint64_t>(std::round((value - info->min) * steps(*info) / (info->max - info->min)));
    }
    store(info->tag, write_be(u, info->size));
    return {};
}

std::optional<std::uint64_t> UasLocalSet::integer(Tag tag) const {
    const TagInfo* info = find_tag_info(static_cast<std::uint32_t>(tag));
    const auto* bytes = raw(static_cast<std::uint32_t>(tag));
    if (info == nullptr || info->kind != ValueKind::uint || bytes == nullptr || bytes->size() != info->size) {
        return std::nullopt;
    }
    return read_be(*bytes);
}

Result<void> UasLocalSet::set_integer(Tag tag, std::uint64_t value) {
    const TagInfo* info = find_tag_info(static_cast<std::uint32_t>(tag));
    if (info == nullptr || info->kind != ValueKind::uint || info->tag == checksum_tag) {
        return fail(Errc::invalid_argument,
                    fmt::format("tag {} has no settable integer value", static_cast<std::uint32_t>(tag)));
    }
    if (info->size < 8 && value >> (8 * info->size) != 0) {
        return fail(Errc::out_of_range,
                    fmt::format("{}: {} does not fit {} bytes", describe(*info), value, info->size));
    }
    store(info->tag, write_be(value, info->size));
    return {};
}

std::optional<std::string> UasLocalSet::text(Tag tag) const {
    const TagInfo* info = find_tag_info(static_cast<std::uint32_t>(tag));
    const auto* bytes = raw(static_cast<std::uint32_t>(tag));
    if (info == nullptr || info->kind != ValueKind::text || bytes == nullptr) {
        return std::nullopt;
    }
    return std::string(bytes->begin(), bytes->end());
}

Result<void> UasLocalSet::set_text(Tag tag, std::string_view value) {
    const TagInfo* info = find_tag_info(static_cast<std::uint32_t>(tag));
    if (info == nullptr || info->kind != ValueKind::text) {
        return fail(Errc::invalid_argument, fmt::format("tag {} has no text value", static_cast<std::uint32_t>(tag)));
    }
    if (value.empty() || value.size() > max_text_size) {
        return fail(Errc::out_of_range, fmt::format("{}: text of {} bytes is outside its range 1..{} bytes",
                                                    describe(*info), value.size(), max_text_size));
    }
    store(info->tag, std::vector<std::uint8_t>(value.begin(), value.end()));
    return {};
}

std::optional<double> UasLocalSet::offset_corner_latitude(int point) const {
    if (point < 1 || point > 4) {
        return std::nullopt;
    }
    return number(static_cast<Tag>(26 + 2 * (point - 1)));
}

Result<void> UasLocalSet::set_offset_corner_latitude(int point, double deg) {
    if (point < 1 || point > 4) {
        return fail(Errc::out_of_range, fmt::format("offset corner point {} is outside 1..4", point));
    }
    return set_number(static_cast<Tag>(26 + 2 * (point - 1)), deg);
}

std::optional<double> UasLocalSet::offset_corner_longitude(int point) const {
    if (point < 1 || point > 4) {
        return std::nullopt;
    }
    return number(static_cast<Tag>(27 + 2 * (point - 1)));
}

Result<void> UasLocalSet::set_offset_corner_longitude(int point, double deg) {
    if (point < 1 || point > 4) {
        return fail(Errc::out_of_range, fmt::format("offset corner point {} is outside 1..4", point));
    }
    return set_number(static_cast<Tag>(27 + 2 * (point - 1)), deg);
}

std::optional<std::uint8_t> UasLocalSet::generic_flag_data() const {
    auto v = integer(Tag::generic_flag_data);
    return v ? std::optional<std::uint8_t>(static_cast<std::uint8_t>(*v)) : std::nullopt;
}

std::optional<std::vector<std::uint8_t>> UasLocalSet::security_local_set() const {
    const auto* bytes = raw(static_cast<std::uint32_t>(Tag::security_local_set));
    return bytes != nullptr ? std::optional<std::vector<std::uint8_t>>(*bytes) : std::nullopt;
}

std::optional<std::uint8_t> UasLocalSet::version() const {
    auto v = integer(Tag::uas_ls_version);
    return v ? std::optional<std::uint8_t>(static_cast<std::uint8_t>(*v)) : std::nullopt;
}

} // namespace parallax::klv
