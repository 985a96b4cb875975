#pragma once

// libopus, opened when the first opusenc or opusdec starts
// (parallax/base/runtime_library.hpp says why).

#include <parallax/base/runtime_library.hpp>

#include <opus/opus_multistream.h>
#include <string>

namespace parallax::detail {

#define PARALLAX_OPUS_ENTRIES(X)                                                                                       \
    X(opus_strerror)                                                                                                   \
    X(opus_multistream_surround_encoder_create)                                                                        \
    X(opus_multistream_encoder_ctl)                                                                                    \
    X(opus_multistream_encode_float)                                                                                   \
    X(opus_multistream_encoder_destroy)                                                                                \
    X(opus_multistream_decoder_create)                                                                                 \
    X(opus_multistream_decoder_ctl)                                                                                    \
    X(opus_multistream_decode_float)                                                                                   \
    X(opus_multistream_decoder_destroy)

PARALLAX_DECLARE_RUNTIME_LIBRARY(opus_library, OpusLibrary, PARALLAX_OPUS_ENTRIES)

// libopus's text for an error code, with the code: "invalid argument (-1)".
std::string opus_error_text(const OpusLibrary& opus, int code);

} // namespace parallax::detail
