// jpegenc: encodes raw video frames to baseline JPEG (JFIF) images with
// libjpeg-turbo, one image per frame, with GStreamer's jpegenc properties.
//
// Planar YUV goes in as it is laid out (libjpeg's raw data input with the
// format's sampling factors: no colour conversion, no resampling), and so
// does packed 4:2:2 YUV (YUY2, UYVY), its components picked out of the
// packed rows; packed
// RGB goes through libjpeg's own RGB to YCbCr conversion; GRAY8 is written
// as a one-component image.
//
// JFIF samples are full range with the BT.601 matrix. A YUV or gray input
// whose caps say limited range (GStreamer's default for YUV, "bt601",
// "bt709") is expanded to full range on the way in, so that every decoder
// shows the same picture; full-range input is written as it is. The matrix
// is not converted: BT.709 input is written with its own coefficients and
// decodes with a slight colour shift (a warning says so once per caps).
//
// libjpeg reports errors by calling error_exit, which must not return: it
// longjmps back to a small function that holds no C++ object with a
// destructor, and the step functions it runs keep only trivial locals.

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "image/jpeg_library.hpp"
#include "image/picture_caps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory jpegenc_log("jpegenc", "jpegenc: JPEG encoding with libjpeg-turbo");

// GStreamer's GstIDCTMethod; the numbers are libjpeg's J_DCT_METHOD.
enum class DctMethod : int { islow = 0, ifast = 1, float_ = 2 };
constexpr EnumValue dct_method_values[] = {
    {0, "islow", "Slow but accurate integer algorithm"},
    {1, "ifast", "Faster, less accurate integer method"},
    {2, "float", "Floating-point: accurate, fast on fast HW"},
};

// libjpeg's error manager with somewhere to jump to and the message kept.
struct EncoderErrors {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

extern "C" void encoder_error_exit(j_common_ptr cinfo) {
    auto* errors = reinterpret_cast<EncoderErrors*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, errors->message);
    std::longjmp(errors->jump, 1);
}

// libjpeg's default prints to stderr; the library never does.
extern "C" void encoder_output_message(j_common_ptr) {}

// How the frame is fed to libjpeg.
enum class InputPath : std::uint8_t {
    raw_yuv, // jpeg_write_raw_data: planes (or NV12's deinterleaved chroma) as they are
    packed,  // jpeg_write_scanlines from the frame's rows, libjpeg converts
    gray,    // jpeg_write_scanlines, one component
};

struct FormatPlan {
    InputPath path;
    J_COLOR_SPACE color_space; // for packed
    int components;            // for packed
    int h_sub;                 // chroma subsampling, log2, for raw_yuv
    int v_sub;
};

std::optional<FormatPlan> plan_for(VideoFormat f) {
    switch (f) {
    case VideoFormat::i420:
    case VideoFormat::yv12:
    case VideoFormat::nv12:
    case VideoFormat::nv21:
        return FormatPlan{InputPath::raw_yuv, JCS_YCbCr, 3, 1, 1};
    case VideoFormat::y42b:
    case VideoFormat::yuy2: // packed 4:2:2: the components are read at their pixel strides
    case VideoFormat::uyvy:
        return FormatPlan{InputPath::raw_yuv, JCS_YCbCr, 3, 1, 0};
    case VideoFormat::y444:
        return FormatPlan{InputPath::raw_yuv, JCS_YCbCr, 3, 0, 0};
    case VideoFormat::rgb:
        return FormatPlan{InputPath::packed, JCS_EXT_RGB, 3, 0, 0};
    case VideoFormat::bgr:
        return FormatPlan{InputPath::packed, JCS_EXT_BGR, 3, 0, 0};
    case VideoFormat::rgbx:
        return FormatPlan{InputPath::packed, JCS_EXT_RGBX, 4, 0, 0};
    case VideoFormat::bgrx:
        return FormatPlan{InputPath::packed, JCS_EXT_BGRX, 4, 0, 0};
    case VideoFormat::gray8:
        return FormatPlan{InputPath::gray, JCS_GRAYSCALE, 1, 0, 0};
    default:
        return std::nullopt;
    }
}

// Everything one encode needs, in plain values and pointers: the step
// functions below run under setjmp and must not own anything.
struct EncodeJob {
    const detail::JpegLibrary* lib = nullptr; // libjpeg's entry points
    jpeg_compress_struct* cinfo;
    InputPath path;
    // The parameters, set on cinfo under setjmp (libjpeg may object).
    std::uint32_t width;
    std::uint32_t height;
    J_COLOR_SPACE in_color_space;
    int input_components;
    int quality;
    J_DCT_METHOD dct_method;
    int luma_h; // sampling factors of luma; chroma is 1x1
    int luma_v;
    // Per component (Y, U, V; or one for packed and gray): where row 0 of
    // the component starts, bytes between rows, between samples, its size.
    std::array<const std::uint8_t*, 3> comp_start;
    std::array<std::size_t, 3> comp_stride;
    std::array<std::size_t, 3> comp_pixel_stride;
    std::array<std::uint32_t, 3> comp_width;
    std::array<std::uint32_t, 3> comp_height;
    // Scratch band per component for raw input: band_rows[c] rows of
    // band_width[c] bytes, and the row pointers libjpeg reads.
    std::array<std::uint8_t*, 3> band;
    std::array<std::uint32_t, 3> band_width;
    std::array<std::uint32_t, 3> band_rows;
    std::array<JSAMPROW*, 3> band_pointers;
    // Sample maps for range expansion (luma, chroma); null: copy as is.
    const std::uint8_t* luma_map;
    const std::uint8_t* chroma_map;
    std::uint8_t* gray_row; // one row of scratch for gray with a map
    bool direct;            // raw planes read in place (no padding, no map)
    // Output, from jpeg_mem_dest (malloc'd by libjpeg).
    unsigned char* out;
    unsigned long out_size;
};

void fill_band_row(const EncodeJob& job, int c, std::uint32_t src_row, std::uint8_t* dst) {
    const std::uint8_t* src = job.comp_start[c] + static_cast<std::size_t>(src_row) * job.comp_stride[c];
    const std::uint32_t width = job.comp_width[c];
    const std::size_t step = job.comp_pixel_stride[c];
    const std::uint8_t* map = c == 0 ? job.luma_map : job.chroma_map;
    if (step == 1 && map == nullptr) {
        std::memcpy(dst, src, width);
    } else if (map == nullptr) {
        for (std::uint32_t x = 0; x < width; ++x) {
            dst[x] = src[x * step];
        }
    } else {
        for (std::uint32_t x = 0; x < width; ++x) {
            dst[x] = map[src[x * step]];
        }
    }
    // libjpeg reads whole blocks: the edge sample is repeated to fill them.
    std::memset(dst + width, dst[width - 1], job.band_width[c] - width);
}

void encode_raw(EncodeJob& job) {
    jpeg_compress_struct* cinfo = job.cinfo;
    const int max_v = cinfo->max_v_samp_factor;
    const std::uint32_t lines_per_call = static_cast<std::uint32_t>(max_v * DCTSIZE);
    JSAMPARRAY planes[3];
    for (int c = 0; c < 3; ++c) {
        planes[c] = job.band_pointers[c];
    }
    while (cinfo->next_scanline < cinfo->image_height) {
        const std::uint32_t luma_row = cinfo->next_scanline;
        for (int c = 0; c < 3; ++c) {
            const std::uint32_t rows = job.band_rows[c];
            const std::uint32_t first = luma_row / lines_per_call * rows;
            for (std::uint32_t i = 0; i < rows; ++i) {
                // Rows past the bottom repeat the last one.
                const std::uint32_t src_row = std::min(first + i, job.comp_height[c] - 1);
                if (job.direct) {
                    job.band_pointers[c][i] = const_cast<JSAMPROW>(
                        job.comp_start[c] + static_cast<std::size_t>(src_row) * job.comp_stride[c]);
                } else {
                    JSAMPROW dst = job.band[c] + static_cast<std::size_t>(i) * job.band_width[c];
                    job.band_pointers[c][i] = dst;
                    if (first + i < job.comp_height[c] || i == 0) {
                        fill_band_row(job, c, src_row, dst);
                    } else {
                        std::memcpy(dst, job.band_pointers[c][i - 1], job.band_width[c]);
                    }
                }
            }
        }
        job.lib->jpeg_write_raw_data(cinfo, planes, lines_per_call);
    }
}

void encode_scanlines(EncodeJob& job) {
    jpeg_compress_struct* cinfo = job.cinfo;
    while (cinfo->next_scanline < cinfo->image_height) {
        const std::uint8_t* src =
            job.comp_start[0] + static_cast<std::size_t>(cinfo->next_scanline) * job.comp_stride[0];
        JSAMPROW row = const_cast<JSAMPROW>(src);
        if (job.gray_row != nullptr) {
            for (std::uint32_t x = 0; x < job.comp_width[0]; ++x) {
                job.gray_row[x] = job.luma_map[src[x]];
            }
            row = job.gray_row;
        }
        job.lib->jpeg_write_scanlines(cinfo, &row, 1);
    }
}

// Runs under setjmp: trivial locals only.
void encode_step(EncodeJob& job) {
    const detail::JpegLibrary& lib = *job.lib;
    jpeg_compress_struct* cinfo = job.cinfo;
    cinfo->image_width = job.width;
    cinfo->image_height = job.height;
    cinfo->input_components = job.input_components;
    cinfo->in_color_space = job.in_color_space;
    lib.jpeg_set_defaults(cinfo);
    lib.jpeg_set_quality(cinfo, job.quality, TRUE);
    cinfo->dct_method = job.dct_method;
    cinfo->raw_data_in = job.path == InputPath::raw_yuv ? TRUE : FALSE;
    if (job.path != InputPath::gray) {
        for (int c = 0; c < 3; ++c) {
            cinfo->comp_info[c].h_samp_factor = c == 0 ? job.luma_h : 1;
            cinfo->comp_info[c].v_samp_factor = c == 0 ? job.luma_v : 1;
        }
    }
    lib.jpeg_mem_dest(cinfo, &job.out, &job.out_size);
    lib.jpeg_start_compress(job.cinfo, TRUE);
    if (job.path == InputPath::raw_yuv) {
        encode_raw(job);
    } else {
        encode_scanlines(job);
    }
    lib.jpeg_finish_compress(job.cinfo);
}

// True when the encode finished; false when libjpeg called error_exit (its
// message is in errors.message).
bool run_encode(EncoderErrors& errors, EncodeJob& job) {
    if (setjmp(errors.jump) != 0) {
        return false;
    }
    encode_step(job);
    return true;
}

constexpr std::string_view sink_caps =
    "video/x-raw, format=(string){ I420, YV12, Y42B, Y444, NV12, NV21, YUY2, "
    "UYVY, RGB, BGR, RGBx, BGRx, GRAY8 }, width=(int)[ 1, 65535 ], height=(int)[ 1, 65535 ], "
    "framerate=(fraction)[ 0/1, 2147483647/1 ]";
constexpr std::string_view src_caps = "image/jpeg, width=(int)[ 1, 65535 ], height=(int)[ 1, 65535 ], "
                                      "framerate=(fraction)[ 0/1, 2147483647/1 ], sof-marker=(int)0";

class JpegEnc final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "jpegenc",
        .klass = "Codec/Encoder/Image",
        .summary = "Encode images in JPEG format",
        .description =
            "Encodes each raw video frame into a baseline JPEG (JFIF) image with libjpeg-turbo; every output "
            "buffer is a key frame with the input's timestamps. Planar YUV (I420, YV12, Y42B, Y444, and NV12/NV21 "
            "with their chroma deinterleaved) and packed 4:2:2 YUV (YUY2, UYVY, its components picked out of the "
            "rows) are written with their own sampling factors and no colour conversion; "
            "RGB, BGR, RGBx and BGRx are converted to YCbCr 4:4:4 by libjpeg; GRAY8 makes a one-component image. "
            "JFIF is full range with the BT.601 matrix: YUV or gray input whose caps say limited range is expanded "
            "to full range while it is fed; the matrix is not converted (BT.709 input gets a warning). "
            "snapshot=true sends EOS after the first image.",
        .rank = rank_primary};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h = ExecutionHints::cpu_intensive();
        h.uses_native_code = true;
        // The input is raw video made in the pipeline; libjpeg parses
        // nothing from outside.
        h.crash_safe = true;
        return h;
    }();

    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static(sink_caps)},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(src_caps)}};
    }

    JpegEnc() {
        std::memset(&cinfo_, 0, sizeof(cinfo_));
        std::memset(&errors_, 0, sizeof(errors_));
    }
    ~JpegEnc() override { destroy(); }

    // Raw caps carry their size and rate to the JPEG side; JPEG caps
    // narrow the raw side to the same size and rate.
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

    Result<void> start() override {
        auto loaded = detail::jpeg_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        if (!created_) {
            cinfo_.err = lib_->jpeg_std_error(&errors_.mgr);
            errors_.mgr.error_exit = encoder_error_exit;
            errors_.mgr.output_message = encoder_output_message;
            if (setjmp(errors_.jump) != 0) {
                return fail(Error(Errc::failed, fmt::format("{}: libjpeg could not start: {}", name(),
                                                            static_cast<const char*>(errors_.message))));
            }
            // jpeg_create_compress(&cinfo_), spelled out: the macro would call libjpeg directly.
            lib_->jpeg_CreateCompress(&cinfo_, JPEG_LIB_VERSION, sizeof(jpeg_compress_struct));
            created_ = true;
        }
        // The caps may have come before start(): they stay.
        frames_ = 0;
        done_ = false;
        return {};
    }

    Result<void> stop() override {
        destroy();
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
        auto job = prepare(*frame);
        if (!run_encode(errors_, job)) {
            lib_->jpeg_abort_compress(&cinfo_);
            std::free(job.out);
            return context().error(
                Error(Errc::failed, fmt::format("{}: libjpeg could not encode frame {}: {}", name(), frames_,
                                                static_cast<const char*>(errors_.message))));
        }
        ++frames_;
        auto out = context().allocate(job.out_size);
        if (!out) {
            std::free(job.out);
            return context().error(std::move(out.error()));
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            std::free(job.out);
            return context().error(std::move(bytes.error()));
        }
        if (caps_pending_) {
            if (!src_->push_event(Event::caps(out_caps_))) {
                std::free(job.out);
                return context().error(
                    Error(Errc::not_negotiated, fmt::format("{}: downstream refused {}", name(), out_caps_.to_string()))
                        .at_pad("src"));
            }
            caps_pending_ = false;
        }
        std::memcpy(bytes->data(), job.out, job.out_size);
        std::free(job.out);
        Metadata& m = out->meta();
        m.set_pts(buffer.meta().pts());
        m.set_duration(buffer.meta().duration());
        m.set_dts(buffer.meta().dts());
        const Flow f = src_->push(std::move(*out));
        if (snapshot_.get() && is_success(f)) {
            done_ = true;
            src_->push_event(Event::eos());
            return Flow::eos;
        }
        return f;
    }

private:
    void destroy() {
        if (created_) {
            lib_->jpeg_destroy_compress(&cinfo_);
            created_ = false;
        }
    }

    bool set_caps(const Caps& caps) {
        auto vi = VideoInfo::from_caps(caps);
        if (!vi) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: unusable input caps {}: {}", name(),
                                                                    caps.to_string(), vi.error().message())));
            return false;
        }
        const auto plan = plan_for(vi->format());
        if (!plan) {
            context().error(Error(Errc::not_negotiated,
                                  fmt::format("{}: input format {} is not supported (I420, YV12, Y42B, Y444, NV12, "
                                              "NV21, YUY2, UYVY, RGB, BGR, RGBx, BGRx and GRAY8 are)",
                                              name(), vi->format_info().name)));
            return false;
        }
        if (vi->width() > JPEG_MAX_DIMENSION || vi->height() > JPEG_MAX_DIMENSION) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: frame size {}x{} is beyond JPEG's 65535",
                                                                    name(), vi->width(), vi->height())));
            return false;
        }
        const VideoColorimetry& c = vi->colorimetry();
        const bool yuv_or_gray = vi->format_info().family != VideoColorFamily::rgb;
        expand_range_ = yuv_or_gray && c.range == VideoColorRange::limited;
        if (vi->format_info().family == VideoColorFamily::yuv && c.matrix != VideoColorMatrix::bt601 &&
            c.matrix != VideoColorMatrix::unknown) {
            context().warning(fmt::format("{}: the input's colour matrix is not BT.601, which JPEG assumes; the "
                                          "image is written unconverted and its colours will be slightly off",
                                          name()));
        }
        plan_ = *plan;
        info_ = std::move(*vi);
        if (expand_range_) {
            build_range_maps();
        }

        Structure s("image/jpeg");
        s.set("width", static_cast<int>(info_->width()));
        s.set("height", static_cast<int>(info_->height()));
        s.set("framerate", info_->framerate());
        if (info_->pixel_aspect_ratio() != Fraction::make(1, 1).value()) {
            s.set("pixel-aspect-ratio", info_->pixel_aspect_ratio());
        }
        s.set("sof-marker", 0);
        Caps out;
        out.append(std::move(s));
        PARALLAX_DEBUG(jpegenc_log, "{}: {} -> {}", name(), info_->to_string(), out.to_string());
        // Sent with the first image: the caps may come before start().
        out_caps_ = std::move(out);
        caps_pending_ = true;
        return true;
    }

    void build_range_maps() {
        // 16..235 luma and 16..240 chroma (centred on 128) to 0..255.
        for (int v = 0; v < 256; ++v) {
            const long y = std::lround((v - 16) * 255.0 / 219.0);
            const long c = 128 + std::lround((v - 128) * 255.0 / 224.0);
            luma_map_[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(std::clamp(y, 0L, 255L));
            chroma_map_[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(std::clamp(c, 0L, 255L));
        }
    }

    // Sets up cinfo_ for the negotiated format and fills a job for `frame`.
    EncodeJob prepare(const VideoFrame& frame) {
        const VideoInfo& vi = *info_;
        EncodeJob job{};
        job.lib = lib_;
        job.cinfo = &cinfo_;
        job.path = plan_.path;
        job.width = vi.width();
        job.height = vi.height();
        job.input_components = plan_.path == InputPath::raw_yuv ? 3 : plan_.components;
        job.in_color_space = plan_.path == InputPath::raw_yuv ? JCS_YCbCr : plan_.color_space;
        job.quality = quality_.get();
        job.dct_method = static_cast<J_DCT_METHOD>(idct_method_.get());
        // Packed RGB keeps full-resolution chroma, as its input has
        // (libjpeg's default would subsample it 2x2).
        job.luma_h = 1 << plan_.h_sub;
        job.luma_v = 1 << plan_.v_sub;
        if (plan_.path != InputPath::raw_yuv) {
            auto row0 = frame.row(0, 0);
            job.comp_start[0] = reinterpret_cast<const std::uint8_t*>(row0.data());
            job.comp_stride[0] = vi.stride(0);
            job.comp_width[0] = vi.width();
            job.comp_height[0] = vi.height();
            if (plan_.path == InputPath::gray && expand_range_) {
                gray_row_.resize(vi.width());
                job.gray_row = gray_row_.data();
                job.luma_map = luma_map_.data();
            }
            return job;
        }

        // Luma carries the sampling factors; chroma is 1x1.
        const int h_factor = job.luma_h;
        const int v_factor = job.luma_v;
        const std::uint32_t mcu_width = static_cast<std::uint32_t>(h_factor * DCTSIZE);
        const std::uint32_t mcus_per_row = (vi.width() + mcu_width - 1) / mcu_width;
        bool direct = !expand_range_;
        std::size_t scratch = 0;
        for (std::size_t c = 0; c < 3; ++c) {
            job.comp_start[c] = reinterpret_cast<const std::uint8_t*>(frame.component_row(c, 0).data());
            job.comp_stride[c] = frame.component_stride(c);
            job.comp_pixel_stride[c] = vi.format_info().components[c].pixel_stride;
            job.comp_width[c] = vi.component_width(c);
            job.comp_height[c] = vi.component_height(c);
            const int h = c == 0 ? h_factor : 1;
            const int v = c == 0 ? v_factor : 1;
            job.band_width[c] = mcus_per_row * static_cast<std::uint32_t>(h * DCTSIZE);
            job.band_rows[c] = static_cast<std::uint32_t>(v * DCTSIZE);
            if (job.comp_pixel_stride[c] != 1 || job.band_width[c] != job.comp_width[c]) {
                direct = false;
            }
            scratch += static_cast<std::size_t>(job.band_width[c]) * job.band_rows[c];
        }
        job.direct = direct;
        if (!direct) {
            band_.resize(scratch);
        }
        band_pointers_.resize(static_cast<std::size_t>(job.band_rows[0] + job.band_rows[1] + job.band_rows[2]));
        std::size_t at = 0;
        std::size_t row_at = 0;
        for (std::size_t c = 0; c < 3; ++c) {
            job.band[c] = direct ? nullptr : band_.data() + at;
            job.band_pointers[c] = band_pointers_.data() + row_at;
            at += static_cast<std::size_t>(job.band_width[c]) * job.band_rows[c];
            row_at += job.band_rows[c];
        }
        if (expand_range_) {
            job.luma_map = luma_map_.data();
            job.chroma_map = chroma_map_.data();
        }
        return job;
    }

    Pad* src_ = nullptr;
    const detail::JpegLibrary* lib_ = nullptr; // from start()
    jpeg_compress_struct cinfo_;
    EncoderErrors errors_;
    bool created_ = false;
    std::optional<VideoInfo> info_;
    FormatPlan plan_{InputPath::raw_yuv, JCS_YCbCr, 3, 1, 1};
    bool expand_range_ = false;
    Caps out_caps_ = Caps::empty();
    bool caps_pending_ = false;
    std::array<std::uint8_t, 256> luma_map_{};
    std::array<std::uint8_t, 256> chroma_map_{};
    std::vector<std::uint8_t> band_;
    std::vector<JSAMPROW> band_pointers_;
    std::vector<std::uint8_t> gray_row_;
    std::uint64_t frames_ = 0;
    bool done_ = false;

    Property<int> quality_{this,     "quality",          85, "Quality of encoding (0 worst, 100 best)",
                           {0, 100}, Mutability::running};
    Property<DctMethod> idct_method_{this, "idct-method", DctMethod::ifast,
                                     "The DCT algorithm to use (libjpeg's dct_method)", dct_method_values};
    Property<bool> snapshot_{this, "snapshot", false, "Send EOS after encoding a frame, useful for snapshots"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::JpegEnc);
