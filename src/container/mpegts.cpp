#include <parallax/codec/av1.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/container/mpegts.hpp>

#include "container/crc32_msb.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace parallax::mpegts {

namespace {

constexpr std::size_t max_section_size = 1024;
constexpr std::size_t max_private_section_size = 4096;
constexpr std::uint8_t table_id_pat = 0x00;
constexpr std::uint8_t table_id_pmt = 0x02;
constexpr std::array<std::uint8_t, 4> klva = {'K', 'L', 'V', 'A'};

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) noexcept {
    return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    put16(out, v >> 16);
    put16(out, v & 0xFFFFU);
}

// Opens a long-form section: table id, a length filled in by close_section,
// the 16-bit table id extension, version, current_next, section numbers 0/0.
void open_section(std::vector<std::uint8_t>& s, std::uint8_t table_id, std::uint16_t extension, std::uint8_t version) {
    s.push_back(table_id);
    put16(s, 0);
    put16(s, extension);
    s.push_back(static_cast<std::uint8_t>(0xC1 | (version & 0x1F) << 1));
    s.push_back(0);
    s.push_back(0);
}

Result<void> close_section(std::vector<std::uint8_t>& s, std::string_view what) {
    const std::size_t length = s.size() - 3 + 4; // after the length field, CRC included
    if (s.size() + 4 > max_section_size) {
        return fail(Errc::invalid_argument, fmt::format("{} needs {} bytes, more than one section holds ({})", what,
                                                        s.size() + 4, max_section_size));
    }
    s[1] = static_cast<std::uint8_t>(0xB0 | (length >> 8));
    s[2] = static_cast<std::uint8_t>(length);
    put32(s, crc32(s));
    return {};
}

Result<void> put_descriptors(std::vector<std::uint8_t>& s, std::span<const Descriptor> ds, std::string_view what) {
    std::size_t total = 0;
    for (const Descriptor& d : ds) {
        if (d.data.size() > 255) {
            return fail(Errc::invalid_argument,
                        fmt::format("{}: descriptor 0x{:02x} has {} bytes (255 at most)", what, d.tag, d.data.size()));
        }
        total += 2 + d.data.size();
    }
    if (total > 0x3FF) {
        return fail(Errc::invalid_argument, fmt::format("{}: descriptors take {} bytes (1023 at most)", what, total));
    }
    put16(s, 0xF000U | static_cast<std::uint32_t>(total));
    for (const Descriptor& d : ds) {
        s.push_back(d.tag);
        s.push_back(static_cast<std::uint8_t>(d.data.size()));
        s.insert(s.end(), d.data.begin(), d.data.end());
    }
    return {};
}

// Checks the common header and CRC of a long-form section; returns the body
// (after the 8-byte header, before the CRC).
Result<std::span<const std::uint8_t>> section_body(std::span<const std::uint8_t> s, std::uint8_t table_id,
                                                   std::string_view what) {
    if (s.size() < 12) {
        return fail(Errc::corrupt, fmt::format("{} section: {} bytes, shorter than its 12-byte frame", what, s.size()));
    }
    if (s[0] != table_id) {
        return fail(Errc::corrupt,
                    fmt::format("{} section: table_id 0x{:02x} at byte 0 (0x{:02x} expected)", what, s[0], table_id));
    }
    if ((s[1] & 0x80) == 0) {
        return fail(Errc::corrupt, fmt::format("{} section: section_syntax_indicator 0 at byte 1", what));
    }
    const std::size_t length = static_cast<std::size_t>(be16(s, 1) & 0x0FFF);
    if (length + 3 != s.size() || length < 9) {
        return fail(Errc::corrupt,
                    fmt::format("{} section: section_length {} at byte 1 does not match the {} bytes held", what,
                                length, s.size()));
    }
    if (crc32(s) != 0) {
        return fail(Errc::corrupt, fmt::format("{} section: CRC_32 0x{:08x} at byte {} does not match its bytes", what,
                                               be16(s, s.size() - 4) << 16 | be16(s, s.size() - 2), s.size() - 4));
    }
    return s.subspan(8, s.size() - 12);
}

} // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept {
    return detail::crc32_msb_update(0xFFFFFFFFU, bytes);
}

Result<PacketView> parse_packet(std::span<const std::uint8_t> p, std::uint64_t offset) {
    if (p.size() < packet_size) {
        return fail(Errc::corrupt,
                    fmt::format("TS packet at byte {}: {} bytes, a packet has {}", offset, p.size(), packet_size));
    }
    if (p[0] != sync_byte) {
        return fail(Errc::corrupt,
                    fmt::format("TS packet at byte {}: sync byte 0x{:02x} (0x47 expected)", offset, p[0]));
    }
    PacketView v;
    v.transport_error = (p[1] & 0x80) != 0;
    v.payload_unit_start = (p[1] & 0x40) != 0;
    v.pid = static_cast<std::uint16_t>(be16(p, 1) & 0x1FFF);
    v.scrambling = static_cast<std::uint8_t>(p[3] >> 6);
    const std::uint8_t control = (p[3] >> 4) & 0x3;
    v.continuity_counter = p[3] & 0x0F;
    v.has_payload = (control & 0x1) != 0;
    std::size_t pos = 4;
    if ((control & 0x2) != 0) {
        const std::size_t length = p[4];
        const std::size_t max_length = v.has_payload ? 182 : 183;
        if (length > max_length) {
            return fail(Errc::corrupt,
                        fmt::format("TS packet at byte {} (PID 0x{:04x}): adaptation_field_length {} at byte {} "
                                    "(at most {})",
                                    offset, v.pid, length, offset + 4, max_length));
        }
        AdaptationField af;
        if (length > 0) {
            const std::uint8_t flags = p[5];
            af.discontinuity = (flags & 0x80) != 0;
            af.random_access = (flags & 0x40) != 0;
            if ((flags & 0x10) != 0) {
                if (length < 7) {
                    return fail(Errc::corrupt,
                                fmt::format("TS packet at byte {} (PID 0x{:04x}): PCR flag set in an adaptation "
                                            "field of {} bytes",
                                            offset, v.pid, length));
                }
                const std::uint64_t base =
                    static_cast<std::uint64_t>(p[6]) << 25 | static_cast<std::uint64_t>(p[7]) << 17 |
                    static_cast<std::uint64_t>(p[8]) << 9 | static_cast<std::uint64_t>(p[9]) << 1 | (p[10] >> 7);
                const std::uint64_t ext = static_cast<std::uint64_t>(p[10] & 0x1) << 8 | p[11];
                af.pcr = base * 300 + ext;
            }
        }
        v.adaptation = af;
        pos = 5 + length;
    }
    if (v.has_payload) {
        v.payload = p.subspan(pos, packet_size - pos);
    }
    return v;
}

std::size_t write_packet(std::vector<std::uint8_t>& out, std::uint16_t pid, bool payload_unit_start,
                         std::uint8_t continuity_counter, const AdaptationField* adaptation,
                         std::span<const std::uint8_t> payload) {
    std::array<std::uint8_t, 12> af{};
    std::size_t af_used = 0; // adaptation field bytes after its length byte, before stuffing
    if (adaptation != nullptr) {
        af[0] = static_cast<std::uint8_t>((adaptation->discontinuity ? 0x80 : 0) |
                                          (adaptation->random_access ? 0x40 : 0) | (adaptation->pcr ? 0x10 : 0));
        af_used = 1;
        if (adaptation->pcr) {
            const std::uint64_t base = (*adaptation->pcr / 300) & (pts_wrap - 1);
            const std::uint64_t ext = *adaptation->pcr % 300;
            af[1] = static_cast<std::uint8_t>(base >> 25);
            af[2] = static_cast<std::uint8_t>(base >> 17);
            af[3] = static_cast<std::uint8_t>(base >> 9);
            af[4] = static_cast<std::uint8_t>(base >> 1);
            af[5] = static_cast<std::uint8_t>((base & 1) << 7 | 0x7E | ext >> 8);
            af[6] = static_cast<std::uint8_t>(ext);
            af_used = 7;
        }
    }
    const bool has_af = adaptation != nullptr || payload.size() < packet_size - 4;
    std::size_t room = packet_size - 4 - (has_af ? 1 + af_used : 0);
    std::size_t stuffing = 0;
    if (payload.size() < room) {
        stuffing = room - payload.size();
        if (has_af && af_used == 0 && stuffing > 0) {
            af_used = 1; // flags byte, then 0xFF stuffing
            af[0] = 0;
            --stuffing;
        }
        room = payload.size();
    }
    const std::size_t n = std::min(room, payload.size());
    const std::size_t start = out.size();
    out.resize(start + packet_size);
    std::uint8_t* p = out.data() + start;
    p[0] = sync_byte;
    p[1] = static_cast<std::uint8_t>((payload_unit_start ? 0x40 : 0) | (pid >> 8 & 0x1F));
    p[2] = static_cast<std::uint8_t>(pid);
    p[3] = static_cast<std::uint8_t>((has_af ? 0x20 : 0) | (n > 0 ? 0x10 : 0) | (continuity_counter & 0x0F));
    std::size_t pos = 4;
    if (has_af) {
        p[pos++] = static_cast<std::uint8_t>(af_used + stuffing);
        std::memcpy(p + pos, af.data(), af_used);
        pos += af_used;
        std::memset(p + pos, 0xFF, stuffing);
        pos += stuffing;
    }
    if (n > 0) {
        std::memcpy(p + pos, payload.data(), n);
    }
    return n;
}

void write_section_packets(std::vector<std::uint8_t>& out, std::uint16_t pid, std::uint8_t& continuity_counter,
                           std::span<const std::uint8_t> section) {
    // pointer_field 0, then the section, then 0xFF up to the packet's end.
    std::vector<std::uint8_t> data;
    data.reserve(section.size() + 1);
    data.push_back(0);
    data.insert(data.end(), section.begin(), section.end());
    std::size_t pos = 0;
    bool first = true;
    while (pos < data.size()) {
        const std::size_t start = out.size();
        out.resize(start + packet_size, 0xFF);
        std::uint8_t* p = out.data() + start;
        p[0] = sync_byte;
        p[1] = static_cast<std::uint8_t>((first ? 0x40 : 0) | (pid >> 8 & 0x1F));
        p[2] = static_cast<std::uint8_t>(pid);
        p[3] = static_cast<std::uint8_t>(0x10 | (continuity_counter & 0x0F));
        continuity_counter = static_cast<std::uint8_t>((continuity_counter + 1) & 0x0F);
        const std::size_t n = std::min(data.size() - pos, packet_size - 4);
        std::memcpy(p + 4, data.data() + pos, n);
        pos += n;
        first = false;
    }
}

Result<std::vector<std::uint8_t>> write_pat(const Pat& pat) {
    std::vector<std::uint8_t> s;
    open_section(s, table_id_pat, pat.transport_stream_id, pat.version);
    for (const PatProgram& p : pat.programs) {
        put16(s, p.program_number);
        put16(s, 0xE000U | (p.pid & 0x1FFFU));
    }
    if (auto r = close_section(s, "PAT"); !r) {
        return fail(r.error());
    }
    return s;
}

Result<std::vector<std::uint8_t>> write_pmt(const Pmt& pmt) {
    std::vector<std::uint8_t> s;
    open_section(s, table_id_pmt, pmt.program_number, pmt.version);
    put16(s, 0xE000U | (pmt.pcr_pid & 0x1FFFU));
    if (auto r = put_descriptors(s, pmt.program_descriptors, "PMT program_info"); !r) {
        return fail(r.error());
    }
    for (const PmtStream& st : pmt.streams) {
        s.push_back(st.stream_type);
        put16(s, 0xE000U | (st.pid & 0x1FFFU));
        if (auto r = put_descriptors(s, st.descriptors, fmt::format("PMT ES_info of PID 0x{:04x}", st.pid)); !r) {
            return fail(r.error());
        }
    }
    if (auto r = close_section(s, "PMT"); !r) {
        return fail(r.error());
    }
    return s;
}

Result<Pat> parse_pat(std::span<const std::uint8_t> section) {
    auto body = section_body(section, table_id_pat, "PAT");
    if (!body) {
        return fail(body.error());
    }
    Pat pat;
    pat.transport_stream_id = be16(section, 3);
    pat.version = (section[5] >> 1) & 0x1F;
    if (body->size() % 4 != 0) {
        return fail(Errc::corrupt,
                    fmt::format("PAT section: program loop of {} bytes is not a multiple of 4", body->size()));
    }
    for (std::size_t i = 0; i < body->size(); i += 4) {
        pat.programs.push_back({be16(*body, i), static_cast<std::uint16_t>(be16(*body, i + 2) & 0x1FFF)});
    }
    return pat;
}

Result<std::vector<Descriptor>> parse_descriptors(std::span<const std::uint8_t> loop) {
    std::vector<Descriptor> out;
    std::size_t pos = 0;
    while (pos < loop.size()) {
        if (pos + 2 > loop.size() || pos + 2 + loop[pos + 1] > loop.size()) {
            return fail(Errc::corrupt, fmt::format("descriptor at byte {} of its loop runs past the loop's {} bytes",
                                                   pos, loop.size()));
        }
        Descriptor d;
        d.tag = loop[pos];
        d.data.assign(loop.begin() + static_cast<std::ptrdiff_t>(pos) + 2,
                      loop.begin() + static_cast<std::ptrdiff_t>(pos) + 2 + loop[pos + 1]);
        pos += 2 + d.data.size();
        out.push_back(std::move(d));
    }
    return out;
}

Result<Pmt> parse_pmt(std::span<const std::uint8_t> section) {
    auto body = section_body(section, table_id_pmt, "PMT");
    if (!body) {
        return fail(body.error());
    }
    Pmt pmt;
    pmt.program_number = be16(section, 3);
    pmt.version = (section[5] >> 1) & 0x1F;
    const auto b = *body;
    if (b.size() < 4) {
        return fail(Errc::corrupt, "PMT section: no room for PCR_PID and program_info_length");
    }
    pmt.pcr_pid = static_cast<std::uint16_t>(be16(b, 0) & 0x1FFF);
    const std::size_t info_length = be16(b, 2) & 0x0FFF;
    if (4 + info_length > b.size()) {
        return fail(Errc::corrupt,
                    fmt::format("PMT section: program_info_length {} at byte 10 runs past the section", info_length));
    }
    auto program = parse_descriptors(b.subspan(4, info_length));
    if (!program) {
        return fail(Errc::corrupt, "PMT program_info: " + program.error().message());
    }
    pmt.program_descriptors = std::move(*program);
    std::size_t pos = 4 + info_length;
    while (pos < b.size()) {
        if (pos + 5 > b.size()) {
            return fail(Errc::corrupt, fmt::format("PMT section: stream entry at byte {} is cut short", pos + 8));
        }
        PmtStream st;
        st.stream_type = b[pos];
        st.pid = static_cast<std::uint16_t>(be16(b, pos + 1) & 0x1FFF);
        const std::size_t es_length = be16(b, pos + 3) & 0x0FFF;
        if (pos + 5 + es_length > b.size()) {
            return fail(Errc::corrupt,
                        fmt::format("PMT section: ES_info_length {} of PID 0x{:04x} at byte {} runs past the section",
                                    es_length, st.pid, pos + 8 + 3));
        }
        auto ds = parse_descriptors(b.subspan(pos + 5, es_length));
        if (!ds) {
            return fail(Errc::corrupt, fmt::format("PMT ES_info of PID 0x{:04x}: {}", st.pid, ds.error().message()));
        }
        st.descriptors = std::move(*ds);
        pmt.streams.push_back(std::move(st));
        pos += 5 + es_length;
    }
    return pmt;
}

std::vector<std::vector<std::uint8_t>> SectionAssembler::push(const PacketView& packet) {
    std::vector<std::vector<std::uint8_t>> done;
    if (!packet.has_payload) {
        return done;
    }
    if (last_cc_ && packet.continuity_counter == *last_cc_) {
        return done; // a duplicate packet
    }
    const bool gap = last_cc_ && packet.continuity_counter != ((*last_cc_ + 1) & 0x0F);
    last_cc_ = packet.continuity_counter;
    if (gap && open_) {
        partial_.clear();
        open_ = false;
        ++dropped_;
    }
    std::span<const std::uint8_t> p = packet.payload;
    if (packet.payload_unit_start) {
        if (p.empty() || 1 + static_cast<std::size_t>(p[0]) > p.size()) {
            if (open_) {
                ++dropped_;
            }
            partial_.clear();
            open_ = false;
            return done;
        }
        const std::size_t pointer = p[0];
        if (open_) {
            take_bytes(p.subspan(1, pointer), done);
            if (open_) {
                partial_.clear();
                open_ = false;
                ++dropped_;
            }
        }
        p = p.subspan(1 + pointer);
        open_ = true;
        take_bytes(p, done);
    } else if (open_) {
        take_bytes(p, done);
    }
    return done;
}

void SectionAssembler::take_bytes(std::span<const std::uint8_t> bytes, std::vector<std::vector<std::uint8_t>>& done) {
    std::size_t pos = 0;
    while (pos < bytes.size() && open_) {
        if (partial_.empty() && bytes[pos] == 0xFF) {
            open_ = false; // stuffing to the end of the packet
            return;
        }
        std::size_t need = 3;
        if (partial_.size() >= 3) {
            need = 3 + (static_cast<std::size_t>(partial_[1] & 0x0F) << 8 | partial_[2]);
        }
        const std::size_t n = std::min(need - partial_.size(), bytes.size() - pos);
        partial_.insert(partial_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                        bytes.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
        if (partial_.size() == 3) {
            const std::size_t length = static_cast<std::size_t>(partial_[1] & 0x0F) << 8 | partial_[2];
            if (length + 3 > max_private_section_size) {
                partial_.clear();
                open_ = false;
                ++dropped_;
                return;
            }
            // A section_length of 0 completes the section here: waiting for
            // more of it would take no bytes and loop for ever.
            need = 3 + length;
        }
        if (partial_.size() >= 3 && partial_.size() == need) {
            done.push_back(std::move(partial_));
            partial_.clear();
        }
    }
}

Result<PesHeader> parse_pes_header(std::span<const std::uint8_t> b) {
    if (b.size() < 6 || b[0] != 0 || b[1] != 0 || b[2] != 1) {
        return fail(Errc::corrupt, "PES packet: no packet_start_code_prefix 0x000001 at byte 0");
    }
    PesHeader h;
    h.stream_id = b[3];
    h.packet_length = be16(b, 4);
    h.header_size = 6;
    // Streams without the optional header (ISO/IEC 13818-1 table 2-21).
    const std::uint8_t id = h.stream_id;
    if (id == 0xBC || id == 0xBE || id == 0xBF || id == 0xF0 || id == 0xF1 || id == 0xFF || id == 0xF2 || id == 0xF8) {
        return h;
    }
    if (b.size() < 9) {
        return fail(Errc::corrupt,
                    fmt::format("PES packet of stream_id 0x{:02x}: header cut short at {} bytes", id, b.size()));
    }
    if ((b[6] & 0xC0) != 0x80) {
        return fail(Errc::corrupt,
                    fmt::format("PES packet of stream_id 0x{:02x}: marker bits '{:02b}' at byte 6 ('10' expected)", id,
                                b[6] >> 6));
    }
    h.data_alignment = (b[6] & 0x04) != 0;
    const std::uint8_t pts_dts = b[7] >> 6;
    const std::size_t header_data_length = b[8];
    h.header_size = 9 + header_data_length;
    if (h.header_size > b.size()) {
        return fail(Errc::corrupt,
                    fmt::format("PES packet of stream_id 0x{:02x}: PES_header_data_length {} at byte 8 runs past the "
                                "{} bytes held",
                                id, header_data_length, b.size()));
    }
    auto read_ts = [&](std::size_t at, std::string_view name) -> Result<std::uint64_t> {
        if (at + 5 > h.header_size) {
            return fail(Errc::corrupt, fmt::format("PES packet of stream_id 0x{:02x}: {} at byte {} runs past the "
                                                   "header",
                                                   id, name, at));
        }
        if ((b[at] & 1) == 0 || (b[at + 2] & 1) == 0 || (b[at + 4] & 1) == 0) {
            return fail(
                Errc::corrupt,
                fmt::format("PES packet of stream_id 0x{:02x}: {} at byte {} lacks its marker bits", id, name, at));
        }
        return static_cast<std::uint64_t>((b[at] >> 1) & 0x07) << 30 | static_cast<std::uint64_t>(b[at + 1]) << 22 |
               static_cast<std::uint64_t>(b[at + 2] >> 1) << 15 | static_cast<std::uint64_t>(b[at + 3]) << 7 |
               static_cast<std::uint64_t>(b[at + 4] >> 1);
    };
    if (pts_dts == 1) {
        return fail(Errc::corrupt,
                    fmt::format("PES packet of stream_id 0x{:02x}: PTS_DTS_flags '01' at byte 7 (forbidden)", id));
    }
    if (pts_dts >= 2) {
        auto pts = read_ts(9, "PTS");
        if (!pts) {
            return fail(pts.error());
        }
        h.pts = *pts;
    }
    if (pts_dts == 3) {
        auto dts = read_ts(14, "DTS");
        if (!dts) {
            return fail(dts.error());
        }
        h.dts = *dts;
    }
    return h;
}

Result<void> write_pes_header(std::vector<std::uint8_t>& out, std::uint8_t stream_id, std::optional<std::uint64_t> pts,
                              std::optional<std::uint64_t> dts, std::size_t payload_size, bool data_alignment) {
    if (dts && !pts) {
        return fail(Errc::invalid_argument, "PES header: a DTS needs a PTS");
    }
    const bool has_pts = pts.has_value();
    const std::uint64_t pts_value = pts.value_or(0);
    const bool has_dts = dts.has_value() && dts.value_or(0) != pts_value;
    const std::uint64_t dts_value = dts.value_or(0);
    const std::size_t header_data = (has_pts ? 5 : 0) + (has_dts ? 5 : 0);
    const std::size_t after_length = 3 + header_data + payload_size;
    std::uint16_t length = 0;
    if (after_length <= 0xFFFF) {
        length = static_cast<std::uint16_t>(after_length);
    } else if ((stream_id & 0xF0) != 0xE0) {
        return fail(Errc::invalid_argument,
                    fmt::format("PES packet of stream_id 0x{:02x}: {} bytes of payload do not fit (only video "
                                "streams may be unbounded)",
                                stream_id, payload_size));
    }
    out.push_back(0x00);
    out.push_back(0x00);
    out.push_back(0x01);
    out.push_back(stream_id);
    put16(out, length);
    out.push_back(static_cast<std::uint8_t>(0x80 | (data_alignment ? 0x04 : 0)));
    out.push_back(static_cast<std::uint8_t>((has_pts ? 0x80 : 0) | (has_dts ? 0x40 : 0)));
    out.push_back(static_cast<std::uint8_t>(header_data));
    auto put_ts = [&](std::uint8_t prefix, std::uint64_t t) {
        t &= pts_wrap - 1;
        out.push_back(static_cast<std::uint8_t>(prefix << 4 | (t >> 29 & 0x0E) | 1));
        out.push_back(static_cast<std::uint8_t>(t >> 22));
        out.push_back(static_cast<std::uint8_t>((t >> 14 & 0xFE) | 1));
        out.push_back(static_cast<std::uint8_t>(t >> 7));
        out.push_back(static_cast<std::uint8_t>((t << 1 & 0xFE) | 1));
    };
    if (has_pts) {
        put_ts(has_dts ? 0x3 : 0x2, pts_value);
    }
    if (has_dts) {
        put_ts(0x1, dts_value);
    }
    return {};
}

std::uint64_t ns_to_pts(std::int64_t ns, std::uint64_t offset_ticks) noexcept {
    // floor(ns * 9 / 100000) without overflow: one 90 kHz tick is 100000/9 ns.
    std::int64_t q = ns / 100'000;
    std::int64_t r = ns % 100'000;
    if (r < 0) {
        --q;
        r += 100'000;
    }
    const std::int64_t ticks = q * 9 + r * 9 / 100'000;
    return (static_cast<std::uint64_t>(ticks) + offset_ticks) & (pts_wrap - 1);
}

std::int64_t pts_to_ns(std::uint64_t ticks) noexcept {
    return static_cast<std::int64_t>(ticks / 9 * 100'000 + ticks % 9 * 100'000 / 9);
}

std::int64_t TimestampUnwrapper::unwrap(std::uint64_t ticks) noexcept {
    const auto t = static_cast<std::int64_t>(ticks & (pts_wrap - 1));
    if (!last_) {
        last_ = t;
        return t;
    }
    const auto wrap = static_cast<std::int64_t>(pts_wrap);
    std::int64_t candidate = *last_ - (*last_ % wrap + wrap) % wrap + t;
    if (candidate - *last_ > wrap / 2) {
        candidate -= wrap;
    } else if (*last_ - candidate > wrap / 2) {
        candidate += wrap;
    }
    last_ = candidate;
    return candidate;
}

Descriptor registration_descriptor(std::string_view format_identifier) {
    Descriptor d{descriptor_tag::registration, {}};
    for (std::size_t i = 0; i < 4; ++i) {
        d.data.push_back(i < format_identifier.size() ? static_cast<std::uint8_t>(format_identifier[i]) : ' ');
    }
    return d;
}

std::optional<std::string> registration_of(const Descriptor& d) {
    if (d.tag != descriptor_tag::registration || d.data.size() < 4) {
        return std::nullopt;
    }
    return std::string(d.data.begin(), d.data.begin() + 4);
}

std::string find_registration(std::span<const Descriptor> descriptors) {
    for (const Descriptor& d : descriptors) {
        if (auto id = registration_of(d)) {
            return *id;
        }
    }
    return {};
}

Descriptor opus_audio_descriptor(std::uint8_t channel_config_code) {
    return Descriptor{descriptor_tag::extension, {0x80, channel_config_code}};
}

Result<std::optional<std::uint8_t>> opus_channel_config(const Descriptor& d) {
    if (d.tag != descriptor_tag::extension || d.data.empty() || d.data[0] != 0x80) {
        return std::optional<std::uint8_t>();
    }
    if (d.data.size() < 2) {
        return fail(Errc::corrupt, "Opus audio descriptor: no channel_config_code");
    }
    if (d.data[1] > 8) {
        return fail(Errc::unsupported, fmt::format("Opus audio descriptor: channel_config_code 0x{:02x} (only 0 to 8 "
                                                   "are read: dual mono and 1 to 8 channels in Vorbis order)",
                                                   d.data[1]));
    }
    return std::optional<std::uint8_t>(d.data[1]);
}

void write_opus_control_header(std::vector<std::uint8_t>& out, std::size_t au_size, std::uint16_t start_trim,
                               std::uint16_t end_trim) {
    out.push_back(0x7F);
    out.push_back(static_cast<std::uint8_t>(0xE0 | (start_trim != 0 ? 0x10 : 0) | (end_trim != 0 ? 0x08 : 0)));
    std::size_t n = au_size;
    while (n >= 255) {
        out.push_back(0xFF);
        n -= 255;
    }
    out.push_back(static_cast<std::uint8_t>(n));
    if (start_trim != 0) {
        put16(out, start_trim & 0x1FFFU);
    }
    if (end_trim != 0) {
        put16(out, end_trim & 0x1FFFU);
    }
}

Result<OpusControlHeader> parse_opus_control_header(std::span<const std::uint8_t> b) {
    if (b.size() < 3 || b[0] != 0x7F || (b[1] & 0xE0) != 0xE0) {
        return fail(Errc::corrupt, "Opus control header: prefix 0x7FF missing");
    }
    OpusControlHeader h;
    const bool start = (b[1] & 0x10) != 0;
    const bool end = (b[1] & 0x08) != 0;
    const bool extension = (b[1] & 0x04) != 0;
    std::size_t pos = 2;
    for (;;) {
        if (pos >= b.size()) {
            return fail(Errc::corrupt, "Opus control header: au_size runs past the data");
        }
        const std::uint8_t v = b[pos++];
        h.au_size += v;
        if (v != 255) {
            break;
        }
    }
    auto trim = [&](std::uint16_t& field, std::string_view name) -> Result<void> {
        if (pos + 2 > b.size()) {
            return fail(Errc::corrupt, fmt::format("Opus control header: {} runs past the data", name));
        }
        field = static_cast<std::uint16_t>(be16(b, pos) & 0x1FFF);
        pos += 2;
        return {};
    };
    if (start) {
        if (auto r = trim(h.start_trim, "start_trim"); !r) {
            return fail(r.error());
        }
    }
    if (end) {
        if (auto r = trim(h.end_trim, "end_trim"); !r) {
            return fail(r.error());
        }
    }
    if (extension) {
        if (pos >= b.size() || pos + 1 + b[pos] > b.size()) {
            return fail(Errc::corrupt, "Opus control header: control extension runs past the data");
        }
        pos += 1 + b[pos];
    }
    h.header_size = pos;
    return h;
}

Result<Descriptor> av1_video_descriptor(std::span<const std::uint8_t> av1c, std::uint8_t hdr_wcg_idc) {
    if (av1c.size() < 4 || av1c[0] != 0x81) {
        return fail(Errc::invalid_argument, "AV1 video descriptor: needs an av1C record (marker 1, version 1)");
    }
    Descriptor d{descriptor_tag::av1_video, {av1c[0], av1c[1], av1c[2], av1c[3]}};
    d.data[3] = static_cast<std::uint8_t>((hdr_wcg_idc & 0x3) << 6 | (av1c[3] & 0x1F));
    return d;
}

Result<std::vector<std::uint8_t>> av1c_from_descriptor(const Descriptor& d) {
    if (d.tag != descriptor_tag::av1_video || d.data.size() < 4 || (d.data[0] & 0x80) == 0) {
        return fail(Errc::corrupt, "AV1 video descriptor: tag 0x80 with 4 bytes and the marker bit expected");
    }
    std::vector<std::uint8_t> out(d.data.begin(), d.data.begin() + 4);
    out[0] = 0x81;
    out[3] &= 0x1F;
    return out;
}

Result<std::vector<std::uint8_t>> av1_to_start_code(std::span<const std::uint8_t> tu) {
    auto obus = av1::split_obus(tu);
    if (!obus) {
        return fail(obus.error());
    }
    std::vector<std::uint8_t> out;
    out.reserve(tu.size() + tu.size() / 64 + 16);
    for (const av1::Obu& obu : *obus) {
        if (obu.type == av1::ObuType::temporal_delimiter) {
            continue; // the PES boundary marks the temporal unit
        }
        out.insert(out.end(), {0x00, 0x00, 0x01});
        const auto escaped = h264::add_emulation_prevention(obu.bytes);
        out.insert(out.end(), escaped.begin(), escaped.end());
    }
    return out;
}

Result<std::vector<std::uint8_t>> av1_from_start_code(std::span<const std::uint8_t> data) {
    auto first = h264::find_start_code(data, 0);
    if (!first || first->offset != 0) {
        std::size_t lead = first ? first->offset : data.size();
        bool zeros = true;
        for (std::size_t i = 0; i < lead; ++i) {
            zeros = zeros && data[i] == 0;
        }
        if (!first || !zeros) {
            return fail(Errc::corrupt, "AV1 in TS: the PES payload does not begin with a start code 0x000001");
        }
    }
    std::vector<std::uint8_t> out;
    out.reserve(data.size() + 2);
    out.push_back(0x12); // a temporal delimiter with obu_size 0
    out.push_back(0x00);
    std::size_t pos = first->offset + first->length;
    while (pos < data.size()) {
        auto next = h264::find_start_code(data, pos);
        const std::size_t end = next ? next->offset : data.size();
        const auto obu = h264::remove_emulation_prevention(data.subspan(pos, end - pos));
        if (!obu.empty()) {
            const std::uint8_t header = obu[0];
            const bool extension = (header & 0x04) != 0;
            const bool has_size = (header & 0x02) != 0;
            const std::size_t header_size = extension ? 2 : 1;
            if ((header & 0x80) != 0 || obu.size() < header_size) {
                return fail(
                    Errc::corrupt,
                    fmt::format("AV1 in TS: bad OBU header 0x{:02x} after the start code at byte {}", header, pos - 3));
            }
            const auto type = static_cast<av1::ObuType>((header >> 3) & 0x0F);
            if (type != av1::ObuType::temporal_delimiter) {
                if (has_size) {
                    auto parsed = av1::read_obu(obu, 0);
                    if (!parsed) {
                        return fail(Errc::corrupt, fmt::format("AV1 in TS: OBU after the start code at byte {}: {}",
                                                               pos - 3, parsed.error().message()));
                    }
                    out.insert(out.end(), parsed->bytes.begin(), parsed->bytes.end());
                } else {
                    // Trailing zero bytes before the next start code are not part of the OBU.
                    std::size_t size = obu.size();
                    while (size > header_size && obu[size - 1] == 0 && next) {
                        --size;
                    }
                    out.push_back(static_cast<std::uint8_t>(header | 0x02));
                    if (extension) {
                        out.push_back(obu[1]);
                    }
                    av1::write_leb128(static_cast<std::uint32_t>(size - header_size), out);
                    out.insert(out.end(), obu.begin() + static_cast<std::ptrdiff_t>(header_size),
                               obu.begin() + static_cast<std::ptrdiff_t>(size));
                }
            }
        }
        if (!next) {
            break;
        }
        pos = next->offset + next->length;
    }
    return out;
}

Descriptor klv_metadata_pointer_descriptor(std::uint8_t service_id, std::uint16_t program_number) {
    Descriptor d{descriptor_tag::metadata_pointer, {0x01, 0x00, 0xFF, klva[0], klva[1], klva[2], klva[3], service_id}};
    d.data.push_back(0x1F); // no locator record, MPEG_carriage_flags 0: same transport stream
    put16(d.data, program_number);
    return d;
}

Descriptor klv_metadata_descriptor(std::uint8_t service_id) {
    Descriptor d{descriptor_tag::metadata,
                 {0x01, 0x00, 0xFF, klva[0], klva[1], klva[2], klva[3], service_id,
                  0x0F}}; // decoder_config_flags 0, DSM-CC_flag 0
    return d;
}

Descriptor klv_metadata_std_descriptor() {
    // metadata_input_leak_rate and metadata_output_leak_rate in units of
    // 400 bit/s (2500: 1 Mbit/s), metadata_buffer_size in units of 1024
    // bytes (16 KiB): ample for KLV at video frame rates.
    Descriptor d{descriptor_tag::metadata_std, {}};
    for (const std::uint32_t v : {2500U, 16U, 2500U}) {
        d.data.push_back(static_cast<std::uint8_t>(0xC0 | (v >> 16 & 0x3F)));
        d.data.push_back(static_cast<std::uint8_t>(v >> 8));
        d.data.push_back(static_cast<std::uint8_t>(v));
    }
    return d;
}

bool is_klv_metadata_descriptor(const Descriptor& d) noexcept {
    // metadata_application_format (2 bytes, then a 4-byte identifier when
    // 0xFFFF), metadata_format 0xFF, then the 4-byte format identifier.
    if (d.tag != descriptor_tag::metadata || d.data.size() < 2) {
        return false;
    }
    const std::size_t format_at = d.data[0] == 0xFF && d.data[1] == 0xFF ? 6 : 2;
    if (d.data.size() < format_at + 5 || d.data[format_at] != 0xFF) {
        return false;
    }
    return std::equal(klva.begin(), klva.end(), d.data.begin() + static_cast<std::ptrdiff_t>(format_at) + 1);
}

void write_metadata_cell(std::vector<std::uint8_t>& out, std::uint8_t service_id, std::uint8_t sequence_number,
                         std::span<const std::uint8_t> data) {
    out.push_back(service_id);
    out.push_back(sequence_number);
    out.push_back(0xDF); // complete cell (11), no decoder config (0), random access (1), reserved 1111
    put16(out, static_cast<std::uint32_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
}

Result<std::vector<MetadataCell>> parse_metadata_cells(std::span<const std::uint8_t> payload) {
    std::vector<MetadataCell> cells;
    std::size_t pos = 0;
    while (pos < payload.size()) {
        if (pos + 5 > payload.size()) {
            return fail(Errc::corrupt, fmt::format("metadata AU cell at byte {}: header cut short", pos));
        }
        MetadataCell c;
        c.service_id = payload[pos];
        c.sequence_number = payload[pos + 1];
        c.fragment = payload[pos + 2] >> 6;
        c.random_access = (payload[pos + 2] & 0x10) != 0;
        const std::size_t length = be16(payload, pos + 3);
        if (pos + 5 + length > payload.size()) {
            return fail(Errc::corrupt, fmt::format("metadata AU cell at byte {}: AU_cell_data_length {} runs past the "
                                                   "{} bytes of the PES payload",
                                                   pos, length, payload.size()));
        }
        c.data = payload.subspan(pos + 5, length);
        cells.push_back(c);
        pos += 5 + length;
    }
    return cells;
}

std::size_t find_sync(std::span<const std::uint8_t> data, std::size_t from, unsigned confirm) noexcept {
    for (std::size_t i = from; i < data.size(); ++i) {
        if (data[i] != sync_byte) {
            continue;
        }
        bool ok = true;
        for (unsigned k = 1; k < confirm; ++k) {
            const std::size_t at = i + k * packet_size;
            if (at >= data.size()) {
                break;
            }
            if (data[at] != sync_byte) {
                ok = false;
                break;
            }
        }
        if (ok) {
            return i;
        }
    }
    return data.size();
}

} // namespace parallax::mpegts
