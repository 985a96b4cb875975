#pragma once

/// \file
/// Ogg pages (RFC 3533) read from bytes: a 27-byte header ("OggS", version 0,
/// flags, granule position, serial number, page sequence number, CRC, segment
/// count), a lacing table, and the body. This reader needs no library; the
/// oggdemux element uses libogg, this is for tools and checks that work on
/// bytes in memory. Integers are little-endian.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace parallax::ogg {

inline constexpr std::size_t page_header_size = 27;
/// The largest page: a full header, 255 lacing values, 255 * 255 body bytes.
inline constexpr std::size_t max_page_size = page_header_size + 255 + std::size_t{255} * 255;

/// Header type flags.
inline constexpr std::uint8_t flag_continued = 0x01; ///< The first packet continues one from the page before.
inline constexpr std::uint8_t flag_bos = 0x02;       ///< First page of a logical stream.
inline constexpr std::uint8_t flag_eos = 0x04;       ///< Last page of a logical stream.

/// One page, viewing the bytes it was parsed from.
struct PageView {
    std::uint8_t flags = 0;
    /// The granule position; all bits set (-1 as a signed value) when no
    /// packet ends on the page.
    std::uint64_t granule = 0;
    std::uint32_t serial = 0;
    std::uint32_t sequence = 0;
    std::span<const std::uint8_t> lacing;
    std::span<const std::uint8_t> body;
    /// Bytes of the whole page (header, lacing, body).
    std::size_t size = 0;

    [[nodiscard]] bool is_continued() const noexcept { return (flags & flag_continued) != 0; }
    [[nodiscard]] bool is_bos() const noexcept { return (flags & flag_bos) != 0; }
    [[nodiscard]] bool is_eos() const noexcept { return (flags & flag_eos) != 0; }
    [[nodiscard]] bool has_granule() const noexcept { return granule != ~std::uint64_t{0}; }
    /// True when the last lacing value is 255: the page's last packet goes
    /// on in the next page.
    [[nodiscard]] bool last_packet_continues() const noexcept { return !lacing.empty() && lacing.back() == 255; }
};

/// The CRC-32 of Ogg (polynomial 0x04c11db7, no reflection, initial value and
/// final xor 0) over `bytes`.
PARALLAX_API std::uint32_t crc32(std::span<const std::uint8_t> bytes) noexcept;

/// Parses the page at the start of `bytes`. `offset` is where `bytes` starts
/// in the stream, for error messages. Returns nullopt when `bytes` holds only
/// the beginning of a page (read more and try again); an Error (corrupt)
/// naming the byte offset and field when the bytes are not a valid page
/// (capture pattern, version, CRC).
PARALLAX_API Result<std::optional<PageView>> parse_page(std::span<const std::uint8_t> bytes, std::uint64_t offset = 0);

/// Writes the CRC field of a complete page held in `page` (header with
/// the CRC field set to anything, lacing, body).
PARALLAX_API void set_crc(std::span<std::uint8_t> page) noexcept;

/// The packet pieces of a page: for each lacing run, its bytes in the body
/// and whether the packet ends on this page.
struct Segment {
    std::span<const std::uint8_t> bytes;
    bool complete = false;
};
PARALLAX_API std::vector<Segment> split_segments(const PageView& page);

/// Reads pages out of a byte stream given in pieces of any size, skipping
/// what is not a valid page (garbage, pages whose CRC does not match) and
/// counting it.
class PARALLAX_API PageReader {
public:
    /// Appends bytes read from the stream.
    void push(std::span<const std::uint8_t> bytes);
    /// The next valid page, or nullopt when more bytes are needed. The view
    /// stays valid until the next push() or next_page().
    std::optional<PageView> next_page();
    /// Stream offset of the page last returned.
    [[nodiscard]] std::uint64_t page_offset() const noexcept { return page_offset_; }
    /// Bytes skipped so far because they were not part of a valid page.
    [[nodiscard]] std::uint64_t skipped_bytes() const noexcept { return skipped_; }
    /// Bytes received and not yet returned as pages or skipped.
    [[nodiscard]] std::size_t pending_bytes() const noexcept { return data_.size() - pos_; }
    /// The error of the last invalid page found, if any.
    [[nodiscard]] const std::optional<Error>& last_error() const noexcept { return last_error_; }

private:
    std::vector<std::uint8_t> data_;
    std::size_t pos_ = 0;
    std::uint64_t consumed_ = 0; // stream offset of data_[0]
    std::uint64_t page_offset_ = 0;
    std::uint64_t skipped_ = 0;
    std::optional<Error> last_error_;
};

/// Joins the packets of one logical stream out of its pages, in order.
class PARALLAX_API PacketAssembler {
public:
    struct Packet {
        std::vector<std::uint8_t> bytes;
        /// The page's granule when this packet is the last one ending on it.
        std::optional<std::uint64_t> granule;
    };
    /// Takes the next page of the stream and returns the packets that end
    /// on it. A page whose sequence number skips, or that does not continue
    /// a packet left open, drops the partial packet (counted in lost()).
    std::vector<Packet> take(const PageView& page);
    /// Partial packets dropped so far.
    [[nodiscard]] std::uint64_t lost() const noexcept { return lost_; }

private:
    std::vector<std::uint8_t> partial_;
    bool open_ = false;
    std::optional<std::uint32_t> next_sequence_;
    std::uint64_t lost_ = 0;
};

} // namespace parallax::ogg
