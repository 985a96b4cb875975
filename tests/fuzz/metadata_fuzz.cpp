// Fuzz target of Metadata::deserialize. Arbitrary bytes must give a Metadata
// or an Error, never a crash; what is accepted must serialize back to the same
// bytes (the form is canonical) and deserialize again to an equal Metadata.
#include <parallax/buffer/metadata.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace {

constexpr std::string_view fuzz_u32_key = "fuzz.u32";
constexpr std::string_view fuzz_text_key = "fuzz.text";

// Two codecs besides the built-in KLV one, so that the fuzzer reaches codec
// lookup, tag checks and codec failures: a strict 4-byte integer and a string
// of printable ASCII.
bool register_fuzz_codecs() {
    using parallax::Errc;
    using parallax::Result;
    auto u32 = parallax::register_metadata_codec<std::uint32_t>(
        fuzz_u32_key,
        [](std::uint32_t v, std::vector<std::byte>& out) {
            for (int i = 0; i < 4; ++i) {
                out.push_back(static_cast<std::byte>(v >> (8 * i)));
            }
        },
        [](std::span<const std::byte> in) -> Result<std::uint32_t> {
            if (in.size() != 4) {
                return parallax::fail(Errc::corrupt, "a u32 is 4 bytes");
            }
            std::uint32_t v = 0;
            for (std::size_t i = 0; i < 4; ++i) {
                v |= static_cast<std::uint32_t>(in[i]) << (8 * i);
            }
            return v;
        });
    auto text = parallax::register_metadata_codec<std::string>(
        fuzz_text_key,
        [](const std::string& s, std::vector<std::byte>& out) {
            const auto* first = reinterpret_cast<const std::byte*>(s.data());
            out.insert(out.end(), first, first + s.size());
        },
        [](std::span<const std::byte> in) -> Result<std::string> {
            std::string s(reinterpret_cast<const char*>(in.data()), in.size());
            if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
                return parallax::fail(Errc::corrupt, "text is printable ASCII");
            }
            return s;
        },
        2);
    return u32 && text;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool registered = register_fuzz_codecs();
    if (!registered) {
        std::abort();
    }
    const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
    auto first = parallax::Metadata::deserialize(input);
    if (!first) {
        if (first.error().message().find("at byte") == std::string::npos) {
            std::abort(); // every error says where
        }
        return 0;
    }
    auto bytes = first->serialize();
    if (!bytes || !std::equal(bytes->begin(), bytes->end(), input.begin(), input.end())) {
        std::abort();
    }
    std::vector<std::byte> out(bytes->size());
    auto written = first->serialize(std::span<std::byte>(out));
    if (!written || *written != out.size() || out != *bytes) {
        std::abort();
    }
    auto second = parallax::Metadata::deserialize(*bytes);
    if (!second || !(*second == *first)) {
        std::abort();
    }
    return 0;
}
