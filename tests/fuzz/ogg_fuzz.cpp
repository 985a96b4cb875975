// Fuzz target of the Ogg page reader. Arbitrary bytes, fed in pieces of
// varying size, must give pages or skipped bytes, never a crash; every page
// returned must lie inside what was pushed, pass parse_page again, and split
// into segments that cover its body exactly.
#include <parallax/container/ogg.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ogg = parallax::ogg;
    const std::span<const std::uint8_t> input(data, size);

    // The whole input at once as one page.
    if (auto page = ogg::parse_page(input); page && page->has_value()) {
        if ((*page)->size > input.size() || (*page)->size > ogg::max_page_size) {
            std::abort();
        }
    }

    // The input as a stream cut into pieces whose sizes come from the bytes.
    ogg::PageReader reader;
    std::map<std::uint32_t, ogg::PacketAssembler> streams;
    std::size_t at = 0;
    std::size_t pages_bytes = 0;
    while (at < input.size()) {
        const std::size_t piece = std::min<std::size_t>(input.size() - at, 1U + (input[at] % 61U) * 17U);
        reader.push(input.subspan(at, piece));
        at += piece;
        while (auto page = reader.next_page()) {
            pages_bytes += page->size;
            auto again =
                ogg::parse_page(std::span<const std::uint8_t>(page->lacing.data() - ogg::page_header_size, page->size));
            if (!again || !again->has_value() || (*again)->size != page->size) {
                std::abort();
            }
            std::size_t covered = 0;
            for (const ogg::Segment& s : ogg::split_segments(*page)) {
                covered += s.bytes.size();
            }
            if (covered != page->body.size()) {
                std::abort();
            }
            for (const auto& packet : streams[page->serial].take(*page)) {
                if (packet.bytes.size() > input.size()) {
                    std::abort();
                }
            }
        }
    }
    if (pages_bytes + reader.skipped_bytes() + reader.pending_bytes() != input.size()) {
        std::abort();
    }
    return 0;
}
