// mpegtsmux: writes H.264, AV1, Opus and KLV metadata into an MPEG-2
// transport stream (ISO/IEC 13818-1), one program.
//
// Each sink pad is one elementary stream on a PID of its own: sink_<PID>
// names it (16 to 8190), a plain request takes the next free PID from 65.
// The PAT and PMT go out before the first PES and again every pat-interval /
// pmt-interval of stream time (and whenever a stream's caps arrive late);
// the PCR rides on the first video stream (the first stream when there is no
// video) at the start of each of its PES packets and at least every
// pcr-interval.
//
// A downstream force-key-unit event from a video input waits until the key
// frame it announces goes out, then goes downstream just ahead of it, and
// the PAT and PMT are written again in front of that frame (with alignment,
// the packets before it are sent first, the last group filled up): whatever
// splits the stream there (multifilesink next-file=key-unit-event, an HLS
// segmenter) gets pieces that each start with the tables and a key frame.
//
// Interleaving: every buffer is turned into its PES payload at once (its
// arena slot goes back upstream), queued per input, and the queued payload
// with the earliest decode time goes out once every active audio and video
// input has one waiting (KLV is sparse: nobody waits for it). An input more
// than max-delay of stream time ahead of one it waits for blocks in chain()
// (back-pressure: a slow encoder's partner waits for it). When the inputs
// waited for have sent nothing for max-delay of wall-clock time, queued
// buffers more than max-delay behind the newest go out anyway (not before
// every input has its caps, so that the first PMT lists every stream); with
// latency > 0, a buffer that has waited that long in wall-clock time goes
// out too (live sources whose partner stopped altogether).
//
// Time: 90 kHz PTS/DTS are the buffers' times relative to the first buffer
// out, plus 0.7 s, so that slightly earlier timestamps of other streams and
// B-frame decode times stay positive; the PCR runs 0.35 s ahead of the
// decode times it accompanies.

#include <parallax/base/log.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mpegts.hpp>
#include <parallax/element.hpp>

#include "mux_timer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory mpegtsmux_log("mpegtsmux", "mpegtsmux: MPEG-TS muxer");

constexpr std::uint16_t pmt_pid = 0x1000;
constexpr std::uint16_t first_auto_pid = 65;
constexpr std::uint16_t program_number = 1;
constexpr std::uint64_t time_offset_ticks = 63'000; // 0.7 s
constexpr std::uint64_t pcr_lead_ticks = 31'500;    // 0.35 s
constexpr std::uint8_t klv_service_id = 0;

enum class Kind { h264, av1, opus, klv };

std::string_view kind_name(Kind k) {
    switch (k) {
    case Kind::h264:
        return "H.264";
    case Kind::av1:
        return "AV1";
    case Kind::opus:
        return "Opus";
    case Kind::klv:
        return "KLV";
    }
    return "?";
}

std::int64_t samples_to_ns(std::int64_t samples) {
    return samples * static_cast<std::int64_t>(ClockTime::ns_per_s) / opus::sample_rate;
}

class MpegTsMux final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "mpegtsmux",
        .klass = "Codec/Muxer",
        .summary = "Multiplexes media streams into an MPEG Transport Stream",
        .description =
            "Writes one program of an MPEG-2 transport stream: H.264 (stream type 0x1B, an access unit delimiter "
            "added where missing), AV1 (private PES with the 'AV01' registration and AV1 video descriptor, "
            "start-code format), Opus (private PES with the 'Opus' registration, channel configuration descriptor, "
            "control headers carrying pre-skip and end trimming) and KLV metadata (MISB ST 1402 synchronous "
            "metadata: stream type 0x15, metadata descriptors, access unit cells). PAT and PMT with CRC are "
            "repeated, PCR on the first video stream, continuity counters per PID, random access indicators on "
            "key frames. A pad sink_<n> puts its stream on PID n. Audio and video inputs are interleaved by decode "
            "time: an input ahead by max-delay waits for the others, and one silent for max-delay (or latency) of "
            "wall-clock time is no longer waited for; KLV is sparse and never waited for.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"src", PadDirection::src, PadPresence::always,
                 Caps::parse_static("video/mpegts, systemstream=(boolean)true, packetsize=(int)188")},
                {"sink_%d", PadDirection::sink, PadPresence::request,
                 Caps::parse_static("video/x-h264, stream-format=(string)byte-stream, alignment=(string)au; "
                                    "video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu; "
                                    "audio/x-opus; meta/x-klv, parsed=(boolean)true")}};
    }

    ~MpegTsMux() override { timer_.retire(); }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        std::lock_guard lock(mutex_);
        timer_.start(inputs_);
        flushing_ = false;
        return {};
    }

    Result<void> stop() override {
        timer_.retire();
        std::lock_guard lock(mutex_);
        flushing_ = true;
        wake_.notify_all();
        reset();
        for (auto& in : inputs_) {
            in->configured = false;
            in->descriptors.clear();
        }
        return {};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    void pad_requested(Pad& pad) override {
        std::lock_guard lock(mutex_);
        auto in = std::make_unique<Input>();
        in->pad = &pad;
        in->last_arrival = std::chrono::steady_clock::now();
        const std::string_view number = std::string_view(pad.name()).substr(5);
        unsigned requested = 0;
        for (const char c : number) {
            requested = c >= '0' && c <= '9' ? std::min(requested * 10 + static_cast<unsigned>(c - '0'), 100'000U) : 0;
        }
        if (requested >= 16 && requested <= mpegts::max_pid && requested != pmt_pid && !pid_used(requested)) {
            in->pid = static_cast<std::uint16_t>(requested);
        } else {
            std::uint16_t pid = first_auto_pid;
            while (pid_used(pid) || pid == pmt_pid) {
                ++pid;
            }
            in->pid = pid;
        }
        inputs_.push_back(std::move(in));
    }

    void pad_releasing(Pad& pad) override {
        std::lock_guard lock(mutex_);
        std::erase_if(inputs_, [&](const auto& in) { return in->pad == &pad; });
        psi_dirty_ = true;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::stream_start:
        case EventType::segment:
        case EventType::tags:
            return true; // the transport stream has its own
        case EventType::caps: {
            std::lock_guard lock(mutex_);
            return take_caps(pad, *event.caps_value());
        }
        case EventType::eos: {
            std::lock_guard lock(mutex_);
            return end_input(pad);
        }
        case EventType::flush_start: {
            {
                std::lock_guard lock(mutex_);
                flushing_ = true;
                wake_.notify_all();
            }
            return forward_event(pad, event);
        }
        case EventType::downstream_force_key_unit: {
            std::lock_guard lock(mutex_);
            const Input* in = find(pad);
            if (in == nullptr || !is_video(in->kind)) {
                return forward_event(pad, event);
            }
            key_unit_event_ = std::move(event); // a newer request replaces an older one
            return true;
        }
        case EventType::flush_stop: {
            std::lock_guard lock(mutex_);
            reset();
            flushing_ = false;
            return src_->push_event(std::move(event));
        }
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        std::unique_lock lock(mutex_);
        Input* in = find(pad);
        if (in == nullptr || !in->configured) {
            return context().error(
                Error(Errc::not_negotiated,
                      fmt::format("a buffer arrived on {} before its caps: its stream type is unknown", pad.name())));
        }
        if (in->finished) {
            return Flow::eos;
        }
        auto queued = payload_of(*in, buffer);
        if (!queued) {
            return context().error(
                Error(queued.error().code(), fmt::format("buffer {} on {} ({}): {}", in->buffers, pad.name(),
                                                         kind_name(in->kind), queued.error().message())));
        }
        ++in->buffers;
        queued->arrived = std::chrono::steady_clock::now();
        in->last_arrival = queued->arrived;
        in->queue.push_back(std::move(*queued));
        wake_.notify_all();
        Flow f = drain(false);
        // Back-pressure: an input more than max-delay ahead of one that is
        // still delivering waits for it here, as a slow encoder's partner
        // should; drain() lets it go once the other falls silent.
        while (f == Flow::ok && !flushing_ && ahead(*in)) {
            wake_.wait_for(lock, std::chrono::milliseconds(10));
            f = drain(false);
        }
        return f;
    }

private:
    struct Queued {
        std::vector<std::uint8_t> payload; // PES payload
        std::int64_t pts = 0;              // ns; the order uses dts
        std::int64_t dts = 0;
        bool has_pts = false;
        bool key = false;
        std::chrono::steady_clock::time_point arrived;
    };
    struct Input {
        Pad* pad = nullptr;
        std::uint16_t pid = 0;
        Kind kind = Kind::h264;
        bool configured = false;
        bool finished = false;
        std::vector<mpegts::Descriptor> descriptors;
        std::deque<Queued> queue;
        std::uint8_t cc = 0;
        std::uint64_t buffers = 0;
        std::uint32_t pre_skip = 0;
        std::uint32_t pre_skip_left = 0;
        std::uint8_t klv_sequence = 0;
        std::int64_t last_time = 0;
        std::chrono::steady_clock::time_point last_arrival;
    };

    bool pid_used(unsigned pid) const {
        return std::any_of(inputs_.begin(), inputs_.end(), [&](const auto& in) { return in->pid == pid; });
    }

    Input* find(const Pad& pad) {
        for (auto& in : inputs_) {
            if (in->pad == &pad) {
                return in.get();
            }
        }
        return nullptr;
    }

    static bool active(const Input& in) { return !in.finished && in.pad->is_linked(); }

    // An audio or video input with nothing queued: the others wait for it.
    static bool waited_for(const Input& in) {
        return in.queue.empty() && active(in) && !(in.configured && in.kind == Kind::klv);
    }

    // True when `in` holds more than max-delay of stream time while another
    // input is waited for.
    bool ahead(const Input& in) const {
        if (in.queue.empty() ||
            in.queue.back().dts - in.queue.front().dts <= static_cast<std::int64_t>(max_delay_.get())) {
            return false;
        }
        return std::any_of(inputs_.begin(), inputs_.end(),
                           [&](const auto& other) { return other.get() != &in && waited_for(*other); });
    }

    void reset() {
        for (auto& in : inputs_) {
            in->queue.clear();
            in->finished = false;
            in->cc = 0;
            in->buffers = 0;
            in->klv_sequence = 0;
            in->pre_skip_left = in->kind == Kind::opus ? in->pre_skip : 0;
        }
        src_started_ = false;
        eos_sent_ = false;
        base_ns_.reset();
        last_psi_ticks_.reset();
        last_pcr_ticks_.reset();
        pat_cc_ = 0;
        pmt_cc_ = 0;
        psi_version_ = 0;
        psi_dirty_ = true;
        offset_ = 0;
        pending_.clear();
        key_unit_event_.reset();
    }

    bool caps_error(const Pad& pad, const Caps& caps, std::string_view why) {
        context().error(Error(Errc::not_negotiated,
                              fmt::format("{}: caps {} are not supported: {}", pad.name(), caps.to_string(), why)));
        return false;
    }

    bool take_caps(Pad& pad, const Caps& caps) {
        Input* in = find(pad);
        if (in == nullptr) {
            return false;
        }
        if (caps.size() == 0) {
            return caps_error(pad, caps, "empty caps");
        }
        const Structure& s = caps.structure(0);
        std::vector<mpegts::Descriptor> descriptors;
        Kind kind{};
        if (s.name() == "video/x-h264") {
            if (s.get_string("stream-format").value_or("byte-stream") != "byte-stream") {
                return caps_error(pad, caps,
                                  "H.264 goes into TS as a byte stream (stream-format=byte-stream; "
                                  "h264parse converts)");
            }
            kind = Kind::h264;
        } else if (s.name() == "video/x-av1") {
            kind = Kind::av1;
            const CapsValue* cd = s.get("codec_data");
            const Bytes* record = cd != nullptr ? cd->get_if<Bytes>() : nullptr;
            if (record != nullptr && !record->data.empty()) {
                auto d = mpegts::av1_video_descriptor(record->data);
                if (!d) {
                    return caps_error(pad, caps, fmt::format("codec_data: {}", d.error().message()));
                }
                descriptors.push_back(mpegts::registration_descriptor("AV01"));
                descriptors.push_back(std::move(*d));
            }
        } else if (s.name() == "audio/x-opus") {
            kind = Kind::opus;
            auto head = opus::header_from_caps(caps);
            if (!head) {
                return caps_error(pad, caps, head.error().message());
            }
            auto code = channel_config_code(*head);
            if (!code) {
                return caps_error(pad, caps, code.error().message());
            }
            descriptors.push_back(mpegts::registration_descriptor("Opus"));
            descriptors.push_back(mpegts::opus_audio_descriptor(*code));
            in->pre_skip = head->pre_skip;
        } else if (s.name() == "meta/x-klv") {
            kind = Kind::klv;
            descriptors.push_back(mpegts::klv_metadata_descriptor(klv_service_id));
            descriptors.push_back(mpegts::klv_metadata_std_descriptor());
        } else {
            return caps_error(pad, caps, "mpegtsmux writes H.264, AV1, Opus and KLV (meta/x-klv)");
        }
        if (in->configured && in->kind != kind) {
            return caps_error(
                pad, caps,
                fmt::format("the stream on PID {} is {}; its type cannot change", in->pid, kind_name(in->kind)));
        }
        if (in->configured && in->descriptors == descriptors) {
            return true;
        }
        const bool first = !in->configured;
        in->kind = kind;
        in->descriptors = std::move(descriptors);
        in->configured = true;
        if (first) {
            in->pre_skip_left = in->pre_skip;
        }
        psi_dirty_ = true;
        PARALLAX_DEBUG(mpegtsmux_log, "{}: {} is {} on PID {}", name(), pad.name(), kind_name(kind), in->pid);
        return true;
    }

    // channel_config_code of the Opus audio descriptor: the channel count
    // for the default layouts of families 0 and 1, 0 for dual mono.
    static Result<std::uint8_t> channel_config_code(const opus::Header& h) {
        static constexpr std::uint8_t streams[9] = {2, 1, 1, 2, 2, 3, 4, 4, 5};
        static constexpr std::uint8_t coupled[9] = {0, 1, 0, 1, 2, 2, 2, 3, 3};
        if (h.mapping_family == 0 && h.channels <= 2) {
            return h.channels;
        }
        if (h.mapping_family == 1 && h.channels >= 1 && h.channels <= 8 && h.stream_count == streams[h.channels] &&
            h.coupled_count == coupled[h.channels]) {
            bool identity = true;
            // Family 1's table must be the one the descriptor implies: the
            // coupled streams' channels first, as libopus lays them out.
            static constexpr std::uint8_t maps[8][8] = {{0},
                                                        {0, 1},
                                                        {0, 2, 1},
                                                        {0, 1, 2, 3},
                                                        {0, 4, 1, 2, 3},
                                                        {0, 4, 1, 2, 3, 5},
                                                        {0, 4, 1, 2, 3, 5, 6},
                                                        {0, 6, 1, 2, 3, 4, 5, 7}};
            for (std::size_t i = 0; i < h.channels && i < h.mapping.size(); ++i) {
                identity = identity && h.mapping[i] == maps[h.channels - 1][i];
            }
            if (identity && h.mapping.size() == h.channels) {
                return h.channels;
            }
        }
        if (h.mapping_family == 255 && h.channels == 2 && h.stream_count == 2 && h.coupled_count == 0 &&
            h.mapping.size() == 2 && h.mapping[0] == 0 && h.mapping[1] == 1) {
            return std::uint8_t{0};
        }
        return fail(Errc::unsupported,
                    fmt::format("{} channels in mapping family {} with {} streams ({} coupled) have no Opus-in-TS "
                                "channel configuration (mono, stereo, dual mono, or 3 to 8 channels in the Vorbis "
                                "layout)",
                                h.channels, h.mapping_family, h.stream_count, h.coupled_count));
    }

    Result<Queued> payload_of(Input& in, const Buffer& buffer) {
        const auto data = buffer.data();
        const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
        const Metadata& m = buffer.meta();
        Queued q;
        q.has_pts = !m.pts().is_none();
        const std::int64_t fallback = in.last_time;
        q.pts = q.has_pts ? static_cast<std::int64_t>(m.pts().ns()) : fallback;
        q.dts = !m.dts().is_none() ? static_cast<std::int64_t>(m.dts().ns()) : q.pts;
        q.key = m.has_flag(BufferFlags::keyframe) || !m.has_flag(BufferFlags::delta);
        switch (in.kind) {
        case Kind::h264: {
            auto start = h264::find_start_code(bytes, 0);
            if (!start) {
                return fail(Errc::corrupt, "no start code: not an H.264 byte stream");
            }
            const std::size_t header = start->offset + start->length;
            const bool has_aud = header < bytes.size() && (bytes[header] & 0x1F) == 9;
            if (!has_aud) {
                q.payload = {0x00, 0x00, 0x00, 0x01, 0x09, 0xF0};
            }
            q.payload.insert(q.payload.end(), bytes.begin(), bytes.end());
            break;
        }
        case Kind::av1: {
            if (in.descriptors.empty()) {
                if (auto d = descriptor_from_tu(bytes)) {
                    in.descriptors = std::move(*d);
                    psi_dirty_ = true;
                } else {
                    return fail(Errc::not_negotiated, "no codec_data in the caps and no sequence header in the first "
                                                      "temporal unit: the AV1 video descriptor is unknown");
                }
            }
            auto sc = mpegts::av1_to_start_code(bytes);
            if (!sc) {
                return fail(sc.error());
            }
            q.payload = std::move(*sc);
            break;
        }
        case Kind::opus: {
            auto samples = opus::packet_samples(bytes);
            if (!samples) {
                return fail(samples.error());
            }
            const auto trim_start = static_cast<std::uint16_t>(std::min<std::uint32_t>(in.pre_skip_left, *samples));
            in.pre_skip_left -= trim_start;
            std::uint16_t trim_end = 0;
            const std::uint32_t kept = *samples - trim_start;
            if (!m.duration().is_none()) {
                const auto dur = static_cast<std::uint64_t>(
                    (m.duration().ns() * opus::sample_rate + ClockTime::ns_per_s / 2) / ClockTime::ns_per_s);
                if (dur < kept) {
                    trim_end = static_cast<std::uint16_t>(kept - dur);
                }
            }
            // The PES time is that of the packet's first decoded sample,
            // trimmed or not.
            q.pts -= samples_to_ns(trim_start);
            q.dts = q.pts;
            mpegts::write_opus_control_header(q.payload, bytes.size(), trim_start, trim_end);
            q.payload.insert(q.payload.end(), bytes.begin(), bytes.end());
            q.key = true;
            break;
        }
        case Kind::klv:
            if (bytes.size() > 0xFFFF - 32) {
                return fail(Errc::invalid_argument, fmt::format("{} bytes of KLV: a metadata access unit cell holds "
                                                                "at most {}",
                                                                bytes.size(), 0xFFFF - 32));
            }
            if (!q.has_pts) {
                return fail(Errc::invalid_argument, "KLV without a timestamp: synchronous metadata needs a pts");
            }
            mpegts::write_metadata_cell(q.payload, klv_service_id, in.klv_sequence++, bytes);
            q.key = true;
            break;
        }
        in.last_time = q.dts;
        return q;
    }

    static std::optional<std::vector<mpegts::Descriptor>> descriptor_from_tu(std::span<const std::uint8_t> tu) {
        auto obus = av1::split_obus(tu);
        if (!obus) {
            return std::nullopt;
        }
        for (const av1::Obu& obu : *obus) {
            if (obu.type != av1::ObuType::sequence_header) {
                continue;
            }
            auto seq = av1::parse_sequence_header(obu.payload);
            if (!seq) {
                return std::nullopt;
            }
            auto d = mpegts::av1_video_descriptor(av1::make_av1c(*seq, obu.bytes));
            if (!d) {
                return std::nullopt;
            }
            return std::vector<mpegts::Descriptor>{mpegts::registration_descriptor("AV01"), std::move(*d)};
        }
        return std::nullopt;
    }

    bool end_input(Pad& pad) {
        Input* in = find(pad);
        if (in == nullptr) {
            return false;
        }
        in->finished = true;
        const bool all = std::none_of(inputs_.begin(), inputs_.end(), [](const auto& i) { return active(*i); });
        const Flow f = drain(all);
        if (!all || eos_sent_) {
            return f == Flow::ok || f == Flow::eos;
        }
        eos_sent_ = true;
        start_src();
        if (const Flow last = flush_pending(true); last != Flow::ok) {
            return false;
        }
        return src_->push_event(Event::eos());
    }

    // Sends the queued payloads that may go (see the file comment); with
    // `all`, everything.
    Flow drain(bool all) {
        const auto now = std::chrono::steady_clock::now();
        const auto latency = std::chrono::nanoseconds(latency_.get());
        const auto max_delay = std::chrono::nanoseconds(max_delay_.get());
        while (true) {
            Input* best = nullptr;
            std::int64_t newest = std::numeric_limits<std::int64_t>::min();
            bool someone_waits = false;
            bool all_silent = true;     // every input waited for has sent nothing for max-delay
            bool all_configured = true; // the PMT can list every stream
            for (auto& in : inputs_) {
                all_configured = all_configured && (in->configured || !active(*in));
                if (!in->queue.empty()) {
                    newest = std::max(newest, in->queue.back().dts);
                    if (best == nullptr || in->queue.front().dts < best->queue.front().dts) {
                        best = in.get();
                    }
                } else if (waited_for(*in)) {
                    someone_waits = true;
                    all_silent = all_silent && now - in->last_arrival >= max_delay;
                }
            }
            if (best == nullptr) {
                return Flow::ok;
            }
            const Queued& front = best->queue.front();
            const bool late =
                all_configured && all_silent && newest - front.dts > static_cast<std::int64_t>(max_delay_.get());
            const bool timed_out = latency.count() > 0 && now - front.arrived >= latency;
            if (someone_waits && !all && !late && !timed_out) {
                if (latency.count() > 0) {
                    arm_timer(latency - std::chrono::duration_cast<std::chrono::nanoseconds>(now - front.arrived));
                }
                return Flow::ok;
            }
            Queued q = std::move(best->queue.front());
            best->queue.pop_front();
            if (const Flow f = write_pes(*best, q); f != Flow::ok) {
                return f;
            }
        }
    }

    // Called with mutex_ held.
    void arm_timer(std::chrono::nanoseconds delay) {
        timer_.arm(context(), delay, mutex_, [this] { static_cast<void>(drain(false)); });
    }

    std::uint16_t pcr_pid() const {
        for (const auto& in : inputs_) {
            if (in->configured && is_video(in->kind)) {
                return in->pid;
            }
        }
        for (const auto& in : inputs_) {
            if (in->configured) {
                return in->pid;
            }
        }
        return mpegts::null_pid;
    }

    Result<void> write_psi(std::vector<std::uint8_t>& out) {
        mpegts::Pat pat;
        pat.version = psi_version_;
        pat.programs.push_back({program_number, pmt_pid});
        auto pat_bytes = mpegts::write_pat(pat);
        if (!pat_bytes) {
            return fail(pat_bytes.error());
        }
        mpegts::Pmt pmt;
        pmt.program_number = program_number;
        pmt.version = psi_version_;
        pmt.pcr_pid = pcr_pid();
        bool klv = false;
        for (const auto& in : inputs_) {
            if (!in->configured || (in->kind == Kind::av1 && in->descriptors.empty())) {
                continue;
            }
            mpegts::PmtStream st;
            st.pid = in->pid;
            st.descriptors = in->descriptors;
            switch (in->kind) {
            case Kind::h264:
                st.stream_type = mpegts::stream_type::h264;
                break;
            case Kind::av1:
            case Kind::opus:
                st.stream_type = mpegts::stream_type::private_pes;
                break;
            case Kind::klv:
                st.stream_type = mpegts::stream_type::metadata_pes;
                klv = true;
                break;
            }
            pmt.streams.push_back(std::move(st));
        }
        if (klv) {
            pmt.program_descriptors.push_back(mpegts::klv_metadata_pointer_descriptor(klv_service_id, program_number));
        }
        auto pmt_bytes = mpegts::write_pmt(pmt);
        if (!pmt_bytes) {
            return fail(pmt_bytes.error());
        }
        mpegts::write_section_packets(out, mpegts::pat_pid, pat_cc_, *pat_bytes);
        mpegts::write_section_packets(out, pmt_pid, pmt_cc_, *pmt_bytes);
        return {};
    }

    static bool is_video(Kind kind) { return kind == Kind::h264 || kind == Kind::av1; }

    // Whether a key frame of pts `pts_ns` is the one the held force-key-unit
    // event announces: at or after its timestamp (its running time when it
    // has none; the first key frame when it has neither).
    bool key_unit_due(std::int64_t pts_ns) const {
        if (!key_unit_event_) {
            return false;
        }
        const DownstreamForceKeyUnit& k = *key_unit_event_->downstream_force_key_unit_value();
        const ClockTime at = k.timestamp.is_valid() ? k.timestamp : k.running_time;
        return !at.is_valid() || pts_ns >= static_cast<std::int64_t>(at.ns());
    }

    std::uint64_t ticks_of(std::int64_t ns) const {
        return mpegts::ns_to_pts(ns - base_ns_.value_or(0), time_offset_ticks);
    }

    Flow write_pes(Input& in, const Queued& q) {
        if (!base_ns_) {
            base_ns_ = q.dts;
        }
        const std::uint64_t dts = ticks_of(q.dts);
        const std::uint64_t pts = ticks_of(q.pts);
        // Decode time on a continuous scale (no 33-bit wrap) for intervals.
        const std::int64_t now = (q.dts - *base_ns_) / 100'000 * 9 + static_cast<std::int64_t>(time_offset_ticks);
        std::vector<std::uint8_t> out;
        const bool key_unit = q.key && is_video(in.kind) && key_unit_due(q.pts);
        if (key_unit) {
            start_src();
            if (const Flow f = flush_pending(true); f != Flow::ok) {
                return f;
            }
            src_->push_event(std::move(*key_unit_event_));
            key_unit_event_.reset();
        }
        const bool psi_due =
            key_unit || psi_dirty_ || !last_psi_ticks_ ||
            now - *last_psi_ticks_ >= static_cast<std::int64_t>(std::min(pat_interval_.get(), pmt_interval_.get()));
        if (psi_due) {
            if (psi_dirty_ && last_psi_ticks_) {
                psi_version_ = static_cast<std::uint8_t>((psi_version_ + 1) & 0x1F);
            }
            if (auto r = write_psi(out); !r) {
                return context().error(r.error());
            }
            psi_dirty_ = false;
            last_psi_ticks_ = now;
        }
        std::vector<std::uint8_t> pes;
        std::uint8_t stream_id = mpegts::stream_id::private_stream_1;
        std::optional<std::uint64_t> dts_field;
        if (in.kind == Kind::h264) {
            stream_id = mpegts::stream_id::video_0;
            dts_field = dts;
        } else if (in.kind == Kind::av1) {
            dts_field = dts;
        } else if (in.kind == Kind::klv) {
            stream_id = mpegts::stream_id::metadata;
        }
        if (auto r = mpegts::write_pes_header(pes, stream_id, pts, dts_field, q.payload.size(), true); !r) {
            return context().error(r.error());
        }
        pes.insert(pes.end(), q.payload.begin(), q.payload.end());

        mpegts::AdaptationField af;
        af.random_access = q.key;
        const bool on_pcr_pid = in.pid == pcr_pid();
        if (on_pcr_pid) {
            const std::int64_t pcr_ticks =
                std::max<std::int64_t>(now - static_cast<std::int64_t>(pcr_lead_ticks), last_pcr_ticks_.value_or(0));
            af.pcr = static_cast<std::uint64_t>(pcr_ticks) * 300;
            last_pcr_ticks_ = pcr_ticks;
        }
        const bool first_af = af.random_access || af.pcr.has_value();
        std::span<const std::uint8_t> rest(pes);
        bool first = true;
        while (!rest.empty()) {
            const mpegts::AdaptationField* a = first && first_af ? &af : nullptr;
            const std::size_t n = mpegts::write_packet(out, in.pid, first, in.cc, a, rest);
            in.cc = static_cast<std::uint8_t>((in.cc + 1) & 0x0F);
            rest = rest.subspan(n);
            first = false;
        }
        if (!on_pcr_pid && last_pcr_ticks_ &&
            now - static_cast<std::int64_t>(pcr_lead_ticks) - *last_pcr_ticks_ >=
                static_cast<std::int64_t>(pcr_interval_.get())) {
            // The PCR stream is quiet: an adaptation-only packet keeps the clock going.
            mpegts::AdaptationField clock;
            const std::int64_t pcr_ticks = now - static_cast<std::int64_t>(pcr_lead_ticks);
            clock.pcr = static_cast<std::uint64_t>(pcr_ticks) * 300;
            last_pcr_ticks_ = pcr_ticks;
            Input* pcr_input = nullptr;
            for (auto& i : inputs_) {
                if (i->pid == pcr_pid()) {
                    pcr_input = i.get();
                }
            }
            if (pcr_input != nullptr) {
                // Without payload the continuity counter does not advance.
                mpegts::write_packet(out, pcr_input->pid, false, static_cast<std::uint8_t>((pcr_input->cc + 15) & 0x0F),
                                     &clock, {});
            }
        }
        return emit(std::move(out), q.key || psi_due,
                    ClockTime::from_ns(static_cast<std::uint64_t>(std::max<std::int64_t>(0, q.pts - *base_ns_))));
    }

    Flow emit(std::vector<std::uint8_t> bytes, bool key, ClockTime pts) {
        start_src();
        const std::int32_t alignment = alignment_.get();
        if (alignment <= 0) {
            return push_bytes(bytes, key, pts);
        }
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        pending_key_ = pending_key_ || key;
        if (!pending_pts_) {
            pending_pts_ = pts;
        }
        return flush_pending(false);
    }

    // With alignment N: whole groups of N packets; at the end the last group
    // is filled up with null packets.
    Flow flush_pending(bool end) {
        const std::int32_t alignment = alignment_.get();
        if (alignment <= 0 || pending_.empty()) {
            return Flow::ok;
        }
        const std::size_t group = static_cast<std::size_t>(alignment) * mpegts::packet_size;
        if (end && pending_.size() % group != 0) {
            std::size_t missing = (group - pending_.size() % group) / mpegts::packet_size;
            while (missing-- > 0) {
                mpegts::write_packet(pending_, mpegts::null_pid, false, 0, nullptr,
                                     std::vector<std::uint8_t>(mpegts::packet_size - 4, 0xFF));
            }
        }
        const std::size_t whole = pending_.size() / group * group;
        if (whole == 0) {
            return Flow::ok;
        }
        std::vector<std::uint8_t> out(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
        const bool key = pending_key_;
        const ClockTime pts = pending_pts_.value_or(ClockTime::none());
        pending_key_ = false;
        pending_pts_.reset();
        return push_bytes(out, key, pts);
    }

    Flow push_bytes(const std::vector<std::uint8_t>& bytes, bool key, ClockTime pts) {
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
        m.set_pts(pts);
        m.set_flag(key ? BufferFlags::keyframe : BufferFlags::delta);
        offset_ += bytes.size();
        return src_->push(std::move(*out));
    }

    void start_src() {
        if (src_started_) {
            return;
        }
        src_started_ = true;
        src_->push_event(Event::stream_start(fmt::format("{}/mpegts", name())));
        src_->push_event(Event::caps(src_->pad_template().caps));
        StreamSegment bytes;
        bytes.format = Format::bytes;
        src_->push_event(Event::segment(bytes));
    }

    Pad* src_ = nullptr;
    std::mutex mutex_;             // serializes every input and what leaves src_
    std::condition_variable wake_; // a buffer arrived, or flushing began
    bool flushing_ = false;
    std::vector<std::unique_ptr<Input>> inputs_;
    detail::MuxTimer timer_; // the latency timer
    bool src_started_ = false;
    bool eos_sent_ = false;
    std::optional<std::int64_t> base_ns_;
    std::optional<std::int64_t> last_psi_ticks_;
    std::optional<std::int64_t> last_pcr_ticks_;
    std::uint8_t pat_cc_ = 0;
    std::uint8_t pmt_cc_ = 0;
    std::uint8_t psi_version_ = 0;
    bool psi_dirty_ = true;
    std::uint64_t offset_ = 0;
    std::vector<std::uint8_t> pending_;
    bool pending_key_ = false;
    std::optional<ClockTime> pending_pts_;
    std::optional<Event> key_unit_event_; // held until its key frame goes out

    Property<std::int32_t> alignment_{this, "alignment", -1,
                                      "Number of packets per output buffer, the last one filled up with null packets "
                                      "(-1 or 0: each buffer holds what one input buffer became; 7 for UDP)",
                                      PropertyRange<std::int32_t>{-1, 1000}};
    Property<std::uint32_t> pat_interval_{this, "pat-interval", 9000,
                                          "Interval between PAT repetitions (in 90 kHz units of stream time)",
                                          PropertyRange<std::uint32_t>{1, 90000 * 10}};
    Property<std::uint32_t> pmt_interval_{this, "pmt-interval", 9000,
                                          "Interval between PMT repetitions (in 90 kHz units of stream time)",
                                          PropertyRange<std::uint32_t>{1, 90000 * 10}};
    Property<std::uint32_t> pcr_interval_{this, "pcr-interval", 3600,
                                          "Interval between PCRs (in 90 kHz units): when the PCR stream has not "
                                          "carried one for this long, a clock-only packet goes before the next PES "
                                          "of another stream",
                                          PropertyRange<std::uint32_t>{1, 9000}};
    Property<std::uint64_t> max_delay_{this, "max-delay", 500'000'000,
                                       "Interleaving window (ns): an input this far ahead of another waits for it; "
                                       "once the other has sent nothing for this long (wall-clock), buffers this far "
                                       "behind the newest go out without it"};
    Property<std::uint64_t> latency_{this, "latency", 0,
                                     "Longest wall-clock wait (ns) for an input that has nothing queued before the "
                                     "others' buffers go out (live sources); 0 waits for data or max-delay"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::MpegTsMux);
