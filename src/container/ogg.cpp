#include <parallax/container/ogg.hpp>

#include "container/crc32_msb.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace parallax::ogg {

namespace {

std::uint32_t crc_update(std::uint32_t crc, std::span<const std::uint8_t> bytes) noexcept {
    return detail::crc32_msb_update(crc, bytes);
}

std::uint32_t read_le32(std::span<const std::uint8_t> b, std::size_t at) noexcept {
    return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
           static_cast<std::uint32_t>(b[at + 2]) << 16 | static_cast<std::uint32_t>(b[at + 3]) << 24;
}

constexpr std::array<std::uint8_t, 4> capture = {'O', 'g', 'g', 'S'};
constexpr std::size_t crc_field = 22;

} // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept {
    return crc_update(0, bytes);
}

Result<std::optional<PageView>> parse_page(std::span<const std::uint8_t> bytes, std::uint64_t offset) {
    const std::size_t head = std::min(bytes.size(), capture.size());
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head), capture.begin())) {
        return fail(Errc::corrupt, fmt::format("Ogg page at byte {}: no capture pattern \"OggS\"", offset));
    }
    if (bytes.size() < page_header_size) {
        return std::optional<PageView>();
    }
    if (bytes[4] != 0) {
        return fail(Errc::corrupt, fmt::format("Ogg page at byte {}: version {} at byte {} (only 0 exists)", offset,
                                               bytes[4], offset + 4));
    }
    PageView page;
    page.flags = bytes[5];
    if ((page.flags & ~(flag_continued | flag_bos | flag_eos)) != 0) {
        return fail(Errc::corrupt, fmt::format("Ogg page at byte {}: unknown header flags 0x{:02x} at byte {}", offset,
                                               page.flags, offset + 5));
    }
    page.granule = static_cast<std::uint64_t>(read_le32(bytes, 6)) | static_cast<std::uint64_t>(read_le32(bytes, 10))
                                                                         << 32;
    page.serial = read_le32(bytes, 14);
    page.sequence = read_le32(bytes, 18);
    const std::uint32_t stored_crc = read_le32(bytes, crc_field);
    const std::size_t segments = bytes[26];
    if (bytes.size() < page_header_size + segments) {
        return std::optional<PageView>();
    }
    page.lacing = bytes.subspan(page_header_size, segments);
    std::size_t body_size = 0;
    for (const std::uint8_t l : page.lacing) {
        body_size += l;
    }
    page.size = page_header_size + segments + body_size;
    if (bytes.size() < page.size) {
        return std::optional<PageView>();
    }
    page.body = bytes.subspan(page_header_size + segments, body_size);
    // The CRC covers the page with its own field taken as zero.
    constexpr std::array<std::uint8_t, 4> zero{};
    std::uint32_t crc = crc_update(0, bytes.first(crc_field));
    crc = crc_update(crc, zero);
    crc = crc_update(crc, bytes.subspan(crc_field + 4, page.size - crc_field - 4));
    if (crc != stored_crc) {
        return fail(Errc::corrupt,
                    fmt::format("Ogg page at byte {} (serial {:08x}, sequence {}): CRC 0x{:08x} at byte {} does not "
                                "match the page's bytes (0x{:08x})",
                                offset, page.serial, page.sequence, stored_crc, offset + crc_field, crc));
    }
    return std::optional<PageView>(page);
}

void set_crc(std::span<std::uint8_t> page) noexcept {
    if (page.size() < page_header_size) {
        return;
    }
    std::memset(page.data() + crc_field, 0, 4);
    const std::uint32_t crc = crc32(page);
    for (std::size_t i = 0; i < 4; ++i) {
        page[crc_field + i] = static_cast<std::uint8_t>(crc >> (8 * i));
    }
}

std::vector<Segment> split_segments(const PageView& page) {
    std::vector<Segment> out;
    std::size_t start = 0;
    std::size_t at = 0;
    for (const std::uint8_t l : page.lacing) {
        at += l;
        if (l < 255) {
            out.push_back({page.body.subspan(start, at - start), true});
            start = at;
        }
    }
    if (page.last_packet_continues()) {
        out.push_back({page.body.subspan(start, at - start), false});
    }
    return out;
}

void PageReader::push(std::span<const std::uint8_t> bytes) {
    if (pos_ > 0 && pos_ >= data_.size() / 2) {
        data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(pos_));
        consumed_ += pos_;
        pos_ = 0;
    }
    data_.insert(data_.end(), bytes.begin(), bytes.end());
}

std::optional<PageView> PageReader::next_page() {
    while (pos_ < data_.size()) {
        const std::span<const std::uint8_t> rest = std::span<const std::uint8_t>(data_).subspan(pos_);
        auto page = parse_page(rest, consumed_ + pos_);
        if (page) {
            if (!page->has_value()) {
                return std::nullopt; // a page begins here but is not whole yet
            }
            page_offset_ = consumed_ + pos_;
            pos_ += (*page)->size;
            return *page;
        }
        if (rest.size() >= capture.size() && std::equal(capture.begin(), capture.end(), rest.begin())) {
            last_error_ = page.error(); // looked like a page but was not one
        }
        // Resynchronise on the next capture pattern after this byte.
        const auto next = std::search(rest.begin() + 1, rest.end(), capture.begin(), capture.end());
        std::size_t skip = static_cast<std::size_t>(next - rest.begin());
        if (next == rest.end()) {
            // Keep a tail that may be the start of a pattern cut by the push.
            const std::size_t keep = std::min<std::size_t>(rest.size() - 1, capture.size() - 1);
            skip = rest.size() - keep;
            while (skip < rest.size() && rest[skip] != 'O') {
                ++skip;
            }
        }
        pos_ += skip;
        skipped_ += skip;
    }
    return std::nullopt;
}

std::vector<PacketAssembler::Packet> PacketAssembler::take(const PageView& page) {
    std::vector<Packet> out;
    const bool in_order = !next_sequence_ || page.sequence == *next_sequence_;
    next_sequence_ = page.sequence + 1;
    const std::vector<Segment> segments = split_segments(page);
    std::size_t first = 0;
    if (open_ && (!in_order || !page.is_continued())) {
        // The rest of the open packet is lost.
        partial_.clear();
        open_ = false;
        ++lost_;
    }
    if (!open_ && page.is_continued() && !segments.empty()) {
        // The start of this packet was on a page we did not get.
        first = 1;
        ++lost_;
        if (!segments.front().complete) {
            return out; // the whole page is the middle of a lost packet
        }
    }
    for (std::size_t i = first; i < segments.size(); ++i) {
        const Segment& s = segments[i];
        partial_.insert(partial_.end(), s.bytes.begin(), s.bytes.end());
        if (!s.complete) {
            open_ = true;
            break;
        }
        open_ = false;
        out.push_back({std::move(partial_), std::nullopt});
        partial_.clear();
    }
    if (!out.empty() && page.has_granule()) {
        out.back().granule = page.granule;
    }
    return out;
}

} // namespace parallax::ogg
