#pragma once

// libjpeg (libjpeg-turbo), opened when the first jpegenc or jpegdec starts
// (parallax/base/runtime_library.hpp says why).

#include <parallax/base/runtime_library.hpp>

#include <cstdio> // jpeglib.h needs FILE and size_t declared first
#include <jpeglib.h>

namespace parallax::detail {

// jpeg_create_compress(c) and jpeg_create_decompress(d) are macros that call
// jpeg_CreateCompress(c, JPEG_LIB_VERSION, sizeof(jpeg_compress_struct)) and
// jpeg_CreateDecompress(d, JPEG_LIB_VERSION, sizeof(jpeg_decompress_struct));
// the elements call those entries instead.
#define PARALLAX_JPEG_ENTRIES(X)                                                                                       \
    X(jpeg_std_error)                                                                                                  \
    X(jpeg_CreateCompress)                                                                                             \
    X(jpeg_destroy_compress)                                                                                           \
    X(jpeg_abort_compress)                                                                                             \
    X(jpeg_set_defaults)                                                                                               \
    X(jpeg_set_quality)                                                                                                \
    X(jpeg_mem_dest)                                                                                                   \
    X(jpeg_start_compress)                                                                                             \
    X(jpeg_write_raw_data)                                                                                             \
    X(jpeg_write_scanlines)                                                                                            \
    X(jpeg_finish_compress)                                                                                            \
    X(jpeg_CreateDecompress)                                                                                           \
    X(jpeg_destroy_decompress)                                                                                         \
    X(jpeg_abort_decompress)                                                                                           \
    X(jpeg_mem_src)                                                                                                    \
    X(jpeg_read_header)                                                                                                \
    X(jpeg_start_decompress)                                                                                           \
    X(jpeg_read_raw_data)                                                                                              \
    X(jpeg_read_scanlines)                                                                                             \
    X(jpeg_finish_decompress)

PARALLAX_DECLARE_RUNTIME_LIBRARY(jpeg_library, JpegLibrary, PARALLAX_JPEG_ENTRIES)

} // namespace parallax::detail
