#include "codec/opus_library.hpp"

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(opus_library, OpusLibrary, "libopus", PARALLAX_OPUS_SONAME, PARALLAX_OPUS_ENTRIES)

} // namespace parallax::detail
