// jpegdec: decodes JPEG images to raw video with libjpeg-turbo, with
// GStreamer's jpegdec property names.
//
// Input may be whole images (from jpegenc, a demuxer, multipartdemux) or
// any pieces of a byte stream (filesrc): the element walks the JPEG marker
// segments, skipping entropy-coded data (where 0xFF is followed by a 0x00
// stuffing byte or an RSTn marker), and cuts one image from SOI to EOI. A
// buffer that starts with a whole image is decoded in place; only bytes of
// an unfinished image are kept for the next buffer.
//
// YCbCr images decode in their own sampling with jpeg_read_raw_data (no
// upsampling, no colour conversion): 4:2:0 to I420, 4:2:2 to Y42B, 4:4:4 to
// Y444, grayscale to GRAY8, all full range with the BT.601 matrix as JFIF
// defines. libjpeg hands raw data in whole blocks, so the planes go through
// a padded band and are copied at the picture's size. Other samplings
// (4:4:0, 4:1:1...) and RGB images are converted to RGB by libjpeg; CMYK and
// YCCK (Adobe, stored inverted) are converted to RGB here.
//
// libjpeg reports errors by calling error_exit, which must not return: it
// longjmps back to a small function that holds no C++ object with a
// destructor, and the step functions it runs keep only trivial locals.
// Warnings (corrupt data libjpeg recovered from) become element warnings;
// errors are element errors naming the image and libjpeg's message.

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "codec/decoded_picture.hpp"
#include "image/jpeg_library.hpp"
#include "image/picture_caps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory jpegdec_log("jpegdec", "jpegdec: JPEG decoding with libjpeg-turbo");

// GStreamer's GstIDCTMethod; the numbers are libjpeg's J_DCT_METHOD.
enum class IdctMethod : int { islow = 0, ifast = 1, float_ = 2 };
constexpr EnumValue idct_method_values[] = {
    {0, "islow", "Slow but accurate integer algorithm"},
    {1, "ifast", "Faster, less accurate integer method"},
    {2, "float", "Floating-point: accurate, fast on fast HW"},
};

// Bytes kept while waiting for the end of an image: beyond this, the input
// is not a JPEG stream worth waiting for.
constexpr std::size_t max_image_bytes = std::size_t{256} << 20;

// libjpeg's error manager with somewhere to jump to, the fatal message and
// the first warning.
struct DecoderErrors {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    char warning[JMSG_LENGTH_MAX];
    int warnings;
};

extern "C" void decoder_error_exit(j_common_ptr cinfo) {
    auto* errors = reinterpret_cast<DecoderErrors*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, errors->message);
    std::longjmp(errors->jump, 1);
}

// Level -1 is a warning (corrupt data recovered from); others are traces.
extern "C" void decoder_emit_message(j_common_ptr cinfo, int level) {
    auto* errors = reinterpret_cast<DecoderErrors*>(cinfo->err);
    if (level < 0) {
        if (errors->warnings == 0) {
            (*cinfo->err->format_message)(cinfo, errors->warning);
        }
        ++errors->warnings;
        ++cinfo->err->num_warnings;
    }
}

extern "C" void decoder_output_message(j_common_ptr) {}

// How an image is read out.
enum class OutputPath : std::uint8_t {
    raw_yuv, // jpeg_read_raw_data into planes
    gray,    // scanlines, one component
    rgb,     // scanlines, converted to RGB by libjpeg
    cmyk,    // scanlines of CMYK, converted to RGB here
};

// Everything one decode needs, in plain values and pointers: the step
// functions run under setjmp and must not own anything.
struct DecodeJob {
    const detail::JpegLibrary* lib = nullptr; // libjpeg's entry points
    jpeg_decompress_struct* cinfo;
    OutputPath path;
    std::array<std::uint8_t*, 3> plane;
    std::array<std::size_t, 3> stride;
    std::array<std::uint32_t, 3> comp_width;
    std::array<std::uint32_t, 3> comp_height;
    std::array<std::uint8_t*, 3> band;
    std::array<std::uint32_t, 3> band_width;
    std::array<std::uint32_t, 3> band_rows;
    std::array<JSAMPROW*, 3> band_pointers;
    std::uint8_t* cmyk_row;
};

void read_header_step(const detail::JpegLibrary& lib, jpeg_decompress_struct* cinfo, const std::uint8_t* data,
                      std::size_t size) {
    lib.jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
    lib.jpeg_read_header(cinfo, TRUE);
}

void read_raw(DecodeJob& job) {
    jpeg_decompress_struct* cinfo = job.cinfo;
    const auto lines_per_call = static_cast<JDIMENSION>(cinfo->max_v_samp_factor * DCTSIZE);
    JSAMPARRAY planes[3];
    for (std::size_t c = 0; c < 3; ++c) {
        for (std::uint32_t i = 0; i < job.band_rows[c]; ++i) {
            job.band_pointers[c][i] = job.band[c] + static_cast<std::size_t>(i) * job.band_width[c];
        }
        planes[c] = job.band_pointers[c];
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        const std::uint32_t band_index = cinfo->output_scanline / lines_per_call;
        if (job.lib->jpeg_read_raw_data(cinfo, planes, lines_per_call) == 0) {
            break; // suspended: cannot happen with a memory source
        }
        for (std::size_t c = 0; c < 3; ++c) {
            const std::uint32_t first = band_index * job.band_rows[c];
            for (std::uint32_t i = 0; i < job.band_rows[c] && first + i < job.comp_height[c]; ++i) {
                std::memcpy(job.plane[c] + static_cast<std::size_t>(first + i) * job.stride[c], planes[c][i],
                            job.comp_width[c]);
            }
        }
    }
}

void read_scanlines(DecodeJob& job) {
    jpeg_decompress_struct* cinfo = job.cinfo;
    while (cinfo->output_scanline < cinfo->output_height) {
        std::uint8_t* dst = job.plane[0] + static_cast<std::size_t>(cinfo->output_scanline) * job.stride[0];
        JSAMPROW row = job.path == OutputPath::cmyk ? job.cmyk_row : dst;
        if (job.lib->jpeg_read_scanlines(cinfo, &row, 1) == 0) {
            break;
        }
        if (job.path == OutputPath::cmyk) {
            // Adobe's CMYK JPEGs hold inverted values: each is already
            // 255 - ink, so R = C' * K' / 255 and so on.
            const std::uint8_t* s = job.cmyk_row;
            for (std::uint32_t x = 0; x < job.comp_width[0]; ++x, s += 4, dst += 3) {
                const unsigned k = s[3];
                dst[0] = static_cast<std::uint8_t>((s[0] * k + 127) / 255);
                dst[1] = static_cast<std::uint8_t>((s[1] * k + 127) / 255);
                dst[2] = static_cast<std::uint8_t>((s[2] * k + 127) / 255);
            }
        }
    }
}

void decode_step(DecodeJob& job) {
    job.lib->jpeg_start_decompress(job.cinfo);
    if (job.path == OutputPath::raw_yuv) {
        read_raw(job);
    } else {
        read_scanlines(job);
    }
    job.lib->jpeg_finish_decompress(job.cinfo);
}

// True when the step finished; false when libjpeg called error_exit (its
// message is in errors.message).
bool run_read_header(const detail::JpegLibrary& lib, DecoderErrors& errors, jpeg_decompress_struct* cinfo,
                     const std::uint8_t* data, std::size_t size) {
    if (setjmp(errors.jump) != 0) {
        return false;
    }
    read_header_step(lib, cinfo, data, size);
    return true;
}

bool run_decode(DecoderErrors& errors, DecodeJob& job) {
    if (setjmp(errors.jump) != 0) {
        return false;
    }
    decode_step(job);
    return true;
}

// Finds where JPEG images start and end in a byte stream, one byte range at
// a time, resuming where the last call stopped.
class ImageSplitter {
public:
    enum class Result : std::uint8_t { need_more, image };

    // Scans `bytes` (everything kept so far) from where the last call
    // stopped. On `image`, [start(), end()) is one image; call reset_after()
    // before scanning again. `skipped` counts bytes before an SOI.
    Result scan(std::span<const std::uint8_t> bytes) {
        const std::size_t n = bytes.size();
        while (pos_ < n) {
            if (state_ == State::seek_soi) {
                if (bytes[pos_] == 0xFF && pos_ + 1 < n && bytes[pos_ + 1] == 0xD8) {
                    start_ = pos_;
                    pos_ += 2;
                    state_ = State::marker;
                    continue;
                }
                if (bytes[pos_] == 0xFF && pos_ + 1 == n) {
                    return Result::need_more;
                }
                ++pos_;
                ++skipped_;
                continue;
            }
            if (state_ == State::entropy) {
                const auto* at = static_cast<const std::uint8_t*>(std::memchr(bytes.data() + pos_, 0xFF, n - pos_));
                if (at == nullptr) {
                    pos_ = n;
                    return Result::need_more;
                }
                pos_ = static_cast<std::size_t>(at - bytes.data());
                if (pos_ + 1 >= n) {
                    return Result::need_more;
                }
                const std::uint8_t b = bytes[pos_ + 1];
                if (b == 0x00 || (b >= 0xD0 && b <= 0xD7)) {
                    pos_ += 2; // stuffed 0xFF or a restart marker: still entropy-coded data
                    continue;
                }
                if (b == 0xFF) {
                    ++pos_; // fill byte
                    continue;
                }
                state_ = State::marker;
                continue;
            }
            // State::marker: pos_ is at the 0xFF of a marker.
            if (bytes[pos_] != 0xFF) {
                // Not a marker where one must be: treat what follows as
                // entropy-coded data, which libjpeg will judge.
                state_ = State::entropy;
                continue;
            }
            if (pos_ + 1 >= n) {
                return Result::need_more;
            }
            const std::uint8_t m = bytes[pos_ + 1];
            if (m == 0xFF) {
                ++pos_;
                continue;
            }
            if (m == 0xD9) {
                end_ = pos_ + 2;
                return Result::image;
            }
            if (m == 0xD8) {
                // A new image before this one ended: the old one is cut
                // off here and decoded as it is.
                end_ = pos_;
                return Result::image;
            }
            if ((m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0x00) {
                pos_ += 2;
                continue;
            }
            if (pos_ + 3 >= n) {
                return Result::need_more;
            }
            const std::size_t length = (std::size_t{bytes[pos_ + 2]} << 8) | bytes[pos_ + 3];
            if (length < 2) {
                pos_ += 2; // nonsense length: let libjpeg complain
                continue;
            }
            if (pos_ + 2 + length > n) {
                return Result::need_more;
            }
            pos_ += 2 + length;
            if (m == 0xDA) {
                state_ = State::entropy;
            }
        }
        return Result::need_more;
    }

    [[nodiscard]] std::size_t start() const noexcept { return start_; }
    [[nodiscard]] std::size_t end() const noexcept { return end_; }
    [[nodiscard]] bool in_image() const noexcept { return state_ != State::seek_soi; }
    [[nodiscard]] std::size_t skipped() const noexcept { return skipped_; }
    // The first byte still needed: the start of the unfinished image, or
    // where the search for the next one goes on.
    [[nodiscard]] std::size_t keep_from() const noexcept { return state_ == State::seek_soi ? pos_ : start_; }
    void clear_skipped() noexcept { skipped_ = 0; }

    // Continues after the image just found; positions count from the same
    // origin until rebase().
    void reset_after() noexcept {
        pos_ = end_;
        state_ = State::seek_soi;
    }
    // The first `n` bytes were dropped from the front.
    void rebase(std::size_t n) noexcept {
        pos_ -= std::min(pos_, n);
        start_ -= std::min(start_, n);
        end_ -= std::min(end_, n);
    }
    void reset() noexcept { *this = ImageSplitter(); }

private:
    enum class State : std::uint8_t { seek_soi, marker, entropy };
    State state_ = State::seek_soi;
    std::size_t pos_ = 0;
    std::size_t start_ = 0;
    std::size_t end_ = 0;
    std::size_t skipped_ = 0;
};

constexpr std::string_view raw_caps = "video/x-raw, format=(string){ I420, Y42B, Y444, GRAY8, RGB }, "
                                      "width=(int)[ 1, 65535 ], height=(int)[ 1, 65535 ], "
                                      "framerate=(fraction)[ 0/1, 2147483647/1 ]";

class JpegDec final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "jpegdec",
        .klass = "Codec/Decoder/Image",
        .summary = "Decode images from JPEG format",
        .description =
            "Decodes baseline and progressive JPEG images with libjpeg-turbo. The input may be one image per "
            "buffer or any pieces of a stream of concatenated images (filesrc location=a.jpg ! jpegdec): images "
            "are cut at their SOI and EOI markers. YCbCr images decode without resampling or colour conversion in "
            "their own layout (4:2:0 to I420, 4:2:2 to Y42B, 4:4:4 to Y444; full range, BT.601 matrix, "
            "colorimetry 1:4:0:0, chroma-site jpeg), grayscale to GRAY8; other chroma samplings and RGB, CMYK and "
            "YCCK images to RGB. A change of size or layout sends new caps. Corrupt data that libjpeg recovers "
            "from is a warning; an image it cannot decode is an error naming the image.",
        .rank = rank_primary};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h = ExecutionHints::cpu_intensive();
        h.uses_native_code = true;
        // libjpeg parses bytes from outside.
        h.crash_safe = false;
        return h;
    }();

    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static("image/jpeg")},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(raw_caps)}};
    }

    JpegDec() {
        std::memset(&cinfo_, 0, sizeof(cinfo_));
        std::memset(&errors_, 0, sizeof(errors_));
    }
    ~JpegDec() override { destroy(); }

    // JPEG caps with a size or rate carry them to the raw side; raw caps
    // leave the JPEG side open.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (from.direction() == PadDirection::src || caps.is_any() || caps.is_empty()) {
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
            errors_.mgr.error_exit = decoder_error_exit;
            errors_.mgr.emit_message = decoder_emit_message;
            errors_.mgr.output_message = decoder_output_message;
            if (setjmp(errors_.jump) != 0) {
                return fail(Error(Errc::failed, fmt::format("{}: libjpeg could not start: {}", name(),
                                                            static_cast<const char*>(errors_.message))));
            }
            // jpeg_create_decompress(&cinfo_), spelled out: the macro would call libjpeg directly.
            lib_->jpeg_CreateDecompress(&cinfo_, JPEG_LIB_VERSION, sizeof(jpeg_decompress_struct));
            created_ = true;
        }
        reset_stream();
        return {};
    }

    Result<void> stop() override {
        destroy();
        reset_stream();
        input_caps_ = Caps::empty();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            // The output caps go out with the first image, once its size
            // and layout are known.
            input_caps_ = *event.caps_value();
            return true;
        case EventType::eos:
            if (created_) {
                static_cast<void>(finish_stream());
            }
            break;
        case EventType::flush_stop:
            pending_.clear();
            splitter_.reset();
            pending_pts_ = ClockTime::none();
            pending_duration_ = ClockTime::none();
            next_pts_ = ClockTime::none();
            break;
        default:
            break;
        }
        return Element::sink_event(pad, std::move(event));
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (buffer.size() == 0) {
            return Flow::ok;
        }
        if (!splitter_.in_image()) {
            // The next image starts in this buffer: its timestamps are the
            // image's.
            pending_pts_ = buffer.meta().pts();
            pending_duration_ = buffer.meta().duration();
        }
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(buffer.data().data()),
                                                  buffer.size());
        if (pending_.empty()) {
            // Nothing kept: images are decoded where they lie, and only an
            // unfinished tail is copied.
            const Flow f = decode_images(bytes);
            if (!is_success(f)) {
                // What follows a failed image is looked at afresh, should
                // data still come.
                splitter_.reset();
                return f;
            }
            const std::size_t keep_from = std::min(splitter_.keep_from(), bytes.size());
            pending_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(keep_from), bytes.end());
            splitter_.rebase(keep_from);
            return skipped_before_image();
        }
        if (pending_.size() + bytes.size() > max_image_bytes) {
            pending_.clear();
            splitter_.reset();
            return context().error(Error(Errc::corrupt, fmt::format("{}: no end of image after {} bytes of JPEG data",
                                                                    name(), max_image_bytes))
                                       .at_pad("sink"));
        }
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        const Flow f = decode_images(pending_);
        if (!is_success(f)) {
            pending_.clear();
            splitter_.reset();
            return f;
        }
        const std::size_t keep_from = std::min(splitter_.keep_from(), pending_.size());
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(keep_from));
        splitter_.rebase(keep_from);
        return skipped_before_image();
    }

private:
    void destroy() {
        if (created_) {
            lib_->jpeg_destroy_decompress(&cinfo_);
            created_ = false;
        }
    }

    void reset_stream() {
        pending_.clear();
        splitter_.reset();
        out_info_.reset();
        images_ = 0;
        pending_pts_ = ClockTime::none();
        pending_duration_ = ClockTime::none();
        next_pts_ = ClockTime::none();
    }

    // Decodes every whole image in `bytes`.
    Flow decode_images(std::span<const std::uint8_t> bytes) {
        while (splitter_.scan(bytes) == ImageSplitter::Result::image) {
            const std::size_t start = splitter_.start();
            const std::size_t end = splitter_.end();
            splitter_.reset_after();
            report_skipped();
            const Flow f = decode_image(bytes.subspan(start, end - start));
            if (!is_success(f)) {
                return f;
            }
        }
        return Flow::ok;
    }

    // Bytes skipped before an SOI are reported once the image starts (or
    // at EOS), not once per buffer of garbage.
    void report_skipped() {
        if (splitter_.skipped() > 0) {
            context().warning(
                fmt::format("{}: skipped {} bytes that are not part of a JPEG image", name(), splitter_.skipped()));
            splitter_.clear_skipped();
        }
    }

    Flow skipped_before_image() {
        if (splitter_.in_image()) {
            report_skipped();
        }
        return Flow::ok;
    }

    // At EOS: an image that never ended is decoded as far as it goes.
    Flow finish_stream() {
        Flow f = Flow::ok;
        if (splitter_.in_image() && !pending_.empty()) {
            const std::span<const std::uint8_t> rest(pending_.data() + splitter_.start(),
                                                     pending_.size() - splitter_.start());
            f = decode_image(rest);
        } else if (!pending_.empty() && images_ == 0) {
            context().warning(
                fmt::format("{}: the stream ended without a JPEG image ({} bytes)", name(), pending_.size()));
        }
        report_skipped();
        pending_.clear();
        splitter_.reset();
        return f;
    }

    Error image_error(Errc code, std::string_view what) const {
        return Error(code, fmt::format("{}: image {}: {}", name(), images_, what)).at_pad("sink");
    }

    // The layout of the image whose header cinfo_ holds.
    struct Layout {
        OutputPath path;
        VideoFormat format;
    };

    Layout layout_of() {
        if (cinfo_.jpeg_color_space == JCS_GRAYSCALE && cinfo_.num_components == 1) {
            return {OutputPath::gray, VideoFormat::gray8};
        }
        if (cinfo_.jpeg_color_space == JCS_CMYK || cinfo_.jpeg_color_space == JCS_YCCK) {
            return {OutputPath::cmyk, VideoFormat::rgb};
        }
        if (cinfo_.jpeg_color_space == JCS_YCbCr && cinfo_.num_components == 3) {
            const jpeg_component_info* c = cinfo_.comp_info;
            const int max_h = cinfo_.max_h_samp_factor;
            const int max_v = cinfo_.max_v_samp_factor;
            const bool chroma_alike =
                c[1].h_samp_factor == c[2].h_samp_factor && c[1].v_samp_factor == c[2].v_samp_factor;
            if (chroma_alike && c[0].h_samp_factor == max_h && c[0].v_samp_factor == max_v &&
                max_h % c[1].h_samp_factor == 0 && max_v % c[1].v_samp_factor == 0) {
                const int h = max_h / c[1].h_samp_factor;
                const int v = max_v / c[1].v_samp_factor;
                if (h == 2 && v == 2) {
                    return {OutputPath::raw_yuv, VideoFormat::i420};
                }
                if (h == 2 && v == 1) {
                    return {OutputPath::raw_yuv, VideoFormat::y42b};
                }
                if (h == 1 && v == 1) {
                    return {OutputPath::raw_yuv, VideoFormat::y444};
                }
            }
        }
        return {OutputPath::rgb, VideoFormat::rgb};
    }

    Result<void> update_caps(VideoFormat format) {
        const std::uint32_t w = cinfo_.image_width;
        const std::uint32_t h = cinfo_.image_height;
        if (out_info_ && out_info_->format() == format && out_info_->width() == w && out_info_->height() == h) {
            return {};
        }
        auto vi = VideoInfo::make(format, w, h);
        if (!vi) {
            return fail(image_error(Errc::unsupported, vi.error().message()));
        }
        detail::set_rate_and_aspect_of(*vi, input_caps_);
        if (format != VideoFormat::rgb) {
            // JFIF: full range, BT.601 matrix; transfer and primaries unsaid.
            vi->set_colorimetry(VideoColorimetry{VideoColorRange::full, VideoColorMatrix::bt601,
                                                 VideoTransferFunction::unknown, VideoColorPrimaries::unknown});
        }
        if (format != VideoFormat::rgb && format != VideoFormat::gray8) {
            vi->set_chroma_site(VideoChromaSite::jpeg);
        }
        const Fraction fps = vi->framerate();
        frame_duration_ = fps.num() > 0 && fps.den() > 0
                              ? ClockTime::from_ns(static_cast<std::uint64_t>(
                                    static_cast<double>(fps.den()) * 1e9 / static_cast<double>(fps.num()) + 0.5))
                              : ClockTime::none();
        Caps caps = vi->to_caps();
        PARALLAX_INFO(jpegdec_log, "{}: output caps {}", name(), caps.to_string());
        if (!src_->push_event(Event::caps(caps))) {
            return fail(Error(Errc::not_negotiated, fmt::format("{}: downstream refused {}", name(), caps.to_string()))
                            .at_pad("src"));
        }
        out_info_ = std::move(*vi);
        return {};
    }

    Flow decode_image(std::span<const std::uint8_t> image) {
        errors_.warnings = 0;
        errors_.warning[0] = '\0';
        if (!run_read_header(*lib_, errors_, &cinfo_, image.data(), image.size())) {
            lib_->jpeg_abort_decompress(&cinfo_);
            const Flow f = context().error(image_error(Errc::corrupt, static_cast<const char*>(errors_.message)));
            ++images_;
            return f;
        }
        const Layout layout = layout_of();
        cinfo_.dct_method = static_cast<J_DCT_METHOD>(idct_method_.get());
        cinfo_.raw_data_out = layout.path == OutputPath::raw_yuv ? TRUE : FALSE;
        switch (layout.path) {
        case OutputPath::raw_yuv:
            cinfo_.out_color_space = JCS_YCbCr;
            break;
        case OutputPath::gray:
            cinfo_.out_color_space = JCS_GRAYSCALE;
            break;
        case OutputPath::rgb:
            cinfo_.out_color_space = JCS_RGB;
            break;
        case OutputPath::cmyk:
            cinfo_.out_color_space = JCS_CMYK;
            break;
        }
        if (auto ok = update_caps(layout.format); !ok) {
            lib_->jpeg_abort_decompress(&cinfo_);
            ++images_;
            return context().error(std::move(ok.error()));
        }
        const VideoInfo& vi = *out_info_;
        auto out = context().allocate(vi.size());
        if (!out) {
            lib_->jpeg_abort_decompress(&cinfo_);
            return context().error(std::move(out.error()));
        }
        auto frame = WritableVideoFrame::map(vi, *out);
        if (!frame) {
            lib_->jpeg_abort_decompress(&cinfo_);
            return context().error(std::move(frame.error()));
        }
        DecodeJob job = prepare(*frame, layout.path);
        if (!run_decode(errors_, job)) {
            lib_->jpeg_abort_decompress(&cinfo_);
            const Flow f = context().error(image_error(Errc::corrupt, static_cast<const char*>(errors_.message)));
            ++images_;
            return f;
        }
        if (errors_.warnings > 0) {
            context().warning(fmt::format("{}: image {}: corrupt data ({} warning{}): {}", name(), images_,
                                          errors_.warnings, errors_.warnings == 1 ? "" : "s",
                                          static_cast<const char*>(errors_.warning)));
        }
        ++images_;
        Metadata& m = out->meta();
        ClockTime pts = pending_pts_;
        if (pts.is_none() && next_pts_.is_valid()) {
            pts = next_pts_;
        }
        m.set_pts(pts);
        const ClockTime duration = pending_duration_.is_valid() ? pending_duration_ : frame_duration_;
        m.set_duration(duration);
        next_pts_ =
            pts.is_valid() && duration.is_valid() ? ClockTime::from_ns(pts.ns() + duration.ns()) : ClockTime::none();
        // A timestamp belongs to the first image of its buffer only.
        pending_pts_ = ClockTime::none();
        pending_duration_ = ClockTime::none();
        return src_->push(std::move(*out));
    }

    DecodeJob prepare(const WritableVideoFrame& frame, OutputPath path) {
        const VideoInfo& vi = *out_info_;
        DecodeJob job{};
        job.lib = lib_;
        job.cinfo = &cinfo_;
        job.path = path;
        if (path != OutputPath::raw_yuv) {
            job.plane[0] = reinterpret_cast<std::uint8_t*>(frame.row(0, 0).data());
            job.stride[0] = vi.stride(0);
            job.comp_width[0] = vi.width();
            if (path == OutputPath::cmyk) {
                cmyk_row_.resize(static_cast<std::size_t>(vi.width()) * 4);
                job.cmyk_row = cmyk_row_.data();
            }
            return job;
        }
        // libjpeg writes whole blocks of every MCU: the band is as wide as
        // the MCUs and as tall as one MCU row.
        const int max_h = cinfo_.max_h_samp_factor;
        const auto mcu_width = static_cast<std::uint32_t>(max_h * DCTSIZE);
        const std::uint32_t mcus_per_row = (vi.width() + mcu_width - 1) / mcu_width;
        std::size_t scratch = 0;
        std::size_t rows = 0;
        for (std::size_t c = 0; c < 3; ++c) {
            const jpeg_component_info& ci = cinfo_.comp_info[c];
            job.plane[c] = reinterpret_cast<std::uint8_t*>(frame.component_row(c, 0).data());
            job.stride[c] = frame.component_stride(c);
            job.comp_width[c] = vi.component_width(c);
            job.comp_height[c] = vi.component_height(c);
            job.band_width[c] = mcus_per_row * static_cast<std::uint32_t>(ci.h_samp_factor * DCTSIZE);
            job.band_rows[c] = static_cast<std::uint32_t>(ci.v_samp_factor * DCTSIZE);
            scratch += static_cast<std::size_t>(job.band_width[c]) * job.band_rows[c];
            rows += job.band_rows[c];
        }
        band_.resize(scratch);
        band_pointers_.resize(rows);
        std::size_t at = 0;
        std::size_t row_at = 0;
        for (std::size_t c = 0; c < 3; ++c) {
            job.band[c] = band_.data() + at;
            job.band_pointers[c] = band_pointers_.data() + row_at;
            at += static_cast<std::size_t>(job.band_width[c]) * job.band_rows[c];
            row_at += job.band_rows[c];
        }
        return job;
    }

    Pad* src_ = nullptr;
    const detail::JpegLibrary* lib_ = nullptr; // from start()
    jpeg_decompress_struct cinfo_;
    DecoderErrors errors_;
    bool created_ = false;
    Caps input_caps_ = Caps::empty();
    std::optional<VideoInfo> out_info_;
    ClockTime frame_duration_ = ClockTime::none();
    ImageSplitter splitter_;
    std::vector<std::uint8_t> pending_;
    ClockTime pending_pts_ = ClockTime::none();
    ClockTime pending_duration_ = ClockTime::none();
    ClockTime next_pts_ = ClockTime::none();
    std::uint64_t images_ = 0;
    std::vector<std::uint8_t> band_;
    std::vector<JSAMPROW> band_pointers_;
    std::vector<std::uint8_t> cmyk_row_;

    Property<IdctMethod> idct_method_{this, "idct-method", IdctMethod::ifast,
                                      "The IDCT algorithm to use (libjpeg's dct_method)", idct_method_values};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::JpegDec);
