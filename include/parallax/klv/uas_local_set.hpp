#pragma once

/// \file
/// UasLocalSet: a MISB ST 0601 UAS Datalink Local Set, the KLV telemetry of
/// unmanned aircraft video (platform position and attitude, sensor pointing,
/// frame centre...), with typed access to its common items.
///
///     parallax::klv::UasLocalSet set;
///     set.set_precision_time_stamp(1'700'000'000'000'000);
///     if (!set.set_platform_heading(159.97) || !set.set_sensor_latitude(60.1768)) {
///         // a value outside its range: the error names the tag and the range
///     }
///     std::vector<std::uint8_t> packet = set.encode().value();
///     auto back = parallax::klv::UasLocalSet::parse(packet);   // Result<UasLocalSet>

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/klv/klv_packet.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::klv {

/// The Universal Label key of the UAS Datalink Local Set.
inline constexpr Key uas_local_set_key{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01,
                                       0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00};

/// ST 0601 tag numbers with a typed value in UasLocalSet.
enum class Tag : std::uint32_t {
    checksum = 1,
    precision_time_stamp = 2,
    mission_id = 3,
    platform_tail_number = 4,
    platform_heading = 5,
    platform_pitch = 6,
    platform_roll = 7,
    platform_true_airspeed = 8,
    platform_indicated_airspeed = 9,
    platform_designation = 10,
    image_source_sensor = 11,
    image_coordinate_system = 12,
    sensor_latitude = 13,
    sensor_longitude = 14,
    sensor_true_altitude = 15,
    sensor_hfov = 16,
    sensor_vfov = 17,
    sensor_relative_azimuth = 18,
    sensor_relative_elevation = 19,
    sensor_relative_roll = 20,
    slant_range = 21,
    target_width = 22,
    frame_center_latitude = 23,
    frame_center_longitude = 24,
    frame_center_elevation = 25,
    offset_corner_latitude_1 = 26,
    offset_corner_longitude_1 = 27,
    offset_corner_latitude_2 = 28,
    offset_corner_longitude_2 = 29,
    offset_corner_latitude_3 = 30,
    offset_corner_longitude_3 = 31,
    offset_corner_latitude_4 = 32,
    offset_corner_longitude_4 = 33,
    target_location_latitude = 40,
    target_location_longitude = 41,
    target_location_elevation = 42,
    generic_flag_data = 47,
    security_local_set = 48,
    platform_ground_speed = 56,
    ground_range = 57,
    uas_ls_version = 65,
    platform_pitch_full = 90,
    platform_roll_full = 91,
};

/// How the value of a known tag is stored.
enum class ValueKind : std::uint8_t {
    uint,   ///< Unsigned big-endian integer, read as is (time stamp, checksum, flags, version).
    mapped, ///< Integer mapped linearly onto a range of real values (angles, distances).
    text,   ///< ISO 646 text, 1 to 127 bytes.
    bytes,  ///< Opaque bytes (the security local set).
};

/// The description of a known tag: its name, storage and range.
///
/// A `mapped` value of `size` bytes maps its integer linearly onto
/// [min, max]. Unsigned: value = min + LS * (max - min) / (2^bits - 1).
/// Signed (min == -max): value = LS * (max - min) / (2^bits - 2), with the
/// most negative integer reserved for "out of range" (read as NaN).
struct TagInfo {
    std::uint32_t tag = 0;
    std::string_view name;
    ValueKind kind = ValueKind::bytes;
    std::uint8_t size = 0; ///< Bytes of a uint or mapped value; 0 for text and bytes.
    bool is_signed = false;
    double min = 0;
    double max = 0;
};

/// The description of `tag`, or nullptr when UasLocalSet has no typed value
/// for it (its items are still kept, as raw bytes).
PARALLAX_API const TagInfo* find_tag_info(std::uint32_t tag) noexcept;

/// The ST 0601 checksum ("bcc16"): a 16-bit running sum in which byte i is
/// added shifted left by 8 bits when i is even. `bytes` runs from the first
/// byte of the key through the checksum item's length byte.
PARALLAX_API std::uint16_t checksum(std::span<const std::uint8_t> bytes) noexcept;

/// One tag-length-value item; `value` holds the bytes as they travel.
struct Item {
    std::uint32_t tag = 0;
    std::vector<std::uint8_t> value;
    friend bool operator==(const Item&, const Item&) = default;
};

/// A UAS Datalink Local Set: its items in order (the checksum excluded: it
/// is checked by parse() and written by encode()).
///
/// Setters of mapped values take real units (degrees, metres, m/s) and fail
/// with Errc::out_of_range, naming the tag and its range, for a value
/// outside it; NaN stores the "out of range" integer of signed values.
/// Getters return std::nullopt when the item is absent or its bytes do not
/// fit the tag; a signed item holding its "out of range" integer reads as NaN.
/// Setting an item that exists replaces its value in place; otherwise the
/// item is appended, except the Precision Time Stamp (tag 2), which is
/// inserted first as ST 0601 asks. parse() keeps the order it reads.
class PARALLAX_API UasLocalSet {
public:
    UasLocalSet() = default;

    /// Parses one whole packet: the key, the BER length (which must end
    /// exactly at the end of `packet`), every item's bounds, the length of
    /// every known tag, and the checksum, which must be the last item.
    /// Errors (Errc::corrupt) name the byte offset in `packet`; a wrong
    /// checksum names the expected and found values. Unknown tags are kept.
    static Result<UasLocalSet> parse(std::span<const std::uint8_t> packet);

    /// The packet: key, minimal BER length, the items in order, then the
    /// checksum. Fails when an item set with set_raw() does not fit its
    /// known tag.
    [[nodiscard]] Result<std::vector<std::uint8_t>> encode() const;

    // Generic access.

    [[nodiscard]] const std::vector<Item>& items() const noexcept { return items_; }
    /// The value bytes of the first item with `tag`, or nullptr.
    [[nodiscard]] const std::vector<std::uint8_t>* raw(std::uint32_t tag) const noexcept;
    /// Stores bytes as they are (unknown tags, or known ones written by
    /// hand: encode() checks those). Tag 1 (the checksum) is refused.
    Result<void> set_raw(std::uint32_t tag, std::vector<std::uint8_t> value);
    /// Removes every item with `tag`; true when there was one.
    bool remove(std::uint32_t tag);
    [[nodiscard]] bool has(Tag tag) const noexcept { return raw(static_cast<std::uint32_t>(tag)) != nullptr; }

    /// The value of a `mapped` tag in real units.
    [[nodiscard]] std::optional<double> number(Tag tag) const;
    Result<void> set_number(Tag tag, double value);
    /// The value of a `uint` tag.
    [[nodiscard]] std::optional<std::uint64_t> integer(Tag tag) const;
    Result<void> set_integer(Tag tag, std::uint64_t value);
    /// The value of a `text` tag.
    [[nodiscard]] std::optional<std::string> text(Tag tag) const;
    Result<void> set_text(Tag tag, std::string_view value);

    /// The checksum read by parse() (none for a set built in code).
    [[nodiscard]] std::optional<std::uint16_t> checksum() const noexcept { return checksum_; }

    // Typed access to common items (real units as in ST 0601).

    /// Tag 2: microseconds since 1970-01-01 UTC.
    [[nodiscard]] std::optional<std::uint64_t> precision_time_stamp() const {
        return integer(Tag::precision_time_stamp);
    }
    void set_precision_time_stamp(std::uint64_t us) { static_cast<void>(set_integer(Tag::precision_time_stamp, us)); }
    [[nodiscard]] std::optional<std::string> mission_id() const { return text(Tag::mission_id); }
    Result<void> set_mission_id(std::string_view v) { return set_text(Tag::mission_id, v); }
    [[nodiscard]] std::optional<std::string> platform_tail_number() const { return text(Tag::platform_tail_number); }
    Result<void> set_platform_tail_number(std::string_view v) { return set_text(Tag::platform_tail_number, v); }
    /// Tag 5: 0..360 degrees.
    [[nodiscard]] std::optional<double> platform_heading() const { return number(Tag::platform_heading); }
    Result<void> set_platform_heading(double deg) { return set_number(Tag::platform_heading, deg); }
    /// Tag 6: -20..20 degrees.
    [[nodiscard]] std::optional<double> platform_pitch() const { return number(Tag::platform_pitch); }
    Result<void> set_platform_pitch(double deg) { return set_number(Tag::platform_pitch, deg); }
    /// Tag 7: -50..50 degrees.
    [[nodiscard]] std::optional<double> platform_roll() const { return number(Tag::platform_roll); }
    Result<void> set_platform_roll(double deg) { return set_number(Tag::platform_roll, deg); }
    /// Tags 8 and 9: 0..255 m/s.
    [[nodiscard]] std::optional<double> platform_true_airspeed() const { return number(Tag::platform_true_airspeed); }
    Result<void> set_platform_true_airspeed(double mps) { return set_number(Tag::platform_true_airspeed, mps); }
    [[nodiscard]] std::optional<double> platform_indicated_airspeed() const {
        return number(Tag::platform_indicated_airspeed);
    }
    Result<void> set_platform_indicated_airspeed(double mps) {
        return set_number(Tag::platform_indicated_airspeed, mps);
    }
    [[nodiscard]] std::optional<std::string> platform_designation() const { return text(Tag::platform_designation); }
    Result<void> set_platform_designation(std::string_view v) { return set_text(Tag::platform_designation, v); }
    [[nodiscard]] std::optional<std::string> image_source_sensor() const { return text(Tag::image_source_sensor); }
    Result<void> set_image_source_sensor(std::string_view v) { return set_text(Tag::image_source_sensor, v); }
    [[nodiscard]] std::optional<std::string> image_coordinate_system() const {
        return text(Tag::image_coordinate_system);
    }
    Result<void> set_image_coordinate_system(std::string_view v) { return set_text(Tag::image_coordinate_system, v); }
    /// Tags 13 and 14: -90..90 and -180..180 degrees.
    [[nodiscard]] std::optional<double> sensor_latitude() const { return number(Tag::sensor_latitude); }
    Result<void> set_sensor_latitude(double deg) { return set_number(Tag::sensor_latitude, deg); }
    [[nodiscard]] std::optional<double> sensor_longitude() const { return number(Tag::sensor_longitude); }
    Result<void> set_sensor_longitude(double deg) { return set_number(Tag::sensor_longitude, deg); }
    /// Tag 15: -900..19000 m.
    [[nodiscard]] std::optional<double> sensor_true_altitude() const { return number(Tag::sensor_true_altitude); }
    Result<void> set_sensor_true_altitude(double m) { return set_number(Tag::sensor_true_altitude, m); }
    /// Tags 16 and 17: 0..180 degrees.
    [[nodiscard]] std::optional<double> sensor_hfov() const { return number(Tag::sensor_hfov); }
    Result<void> set_sensor_hfov(double deg) { return set_number(Tag::sensor_hfov, deg); }
    [[nodiscard]] std::optional<double> sensor_vfov() const { return number(Tag::sensor_vfov); }
    Result<void> set_sensor_vfov(double deg) { return set_number(Tag::sensor_vfov, deg); }
    /// Tags 18 (0..360), 19 (-180..180) and 20 (0..360 degrees).
    [[nodiscard]] std::optional<double> sensor_relative_azimuth() const { return number(Tag::sensor_relative_azimuth); }
    Result<void> set_sensor_relative_azimuth(double deg) { return set_number(Tag::sensor_relative_azimuth, deg); }
    [[nodiscard]] std::optional<double> sensor_relative_elevation() const {
        return number(Tag::sensor_relative_elevation);
    }
    Result<void> set_sensor_relative_elevation(double deg) { return set_number(Tag::sensor_relative_elevation, deg); }
    [[nodiscard]] std::optional<double> sensor_relative_roll() const { return number(Tag::sensor_relative_roll); }
    Result<void> set_sensor_relative_roll(double deg) { return set_number(Tag::sensor_relative_roll, deg); }
    /// Tag 21: 0..5,000,000 m.
    [[nodiscard]] std::optional<double> slant_range() const { return number(Tag::slant_range); }
    Result<void> set_slant_range(double m) { return set_number(Tag::slant_range, m); }
    /// Tag 22: 0..10,000 m.
    [[nodiscard]] std::optional<double> target_width() const { return number(Tag::target_width); }
    Result<void> set_target_width(double m) { return set_number(Tag::target_width, m); }
    [[nodiscard]] std::optional<double> frame_center_latitude() const { return number(Tag::frame_center_latitude); }
    Result<void> set_frame_center_latitude(double deg) { return set_number(Tag::frame_center_latitude, deg); }
    [[nodiscard]] std::optional<double> frame_center_longitude() const { return number(Tag::frame_center_longitude); }
    Result<void> set_frame_center_longitude(double deg) { return set_number(Tag::frame_center_longitude, deg); }
    /// Tag 25: -900..19000 m.
    [[nodiscard]] std::optional<double> frame_center_elevation() const { return number(Tag::frame_center_elevation); }
    Result<void> set_frame_center_elevation(double m) { return set_number(Tag::frame_center_elevation, m); }
    /// Tags 26-33: offsets of corner `point` (1..4) from the frame centre,
    /// -0.075..0.075 degrees. A point outside 1..4 reads as none and fails
    /// to set.
    [[nodiscard]] std::optional<double> offset_corner_latitude(int point) const;
    Result<void> set_offset_corner_latitude(int point, double deg);
    [[nodiscard]] std::optional<double> offset_corner_longitude(int point) const;
    Result<void> set_offset_corner_longitude(int point, double deg);
    /// Tags 40-42: the target location.
    [[nodiscard]] std::optional<double> target_location_latitude() const {
        return number(Tag::target_location_latitude);
    }
    Result<void> set_target_location_latitude(double deg) { return set_number(Tag::target_location_latitude, deg); }
    [[nodiscard]] std::optional<double> target_location_longitude() const {
        return number(Tag::target_location_longitude);
    }
    Result<void> set_target_location_longitude(double deg) { return set_number(Tag::target_location_longitude, deg); }
    [[nodiscard]] std::optional<double> target_location_elevation() const {
        return number(Tag::target_location_elevation);
    }
    Result<void> set_target_location_elevation(double m) { return set_number(Tag::target_location_elevation, m); }
    /// Tag 47: a byte of flags (laser range, auto-track, IR polarity...).
    [[nodiscard]] std::optional<std::uint8_t> generic_flag_data() const;
    void set_generic_flag_data(std::uint8_t flags) { static_cast<void>(set_integer(Tag::generic_flag_data, flags)); }
    /// Tag 48: the security local set, kept as its bytes.
    [[nodiscard]] std::optional<std::vector<std::uint8_t>> security_local_set() const;
    Result<void> set_security_local_set(std::vector<std::uint8_t> bytes) {
        return set_raw(static_cast<std::uint32_t>(Tag::security_local_set), std::move(bytes));
    }
    /// Tag 56: 0..255 m/s.
    [[nodiscard]] std::optional<double> platform_ground_speed() const { return number(Tag::platform_ground_speed); }
    Result<void> set_platform_ground_speed(double mps) { return set_number(Tag::platform_ground_speed, mps); }
    /// Tag 57: 0..5,000,000 m.
    [[nodiscard]] std::optional<double> ground_range() const { return number(Tag::ground_range); }
    Result<void> set_ground_range(double m) { return set_number(Tag::ground_range, m); }
    /// Tag 65: the version of ST 0601 the set follows.
    [[nodiscard]] std::optional<std::uint8_t> version() const;
    void set_version(std::uint8_t v) { static_cast<void>(set_integer(Tag::uas_ls_version, v)); }
    /// Tags 90 and 91: -90..90 and -180..180 degrees.
    [[nodiscard]] std::optional<double> platform_pitch_full() const { return number(Tag::platform_pitch_full); }
    Result<void> set_platform_pitch_full(double deg) { return set_number(Tag::platform_pitch_full, deg); }
    [[nodiscard]] std::optional<double> platform_roll_full() const { return number(Tag::platform_roll_full); }
    Result<void> set_platform_roll_full(double deg) { return set_number(Tag::platform_roll_full, deg); }

    /// Equal items in the same order (the checksum read by parse() aside).
    friend bool operator==(const UasLocalSet& a, const UasLocalSet& b) { return a.items_ == b.items_; }

private:
    void store(std::uint32_t tag, std::vector<std::uint8_t> value);

    std::vector<Item> items_;
    std::optional<std::uint16_t> checksum_;
};

} // namespace parallax::klv
