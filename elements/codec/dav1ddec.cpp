// dav1ddec: decodes AV1 with dav1d. Input temporal units (or frames) go to
// dav1d without a copy: dav1d reads the arena slot and drops its reference
// when done. dav1d decodes into arena slots too (its picture allocator):
// each picture goes downstream as it is, its plane layout (padded to 128
// rows and columns, which no raw caps describe) in a VideoMeta, when an
// allocation query finds that downstream understands one; otherwise it is
// copied once into a buffer of the caps' layout. The output caps come from the
// pictures themselves: size, format (I420, Y42B, Y444, GRAY8 and the 10-
// and 12-bit forms of the three YUV samplings)
// and, when the sequence header describes them, colorimetry and chroma site;
// a picture of another size or format sends new caps first.

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>
#include <parallax/video/video_meta.hpp>

#include "codec/dav1d_library.hpp"
#include "codec/decoded_picture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>

namespace parallax {
namespace {

LogCategory dav1ddec_log("dav1ddec", "dav1ddec: AV1 decoding with dav1d");

// dav1d's error codes are negative errno values.
std::string dav1d_error_text(int code) {
    return fmt::format("{} ({})", std::strerror(-code), code);
}

// The raw format of a picture's layout and depth; nullopt when no raw
// format of this build holds it.
std::optional<VideoFormat> format_of(Dav1dPixelLayout layout, int bpc) {
    if (bpc == 8) {
        switch (layout) {
        case DAV1D_PIXEL_LAYOUT_I400:
            return VideoFormat::gray8;
        case DAV1D_PIXEL_LAYOUT_I420:
            return VideoFormat::i420;
        case DAV1D_PIXEL_LAYOUT_I422:
            return VideoFormat::y42b;
        case DAV1D_PIXEL_LAYOUT_I444:
            return VideoFormat::y444;
        }
    }
    if (bpc == 10 || bpc == 12) {
        const bool ten = bpc == 10;
        switch (layout) {
        case DAV1D_PIXEL_LAYOUT_I400:
            return std::nullopt; // no raw format holds 10- or 12-bit luma alone in the low bits
        case DAV1D_PIXEL_LAYOUT_I420:
            return ten ? VideoFormat::i420_10le : VideoFormat::i420_12le;
        case DAV1D_PIXEL_LAYOUT_I422:
            return ten ? VideoFormat::i422_10le : VideoFormat::i422_12le;
        case DAV1D_PIXEL_LAYOUT_I444:
            return ten ? VideoFormat::y444_10le : VideoFormat::y444_12le;
        }
    }
    return std::nullopt;
}

std::string_view layout_name(Dav1dPixelLayout layout) {
    switch (layout) {
    case DAV1D_PIXEL_LAYOUT_I400:
        return "4:0:0";
    case DAV1D_PIXEL_LAYOUT_I420:
        return "4:2:0";
    case DAV1D_PIXEL_LAYOUT_I422:
        return "4:2:2";
    case DAV1D_PIXEL_LAYOUT_I444:
        return "4:4:4";
    }
    return "?";
}

// The raw formats an AV1 stream of these caps decodes to (every one when the
// caps do not say).
CapsValue formats_for(const Structure& s) {
    const auto depth = s.get_int("bit-depth-luma");
    const auto chroma = s.get_string("chroma-format");
    CapsValue::List formats;
    auto add = [&](std::string_view name, int bits, std::string_view sampling) {
        if ((!depth || *depth == bits) && (!chroma || *chroma == sampling)) {
            formats.emplace_back(name);
        }
    };
    add("I420", 8, "4:2:0");
    add("Y42B", 8, "4:2:2");
    add("Y444", 8, "4:4:4");
    add("GRAY8", 8, "4:0:0");
    add("I420_10LE", 10, "4:2:0");
    add("I422_10LE", 10, "4:2:2");
    add("Y444_10LE", 10, "4:4:4");
    add("I420_12LE", 12, "4:2:0");
    add("I422_12LE", 12, "4:2:2");
    add("Y444_12LE", 12, "4:4:4");
    if (formats.empty()) {
        return CapsValue("none");
    }
    if (formats.size() == 1) {
        return formats.front();
    }
    return CapsValue::list(std::move(formats)).value();
}

constexpr std::string_view raw_caps = "video/x-raw, format=(string){ I420, Y42B, Y444, GRAY8, I420_10LE, I422_10LE, "
                                      "Y444_10LE, I420_12LE, I422_12LE, Y444_12LE }, "
                                      "width=(int)[ 1, 65536 ], height=(int)[ 1, 65536 ], "
                                      "framerate=(fraction)[ 0/1, 2147483647/1 ]";
constexpr std::string_view av1_caps = "video/x-av1, stream-format=(string)obu-stream, alignment=(string){ tu, frame }";

// Where dav1d's allocator puts the planes of a picture, from the slot's
// first 64-byte-aligned byte.
constexpr std::size_t no_plane = std::numeric_limits<std::size_t>::max();
struct PictureLayout {
    std::array<std::size_t, 3> offsets{};
    std::array<std::ptrdiff_t, 2> strides{}; // luma, chroma
    std::size_t bytes = 0;
};

PictureLayout picture_layout(const Dav1dPictureParameters& p) {
    const std::size_t sample_shift = p.bpc > 8 ? 1 : 0;
    const std::size_t width = (static_cast<std::size_t>(p.w) + 127) & ~std::size_t{127};
    const std::size_t height = (static_cast<std::size_t>(p.h) + 127) & ~std::size_t{127};
    const bool chroma = p.layout != DAV1D_PIXEL_LAYOUT_I400;
    const std::size_t x_shift = p.layout == DAV1D_PIXEL_LAYOUT_I444 ? 0 : 1;
    const std::size_t y_shift = p.layout == DAV1D_PIXEL_LAYOUT_I420 ? 1 : 0;
    const auto unaliased = [](std::size_t stride) {
        return stride % 1024 == 0 ? stride + DAV1D_PICTURE_ALIGNMENT : stride;
    };
    PictureLayout l;
    const std::size_t luma_stride = unaliased(width << sample_shift);
    const std::size_t chroma_stride = chroma ? unaliased((width >> x_shift) << sample_shift) : 0;
    const std::size_t luma_bytes = luma_stride * height;
    const std::size_t chroma_bytes = chroma_stride * (height >> y_shift);
    l.strides = {static_cast<std::ptrdiff_t>(luma_stride), static_cast<std::ptrdiff_t>(chroma_stride)};
    l.offsets = {0, chroma ? luma_bytes : no_plane, chroma ? luma_bytes + chroma_bytes : no_plane};
    l.bytes = luma_bytes + 2 * chroma_bytes;
    return l;
}

// A picture's slot while dav1d or a buffer downstream holds it.
struct PictureSlot {
    Buffer buffer;
    std::size_t skip = 0; // bytes before the first aligned one
    PictureLayout layout;
};

class Dav1dDec final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "dav1ddec",
        .klass = "Codec/Decoder/Video",
        .summary = "Decodes AV1 video with dav1d",
        .description =
            "Decodes an AV1 OBU stream (temporal units or frames, e.g. from av1parse, ivfparse or qtdemux) into raw "
            "video: I420, Y42B, Y444 and GRAY8 for 8-bit streams, I420_10LE, I422_10LE and Y444_10LE for 10-bit "
            "and I420_12LE, I422_12LE and Y444_12LE for 12-bit ones (10- and 12-bit monochrome has no raw format "
            "here and is an error naming it). The output caps "
            "follow the pictures: a change of size or format mid-stream sends new caps before the first picture "
            "that has them. Timestamps go through the decoder with each picture. n-threads=0 lets dav1d use "
            "every core; max-frame-delay bounds the pictures in flight (1: lowest latency). Pictures are decoded "
            "into shared memory and go downstream without a copy, in dav1d's padded layout described by a "
            "VideoMeta, where an allocation query finds that downstream reads one (fakesink, videoconvert, "
            "videoscale, videocrop, videoflip, through queue, identity and tee); elsewhere each is copied once into "
            "the layout of the caps.",
        .rank = rank_primary};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h = ExecutionHints::cpu_intensive();
        h.uses_native_code = true;
        return h;
    }();

    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static(av1_caps)},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(raw_caps)}};
    }

    ~Dav1dDec() override { close_decoder(); }

    // AV1 caps with a size, depth or sampling narrow the raw caps to match;
    // raw caps leave the AV1 side open.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (from.direction() == PadDirection::src || caps.is_any() || caps.is_empty()) {
            return to.pad_template().caps;
        }
        Caps out = Caps::empty();
        for (std::size_t i = 0; i < caps.size(); ++i) {
            const Structure& in = caps.structure(i);
            Structure s("video/x-raw");
            s.set("format", formats_for(in));
            for (const char* field : {"width", "height", "framerate", "pixel-aspect-ratio"}) {
                if (const CapsValue* v = in.get(field)) {
                    s.set(field, *v);
                }
            }
            out.append(std::move(s));
        }
        return intersect(out, to.pad_template().caps);
    }

protected:
    void init() override {
        sink_ = pad("sink");
        src_ = pad("src");
    }

    Result<void> start() override {
        auto loaded = detail::dav1d_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        out_info_.reset();
        last_seq_ = nullptr;
        return open_decoder();
    }

    Result<void> stop() override {
        close_decoder();
        input_caps_ = Caps::empty();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            // The output caps go out with the first picture, once its size
            // and format are known.
            input_caps_ = *event.caps_value();
            return true;
        case EventType::eos:
            if (decoder_ != nullptr) {
                static_cast<void>(drain());
            }
            break;
        case EventType::flush_stop:
            if (decoder_ != nullptr) {
                lib_->dav1d_flush(decoder_);
            }
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
        // dav1d reads the bytes where they are; the heap copy of the Buffer
        // keeps the slot until dav1d says it is done with them.
        auto* held = new Buffer(std::move(buffer));
        Dav1dData data{};
        const int wrapped = lib_->dav1d_data_wrap(
            &data, reinterpret_cast<const std::uint8_t*>(held->data().data()), held->size(),
            [](const std::uint8_t*, void* cookie) { delete static_cast<Buffer*>(cookie); }, held);
        if (wrapped < 0) {
            delete held;
            return context().error(Error(Errc::failed, fmt::format("{}: dav1d could not take the buffer: {}", name(),
                                                                   dav1d_error_text(wrapped))));
        }
        const Metadata& m = held->meta();
        data.m.timestamp = m.pts().is_valid() ? static_cast<std::int64_t>(m.pts().ns()) : INT64_MIN;
        data.m.duration = m.duration().is_valid() ? static_cast<std::int64_t>(m.duration().ns()) : 0;
        data.m.offset = static_cast<std::int64_t>(m.byte_offset());
        data.m.size = held->size();

        Flow flow = Flow::ok;
        while (data.sz > 0) {
            const int sent = lib_->dav1d_send_data(decoder_, &data);
            if (sent < 0 && sent != DAV1D_ERR(EAGAIN)) {
                lib_->dav1d_data_unref(&data);
                return decode_error(sent);
            }
            // EAGAIN: dav1d holds a picture to give back first; so may it
            // after taking the data. One picture per send: see
            // output_picture().
            flow = output_picture();
            if (flow != Flow::ok) {
                lib_->dav1d_data_unref(&data);
                return flow;
            }
        }
        return flow;
    }

private:
    Result<void> open_decoder() {
        close_decoder();
        Dav1dSettings settings;
        lib_->dav1d_default_settings(&settings);
        settings.n_threads = static_cast<int>(n_threads_.get());
        settings.max_frame_delay = std::max(0, max_frame_delay_.get());
        settings.apply_grain = apply_grain_.get() ? 1 : 0;
        settings.inloop_filters = inloop_filters_.get() ? DAV1D_INLOOPFILTER_ALL : DAV1D_INLOOPFILTER_NONE;
        settings.logger.callback = nullptr; // dav1d's own messages: none on stderr
        settings.allocator.cookie = this;
        settings.allocator.alloc_picture_callback = &Dav1dDec::alloc_picture;
        settings.allocator.release_picture_callback = &Dav1dDec::release_picture;
        if (const int r = lib_->dav1d_open(&decoder_, &settings); r < 0) {
            decoder_ = nullptr;
            return fail(Error(Errc::failed, fmt::format("{}: dav1d_open failed: {}", name(), dav1d_error_text(r)))
                            .at_element(name()));
        }
        PARALLAX_DEBUG(dav1ddec_log, "{}: dav1d {} open, {} threads, frame delay {}", name(), lib_->dav1d_version(),
                       settings.n_threads, settings.max_frame_delay);
        return {};
    }

    // dav1d's picture allocator: each picture is an arena slot, laid out as
    // dav1d's own allocator would (planes padded to 128 columns and rows,
    // strides that are not multiples of 1024 bytes, which make rows alias in
    // the cache), so that it can go downstream without a copy. Called on
    // the streaming thread.
    static int alloc_picture(Dav1dPicture* pic, void* cookie) {
        auto* self = static_cast<Dav1dDec*>(cookie);
        const PictureLayout layout = picture_layout(pic->p);
        auto buffer = self->context().allocate(layout.bytes + 2 * DAV1D_PICTURE_ALIGNMENT);
        if (!buffer) {
            PARALLAX_WARNING(dav1ddec_log, "{}: no buffer for a {}x{} picture: {}", self->name(), pic->p.w, pic->p.h,
                             buffer.error().message());
            return DAV1D_ERR(ENOMEM);
        }
        auto bytes = buffer->map_writable(); // a new slot: ours alone, no copy
        if (!bytes) {
            return DAV1D_ERR(ENOMEM);
        }
        std::byte* base = bytes->data();
        const std::size_t skip = (DAV1D_PICTURE_ALIGNMENT - reinterpret_cast<std::uintptr_t>(base) % 64) % 64;
        auto* held = new (std::nothrow) PictureSlot{std::move(*buffer), skip, layout};
        if (held == nullptr) {
            return DAV1D_ERR(ENOMEM);
        }
        for (std::size_t plane = 0; plane < 3; ++plane) {
            pic->data[plane] = layout.offsets[plane] == no_plane ? nullptr : base + skip + layout.offsets[plane];
        }
        pic->stride[0] = layout.strides[0];
        pic->stride[1] = layout.strides[1];
        pic->allocator_data = held;
        return 0;
    }

    // May run on one of dav1d's threads: dropping a reference is safe
    // anywhere.
    static void release_picture(Dav1dPicture* pic, void*) { delete static_cast<PictureSlot*>(pic->allocator_data); }

    void close_decoder() {
        if (decoder_ != nullptr) {
            lib_->dav1d_close(&decoder_);
            decoder_ = nullptr;
        }
    }

    Flow decode_error(int code) {
        Dav1dDataProps props{};
        std::string where;
        if (lib_->dav1d_get_decode_error_data_props(decoder_, &props) == 0) {
            if (props.timestamp != INT64_MIN) {
                where = fmt::format(" in the data of pts {}",
                                    ClockTime::from_ns(static_cast<std::uint64_t>(props.timestamp)).to_string());
            }
            lib_->dav1d_data_props_unref(&props);
        }
        return context().error(Error(Errc::corrupt, fmt::format("{}: dav1d could not decode the stream{}: {}", name(),
                                                                where, dav1d_error_text(code)))
                                   .at_pad("sink"));
    }

    // Pushes the picture dav1d has ready, if any (`pushed` says whether
    // there was one): one call of dav1d_get_picture() per
    // dav1d_send_data(). A second call in a row is dav1d's drain: with
    // frame threads it waits for the oldest frame in flight to finish, and
    // while the streaming thread waits there it sends no new data, so fewer
    // frames decode side by side (the dav1d program's loop makes the same
    // one call per send).
    Flow output_picture(bool* pushed = nullptr) {
        Dav1dPicture picture{};
        const int got = lib_->dav1d_get_picture(decoder_, &picture);
        if (got == DAV1D_ERR(EAGAIN)) {
            return Flow::ok;
        }
        if (got < 0) {
            return decode_error(got);
        }
        if (pushed != nullptr) {
            *pushed = true;
        }
        const Flow f = push_picture(picture);
        lib_->dav1d_picture_unref(&picture);
        return f;
    }

    // At EOS: what dav1d still holds comes out. Every call of
    // dav1d_get_picture() after the first in a row waits for the next frame
    // in flight, so finding none on any call but the first means none is
    // left.
    Flow drain() {
        for (bool first = true;; first = false) {
            bool pushed = false;
            if (const Flow f = output_picture(&pushed); f != Flow::ok) {
                return f;
            }
            if (!pushed && !first) {
                return Flow::ok;
            }
        }
    }

    // The raw layout of `picture`, with the input's rate and aspect ratio
    // and the stream's colour description.
    Result<VideoInfo> info_for(const Dav1dPicture& picture) const {
        const auto format = format_of(picture.p.layout, picture.p.bpc);
        if (!format) {
            return fail(Error(Errc::unsupported,
                              fmt::format("{}: the stream is {} with {} bits per sample; dav1ddec outputs 8-bit "
                                          "4:0:0, 4:2:0, 4:2:2 and 4:4:4, and 10- and 12-bit 4:2:0, 4:2:2 "
                                          "and 4:4:4",
                                          name(), layout_name(picture.p.layout), picture.p.bpc))
                            .at_pad("src"));
        }
        auto vi =
            VideoInfo::make(*format, static_cast<std::uint32_t>(picture.p.w), static_cast<std::uint32_t>(picture.p.h));
        if (!vi) {
            return fail(std::move(vi.error()));
        }
        detail::set_rate_and_aspect_of(*vi, input_caps_);
        if (const Dav1dSequenceHeader* seq = picture.seq_hdr; seq != nullptr && *format != VideoFormat::gray8) {
            VideoColorimetry c = vi->colorimetry();
            c.range = seq->color_range != 0 ? VideoColorRange::full : VideoColorRange::limited;
            if (seq->color_description_present != 0) {
                // dav1d's enumerations are the H.273 code points.
                c.primaries = video_color_primaries_from_iso(static_cast<unsigned>(seq->pri));
                c.transfer = video_transfer_function_from_iso(static_cast<unsigned>(seq->trc));
                if (const VideoColorMatrix m = video_color_matrix_from_iso(static_cast<unsigned>(seq->mtrx));
                    m != VideoColorMatrix::unknown) {
                    c.matrix = m;
                }
            }
            vi->set_colorimetry(c);
            if (seq->chr == DAV1D_CHR_VERTICAL) {
                vi->set_chroma_site(VideoChromaSite::mpeg2);
            } else if (seq->chr == DAV1D_CHR_COLOCATED) {
                vi->set_chroma_site(VideoChromaSite::cosited);
            }
        }
        return vi;
    }

    Flow push_picture(const Dav1dPicture& picture) {
        if (!out_info_ || out_info_->width() != static_cast<std::uint32_t>(picture.p.w) ||
            out_info_->height() != static_cast<std::uint32_t>(picture.p.h) ||
            out_info_->format() != format_of(picture.p.layout, picture.p.bpc).value_or(VideoFormat::i420) ||
            picture.seq_hdr != last_seq_) {
            auto vi = info_for(picture);
            if (!vi) {
                return context().error(std::move(vi.error()));
            }
            last_seq_ = picture.seq_hdr;
            if (Caps caps = vi->to_caps(); !out_info_ || caps != out_caps_) {
                out_info_ = std::move(*vi);
                out_caps_ = std::move(caps);
                PARALLAX_INFO(dav1ddec_log, "{}: output caps {}", name(), out_caps_.to_string());
                if (!src_->push_event(Event::caps(out_caps_))) {
                    return context().error(Error(Errc::not_negotiated, fmt::format("{}: downstream refused {}", name(),
                                                                                   out_caps_.to_string()))
                                               .at_pad("src"));
                }
            }
        }
        auto out = picture_buffer(picture);
        if (!out) {
            return context().error(std::move(out.error()));
        }
        Metadata& m = out->meta();
        if (picture.m.timestamp != INT64_MIN) {
            m.set_pts(ClockTime::from_ns(static_cast<std::uint64_t>(picture.m.timestamp)));
        }
        if (picture.m.duration > 0) {
            m.set_duration(ClockTime::from_ns(static_cast<std::uint64_t>(picture.m.duration)));
        }
        return src_->push(std::move(*out));
    }

    // The picture's own slot when downstream reads a VideoMeta (asked at
    // every picture: a branch linked meanwhile may not), else a copy in the
    // layout of the caps.
    Result<Buffer> picture_buffer(const Dav1dPicture& picture) {
        const auto* slot = static_cast<const PictureSlot*>(picture.allocator_data);
        Query q = Query::allocation(out_caps_);
        if (slot != nullptr && src_->peer_query(q) && q.has_meta(video_meta_api)) {
            Buffer out = slot->buffer;
            VideoMeta meta;
            meta.format = out_info_->format();
            meta.width = out_info_->width();
            meta.height = out_info_->height();
            for (std::size_t plane = 0; plane < out_info_->n_planes(); ++plane) {
                meta.offsets[plane] = slot->skip + slot->layout.offsets[plane];
                meta.strides[plane] = static_cast<std::size_t>(slot->layout.strides[plane == 0 ? 0 : 1]);
            }
            // Checked as a reader will check it: a layout that does not hold
            // the frame is a bug here, not downstream.
            if (auto laid = video_info_with_meta(*out_info_, meta, out.size()); !laid) {
                return fail(
                    Error(laid.error().code(), fmt::format("{}: picture layout: {}", name(), laid.error().message())));
            }
            set_video_meta(out.meta(), meta);
            zero_copy_pictures_.set(++zero_copy_count_);
            return out;
        }
        const std::size_t sample_bytes = picture.p.bpc > 8 ? 2 : 1;
        std::array<detail::PicturePlane, 3> planes{};
        for (std::size_t plane = 0; plane < planes.size(); ++plane) {
            planes[plane] = {static_cast<const std::byte*>(picture.data[plane]), picture.stride[plane == 0 ? 0 : 1],
                             static_cast<std::size_t>(plane == 0 ? picture.p.w : chroma_width(picture)) * sample_bytes};
        }
        copied_pictures_.set(++copied_count_);
        return detail::copy_picture(context(), *out_info_, planes);
    }

    static int chroma_width(const Dav1dPicture& picture) {
        return picture.p.layout == DAV1D_PIXEL_LAYOUT_I444 ? picture.p.w : (picture.p.w + 1) / 2;
    }

    Pad* sink_ = nullptr;
    Pad* src_ = nullptr;
    const detail::Dav1dLibrary* lib_ = nullptr; // from start()
    Dav1dContext* decoder_ = nullptr;
    Caps input_caps_ = Caps::empty();
    std::optional<VideoInfo> out_info_;
    Caps out_caps_ = Caps::empty();
    std::uint64_t zero_copy_count_ = 0;
    std::uint64_t copied_count_ = 0;
    const Dav1dSequenceHeader* last_seq_ = nullptr;

    Property<std::uint32_t> n_threads_{this, "n-threads", 0, "Threads dav1d decodes with (0 = one per core)", {0, 256}};
    Property<std::int32_t> max_frame_delay_{
        this,
        "max-frame-delay",
        -1,
        "Pictures dav1d may hold before it gives one out (1 = lowest latency, -1 or 0 = chosen from n-threads)",
        {-1, 256}};
    Property<std::uint64_t> zero_copy_pictures_{
        this, "pictures-zero-copy", 0, "Pictures sent downstream in dav1d's own layout (with a VideoMeta)",
        {},   Mutability::read_only};
    Property<std::uint64_t> copied_pictures_{this,
                                             "pictures-copied",
                                             0,
                                             "Pictures copied into the layout of the caps because downstream does not "
                                             "read a VideoMeta",
                                             {},
                                             Mutability::read_only};
    Property<bool> apply_grain_{this, "apply-grain", true, "Apply the film grain the stream describes"};
    Property<bool> inloop_filters_{this, "inloop-filters", true,
                                   "Run the in-loop filters (deblocking, CDEF, loop restoration); off is faster and "
                                   "not conformant"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Dav1dDec);
