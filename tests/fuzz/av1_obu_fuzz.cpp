// Fuzz target of the AV1 OBU layer: split_obus, parse_sequence_header,
// parse_frame_header_start, is_key_temporal_unit, parse_av1c, read_leb128.
// Arbitrary bytes must give values or Errors, never a crash; what is read
// must lie inside the input, and a sequence header must survive a round trip
// through av1C.
#include <parallax/codec/av1.hpp>

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
    namespace av1 = parallax::av1;
    const std::span<const std::uint8_t> input(data, size);

    // leb128 at the start: a value read back from its shortest form.
    std::size_t length = 0;
    if (auto v = av1::read_leb128(input, 0, length)) {
        check(length >= 1 && length <= 8 && length <= size);
        std::vector<std::uint8_t> again;
        av1::write_leb128(*v, again);
        std::size_t again_length = 0;
        check(av1::read_leb128(again, 0, again_length).value() == *v);
        check(again_length == again.size() && again_length <= length);
    }

    av1::SequenceHeader seq;
    bool have_seq = false;
    if (auto obus = av1::split_obus(input)) {
        std::size_t expected_offset = 0;
        for (const av1::Obu& o : *obus) {
            check(o.offset == expected_offset);
            check(inside(o.bytes, input) && inside(o.payload, o.bytes));
            expected_offset += o.bytes.size();
            if (o.type == av1::ObuType::sequence_header) {
                if (auto s = av1::parse_sequence_header(o.payload)) {
                    check(s->profile <= 2 && s->max_width >= 1 && s->max_height >= 1);
                    check(s->bit_depth == 8 || s->bit_depth == 10 || s->bit_depth == 12);
                    const std::vector<std::uint8_t> record = av1::make_av1c(*s, o.bytes);
                    auto back = av1::parse_av1c(record);
                    check(back && *back == *s);
                    const parallax::Caps caps = av1::caps_for(*s, record);
                    check(caps.size() == 1);
                    seq = *s;
                    have_seq = true;
                }
            }
            if (o.type == av1::ObuType::frame || o.type == av1::ObuType::frame_header) {
                static_cast<void>(av1::parse_frame_header_start(o.payload, seq));
            }
        }
        check(expected_offset == size);
    }
    static_cast<void>(av1::is_key_temporal_unit(input, seq));
    if (!have_seq) {
        static_cast<void>(av1::parse_sequence_header(input));
    }
    if (auto s = av1::parse_av1c(input)) {
        static_cast<void>(av1::caps_for(*s, input));
    }
    return 0;
}
