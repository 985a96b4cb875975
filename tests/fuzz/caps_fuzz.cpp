// Fuzz target of Caps::parse. Arbitrary bytes must give Caps or an Error,
// never a crash; an error must say where; what is accepted must print to a
// string that parses back to equal caps and prints the same again.
#include <parallax/caps/caps.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto first = parallax::Caps::parse(input);
    if (!first) {
        if (first.error().position() > size || first.error().message().empty()) {
            std::abort(); // every error says what and where
        }
        return 0;
    }
    const std::string printed = first->to_string();
    auto second = parallax::Caps::parse(printed);
    if (!second || !(*second == *first) || second->to_string() != printed) {
        std::abort();
    }
    return 0;
}
