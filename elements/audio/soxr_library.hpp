#pragma once

// libsoxr, opened when the first audioresample starts
// (parallax/base/runtime_library.hpp says why).

#include <parallax/base/runtime_library.hpp>

#include <soxr.h>

namespace parallax::detail {

#define PARALLAX_SOXR_ENTRIES(X)                                                                                       \
    X(soxr_create)                                                                                                     \
    X(soxr_process)                                                                                                    \
    X(soxr_delay)                                                                                                      \
    X(soxr_clear)                                                                                                      \
    X(soxr_delete)                                                                                                     \
    X(soxr_quality_spec)                                                                                               \
    X(soxr_io_spec)                                                                                                    \
    X(soxr_runtime_spec)

PARALLAX_DECLARE_RUNTIME_LIBRARY(soxr_library, SoxrLibrary, PARALLAX_SOXR_ENTRIES)

} // namespace parallax::detail
