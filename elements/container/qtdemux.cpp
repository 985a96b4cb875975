// qtdemux: reads an ISO base media file (MP4) as filesrc pushes it, in
// blocks, and pushes the samples of its AV1, H.264 and Opus tracks out of
// pads of their own, video_%u and audio_%u.
//
// There is no seeking back in push mode, so the file is read as it comes:
// top-level boxes are parsed once they are whole (moov and moof), skipped
// otherwise, and the sample queue (in file order) is pushed as the bytes
// of each sample arrive. A moov after its mdat (ffmpeg's default) means
// the mdat's bytes wait in memory until the moov comes, bounded by
// max_buffered. Fragmented files queue each moof's samples; they sit in the
// mdat that follows.
//
// Times: the edit list maps media time to presentation time. Its first
// empty edits delay the track, the first other edit's media_time is the
// track's time 0. For Opus that media_time is the pre-skip and the edit's
// duration ends the audio, so the buffers follow the timing convention of
// parallax/codec/opus.hpp: pts and duration cover only the audio kept.

#include <parallax/base/log.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mp4_reader.hpp>
#include <parallax/element.hpp>

#include "container/demux_streams.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory qtdemux_log("qtdemux", "qtdemux: MP4 demuxer");

// Bytes held while a sample or a moov is waiting for the rest of its bytes
// or an mdat for its moov.
constexpr std::uint64_t max_buffered = std::uint64_t{1} << 30;
// A moov or moof larger than this is refused rather than buffered.
constexpr std::uint64_t max_header_box = std::uint64_t{256} << 20;
// A single sample larger than this is skipped: no frame or packet is.
constexpr std::uint32_t max_sample_size = std::uint32_t{256} << 20;
constexpr unsigned max_qt_warnings = 8;
constexpr std::uint64_t to_the_end = std::numeric_limits<std::uint64_t>::max();

__extension__ using SignedWide = __int128;

// Saturates at the largest time ClockTime holds below none.
ClockTime units_to_time(SignedWide units, std::uint32_t timescale) {
    if (units <= 0 || timescale == 0) {
        return ClockTime::zero();
    }
    const SignedWide ns = units * ClockTime::ns_per_s / timescale;
    const SignedWide limit = static_cast<SignedWide>(ClockTime::none_ns - 1);
    return ClockTime::from_ns(static_cast<std::uint64_t>(std::min(ns, limit)));
}

bool known_top_level(std::string_view type) {
    for (const std::string_view t : {"ftyp", "styp", "moov", "mdat", "moof", "mfra", "free", "skip", "wide", "uuid",
                                     "sidx", "ssix", "meta", "pdin", "prft", "emsg", "udta", "junk", "pnot"}) {
        if (t == type) {
            return true;
        }
    }
    return false;
}

class QtDemux final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "qtdemux",
        .klass = "Codec/Demuxer",
        .summary = "Demuxes MP4 (ISO base media file format) files into their AV1, H.264 and Opus streams",
        .description =
            "Reads an MP4 or QuickTime file as it is pushed (no seeking) and adds a pad video_%u for every AV1 "
            "(av01) or H.264 (avc1, avc3) track and audio_%u for every Opus track, with caps carrying the "
            "av1C, avcC or an OpusHead made from dOps as codec_data. Samples leave in file order, timed by "
            "the sample tables through the edit list (Opus: pre-skip and end trimming taken from the edit). "
            "Plain files with moov before or after mdat (the mdat waits in memory, up to 1 GiB) and "
            "fragmented files are read. Other tracks are skipped with a warning; a truncated file gives a "
            "warning and what came before.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static("video/quicktime")},
                {"video_%u", PadDirection::src, PadPresence::sometimes,
                 Caps::parse_static("video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu; "
                                    "video/x-h264, stream-format=(string){ avc, avc3 }, alignment=(string)au")},
                {"audio_%u", PadDirection::src, PadPresence::sometimes, Caps::parse_static("audio/x-opus")}};
    }

protected:
    Result<void> start() override {
        reset();
        return {};
    }

    Result<void> stop() override {
        reset();
        return {};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::stream_start:
        case EventType::caps:
        case EventType::segment:
            // Each track gets its own, made from the moov.
            return true;
        case EventType::eos:
            finish();
            return forward_event(pad, event);
        case EventType::flush_stop: {
            const bool ok = forward_event(pad, event);
            reset();
            return ok;
        }
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (failed_) {
            return Flow::error;
        }
        const auto bytes = buffer.data();
        const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
        buf_.insert(buf_.end(), p, p + bytes.size());
        received_ += bytes.size();
        while (true) {
            if (const Flow f = push_ready(); f != Flow::ok) {
                return f;
            }
            const auto parsed = parse_box();
            if (!parsed) {
                return fail_with(parsed.error());
            }
            if (!*parsed) {
                break;
            }
        }
        drop_used();
        if (buffered() > max_buffered) {
            return fail_with(Error(
                Errc::exhausted,
                movie_ ? fmt::format("{} bytes from byte {} wait for a sample that ends later: more than the "
                                     "limit of {} bytes (1 GiB)",
                                     buffered(), buf_start_, max_buffered)
                       : fmt::format("the mdat at byte {} comes before the moov and holds more than the limit of {} "
                                     "bytes (1 GiB) qtdemux keeps until the moov arrives (write the file with "
                                     "the moov first, e.g. ffmpeg -movflags +faststart)",
                                     keep_from_.value_or(buf_start_), max_buffered)));
        }
        return combined_flow();
    }

private:
    struct Stream {
        Pad* pad = nullptr;
        std::uint32_t track_id = 0;
        mp4::Codec codec = mp4::Codec::unknown;
        std::uint32_t timescale = 1;
        std::int64_t media_start = 0;          // the edit's media_time
        std::optional<std::int64_t> media_end; // Opus: where the edit ends
        ClockTime delay = ClockTime::zero();   // empty edits before it
        bool discont = true;
        Flow last = Flow::ok;
        unsigned warnings = 0;
    };

    struct Queued {
        std::uint64_t offset = 0;
        std::uint32_t size = 0;
        std::size_t stream = 0;
        std::int64_t dts = 0;
        std::int64_t pts = 0;
        std::uint32_t duration = 0;
        bool keyframe = true;
    };

    void reset() {
        buf_.clear();
        head_ = 0;
        buf_start_ = 0;
        parse_pos_ = 0;
        received_ = 0;
        movie_.reset();
        streams_.clear();
        queue_.clear();
        next_ = 0;
        keep_from_.reset();
        failed_ = false;
        warnings_ = 0;
        video_count_ = 0;
        audio_count_ = 0;
    }

    [[nodiscard]] std::uint64_t buf_end() const noexcept { return buf_start_ + (buf_.size() - head_); }
    [[nodiscard]] std::uint64_t buffered() const noexcept { return buf_.size() - head_; }
    [[nodiscard]] std::span<const std::uint8_t> bytes_at(std::uint64_t offset, std::uint64_t n) const {
        return std::span<const std::uint8_t>(buf_).subspan(head_ + static_cast<std::size_t>(offset - buf_start_),
                                                           static_cast<std::size_t>(n));
    }

    Flow fail_with(Error e) {
        failed_ = true;
        return context().error(std::move(e));
    }

    void warn(unsigned& count, std::string text) {
        if (count < max_qt_warnings) {
            context().warning(std::move(text));
        } else {
            PARALLAX_INFO(qtdemux_log, "{}: {}", name(), text);
        }
        ++count;
    }

    // Parses the top-level box at parse_pos_ if enough of it is here.
    // False when it has to wait for more bytes.
    Result<bool> parse_box() {
        if (parse_pos_ == to_the_end || parse_pos_ >= buf_end()) {
            return false;
        }
        const std::uint64_t at = parse_pos_;
        auto header = mp4::read_box_header(bytes_at(at, buf_end() - at), at);
        if (!header) {
            return fail(header.error());
        }
        if (!*header) {
            return false;
        }
        const mp4::BoxHeader& h = **header;
        if (h.type.find('.') != std::string::npos || (at == 0 && !known_top_level(h.type))) {
            const auto b = bytes_at(at, 8);
            return fail(Errc::corrupt, fmt::format("the bytes at byte {} are not an MP4 box (type bytes {:02x} {:02x} "
                                                   "{:02x} {:02x}, \"{}\"): not an MP4 file, or a damaged one",
                                                   at, b[4], b[5], b[6], b[7], h.type));
        }
        if (h.type == "moov" || h.type == "moof") {
            if (h.size == 0) {
                return fail(Errc::unsupported, fmt::format("{} at byte {} has size 0 (to the end of the file): "
                                                           "cannot be read while the file streams in",
                                                           h.type, at));
            }
            if (h.size > max_header_box) {
                return fail(Errc::exhausted, fmt::format("{} at byte {} is {} bytes, more than the limit of {} "
                                                         "bytes (256 MiB) for a header box",
                                                         h.type, at, h.size, max_header_box));
            }
            if (at + h.size > buf_end()) {
                return false;
            }
            const auto box = bytes_at(at, h.size);
            if (h.type == "moov") {
                if (auto ok = take_moov(box, at); !ok) {
                    return fail(ok.error());
                }
            } else if (auto ok = take_moof(box, at); !ok) {
                return fail(ok.error());
            }
            parse_pos_ = at + h.size;
            return true;
        }
        if (h.type == "mdat" && !movie_ && !keep_from_) {
            keep_from_ = at;
        }
        parse_pos_ = h.size == 0 ? to_the_end : at + h.size;
        return true;
    }

    Result<void> take_moov(std::span<const std::uint8_t> box, std::uint64_t at) {
        if (movie_) {
            warn(warnings_, fmt::format("a second moov at byte {}: ignored", at));
            return {};
        }
        auto movie = mp4::read_moov(box, at);
        if (!movie) {
            return fail(movie.error());
        }
        movie_ = std::move(*movie);
        keep_from_.reset();
        std::vector<std::optional<std::size_t>> index(movie_->tracks.size());
        for (std::size_t i = 0; i < movie_->tracks.size(); ++i) {
            const mp4::TrackInfo& t = movie_->tracks[i];
            const bool video = t.handler == "vide" && (t.codec == mp4::Codec::av1 || t.codec == mp4::Codec::h264);
            const bool audio = t.handler == "soun" && t.codec == mp4::Codec::opus;
            if (!video && !audio) {
                warn(warnings_, fmt::format("track {} (handler \"{}\", sample entry \"{}\") is not AV1, H.264 or Opus: "
                                            "skipped",
                                            t.id, t.handler, t.format));
                continue;
            }
            Stream s;
            s.track_id = t.id;
            s.codec = t.codec;
            s.timescale = t.timescale;
            set_timing(s, t);
            const std::string pad_name =
                video ? fmt::format("video_{}", video_count_++) : fmt::format("audio_{}", audio_count_++);
            Pad* pad = this->pad(pad_name);
            if (pad == nullptr) {
                auto added = add_sometimes_pad(video ? "video_%u" : "audio_%u", pad_name);
                if (!added) {
                    return fail(added.error());
                }
                pad = *added;
            }
            s.pad = pad;
            auto caps = caps_of(t);
            if (!caps) {
                return fail(caps.error());
            }
            detail::start_stream(*pad, fmt::format("{}/{}", name(), t.id), std::move(*caps));
            index[i] = streams_.size();
            streams_.push_back(s);
        }
        if (streams_.empty()) {
            return fail(Errc::unsupported, fmt::format("the moov at byte {} has no AV1, H.264 or Opus track ({} "
                                                       "tracks of other kinds)",
                                                       at, movie_->tracks.size()));
        }
        std::vector<Queued> batch;
        for (std::size_t i = 0; i < movie_->tracks.size(); ++i) {
            if (index[i]) {
                queue(batch, movie_->tracks[i].samples, *index[i]);
                // The moov's tables are now in the queue.
                movie_->tracks[i].samples.clear();
                movie_->tracks[i].samples.shrink_to_fit();
            }
        }
        append(batch);
        return {};
    }

    Result<void> take_moof(std::span<const std::uint8_t> box, std::uint64_t at) {
        if (!movie_) {
            return fail(Errc::corrupt, fmt::format("moof at byte {} comes before any moov", at));
        }
        auto frag = mp4::read_moof(box, at, *movie_);
        if (!frag) {
            return fail(frag.error());
        }
        std::vector<Queued> batch;
        for (const mp4::FragmentRun& run : frag->runs) {
            for (std::size_t i = 0; i < streams_.size(); ++i) {
                if (streams_[i].track_id == run.track_id) {
                    queue(batch, run.samples, i);
                }
            }
        }
        append(batch);
        return {};
    }

    // The edit list's mapping of `t` to presentation time.
    void set_timing(Stream& s, const mp4::TrackInfo& t) const {
        SignedWide empty = 0;
        for (const mp4::Edit& e : t.edits) {
            if (e.media_time < 0) {
                empty += e.segment_duration;
                continue;
            }
            s.media_start = e.media_time;
            if (t.codec == mp4::Codec::opus && e.segment_duration > 0 && movie_->timescale > 0) {
                const SignedWide end =
                    SignedWide{e.media_time} + SignedWide{e.segment_duration} * t.timescale / movie_->timescale;
                s.media_end =
                    static_cast<std::int64_t>(std::min<SignedWide>(end, std::numeric_limits<std::int64_t>::max()));
            }
            break;
        }
        s.delay = units_to_time(empty, movie_->timescale);
    }

    static Result<Caps> caps_of(const mp4::TrackInfo& t) {
        if (t.codec == mp4::Codec::opus) {
            auto head = opus::parse_head(t.config);
            if (!head) {
                return fail(head.error());
            }
            return opus::caps_for(*head);
        }
        Structure s(t.codec == mp4::Codec::av1 ? "video/x-av1" : "video/x-h264");
        if (t.codec == mp4::Codec::av1) {
            s.set("stream-format", std::string("obu-stream"));
            s.set("alignment", std::string("tu"));
        } else {
            s.set("stream-format", std::string(t.format == "avc3" ? "avc3" : "avc"));
            s.set("alignment", std::string("au"));
        }
        if (t.width > 0 && t.height > 0) {
            s.set("width", static_cast<std::int32_t>(t.width));
            s.set("height", static_cast<std::int32_t>(t.height));
        }
        // A frame rate only when every frame lasts the same.
        std::uint32_t d = t.samples.empty() ? t.trex_duration : t.samples.front().duration;
        for (const mp4::SampleRef& r : t.samples) {
            if (r.duration != d) {
                d = 0;
                break;
            }
        }
        if (d > 0) {
            if (auto fr = Fraction::make(t.timescale, d)) {
                s.set("framerate", *fr);
            }
        }
        s.set("codec_data", Bytes{t.config});
        Caps caps;
        caps.append(std::move(s));
        return caps;
    }

    void queue(std::vector<Queued>& batch, const std::vector<mp4::SampleRef>& samples, std::size_t stream) {
        for (const mp4::SampleRef& r : samples) {
            batch.push_back(Queued{r.offset, r.size, stream, r.dts, r.pts, r.duration, r.keyframe});
        }
    }

    void append(std::vector<Queued>& batch) {
        std::stable_sort(batch.begin(), batch.end(),
                         [](const Queued& a, const Queued& b) { return a.offset < b.offset; });
        if (next_ == queue_.size()) {
            queue_.clear();
            next_ = 0;
        }
        queue_.insert(queue_.end(), batch.begin(), batch.end());
        // A batch overlapping what is still queued (odd, but legal) keeps
        // file order.
        std::stable_sort(queue_.begin() + static_cast<std::ptrdiff_t>(next_), queue_.end(),
                         [](const Queued& a, const Queued& b) { return a.offset < b.offset; });
    }

    // Pushes every queued sample whose bytes are here.
    Flow push_ready() {
        while (next_ < queue_.size()) {
            const Queued& q = queue_[next_];
            Stream& s = streams_[q.stream];
            if (q.offset < buf_start_ || q.size > max_sample_size) {
                warn(s.warnings,
                     q.size > max_sample_size
                         ? fmt::format("track {}: a sample of {} bytes at byte {} is larger than the limit of {} "
                                       "bytes: skipped",
                                       s.track_id, q.size, q.offset, max_sample_size)
                         : fmt::format("track {}: the sample at byte {} lies in bytes already passed: skipped",
                                       s.track_id, q.offset));
                s.discont = true;
                ++next_;
                continue;
            }
            if (q.offset + q.size > buf_end()) {
                return Flow::ok;
            }
            if (const Flow f = push_sample(q, s); f != Flow::ok && f != Flow::not_linked && f != Flow::eos) {
                return f;
            }
            ++next_;
        }
        return Flow::ok;
    }

    Flow push_sample(const Queued& q, Stream& s) {
        auto out = context().allocate(q.size);
        if (!out) {
            return fail_with(out.error());
        }
        if (q.size > 0) {
            auto w = out->map_writable();
            if (!w) {
                return fail_with(w.error());
            }
            const auto src = bytes_at(q.offset, q.size);
            std::memcpy(w->data(), src.data(), src.size());
        }
        Metadata& m = out->meta();
        // 128-bit arithmetic: times from damaged tables may be anything.
        const SignedWide start = s.media_start;
        if (s.codec == mp4::Codec::opus) {
            SignedWide begin = std::max<SignedWide>(q.pts, start);
            SignedWide end = std::max<SignedWide>(SignedWide{q.pts} + q.duration, start);
            if (s.media_end) {
                begin = std::min<SignedWide>(begin, *s.media_end);
                end = std::min<SignedWide>(end, *s.media_end);
            }
            const ClockTime pts = s.delay + units_to_time(begin - start, s.timescale);
            const ClockTime stop = s.delay + units_to_time(end - start, s.timescale);
            m.set_pts(pts);
            m.set_duration(ClockTime::from_ns(stop.ns() - pts.ns()));
        } else {
            m.set_pts(s.delay + units_to_time(SignedWide{q.pts} - start, s.timescale));
            if (q.dts >= s.media_start) {
                m.set_dts(s.delay + units_to_time(SignedWide{q.dts} - start, s.timescale));
            }
            m.set_duration(units_to_time(q.duration, s.timescale));
        }
        m.set_byte_offset(q.offset);
        m.set_flag(q.keyframe ? BufferFlags::keyframe : BufferFlags::delta);
        if (s.discont) {
            m.set_flag(BufferFlags::discont);
            s.discont = false;
        }
        s.last = s.pad->is_linked() ? s.pad->push(std::move(*out)) : Flow::not_linked;
        return s.last;
    }

    // Bytes nobody needs any more: before the next box, the next sample
    // and, while the moov is missing, the mdat that waits for it.
    void drop_used() {
        std::uint64_t keep = std::min(parse_pos_, buf_end());
        if (next_ < queue_.size()) {
            keep = std::min(keep, std::max(queue_[next_].offset, buf_start_));
        }
        if (keep_from_) {
            keep = std::min(keep, std::max(*keep_from_, buf_start_));
        }
        if (keep <= buf_start_) {
            return;
        }
        head_ += static_cast<std::size_t>(keep - buf_start_);
        buf_start_ = keep;
        if (head_ == buf_.size()) {
            buf_.clear();
            head_ = 0;
        } else if (head_ > (std::size_t{1} << 20) && head_ > buf_.size() / 2) {
            buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
    }

    Flow combined_flow() const {
        detail::FlowCombiner flows;
        for (const auto& s : streams_) {
            flows.add(s.last);
        }
        return flows.result();
    }

    // End of the input: report what was cut off, and make sure every pad
    // (or, with none, the pipeline) hears of the end.
    void finish() {
        if (failed_) {
            return;
        }
        if (!movie_) {
            if (received_ > 0) {
                fail_with(Error(Errc::corrupt,
                                keep_from_ ? fmt::format("no moov box in the {} bytes of input (its mdat starts at "
                                                         "byte {}): the file is truncated or not an MP4 file",
                                                         received_, *keep_from_)
                                           : fmt::format("no moov box in the {} bytes of input: not an MP4 file, "
                                                         "or a truncated one",
                                                         received_)));
            } else {
                // Nothing came in: no pad will ever carry eos; say it here.
                context().host().sink_eos(*this);
            }
            return;
        }
        if (next_ < queue_.size()) {
            context().warning(fmt::format("the file is truncated at byte {}: {} samples from byte {} on are missing",
                                          received_, queue_.size() - next_, queue_[next_].offset));
        } else if (parse_pos_ != to_the_end && parse_pos_ > received_) {
            context().warning(
                fmt::format("the file is truncated at byte {}: its last box ends at byte {}", received_, parse_pos_));
        }
        queue_.clear();
        next_ = 0;
    }

    std::vector<std::uint8_t> buf_;
    std::size_t head_ = 0; // buf_[head_] is the byte at file offset buf_start_
    std::uint64_t buf_start_ = 0;
    std::uint64_t parse_pos_ = 0; // the next top-level box
    std::uint64_t received_ = 0;
    std::optional<mp4::MovieInfo> movie_;
    std::vector<Stream> streams_;
    std::vector<Queued> queue_; // file order; queue_[next_] is the next to push
    std::size_t next_ = 0;
    std::optional<std::uint64_t> keep_from_; // an mdat before the moov
    bool failed_ = false;
    unsigned warnings_ = 0;
    unsigned video_count_ = 0;
    unsigned audio_count_ = 0;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::QtDemux);
