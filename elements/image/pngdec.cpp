// pngdec: decodes PNG images to raw video with libpng, one frame per image.
//
// Input need not be cut at image boundaries: bytes are gathered until the
// chunks from the signature to IEND are complete (the chunk lengths say
// where each ends, without decompressing anything), so a whole file from
// filesrc, in blocks of any size, decodes as well as one image per buffer.
// Each complete image is handed to libpng from memory.
//
// The output format follows the image: 8-bit RGBA, RGB or GRAY8, and
// GRAY16_LE for 16-bit gray. Palettes are expanded (to RGBA when they carry
// transparency), gray with alpha becomes RGBA, transparency chunks become an
// alpha channel, samples under 8 bits widen to 8, and 16-bit colour is cut
// to its high 8 bits.
//
// libpng reports errors by calling the error function, which must not
// return: it longjmps back to one of two small functions (header, then
// pixels) that hold no C++ object with a destructor.

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "codec/decoded_picture.hpp"
#include "image/picture_caps.hpp"
#include "image/png_library.hpp"

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
#include <string_view>
#include <vector>

namespace parallax {
namespace {

LogCategory pngdec_log("pngdec", "pngdec: PNG decoding with libpng");

constexpr std::array<std::uint8_t, 8> png_signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Where the first PNG image in some bytes ends.
struct ImageExtent {
    enum class Kind : std::uint8_t { complete, incomplete, invalid } kind = Kind::incomplete;
    std::size_t size = 0; // complete: bytes of the image, signature to IEND's CRC
    std::size_t next = 0; // incomplete: where the first chunk not yet whole starts
    std::string problem;  // invalid: what is wrong
};

std::uint32_t read_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

bool is_chunk_letter(std::uint8_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// The largest PNG file taken, as jpegdec does for a JPEG.
constexpr std::size_t max_image_size = std::size_t{256} << 20;

// Walks the chunks of the image at the start of `bytes`, checking only
// their framing (signature, lengths, type letters); libpng checks the rest.
// `resume` is the `next` of an earlier incomplete answer for the same image
// (0: from the start), so that an image arriving in many small buffers is
// walked once, not once per buffer.
ImageExtent find_image(std::span<const std::uint8_t> bytes, std::size_t resume = 0) {
    std::size_t at = png_signature.size();
    bool first = true;
    if (resume > at) {
        at = resume; // the signature and IHDR were checked already
        first = false;
    } else {
        const std::size_t head = std::min(bytes.size(), png_signature.size());
        if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(head), png_signature.begin())) {
            return {ImageExtent::Kind::invalid, 0, 0, "not a PNG image (bad signature)"};
        }
    }
    while (at + 8 <= bytes.size()) {
        const std::uint32_t length = read_be32(bytes.data() + at);
        const std::uint8_t* type = bytes.data() + at + 4;
        if (length > 0x7fffffffU) {
            return {ImageExtent::Kind::invalid, 0, 0,
                    fmt::format("chunk length {} at byte {} is too large", length, at)};
        }
        if (!std::all_of(type, type + 4, is_chunk_letter)) {
            return {ImageExtent::Kind::invalid, 0, 0, fmt::format("invalid chunk type at byte {}", at + 4)};
        }
        if (first && std::memcmp(type, "IHDR", 4) != 0) {
            return {ImageExtent::Kind::invalid, 0, 0, "the first chunk is not IHDR"};
        }
        first = false;
        const std::size_t end = at + 12 + length; // length, type, data, CRC
        if (end > max_image_size) {
            // Waiting for more would hold that much input in memory.
            return {ImageExtent::Kind::invalid, 0, 0,
                    fmt::format("the {} chunk at byte {} would make the image larger than {} MiB",
                                std::string_view(reinterpret_cast<const char*>(type), 4), at, max_image_size >> 20)};
        }
        if (end > bytes.size()) {
            break;
        }
        if (std::memcmp(type, "IEND", 4) == 0) {
            return {ImageExtent::Kind::complete, end, 0, {}};
        }
        at = end;
    }
    return {ImageExtent::Kind::incomplete, 0, first ? 0 : at, {}};
}

// Everything one decode needs, as plain data: the functions that run libpng
// under setjmp see only this.
struct PngDecodeJob {
    const detail::PngLibrary* lib = nullptr; // libpng's entry points
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    std::size_t read_at = 0;
    png_structp png = nullptr;
    png_infop info = nullptr;
    // After read_header: the decoded layout.
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    int channels = 0;
    int bit_depth = 0;
    // For read_pixels: one pointer per output row.
    png_bytepp rows = nullptr;
    char message[256] = {};
};

extern "C" void decoder_error(png_structp png, png_const_charp text) {
    const detail::PngLibrary& lib = detail::loaded_png_library();
    auto* job = static_cast<PngDecodeJob*>(lib.png_get_error_ptr(png));
    std::snprintf(job->message, sizeof(job->message), "%s", text != nullptr ? text : "unknown error");
    lib.png_longjmp(png, 1);
}

// libpng's default prints warnings (e.g. a bad CRC in an ancillary chunk,
// which it then skips) to stderr; the library never does.
extern "C" void decoder_warning(png_structp, png_const_charp) {}

extern "C" void decoder_read(png_structp png, png_bytep out, png_size_t length) {
    const detail::PngLibrary& lib = detail::loaded_png_library();
    auto* job = static_cast<PngDecodeJob*>(lib.png_get_io_ptr(png));
    if (job->size - job->read_at < length) {
        lib.png_error(png, "the image ends early");
    }
    std::memcpy(out, job->data + job->read_at, length);
    job->read_at += length;
}

void destroy(PngDecodeJob& job) {
    if (job.png != nullptr) {
        job.lib->png_destroy_read_struct(&job.png, job.info != nullptr ? &job.info : nullptr, nullptr);
        job.png = nullptr;
        job.info = nullptr;
    }
}

// Reads the header and sets up the transformations to one of the output
// formats. On false, job.message says why and libpng is released. No C++
// object with a destructor lives here: libpng's errors longjmp back into it.
bool read_header(PngDecodeJob& job) {
    const detail::PngLibrary& lib = *job.lib;
    job.png = lib.png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, decoder_error, decoder_warning);
    if (job.png == nullptr) {
        std::snprintf(job.message, sizeof(job.message), "libpng could not create its read structure");
        return false;
    }
    job.info = lib.png_create_info_struct(job.png);
    if (job.info == nullptr) {
        destroy(job);
        std::snprintf(job.message, sizeof(job.message), "libpng could not create its info structure");
        return false;
    }
    // png_jmpbuf(job.png), spelled out: the macro would call libpng directly.
    if (setjmp(*lib.png_set_longjmp_fn(job.png, longjmp, sizeof(jmp_buf))) != 0) {
        destroy(job);
        return false;
    }
    lib.png_set_read_fn(job.png, &job, decoder_read);
    // The sizes raw caps carry; anything larger is refused before any
    // memory is spent on it.
    lib.png_set_user_limits(job.png, 65535, 65535);
    lib.png_read_info(job.png, job.info);

    const int color_type = lib.png_get_color_type(job.png, job.info);
    const int depth = lib.png_get_bit_depth(job.png, job.info);
    const bool has_trns = lib.png_get_valid(job.png, job.info, PNG_INFO_tRNS) != 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        lib.png_set_palette_to_rgb(job.png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) {
        lib.png_set_expand_gray_1_2_4_to_8(job.png);
    }
    if (has_trns) {
        lib.png_set_tRNS_to_alpha(job.png);
    }
    const bool gray = (color_type & PNG_COLOR_MASK_COLOR) == 0;
    const bool alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 || has_trns;
    if (depth == 16) {
        if (gray && !alpha) {
            lib.png_set_swap(job.png); // GRAY16_LE
        } else {
            lib.png_set_strip_16(job.png);
        }
    }
    if (gray && alpha) {
        lib.png_set_gray_to_rgb(job.png);
    }
    lib.png_set_interlace_handling(job.png);
    lib.png_read_update_info(job.png, job.info);
    job.width = lib.png_get_image_width(job.png, job.info);
    job.height = lib.png_get_image_height(job.png, job.info);
    job.channels = lib.png_get_channels(job.png, job.info);
    job.bit_depth = lib.png_get_bit_depth(job.png, job.info);
    return true;
}

// Decodes the pixels into job.rows and releases libpng. On false,
// job.message says why. Same rule as read_header: plain data only.
bool read_pixels(PngDecodeJob& job) {
    const detail::PngLibrary& lib = *job.lib;
    // png_jmpbuf(job.png), as in read_header.
    if (setjmp(*lib.png_set_longjmp_fn(job.png, longjmp, sizeof(jmp_buf))) != 0) {
        destroy(job);
        return false;
    }
    lib.png_read_image(job.png, job.rows);
    lib.png_read_end(job.png, nullptr);
    destroy(job);
    return true;
}

std::optional<VideoFormat> format_of(int channels, int bit_depth) {
    if (bit_depth == 16 && channels == 1) {
        return VideoFormat::gray16_le;
    }
    if (bit_depth != 8) {
        return std::nullopt;
    }
    switch (channels) {
    case 1:
        return VideoFormat::gray8;
    case 3:
        return VideoFormat::rgb;
    case 4:
        return VideoFormat::rgba;
    default:
        return std::nullopt;
    }
}

constexpr std::string_view png_caps = "image/png, width=(int)[ 1, 65535 ], height=(int)[ 1, 65535 ], "
                                      "framerate=(fraction)[ 0/1, 2147483647/1 ]";
constexpr std::string_view png_raw_caps = "video/x-raw, format=(string){ RGBA, RGB, GRAY8, GRAY16_LE }, "
                                          "width=(int)[ 1, 65535 ], height=(int)[ 1, 65535 ], "
                                          "framerate=(fraction)[ 0/1, 2147483647/1 ]";

class PngDec final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "pngdec",
        .klass = "Codec/Decoder/Image",
        .summary = "Decode a png video frame to a raw image",
        .description =
            "Decodes PNG images into raw video with libpng, one frame per image. The input need not be split into "
            "images (GStreamer's pngdec needs pngparse or a filesrc blocksize for that): bytes are gathered until "
            "an image is complete up to its IEND chunk, so a whole file read by filesrc decodes as it is, and "
            "several images in a row decode one after the other. The output is RGBA, RGB, GRAY8 or GRAY16_LE as "
            "the image has it: palettes are expanded (to RGBA with transparency), gray with alpha becomes RGBA, "
            "16-bit colour keeps its high 8 bits. Width and height come from the image, the frame rate from the "
            "input caps (0/1 when they have none); a change of size or format sends new caps. Corrupt data (bad "
            "signature, CRC error, an image cut short at the end of stream) is an error naming the image.",
        .rank = rank_primary};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.processing = ProcessingHint::cpu_bound;
        h.uses_native_code = true;
        // libpng parses bytes from outside the pipeline.
        h.crash_safe = false;
        return h;
    }();

    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static(png_caps)},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(png_raw_caps)}};
    }

    // PNG caps with a size or rate narrow the raw caps to match; raw caps
    // leave the PNG side open.
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
        auto loaded = detail::png_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        reset();
        return {};
    }

    Result<void> stop() override {
        reset();
        input_caps_ = Caps::empty();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            // The output caps go out with the first image, once its size
            // and format are known.
            input_caps_ = *event.caps_value();
            return true;
        case EventType::eos:
            if (!pending_.empty()) {
                context().error(Error(Errc::corrupt, fmt::format("{}: image {} is truncated: the stream ended after "
                                                                 "{} bytes of it",
                                                                 name(), images_, pending_.size()))
                                    .at_pad("sink"));
                pending_.clear();
                scan_from_ = 0;
                return false;
            }
            break;
        case EventType::flush_stop:
            pending_.clear();
            scan_from_ = 0;
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
        const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(buffer.data().data()), buffer.size());
        if (pending_.empty()) {
            // Images that lie whole in the buffer decode from it, without a
            // copy; only a partial one at the end is kept.
            pending_meta_ = buffer.meta();
            std::size_t at = 0;
            while (at < bytes.size()) {
                const ImageExtent extent = find_image(bytes.subspan(at));
                if (extent.kind == ImageExtent::Kind::invalid) {
                    return invalid(extent);
                }
                if (extent.kind == ImageExtent::Kind::incomplete) {
                    pending_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end());
                    scan_from_ = extent.next;
                    return Flow::ok;
                }
                const Flow f = decode(bytes.subspan(at, extent.size), buffer.meta());
                if (f != Flow::ok) {
                    return f;
                }
                at += extent.size;
            }
            return Flow::ok;
        }
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        std::size_t at = 0;
        Flow f = Flow::ok;
        while (at < pending_.size()) {
            const ImageExtent extent = find_image(std::span(pending_).subspan(at), at == 0 ? scan_from_ : 0);
            if (extent.kind == ImageExtent::Kind::invalid) {
                pending_.clear();
                scan_from_ = 0;
                return invalid(extent);
            }
            if (extent.kind == ImageExtent::Kind::incomplete) {
                scan_from_ = extent.next;
                break;
            }
            scan_from_ = 0;
            // The image started in an earlier buffer: it has that buffer's
            // timestamps; later images in this one have this one's.
            f = decode(std::span(pending_).subspan(at, extent.size), pending_meta_);
            pending_meta_ = buffer.meta();
            at += extent.size;
            if (f != Flow::ok) {
                break;
            }
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(at));
        if (f != Flow::ok) {
            pending_.clear();
            scan_from_ = 0;
        }
        return f;
    }

private:
    void reset() {
        pending_.clear();
        scan_from_ = 0;
        out_info_.reset();
        images_ = 0;
    }

    Flow invalid(const ImageExtent& extent) {
        return context().error(
            Error(Errc::corrupt, fmt::format("{}: image {}: {}", name(), images_, extent.problem)).at_pad("sink"));
    }

    Flow corrupt(std::string_view what, const char* libpng_message) {
        return context().error(
            Error(Errc::corrupt, fmt::format("{}: image {}: {}: libpng: {}", name(), images_, what, libpng_message))
                .at_pad("sink"));
    }

    Flow decode(std::span<const std::uint8_t> image, const Metadata& meta) {
        PngDecodeJob job;
        job.lib = lib_;
        job.data = image.data();
        job.size = image.size();
        if (!read_header(job)) {
            return corrupt("could not read the header", job.message);
        }
        const auto format = format_of(job.channels, job.bit_depth);
        if (!format) {
            destroy(job);
            return context().error(
                Error(Errc::unsupported, fmt::format("{}: image {}: no raw format for {} channels of {} bits", name(),
                                                     images_, job.channels, job.bit_depth))
                    .at_pad("sink"));
        }
        if (const Flow f = update_caps(*format, job.width, job.height); f != Flow::ok) {
            destroy(job);
            return f;
        }
        const VideoInfo& vi = *out_info_;
        auto out = context().allocate(vi.size());
        if (!out) {
            destroy(job);
            return context().error(std::move(out.error()));
        }
        auto frame = WritableVideoFrame::map(vi, *out);
        if (!frame) {
            destroy(job);
            return context().error(std::move(frame.error()));
        }
        rows_.resize(vi.height());
        for (std::uint32_t y = 0; y < vi.height(); ++y) {
            rows_[y] = reinterpret_cast<png_bytep>(frame->row(0, y).data());
        }
        job.rows = rows_.data();
        if (!read_pixels(job)) {
            return corrupt("could not decode the pixels", job.message);
        }
        ++images_;
        Metadata& m = out->meta();
        m.set_pts(meta.pts());
        m.set_dts(meta.dts());
        m.set_duration(meta.duration());
        return src_->push(std::move(*out));
    }

    Flow update_caps(VideoFormat format, std::uint32_t width, std::uint32_t height) {
        if (out_info_ && out_info_->format() == format && out_info_->width() == width &&
            out_info_->height() == height) {
            return Flow::ok;
        }
        auto vi = VideoInfo::make(format, width, height);
        if (!vi) {
            return context().error(
                Error(Errc::unsupported, fmt::format("{}: image {}: {}", name(), images_, vi.error().message())));
        }
        detail::set_rate_and_aspect_of(*vi, input_caps_);
        out_info_ = std::move(*vi);
        const Caps caps = out_info_->to_caps();
        PARALLAX_INFO(pngdec_log, "{}: output caps {}", name(), caps.to_string());
        if (!src_->push_event(Event::caps(caps))) {
            return context().error(
                Error(Errc::not_negotiated, fmt::format("{}: downstream refused {}", name(), caps.to_string()))
                    .at_pad("src"));
        }
        return Flow::ok;
    }

    Pad* src_ = nullptr;
    const detail::PngLibrary* lib_ = nullptr; // from start()
    Caps input_caps_ = Caps::empty();
    std::optional<VideoInfo> out_info_;
    std::vector<std::uint8_t> pending_; // the start of an image not yet complete
    std::size_t scan_from_ = 0;         // where find_image() resumes in pending_
    Metadata pending_meta_;             // the metadata of the buffer it started in
    std::vector<png_bytep> rows_;
    std::uint64_t images_ = 0;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::PngDec);
