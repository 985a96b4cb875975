// Fuzz target of the H.264 layer: split_annex_b, split_length_prefixed,
// parse_sps, parse_pps, parse_slice_header_start, AccessUnitSplitter,
// make_avcc, parse_avcc and the conversions between Annex B and
// length-prefixed access units. Arbitrary bytes must give values or Errors,
// never a crash; what is read must lie inside the input, parameter sets must
// survive a round trip through avcC, and an access unit through both forms.
#include <parallax/codec/h264.hpp>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool inside(std::span<const std::uint8_t> part, std::span<const std::uint8_t> whole) {
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace h264 = parallax::h264;
    const std::span<const std::uint8_t> input(data, size);

    // Emulation prevention: escaping then unescaping gives the bytes back,
    // and escaped bytes hold no start code.
    const std::vector<std::uint8_t> escaped = h264::add_emulation_prevention(input);
    check(h264::remove_emulation_prevention(escaped) == std::vector<std::uint8_t>(input.begin(), input.end()));
    check(!h264::find_start_code(escaped, 0));

    std::vector<std::vector<std::uint8_t>> sps;
    std::vector<std::vector<std::uint8_t>> pps;
    if (auto nals = h264::split_annex_b(input)) {
        h264::AccessUnitSplitter splitter;
        for (const h264::Nal& n : *nals) {
            check(inside(n.bytes, input) && !n.bytes.empty());
            check(n.offset == static_cast<std::size_t>(n.bytes.data() - data));
            static_cast<void>(splitter.starts_access_unit(n));
            if (n.type == h264::NalType::sps) {
                if (auto s = h264::parse_sps(n.bytes)) {
                    check(s->width >= 1 && s->height >= 1 && s->width <= 65536 && s->height <= 65536);
                    check(s->chroma_format_idc <= 3 && s->bit_depth_luma >= 8 && s->bit_depth_luma <= 14);
                    const parallax::Caps caps = h264::caps_for(*s, "byte-stream", "au");
                    check(caps.size() == 1);
                    sps.emplace_back(n.bytes.begin(), n.bytes.end());
                }
            } else if (n.type == h264::NalType::pps) {
                if (h264::parse_pps(n.bytes)) {
                    pps.emplace_back(n.bytes.begin(), n.bytes.end());
                }
            } else if (n.type == h264::NalType::slice || n.type == h264::NalType::slice_idr) {
                static_cast<void>(h264::parse_slice_header_start(n.bytes));
            }
        }
        if (auto prefixed = h264::to_length_prefixed(input)) {
            auto back = h264::to_length_prefixed(h264::to_annex_b(*prefixed).value());
            check(back && *back == *prefixed);
        }
    }
    if (!sps.empty() && sps.size() <= 31 && pps.size() <= 255) {
        auto record = h264::make_avcc(sps, pps);
        check(record.has_value());
        auto config = h264::parse_avcc(*record);
        check(config && config->sps == sps && config->pps == pps);
    }
    static_cast<void>(h264::split_length_prefixed(input, 4));
    static_cast<void>(h264::split_length_prefixed(input, 2));
    static_cast<void>(h264::to_annex_b(input));
    static_cast<void>(h264::parse_sps(input));
    static_cast<void>(h264::parse_pps(input));
    static_cast<void>(h264::parse_slice_header_start(input));
    if (auto config = h264::parse_avcc(input)) {
        for (const auto& s : config->sps) {
            static_cast<void>(h264::parse_sps(s));
        }
    }
    return 0;
}
