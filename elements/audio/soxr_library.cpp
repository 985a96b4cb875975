#include "audio/soxr_library.hpp"

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(soxr_library, SoxrLibrary, "libsoxr", PARALLAX_SOXR_SONAME, PARALLAX_SOXR_ENTRIES)

} // namespace parallax::detail
