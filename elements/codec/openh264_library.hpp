#pragma once

// OpenH264 is loaded when the first openh264 element starts, not when the
// program starts: Cisco's binary is often installed apart from the rest
// (its licence covers the patent fees only for the binary Cisco builds), a
// program that never encodes H.264 does not need it at all, and this one
// library alone would add about 2 000 symbol look-ups to every program's
// start (it is linked with BIND_NOW).

#include <parallax/base/runtime_library.hpp>

#include <string>
#include <wels/codec_api.h>

namespace parallax::detail {

// The four entry points the elements call; everything else is reached
// through the encoder and decoder objects' tables.
struct OpenH264Library {
    int (*create_encoder)(ISVCEncoder** encoder) = nullptr;
    void (*destroy_encoder)(ISVCEncoder* encoder) = nullptr;
    long (*create_decoder)(ISVCDecoder** decoder) = nullptr;
    void (*destroy_decoder)(ISVCDecoder* decoder) = nullptr;
};

// Loads the library from `file` (a file name or path) and checks it: the
// symbols above and the version of the headers libparallax was built with.
// Fails with the file and why (not found, a missing symbol, another ABI
// version).
Result<OpenH264Library> load_openh264_library(const std::string& file);

// The library, loaded on first use from PARALLAX_OPENH264_LIBRARY (a file
// name or path) if set, else by the soname the build saw. Fails with the
// failure of load_openh264_library(); a failure is not remembered, so that
// a later call may find the library.
Result<const OpenH264Library*> openh264_library();

} // namespace parallax::detail
