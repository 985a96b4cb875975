#pragma once

// Private to the codec parsers: the colorimetry field of the caps of a
// stream whose headers carry ITU-T H.273 code points (the AV1 sequence
// header, the H.264 VUI).

#include <parallax/caps/structure.hpp>
#include <parallax/video/video_colorimetry.hpp>

#include <string>

namespace parallax::detail {

/// Sets "colorimetry" on `s` from a stream's range flag and H.273 code
/// points, unless together they name nothing.
inline void set_colorimetry_field(Structure& s, bool full_range, unsigned matrix, unsigned transfer,
                                  unsigned primaries) {
    VideoColorimetry c;
    c.range = full_range ? VideoColorRange::full : VideoColorRange::limited;
    c.matrix = video_color_matrix_from_iso(matrix);
    c.transfer = video_transfer_function_from_iso(transfer);
    c.primaries = video_color_primaries_from_iso(primaries);
    if (std::string text = c.to_string(); !text.empty()) {
        s.set("colorimetry", text);
    }
}

} // namespace parallax::detail
