#include "image/jpeg_library.hpp"

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(jpeg_library, JpegLibrary, "libjpeg", PARALLAX_JPEG_SONAME, PARALLAX_JPEG_ENTRIES)

} // namespace parallax::detail
