#include "image/png_library.hpp"

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(png_library, PngLibrary, "libpng", PARALLAX_PNG_SONAME, PARALLAX_PNG_ENTRIES)

} // namespace parallax::detail
