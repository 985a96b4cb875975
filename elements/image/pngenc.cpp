// pngenc: encodes raw video frames to PNG images with libpng, one image per
// frame, with GStreamer's pngenc properties.
//
// RGBA, RGB and GRAY8 rows go to libpng as they lie in the frame. GRAY16_LE
// is written as 16-bit gray: PNG stores samples big-endian, so libpng swaps
// each sample's bytes on the way out (png_set_swap); the frame is not
// touched.
//
// libpng reports errors by calling the error function, which must not
// return: it longjmps back to a small function that holds no C++ object with
// a destructor. The encoded bytes grow in a malloc'ed block, so that nothing
// in the write callback can throw through libpng.

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "image/picture_caps.hpp"
#include "image/png_library.hpp"

#include <fmt/format.h>

#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory pngenc_log("pngenc", "pngenc: PNG encoding with libpng");

// Everything one encode needs, as plain data: the function that runs libpng
// under setjmp sees only this.
struct PngEncodeJob {
    const detail::PngLibrary* lib = nullptr; // libpng's entry points
    const std::uint8_t* first_row = nullptr;
    std::size_t stride = 0;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    int color_type = PNG_COLOR_TYPE_RGB;
    int bit_depth = 8;
    int compression_level = 6;
    bool swap_16 = false; // little-endian 16-bit samples in the frame
    // Output, malloc'ed; the caller frees it.
    std::uint8_t* out = nullptr;
    std::size_t out_size = 0;
    std::size_t out_capacity = 0;
    char message[256] = {};
};

extern "C" void encoder_error(png_structp png, png_const_charp text) {
    const detail::PngLibrary& lib = detail::loaded_png_library();
    auto* job = static_cast<PngEncodeJob*>(lib.png_get_error_ptr(png));
    std::snprintf(job->message, sizeof(job->message), "%s", text != nullptr ? text : "unknown error");
    lib.png_longjmp(png, 1);
}

// libpng's default prints warnings to stderr; the library never does.
extern "C" void encoder_warning(png_structp, png_const_charp) {}

extern "C" void encoder_write(png_structp png, png_bytep data, png_size_t length) {
    const detail::PngLibrary& lib = detail::loaded_png_library();
    auto* job = static_cast<PngEncodeJob*>(lib.png_get_io_ptr(png));
    if (job->out_capacity - job->out_size < length) {
        std::size_t capacity = job->out_capacity == 0 ? 4096 : job->out_capacity;
        while (capacity - job->out_size < length) {
            capacity *= 2;
        }
        auto* grown = static_cast<std::uint8_t*>(std::realloc(job->out, capacity));
        if (grown == nullptr) {
            lib.png_error(png, "out of memory for the encoded image");
        }
        job->out = grown;
        job->out_capacity = capacity;
    }
    std::memcpy(job->out + job->out_size, data, length);
    job->out_size += length;
}

extern "C" void encoder_flush(png_structp) {}

// Runs libpng over the frame. On false, job.message says why. No C++ object
// with a destructor lives here: libpng's errors longjmp back into it.
bool run_encode(PngEncodeJob& job) {
    const detail::PngLibrary& lib = *job.lib;
    png_structp png = lib.png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, encoder_error, encoder_warning);
    if (png == nullptr) {
        std::snprintf(job.message, sizeof(job.message), "libpng could not create its write structure");
        return false;
    }
    png_infop info = lib.png_create_info_struct(png);
    if (info == nullptr) {
        lib.png_destroy_write_struct(&png, nullptr);
        std::snprintf(job.message, sizeof(job.message), "libpng could not create its info structure");
        return false;
    }
    // png_jmpbuf(png), spelled out: the macro would call libpng directly.
    if (setjmp(*lib.png_set_longjmp_fn(png, longjmp, sizeof(jmp_buf))) != 0) {
        lib.png_destroy_write_struct(&png, &info);
        return false;
    }
    lib.png_set_write_fn(png, &job, encoder_write, encoder_flush);
    lib.png_set_compression_level(png, job.compression_level);
    lib.png_set_IHDR(png, info, job.width, job.height, job.bit_depth, job.color_type, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    lib.png_write_info(png, info);
    if (job.swap_16) {
        lib.png_set_swap(png);
    }
    for (std::uint32_t y = 0; y < job.height; ++y) {
        // libpng only reads the row (png_write_row takes png_const_bytep).
        lib.png_write_row(png, job.first_row + static_cast<std::size_t>(y) * job.stride);
    }
    lib.png_write_end(png, info);
    lib.png_destroy_write_struct(&png, &info);
    return true;
}

struct PngFormatPlan {
    int color_type;
    int bit_depth;
    bool swap_16;
};

std::optional<PngFormatPlan> png_plan_for(VideoFormat f) {
    switch (f) {
    case VideoFormat::rgba:
        return PngFormatPlan{PNG_COLOR_TYPE_RGB_ALPHA, 8, false};
    case VideoFormat::rgb:
        return PngFormatPlan{PNG_COLOR_TYPE_RGB, 8, false};
    case VideoFormat::gray8:
        return PngFormatPlan{PNG_COLOR_TYPE_GRAY, 8, false};
    case VideoFormat::gray16_le:
        return PngFormatPlan{PNG_COLOR_TYPE_GRAY, 16, true};
    default:
        return std::nullopt;
    }
}

// libpng refuses to write images wider or higher than a million pixels
// (PNG_USER_WIDTH_MAX); GStreamer's pngenc states the same range.
constexpr std::string_view png_sink_caps = "video/x-raw, format=(string){ RGBA, RGB, GRAY8, GRAY16_LE }, "
                                           "width=(int)[ 1, 1000000 ], height=(int)[ 1, 1000000 ], "
                                           "framerate=(fraction)[ 0/1, 2147483647/1 ]";
constexpr std::string_view png_src_caps = "image/png, width=(int)[ 1, 1000000 ], height=(int)[ 1, 1000000 ], "
                                          "framerate=(fraction)[ 0/1, 2147483647/1 ]";

class PngEnc final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "pngenc",
        .klass = "Codec/Encoder/Image",
        .summary = "Encode a video frame to a .png image",
        .description = "Encodes each raw video frame into a PNG image with libpng: RGBA as 8-bit RGB with alpha, "
                       "RGB as 8-bit RGB, GRAY8 as 8-bit gray and GRAY16_LE as 16-bit gray (PNG stores it "
                       "big-endian). Every output buffer is a key frame with the input's timestamps. "
                       "compression-level is zlib's (0 none, 9 smallest); snapshot=true sends EOS after the first "
                       "image.",
        .rank = rank_primary};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h = ExecutionHints::cpu_intensive();
        h.uses_native_code = true;
        // The input is raw video made in the pipeline; libpng parses
        // nothing from outside.
        h.crash_safe = true;
        return h;
    }();

    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static(png_sink_caps)},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(png_src_caps)}};
    }

    // Raw caps carry their size and rate to the PNG side; PNG caps narrow
    // the raw side to the same size and rate.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (caps.is_any() || caps.is_empty()) {
            return to.pad_template().caps;
        }
        return detail::with_picture_fields_of(caps, to.pad_template().caps);
    }

protected:
    void init() override { src_ = pad("src"); }

    // The caps stay from one run to the next (they may come before start);
    // stop() forgets them.
    Result<void> start() override {
        auto loaded = detail::png_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        frames_ = 0;
        done_ = false;
        return {};
    }

    Result<void> stop() override {
        info_.reset();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return set_caps(*event.caps_value());
        case EventType::eos:
            if (done_) {
                return true; // the snapshot's EOS went already
            }
            break;
        case EventType::flush_stop:
            done_ = false;
            break;
        default:
            break;
        }
        return Element::sink_event(pad, std::move(event));
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (done_) {
            return Flow::eos;
        }
        if (!info_) {
            return context().error(
                Error(Errc::not_negotiated, fmt::format("{}: a buffer arrived before the caps", name())));
        }
        auto frame = VideoFrame::map(*info_, buffer);
        if (!frame) {
            return context().error(Error(Errc::invalid_argument, fmt::format("{}: input frame {}: {}", name(), frames_,
                                                                             frame.error().message())));
        }
        PngEncodeJob job;
        job.lib = lib_;
        job.first_row = reinterpret_cast<const std::uint8_t*>(frame->row(0, 0).data());
        job.stride = info_->stride(0);
        job.width = info_->width();
        job.height = info_->height();
        job.color_type = plan_.color_type;
        job.bit_depth = plan_.bit_depth;
        job.swap_16 = plan_.swap_16;
        job.compression_level = compression_level_.get();
        const bool encoded = run_encode(job);
        // Owns job.out from here on, whatever happens below.
        const std::unique_ptr<std::uint8_t, decltype(&std::free)> encoded_bytes(job.out, &std::free);
        if (!encoded) {
            return context().error(Error(Errc::failed, fmt::format("{}: libpng could not encode frame {}: {}", name(),
                                                                   frames_, static_cast<const char*>(job.message))));
        }
        ++frames_;
        auto out = context().allocate(job.out_size);
        if (!out) {
            return context().error(std::move(out.error()));
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            return context().error(std::move(bytes.error()));
        }
        std::memcpy(bytes->data(), job.out, job.out_size);
        Metadata& m = out->meta();
        m.set_pts(buffer.meta().pts());
        m.set_dts(buffer.meta().dts());
        m.set_duration(buffer.meta().duration());
        m.set_flag(BufferFlags::keyframe);
        m.unset_flag(BufferFlags::delta);
        const Flow f = src_->push(std::move(*out));
        if (snapshot_.get() && is_success(f)) {
            done_ = true;
            src_->push_event(Event::eos());
            return Flow::eos;
        }
        return f;
    }

private:
    bool set_caps(const Caps& caps) {
        auto vi = VideoInfo::from_caps(caps);
        if (!vi) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: unusable input caps {}: {}", name(),
                                                                    caps.to_string(), vi.error().message())));
            return false;
        }
        const auto plan = png_plan_for(vi->format());
        if (!plan) {
            context().error(Error(Errc::not_negotiated,
                                  fmt::format("{}: input format {} is not supported (RGBA, RGB, GRAY8 and GRAY16_LE "
                                              "are)",
                                              name(), vi->format_info().name)));
            return false;
        }
        plan_ = *plan;
        info_ = std::move(*vi);

        Structure s("image/png");
        s.set("width", static_cast<int>(info_->width()));
        s.set("height", static_cast<int>(info_->height()));
        s.set("framerate", info_->framerate());
        if (info_->pixel_aspect_ratio() != Fraction::make(1, 1).value()) {
            s.set("pixel-aspect-ratio", info_->pixel_aspect_ratio());
        }
        Caps out;
        out.append(std::move(s));
        PARALLAX_DEBUG(pngenc_log, "{}: {} -> {}", name(), info_->to_string(), out.to_string());
        return src_->push_event(Event::caps(std::move(out)));
    }

    Pad* src_ = nullptr;
    const detail::PngLibrary* lib_ = nullptr; // from start()
    std::optional<VideoInfo> info_;
    PngFormatPlan plan_{PNG_COLOR_TYPE_RGB, 8, false};
    std::uint64_t frames_ = 0;
    bool done_ = false;

    Property<int> compression_level_{this,   "compression-level", 6, "PNG compression level (zlib's: 0 none, 9 best)",
                                     {0, 9}, Mutability::running};
    Property<bool> snapshot_{this, "snapshot", false, "Send EOS after encoding a frame, useful for snapshots"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::PngEnc);
