// Fuzz target of the IVF headers: the file header, then every frame header
// as a reader walks the file. Arbitrary bytes must give values or Errors,
// never a crash; an accepted header must write back to the bytes it came
// from (apart from the unused field and a reducible rate/scale).
#include <parallax/container/ivf.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace ivf = parallax::ivf;
    const std::span<const std::uint8_t> input(data, size);
    auto header = ivf::parse_file_header(input);
    if (!header) {
        check(!header.error().message().empty());
        return 0;
    }
    check(size >= ivf::file_header_size);
    const auto written = ivf::write_file_header(*header);
    check(std::equal(written.begin(), written.begin() + 16, input.begin()));
    check(std::equal(written.begin() + 24, written.begin() + 28, input.begin() + 24));
    check(ivf::parse_file_header(written).value() == *header);

    std::size_t pos = ivf::file_header_size;
    while (pos < size) {
        auto frame = ivf::parse_frame_header(input.subspan(pos), pos);
        if (!frame) {
            check(size - pos < ivf::frame_header_size);
            break;
        }
        const auto bytes = ivf::write_frame_header(*frame);
        check(std::equal(bytes.begin(), bytes.end(), input.begin() + static_cast<std::ptrdiff_t>(pos)));
        pos += ivf::frame_header_size;
        if (frame->size > size - pos) {
            break; // truncated frame
        }
        pos += frame->size;
    }
    return 0;
}
