// mp4mux: writes AV1, H.264 and Opus streams into an ISO base media file
// (ISO/IEC 14496-12), one track per request pad.
//
// A plain file (fragment-duration 0) is written at end of stream, moov
// first, so that it needs no seeking (a pipe takes it) and plays from its
// first bytes: the samples' bytes wait in memory,
// or past spill_threshold in an unlinked temporary file, and then ftyp,
// moov (whose chunk offsets point past itself) and mdat leave in that
// order. A fragmented file starts with ftyp and a moov without samples
// (mvex), then a moof + mdat per fragment: a fragment ends at the first
// video keyframe once fragment-duration has passed (with audio only, at
// the duration), and holds every track's samples before that time.
//
// Live sources (latency > 0): a fragment waits for a track that has not
// reached its end only while that track has sent something within latency
// of wall-clock time; then it is cut without it (a timer cuts it even when
// nothing else arrives), and with a silent video track the duration alone
// cuts. The starved track's samples go into later fragments at their own
// decode times: a track's media time 0 is fixed when the moov is written
// (its first decode time, or the movie's start for a track that has none
// yet), and Opus, timed by its sample counts, jumps ahead over a gap.
//
// Times: a track's media time 0 is its first decode time. Opus samples
// last their whole packets (pre-skip included, as the Opus mapping wants)
// while our Opus buffers' pts and duration exclude pre-skip and end
// trimming: an edit list starting at media time pre_skip and lasting the
// kept audio (first pts to last pts + duration) makes players drop both.
// A video track's edit starts at its first presentation time, and a track
// that begins after the earliest one gets an empty edit before it. In a
// fragmented file the duration is unknown when the moov is written: the
// edit lasts 0, "to the end", and mvex's mehd says 0. At the end, when
// downstream can seek in bytes (the seeking query: filesink, or fdsink on a
// file), a byte segment from 0 and ftyp + moov again follow, as GStreamer's
// muxers rewrite their headers: the same boxes of the same size (mehd is
// always 64-bit, the edits keep their count), now with each last edit
// lasting to its track's end and mehd the movie's duration, so that the end
// trimming of the last Opus packet is dropped too. Into a pipe the file
// stays as first written.

#include <parallax/base/log.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mp4.hpp>
#include <parallax/element.hpp>

#include "mux_timer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

LogCategory mp4mux_log("mp4mux", "mp4mux: MP4 muxer");

// Sample bytes held in memory before a plain file moves them to a
// temporary file.
constexpr std::size_t spill_threshold = std::size_t{64} << 20;
// Size of the buffers mdat leaves in.
constexpr std::size_t out_chunk = std::size_t{1} << 20;
// A plain file's chunks hold up to this much time of one track.
constexpr std::uint64_t interleave_ns = 500'000'000;

__extension__ using Wide128 = unsigned __int128;

std::uint64_t to_units(std::uint64_t ns, std::uint32_t timescale) {
    return static_cast<std::uint64_t>((static_cast<Wide128>(ns) * timescale + ClockTime::ns_per_s / 2) /
                                      ClockTime::ns_per_s);
}

// The samples' bytes of a plain file, appended as they come and read back
// at the end.
class SampleStore {
public:
    SampleStore() = default;
    SampleStore(const SampleStore&) = delete;
    SampleStore& operator=(const SampleStore&) = delete;
    ~SampleStore() { clear(); }

    void clear() {
        memory_.clear();
        memory_.shrink_to_fit();
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
        size_ = 0;
    }

    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

    // Appends `bytes`; returns where they start.
    Result<std::uint64_t> append(std::span<const std::uint8_t> bytes) {
        const std::uint64_t at = size_;
        if (fd_ < 0 && memory_.size() + bytes.size() > spill_threshold) {
            if (auto ok = spill(); !ok) {
                return fail(ok.error());
            }
        }
        if (fd_ < 0) {
            memory_.insert(memory_.end(), bytes.begin(), bytes.end());
        } else if (auto ok = write_all(bytes, at); !ok) {
            return fail(ok.error());
        }
        size_ += bytes.size();
        return at;
    }

    Result<void> read(std::uint64_t at, std::span<std::uint8_t> out) const {
        if (fd_ < 0) {
            std::memcpy(out.data(), memory_.data() + at, out.size());
            return {};
        }
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(at + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return fail(Errc::system, fmt::format("reading the samples' temporary file at byte {}: {}", at + done,
                                                      n < 0 ? std::strerror(errno) : "unexpected end"));
            }
            done += static_cast<std::size_t>(n);
        }
        return {};
    }

private:
    // Moves the bytes to an unlinked file: memfd (in RAM or swap), else
    // tmpfile() (on disk).
    Result<void> spill() {
        int fd = ::memfd_create("mp4mux-samples", MFD_CLOEXEC);
        if (fd < 0) {
            FILE* f = std::tmpfile();
            if (f == nullptr) {
                return fail(Errc::system,
                            fmt::format("cannot create a temporary file for the samples beyond {} MiB: {}",
                                        spill_threshold >> 20, std::strerror(errno)));
            }
            fd = ::dup(::fileno(f));
            std::fclose(f);
            if (fd < 0) {
                return fail(Errc::system,
                            fmt::format("cannot keep the samples' temporary file: {}", std::strerror(errno)));
            }
        }
        fd_ = fd;
        if (auto ok = write_all(memory_, 0); !ok) {
            return ok;
        }
        memory_.clear();
        memory_.shrink_to_fit();
        return {};
    }

    Result<void> write_all(std::span<const std::uint8_t> bytes, std::uint64_t at) const {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(at + done));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return fail(Errc::system, fmt::format("writing the samples' temporary file at byte {}: {}", at + done,
                                                      n < 0 ? std::strerror(errno) : "nothing written"));
            }
            done += static_cast<std::size_t>(n);
        }
        return {};
    }

    std::vector<std::uint8_t> memory_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

class Mp4Mux final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "mp4mux",
        .klass = "Codec/Muxer",
        .summary = "Muxes AV1, H.264 and Opus streams into MP4 (ISO base media file format)",
        .description =
            "Writes one track per video_%u (AV1 with av1C, H.264 with avcC) and audio_%u (Opus with dOps) pad. "
            "With fragment-duration 0 the whole file is written at end of stream, moov before mdat (the "
            "samples wait in memory, past 64 MiB in an unlinked temporary file); otherwise ftyp and moov "
            "(mvex) come first, then a moof and mdat per fragment, cut at the first video keyframe after "
            "fragment-duration; at the end, where downstream can seek, the moov is written again with the "
            "durations. Opus keeps its pre-skip and end trimming in an edit list; samples are "
            "interleaved by time. With latency > 0 (live sources) a fragment waits at most that long of "
            "wall-clock time for a silent track; its later samples go into later fragments.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {
            {"src", PadDirection::src, PadPresence::always, Caps::parse_static("video/quicktime, variant=(string)iso")},
            {"video_%u", PadDirection::sink, PadPresence::request,
             Caps::parse_static("video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu; "
                                "video/x-h264, stream-format=(string)avc, alignment=(string)au")},
            {"audio_%u", PadDirection::sink, PadPresence::request, Caps::parse_static("audio/x-opus")}};
    }

    ~Mp4Mux() override { timer_.retire(); }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        std::lock_guard lock(mutex_);
        timer_.start(inputs_);
        return {};
    }

    Result<void> stop() override {
        timer_.retire();
        std::lock_guard lock(mutex_);
        reset();
        return {};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    void pad_requested(Pad& pad) override {
        std::lock_guard lock(mutex_);
        if (data_started_) {
            context().error(
                Error(Errc::state, fmt::format("{} was requested after data started to flow: the tracks of an MP4 "
                                               "file are fixed once its first sample is taken",
                                               pad.name())));
        }
        inputs_.push_back(std::make_unique<Input>());
        inputs_.back()->last_arrival = std::chrono::steady_clock::now();
        inputs_.back()->pad = &pad;
        inputs_.back()->video = pad.name().starts_with("video_");
    }

    void pad_releasing(Pad& pad) override {
        std::lock_guard lock(mutex_);
        std::erase_if(inputs_, [&](const auto& in) { return in->pad == &pad; });
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::stream_start:
        case EventType::segment:
        case EventType::tags:
            return true; // ours are made for the MP4 byte stream
        case EventType::caps: {
            std::lock_guard lock(mutex_);
            if (!take_caps(pad, *event.caps_value())) {
                return false;
            }
            if (fragmented() && data_started_) {
                // The others' samples may have waited for this track's
                // sample entry.
                const Flow f = write_fragments(false);
                return f == Flow::ok || f == Flow::eos;
            }
            return true;
        }
        case EventType::eos: {
            std::lock_guard lock(mutex_);
            return end_input(pad);
        }
        case EventType::flush_start:
            return forward_event(pad, event);
        case EventType::flush_stop: {
            std::lock_guard lock(mutex_);
            // A new file: the tracks keep their caps, the samples go.
            for (auto& in : inputs_) {
                in->samples.clear();
                in->finished = false;
                in->first_dts.reset();
                in->first_pts.reset();
                in->moov_edits.reset();
                in->end_ns = 0;
                in->units_done = 0;
            }
            store_.clear();
            data_started_ = false;
            src_started_ = false;
            eos_sent_ = false;
            header_written_ = false;
            sequence_ = 0;
            offset_ = 0;
            return src_->push_event(std::move(event));
        }
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        std::lock_guard lock(mutex_);
        Input* in = find(pad);
        if (in == nullptr || !in->configured) {
            return context().error(
                Error(Errc::not_negotiated,
                      fmt::format("a buffer arrived on {} before its caps: the track's sample entry is unknown",
                                  pad.name())));
        }
        if (in->finished) {
            return Flow::eos;
        }
        data_started_ = true;
        in->last_arrival = std::chrono::steady_clock::now();
        const auto data = buffer.data();
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
        const Metadata& m = buffer.meta();
        Queued q;
        q.size = static_cast<std::uint32_t>(bytes.size());
        q.pts = m.pts();
        q.dts = m.dts().is_none() ? m.pts() : m.dts();
        q.duration = m.duration();
        q.sync = !in->video || !m.has_flag(BufferFlags::delta);
        if (q.dts.is_none()) {
            // Without timestamps a sample follows the previous one.
            const std::uint64_t t = in->samples.empty() ? in->end_ns : in->samples.back().dts.ns();
            q.dts = ClockTime::from_ns(t);
            q.pts = q.dts;
        }
        if (q.pts.is_none()) {
            q.pts = q.dts;
        }
        if (!in->video) {
            auto samples = opus::packet_samples(bytes);
            if (!samples) {
                return context().error(Error(Errc::corrupt, fmt::format("packet {} on {}: {}", in->packets, pad.name(),
                                                                        samples.error().message())));
            }
            q.opus_samples = *samples;
        }
        ++in->packets;
        if (!in->first_dts) {
            in->first_dts = q.dts;
        }
        in->first_pts = std::min(in->first_pts.value_or(q.pts), q.pts);
        const std::uint64_t end = q.pts.ns() + (q.duration.is_none() ? 0 : q.duration.ns());
        in->end_ns = std::max(in->end_ns, end);
        if (fragmented()) {
            q.bytes.assign(bytes.begin(), bytes.end());
        } else {
            auto at = store_.append(bytes);
            if (!at) {
                return context().error(at.error());
            }
            q.store_offset = *at;
        }
        in->samples.push_back(std::move(q));
        if (fragmented()) {
            return write_fragments(false);
        }
        return Flow::ok;
    }

private:
    struct Queued {
        std::vector<std::uint8_t> bytes; // fragmented output only
        std::uint64_t store_offset = 0;  // plain output: where the bytes are in store_
        std::uint32_t size = 0;
        ClockTime pts;
        ClockTime dts;
        ClockTime duration;
        bool sync = true;
        std::uint32_t opus_samples = 0;
    };
    struct Input {
        Pad* pad = nullptr;
        bool video = false;
        bool configured = false;
        Caps caps;
        std::vector<std::uint8_t> entry;
        std::uint32_t timescale = 90000;
        std::uint16_t width = 0;
        std::uint16_t height = 0;
        std::uint16_t pre_skip = 0;
        std::uint32_t track_id = 0;
        std::vector<Queued> samples; // all (plain) or not yet written (fragmented)
        std::optional<ClockTime> first_dts;
        std::optional<ClockTime> first_pts;
        std::optional<std::uint64_t> origin_ns;           // media time 0 (fragmented, once the moov is out)
        std::optional<std::vector<mp4::Edit>> moov_edits; // fragmented: in the moov, with these edits
        std::chrono::steady_clock::time_point last_arrival;
        std::uint64_t end_ns = 0;     // latest pts + duration
        std::uint64_t units_done = 0; // decode time of the next sample to write, in timescale
        std::uint64_t packets = 0;
        bool finished = false;
    };

    [[nodiscard]] bool fragmented() const { return fragment_duration_.get() > 0; }
    [[nodiscard]] std::uint32_t movie_timescale() const {
        return movie_timescale_.get() != 0 ? movie_timescale_.get() : 1000;
    }

    Input* find(const Pad& pad) {
        for (auto& in : inputs_) {
            if (in->pad == &pad) {
                return in.get();
            }
        }
        return nullptr;
    }

    [[nodiscard]] bool active(const Input& in) const { return !in.finished && in.pad->is_linked(); }

    void reset() {
        for (auto& in : inputs_) {
            in->configured = false;
            in->caps = Caps();
            in->entry.clear();
            in->samples.clear();
            in->first_dts.reset();
            in->first_pts.reset();
            in->origin_ns.reset();
            in->moov_edits.reset();
            in->end_ns = 0;
            in->units_done = 0;
            in->packets = 0;
            in->finished = false;
            in->last_arrival = std::chrono::steady_clock::now(); // a flush starts the wait over
        }
        store_.clear();
        data_started_ = false;
        src_started_ = false;
        eos_sent_ = false;
        header_written_ = false;
        sequence_ = 0;
        offset_ = 0;
    }

    bool caps_error(const Pad& pad, const Caps& caps, std::string_view what) {
        context().error(
            Error(Errc::not_negotiated, fmt::format("{}: caps {}: {}", pad.name(), caps.to_string(), what)));
        return false;
    }

    // A video track's timescale: 90 kHz when a frame lasts a whole number of
    // its ticks, else the framerate's numerator (scaled up to at least
    // 10000) so that frame durations stay exact.
    static std::uint32_t video_timescale(const Structure& s) {
        const auto fr = s.get_fraction("framerate");
        if (!fr || fr->num() <= 0 || fr->den() <= 0) {
            return 90000;
        }
        const auto num = static_cast<std::uint64_t>(fr->num());
        const auto den = static_cast<std::uint64_t>(fr->den());
        if ((std::uint64_t{90000} * den) % num == 0) {
            return 90000;
        }
        std::uint64_t ts = num;
        while (ts < 10000) {
            ts += num;
        }
        return ts <= 0xFFFFFFFFU ? static_cast<std::uint32_t>(ts) : 90000;
    }

    bool take_caps(Pad& pad, const Caps& caps) {
        Input* in = find(pad);
        if (in == nullptr) {
            return false;
        }
        if (in->configured) {
            if (in->caps != caps) {
                context().warning(fmt::format("{}: caps changed after the track was set up: the new caps {} are "
                                              "ignored (an MP4 track has one sample description here)",
                                              pad.name(), caps.to_string()));
            }
            return true;
        }
        if (caps.size() == 0) {
            return caps_error(pad, caps, "empty caps");
        }
        const Structure& s = caps.structure(0);
        const std::string& kind = s.name();
        if (in->video) {
            std::string_view format;
            std::string_view config;
            if (kind == "video/x-av1") {
                format = "av01";
                config = "av1C";
            } else if (kind == "video/x-h264") {
                if (s.get_string("stream-format").value_or("avc") != "avc") {
                    return caps_error(pad, caps, "H.264 needs stream-format=avc (length-prefixed NAL units)");
                }
                format = "avc1";
                config = "avcC";
            } else {
                return caps_error(pad, caps,
                                  "not supported on a video pad: mp4mux writes AV1 (video/x-av1) and H.264 "
                                  "(video/x-h264)");
            }
            const CapsValue* cd = s.get("codec_data");
            const Bytes* record = cd != nullptr ? cd->get_if<Bytes>() : nullptr;
            if (record == nullptr || record->data.empty()) {
                return caps_error(pad, caps,
                                  fmt::format("no codec_data buffer: the {} record of the sample entry is unknown "
                                              "(put a parser before mp4mux)",
                                              config));
            }
            std::int32_t width = s.get_int("width").value_or(0);
            std::int32_t height = s.get_int("height").value_or(0);
            if (kind == "video/x-av1") {
                auto seq = av1::parse_av1c(record->data);
                if (!seq) {
                    return caps_error(pad, caps, fmt::format("codec_data: {}", seq.error().message()));
                }
                if (width <= 0 || height <= 0) {
                    width = static_cast<std::int32_t>(seq->max_width);
                    height = static_cast<std::int32_t>(seq->max_height);
                }
            }
            if (width <= 0 || height <= 0 || width > 65535 || height > 65535) {
                return caps_error(pad, caps, "no usable width and height");
            }
            in->width = static_cast<std::uint16_t>(width);
            in->height = static_cast<std::uint16_t>(height);
            in->timescale = video_timescale(s);
            in->entry = mp4::make_visual_entry(format, in->width, in->height, config, record->data);
        } else {
            if (kind != "audio/x-opus") {
                return caps_error(pad, caps, "not supported on an audio pad: mp4mux writes Opus (audio/x-opus)");
            }
            auto head = opus::header_from_caps(caps);
            if (!head) {
                return caps_error(pad, caps, head.error().message());
            }
            in->timescale = opus::sample_rate;
            in->pre_skip = head->pre_skip;
            in->entry = mp4::make_opus_entry(*head);
        }
        in->caps = caps;
        in->configured = true;
        PARALLAX_DEBUG(mp4mux_log, "{}: {} is a {} track, timescale {}", name(), pad.name(), kind, in->timescale);
        return true;
    }

    bool end_input(Pad& pad) {
        Input* in = find(pad);
        if (in == nullptr) {
            return false;
        }
        in->finished = true;
        const bool all = std::none_of(inputs_.begin(), inputs_.end(), [&](const auto& i) { return active(*i); });
        if (!all) {
            if (fragmented()) {
                const Flow f = write_fragments(false);
                return f == Flow::ok || f == Flow::eos;
            }
            return true;
        }
        if (eos_sent_) {
            return true;
        }
        Flow f = fragmented() ? write_fragments(true) : write_plain();
        if (fragmented() && f == Flow::ok) {
            f = rewrite_header();
        }
        eos_sent_ = true;
        start_src();
        const bool ok = src_->push_event(Event::eos());
        return ok && (f == Flow::ok || f == Flow::eos);
    }

    void start_src() {
        if (src_started_) {
            return;
        }
        src_started_ = true;
        src_->push_event(Event::stream_start(fmt::format("{}/mp4", name())));
        src_->push_event(Event::caps(Caps::parse_static("video/quicktime, variant=(string)iso")));
        StreamSegment bytes;
        bytes.format = Format::bytes;
        src_->push_event(Event::segment(bytes));
    }

    Flow push_bytes(std::span<const std::uint8_t> bytes, bool header) {
        start_src();
        auto out = context().allocate(bytes.size());
        if (!out) {
            return context().error(out.error());
        }
        auto w = out->map_writable();
        if (!w) {
            return context().error(w.error());
        }
        std::memcpy(w->data(), bytes.data(), bytes.size());
        Metadata& m = out->meta();
        m.set_byte_offset(offset_);
        if (header) {
            m.set_flag(BufferFlags::header);
        }
        offset_ += bytes.size();
        return src_->push(std::move(*out));
    }

    // Tracks in pad order, those that have caps and samples (plain) or caps
    // (fragmented).
    std::vector<Input*> tracks(bool need_samples) {
        std::vector<Input*> out;
        for (auto& in : inputs_) {
            if (in->configured && (!need_samples || !in->samples.empty())) {
                out.push_back(in.get());
            }
        }
        std::uint32_t id = 1;
        for (Input* in : out) {
            in->track_id = id++;
        }
        return out;
    }

    // The time of media time 0 of `in`: its first decode time, unless the
    // moov fixed another (see the file comment).
    static std::uint64_t origin(const Input& in) {
        return in.origin_ns ? *in.origin_ns : (in.first_dts ? in.first_dts->ns() : 0);
    }

    // The decode time of sample `q` of `in` in its timescale, from the
    // track's media time 0.
    static std::uint64_t decode_units(const Input& in, const Queued& q) {
        const std::uint64_t first = origin(in);
        return to_units(q.dts.ns() > first ? q.dts.ns() - first : 0, in.timescale);
    }

    // The mp4 sample of `in`'s queued sample `i`; `next` is the next one's
    // decode time when known.
    static mp4::Sample sample_of(const Input& in, std::size_t i) {
        const Queued& q = in.samples[i];
        mp4::Sample s;
        s.size = q.size;
        s.sync = q.sync;
        if (!in.video) {
            s.duration = q.opus_samples;
            return s;
        }
        const std::uint64_t d = decode_units(in, q);
        std::uint64_t next = 0;
        if (i + 1 < in.samples.size()) {
            next = decode_units(in, in.samples[i + 1]);
        } else if (!q.duration.is_none() && q.duration.ns() > 0) {
            next = d + std::max<std::uint64_t>(to_units(q.duration.ns(), in.timescale), 1);
        } else if (i > 0) {
            next = d + (d - decode_units(in, in.samples[i - 1]));
        } else {
            next = d + 1;
        }
        s.duration = static_cast<std::uint32_t>(next > d ? next - d : 1);
        const std::uint64_t first = origin(in);
        const std::uint64_t p = to_units(q.pts.ns() > first ? q.pts.ns() - first : 0, in.timescale);
        s.composition_offset = static_cast<std::int32_t>(static_cast<std::int64_t>(p) - static_cast<std::int64_t>(d));
        return s;
    }

    // The edit list of `in` for a movie starting at `start_ns`; with
    // `open_ended` (fragments) the last edit has duration 0, "to the end".
    [[nodiscard]] std::vector<mp4::Edit> edits_of(const Input& in, std::uint64_t start_ns, bool open_ended) const {
        std::vector<mp4::Edit> edits;
        const std::uint32_t mts = movie_timescale();
        const std::uint64_t first_pts = in.first_pts ? in.first_pts->ns() : 0;
        const std::uint64_t empty = to_units(first_pts > start_ns ? first_pts - start_ns : 0, mts);
        if (empty > 0) {
            edits.push_back({empty, -1});
        }
        std::int64_t media_time = 0;
        if (in.video) {
            const std::uint64_t first = in.first_dts ? in.first_dts->ns() : 0;
            media_time = static_cast<std::int64_t>(to_units(first_pts > first ? first_pts - first : 0, in.timescale));
        } else {
            media_time = in.pre_skip;
        }
        if (media_time == 0 && edits.empty()) {
            return edits;
        }
        const std::uint64_t kept = in.end_ns > first_pts ? in.end_ns - first_pts : 0;
        edits.push_back({open_ended ? 0 : to_units(kept, mts), media_time});
        return edits;
    }

    [[nodiscard]] std::uint64_t movie_start() const {
        std::optional<std::uint64_t> start;
        for (const auto& in : inputs_) {
            if (in->configured && in->first_pts) {
                start = std::min(start.value_or(in->first_pts->ns()), in->first_pts->ns());
            }
        }
        return start.value_or(0);
    }

    // isom and iso6 (tfdt, default-base-is-moof), mp41, and the brand of
    // the AV1 binding when a track is AV1.
    [[nodiscard]] std::vector<std::uint8_t> ftyp() const {
        std::vector<std::string_view> brands = {"isom", "iso6", "mp41"};
        if (std::any_of(inputs_.begin(), inputs_.end(), [](const auto& in) {
                return in->configured && in->entry.size() > 8 && in->entry[4] == 'a' && in->entry[5] == 'v' &&
                       in->entry[6] == '0';
            })) {
            brands.emplace_back("av01");
        }
        return mp4::make_ftyp("isom", brands);
    }

    static mp4::Track track_of(const Input& in, std::vector<mp4::Edit> edits) {
        mp4::Track t;
        t.id = in.track_id;
        t.kind = in.video ? mp4::TrackKind::video : mp4::TrackKind::audio;
        t.timescale = in.timescale;
        t.sample_entry = in.entry;
        t.width = in.width;
        t.height = in.height;
        t.edits = std::move(edits);
        return t;
    }

    // A plain file, at end of stream: ftyp, moov, mdat.
    Flow write_plain() {
        const std::vector<Input*> ins = tracks(true);
        if (ins.empty()) {
            context().warning("no samples arrived: the MP4 file is empty");
            return Flow::ok;
        }
        const std::uint64_t start = movie_start();
        mp4::Movie movie;
        movie.timescale = movie_timescale();
        for (Input* in : ins) {
            mp4::Track t = track_of(*in, edits_of(*in, start, false));
            for (std::size_t i = 0; i < in->samples.size(); ++i) {
                t.samples.push_back(sample_of(*in, i));
            }
            movie.tracks.push_back(std::move(t));
        }
        // The mdat's order: runs of up to interleave_ns of one track, the
        // earliest waiting run first.
        struct Piece {
            std::size_t track;
            std::size_t sample;
        };
        std::vector<Piece> order;
        std::vector<std::size_t> next(ins.size(), 0);
        while (true) {
            std::optional<std::size_t> best;
            for (std::size_t k = 0; k < ins.size(); ++k) {
                if (next[k] < ins[k]->samples.size() &&
                    (!best || ins[k]->samples[next[k]].dts.ns() < ins[*best]->samples[next[*best]].dts.ns())) {
                    best = k;
                }
            }
            if (!best) {
                break;
            }
            const std::size_t k = *best;
            const std::uint64_t until = ins[k]->samples[next[k]].dts.ns() + interleave_ns;
            do {
                order.push_back({k, next[k]});
                ++next[k];
            } while (next[k] < ins[k]->samples.size() && ins[k]->samples[next[k]].dts.ns() < until);
        }
        const std::vector<std::uint8_t> head = ftyp();
        const std::vector<std::uint8_t> mdat = mp4::mdat_header(store_.size());
        // The moov's size depends on whether offsets need co64, and the
        // offsets on the moov's size: settle both.
        std::vector<std::uint8_t> moov;
        std::uint64_t moov_size = 0;
        for (int pass = 0; pass < 4; ++pass) {
            std::uint64_t at = head.size() + moov_size + mdat.size();
            for (const Piece& p : order) {
                mp4::Sample& s = movie.tracks[p.track].samples[p.sample];
                s.offset = at;
                at += s.size;
            }
            moov = mp4::make_moov(movie);
            if (moov.size() == moov_size) {
                break;
            }
            moov_size = moov.size();
        }
        std::vector<std::uint8_t> first = head;
        first.insert(first.end(), moov.begin(), moov.end());
        first.insert(first.end(), mdat.begin(), mdat.end());
        if (const Flow f = push_bytes(first, true); f != Flow::ok) {
            return f;
        }
        std::vector<std::uint8_t> pending;
        for (const Piece& p : order) {
            const Queued& q = ins[p.track]->samples[p.sample];
            const std::size_t at = pending.size();
            pending.resize(at + q.size);
            if (auto ok = store_.read(q.store_offset, std::span(pending).subspan(at, q.size)); !ok) {
                return context().error(ok.error());
            }
            if (pending.size() >= out_chunk) {
                if (const Flow f = push_bytes(pending, false); f != Flow::ok) {
                    return f;
                }
                pending.clear();
            }
        }
        if (!pending.empty()) {
            return push_bytes(pending, false);
        }
        return Flow::ok;
    }

    // True when `in` has sent nothing for latency of wall-clock time (never
    // with latency 0): fragments are no longer held back for it.
    [[nodiscard]] bool starved(const Input& in, std::chrono::steady_clock::time_point now) const {
        return latency_.get() > 0 && now - in.last_arrival >= std::chrono::nanoseconds(latency_.get());
    }

    // Fragments wait for `in`: with latency > 0 the timer tries again when
    // its wait runs out.
    Flow wait_for(const Input& in, std::chrono::steady_clock::time_point now) {
        if (latency_.get() > 0) {
            const auto left = in.last_arrival + std::chrono::nanoseconds(latency_.get()) - now;
            timer_.arm(context(), std::chrono::duration_cast<std::chrono::nanoseconds>(left), mutex_,
                       [this] { static_cast<void>(write_fragments(false)); });
        }
        return Flow::ok;
    }

    // Writes the fragments that can be cut; with `all` (every input ended),
    // the rest as the last one.
    Flow write_fragments(bool all) {
        const auto now = std::chrono::steady_clock::now();
        while (true) {
            // Every linked pad needs its sample entry before the moov.
            for (const auto& in : inputs_) {
                if (!in->configured && active(*in)) {
                    return Flow::ok;
                }
            }
            std::optional<std::uint64_t> begin;
            for (const auto& in : inputs_) {
                if (in->configured && !in->samples.empty()) {
                    begin = std::min(begin.value_or(in->samples.front().dts.ns()), in->samples.front().dts.ns());
                }
            }
            if (!begin) {
                return Flow::ok;
            }
            const std::uint64_t due = *begin + fragment_duration_.get() * std::uint64_t{1'000'000};
            std::optional<std::uint64_t> cut;
            const Input* reference = nullptr;
            for (const auto& in : inputs_) {
                if (in->configured && in->video) {
                    reference = in.get();
                    break;
                }
            }
            if (reference != nullptr) {
                for (std::size_t i = 1; i < reference->samples.size(); ++i) {
                    const Queued& q = reference->samples[i];
                    if (q.sync && q.dts.ns() >= due) {
                        cut = q.dts.ns();
                        break;
                    }
                }
                if (!cut && reference->finished) {
                    // The video has ended: the audio that goes on is cut
                    // by the duration, after the video's last samples.
                    const std::uint64_t last = reference->samples.empty() ? 0 : reference->samples.back().dts.ns() + 1;
                    cut = std::max(due, last);
                }
                if (!cut && !all && active(*reference)) {
                    if (!starved(*reference, now)) {
                        return wait_for(*reference, now);
                    }
                    cut = due; // the video is silent: the duration cuts
                }
            } else {
                cut = due;
            }
            if (!cut && !all) {
                return Flow::ok;
            }
            if (cut && !all) {
                // Every track still running must have reached the cut, so
                // that the fragment holds all of its samples before it
                // (unless it starved: its samples go into later ones).
                for (const auto& in : inputs_) {
                    if (active(*in) && (in->samples.empty() || in->samples.back().dts.ns() < *cut) &&
                        !starved(*in, now)) {
                        return wait_for(*in, now);
                    }
                }
            }
            const std::uint64_t end = all && !cut ? ~std::uint64_t{0} : *cut;
            if (const Flow f = write_fragment(end); f != Flow::ok) {
                return f;
            }
            if (end == ~std::uint64_t{0}) {
                return Flow::ok;
            }
        }
    }

    Flow write_header() {
        const std::uint64_t start = movie_start();
        for (Input* in : tracks(false)) {
            in->moov_edits = edits_of(*in, start, true);
            in->origin_ns = in->first_dts ? in->first_dts->ns() : start;
        }
        moov_start_ns_ = start;
        const std::vector<std::uint8_t> bytes = fragmented_head(false);
        header_size_ = bytes.size();
        header_written_ = true;
        return push_bytes(bytes, true);
    }

    // ftyp and the moov of a fragmented file. At the start the edits last
    // "to the end" and mehd says 0; at the end (`closed`) each track's last
    // edit lasts to the track's end, and mehd holds the movie's duration.
    [[nodiscard]] std::vector<std::uint8_t> fragmented_head(bool closed) const {
        mp4::Movie movie;
        movie.timescale = movie_timescale();
        movie.fragmented = true;
        for (const auto& in : inputs_) {
            if (!in->moov_edits) {
                continue;
            }
            mp4::Track t = track_of(*in, *in->moov_edits);
            const std::uint64_t end =
                to_units(in->end_ns > moov_start_ns_ ? in->end_ns - moov_start_ns_ : 0, movie.timescale);
            if (closed && !t.edits.empty() && t.edits.back().media_time >= 0) {
                std::uint64_t before = 0;
                for (std::size_t i = 0; i + 1 < t.edits.size(); ++i) {
                    before += t.edits[i].segment_duration;
                }
                t.edits.back().segment_duration = end > before ? end - before : 0;
            }
            if (closed) {
                movie.fragment_duration = std::max(movie.fragment_duration, end);
            }
            movie.tracks.push_back(std::move(t));
        }
        std::vector<std::uint8_t> bytes = ftyp();
        const std::vector<std::uint8_t> moov = mp4::make_moov(movie);
        bytes.insert(bytes.end(), moov.begin(), moov.end());
        return bytes;
    }

    // At the end of a fragmented file, where downstream can seek: back to
    // byte 0 with the closed header. Only at the first header's size (a
    // larger one would overwrite the first fragment): a duration that needs
    // 64 bits where the first had 32 changes it, and then the file stays
    // as first written, valid without the durations.
    Flow rewrite_header() {
        Query seeking = Query::seeking(Format::bytes);
        if (!header_written_ || !src_->peer_query(seeking) || !seeking.seekable() || seeking.seek_start() > 0) {
            return Flow::ok;
        }
        const std::vector<std::uint8_t> bytes = fragmented_head(true);
        if (bytes.size() != header_size_) {
            context().warning(fmt::format("{}: the header with the durations takes {} bytes where the first took "
                                          "{}: the first stays, without the durations",
                                          name(), bytes.size(), header_size_));
            return Flow::ok;
        }
        StreamSegment segment;
        segment.format = Format::bytes;
        if (!src_->push_event(Event::segment(segment))) {
            return Flow::ok;
        }
        offset_ = 0;
        return push_bytes(bytes, true);
    }

    // One moof + mdat with every sample whose decode time is before `end`.
    Flow write_fragment(std::uint64_t end) {
        if (!header_written_) {
            if (const Flow f = write_header(); f != Flow::ok) {
                return f;
            }
        }
        std::vector<mp4::FragmentTrack> runs;
        std::vector<std::uint8_t> payload;
        for (auto& in : inputs_) {
            if (!in->configured || in->samples.empty()) {
                continue;
            }
            std::size_t n = 0;
            while (n < in->samples.size() && in->samples[n].dts.ns() < end) {
                ++n;
            }
            if (n == 0) {
                continue;
            }
            mp4::FragmentTrack run;
            run.track_id = in->track_id;
            if (!in->video) {
                // Opus runs on its sample counts, unless its time is well
                // ahead of them: a gap (a starved live source) or a late
                // start. Past the first packet, whose pts excludes the
                // pre-skip, media time is pts + pre-skip.
                const std::uint64_t by_time =
                    decode_units(*in, in->samples.front()) + (in->units_done > 0 ? in->pre_skip : 0);
                if (by_time > in->units_done + in->timescale / 10) {
                    in->units_done = by_time;
                }
            }
            run.base_decode_time = in->video ? decode_units(*in, in->samples.front()) : in->units_done;
            for (std::size_t i = 0; i < n; ++i) {
                run.samples.push_back(sample_of(*in, i));
                payload.insert(payload.end(), in->samples[i].bytes.begin(), in->samples[i].bytes.end());
                in->units_done += run.samples.back().duration;
            }
            in->samples.erase(in->samples.begin(), in->samples.begin() + static_cast<std::ptrdiff_t>(n));
            runs.push_back(std::move(run));
        }
        if (runs.empty()) {
            return Flow::ok;
        }
        std::vector<std::uint8_t> bytes = mp4::make_moof(++sequence_, runs);
        const std::vector<std::uint8_t> mdat = mp4::mdat_header(payload.size());
        bytes.insert(bytes.end(), mdat.begin(), mdat.end());
        bytes.insert(bytes.end(), payload.begin(), payload.end());
        PARALLAX_DEBUG(mp4mux_log, "{}: fragment {} of {} bytes", name(), sequence_, bytes.size());
        return push_bytes(bytes, false);
    }

    Pad* src_ = nullptr;
    std::mutex mutex_; // serializes every input and what leaves src_
    std::vector<std::unique_ptr<Input>> inputs_;
    detail::MuxTimer timer_; // ends the wait for a silent track (latency)
    SampleStore store_;
    bool data_started_ = false;
    bool src_started_ = false;
    bool eos_sent_ = false;
    bool header_written_ = false;
    std::uint64_t moov_start_ns_ = 0; // the movie's start when the moov was written (fragmented)
    std::size_t header_size_ = 0;     // of ftyp + moov (fragmented)
    std::uint32_t sequence_ = 0;
    std::uint64_t offset_ = 0;

    Property<std::uint32_t> fragment_duration_{this, "fragment-duration", 0,
                                               "Fragment durations in ms (produce a fragmented file if > 0)"};
    Property<std::uint64_t> latency_{this, "latency", 0,
                                     "Longest wall-clock wait (ns) for a silent track before a fragment is cut "
                                     "without it (live sources; its later samples go into later fragments); 0 "
                                     "waits for every track. As GStreamer's aggregator property; a plain file "
                                     "(fragment-duration 0) is written at end of stream and never waits",
                                     PropertyRange<std::uint64_t>{0, 3'600'000'000'000}};
    Property<bool> faststart_{this, "faststart", false,
                              "If the file should be formatted for faststart (headers first); kept for GStreamer "
                              "compatibility: a plain file is always written with moov before mdat"};
    Property<std::uint32_t> movie_timescale_{this, "movie-timescale", 0,
                                             "Timescale to use in the movie (units per second, 0 == default, "
                                             "1000)"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Mp4Mux);
