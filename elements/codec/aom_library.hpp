#pragma once

// libaom, opened when the first av1enc starts
// (parallax/base/runtime_library.hpp says why).

#include <parallax/base/runtime_library.hpp>

#include <aom/aom_encoder.h>
#include <aom/aom_image.h>
#include <aom/aomcx.h>

namespace parallax::detail {

// aom_codec_enc_init() is a macro over aom_codec_enc_init_ver(): callers
// pass AOM_ENCODER_ABI_VERSION themselves.
#define PARALLAX_AOM_ENTRIES(X)                                                                                        \
    X(aom_codec_av1_cx)                                                                                                \
    X(aom_codec_enc_config_default)                                                                                    \
    X(aom_codec_enc_init_ver)                                                                                          \
    X(aom_codec_control)                                                                                               \
    X(aom_codec_encode)                                                                                                \
    X(aom_codec_get_cx_data)                                                                                           \
    X(aom_codec_error)                                                                                                 \
    X(aom_codec_error_detail)                                                                                          \
    X(aom_codec_destroy)                                                                                               \
    X(aom_img_wrap)

PARALLAX_DECLARE_RUNTIME_LIBRARY(aom_library, AomLibrary, PARALLAX_AOM_ENTRIES)

} // namespace parallax::detail
