#pragma once

// libogg, opened when the first oggmux or oggdemux starts
// (parallax/base/runtime_library.hpp says why).

#include <parallax/base/runtime_library.hpp>

#include <ogg/ogg.h>

namespace parallax::detail {

#define PARALLAX_OGG_ENTRIES(X)                                                                                        \
    X(ogg_stream_init)                                                                                                 \
    X(ogg_stream_clear)                                                                                                \
    X(ogg_stream_reset_serialno)                                                                                       \
    X(ogg_stream_packetin)                                                                                             \
    X(ogg_stream_packetout)                                                                                            \
    X(ogg_stream_pagein)                                                                                               \
    X(ogg_stream_pageout)                                                                                              \
    X(ogg_stream_flush)                                                                                                \
    X(ogg_sync_clear)                                                                                                  \
    X(ogg_sync_reset)                                                                                                  \
    X(ogg_sync_buffer)                                                                                                 \
    X(ogg_sync_wrote)                                                                                                  \
    X(ogg_sync_pageseek)                                                                                               \
    X(ogg_page_bos)                                                                                                    \
    X(ogg_page_eos)                                                                                                    \
    X(ogg_page_granulepos)                                                                                             \
    X(ogg_page_serialno)

PARALLAX_DECLARE_RUNTIME_LIBRARY(ogg_library, OggLibrary, PARALLAX_OGG_ENTRIES)

} // namespace parallax::detail
