// Fuzz target of the Opus parsers: parse_head, parse_tags and
// packet_samples. Arbitrary bytes must give a value or an Error, never a
// crash; a header or tags that parse must write back to bytes that parse to
// the same value, and a packet's sample count must stay within 120 ms.
#include <parallax/codec/opus.hpp>

#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);

    if (auto head = parallax::opus::parse_head(bytes)) {
        const auto written = parallax::opus::write_head(*head);
        auto again = parallax::opus::parse_head(written);
        if (!again || !(*again == *head)) {
            std::abort();
        }
        if (!(parallax::opus::header_from_caps(parallax::opus::caps_for(*head)).value() == *head)) {
            std::abort();
        }
    }

    if (auto tags = parallax::opus::parse_tags(bytes)) {
        const auto written = parallax::opus::write_tags(*tags);
        auto again = parallax::opus::parse_tags(written);
        if (!again || !(*again == *tags) || written.size() > size) {
            std::abort();
        }
    }

    if (auto samples = parallax::opus::packet_samples(bytes)) {
        if (*samples == 0 || *samples > parallax::opus::max_packet_samples || *samples % 120 != 0) {
            std::abort();
        }
    }
    return 0;
}
