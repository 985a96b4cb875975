#include "container/ogg_library.hpp"

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(ogg_library, OggLibrary, "libogg", PARALLAX_OGG_SONAME, PARALLAX_OGG_ENTRIES)

} // namespace parallax::detail
