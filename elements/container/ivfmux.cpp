// ivfmux: writes AV1, VP8 or VP9 frames into the IVF container: the 32-byte
// file header once, then a 12-byte frame header before each frame.
//
// The timebase is the inverse of the framerate of the caps (1/1000000 when
// the caps give none), so a fixed-rate stream gets timestamps 0, 1, 2...
//
// The frame count of the file header is known only at the end. At EOS the
// muxer asks downstream whether it can seek in bytes (the seeking query, as
// GStreamer's muxers do) and, when it can, sends a byte segment from 0 and
// the file header again with the count: filesink or fdsink on a file seeks
// back and overwrites the first 32 bytes. Into a pipe, or where nobody
// answers, the header stays as it is, with count 0, which the readers of
// IVF (dav1d, aomdec, ffmpeg) accept.

#include <parallax/container/ivf.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

namespace parallax {
namespace {

class IvfMux final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "ivfmux",
        .klass = "Codec/Muxer",
        .summary = "Muxes AV1, VP8 or VP9 frames into IVF",
        .description = "Writes the IVF container: a 32-byte file header (fourcc from the caps, width, height, "
                       "timebase the inverse of the framerate or 1/1000000), then a 12-byte header (size, "
                       "timestamp) before each frame. At EOS, when downstream can seek in bytes (seeking query), a "
                       "byte segment from 0 and the file header again with the frame count follow, which "
                       "filesink writes over the first header; elsewhere (a pipe) the count stays 0.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always,
                 Caps::parse_static("video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu; "
                                    "video/x-vp8; video/x-vp9")},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static("video/x-ivf")}};
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        reset_stream();
        return {};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return take_caps(*event.caps_value());
        case EventType::segment: {
            // A byte stream from position 0.
            StreamSegment bytes;
            bytes.format = Format::bytes;
            if (!caps_sent_) {
                send_caps();
            }
            return src_->push_event(Event::segment(bytes));
        }
        case EventType::eos:
            if (header_written_) {
                rewrite_header();
            }
            return Element::sink_event(pad, std::move(event));
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (!header_) {
            return context().error(
                Error(Errc::not_negotiated, "a frame arrived before caps: the fourcc of the file is unknown"));
        }
        if (!header_written_) {
            if (!caps_sent_) {
                send_caps();
            }
            if (const Flow f = push_header(); f != Flow::ok) {
                return f;
            }
            header_written_ = true;
            offset_ = ivf::file_header_size;
        }
        if (buffer.size() > 0xFFFFFFFFU) {
            return context().error(
                Error(Errc::out_of_range, fmt::format("frame {} has {} bytes: IVF frames are limited to 2^32 - 1",
                                                      frames_, buffer.size())));
        }
        const std::uint64_t ts = timestamp_of(buffer.meta().pts());
        const auto fh = ivf::write_frame_header({static_cast<std::uint32_t>(buffer.size()), ts});
        auto out = context().allocate(ivf::frame_header_size + buffer.size());
        if (!out) {
            return context().error(out.error());
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            return context().error(bytes.error());
        }
        std::memcpy(bytes->data(), fh.data(), fh.size());
        if (!buffer.empty()) {
            std::memcpy(bytes->data() + fh.size(), buffer.data().data(), buffer.size());
        }
        Metadata& m = out->meta();
        m.set_pts(buffer.meta().pts());
        m.set_duration(buffer.meta().duration());
        m.set_byte_offset(offset_);
        m.set_flags(buffer.meta().flags() & (BufferFlags::keyframe | BufferFlags::delta));
        offset_ += out->size();
        ++frames_;
        return src_->push(std::move(*out));
    }

private:
    bool take_caps(const Caps& caps) {
        if (caps.size() == 0) {
            return false;
        }
        const Structure& s = caps.structure(0);
        std::array<char, 4> fourcc{};
        if (s.name() == "video/x-av1") {
            fourcc = {'A', 'V', '0', '1'};
        } else if (s.name() == "video/x-vp8") {
            fourcc = {'V', 'P', '8', '0'};
        } else if (s.name() == "video/x-vp9") {
            fourcc = {'V', 'P', '9', '0'};
        } else {
            context().error(Error(Errc::not_negotiated, fmt::format("caps {} are not AV1, VP8 or VP9", s.name())));
            return false;
        }
        ivf::FileHeader h;
        h.fourcc = fourcc;
        const auto dimension = [&](std::string_view field) -> std::uint16_t {
            const auto v = s.get_int(field);
            return v && *v > 0 && *v <= 0xFFFF ? static_cast<std::uint16_t>(*v) : std::uint16_t{0};
        };
        h.width = dimension("width");
        h.height = dimension("height");
        const auto fr = s.get_fraction("framerate");
        h.framerate = fr && fr->num() > 0 ? *fr : Fraction::make(1'000'000, 1).value();
        if (header_written_) {
            if (h.fourcc != header_->fourcc) {
                context().error(Error(Errc::not_negotiated, "the codec changed after the file header was written"));
                return false;
            }
            return true; // the header is out; new sizes cannot be recorded
        }
        header_ = h;
        return true;
    }

    // The file header as it stands (frame_count 0 until the end), at byte 0.
    Flow push_header() {
        auto out = context().allocate(ivf::file_header_size);
        if (!out) {
            return context().error(out.error());
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            return context().error(bytes.error());
        }
        const auto h = ivf::write_file_header(*header_);
        std::memcpy(bytes->data(), h.data(), h.size());
        out->meta().set_flag(BufferFlags::header);
        out->meta().set_byte_offset(0);
        return src_->push(std::move(*out));
    }

    // Back to byte 0 with the frame count, where downstream can seek. A
    // failure here leaves a file with count 0, which is still valid, so EOS
    // goes on all the same.
    void rewrite_header() {
        Query seeking = Query::seeking(Format::bytes);
        if (!src_->peer_query(seeking) || !seeking.seekable() || seeking.seek_start() > 0) {
            return;
        }
        header_->frame_count = static_cast<std::uint32_t>(std::min<std::uint64_t>(frames_, 0xFFFFFFFFU));
        StreamSegment bytes;
        bytes.format = Format::bytes;
        if (!src_->push_event(Event::segment(bytes))) {
            return;
        }
        static_cast<void>(push_header());
    }

    void send_caps() {
        src_->push_event(Event::caps(Caps::parse_static("video/x-ivf")));
        caps_sent_ = true;
    }

    // pts in timebase units (scale/rate seconds), rounded to the nearest.
    std::uint64_t timestamp_of(ClockTime pts) {
        if (pts.is_none()) {
            return next_timestamp_++;
        }
        __extension__ using Wide = unsigned __int128;
        const auto rate = static_cast<std::uint32_t>(header_->framerate.num());
        const auto scale = static_cast<std::uint32_t>(header_->framerate.den());
        const Wide den = static_cast<Wide>(scale) * 1'000'000'000U;
        const Wide ts = (static_cast<Wide>(pts.ns()) * rate + den / 2) / den;
        next_timestamp_ = static_cast<std::uint64_t>(ts) + 1;
        return static_cast<std::uint64_t>(ts);
    }

    void reset_stream() {
        header_.reset();
        header_written_ = false;
        caps_sent_ = false;
        offset_ = 0;
        frames_ = 0;
        next_timestamp_ = 0;
    }

    Pad* src_ = nullptr;
    std::optional<ivf::FileHeader> header_;
    bool header_written_ = false;
    bool caps_sent_ = false;
    std::uint64_t offset_ = 0;
    std::uint64_t frames_ = 0;
    std::uint64_t next_timestamp_ = 0;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::IvfMux);
