#include "codec/openh264_library.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <string>
#include <wels/codec_ver.h>

namespace parallax::detail {
namespace {

template <typename Fn>
bool bind(void* handle, const char* symbol, Fn& out) {
    out = reinterpret_cast<Fn>(dlsym(handle, symbol));
    return out != nullptr;
}

} // namespace

Result<OpenH264Library> load_openh264_library(const std::string& file) {
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        return fail(Errc::unsupported, fmt::format("OpenH264 library {}: {} (install it, or name it in "
                                                   "PARALLAX_OPENH264_LIBRARY)",
                                                   file, why != nullptr ? why : "cannot be loaded"));
    }
    // Kept loaded for the life of the process: encoders and decoders made
    // from it may live until exit.
    OpenH264Library lib;
    void (*version)(OpenH264Version*) = nullptr;
    for (auto [name, ok] :
         {std::pair{"WelsCreateSVCEncoder", bind(handle, "WelsCreateSVCEncoder", lib.create_encoder)},
          std::pair{"WelsDestroySVCEncoder", bind(handle, "WelsDestroySVCEncoder", lib.destroy_encoder)},
          std::pair{"WelsCreateDecoder", bind(handle, "WelsCreateDecoder", lib.create_decoder)},
          std::pair{"WelsDestroyDecoder", bind(handle, "WelsDestroyDecoder", lib.destroy_decoder)},
          std::pair{"WelsGetCodecVersionEx", bind(handle, "WelsGetCodecVersionEx", version)}}) {
        if (!ok) {
            dlclose(handle);
            return fail(Errc::unsupported,
                        fmt::format("OpenH264 library {}: no symbol {}: not an OpenH264 library", file, name));
        }
    }
    OpenH264Version v{};
    version(&v);
    // The encoder and decoder objects are C++ classes whose layout is the
    // header's: another major or minor version is another ABI.
    if (v.uMajor != OPENH264_MAJOR || v.uMinor != OPENH264_MINOR) {
        dlclose(handle);
        return fail(Errc::version_mismatch,
                    fmt::format("OpenH264 library {} is version {}.{}.{}; libparallax was built for {}.{}", file,
                                v.uMajor, v.uMinor, v.uRevision, OPENH264_MAJOR, OPENH264_MINOR));
    }
    return lib;
}

Result<const OpenH264Library*> openh264_library() {
    static std::mutex mutex;
    static OpenH264Library loaded;
    static bool ready = false;
    std::lock_guard lock(mutex);
    if (!ready) {
        const char* chosen = std::getenv("PARALLAX_OPENH264_LIBRARY");
        auto lib = load_openh264_library(chosen != nullptr && *chosen != '\0' ? chosen : PARALLAX_OPENH264_SONAME);
        if (!lib) {
            return fail(lib.error());
        }
        loaded = *lib;
        ready = true;
    }
    return &loaded;
}

} // namespace parallax::detail
