#include "codec/dav1d_library.hpp"

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(dav1d_library, Dav1dLibrary, "dav1d", PARALLAX_DAV1D_SONAME, PARALLAX_DAV1D_ENTRIES)

} // namespace parallax::detail
