#pragma once

// Reads ISO BMFF boxes back in tests: a box tree over bytes in memory, and
// the few fields the tests look at (stsz counts, stss entries, trun
// samples). Not a general parser: it trusts sizes only as far as the bytes
// go and reports what it cannot read as a test failure.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::check {

inline std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
           static_cast<std::uint32_t>(b[at + 2]) << 8 | static_cast<std::uint32_t>(b[at + 3]);
}

inline std::uint64_t be64(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint64_t>(be32(b, at)) << 32 | be32(b, at + 4);
}

struct Box {
    std::string type;
    std::size_t offset = 0; // of the box's first byte in the whole file
    std::size_t header = 8;
    std::span<const std::uint8_t> payload; // after the header
    std::vector<Box> children;

    // The first child of that type (a path "a/b/c" goes down), or nullptr.
    [[nodiscard]] const Box* find(std::string_view path) const {
        const auto slash = path.find('/');
        const std::string_view head = path.substr(0, slash);
        for (const Box& c : children) {
            if (c.type == head) {
                return slash == std::string_view::npos ? &c : c.find(path.substr(slash + 1));
            }
        }
        return nullptr;
    }
    // Every child of that type.
    [[nodiscard]] std::vector<const Box*> all(std::string_view wanted) const {
        std::vector<const Box*> out;
        for (const Box& c : children) {
            if (c.type == wanted) {
                out.push_back(&c);
            }
        }
        return out;
    }
};

inline bool is_container(std::string_view type) {
    for (const std::string_view c : {"moov", "trak", "mdia", "minf", "stbl", "dinf", "edts", "mvex", "moof", "traf"}) {
        if (c == type) {
            return true;
        }
    }
    return false;
}

// Boxes point into the bytes they were read from: a temporary would leave
// them dangling.
std::vector<Box> parse_boxes(std::vector<std::uint8_t>&& bytes, std::size_t base = 0) = delete;

// The boxes in `bytes`, which start at file offset `base`; containers are
// opened (stsd too: its entries follow 8 bytes of its own fields).
inline std::vector<Box> parse_boxes(std::span<const std::uint8_t> bytes, std::size_t base = 0) {
    std::vector<Box> out;
    std::size_t at = 0;
    while (at + 8 <= bytes.size()) {
        Box b;
        std::uint64_t size = be32(bytes, at);
        b.type.assign(reinterpret_cast<const char*>(bytes.data() + at + 4), 4);
        b.offset = base + at;
        if (size == 1) {
            if (at + 16 > bytes.size()) {
                ADD_FAILURE() << "box " << b.type << " at " << b.offset << ": cut in its largesize";
                break;
            }
            size = be64(bytes, at + 8);
            b.header = 16;
        } else if (size == 0) {
            size = bytes.size() - at;
        }
        if (size < b.header || at + size > bytes.size()) {
            ADD_FAILURE() << "box " << b.type << " at " << b.offset << ": size " << size << " goes past the end ("
                          << bytes.size() - at << " bytes left)";
            break;
        }
        b.payload = bytes.subspan(at + b.header, static_cast<std::size_t>(size) - b.header);
        if (is_container(b.type)) {
            b.children = parse_boxes(b.payload, b.offset + b.header);
        } else if (b.type == "stsd" && b.payload.size() >= 8) {
            b.children = parse_boxes(b.payload.subspan(8), b.offset + b.header + 8);
        }
        out.push_back(std::move(b));
        at += static_cast<std::size_t>(size);
    }
    EXPECT_EQ(at, bytes.size()) << "bytes after the last whole box";
    return out;
}

// stsz's sample count.
inline std::uint32_t stsz_count(const Box& stsz) {
    return be32(stsz.payload, 8);
}

// stss's sample numbers.
inline std::vector<std::uint32_t> stss_entries(const Box& stss) {
    std::vector<std::uint32_t> out;
    const std::uint32_t n = be32(stss.payload, 4);
    for (std::uint32_t i = 0; i < n; ++i) {
        out.push_back(be32(stss.payload, 8 + 4 * std::size_t{i}));
    }
    return out;
}

struct TrunSample {
    std::uint32_t duration = 0;
    std::uint32_t size = 0;
    std::uint32_t flags = 0;
};

// The samples of a trun written with duration, size and flags per sample
// (and maybe composition offsets).
inline std::vector<TrunSample> trun_samples(const Box& trun) {
    const std::uint32_t flags = be32(trun.payload, 0) & 0xFFFFFF;
    const std::uint32_t n = be32(trun.payload, 4);
    std::size_t at = 8;
    if ((flags & 0x1) != 0) {
        at += 4;
    }
    if ((flags & 0x4) != 0) {
        at += 4;
    }
    std::vector<TrunSample> out;
    for (std::uint32_t i = 0; i < n; ++i) {
        TrunSample s;
        if ((flags & 0x100) != 0) {
            s.duration = be32(trun.payload, at);
            at += 4;
        }
        if ((flags & 0x200) != 0) {
            s.size = be32(trun.payload, at);
            at += 4;
        }
        if ((flags & 0x400) != 0) {
            s.flags = be32(trun.payload, at);
            at += 4;
        }
        if ((flags & 0x800) != 0) {
            at += 4;
        }
        out.push_back(s);
    }
    return out;
}

// The handler type of a trak ("vide", "soun").
inline std::string handler_of(const Box& trak) {
    const Box* hdlr = trak.find("mdia/hdlr");
    if (hdlr == nullptr || hdlr->payload.size() < 12) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(hdlr->payload.data() + 8), 4);
}

} // namespace parallax::check
