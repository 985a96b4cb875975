#pragma once

// libpng, opened when the first pngenc or pngdec starts
// (parallax/base/runtime_library.hpp says why).

#include <parallax/base/runtime_library.hpp>

#include <png.h>

namespace parallax::detail {

// png_jmpbuf(png) is a macro that calls png_set_longjmp_fn; the elements
// call that entry instead.
#define PARALLAX_PNG_ENTRIES(X)                                                                                        \
    X(png_create_write_struct)                                                                                         \
    X(png_create_read_struct)                                                                                          \
    X(png_create_info_struct)                                                                                          \
    X(png_destroy_write_struct)                                                                                        \
    X(png_destroy_read_struct)                                                                                         \
    X(png_set_longjmp_fn)                                                                                              \
    X(png_longjmp)                                                                                                     \
    X(png_error)                                                                                                       \
    X(png_get_error_ptr)                                                                                               \
    X(png_get_io_ptr)                                                                                                  \
    X(png_set_write_fn)                                                                                                \
    X(png_set_read_fn)                                                                                                 \
    X(png_set_compression_level)                                                                                       \
    X(png_set_IHDR)                                                                                                    \
    X(png_write_info)                                                                                                  \
    X(png_write_row)                                                                                                   \
    X(png_write_end)                                                                                                   \
    X(png_set_user_limits)                                                                                             \
    X(png_read_info)                                                                                                   \
    X(png_get_color_type)                                                                                              \
    X(png_get_bit_depth)                                                                                               \
    X(png_get_valid)                                                                                                   \
    X(png_set_palette_to_rgb)                                                                                          \
    X(png_set_expand_gray_1_2_4_to_8)                                                                                  \
    X(png_set_tRNS_to_alpha)                                                                                           \
    X(png_set_swap)                                                                                                    \
    X(png_set_strip_16)                                                                                                \
    X(png_set_gray_to_rgb)                                                                                             \
    X(png_set_interlace_handling)                                                                                      \
    X(png_read_update_info)                                                                                            \
    X(png_get_image_width)                                                                                             \
    X(png_get_image_height)                                                                                            \
    X(png_get_channels)                                                                                                \
    X(png_read_image)                                                                                                  \
    X(png_read_end)

PARALLAX_DECLARE_RUNTIME_LIBRARY(png_library, PngLibrary, PARALLAX_PNG_ENTRIES)

// The table once an element's start() has loaded it, for libpng's
// callbacks: they are handed only the png_struct, and finding their job in
// it is a libpng call too. One atomic load.
inline const PngLibrary& loaded_png_library() {
    return **png_library();
}

} // namespace parallax::detail
