// Fuzz target of the MP4 reader qtdemux is built on. Arbitrary bytes are
// walked as top-level boxes the way qtdemux walks them: every moov is read
// as a movie and every moof as a fragment of the movie before it, never a
// crash; a box header must lie inside the bytes it was read from, and no
// track or fragment may expand to more than max_samples samples.
#include <parallax/container/mp4_reader.hpp>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace mp4 = parallax::mp4;
    const std::span<const std::uint8_t> input(data, size);

    // The whole input as one moov, whatever its first box is.
    if (auto movie = mp4::read_moov(input, 0)) {
        for (const auto& t : movie->tracks) {
            if (t.samples.size() > mp4::max_samples) {
                std::abort();
            }
        }
    }

    std::optional<mp4::MovieInfo> movie;
    std::uint64_t at = 0;
    while (at < input.size()) {
        auto header = mp4::read_box_header(input.subspan(static_cast<std::size_t>(at)), at);
        if (!header || !*header) {
            break;
        }
        const mp4::BoxHeader& h = **header;
        if (h.header_size > input.size() - at || h.offset != at) {
            std::abort();
        }
        const std::uint64_t box_size = h.size == 0 ? input.size() - at : h.size;
        if (box_size > input.size() - at) {
            break; // truncated: qtdemux waits for the rest
        }
        const auto box = input.subspan(static_cast<std::size_t>(at), static_cast<std::size_t>(box_size));
        if (h.type == "moov" && !movie) {
            if (auto m = mp4::read_moov(box, at)) {
                movie = std::move(*m);
            }
        } else if (h.type == "moof" && movie) {
            if (auto frag = mp4::read_moof(box, at, *movie)) {
                std::size_t total = 0;
                for (const auto& run : frag->runs) {
                    total += run.samples.size();
                }
                if (total > mp4::max_samples) {
                    std::abort();
                }
            }
        }
        at += box_size;
    }
    return 0;
}
