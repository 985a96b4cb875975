// tsdemux: reads an MPEG-2 transport stream as filesrc (or a network
// source) pushes it, cut anywhere, and pushes the H.264, Opus, AV1 and KLV
// streams of one program out of pads of their own, named as GStreamer's
// tsdemux names them: video_<generation>_<pid> (0 for the first program, counting up when another replaces it),
// audio_..., private_...
//
// The packet layer (sync, PAT/PMT, PES joining, continuity, 33-bit
// timestamps) is mpegts::Demuxer. Here each PES becomes buffers:
// H.264 access units in byte-stream form, Opus packets without their
// control headers, AV1 temporal units as low-overhead OBUs, KLV packets.
//
// Times: every timestamp of the program is moved by one base, the smallest
// of the first PTS/DTS of each stream, so the program starts near 0 and
// DTS stays before PTS. Output waits (bounded) until each stream has shown
// its first timestamp. Opus follows the timing convention of
// parallax/codec/opus.hpp: the first packet's start_trim is the pre-skip
// of the caps, and pts/duration describe only the audio kept (start_trim
// and end_trim removed).

#include <parallax/base/log.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mpegts.hpp>
#include <parallax/container/mpegts_demux.hpp>
#include <parallax/element.hpp>
#include <parallax/klv/klv_packet.hpp>

#include "container/demux_streams.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory tsdemux_log("tsdemux", "tsdemux: MPEG transport stream demuxer");

constexpr unsigned max_ts_warnings = 8;
// PES packets held while the program's time base is not known yet.
constexpr std::size_t max_held_pes = 1000;
constexpr std::size_t max_held_bytes = std::size_t{32} << 20;
constexpr std::int64_t max_held_ticks = 90'000; // 1 s
// KLV bytes waiting for the rest of their packet.
constexpr std::size_t max_klv_pending = klv::default_max_packet_size;

ClockTime samples_to_time(std::int64_t samples) {
    if (samples <= 0) {
        return ClockTime::zero();
    }
    __extension__ using Wide = unsigned __int128;
    return ClockTime::from_ns(
        static_cast<std::uint64_t>(static_cast<Wide>(samples) * ClockTime::ns_per_s / opus::sample_rate));
}

ClockTime ticks_to_time(std::int64_t ticks) {
    return ticks <= 0
               ? ClockTime::zero()
               : ClockTime::from_ns(static_cast<std::uint64_t>(mpegts::pts_to_ns(static_cast<std::uint64_t>(ticks))));
}

// The OpusHead that a channel_config_code stands for (the Opus-in-TS
// draft's table, as ffmpeg reads it: Vorbis order from 3 channels on).
opus::Header opus_header_for(std::uint8_t code, std::uint16_t pre_skip) {
    static constexpr std::array<std::uint8_t, 9> streams{1, 1, 1, 2, 2, 3, 4, 4, 5};
    static constexpr std::array<std::uint8_t, 9> coupled{1, 0, 1, 1, 2, 2, 2, 3, 3};
    static constexpr std::array<std::array<std::uint8_t, 8>, 8> maps{{{0},
                                                                      {0, 1},
                                                                      {0, 2, 1},
                                                                      {0, 1, 2, 3},
                                                                      {0, 4, 1, 2, 3},
                                                                      {0, 4, 1, 2, 3, 5},
                                                                      {0, 4, 1, 2, 3, 5, 6},
                                                                      {0, 6, 1, 2, 3, 4, 5, 7}}};
    opus::Header h;
    h.pre_skip = pre_skip;
    if (code == 0) { // dual mono: two uncoupled streams
        h.channels = 2;
        h.mapping_family = 255;
        h.stream_count = 2;
        h.coupled_count = 0;
        h.mapping = {0, 1};
        return h;
    }
    h.channels = code;
    if (code <= 2) {
        h.mapping_family = 0;
        h.stream_count = 1;
        h.coupled_count = static_cast<std::uint8_t>(code - 1);
        return h;
    }
    h.mapping_family = 1;
    h.stream_count = streams[code];
    h.coupled_count = coupled[code];
    h.mapping.assign(maps[code - 1].begin(), maps[code - 1].begin() + code);
    return h;
}

class TsDemux final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "tsdemux",
        .klass = "Codec/Demuxer",
        .summary = "Demuxes MPEG transport streams into their H.264, Opus, AV1 and KLV streams",
        .description =
            "Reads an MPEG-2 transport stream (188-byte packets, cut anywhere; garbage between packets is "
            "skipped) and adds a pad for every H.264 (video_<generation>_<pid>, as GStreamer names them), AV1 "
            "(video_...), Opus "
            "(audio_...) and KLV (private_..., synchronous ST 1402 cells or asynchronous 'KLVA' private "
            "data) stream of the program chosen by program-number, following PAT and PMT updates. Pushes "
            "H.264 access units (byte-stream, caps from the SPS, IDR key frames), Opus packets (caps from the "
            "channel configuration, pre-skip and end trimming from the control headers), AV1 temporal units "
            "(obu-stream with av1C codec_data from the descriptor and sequence header) and one buffer per KLV "
            "packet. PTS and DTS are unwrapped and start near 0. Continuity gaps, damaged sections and "
            "truncated input give warnings and a discont flag; other stream types are skipped with a warning.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always,
                 Caps::parse_static("video/mpegts, systemstream=(boolean)true")},
                {"video_%s", PadDirection::src, PadPresence::sometimes,
                 Caps::parse_static("video/x-h264, stream-format=(string)byte-stream, alignment=(string)au; "
                                    "video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu")},
                {"audio_%s", PadDirection::src, PadPresence::sometimes, Caps::parse_static("audio/x-opus")},
                {"private_%s", PadDirection::src, PadPresence::sometimes,
                 Caps::parse_static("meta/x-klv, parsed=(boolean)true")}};
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
            // Each stream gets its own.
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
        received_ += bytes.size();
        auto events = demux_->push({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
        if (const Flow f = take(events); f != Flow::ok) {
            return f;
        }
        return combined_flow();
    }

private:
    struct Stream {
        mpegts::StreamInfo info;
        Pad* pad = nullptr;
        bool started = false; // stream-start, caps and segment went out
        bool ended = false;   // removed from the program: eos sent
        Caps caps;            // the last caps sent
        Flow last = Flow::ok;
        bool discont = true;
        unsigned warnings = 0;
        std::optional<std::int64_t> first_ts; // for the time base
        // H.264
        std::optional<h264::Sps> sps;
        std::optional<Fraction> framerate;
        bool sps_changed = false;                            // the caps sent do not say what `sps` says
        std::vector<std::vector<std::uint8_t>> pending_nals; // a PES without a picture yet
        std::optional<std::int64_t> pending_pts;
        std::optional<std::int64_t> pending_dts;
        std::uint64_t pending_offset = 0;
        // Opus
        std::optional<std::uint8_t> channel_config;
        bool opus_head_known = false;
        std::optional<ClockTime> next_opus; // end of the last packet, before trimming
        // AV1
        std::optional<av1::SequenceHeader> seq;
        std::vector<std::uint8_t> seq_obu;
        std::vector<std::uint8_t> av1c_head; // the descriptor's four bytes
        // KLV
        std::vector<std::uint8_t> klv_pending;
        std::optional<std::int64_t> klv_pts;
    };

    void reset() {
        mpegts::Demuxer::Options o;
        o.program_number = program_number_.get();
        demux_ = std::make_unique<mpegts::Demuxer>(o);
        for (auto& [pid, s] : streams_) {
            static_cast<void>(pid);
            s.pad = nullptr;
        }
        streams_.clear();
        held_.clear();
        held_bytes_ = 0;
        held_first_.reset();
        held_last_.reset();
        base_.reset();
        received_ = 0;
        failed_ = false;
        warnings_ = 0;
        program_number_seen_ = 0;
        program_generation_ = 0;
    }

    void warn(unsigned& count, std::string text) {
        if (count < max_ts_warnings) {
            context().warning(std::move(text));
        } else {
            PARALLAX_INFO(tsdemux_log, "{}: {}", name(), text);
        }
        ++count;
    }

    Flow fail_with(Error e) {
        failed_ = true;
        return context().error(std::move(e));
    }

    Flow take(std::vector<mpegts::DemuxEvent>& events) {
        for (mpegts::DemuxEvent& e : events) {
            switch (e.type) {
            case mpegts::DemuxEvent::Type::problem:
                warn(warnings_, e.problem ? e.problem->message() : std::string("damaged input"));
                break;
            case mpegts::DemuxEvent::Type::program:
                if (const Flow f = take_program(e.program); f != Flow::ok) {
                    return f;
                }
                break;
            case mpegts::DemuxEvent::Type::pes:
                if (const Flow f = take_pes(std::move(e.pes)); f != Flow::ok) {
                    return f;
                }
                break;
            }
        }
        return Flow::ok;
    }

    Flow take_program(const mpegts::ProgramInfo& program) {
        // Pads are named, as in GStreamer, by the program's generation: 0
        // for the first program seen, counting up when another replaces it.
        if (program_number_seen_ != 0 && program.program_number != program_number_seen_) {
            ++program_generation_;
        }
        program_number_seen_ = program.program_number;
        // PES of streams about to go or change still go out first.
        if (!program.removed.empty() && !held_.empty()) {
            if (const Flow f = release_held(); f != Flow::ok) {
                return f;
            }
        }
        for (const std::uint16_t pid : program.removed) {
            auto it = streams_.find(pid);
            if (it == streams_.end()) {
                continue;
            }
            std::erase_if(held_, [pid](const mpegts::PesPacket& p) { return p.pid == pid; });
            end_stream(it->second);
            streams_.erase(it);
        }
        for (const std::uint16_t pid : program.added) {
            const auto found = std::find_if(program.streams.begin(), program.streams.end(),
                                            [pid](const mpegts::StreamInfo& s) { return s.pid == pid; });
            if (found == program.streams.end() || found->codec == mpegts::CodecKind::unknown) {
                continue;
            }
            Stream s;
            s.info = *found;
            const char* kind = found->codec == mpegts::CodecKind::opus  ? "audio"
                               : found->codec == mpegts::CodecKind::klv ? "private"
                                                                        : "video";
            const std::string pad_name = fmt::format("{}_{:01x}_{:04x}", kind, program_generation_ & 0xF, pid);
            Pad* pad = this->pad(pad_name);
            if (pad == nullptr) {
                auto added = add_sometimes_pad(fmt::format("{}_%s", kind), pad_name);
                if (!added) {
                    return fail_with(added.error());
                }
                pad = *added;
            }
            s.pad = pad;
            if (found->codec == mpegts::CodecKind::opus) {
                for (const mpegts::Descriptor& d : found->descriptors) {
                    auto code = mpegts::opus_channel_config(d);
                    if (!code) {
                        warn(warnings_, fmt::format("PID 0x{:04x}: {}", pid, code.error().message()));
                    } else if (*code) {
                        s.channel_config = **code;
                    }
                }
                if (!s.channel_config) {
                    warn(warnings_, fmt::format("PID 0x{:04x}: Opus stream without an Opus audio descriptor: "
                                                "taken as stereo",
                                                pid));
                    s.channel_config = 2;
                }
            }
            if (found->codec == mpegts::CodecKind::av1) {
                for (const mpegts::Descriptor& d : found->descriptors) {
                    if (d.tag == mpegts::descriptor_tag::av1_video) {
                        if (auto head = mpegts::av1c_from_descriptor(d)) {
                            s.av1c_head = std::move(*head);
                        }
                    }
                }
            }
            streams_[pid] = std::move(s);
        }
        return Flow::ok;
    }

    Flow take_pes(mpegts::PesPacket&& pes) {
        auto it = streams_.find(pes.pid);
        if (it == streams_.end()) {
            return Flow::ok;
        }
        Stream& s = it->second;
        if (!s.first_ts) {
            if (auto t = first_time_of(s, pes)) {
                s.first_ts = *t;
            }
        }
        if (base_) {
            return push_pes(s, pes);
        }
        held_bytes_ += pes.payload.size();
        if (pes.pts) {
            held_first_ = std::min(held_first_.value_or(*pes.pts), *pes.pts);
            held_last_ = std::max(held_last_.value_or(*pes.pts), *pes.pts);
        }
        held_.push_back(std::move(pes));
        const bool all_known = std::all_of(streams_.begin(), streams_.end(),
                                           [](const auto& kv) { return kv.second.first_ts.has_value(); });
        // A stream that stays silent holds the others back a second at most.
        const bool long_wait = held_first_ && *held_last_ - *held_first_ > max_held_ticks;
        if (all_known || long_wait || held_.size() > max_held_pes || held_bytes_ > max_held_bytes) {
            return release_held();
        }
        return Flow::ok;
    }

    // The earliest time of a stream's first timestamped PES: its DTS or
    // PTS, for Opus where the kept audio starts (PTS + start_trim).
    static std::optional<std::int64_t> first_time_of(const Stream& s, const mpegts::PesPacket& pes) {
        if (!pes.pts) {
            return std::nullopt;
        }
        std::int64_t t = pes.dts ? std::min(*pes.pts, *pes.dts) : *pes.pts;
        if (s.info.codec == mpegts::CodecKind::opus) {
            if (auto h = mpegts::parse_opus_control_header(pes.payload)) {
                t += static_cast<std::int64_t>(h->start_trim) * 90'000 / opus::sample_rate;
            }
        }
        return t;
    }

    // Fixes the time base and pushes what waited for it.
    Flow release_held() {
        if (!base_) {
            for (const auto& [pid, s] : streams_) {
                static_cast<void>(pid);
                if (s.first_ts && (!base_ || *s.first_ts < *base_)) {
                    base_ = *s.first_ts;
                }
            }
            if (!base_ && !held_.empty()) {
                base_ = 0; // no timestamps at all
            }
            if (!base_) {
                return Flow::ok;
            }
        }
        std::deque<mpegts::PesPacket> held = std::move(held_);
        held_.clear();
        held_bytes_ = 0;
        for (mpegts::PesPacket& pes : held) {
            auto it = streams_.find(pes.pid);
            if (it == streams_.end()) {
                continue;
            }
            if (const Flow f = push_pes(it->second, pes); f != Flow::ok) {
                return f;
            }
        }
        return Flow::ok;
    }

    [[nodiscard]] ClockTime time_of(std::optional<std::int64_t> ticks) const {
        if (!ticks) {
            return ClockTime::none();
        }
        return ticks_to_time(*ticks - base_.value_or(0));
    }

    Flow push_pes(Stream& s, mpegts::PesPacket& pes) {
        if (pes.discontinuity) {
            s.discont = true;
        }
        switch (s.info.codec) {
        case mpegts::CodecKind::h264:
            return push_h264(s, pes);
        case mpegts::CodecKind::opus:
            return push_opus(s, pes);
        case mpegts::CodecKind::av1:
            return push_av1(s, pes);
        case mpegts::CodecKind::klv:
            return push_klv(s, pes);
        case mpegts::CodecKind::unknown:
            break;
        }
        return Flow::ok;
    }

    void start_pad(Stream& s, Caps caps) {
        if (!s.started) {
            detail::start_stream(*s.pad, fmt::format("{}/{:04x}", name(), s.info.pid), caps);
            s.started = true;
            s.caps = std::move(caps);
        } else if (!(caps == s.caps)) {
            s.pad->push_event(Event::caps(caps));
            s.caps = std::move(caps);
        }
    }

    [[nodiscard]] static Caps basic_caps(const Stream& s) {
        switch (s.info.codec) {
        case mpegts::CodecKind::h264:
            return Caps::parse_static("video/x-h264, stream-format=(string)byte-stream, alignment=(string)au");
        case mpegts::CodecKind::av1:
            return Caps::parse_static("video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu");
        case mpegts::CodecKind::opus:
            return opus::caps_for(opus_header_for(s.channel_config.value_or(2), 0));
        case mpegts::CodecKind::klv:
        case mpegts::CodecKind::unknown:
            break;
        }
        return Caps::parse_static("meta/x-klv, parsed=(boolean)true");
    }

    Flow push_bytes(Stream& s, std::span<const std::uint8_t> bytes, ClockTime pts, ClockTime dts, ClockTime duration,
                    std::uint64_t offset, std::optional<bool> key) {
        auto out = context().allocate(bytes.size());
        if (!out) {
            return fail_with(out.error());
        }
        if (!bytes.empty()) {
            auto w = out->map_writable();
            if (!w) {
                return fail_with(w.error());
            }
            std::memcpy(w->data(), bytes.data(), bytes.size());
        }
        Metadata& m = out->meta();
        m.set_pts(pts);
        m.set_dts(dts);
        m.set_duration(duration);
        m.set_byte_offset(offset);
        if (key) {
            m.set_flag(*key ? BufferFlags::keyframe : BufferFlags::delta);
        }
        if (s.discont) {
            m.set_flag(BufferFlags::discont);
            s.discont = false;
        }
        s.last = s.pad->is_linked() ? s.pad->push(std::move(*out)) : Flow::not_linked;
        if (s.last != Flow::ok && s.last != Flow::not_linked && s.last != Flow::eos) {
            return s.last;
        }
        return Flow::ok;
    }

    // --- H.264 ---------------------------------------------------------

    Flow push_h264(Stream& s, const mpegts::PesPacket& pes) {
        auto nals = h264::split_annex_b(pes.payload);
        if (!nals) {
            warn(s.warnings, fmt::format("PID 0x{:04x}: the PES packet at byte {} is not an H.264 byte stream ({}): "
                                         "dropped",
                                         s.info.pid, pes.offset, nals.error().message()));
            s.discont = true;
            return Flow::ok;
        }
        if (s.pending_nals.empty() && !nals->empty()) {
            if (auto au = whole_access_unit(pes.payload, *nals)) {
                return push_whole_au(s, pes, *au, *nals);
            }
        }
        // One access unit per PES is the rule; a PES with several is split,
        // one without a picture (parameter sets only) joins the next.
        h264::AccessUnitSplitter splitter;
        for (const auto& n : s.pending_nals) {
            if (auto nal = h264::parse_nal(n, 0)) {
                static_cast<void>(splitter.starts_access_unit(*nal));
            }
        }
        if (s.pending_nals.empty()) {
            s.pending_pts = pes.pts;
            s.pending_dts = pes.dts;
            s.pending_offset = pes.offset;
        }
        bool first_of_pes = true;
        for (const h264::Nal& nal : *nals) {
            auto starts = splitter.starts_access_unit(nal);
            if (starts && *starts && !s.pending_nals.empty() && splitter_had_picture(s)) {
                if (const Flow f = push_au(s); f != Flow::ok) {
                    return f;
                }
                if (first_of_pes) {
                    s.pending_pts = pes.pts;
                    s.pending_dts = pes.dts;
                } else {
                    s.pending_pts.reset();
                    s.pending_dts.reset();
                }
                s.pending_offset = pes.offset;
            }
            first_of_pes = false;
            if (nal.type == h264::NalType::sps) {
                note_sps(s, nal);
            }
            s.pending_nals.emplace_back(nal.bytes.begin(), nal.bytes.end());
        }
        if (splitter_had_picture(s)) {
            return push_au(s);
        }
        return Flow::ok;
    }

    // The bytes of `payload` from the first start code to the end of the
    // last NAL unit when they are exactly one access unit with a picture
    // (the rule: one access unit per PES), or nothing.
    static std::optional<std::span<const std::uint8_t>> whole_access_unit(std::span<const std::uint8_t> payload,
                                                                          const std::vector<h264::Nal>& nals) {
        h264::AccessUnitSplitter splitter;
        for (std::size_t i = 0; i < nals.size(); ++i) {
            auto starts = splitter.starts_access_unit(nals[i]);
            if (starts && *starts && i > 0) {
                return std::nullopt;
            }
        }
        if (!splitter.has_picture()) {
            return std::nullopt;
        }
        const std::uint8_t* first = nals.front().bytes.data();
        const std::uint8_t* end = nals.back().bytes.data() + nals.back().bytes.size();
        auto begin = static_cast<std::size_t>(first - payload.data());
        if (begin < 3) {
            return std::nullopt;
        }
        begin -= 3; // the start code 00 00 01, with its leading zero when there is one
        if (begin > 0 && payload[begin - 1] == 0) {
            --begin;
        }
        return payload.subspan(begin, static_cast<std::size_t>(end - payload.data()) - begin);
    }

    Flow push_whole_au(Stream& s, const mpegts::PesPacket& pes, std::span<const std::uint8_t> au,
                       const std::vector<h264::Nal>& nals) {
        for (const h264::Nal& nal : nals) {
            if (nal.type == h264::NalType::sps) {
                note_sps(s, nal);
            }
        }
        start_h264_pad(s);
        const ClockTime pts = time_of(pes.pts);
        const ClockTime dts = pes.dts ? time_of(pes.dts) : pts;
        return push_bytes(s, au, pts, dts, frame_duration(s), pes.offset, h264::is_idr(nals));
    }

    static void note_sps(Stream& s, const h264::Nal& nal) {
        if (auto sps = h264::parse_sps(nal.bytes)) {
            if (!s.sps || !(*s.sps == *sps)) {
                s.sps = *sps;
                s.framerate = sps->framerate();
                s.sps_changed = true;
            }
        }
    }

    // Caps are built again only when the SPS changed, not for every access unit.
    void start_h264_pad(Stream& s) {
        if (s.started && !s.sps_changed) {
            return;
        }
        s.sps_changed = false;
        start_pad(s, s.sps ? h264::caps_for(*s.sps, "byte-stream", "au") : basic_caps(s));
    }

    [[nodiscard]] static ClockTime frame_duration(const Stream& s) {
        if (s.framerate && s.framerate->num() > 0) {
            return ClockTime::from_ns(static_cast<std::uint64_t>(s.framerate->den()) * ClockTime::ns_per_s /
                                      static_cast<std::uint64_t>(s.framerate->num()));
        }
        return ClockTime::none();
    }

    static bool splitter_had_picture(const Stream& s) {
        return std::any_of(s.pending_nals.begin(), s.pending_nals.end(), [](const std::vector<std::uint8_t>& n) {
            return !n.empty() && h264::is_vcl(static_cast<h264::NalType>(n[0] & 0x1F));
        });
    }

    Flow push_au(Stream& s) {
        std::vector<std::uint8_t> au;
        std::vector<h264::Nal> parsed;
        std::size_t total = 0;
        for (const auto& n : s.pending_nals) {
            total += 4 + n.size();
        }
        au.reserve(total);
        for (const auto& n : s.pending_nals) {
            au.insert(au.end(), {0, 0, 0, 1});
            au.insert(au.end(), n.begin(), n.end());
        }
        for (const auto& n : s.pending_nals) {
            if (auto nal = h264::parse_nal(n, 0)) {
                parsed.push_back(*nal);
            }
        }
        const bool key = h264::is_idr(parsed);
        s.pending_nals.clear();
        start_h264_pad(s);
        const ClockTime pts = time_of(s.pending_pts);
        const ClockTime dts = s.pending_dts ? time_of(s.pending_dts) : pts;
        s.pending_pts.reset();
        s.pending_dts.reset();
        return push_bytes(s, au, pts, dts, frame_duration(s), s.pending_offset, key);
    }

    // --- Opus ----------------------------------------------------------

    Flow push_opus(Stream& s, const mpegts::PesPacket& pes) {
        std::span<const std::uint8_t> rest(pes.payload);
        // Where the PES starts: its PTS (the first packet's start, trimming
        // included), or the end of the last packet. A PTS before the base
        // (the start trim of the first packet) counts back in samples.
        ClockTime pes_start = s.next_opus.value_or(ClockTime::zero());
        std::int64_t lead_samples = 0;
        if (pes.pts) {
            const std::int64_t rel = *pes.pts - base_.value_or(0);
            pes_start = ticks_to_time(rel);
            if (rel < 0) {
                lead_samples = rel * opus::sample_rate / 90'000;
            }
        }
        std::int64_t offset_samples = 0;
        while (!rest.empty()) {
            auto h = mpegts::parse_opus_control_header(rest);
            if (!h || h->header_size + h->au_size > rest.size()) {
                warn(s.warnings,
                     fmt::format("PID 0x{:04x}: the PES packet at byte {}: {}: its other Opus packets are "
                                 "dropped",
                                 s.info.pid, pes.offset,
                                 h ? fmt::format("an Opus packet of {} bytes runs past the PES's end", h->au_size)
                                   : h.error().message()));
                s.discont = true;
                break;
            }
            const auto packet = rest.subspan(h->header_size, h->au_size);
            rest = rest.subspan(h->header_size + h->au_size);
            auto samples = opus::packet_samples(packet);
            if (!samples) {
                warn(s.warnings, fmt::format("PID 0x{:04x}: an Opus packet in the PES at byte {}: {}", s.info.pid,
                                             pes.offset, samples.error().message()));
            }
            const std::int64_t n = samples ? *samples : 0;
            if (!s.opus_head_known) {
                s.opus_head_known = true;
                start_pad(s, opus::caps_for(opus_header_for(s.channel_config.value_or(2), h->start_trim)));
            }
            const std::int64_t packet_begin = lead_samples + offset_samples;
            const std::int64_t kept_begin = packet_begin + std::min<std::int64_t>(h->start_trim, n);
            const std::int64_t kept_end = std::max(kept_begin, packet_begin + n - h->end_trim);
            const ClockTime pts = pes_start + samples_to_time(std::max<std::int64_t>(kept_begin, 0));
            const ClockTime end = pes_start + samples_to_time(std::max<std::int64_t>(kept_end, 0));
            offset_samples += n;
            s.next_opus = pes_start + samples_to_time(std::max<std::int64_t>(lead_samples + offset_samples, 0));
            if (const Flow f = push_bytes(s, packet, pts, ClockTime::none(), ClockTime::from_ns(end.ns() - pts.ns()),
                                          pes.offset, std::nullopt);
                f != Flow::ok) {
                return f;
            }
        }
        return Flow::ok;
    }

    // --- AV1 -----------------------------------------------------------

    Flow push_av1(Stream& s, const mpegts::PesPacket& pes) {
        auto tu = mpegts::av1_from_start_code(pes.payload);
        if (!tu) {
            warn(s.warnings, fmt::format("PID 0x{:04x}: the PES packet at byte {}: {}: dropped", s.info.pid, pes.offset,
                                         tu.error().message()));
            s.discont = true;
            return Flow::ok;
        }
        auto obus = av1::split_obus(*tu);
        if (obus) {
            for (const av1::Obu& obu : *obus) {
                if (obu.type != av1::ObuType::sequence_header) {
                    continue;
                }
                if (s.seq_obu.size() == obu.bytes.size() &&
                    std::equal(s.seq_obu.begin(), s.seq_obu.end(), obu.bytes.begin())) {
                    break;
                }
                auto seq = av1::parse_sequence_header(obu.payload);
                if (!seq) {
                    warn(s.warnings, fmt::format("PID 0x{:04x}: sequence header in the PES at byte {}: {}", s.info.pid,
                                                 pes.offset, seq.error().message()));
                    break;
                }
                s.seq = *seq;
                s.seq_obu.assign(obu.bytes.begin(), obu.bytes.end());
                break;
            }
        }
        bool key = false;
        if (s.seq) {
            std::vector<std::uint8_t> av1c;
            if (s.av1c_head.size() == 4) {
                av1c = s.av1c_head;
                av1c.insert(av1c.end(), s.seq_obu.begin(), s.seq_obu.end());
            } else {
                av1c = av1::make_av1c(*s.seq, s.seq_obu);
            }
            Caps caps = av1::caps_for(*s.seq, av1c);
            // The frame rate when the sequence header's timing info fixes it.
            const av1::SequenceHeader& q = *s.seq;
            if (q.timing_info_present && q.equal_picture_interval && q.num_units_in_display_tick > 0 &&
                q.num_ticks_per_picture > 0 && q.time_scale > 0) {
                const std::uint64_t den = std::uint64_t{q.num_units_in_display_tick} * q.num_ticks_per_picture;
                if (den <= 0x7FFFFFFF && q.time_scale <= 0x7FFFFFFF) {
                    if (auto fr = Fraction::make(q.time_scale, static_cast<std::int64_t>(den))) {
                        Structure st = caps.structure(0);
                        st.set("framerate", *fr);
                        caps = Caps();
                        caps.append(std::move(st));
                    }
                }
            }
            start_pad(s, std::move(caps));
            auto k = av1::is_key_temporal_unit(*tu, *s.seq);
            key = k && *k;
        } else {
            start_pad(s, basic_caps(s));
        }
        const ClockTime pts = time_of(pes.pts);
        return push_bytes(s, *tu, pts, pes.dts ? time_of(pes.dts) : pts, ClockTime::none(), pes.offset, key);
    }

    // --- KLV -----------------------------------------------------------

    Flow push_klv(Stream& s, const mpegts::PesPacket& pes) {
        if (s.info.klv_cells) {
            auto cells = mpegts::parse_metadata_cells(pes.payload);
            if (!cells) {
                warn(s.warnings, fmt::format("PID 0x{:04x}: the PES packet at byte {}: {}: dropped", s.info.pid,
                                             pes.offset, cells.error().message()));
                s.discont = true;
                return Flow::ok;
            }
            for (const mpegts::MetadataCell& c : *cells) {
                s.klv_pending.insert(s.klv_pending.end(), c.data.begin(), c.data.end());
            }
        } else {
            s.klv_pending.insert(s.klv_pending.end(), pes.payload.begin(), pes.payload.end());
        }
        if (pes.pts) {
            s.klv_pts = pes.pts;
        }
        start_pad(s, basic_caps(s));
        std::size_t pos = 0;
        Flow result = Flow::ok;
        while (pos < s.klv_pending.size()) {
            const std::span<const std::uint8_t> rest = std::span<const std::uint8_t>(s.klv_pending).subspan(pos);
            auto n = klv::next_packet(rest);
            if (!n) {
                const std::size_t next = klv::find_key(rest, 1);
                warn(s.warnings, fmt::format("PID 0x{:04x}: KLV in the PES at byte {}: {}: {} bytes skipped",
                                             s.info.pid, pes.offset, n.error().message(), next));
                s.discont = true;
                pos += next;
                continue;
            }
            if (!*n) {
                break; // the rest of the packet comes with the next PES
            }
            const ClockTime pts = time_of(s.klv_pts);
            result =
                push_bytes(s, rest.first(**n), pts, ClockTime::none(), ClockTime::none(), pes.offset, std::nullopt);
            pos += **n;
            if (result != Flow::ok) {
                break;
            }
        }
        s.klv_pending.erase(s.klv_pending.begin(), s.klv_pending.begin() + static_cast<std::ptrdiff_t>(pos));
        if (s.klv_pending.size() > max_klv_pending) {
            warn(s.warnings, fmt::format("PID 0x{:04x}: {} KLV bytes without a whole packet: dropped", s.info.pid,
                                         s.klv_pending.size()));
            s.klv_pending.clear();
            s.discont = true;
        }
        return result;
    }

    // --- End -----------------------------------------------------------

    void end_stream(Stream& s) {
        if (s.ended || s.pad == nullptr) {
            return;
        }
        if (s.info.codec == mpegts::CodecKind::h264 && !s.pending_nals.empty()) {
            s.pending_nals.clear(); // parameter sets without a picture
        }
        if (s.info.codec == mpegts::CodecKind::klv && !s.klv_pending.empty()) {
            warn(s.warnings, fmt::format("PID 0x{:04x}: the last {} KLV bytes are not a whole packet: dropped",
                                         s.info.pid, s.klv_pending.size()));
            s.klv_pending.clear();
        }
        if (!s.started) {
            start_pad(s, basic_caps(s));
        }
        s.pad->push_event(Event::eos());
        s.ended = true;
    }

    Flow combined_flow() const {
        detail::FlowCombiner combined;
        for (const auto& [pid, s] : streams_) {
            static_cast<void>(pid);
            combined.add(s.last);
        }
        return combined.result();
    }

    // End of the input: what is still open goes out, and every pad (or,
    // with none, the pipeline) hears of the end.
    void finish() {
        if (failed_) {
            return;
        }
        auto events = demux_->finish();
        if (take(events) != Flow::ok) {
            return;
        }
        if (!held_.empty() || !base_) {
            if (release_held() != Flow::ok) {
                return;
            }
        }
        for (auto& [pid, s] : streams_) {
            static_cast<void>(pid);
            if (s.info.codec == mpegts::CodecKind::h264 && !s.pending_nals.empty()) {
                s.pending_nals.clear();
            }
            if (s.info.codec == mpegts::CodecKind::klv && !s.klv_pending.empty()) {
                warn(s.warnings, fmt::format("PID 0x{:04x}: the last {} KLV bytes are not a whole packet: dropped",
                                             s.info.pid, s.klv_pending.size()));
                s.klv_pending.clear();
            }
            if (!s.started && s.pad != nullptr && s.pad->is_linked()) {
                start_pad(s, basic_caps(s)); // downstream gets caps before eos
            }
        }
        if (streams_.empty()) {
            if (received_ == 0) {
                context().host().sink_eos(*this);
                return;
            }
            fail_with(Error(
                Errc::corrupt,
                demux_->has_program() ? fmt::format("program {} of the transport stream has no H.264, Opus, AV1 or KLV "
                                                    "stream ({} bytes read)",
                                                    program_number_seen_, received_)
                : demux_->packets() == 0
                    ? fmt::format("no transport packets (sync byte 0x47 every 188 bytes) in the {} "
                                  "bytes of input: not an MPEG transport stream",
                                  received_)
                    : fmt::format("no PAT and PMT of {} found in the {} transport packets of the "
                                  "input",
                                  program_number_.get() < 0 ? std::string("a program")
                                                            : fmt::format("program {}", program_number_.get()),
                                  demux_->packets())));
        }
    }

    Property<std::int32_t> program_number_{this, "program-number", -1,
                                           "The program to demux (its program_number in the PAT); -1: the first",
                                           PropertyRange<std::int32_t>{-1, 0xFFFF}};

    std::unique_ptr<mpegts::Demuxer> demux_ = std::make_unique<mpegts::Demuxer>();
    std::map<std::uint16_t, Stream> streams_;
    std::deque<mpegts::PesPacket> held_; // waiting for the time base
    std::size_t held_bytes_ = 0;
    std::optional<std::int64_t> base_;
    std::optional<std::int64_t> held_first_; // the timestamps held span
    std::optional<std::int64_t> held_last_;
    std::uint64_t received_ = 0;
    bool failed_ = false;
    unsigned warnings_ = 0;
    std::uint16_t program_number_seen_ = 0;
    unsigned program_generation_ = 0;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::TsDemux);
