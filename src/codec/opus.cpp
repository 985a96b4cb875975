// Opus headers (RFC 7845 section 5), packet framing (RFC 6716 section 3)
// and caps. Readers check the remaining length before every field, so a
// truncated input names the field it stopped at.

#include <parallax/caps/structure.hpp>
#include <parallax/caps/value.hpp>
#include <parallax/codec/opus.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string_view>

namespace parallax::opus {
namespace {

constexpr std::string_view head_magic = "OpusHead";
constexpr std::string_view tags_magic = "OpusTags";
// The longest frame RFC 6716 allows (section 3.4, requirement R2).
constexpr std::size_t max_frame_bytes = 1275;

tl::unexpected<Error> corrupt(std::string_view what, std::size_t offset, std::string_view message) {
    return fail(Errc::corrupt, fmt::format("{} at byte {}: {}", what, offset, message));
}

// Little-endian reads from a span whose length the caller checked.
std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}
std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
           (static_cast<std::uint32_t>(b[at + 2]) << 16) | (static_cast<std::uint32_t>(b[at + 3]) << 24);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<std::uint8_t>((v >> (8 * i)) & 0xff));
    }
}

bool starts_with(std::span<const std::uint8_t> bytes, std::string_view magic) {
    return bytes.size() >= magic.size() &&
           std::equal(magic.begin(), magic.end(), bytes.begin(),
                      [](char c, std::uint8_t b) { return static_cast<std::uint8_t>(c) == b; });
}

// A frame length of code 2 and VBR code 3 packets (section 3.2.1): one byte
// below 252, else two bytes (first + 4 * second).
Result<std::size_t> read_frame_length(std::span<const std::uint8_t> p, std::size_t& pos, std::size_t index) {
    if (pos >= p.size()) {
        return corrupt("Opus packet", pos, fmt::format("the length of frame {} is missing", index));
    }
    const std::size_t first = p[pos];
    if (first < 252) {
        pos += 1;
        return first;
    }
    if (pos + 1 >= p.size()) {
        return corrupt("Opus packet", pos, fmt::format("the second byte of the length of frame {} is missing", index));
    }
    const std::size_t length = first + 4 * std::size_t{p[pos + 1]};
    pos += 2;
    return length;
}

Result<void> check_frame_bytes(std::size_t length, std::size_t offset, std::size_t index) {
    if (length > max_frame_bytes) {
        return corrupt("Opus packet", offset,
                       fmt::format("frame {} has {} bytes, more than the 1275 allowed", index, length));
    }
    return {};
}

} // namespace

Result<Header> parse_head(std::span<const std::uint8_t> bytes) {
    constexpr std::string_view what = "OpusHead";
    if (bytes.size() < head_magic.size()) {
        return corrupt(what, 0, fmt::format("{} bytes are too short for the magic \"OpusHead\"", bytes.size()));
    }
    if (!starts_with(bytes, head_magic)) {
        return corrupt(what, 0, "the magic is not \"OpusHead\"");
    }
    if (bytes.size() < 19) {
        return corrupt(what, bytes.size(),
                       fmt::format("the header is truncated: {} bytes, the fixed fields need 19", bytes.size()));
    }
    Header h;
    h.version = bytes[8];
    if ((h.version >> 4) != 0) {
        return fail(Errc::version_mismatch,
                    fmt::format("OpusHead at byte 8: version {} has major version {}, only 0 is read", h.version,
                                h.version >> 4));
    }
    h.channels = bytes[9];
    if (h.channels == 0) {
        return corrupt(what, 9, "channel count is 0");
    }
    h.pre_skip = le16(bytes, 10);
    h.input_sample_rate = le32(bytes, 12);
    h.output_gain = static_cast<std::int16_t>(le16(bytes, 16));
    h.mapping_family = bytes[18];
    if (h.mapping_family == 0) {
        if (h.channels > 2) {
            return corrupt(what, 9, fmt::format("channel count {} with mapping family 0 (at most 2)", h.channels));
        }
        h.stream_count = 1;
        h.coupled_count = static_cast<std::uint8_t>(h.channels - 1);
        return h;
    }
    if (h.mapping_family == 1 && h.channels > 8) {
        return corrupt(what, 9, fmt::format("channel count {} with mapping family 1 (at most 8)", h.channels));
    }
    if (bytes.size() < 21) {
        return corrupt(what, bytes.size(),
                       fmt::format("the stream and coupled counts of mapping family {} are missing", h.mapping_family));
    }
    h.stream_count = bytes[19];
    h.coupled_count = bytes[20];
    if (h.stream_count == 0) {
        return corrupt(what, 19, "stream count is 0");
    }
    if (h.coupled_count > h.stream_count) {
        return corrupt(what, 20,
                       fmt::format("coupled count {} exceeds stream count {}", h.coupled_count, h.stream_count));
    }
    const unsigned coded = unsigned{h.stream_count} + h.coupled_count;
    if (coded > 255) {
        return corrupt(
            what, 20,
            fmt::format("stream count {} plus coupled count {} exceeds 255", h.stream_count, h.coupled_count));
    }
    if (bytes.size() < 21 + std::size_t{h.channels}) {
        return corrupt(
            what, bytes.size(),
            fmt::format("the channel mapping table is truncated: {} of {} entries", bytes.size() - 21, h.channels));
    }
    h.mapping.assign(bytes.begin() + 21, bytes.begin() + 21 + h.channels);
    for (std::size_t i = 0; i < h.mapping.size(); ++i) {
        if (h.mapping[i] != 255 && h.mapping[i] >= coded) {
            return corrupt(what, 21 + i,
                           fmt::format("channel {} maps to coded channel {}, but there are only {} (255 = silence)", i,
                                       h.mapping[i], coded));
        }
    }
    return h;
}

std::vector<std::uint8_t> write_head(const Header& h) {
    std::vector<std::uint8_t> out(head_magic.begin(), head_magic.end());
    out.push_back(h.version);
    out.push_back(h.channels);
    put16(out, h.pre_skip);
    put32(out, h.input_sample_rate);
    put16(out, static_cast<std::uint16_t>(h.output_gain));
    out.push_back(h.mapping_family);
    if (h.mapping_family != 0) {
        out.push_back(h.stream_count);
        out.push_back(h.coupled_count);
        out.insert(out.end(), h.mapping.begin(), h.mapping.end());
    }
    return out;
}

Result<Tags> parse_tags(std::span<const std::uint8_t> bytes) {
    constexpr std::string_view what = "OpusTags";
    if (!starts_with(bytes, tags_magic)) {
        return corrupt(what, 0,
                       bytes.size() < tags_magic.size() ? "too short for the magic \"OpusTags\""
                                                        : "the magic is not \"OpusTags\"");
    }
    std::size_t pos = tags_magic.size();
    // A length-prefixed string at pos; `field` names it in errors.
    auto read_string = [&](const std::string& field) -> Result<std::string> {
        if (bytes.size() - pos < 4) {
            return corrupt(what, pos, fmt::format("the length of the {} is missing", field));
        }
        const std::uint32_t length = le32(bytes, pos);
        if (length > bytes.size() - pos - 4) {
            return corrupt(
                what, pos,
                fmt::format("the {} claims {} bytes, only {} remain", field, length, bytes.size() - pos - 4));
        }
        std::string s(reinterpret_cast<const char*>(bytes.data() + pos + 4), length);
        pos += 4 + std::size_t{length};
        return s;
    };
    Tags t;
    auto vendor = read_string("vendor string");
    if (!vendor) {
        return fail(std::move(vendor.error()));
    }
    t.vendor = std::move(*vendor);
    if (bytes.size() - pos < 4) {
        return corrupt(what, pos, "the comment count is missing");
    }
    const std::uint32_t count = le32(bytes, pos);
    // Each comment takes at least its 4-byte length: a larger count cannot
    // fit, and must not make us reserve memory for it.
    if (count > (bytes.size() - pos - 4) / 4) {
        return corrupt(what, pos,
                       fmt::format("comment count {} cannot fit in the {} bytes left", count, bytes.size() - pos - 4));
    }
    pos += 4;
    t.comments.reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        auto comment = read_string(fmt::format("comment {}", i));
        if (!comment) {
            return fail(std::move(comment.error()));
        }
        t.comments.push_back(std::move(*comment));
    }
    return t;
}

std::vector<std::uint8_t> write_tags(const Tags& t) {
    std::vector<std::uint8_t> out(tags_magic.begin(), tags_magic.end());
    auto put_string = [&](const std::string& s) {
        put32(out, static_cast<std::uint32_t>(s.size()));
        out.insert(out.end(), s.begin(), s.end());
    };
    put_string(t.vendor);
    put32(out, static_cast<std::uint32_t>(t.comments.size()));
    for (const std::string& c : t.comments) {
        put_string(c);
    }
    return out;
}

std::uint32_t frame_samples(std::uint8_t toc) noexcept {
    const unsigned config = toc >> 3U;
    if (config < 12) {
        // SILK-only: 10, 20, 40, 60 ms.
        constexpr std::uint32_t silk[] = {480, 960, 1920, 2880};
        return silk[config % 4];
    }
    if (config < 16) {
        // Hybrid: 10, 20 ms.
        return (config % 2) == 0 ? 480 : 960;
    }
    // CELT-only: 2.5, 5, 10, 20 ms.
    return 120U << (config % 4);
}

Result<std::uint32_t> packet_samples(std::span<const std::uint8_t> packet) {
    if (packet.empty()) {
        return corrupt("Opus packet", 0, "the packet is empty (no TOC byte)");
    }
    const std::uint8_t toc = packet[0];
    const std::uint32_t per_frame = frame_samples(toc);
    const std::size_t n = packet.size();
    std::uint32_t frames = 0;
    switch (toc & 3U) {
    case 0:
        frames = 1;
        if (auto ok = check_frame_bytes(n - 1, 1, 0); !ok) {
            return fail(std::move(ok.error()));
        }
        break;
    case 1:
        frames = 2;
        if ((n - 1) % 2 != 0) {
            return corrupt("Opus packet", 1,
                           fmt::format("code 1 needs two frames of equal size, but {} bytes follow the TOC", n - 1));
        }
        if (auto ok = check_frame_bytes((n - 1) / 2, 1, 0); !ok) {
            return fail(std::move(ok.error()));
        }
        break;
    case 2: {
        frames = 2;
        std::size_t pos = 1;
        auto first = read_frame_length(packet, pos, 0);
        if (!first) {
            return fail(std::move(first.error()));
        }
        if (*first > n - pos) {
            return corrupt("Opus packet", 1, fmt::format("frame 0 claims {} bytes, only {} remain", *first, n - pos));
        }
        if (auto ok = check_frame_bytes(*first, 1, 0); !ok) {
            return fail(std::move(ok.error()));
        }
        if (auto ok = check_frame_bytes(n - pos - *first, pos + *first, 1); !ok) {
            return fail(std::move(ok.error()));
        }
        break;
    }
    default: {
        if (n < 2) {
            return corrupt("Opus packet", 1, "code 3 needs a frame count byte");
        }
        const std::uint8_t count_byte = packet[1];
        const bool vbr = (count_byte & 0x80U) != 0;
        const bool padded = (count_byte & 0x40U) != 0;
        frames = count_byte & 0x3fU;
        if (frames == 0) {
            return corrupt("Opus packet", 1, "code 3 with a frame count of 0");
        }
        if (per_frame * frames > max_packet_samples) {
            return corrupt("Opus packet", 1,
                           fmt::format("{} frames of {} samples make {:.1f} ms, more than 120 ms", frames, per_frame,
                                       per_frame * frames / 48.0));
        }
        std::size_t pos = 2;
        std::size_t padding = 0;
        if (padded) {
            for (;;) {
                if (pos >= n) {
                    return corrupt("Opus packet", pos, "the padding length is missing");
                }
                const std::uint8_t b = packet[pos++];
                padding += b == 255 ? 254 : b;
                if (b != 255) {
                    break;
                }
            }
        }
        if (padding > n - pos) {
            return corrupt(
                "Opus packet", 2,
                fmt::format("{} bytes of padding, only {} bytes follow the padding length", padding, n - pos));
        }
        const std::size_t end = n - padding; // frames lie in [pos, end) once the lengths are read
        if (vbr) {
            std::size_t total = 0;
            for (std::uint32_t i = 0; i + 1 < frames; ++i) {
                const std::size_t at = pos;
                auto length = read_frame_length(packet, pos, i);
                if (!length) {
                    return fail(std::move(length.error()));
                }
                if (pos > end) {
                    return corrupt("Opus packet", at, fmt::format("the length of frame {} runs into the padding", i));
                }
                if (auto ok = check_frame_bytes(*length, at, i); !ok) {
                    return fail(std::move(ok.error()));
                }
                total += *length;
            }
            if (total > end - pos) {
                return corrupt("Opus packet", pos,
                               fmt::format("the frame lengths add up to {} bytes, only {} remain", total, end - pos));
            }
            if (auto ok = check_frame_bytes(end - pos - total, pos + total, frames - 1); !ok) {
                return fail(std::move(ok.error()));
            }
        } else {
            const std::size_t data = end - pos;
            if (data % frames != 0) {
                return corrupt(
                    "Opus packet", pos,
                    fmt::format("constant bitrate code 3: {} bytes do not divide into {} frames", data, frames));
            }
            if (auto ok = check_frame_bytes(data / frames, pos, 0); !ok) {
                return fail(std::move(ok.error()));
            }
        }
        break;
    }
    }
    const std::uint32_t total = per_frame * frames;
    if (total > max_packet_samples) {
        return corrupt(
            "Opus packet", 0,
            fmt::format("{} frames of {} samples make {:.1f} ms, more than 120 ms", frames, per_frame, total / 48.0));
    }
    return total;
}

Caps caps_for(const Header& h) {
    Structure s("audio/x-opus");
    const std::uint32_t rate = h.input_sample_rate == 0 ? sample_rate : h.input_sample_rate;
    s.set("rate", static_cast<std::int32_t>(std::min<std::uint32_t>(rate, std::numeric_limits<std::int32_t>::max())));
    s.set("channels", static_cast<std::int32_t>(h.channels));
    s.set("channel-mapping-family", static_cast<std::int32_t>(h.mapping_family));
    s.set("stream-count", static_cast<std::int32_t>(h.stream_count));
    s.set("coupled-count", static_cast<std::int32_t>(h.coupled_count));
    s.set("codec_data", Bytes{write_head(h)});
    Caps caps;
    caps.append(std::move(s));
    return caps;
}

Result<Header> header_from_caps(const Caps& caps) {
    if (caps.size() != 1 || caps.structure(0).name() != "audio/x-opus") {
        return fail(Errc::invalid_argument, fmt::format("not Opus caps: {}", caps.to_string()));
    }
    const Structure& s = caps.structure(0);
    if (const CapsValue* v = s.get("codec_data")) {
        const Bytes* b = v->get_if<Bytes>();
        if (b == nullptr) {
            return fail(Errc::invalid_argument,
                        fmt::format("caps field codec_data is a {}, not a buffer", v->type_name()));
        }
        auto h = parse_head(b->data);
        if (!h) {
            return fail(Errc::corrupt, fmt::format("caps field codec_data: {}", h.error().message()));
        }
        return h;
    }
    const auto channels = s.get_int("channels");
    if (!channels) {
        return fail(Errc::invalid_argument, "Opus caps without codec_data need an int field channels");
    }
    const auto family = s.get_int("channel-mapping-family");
    if (s.has("channel-mapping-family") && !family) {
        return fail(Errc::invalid_argument, "caps field channel-mapping-family is not an int");
    }
    if (family && *family != 0) {
        return fail(Errc::invalid_argument,
                    fmt::format("caps field channel-mapping-family is {}: without codec_data only family 0 is "
                                "described",
                                *family));
    }
    if (*channels < 1 || *channels > 2) {
        return fail(Errc::invalid_argument,
                    fmt::format("caps field channels is {}: mapping family 0 has 1 or 2", *channels));
    }
    Header h;
    h.channels = static_cast<std::uint8_t>(*channels);
    h.mapping_family = 0;
    h.stream_count = 1;
    h.coupled_count = static_cast<std::uint8_t>(*channels - 1);
    if (const auto rate = s.get_int("rate"); rate && *rate > 0) {
        h.input_sample_rate = static_cast<std::uint32_t>(*rate);
    }
    return h;
}

std::vector<AudioChannelPosition> vorbis_channel_positions(unsigned channels) {
    using P = AudioChannelPosition;
    switch (channels) {
    case 1:
        return {P::mono};
    case 2:
        return {P::front_left, P::front_right};
    case 3:
        return {P::front_left, P::front_center, P::front_right};
    case 4:
        return {P::front_left, P::front_right, P::rear_left, P::rear_right};
    case 5:
        return {P::front_left, P::front_center, P::front_right, P::rear_left, P::rear_right};
    case 6:
        return {P::front_left, P::front_center, P::front_right, P::rear_left, P::rear_right, P::lfe1};
    case 7:
        return {P::front_left, P::front_center, P::front_right, P::side_left, P::side_right, P::rear_center, P::lfe1};
    case 8:
        return {P::front_left, P::front_center, P::front_right, P::side_left,
                P::side_right, P::rear_left,    P::rear_right,  P::lfe1};
    default:
        return {};
    }
}

} // namespace parallax::opus
