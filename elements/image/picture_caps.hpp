#pragma once

// Private to the image elements: the caps one side of a still-image encoder
// or decoder offers for the caps of the other side.

#include <parallax/caps/caps.hpp>
#include <parallax/caps/caps_ops.hpp>

#include <cstddef>
#include <utility>

namespace parallax::detail {

/// `target` (a pad template's caps) narrowed to the picture size, frame
/// rate and pixel aspect ratio of each structure of `caps`: raw video and
/// the encoded image share those fields and nothing else.
inline Caps with_picture_fields_of(const Caps& caps, const Caps& target) {
    Caps out = Caps::empty();
    for (std::size_t i = 0; i < caps.size(); ++i) {
        Structure s = target.structure(0);
        for (const char* field : {"width", "height", "framerate", "pixel-aspect-ratio"}) {
            if (const CapsValue* v = caps.structure(i).get(field)) {
                s.set(field, *v);
            }
        }
        out.append(std::move(s));
    }
    return intersect(out, target);
}

} // namespace parallax::detail
