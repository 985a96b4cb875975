// A library with OpenH264's entry points that says it is OpenH264 1.0: the
// loader must refuse it (another ABI) before any of it is called.

#include <wels/codec_api.h>

#define FAKE_EXPORT __attribute__((visibility("default")))

extern "C" {

FAKE_EXPORT int WelsCreateSVCEncoder(ISVCEncoder** encoder) {
    *encoder = nullptr;
    return 1;
}
FAKE_EXPORT void WelsDestroySVCEncoder(ISVCEncoder* /*encoder*/) {}
FAKE_EXPORT long WelsCreateDecoder(ISVCDecoder** decoder) {
    *decoder = nullptr;
    return 1;
}
FAKE_EXPORT void WelsDestroyDecoder(ISVCDecoder* /*decoder*/) {}
FAKE_EXPORT void WelsGetCodecVersionEx(OpenH264Version* version) {
    version->uMajor = 1;
    version->uMinor = 0;
    version->uRevision = 0;
    version->uReserved = 0;
}

} // extern "C"
