#include "codec/aom_library.hpp"

namespace parallax::detail {

PARALLAX_DEFINE_RUNTIME_LIBRARY(aom_library, AomLibrary, "libaom", PARALLAX_AOM_SONAME, PARALLAX_AOM_ENTRIES)

} // namespace parallax::detail
