// H.264 NAL units, parameter sets, slice headers, access unit boundaries,
// avcC and caps.
//
// The syntax follows ITU-T H.264 (7.3, Annex B, Annex E) and ISO/IEC
// 14496-15 (avcC). Parameter sets are read with a bit reader that never
// reads past its data and remembers the first field that did not fit, so
// every parser reads straight through and checks once at the end.

#include <parallax/caps/structure.hpp>
#include <parallax/codec/h264.hpp>

#include "codec/colorimetry_field.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace parallax::h264 {
namespace {

// Largest picture side accepted, in macroblocks: 65536 samples.
constexpr std::uint32_t max_side_in_mbs = 4096;

Error bad_field(std::string_view what, const BitReader& r) {
    return Error(Errc::corrupt, fmt::format("{}: truncated or invalid at field {} (byte {} of the RBSP)", what,
                                            r.bad_field(), r.bad_byte()));
}

// The RBSP of a whole NAL unit (its header byte left out).
Result<std::vector<std::uint8_t>> rbsp_of(std::span<const std::uint8_t> nal, NalType want, std::string_view what) {
    if (nal.empty()) {
        return fail(Errc::corrupt, fmt::format("{}: empty NAL unit", what));
    }
    if ((nal[0] & 0x80U) != 0) {
        return fail(Errc::corrupt, fmt::format("{}: forbidden_zero_bit is set (byte 0)", what));
    }
    if (static_cast<NalType>(nal[0] & 0x1FU) != want) {
        return fail(Errc::corrupt, fmt::format("{}: nal_unit_type is {} (byte 0), {} expected", what, nal[0] & 0x1FU,
                                               static_cast<unsigned>(want)));
    }
    return remove_emulation_prevention(nal.subspan(1));
}

bool is_high_profile(std::uint8_t profile_idc) noexcept {
    switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
        return true;
    default:
        return false;
    }
}

// scaling_list() (7.3.2.1.1.1): only its length matters here.
void skip_scaling_list(BitReader& r, unsigned size) {
    int last = 8;
    int next = 8;
    for (unsigned j = 0; j < size && !r.overrun(); ++j) {
        if (next != 0) {
            const std::int32_t delta = r.se("delta_scale");
            if (delta < -128 || delta > 127) {
                r.invalid("delta_scale");
                return;
            }
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
}

// Table E-1.
constexpr std::array<std::array<std::uint16_t, 2>, 17> sample_aspect_ratios = {{
    {0, 0},
    {1, 1},
    {12, 11},
    {10, 11},
    {16, 11},
    {40, 33},
    {24, 11},
    {20, 11},
    {32, 11},
    {80, 33},
    {18, 11},
    {15, 11},
    {64, 33},
    {160, 99},
    {4, 3},
    {3, 2},
    {2, 1},
}};

// vui_parameters() (E.1.1) up to the timing info; what follows (HRD,
// bitstream restriction) is not needed for caps.
void read_vui(BitReader& r, Sps& s) {
    if (r.flag("aspect_ratio_info_present_flag")) {
        const std::uint32_t idc = r.u(8, "aspect_ratio_idc");
        if (idc == 255) {
            s.sar_width = static_cast<std::uint16_t>(r.u(16, "sar_width"));
            s.sar_height = static_cast<std::uint16_t>(r.u(16, "sar_height"));
        } else if (idc < sample_aspect_ratios.size()) {
            s.sar_width = sample_aspect_ratios[idc][0];
            s.sar_height = sample_aspect_ratios[idc][1];
        }
    }
    if (r.flag("overscan_info_present_flag")) {
        r.flag("overscan_appropriate_flag");
    }
    if (r.flag("video_signal_type_present_flag")) {
        r.u(3, "video_format");
        s.video_full_range = r.flag("video_full_range_flag");
        s.colour_description_present = r.flag("colour_description_present_flag");
        if (s.colour_description_present) {
            s.colour_primaries = static_cast<std::uint8_t>(r.u(8, "colour_primaries"));
            s.transfer_characteristics = static_cast<std::uint8_t>(r.u(8, "transfer_characteristics"));
            s.matrix_coefficients = static_cast<std::uint8_t>(r.u(8, "matrix_coefficients"));
        }
    }
    if (r.flag("chroma_loc_info_present_flag")) {
        r.ue("chroma_sample_loc_type_top_field");
        r.ue("chroma_sample_loc_type_bottom_field");
    }
    s.timing_info_present = r.flag("timing_info_present_flag");
    if (s.timing_info_present) {
        s.num_units_in_tick = r.u(32, "num_units_in_tick");
        s.time_scale = r.u(32, "time_scale");
        s.fixed_frame_rate = r.flag("fixed_frame_rate_flag");
    }
}

// first_mb_in_slice, slice_type and pic_parameter_set_id (7.3.3).
SliceHeaderStart read_slice_header_start(BitReader& r) {
    SliceHeaderStart h;
    h.first_mb_in_slice = r.ue("first_mb_in_slice");
    h.slice_type = r.ue("slice_type", 9);
    h.pps_id = r.ue("pic_parameter_set_id", 255);
    return h;
}

// The slice header fields of 7.3.3 up to redundant_pic_cnt, read from the
// start of the slice's RBSP.
SliceHeader read_slice_header(BitReader& r, const Nal& nal, const Sps& sps, const Pps& pps) {
    SliceHeader h;
    h.nal_ref_idc = nal.ref_idc;
    h.idr = nal.type == NalType::slice_idr;
    const SliceHeaderStart start = read_slice_header_start(r);
    h.first_mb_in_slice = start.first_mb_in_slice;
    h.slice_type = start.slice_type;
    h.pps_id = start.pps_id;
    if (sps.separate_colour_plane) {
        h.colour_plane_id = static_cast<std::uint8_t>(r.u(2, "colour_plane_id"));
        if (h.colour_plane_id > 2) {
            r.invalid("colour_plane_id");
        }
    }
    h.frame_num = r.u(sps.log2_max_frame_num, "frame_num");
    if (!sps.frame_mbs_only) {
        h.field_pic = r.flag("field_pic_flag");
        if (h.field_pic) {
            h.bottom_field = r.flag("bottom_field_flag");
        }
    }
    if (h.idr) {
        h.idr_pic_id = r.ue("idr_pic_id", 65535);
    }
    const bool bottom_of_frame = pps.bottom_field_pic_order_in_frame_present && !h.field_pic;
    if (sps.pic_order_cnt_type == 0) {
        h.pic_order_cnt_lsb = r.u(sps.log2_max_pic_order_cnt_lsb, "pic_order_cnt_lsb");
        if (bottom_of_frame) {
            h.delta_pic_order_cnt_bottom = r.se("delta_pic_order_cnt_bottom");
        }
    } else if (sps.pic_order_cnt_type == 1 && !sps.delta_pic_order_always_zero) {
        h.delta_pic_order_cnt[0] = r.se("delta_pic_order_cnt[0]");
        if (bottom_of_frame) {
            h.delta_pic_order_cnt[1] = r.se("delta_pic_order_cnt[1]");
        }
    }
    if (pps.redundant_pic_cnt_present) {
        h.redundant_pic_cnt = r.ue("redundant_pic_cnt", 127);
    }
    return h;
}

void put_u16(std::vector<std::uint8_t>& out, std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xFFU));
}

} // namespace

// ---- BitReader ----

void BitReader::mark(std::string_view field) noexcept {
    if (bad_field_.empty()) {
        bad_field_ = field;
        bad_at_ = pos_;
    }
}

void BitReader::invalid(std::string_view field) noexcept {
    mark(field);
}

std::uint32_t BitReader::u(unsigned n, std::string_view field) noexcept {
    const std::size_t total = data_.size() * 8;
    if (overrun() || n > 32 || pos_ > total || n > total - pos_) {
        mark(field);
        pos_ = total;
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

std::uint32_t BitReader::ue(std::string_view field) noexcept {
    if (overrun()) {
        return 0;
    }
    // A bad code is reported where it starts, not where reading stopped.
    const std::size_t start = pos_;
    unsigned leading_zeros = 0;
    while (!overrun() && u(1, field) == 0) {
        if (++leading_zeros > 31) {
            mark(field);
            break;
        }
    }
    std::uint32_t rest = 0;
    if (!overrun()) {
        rest = u(leading_zeros, field);
    }
    if (overrun()) {
        bad_at_ = start;
        return 0;
    }
    return static_cast<std::uint32_t>((std::uint64_t{1} << leading_zeros) - 1U + rest);
}

std::int32_t BitReader::se(std::string_view field) noexcept {
    const std::uint64_t k = ue(field);
    const auto magnitude = static_cast<std::int64_t>((k + 1) / 2);
    return static_cast<std::int32_t>((k & 1U) != 0 ? magnitude : -magnitude);
}

void BitReader::skip(std::size_t n, std::string_view field) noexcept {
    const std::size_t total = data_.size() * 8;
    if (overrun() || pos_ > total || n > total - pos_) {
        mark(field);
        pos_ = total;
        return;
    }
    pos_ += n;
}

bool BitReader::more_rbsp_data() const noexcept {
    // The last set bit is rbsp_stop_one_bit.
    std::size_t end = data_.size();
    while (end > 0 && data_[end - 1] == 0) {
        --end;
    }
    if (end == 0) {
        return false;
    }
    const std::uint8_t last = data_[end - 1];
    unsigned trailing = 0;
    while (((last >> trailing) & 1U) == 0) {
        ++trailing;
    }
    const std::size_t stop_bit = (end - 1) * 8 + (7 - trailing);
    return pos_ < stop_bit;
}

// ---- NAL units ----

Result<Nal> parse_nal(std::span<const std::uint8_t> bytes, std::size_t offset) {
    if (bytes.empty()) {
        return fail(Errc::corrupt, fmt::format("H.264 NAL unit at byte {} is empty", offset));
    }
    if ((bytes[0] & 0x80U) != 0) {
        return fail(Errc::corrupt, fmt::format("H.264 NAL unit at byte {}: forbidden_zero_bit is set", offset));
    }
    Nal nal;
    nal.type = static_cast<NalType>(bytes[0] & 0x1FU);
    nal.ref_idc = static_cast<std::uint8_t>((bytes[0] >> 5) & 0x03U);
    nal.bytes = bytes;
    nal.offset = offset;
    return nal;
}

std::optional<StartCode> find_start_code(std::span<const std::uint8_t> data, std::size_t from) noexcept {
    if (data.size() < 3) {
        return std::nullopt;
    }
    // A start code ends in a 1 after two zeros: memchr (vectorised) finds
    // the ones, which are rare in coded data, and the zeros are checked.
    std::size_t k = from + 2;
    while (k < data.size()) {
        const void* one = std::memchr(data.data() + k, 1, data.size() - k);
        if (one == nullptr) {
            return std::nullopt;
        }
        k = static_cast<std::size_t>(static_cast<const std::uint8_t*>(one) - data.data());
        if (data[k - 1] == 0 && data[k - 2] == 0) {
            const std::size_t i = k - 2;
            if (i > from && data[i - 1] == 0) {
                return StartCode{i - 1, 4};
            }
            return StartCode{i, 3};
        }
        ++k;
    }
    return std::nullopt;
}

Result<std::vector<Nal>> split_annex_b(std::span<const std::uint8_t> data) {
    std::vector<Nal> nals;
    auto sc = find_start_code(data, 0);
    const std::size_t lead = sc ? sc->offset : data.size();
    for (std::size_t i = 0; i < lead; ++i) {
        if (data[i] != 0) {
            return fail(Errc::corrupt, fmt::format("H.264 byte stream: byte {} is not zero and comes before the first "
                                                   "start code",
                                                   i));
        }
    }
    while (sc) {
        const std::size_t start = sc->offset + sc->length;
        sc = find_start_code(data, start);
        std::size_t end = sc ? sc->offset : data.size();
        while (end > start && data[end - 1] == 0) {
            --end; // trailing_zero_8bits
        }
        if (end == start) {
            return fail(Errc::corrupt, fmt::format("H.264 byte stream: empty NAL unit after the start code ending at "
                                                   "byte {}",
                                                   start));
        }
        auto nal = parse_nal(data.subspan(start, end - start), start);
        if (!nal) {
            return fail(nal.error());
        }
        nals.push_back(*nal);
    }
    return nals;
}

Result<std::vector<Nal>> split_length_prefixed(std::span<const std::uint8_t> data, unsigned length_size) {
    if (length_size != 1 && length_size != 2 && length_size != 4) {
        return fail(Errc::invalid_argument, fmt::format("H.264 NAL length size {} is not 1, 2 or 4", length_size));
    }
    std::vector<Nal> nals;
    std::size_t pos = 0;
    while (pos < data.size()) {
        if (data.size() - pos < length_size) {
            return fail(Errc::corrupt, fmt::format("H.264 NAL length at byte {} is truncated ({} of {} bytes)", pos,
                                                   data.size() - pos, length_size));
        }
        std::size_t length = 0;
        for (unsigned i = 0; i < length_size; ++i) {
            length = (length << 8) | data[pos + i];
        }
        pos += length_size;
        if (length > data.size() - pos) {
            return fail(Errc::corrupt, fmt::format("H.264 NAL length {} at byte {} runs past the end of the data ({} "
                                                   "bytes left)",
                                                   length, pos - length_size, data.size() - pos));
        }
        auto nal = parse_nal(data.subspan(pos, length), pos);
        if (!nal) {
            return fail(nal.error());
        }
        nals.push_back(*nal);
        pos += length;
    }
    return nals;
}

std::vector<std::uint8_t> remove_emulation_prevention(std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out;
    out.reserve(payload.size());
    unsigned zeros = 0;
    for (const std::uint8_t b : payload) {
        if (zeros >= 2 && b == 0x03) {
            zeros = 0;
            continue;
        }
        zeros = b == 0 ? zeros + 1 : 0;
        out.push_back(b);
    }
    return out;
}

std::vector<std::uint8_t> add_emulation_prevention(std::span<const std::uint8_t> rbsp) {
    std::vector<std::uint8_t> out;
    out.reserve(rbsp.size() + rbsp.size() / 64 + 1);
    unsigned zeros = 0;
    for (const std::uint8_t b : rbsp) {
        if (zeros >= 2 && b <= 0x03) {
            out.push_back(0x03);
            zeros = 0;
        }
        zeros = b == 0 ? zeros + 1 : 0;
        out.push_back(b);
    }
    if (zeros >= 2) {
        out.push_back(0x03); // a NAL unit must not end in a zero byte
    }
    return out;
}

// ---- Parameter sets and slices ----

std::optional<Fraction> Sps::framerate() const {
    if (!timing_info_present || num_units_in_tick == 0 || time_scale == 0) {
        return std::nullopt;
    }
    auto f = Fraction::make(time_scale, std::int64_t{2} * num_units_in_tick);
    if (!f) {
        return std::nullopt;
    }
    return *f;
}

Result<Sps> parse_sps(std::span<const std::uint8_t> nal) {
    constexpr std::string_view what = "H.264 SPS";
    auto rbsp = rbsp_of(nal, NalType::sps, what);
    if (!rbsp) {
        return fail(rbsp.error());
    }
    BitReader r(*rbsp);
    Sps s;
    s.profile_idc = static_cast<std::uint8_t>(r.u(8, "profile_idc"));
    s.constraint_flags = static_cast<std::uint8_t>(r.u(8, "constraint_set_flags") & 0xFCU);
    s.level_idc = static_cast<std::uint8_t>(r.u(8, "level_idc"));
    s.sps_id = r.ue("seq_parameter_set_id", 31);
    if (is_high_profile(s.profile_idc)) {
        const std::uint32_t chroma = r.ue("chroma_format_idc", 3);
        s.chroma_format_idc = static_cast<std::uint8_t>(chroma);
        if (chroma == 3) {
            s.separate_colour_plane = r.flag("separate_colour_plane_flag");
        }
        const std::uint32_t luma = r.ue("bit_depth_luma_minus8");
        const std::uint32_t chroma_depth = r.ue("bit_depth_chroma_minus8");
        if (luma > 6) {
            r.invalid("bit_depth_luma_minus8");
        }
        if (chroma_depth > 6) {
            r.invalid("bit_depth_chroma_minus8");
        }
        s.bit_depth_luma = static_cast<std::uint8_t>(luma + 8);
        s.bit_depth_chroma = static_cast<std::uint8_t>(chroma_depth + 8);
        r.flag("qpprime_y_zero_transform_bypass_flag");
        s.scaling_matrix_present = r.flag("seq_scaling_matrix_present_flag");
        if (s.scaling_matrix_present) {
            const unsigned lists = s.chroma_format_idc != 3 ? 8 : 12;
            for (unsigned i = 0; i < lists && !r.overrun(); ++i) {
                if (r.flag("seq_scaling_list_present_flag")) {
                    skip_scaling_list(r, i < 6 ? 16 : 64);
                }
            }
        }
    }
    const std::uint32_t log2_frame_num = r.ue("log2_max_frame_num_minus4", 12);
    s.log2_max_frame_num = static_cast<std::uint8_t>(log2_frame_num + 4);
    const std::uint32_t poc_type = r.ue("pic_order_cnt_type", 2);
    s.pic_order_cnt_type = static_cast<std::uint8_t>(poc_type);
    if (poc_type == 0) {
        const std::uint32_t log2_poc_lsb = r.ue("log2_max_pic_order_cnt_lsb_minus4", 12);
        s.log2_max_pic_order_cnt_lsb = static_cast<std::uint8_t>(log2_poc_lsb + 4);
    } else if (poc_type == 1) {
        s.delta_pic_order_always_zero = r.flag("delta_pic_order_always_zero_flag");
        r.se("offset_for_non_ref_pic");
        r.se("offset_for_top_to_bottom_field");
        const std::uint32_t cycle = r.ue("num_ref_frames_in_pic_order_cnt_cycle", 255);
        for (std::uint32_t i = 0; i < cycle && !r.overrun(); ++i) {
            r.se("offset_for_ref_frame");
        }
    }
    s.max_num_ref_frames = r.ue("max_num_ref_frames");
    r.flag("gaps_in_frame_num_value_allowed_flag");
    const std::uint32_t width_mbs = r.ue("pic_width_in_mbs_minus1");
    if (width_mbs >= max_side_in_mbs) {
        r.invalid("pic_width_in_mbs_minus1");
    }
    const std::uint32_t height_units = r.ue("pic_height_in_map_units_minus1");
    if (height_units >= max_side_in_mbs) {
        r.invalid("pic_height_in_map_units_minus1");
    }
    s.width_in_mbs = width_mbs + 1;
    s.height_in_map_units = height_units + 1;
    s.frame_mbs_only = r.flag("frame_mbs_only_flag");
    if (!s.frame_mbs_only) {
        // Field-coded: a map unit is two macroblock rows (7-18), so the
        // frame's limit is half as many units.
        if (s.height_in_map_units > max_side_in_mbs / 2) {
            r.invalid("pic_height_in_map_units_minus1");
        }
        r.flag("mb_adaptive_frame_field_flag");
    }
    r.flag("direct_8x8_inference_flag");
    if (r.flag("frame_cropping_flag")) {
        s.crop_left = r.ue("frame_crop_left_offset");
        s.crop_right = r.ue("frame_crop_right_offset");
        s.crop_top = r.ue("frame_crop_top_offset");
        s.crop_bottom = r.ue("frame_crop_bottom_offset");
    }
    s.vui_present = r.flag("vui_parameters_present_flag");
    if (r.overrun()) {
        return fail(bad_field(what, r));
    }
    if (s.vui_present) {
        read_vui(r, s);
        if (r.overrun()) {
            return fail(bad_field(what, r));
        }
    }

    // 7-19 to 7-22: the crop offsets count in units of the chroma sampling.
    const unsigned chroma_array_type = s.separate_colour_plane ? 0U : s.chroma_format_idc;
    const unsigned field_factor = s.frame_mbs_only ? 1U : 2U;
    std::uint64_t unit_x = 1;
    std::uint64_t unit_y = field_factor;
    if (chroma_array_type != 0) {
        unit_x = chroma_array_type == 3 ? 1U : 2U;
        unit_y = (chroma_array_type == 1 ? 2U : 1U) * field_factor;
    }
    const std::uint64_t full_width = std::uint64_t{16} * s.width_in_mbs;
    const std::uint64_t full_height = std::uint64_t{16} * field_factor * s.height_in_map_units;
    const std::uint64_t crop_x = unit_x * (std::uint64_t{s.crop_left} + s.crop_right);
    const std::uint64_t crop_y = unit_y * (std::uint64_t{s.crop_top} + s.crop_bottom);
    if (crop_x >= full_width) {
        return fail(Errc::corrupt, fmt::format("{}: frame_crop_left_offset + frame_crop_right_offset ({} samples) "
                                               "leave nothing of the {} samples wide picture",
                                               what, crop_x, full_width));
    }
    if (crop_y >= full_height) {
        return fail(Errc::corrupt, fmt::format("{}: frame_crop_top_offset + frame_crop_bottom_offset ({} rows) "
                                               "leave nothing of the {} rows high picture",
                                               what, crop_y, full_height));
    }
    s.width = static_cast<std::uint32_t>(full_width - crop_x);
    s.height = static_cast<std::uint32_t>(full_height - crop_y);
    return s;
}

Result<Pps> parse_pps(std::span<const std::uint8_t> nal) {
    constexpr std::string_view what = "H.264 PPS";
    auto rbsp = rbsp_of(nal, NalType::pps, what);
    if (!rbsp) {
        return fail(rbsp.error());
    }
    BitReader r(*rbsp);
    Pps p;
    p.pps_id = r.ue("pic_parameter_set_id", 255);
    p.sps_id = r.ue("seq_parameter_set_id", 31);
    p.entropy_coding_mode = r.flag("entropy_coding_mode_flag");
    p.bottom_field_pic_order_in_frame_present = r.flag("bottom_field_pic_order_in_frame_present_flag");
    const std::uint32_t groups_minus1 = r.ue("num_slice_groups_minus1", 7);
    p.num_slice_groups = static_cast<std::uint8_t>(groups_minus1 + 1);
    if (groups_minus1 > 0 && !r.overrun()) {
        const std::uint32_t map_type = r.ue("slice_group_map_type", 6);
        p.slice_group_map_type = static_cast<std::uint8_t>(map_type);
        if (map_type == 0) {
            for (std::uint32_t i = 0; i <= groups_minus1; ++i) {
                r.ue("run_length_minus1");
            }
        } else if (map_type == 2) {
            for (std::uint32_t i = 0; i < groups_minus1; ++i) {
                r.ue("top_left");
                r.ue("bottom_right");
            }
        } else if (map_type >= 3 && map_type <= 5) {
            r.flag("slice_group_change_direction_flag");
            r.ue("slice_group_change_rate_minus1");
        } else if (map_type == 6) {
            const std::uint32_t size_minus1 = r.ue("pic_size_in_map_units_minus1");
            if (size_minus1 >= max_side_in_mbs * max_side_in_mbs) {
                r.invalid("pic_size_in_map_units_minus1");
            }
            // slice_group_id[i]: Ceil(Log2(num_slice_groups_minus1 + 1)) bits each.
            const unsigned id_bits = groups_minus1 >= 4 ? 3U : groups_minus1 >= 2 ? 2U : 1U;
            r.skip((std::size_t{size_minus1} + 1) * id_bits, "slice_group_id");
        }
    }
    const std::uint32_t l0 = r.ue("num_ref_idx_l0_default_active_minus1", 31);
    const std::uint32_t l1 = r.ue("num_ref_idx_l1_default_active_minus1", 31);
    p.num_ref_idx_l0_default_active = static_cast<std::uint8_t>(l0 + 1);
    p.num_ref_idx_l1_default_active = static_cast<std::uint8_t>(l1 + 1);
    p.weighted_pred = r.flag("weighted_pred_flag");
    p.weighted_bipred_idc = static_cast<std::uint8_t>(r.u(2, "weighted_bipred_idc"));
    if (p.weighted_bipred_idc > 2) {
        r.invalid("weighted_bipred_idc");
    }
    // The lower bound of pic_init_qp_minus26 is -(26 + QpBdOffsetY), the
    // SPS's; this takes the lowest, that of 14-bit samples.
    const std::int32_t qp = r.se("pic_init_qp_minus26");
    if (qp < -62 || qp > 25) {
        r.invalid("pic_init_qp_minus26");
    }
    const std::int32_t qs = r.se("pic_init_qs_minus26");
    if (qs < -26 || qs > 25) {
        r.invalid("pic_init_qs_minus26");
    }
    const std::int32_t chroma_offset = r.se("chroma_qp_index_offset");
    if (chroma_offset < -12 || chroma_offset > 12) {
        r.invalid("chroma_qp_index_offset");
    }
    p.pic_init_qp_minus26 = static_cast<std::int8_t>(qp);
    p.pic_init_qs_minus26 = static_cast<std::int8_t>(qs);
    p.chroma_qp_index_offset = static_cast<std::int8_t>(chroma_offset);
    p.deblocking_filter_control_present = r.flag("deblocking_filter_control_present_flag");
    p.constrained_intra_pred = r.flag("constrained_intra_pred_flag");
    p.redundant_pic_cnt_present = r.flag("redundant_pic_cnt_present_flag");
    if (r.overrun()) {
        return fail(bad_field(what, r));
    }
    return p;
}

Result<SliceHeaderStart> parse_slice_header_start(std::span<const std::uint8_t> nal) {
    constexpr std::string_view what = "H.264 slice header";
    if (nal.empty()) {
        return fail(Errc::corrupt, fmt::format("{}: empty NAL unit", what));
    }
    // The first fields fit in the first bytes; unescaping a few more than
    // needed keeps this cheap for large slices.
    const std::size_t head = std::min<std::size_t>(nal.size(), 32);
    const std::vector<std::uint8_t> rbsp = remove_emulation_prevention(nal.subspan(1, head - 1));
    BitReader r(rbsp);
    const SliceHeaderStart h = read_slice_header_start(r);
    if (r.overrun()) {
        return fail(bad_field(what, r));
    }
    return h;
}

Result<SliceHeader> parse_slice_header(std::span<const std::uint8_t> nal, const Sps& sps, const Pps& pps) {
    constexpr std::string_view what = "H.264 slice header";
    auto parsed = parse_nal(nal, 0);
    if (!parsed) {
        return fail(Errc::corrupt, fmt::format("{}: {}", what, parsed.error().message()));
    }
    if (parsed->type != NalType::slice && parsed->type != NalType::slice_data_a && parsed->type != NalType::slice_idr) {
        return fail(Errc::corrupt, fmt::format("{}: nal_unit_type is {} (byte 0), 1, 2 or 5 expected", what,
                                               static_cast<unsigned>(parsed->type)));
    }
    if (pps.sps_id != sps.sps_id) {
        return fail(Errc::invalid_argument,
                    fmt::format("{}: the PPS refers to SPS {}, not to SPS {}", what, pps.sps_id, sps.sps_id));
    }
    // The fields seldom need more than the first 32 bytes; unescaping only
    // those keeps this cheap for large slices, and the whole unit is read
    // when they do not suffice.
    SliceHeader h;
    for (const std::size_t head : {std::min<std::size_t>(nal.size(), 32), nal.size()}) {
        const std::vector<std::uint8_t> rbsp = remove_emulation_prevention(nal.subspan(1, head - 1));
        BitReader r(rbsp);
        h = read_slice_header(r, *parsed, sps, pps);
        if (!r.overrun()) {
            break;
        }
        if (head == nal.size()) {
            return fail(bad_field(what, r));
        }
    }
    if (h.pps_id != pps.pps_id) {
        return fail(Errc::invalid_argument,
                    fmt::format("{}: the slice refers to PPS {}, not to PPS {}", what, h.pps_id, pps.pps_id));
    }
    return h;
}

bool first_of_new_picture(const SliceHeader& previous, const SliceHeader& next) noexcept {
    // Fields the parameter sets leave out are 0 on both sides, so each one
    // is compared whatever the picture order count type.
    return next.frame_num != previous.frame_num || next.pps_id != previous.pps_id ||
           next.field_pic != previous.field_pic || next.bottom_field != previous.bottom_field ||
           (next.nal_ref_idc != previous.nal_ref_idc && (next.nal_ref_idc == 0 || previous.nal_ref_idc == 0)) ||
           next.pic_order_cnt_lsb != previous.pic_order_cnt_lsb ||
           next.delta_pic_order_cnt_bottom != previous.delta_pic_order_cnt_bottom ||
           next.delta_pic_order_cnt != previous.delta_pic_order_cnt || next.idr != previous.idr ||
           (next.idr && next.idr_pic_id != previous.idr_pic_id);
}

// ---- Access units ----

Result<bool> AccessUnitSplitter::starts_access_unit(const Nal& nal) {
    const auto type = static_cast<std::uint8_t>(nal.type);
    if (is_vcl(nal.type)) {
        if (nal.type == NalType::slice_data_b || nal.type == NalType::slice_data_c) {
            return false; // partitions B and C follow their partition A
        }
        auto start = parse_slice_header_start(nal.bytes);
        if (!start) {
            return fail(Errc::corrupt, fmt::format("NAL unit at byte {}: {}", nal.offset, start.error().message()));
        }
        std::optional<SliceHeader> header;
        const Pps* pps = start->pps_id < pps_.size() && pps_[start->pps_id] ? &*pps_[start->pps_id] : nullptr;
        const Sps* sps =
            pps != nullptr && pps->sps_id < sps_.size() && sps_[pps->sps_id] ? &*sps_[pps->sps_id] : nullptr;
        if (sps != nullptr) {
            auto parsed = parse_slice_header(nal.bytes, *sps, *pps);
            if (!parsed) {
                return fail(Errc::corrupt,
                            fmt::format("NAL unit at byte {}: {}", nal.offset, parsed.error().message()));
            }
            if (parsed->redundant_pic_cnt > 0) {
                have_vcl_ = true;
                return false; // a redundant picture goes with its primary one
            }
            header = *parsed;
        }
        bool first_of_picture = false;
        const unsigned plane = header ? header->colour_plane_id : 0U;
        if (have_vcl_) {
            if (header && last_.header) {
                const bool second_mb0 = start->first_mb_in_slice == 0 && (planes_from_mb0_ & (1U << plane)) != 0;
                first_of_picture = first_of_new_picture(*last_.header, *header) || second_mb0;
            } else {
                const bool idr = nal.type == NalType::slice_idr;
                const bool last_idr = last_.type == NalType::slice_idr;
                first_of_picture = start->first_mb_in_slice == 0 || start->pps_id != last_.start.pps_id ||
                                   idr != last_idr || (nal.ref_idc == 0) != (last_.ref_idc == 0);
            }
        }
        if (!have_vcl_ || first_of_picture) {
            planes_from_mb0_ = 0;
        }
        if (start->first_mb_in_slice == 0) {
            planes_from_mb0_ = static_cast<std::uint8_t>(planes_from_mb0_ | (1U << plane));
        }
        have_vcl_ = true;
        last_ = LastSlice{*start, nal.type, nal.ref_idc, header};
        return first_of_picture;
    }
    if (nal.type == NalType::sps || nal.type == NalType::pps) {
        add_parameter_set(nal.bytes);
    }
    const bool opens_next = nal.type == NalType::aud || nal.type == NalType::sps || nal.type == NalType::pps ||
                            nal.type == NalType::sei || (type >= 14 && type <= 18);
    if (opens_next && have_vcl_) {
        have_vcl_ = false;
        return true;
    }
    return false;
}

void AccessUnitSplitter::add_parameter_set(std::span<const std::uint8_t> nal) {
    if (nal.empty()) {
        return;
    }
    const auto type = static_cast<NalType>(nal[0] & 0x1FU);
    if (type != NalType::sps && type != NalType::pps) {
        return;
    }
    if (type == NalType::sps) {
        if (auto sps = parse_sps(nal)) {
            sps_.resize(32);
            sps_[sps->sps_id] = *sps;
            return;
        }
    } else if (auto pps = parse_pps(nal)) {
        pps_.resize(256);
        pps_[pps->pps_id] = *pps;
        return;
    }
    // One that does not parse replaces an older one of its id all the same:
    // the slices after it are compared by their first fields.
    const std::vector<std::uint8_t> rbsp =
        remove_emulation_prevention(nal.subspan(1, std::min<std::size_t>(nal.size(), 16) - 1));
    BitReader r(rbsp);
    if (type == NalType::sps) {
        r.skip(24, "profile_idc");
    }
    const std::uint32_t id = r.ue("parameter_set_id");
    if (r.overrun()) {
        return;
    }
    if (type == NalType::sps && id < sps_.size()) {
        sps_[id].reset();
    } else if (type == NalType::pps && id < pps_.size()) {
        pps_[id].reset();
    }
}

void AccessUnitSplitter::reset() noexcept {
    have_vcl_ = false;
    last_ = {};
    planes_from_mb0_ = 0;
}

bool is_idr(std::span<const Nal> nals) noexcept {
    return std::any_of(nals.begin(), nals.end(), [](const Nal& n) { return n.type == NalType::slice_idr; });
}

// ---- avcC ----

Result<std::vector<std::uint8_t>> make_avcc(std::span<const std::vector<std::uint8_t>> sps,
                                            std::span<const std::vector<std::uint8_t>> pps, std::uint8_t length_size) {
    if (sps.empty()) {
        return fail(Errc::invalid_argument, "avcC: at least one SPS is needed");
    }
    if (sps.size() > 31 || pps.size() > 255) {
        return fail(Errc::invalid_argument,
                    fmt::format("avcC: {} SPS and {} PPS, at most 31 and 255 fit", sps.size(), pps.size()));
    }
    if (length_size != 1 && length_size != 2 && length_size != 4) {
        return fail(Errc::invalid_argument, fmt::format("avcC: NAL length size {} is not 1, 2 or 4", length_size));
    }
    auto first = parse_sps(sps.front());
    if (!first) {
        return fail(Errc::invalid_argument, "avcC: first SPS: " + first.error().message());
    }
    std::vector<std::uint8_t> out;
    out.push_back(1); // configurationVersion
    out.push_back(first->profile_idc);
    out.push_back(first->constraint_flags);
    out.push_back(first->level_idc);
    out.push_back(static_cast<std::uint8_t>(0xFCU | (length_size - 1U)));
    out.push_back(static_cast<std::uint8_t>(0xE0U | sps.size()));
    for (const auto& nal : sps) {
        if (nal.size() > 0xFFFF) {
            return fail(Errc::invalid_argument, fmt::format("avcC: an SPS of {} bytes does not fit", nal.size()));
        }
        put_u16(out, nal.size());
        out.insert(out.end(), nal.begin(), nal.end());
    }
    out.push_back(static_cast<std::uint8_t>(pps.size()));
    for (const auto& nal : pps) {
        if (nal.size() > 0xFFFF) {
            return fail(Errc::invalid_argument, fmt::format("avcC: a PPS of {} bytes does not fit", nal.size()));
        }
        put_u16(out, nal.size());
        out.insert(out.end(), nal.begin(), nal.end());
    }
    if (first->profile_idc == 100 || first->profile_idc == 110 || first->profile_idc == 122 ||
        first->profile_idc == 144 || first->profile_idc == 244) {
        out.push_back(static_cast<std::uint8_t>(0xFCU | first->chroma_format_idc));
        out.push_back(static_cast<std::uint8_t>(0xF8U | (first->bit_depth_luma - 8U)));
        out.push_back(static_cast<std::uint8_t>(0xF8U | (first->bit_depth_chroma - 8U)));
        out.push_back(0); // numOfSequenceParameterSetExt
    }
    return out;
}

Result<AvcConfig> parse_avcc(std::span<const std::uint8_t> avcc) {
    if (avcc.size() < 7) {
        return fail(Errc::corrupt, fmt::format("avcC: {} bytes, at least 7 needed", avcc.size()));
    }
    if (avcc[0] != 1) {
        return fail(Errc::corrupt, fmt::format("avcC: configurationVersion {} (byte 0) is not 1", avcc[0]));
    }
    AvcConfig c;
    c.profile_idc = avcc[1];
    c.profile_compatibility = avcc[2];
    c.level_idc = avcc[3];
    c.length_size = static_cast<std::uint8_t>((avcc[4] & 0x03U) + 1);
    if (c.length_size == 3) {
        return fail(Errc::corrupt, "avcC: lengthSizeMinusOne is 2 (byte 4); only 0, 1 and 3 are allowed");
    }
    std::size_t pos = 5;
    auto read_sets = [&](std::size_t count, NalType type, std::string_view name,
                         std::vector<std::vector<std::uint8_t>>& into) -> Result<void> {
        for (std::size_t i = 0; i < count; ++i) {
            if (avcc.size() - pos < 2) {
                return fail(Errc::corrupt,
                            fmt::format("avcC: the length of {} {} (byte {}) is truncated", name, i, pos));
            }
            const std::size_t length = (std::size_t{avcc[pos]} << 8) | avcc[pos + 1];
            pos += 2;
            if (length == 0 || length > avcc.size() - pos) {
                return fail(Errc::corrupt, fmt::format("avcC: {} {} at byte {}: length {} with {} bytes left", name, i,
                                                       pos, length, avcc.size() - pos));
            }
            const auto nal = avcc.subspan(pos, length);
            if ((nal[0] & 0x80U) != 0 || static_cast<NalType>(nal[0] & 0x1FU) != type) {
                return fail(Errc::corrupt,
                            fmt::format("avcC: {} {} at byte {} has NAL header 0x{:02x}", name, i, pos, nal[0]));
            }
            into.emplace_back(nal.begin(), nal.end());
            pos += length;
        }
        return {};
    };
    const std::size_t sps_count = avcc[5] & 0x1FU;
    pos = 6;
    if (auto ok = read_sets(sps_count, NalType::sps, "SPS", c.sps); !ok) {
        return fail(ok.error());
    }
    if (pos >= avcc.size()) {
        return fail(Errc::corrupt, fmt::format("avcC: numOfPictureParameterSets (byte {}) is missing", pos));
    }
    const std::size_t pps_count = avcc[pos++];
    if (auto ok = read_sets(pps_count, NalType::pps, "PPS", c.pps); !ok) {
        return fail(ok.error());
    }
    // The High profile extension; many writers leave it out.
    if (avcc.size() - pos >= 4 && (c.profile_idc == 100 || c.profile_idc == 110 || c.profile_idc == 122 ||
                                   c.profile_idc == 144 || c.profile_idc == 244)) {
        c.has_extension = true;
        c.chroma_format_idc = static_cast<std::uint8_t>(avcc[pos] & 0x03U);
        c.bit_depth_luma = static_cast<std::uint8_t>((avcc[pos + 1] & 0x07U) + 8);
        c.bit_depth_chroma = static_cast<std::uint8_t>((avcc[pos + 2] & 0x07U) + 8);
    }
    return c;
}

Result<std::vector<std::uint8_t>> to_annex_b(std::span<const std::uint8_t> au, unsigned length_size) {
    auto nals = split_length_prefixed(au, length_size);
    if (!nals) {
        return fail(nals.error());
    }
    std::vector<std::uint8_t> out;
    out.reserve(au.size() + nals->size() * 4);
    for (const Nal& n : *nals) {
        out.insert(out.end(), {0, 0, 0, 1});
        out.insert(out.end(), n.bytes.begin(), n.bytes.end());
    }
    return out;
}

Result<std::vector<std::uint8_t>> to_length_prefixed(std::span<const std::uint8_t> au) {
    auto nals = split_annex_b(au);
    if (!nals) {
        return fail(nals.error());
    }
    std::vector<std::uint8_t> out;
    out.reserve(au.size() + nals->size() * 4);
    for (const Nal& n : *nals) {
        const auto size = static_cast<std::uint32_t>(n.bytes.size());
        out.insert(out.end(), {static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
                               static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)});
        out.insert(out.end(), n.bytes.begin(), n.bytes.end());
    }
    return out;
}

// ---- Caps ----

std::string_view profile_name(const Sps& sps) noexcept {
    switch (sps.profile_idc) {
    case 66:
        return sps.constraint_set(1) ? "constrained-baseline" : "baseline";
    case 77:
        return "main";
    case 88:
        return "extended";
    case 100:
        if (sps.constraint_set(4) && sps.constraint_set(5)) {
            return "constrained-high";
        }
        return sps.constraint_set(4) ? "progressive-high" : "high";
    case 110:
        if (sps.constraint_set(3)) {
            return "high-10-intra";
        }
        return sps.constraint_set(4) ? "progressive-high-10" : "high-10";
    case 122:
        return sps.constraint_set(3) ? "high-4:2:2-intra" : "high-4:2:2";
    case 244:
        return sps.constraint_set(3) ? "high-4:4:4-intra" : "high-4:4:4";
    case 44:
        return "cavlc-4:4:4-intra";
    case 83:
        return "scalable-baseline";
    case 86:
        return "scalable-high";
    case 118:
        return "multiview-high";
    case 128:
        return "stereo-high";
    default:
        return {};
    }
}

std::string level_name(const Sps& sps) {
    // Level 1b: level_idc 11 with constraint_set3_flag in the Baseline,
    // Main and Extended profiles, or level_idc 9 (A.3.1, A.3.2).
    if (sps.level_idc == 9 || (sps.level_idc == 11 && sps.constraint_set(3) &&
                               (sps.profile_idc == 66 || sps.profile_idc == 77 || sps.profile_idc == 88))) {
        return "1b";
    }
    if (sps.level_idc < 10 || sps.level_idc > 62) {
        return {};
    }
    if (sps.level_idc % 10 == 0) {
        return fmt::format("{}", sps.level_idc / 10);
    }
    return fmt::format("{}.{}", sps.level_idc / 10, sps.level_idc % 10);
}

Caps caps_for(const Sps& sps, std::string_view stream_format, std::string_view alignment,
              std::span<const std::uint8_t> avcc) {
    Structure s("video/x-h264");
    s.set("stream-format", stream_format);
    s.set("alignment", alignment);
    s.set("width", static_cast<std::int32_t>(sps.width));
    s.set("height", static_cast<std::int32_t>(sps.height));
    if (auto rate = sps.framerate()) {
        s.set("framerate", *rate);
    }
    if (sps.sar_width != 0 && sps.sar_height != 0) {
        if (auto par = Fraction::make(sps.sar_width, sps.sar_height)) {
            s.set("pixel-aspect-ratio", *par);
        }
    }
    s.set("interlace-mode", sps.frame_mbs_only ? "progressive" : "mixed");
    static constexpr std::string_view chroma_formats[] = {"4:0:0", "4:2:0", "4:2:2", "4:4:4"};
    s.set("chroma-format", chroma_formats[sps.chroma_format_idc & 3U]);
    s.set("bit-depth-luma", static_cast<std::int32_t>(sps.bit_depth_luma));
    s.set("bit-depth-chroma", static_cast<std::int32_t>(sps.bit_depth_chroma));
    if (sps.colour_description_present) {
        detail::set_colorimetry_field(s, sps.video_full_range, sps.matrix_coefficients, sps.transfer_characteristics,
                                      sps.colour_primaries);
    }
    s.set("parsed", true);
    if (const std::string_view profile = profile_name(sps); !profile.empty()) {
        s.set("profile", profile);
    }
    if (const std::string level = level_name(sps); !level.empty()) {
        s.set("level", level);
    }
    if (!avcc.empty()) {
        s.set("codec_data", Bytes{std::vector<std::uint8_t>(avcc.begin(), avcc.end())});
    }
    Caps caps;
    caps.append(std::move(s));
    return caps;
}

} // namespace parallax::h264
