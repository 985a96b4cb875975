// AV1 OBUs, sequence header, frame header start, av1C and caps.
//
// The syntax follows the AV1 bitstream specification (section 5) and the
// AV1 ISOBMFF binding (av1C). Headers are read with a bit reader that never
// reads past its data and remembers the first field that did not fit, so
// every parser reads straight through and checks once at the end.

#include <parallax/caps/structure.hpp>
#include <parallax/codec/av1.hpp>

#include "codec/colorimetry_field.hpp"

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace parallax::av1 {
namespace {

class BitReader {
public:
    explicit BitReader(std::span<const std::uint8_t> data) noexcept : data_(data) {}

    // f(n) of the specification, n <= 32.
    std::uint32_t f(unsigned n, std::string_view field) noexcept {
        const std::size_t total = data_.size() * 8;
        if (pos_ > total || n > total - pos_) {
            if (overrun_field_.empty()) {
                overrun_field_ = field;
                overrun_at_ = pos_;
            }
            pos_ = total + 1;
            return 0;
        }
        std::uint32_t v = 0;
        for (unsigned i = 0; i < n; ++i) {
            const auto byte = static_cast<std::uint32_t>(data_[pos_ >> 3]);
            const unsigned shift = 7U - static_cast<unsigned>(pos_ & 7U);
            v = (v << 1) | ((byte >> shift) & 1U);
            ++pos_;
        }
        return v;
    }
    bool flag(std::string_view field) noexcept { return f(1, field) != 0; }
    std::uint8_t u8(unsigned n, std::string_view field) noexcept { return static_cast<std::uint8_t>(f(n, field)); }

    // uvlc() (section 4.10.3). `too_long` turns true for 32 or more leading zeros.
    std::uint32_t uvlc(std::string_view field, bool& too_long) noexcept {
        unsigned leading_zeros = 0;
        while (!overrun() && !flag(field)) {
            ++leading_zeros;
            if (leading_zeros >= 32) {
                too_long = true;
                return 0;
            }
        }
        const std::uint32_t value = f(leading_zeros, field);
        return value + ((std::uint32_t{1} << leading_zeros) - 1U);
    }

    [[nodiscard]] bool overrun() const noexcept { return !overrun_field_.empty(); }
    [[nodiscard]] std::string_view overrun_field() const noexcept { return overrun_field_; }
    [[nodiscard]] std::size_t overrun_byte() const noexcept { return overrun_at_ >> 3; }

private:
    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
    std::string_view overrun_field_;
    std::size_t overrun_at_ = 0;
};

Error truncated(std::string_view what, const BitReader& r) {
    return Error(Errc::corrupt, fmt::format("{}: truncated at field {} (byte {} of the payload)", what,
                                            r.overrun_field(), r.overrun_byte()));
}

constexpr std::string_view seq_what = "AV1 sequence header";

// color_config() (section 5.5.2).
void read_color_config(BitReader& r, SequenceHeader& s) {
    const bool high_bitdepth = r.flag("high_bitdepth");
    if (s.profile == 2 && high_bitdepth) {
        s.bit_depth = r.flag("twelve_bit") ? 12 : 10;
    } else {
        s.bit_depth = high_bitdepth ? 10 : 8;
    }
    s.monochrome = s.profile == 1 ? false : r.flag("mono_chrome");
    s.color_description_present = r.flag("color_description_present_flag");
    if (s.color_description_present) {
        s.color_primaries = r.u8(8, "color_primaries");
        s.transfer_characteristics = r.u8(8, "transfer_characteristics");
        s.matrix_coefficients = r.u8(8, "matrix_coefficients");
    } else {
        s.color_primaries = 2;
        s.transfer_characteristics = 2;
        s.matrix_coefficients = 2;
    }
    s.chroma_sample_position = 0;
    if (s.monochrome) {
        s.full_range = r.flag("color_range");
        s.subsampling_x = 1;
        s.subsampling_y = 1;
        return;
    }
    if (s.color_primaries == 1 && s.transfer_characteristics == 13 && s.matrix_coefficients == 0) {
        // sRGB: full-range 4:4:4 implied.
        s.full_range = true;
        s.subsampling_x = 0;
        s.subsampling_y = 0;
    } else {
        s.full_range = r.flag("color_range");
        if (s.profile == 0) {
            s.subsampling_x = 1;
            s.subsampling_y = 1;
        } else if (s.profile == 1) {
            s.subsampling_x = 0;
            s.subsampling_y = 0;
        } else if (s.bit_depth == 12) {
            s.subsampling_x = r.u8(1, "subsampling_x");
            s.subsampling_y = s.subsampling_x != 0 ? r.u8(1, "subsampling_y") : std::uint8_t{0};
        } else {
            s.subsampling_x = 1;
            s.subsampling_y = 0;
        }
        if (s.subsampling_x != 0 && s.subsampling_y != 0) {
            s.chroma_sample_position = r.u8(2, "chroma_sample_position");
        }
    }
    r.flag("separate_uv_delta_q");
}

Caps make_caps(Structure s) {
    Caps caps;
    caps.append(std::move(s));
    return caps;
}

} // namespace

Result<std::uint32_t> read_leb128(std::span<const std::uint8_t> data, std::size_t offset, std::size_t& length) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        if (offset > data.size() || i >= data.size() - offset) {
            return fail(Errc::corrupt, fmt::format("leb128 value at byte {} is truncated after {} byte(s)", offset, i));
        }
        const std::uint8_t byte = data[offset + i];
        value |= static_cast<std::uint64_t>(byte & 0x7FU) << (7 * i);
        if ((byte & 0x80U) == 0) {
            if (value > 0xFFFFFFFFULL) {
                return fail(Errc::corrupt, fmt::format("leb128 value at byte {} exceeds 2^32 - 1", offset));
            }
            length = i + 1;
            return static_cast<std::uint32_t>(value);
        }
    }
    return fail(Errc::corrupt, fmt::format("leb128 value at byte {} is longer than 8 bytes", offset));
}

void write_leb128(std::uint32_t value, std::vector<std::uint8_t>& out) {
    do {
        auto byte = static_cast<std::uint8_t>(value & 0x7FU);
        value >>= 7;
        if (value != 0) {
            byte = static_cast<std::uint8_t>(byte | 0x80U);
        }
        out.push_back(byte);
    } while (value != 0);
}

Result<Obu> read_obu(std::span<const std::uint8_t> data, std::size_t offset) {
    if (offset >= data.size()) {
        return fail(Errc::out_of_range,
                    fmt::format("AV1 OBU at byte {}: no data there ({} bytes in all)", offset, data.size()));
    }
    const std::uint8_t h = data[offset];
    if ((h & 0x80U) != 0) {
        return fail(Errc::corrupt, fmt::format("AV1 OBU at byte {}: obu_forbidden_bit is set", offset));
    }
    Obu obu;
    obu.offset = offset;
    obu.type = static_cast<ObuType>((h >> 3) & 0x0FU);
    obu.has_extension = (h & 0x04U) != 0;
    const bool has_size = (h & 0x02U) != 0;
    std::size_t pos = offset + 1;
    if (obu.has_extension) {
        if (pos >= data.size()) {
            return fail(Errc::corrupt, fmt::format("AV1 OBU at byte {}: header extension missing (data ends)", offset));
        }
        obu.temporal_id = static_cast<std::uint8_t>(data[pos] >> 5);
        obu.spatial_id = static_cast<std::uint8_t>((data[pos] >> 3) & 0x03U);
        ++pos;
    }
    std::size_t payload_size = data.size() - pos;
    if (has_size) {
        std::size_t length = 0;
        auto size = read_leb128(data, pos, length);
        if (!size) {
            return fail(Errc::corrupt, fmt::format("AV1 OBU at byte {}: obu_size: {}", offset, size.error().message()));
        }
        pos += length;
        if (*size > data.size() - pos) {
            return fail(Errc::corrupt, fmt::format("AV1 OBU at byte {}: obu_size {} runs past the end of the data "
                                                   "({} bytes left)",
                                                   offset, *size, data.size() - pos));
        }
        payload_size = *size;
    }
    obu.payload = data.subspan(pos, payload_size);
    obu.bytes = data.subspan(offset, pos + payload_size - offset);
    return obu;
}

Result<std::vector<Obu>> split_obus(std::span<const std::uint8_t> data) {
    std::vector<Obu> obus;
    std::size_t offset = 0;
    while (offset < data.size()) {
        auto obu = read_obu(data, offset);
        if (!obu) {
            return fail(obu.error());
        }
        offset += obu->bytes.size();
        obus.push_back(*obu);
    }
    return obus;
}

Result<SequenceHeader> parse_sequence_header(std::span<const std::uint8_t> payload) {
    BitReader r(payload);
    SequenceHeader s;
    s.profile = r.u8(3, "seq_profile");
    s.still_picture = r.flag("still_picture");
    s.reduced_still_picture_header = r.flag("reduced_still_picture_header");
    if (r.overrun()) {
        return fail(truncated(seq_what, r));
    }
    if (s.profile > 2) {
        return fail(Errc::corrupt, fmt::format("{}: seq_profile {} is reserved (byte 0)", seq_what, s.profile));
    }
    if (s.reduced_still_picture_header && !s.still_picture) {
        return fail(Errc::corrupt,
                    fmt::format("{}: reduced_still_picture_header is set but still_picture is not", seq_what));
    }
    if (s.reduced_still_picture_header) {
        s.level = r.u8(5, "seq_level_idx[0]");
        s.operating_points = 1;
    } else {
        s.timing_info_present = r.flag("timing_info_present_flag");
        std::uint8_t buffer_delay_length = 0;
        if (s.timing_info_present) {
            s.num_units_in_display_tick = r.f(32, "num_units_in_display_tick");
            s.time_scale = r.f(32, "time_scale");
            s.equal_picture_interval = r.flag("equal_picture_interval");
            if (s.equal_picture_interval) {
                bool too_long = false;
                const std::uint32_t minus_1 = r.uvlc("num_ticks_per_picture_minus_1", too_long);
                if (too_long || minus_1 == 0xFFFFFFFFU) {
                    return fail(Errc::corrupt,
                                fmt::format("{}: num_ticks_per_picture_minus_1 exceeds 2^32 - 2", seq_what));
                }
                s.num_ticks_per_picture = minus_1 + 1;
            }
            s.decoder_model_info_present = r.flag("decoder_model_info_present_flag");
            if (s.decoder_model_info_present) {
                buffer_delay_length = static_cast<std::uint8_t>(r.f(5, "buffer_delay_length_minus_1") + 1);
                r.f(32, "num_units_in_decoding_tick");
                r.f(5, "buffer_removal_time_length_minus_1");
                s.frame_presentation_time_length =
                    static_cast<std::uint8_t>(r.f(5, "frame_presentation_time_length_minus_1") + 1);
            }
        }
        s.initial_display_delay_present = r.flag("initial_display_delay_present_flag");
        s.operating_points = static_cast<std::uint8_t>(r.f(5, "operating_points_cnt_minus_1") + 1);
        for (unsigned i = 0; i < s.operating_points && !r.overrun(); ++i) {
            const auto idc = static_cast<std::uint16_t>(r.f(12, "operating_point_idc"));
            const std::uint8_t level = r.u8(5, "seq_level_idx");
            const std::uint8_t tier = level > 7 ? r.u8(1, "seq_tier") : std::uint8_t{0};
            if (s.decoder_model_info_present && r.flag("decoder_model_present_for_this_op")) {
                r.f(buffer_delay_length, "decoder_buffer_delay");
                r.f(buffer_delay_length, "encoder_buffer_delay");
                r.flag("low_delay_mode_flag");
            }
            std::uint8_t delay = 0;
            if (s.initial_display_delay_present && r.flag("initial_display_delay_present_for_this_op")) {
                delay = static_cast<std::uint8_t>(r.f(4, "initial_display_delay_minus_1") + 1);
            }
            if (i == 0) {
                s.operating_point_idc = idc;
                s.level = level;
                s.tier = tier;
                s.initial_display_delay = delay;
            }
        }
    }
    const unsigned width_bits = r.f(4, "frame_width_bits_minus_1") + 1;
    const unsigned height_bits = r.f(4, "frame_height_bits_minus_1") + 1;
    s.max_width = r.f(width_bits, "max_frame_width_minus_1") + 1;
    s.max_height = r.f(height_bits, "max_frame_height_minus_1") + 1;
    if (!s.reduced_still_picture_header) {
        s.frame_id_numbers_present = r.flag("frame_id_numbers_present_flag");
    }
    if (s.frame_id_numbers_present) {
        s.delta_frame_id_length = static_cast<std::uint8_t>(r.f(4, "delta_frame_id_length_minus_2") + 2);
        s.additional_frame_id_length = static_cast<std::uint8_t>(r.f(3, "additional_frame_id_length_minus_1") + 1);
    }
    r.flag("use_128x128_superblock");
    r.flag("enable_filter_intra");
    r.flag("enable_intra_edge_filter");
    if (!s.reduced_still_picture_header) {
        r.flag("enable_interintra_compound");
        r.flag("enable_masked_compound");
        r.flag("enable_warped_motion");
        r.flag("enable_dual_filter");
        const bool order_hint = r.flag("enable_order_hint");
        if (order_hint) {
            r.flag("enable_jnt_comp");
            r.flag("enable_ref_frame_mvs");
        }
        const bool choose_screen_content = r.flag("seq_choose_screen_content_tools");
        const bool force_screen_content = choose_screen_content || r.flag("seq_force_screen_content_tools");
        if (force_screen_content && !r.flag("seq_choose_integer_mv")) {
            r.flag("seq_force_integer_mv");
        }
        if (order_hint) {
            r.f(3, "order_hint_bits_minus_1");
        }
    }
    r.flag("enable_superres");
    r.flag("enable_cdef");
    r.flag("enable_restoration");
    read_color_config(r, s);
    s.film_grain_params_present = r.flag("film_grain_params_present");
    if (r.overrun()) {
        return fail(truncated(seq_what, r));
    }
    if (s.frame_id_numbers_present && s.additional_frame_id_length + s.delta_frame_id_length + 1 > 16) {
        return fail(Errc::corrupt, fmt::format("{}: frame id length {} exceeds 16 bits", seq_what,
                                               s.additional_frame_id_length + s.delta_frame_id_length + 1));
    }
    return s;
}

std::vector<std::uint8_t> make_av1c(const SequenceHeader& seq, std::span<const std::uint8_t> sequence_header_obu) {
    std::vector<std::uint8_t> out;
    out.reserve(4 + sequence_header_obu.size());
    out.push_back(0x81); // marker 1, version 1
    out.push_back(static_cast<std::uint8_t>(((seq.profile & 0x07U) << 5) | (seq.level & 0x1FU)));
    const unsigned high_bitdepth = seq.bit_depth > 8 ? 1U : 0U;
    const unsigned twelve_bit = seq.bit_depth == 12 ? 1U : 0U;
    out.push_back(static_cast<std::uint8_t>(((seq.tier & 1U) << 7) | (high_bitdepth << 6) | (twelve_bit << 5) |
                                            ((seq.monochrome ? 1U : 0U) << 4) | ((seq.subsampling_x & 1U) << 3) |
                                            ((seq.subsampling_y & 1U) << 2) | (seq.chroma_sample_position & 3U)));
    if (seq.initial_display_delay > 0) {
        out.push_back(static_cast<std::uint8_t>(0x10U | ((seq.initial_display_delay - 1U) & 0x0FU)));
    } else {
        out.push_back(0);
    }
    out.insert(out.end(), sequence_header_obu.begin(), sequence_header_obu.end());
    return out;
}

Result<SequenceHeader> parse_av1c(std::span<const std::uint8_t> av1c) {
    if (av1c.size() < 4) {
        return fail(Errc::corrupt, fmt::format("av1C: {} bytes, at least 4 needed", av1c.size()));
    }
    if ((av1c[0] & 0x80U) == 0) {
        return fail(Errc::corrupt, "av1C: marker bit (byte 0, bit 7) is not set");
    }
    if ((av1c[0] & 0x7FU) != 1) {
        return fail(Errc::corrupt, fmt::format("av1C: version {} (byte 0) is not 1", av1c[0] & 0x7FU));
    }
    SequenceHeader fixed;
    fixed.profile = static_cast<std::uint8_t>(av1c[1] >> 5);
    fixed.level = static_cast<std::uint8_t>(av1c[1] & 0x1FU);
    fixed.tier = static_cast<std::uint8_t>(av1c[2] >> 7);
    const bool high_bitdepth = (av1c[2] & 0x40U) != 0;
    const bool twelve_bit = (av1c[2] & 0x20U) != 0;
    fixed.bit_depth = twelve_bit ? 12 : (high_bitdepth ? 10 : 8);
    fixed.monochrome = (av1c[2] & 0x10U) != 0;
    fixed.subsampling_x = static_cast<std::uint8_t>((av1c[2] >> 3) & 1U);
    fixed.subsampling_y = static_cast<std::uint8_t>((av1c[2] >> 2) & 1U);
    fixed.chroma_sample_position = static_cast<std::uint8_t>(av1c[2] & 3U);
    if ((av1c[3] & 0x10U) != 0) {
        fixed.initial_display_delay = static_cast<std::uint8_t>((av1c[3] & 0x0FU) + 1);
    }
    if (fixed.profile > 2) {
        return fail(Errc::corrupt, fmt::format("av1C: seq_profile {} (byte 1) is reserved", fixed.profile));
    }
    if (twelve_bit && !high_bitdepth) {
        return fail(Errc::corrupt, "av1C: twelve_bit is set without high_bitdepth (byte 2)");
    }
    const auto config = av1c.subspan(4);
    if (config.empty()) {
        return fixed;
    }
    auto obus = split_obus(config);
    if (!obus) {
        return fail(Errc::corrupt, fmt::format("av1C configOBUs (from byte 4): {}", obus.error().message()));
    }
    for (const Obu& obu : *obus) {
        if (obu.type != ObuType::sequence_header) {
            continue;
        }
        auto seq = parse_sequence_header(obu.payload);
        if (!seq) {
            return fail(Errc::corrupt,
                        fmt::format("av1C configOBUs, OBU at byte {}: {}", obu.offset + 4, seq.error().message()));
        }
        auto disagree = [](std::string_view field, unsigned record, unsigned header) {
            return fail(Errc::corrupt,
                        fmt::format("av1C: {} is {} but its sequence header says {}", field, record, header));
        };
        if (seq->profile != fixed.profile) {
            return disagree("seq_profile", fixed.profile, seq->profile);
        }
        if (seq->level != fixed.level) {
            return disagree("seq_level_idx_0", fixed.level, seq->level);
        }
        if (seq->tier != fixed.tier) {
            return disagree("seq_tier_0", fixed.tier, seq->tier);
        }
        if (seq->bit_depth != fixed.bit_depth) {
            return disagree("bit depth", fixed.bit_depth, seq->bit_depth);
        }
        if (seq->monochrome != fixed.monochrome) {
            return disagree("monochrome", fixed.monochrome ? 1U : 0U, seq->monochrome ? 1U : 0U);
        }
        if (seq->subsampling_x != fixed.subsampling_x || seq->subsampling_y != fixed.subsampling_y) {
            return disagree("chroma_subsampling_x/y", fixed.subsampling_x * 2U + fixed.subsampling_y,
                            seq->subsampling_x * 2U + seq->subsampling_y);
        }
        return *seq;
    }
    return fail(Errc::corrupt, "av1C: configOBUs hold no sequence header OBU");
}

Result<FrameHeaderStart> parse_frame_header_start(std::span<const std::uint8_t> payload, const SequenceHeader& seq) {
    FrameHeaderStart h;
    if (seq.reduced_still_picture_header) {
        h.frame_type = 0;
        h.show_frame = true;
        return h;
    }
    BitReader r(payload);
    h.show_existing_frame = r.flag("show_existing_frame");
    if (!h.show_existing_frame) {
        h.frame_type = r.u8(2, "frame_type");
        h.show_frame = r.flag("show_frame");
    }
    if (r.overrun()) {
        return fail(truncated("AV1 frame header", r));
    }
    return h;
}

Result<bool> is_key_temporal_unit(std::span<const std::uint8_t> tu, const SequenceHeader& seq) {
    std::size_t offset = 0;
    while (offset < tu.size()) {
        auto obu = read_obu(tu, offset);
        if (!obu) {
            return fail(obu.error());
        }
        offset += obu->bytes.size();
        if (obu->type != ObuType::frame_header && obu->type != ObuType::frame) {
            continue;
        }
        auto h = parse_frame_header_start(obu->payload, seq);
        if (!h) {
            return fail(Errc::corrupt, fmt::format("AV1 OBU at byte {}: {}", obu->offset, h.error().message()));
        }
        return !h->show_existing_frame && h->frame_type == 0 && h->show_frame;
    }
    return false;
}

Caps caps_for(const SequenceHeader& seq, std::span<const std::uint8_t> av1c) {
    Structure s("video/x-av1");
    s.set("stream-format", "obu-stream");
    s.set("alignment", "tu");
    s.set("width", static_cast<std::int32_t>(seq.max_width));
    s.set("height", static_cast<std::int32_t>(seq.max_height));
    static constexpr std::string_view profiles[] = {"main", "high", "professional"};
    if (seq.profile < 3) {
        s.set("profile", profiles[seq.profile]);
    }
    std::string_view chroma = "4:2:0";
    if (seq.monochrome) {
        chroma = "4:0:0";
    } else if (seq.subsampling_x == 0 && seq.subsampling_y == 0) {
        chroma = "4:4:4";
    } else if (seq.subsampling_x != 0 && seq.subsampling_y == 0) {
        chroma = "4:2:2";
    }
    s.set("chroma-format", chroma);
    s.set("bit-depth-luma", static_cast<std::int32_t>(seq.bit_depth));
    s.set("bit-depth-chroma", static_cast<std::int32_t>(seq.bit_depth));
    if (seq.color_description_present) {
        detail::set_colorimetry_field(s, seq.full_range, seq.matrix_coefficients, seq.transfer_characteristics,
                                      seq.color_primaries);
    }
    s.set("parsed", true);
    if (!av1c.empty()) {
        s.set("codec_data", Bytes{std::vector<std::uint8_t>(av1c.begin(), av1c.end())});
    }
    return make_caps(std::move(s));
}

} // namespace parallax::av1
