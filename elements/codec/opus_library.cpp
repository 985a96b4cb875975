#include "codec/opus_library.hpp"

#include <fmt/format.h>

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(opus_library, OpusLibrary, "libopus", PARALLAX_OPUS_SONAME, PARALLAX_OPUS_ENTRIES)

std::string opus_error_text(const OpusLibrary& opus, int code) {
    return fmt::format("{} ({})", opus.opus_strerror(code), code);
}

} // namespace parallax::detail
