#pragma once

// dav1d, opened when the first dav1ddec starts
// (parallax/base/runtime_library.hpp says why).

#include <parallax/base/runtime_library.hpp>

#include <dav1d/dav1d.h>

namespace parallax::detail {

#define PARALLAX_DAV1D_ENTRIES(X)                                                                                      \
    X(dav1d_version)                                                                                                   \
    X(dav1d_default_settings)                                                                                          \
    X(dav1d_open)                                                                                                      \
    X(dav1d_close)                                                                                                     \
    X(dav1d_flush)                                                                                                     \
    X(dav1d_data_wrap)                                                                                                 \
    X(dav1d_data_unref)                                                                                                \
    X(dav1d_send_data)                                                                                                 \
    X(dav1d_get_picture)                                                                                               \
    X(dav1d_picture_unref)                                                                                             \
    X(dav1d_get_decode_error_data_props)                                                                               \
    X(dav1d_data_props_unref)

PARALLAX_DECLARE_RUNTIME_LIBRARY(dav1d_library, Dav1dLibrary, PARALLAX_DAV1D_ENTRIES)

} // namespace parallax::detail
