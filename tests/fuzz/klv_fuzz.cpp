// Fuzz target of the KLV readers: next_packet() splitting a stream and
// UasLocalSet::parse() reading MISB ST 0601 packets. Arbitrary bytes must
// give packets or an Error that says where, never a crash; a set that parses
// must encode, and its encoding must parse to an equal set and encode to the
// same bytes again.
#include <parallax/klv/klv_packet.hpp>
#include <parallax/klv/uas_local_set.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

namespace {

void check_set(std::span<const std::uint8_t> packet) {
    auto set = parallax::klv::UasLocalSet::parse(packet);
    if (!set) {
        if (set.error().message().find("byte") == std::string::npos) {
            std::abort(); // every error says where
        }
        return;
    }
    auto bytes = set->encode();
    if (!bytes) {
        std::abort(); // what parsed is valid, so it encodes
    }
    auto again = parallax::klv::UasLocalSet::parse(*bytes);
    if (!again || !(*again == *set)) {
        std::abort();
    }
    auto twice = again->encode();
    if (!twice || *twice != *bytes) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    check_set(input);

    // The same bytes as a stream, with a small packet limit so that the
    // limit is reached too.
    std::size_t pos = 0;
    while (pos < input.size()) {
        auto next = parallax::klv::next_packet(input.subspan(pos), 4096);
        if (!next) {
            if (next.error().message().find("byte") == std::string::npos) {
                std::abort();
            }
            const std::size_t resync = parallax::klv::find_key(input, pos + 1);
            if (resync <= pos || resync > input.size()) {
                std::abort();
            }
            pos = resync;
            continue;
        }
        if (!*next) {
            break;
        }
        const std::size_t n = **next;
        if (n <= parallax::klv::key_size || n > input.size() - pos) {
            std::abort();
        }
        check_set(input.subspan(pos, n));
        pos += n;
    }
    return 0;
}
