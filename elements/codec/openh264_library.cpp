#include "codec/openh264_library.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string>
#include <wels/codec_ver.h>

namespace parallax::detail {

Result<OpenH264Library> load_openh264_library(const std::string& file) {
    auto library = RuntimeLibrary::open("OpenH264 library", file);
    if (!library) {
        return fail(Errc::unsupported,
                    fmt::format("{} (install it, or name it in PARALLAX_OPENH264_LIBRARY)", library.error().message()));
    }
    OpenH264Library lib;
    void (*version)(OpenH264Version*) = nullptr;
    for (auto bound :
         {library->bind("WelsCreateSVCEncoder", lib.create_encoder),
          library->bind("WelsDestroySVCEncoder", lib.destroy_encoder),
          library->bind("WelsCreateDecoder", lib.create_decoder),
          library->bind("WelsDestroyDecoder", lib.destroy_decoder), library->bind("WelsGetCodecVersionEx", version)}) {
        if (!bound) {
            return fail(Errc::unsupported, bound.error().message() + ": not an OpenH264 library");
        }
    }
    OpenH264Version v{};
    version(&v);
    // The encoder and decoder objects are C++ classes whose layout is the
    // header's: another major or minor version is another ABI.
    if (v.uMajor != OPENH264_MAJOR || v.uMinor != OPENH264_MINOR) {
        return fail(Errc::version_mismatch,
                    fmt::format("OpenH264 library {} is version {}.{}.{}; libparallax was built for {}.{}", file,
                                v.uMajor, v.uMinor, v.uRevision, OPENH264_MAJOR, OPENH264_MINOR));
    }
    return lib;
}

Result<const OpenH264Library*> openh264_library() {
    static RuntimeLibraryTable<OpenH264Library> once;
    return once.get([] {
        const char* chosen = std::getenv("PARALLAX_OPENH264_LIBRARY");
        return load_openh264_library(chosen != nullptr && *chosen != '\0' ? chosen : PARALLAX_OPENH264_SONAME);
    });
}

} // namespace parallax::detail
