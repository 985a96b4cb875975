// Fuzz target for the control frames a plx-worker and its pipeline read from
// each other (src/isolation/worker_protocol.hpp): the setup frame, bus
// messages, arena offers, negotiation and property records.
//
// Input: one selector byte, then the bytes. Every decoder must either succeed
// or return an Error with a message; nothing may crash or read out of bounds.
#include "isolation/worker_protocol.hpp"

#include <cstdint>
#include <cstdlib>
#include <span>

namespace {

template <typename R>
void check(const R& r) {
    if (!r && r.error().message().empty()) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace parallax::detail;
    if (size == 0) {
        return 0;
    }
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    switch (data[0] % 5) {
    case 0: {
        auto s = decode_setup(bytes);
        check(s);
        if (s) {
            // What decodes must decode again once encoded.
            if (!decode_setup(encode_setup(*s))) {
                std::abort();
            }
        }
        break;
    }
    case 1:
        check(decode_message(bytes, "fuzzed"));
        break;
    case 2:
        check(decode_worker_arena_offer(bytes));
        break;
    case 3:
        check(decode_negotiation(bytes));
        break;
    default:
        check(decode_property(bytes));
        break;
    }
    return 0;
}
