// ivfparse: reads an IVF byte stream (cut into buffers anywhere, as filesrc
// gives it) and pushes one buffer per frame, timed from the header's
// timebase.
//
// A frame that lies wholly inside one input buffer goes out as a slice of
// that buffer's slot (no copy); only a frame cut by a buffer boundary is put
// together in a new one.
//
// Each frame is held until the next one arrives so that its duration is the
// distance to the next timestamp; the last frame keeps the duration of the
// one before it (one frame period when it is alone).

#include <parallax/codec/av1.hpp>
#include <parallax/container/ivf.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

std::span<const std::uint8_t> as_u8(std::span<const std::byte> b) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

// Text for a message: unprintable characters in hex.
std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c >= 0x20 && c < 0x7F) {
            out += c;
        } else {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

// A frame larger than this is taken for a broken header rather than read.
constexpr std::uint32_t max_frame_size = 256U << 20;

class IvfParse final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "ivfparse",
        .klass = "Codec/Demuxer",
        .summary = "Demuxes a IVF stream",
        .description = "Reads the IVF container (DKIF header, 12-byte frame headers) and pushes one buffer per "
                       "frame: caps from the fourcc (AV01, VP80, VP90), width, height and framerate from the "
                       "header, pts from the timestamps, key/delta flags.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static("video/x-ivf")},
                {"src", PadDirection::src, PadPresence::always,
                 Caps::parse_static("video/x-av1; video/x-vp8; video/x-vp9")}};
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
        case EventType::segment:
            // Ours come from the file header: caps, then a time segment.
            return true;
        case EventType::eos: {
            if (!failed_) {
                // What was whole goes out first, then the error about the rest.
                static_cast<void>(flush_held(true));
                if (const std::size_t left = data_.size(); left > 0) {
                    const std::string what = !header_ ? "IVF file header" : "IVF frame";
                    context().error(
                        Error(Errc::corrupt, fmt::format("{} at byte {} is truncated: the stream ends after {} of its "
                                                         "bytes",
                                                         what, consumed_, left)));
                }
            }
            return src_->push_event(std::move(event));
        }
        case EventType::flush_stop:
            reset_stream();
            return src_->push_event(std::move(event));
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (failed_) {
            return Flow::error;
        }
        const auto bytes = as_u8(buffer.data());
        std::size_t in = 0;
        // A header or frame that an earlier buffer ended in the middle of is
        // completed first, by copying just the bytes it still lacks.
        while (!data_.empty()) {
            const auto unit = next_unit(data_);
            if (!unit) {
                return Flow::error;
            }
            if (data_.size() < unit->size) {
                const std::size_t take = std::min(unit->size - data_.size(), bytes.size() - in);
                data_.insert(data_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(in),
                             bytes.begin() + static_cast<std::ptrdiff_t>(in + take));
                in += take;
                if (data_.size() < unit->size) {
                    return Flow::ok; // this buffer is used up
                }
                continue; // a frame header just completed says how long its frame is
            }
            const Flow f = take_unit(std::span<const std::uint8_t>(data_).first(unit->size), *unit, nullptr, 0);
            consumed_ += unit->size;
            data_.clear();
            if (f != Flow::ok) {
                return f;
            }
        }
        // Frames wholly inside this buffer go out as slices of it: no copy.
        while (in < bytes.size()) {
            const auto rest = bytes.subspan(in);
            const auto unit = next_unit(rest);
            if (!unit) {
                return Flow::error;
            }
            if (rest.size() < unit->size) {
                data_.assign(rest.begin(), rest.end());
                return Flow::ok;
            }
            const Flow f = take_unit(rest.first(unit->size), *unit, &buffer, in);
            consumed_ += unit->size;
            in += unit->size;
            if (f != Flow::ok) {
                return f;
            }
        }
        return Flow::ok;
    }

private:
    Flow fail_with(std::string message) {
        failed_ = true;
        return context().error(Error(Errc::corrupt, std::move(message)));
    }

    // The unit that `rest` starts with: the file header, a frame header
    // while fewer than its 12 bytes are there, else the frame header (parsed)
    // and its frame.
    struct Unit {
        std::size_t size = 0;
        std::optional<ivf::FrameHeader> frame;
    };

    // The next unit; fails (the stream stops) on a bad frame header.
    std::optional<Unit> next_unit(std::span<const std::uint8_t> rest) {
        if (!header_) {
            return Unit{ivf::file_header_size, std::nullopt};
        }
        if (rest.size() < ivf::frame_header_size) {
            return Unit{ivf::frame_header_size, std::nullopt};
        }
        auto fh = ivf::parse_frame_header(rest, consumed_);
        if (!fh) {
            fail_with(fh.error().message());
            return std::nullopt;
        }
        if (fh->size > max_frame_size) {
            fail_with(fmt::format("IVF frame at byte {}: frame size {} exceeds the limit of {} bytes", consumed_,
                                  fh->size, max_frame_size));
            return std::nullopt;
        }
        return Unit{ivf::frame_header_size + std::size_t{fh->size}, *fh};
    }

    // Takes the whole unit `bytes` (described by `unit`) starting at stream
    // offset consumed_; `source` is the buffer it lies in at `offset`, or
    // null when it was put together from several.
    Flow take_unit(std::span<const std::uint8_t> bytes, const Unit& unit, const Buffer* source, std::size_t offset) {
        if (!header_) {
            auto h = ivf::parse_file_header(bytes);
            if (!h) {
                return fail_with(h.error().message());
            }
            header_ = *h;
            if (const std::string fcc = fourcc(); fcc != "AV01" && fcc != "VP80" && fcc != "VP90") {
                return fail_with(
                    fmt::format("IVF file header: fourcc \"{}\" at byte 8 is not AV01, VP80 or VP90", printable(fcc)));
            }
            return Flow::ok;
        }
        return take_frame(bytes.subspan(ivf::frame_header_size), *unit.frame, consumed_, source,
                          offset + ivf::frame_header_size);
    }

    void reset_stream() {
        data_.clear();
        consumed_ = 0;
        header_.reset();
        held_.reset();
        caps_sent_ = false;
        failed_ = false;
        warned_ = false;
        seq_.reset();
        seq_obu_.clear();
        last_duration_ = ClockTime();
    }

    [[nodiscard]] ClockTime to_time(std::uint64_t timestamp) const {
        __extension__ using Wide = unsigned __int128;
        const Wide ns = static_cast<Wide>(timestamp) * 1'000'000'000U *
                        static_cast<std::uint32_t>(header_->framerate.den()) /
                        static_cast<std::uint32_t>(header_->framerate.num());
        return ns >= ClockTime::none_ns ? ClockTime() : ClockTime::from_ns(static_cast<std::uint64_t>(ns));
    }

    [[nodiscard]] std::string fourcc() const { return {header_->fourcc.begin(), header_->fourcc.end()}; }

    Caps make_caps() const {
        const std::string fcc = fourcc();
        Structure s("video/x-av1");
        if (fcc == "AV01") {
            if (seq_) {
                s = av1::caps_for(*seq_, av1::make_av1c(*seq_, seq_obu_)).structure(0);
            } else {
                s.set("stream-format", "obu-stream");
                s.set("alignment", "tu");
            }
        } else if (fcc == "VP80") {
            s = Structure("video/x-vp8");
        } else {
            s = Structure("video/x-vp9");
        }
        s.set("width", static_cast<std::int32_t>(header_->width));
        s.set("height", static_cast<std::int32_t>(header_->height));
        s.set("framerate", header_->framerate);
        Caps caps;
        caps.append(std::move(s));
        return caps;
    }

    // Whether the frame is a key frame, by codec; nullopt when unknown.
    std::optional<bool> is_key(std::span<const std::uint8_t> frame, std::size_t at) {
        const std::string fcc = fourcc();
        if (fcc == "AV01") {
            auto obus = av1::split_obus(frame);
            if (obus) {
                for (const av1::Obu& o : *obus) {
                    if (o.type != av1::ObuType::sequence_header) {
                        continue;
                    }
                    if (std::vector<std::uint8_t> bytes(o.bytes.begin(), o.bytes.end()); bytes != seq_obu_) {
                        if (auto seq = av1::parse_sequence_header(o.payload); seq) {
                            seq_ = *seq;
                            seq_obu_ = std::move(bytes);
                            caps_dirty_ = true;
                        }
                    }
                }
            }
            if (!seq_) {
                return std::nullopt;
            }
            auto key = av1::is_key_temporal_unit(frame, *seq_);
            if (!key) {
                warn_once(
                    fmt::format("IVF frame data at byte {}: {}", at + ivf::frame_header_size, key.error().message()));
                return std::nullopt;
            }
            return *key;
        }
        if (frame.empty()) {
            return std::nullopt;
        }
        if (fcc == "VP80") {
            return (frame[0] & 1U) == 0; // frame tag: key_frame is 0
        }
        if (fcc == "VP90") {
            // frame_marker(2) profile_low(1) profile_high(1) [reserved(1) for profile 3]
            // show_existing_frame(1) frame_type(1, 0 = key).
            const unsigned b = frame[0];
            if ((b >> 6) != 2) {
                return std::nullopt;
            }
            const unsigned profile = ((b >> 5) & 1U) | (((b >> 4) & 1U) << 1);
            const unsigned shift = profile == 3 ? 2 : 3;
            if (((b >> shift) & 1U) != 0) {
                return false; // shows an earlier frame
            }
            return ((b >> (shift - 1)) & 1U) == 0;
        }
        return std::nullopt;
    }

    void warn_once(std::string text) {
        if (!warned_) {
            warned_ = true;
            context().warning(std::move(text));
        }
    }

    Flow take_frame(std::span<const std::uint8_t> frame, const ivf::FrameHeader& fh, std::size_t at,
                    const Buffer* source, std::size_t offset) {
        // The held frame goes first, with the caps of its own sequence header.
        const ClockTime pts = to_time(fh.timestamp);
        if (const Flow f = flush_held(false, pts); f != Flow::ok) {
            return f;
        }
        const std::optional<bool> key = is_key(frame, at);
        std::optional<Buffer> out;
        if (source != nullptr && !frame.empty()) {
            if (auto slice = source->slice(offset, frame.size()); slice) {
                out = std::move(*slice);
                out->meta() = Metadata();
            }
        }
        if (!out) {
            auto fresh = context().allocate(frame.size());
            if (!fresh) {
                return context().error(fresh.error());
            }
            if (!frame.empty()) {
                auto bytes = fresh->map_writable();
                if (!bytes) {
                    return context().error(bytes.error());
                }
                std::memcpy(bytes->data(), frame.data(), frame.size());
            }
            out = std::move(*fresh);
        }
        Metadata& m = out->meta();
        m.set_pts(pts);
        m.set_byte_offset(at);
        if (key) {
            m.set_flag(*key ? BufferFlags::keyframe : BufferFlags::delta);
        }
        held_ = std::move(*out);
        return Flow::ok;
    }

    // Pushes the held frame; its duration reaches to `next` when known.
    Flow flush_held(bool last, ClockTime next = ClockTime()) {
        if (!held_) {
            return Flow::ok;
        }
        Buffer b = std::move(*held_);
        held_.reset();
        const ClockTime pts = b.meta().pts();
        if (!last && !next.is_none() && !pts.is_none() && next.ns() >= pts.ns()) {
            last_duration_ = ClockTime::from_ns(next.ns() - pts.ns());
        } else if (last_duration_.is_none() && header_) {
            last_duration_ = to_time(1); // one timebase unit: a frame period for fixed-rate files
        }
        b.meta().set_duration(last_duration_);
        if (!caps_sent_ || caps_dirty_) {
            if (Caps caps = make_caps(); !caps_sent_ || caps != src_->current_caps()) {
                src_->push_event(Event::caps(std::move(caps)));
            }
            if (!caps_sent_) {
                src_->push_event(Event::segment(StreamSegment{}));
            }
            caps_sent_ = true;
            caps_dirty_ = false;
        }
        return src_->push(std::move(b));
    }

    Pad* src_ = nullptr;
    std::vector<std::uint8_t> data_; // the start of a header or frame that a buffer ended inside
    std::size_t consumed_ = 0;       // stream offset of the next unit (of data_[0] when it holds one)
    std::optional<ivf::FileHeader> header_;
    std::optional<Buffer> held_;
    ClockTime last_duration_;
    std::optional<av1::SequenceHeader> seq_;
    std::vector<std::uint8_t> seq_obu_;
    bool caps_sent_ = false;
    bool caps_dirty_ = false;
    bool failed_ = false;
    bool warned_ = false;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::IvfParse);
