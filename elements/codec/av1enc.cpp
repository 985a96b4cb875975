// av1enc: encodes raw video to AV1 with libaom, with GStreamer's av1enc
// property names. Unlike GStreamer's element, the defaults are chosen to run
// faster than real time (usage-profile=realtime, cpu-used=8, every core,
// row-mt on) and to work in every rate-control mode (max-quantizer=63).
//
// An Element rather than a SimpleTransform: with lag-in-frames the encoder
// returns 0..N temporal units per input frame, and at EOS (or before a new
// format) it must be drained before anything else goes downstream.

#include <parallax/base/log.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "codec/aom_library.hpp"
#include "codec/key_unit_requests.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <sched.h>
#include <span>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory av1enc_log("av1enc", "av1enc: libaom configuration and packets");

// GStreamer's GstAV1EncEndUsageMode; the numbers are libaom's aom_rc_mode.
enum class EndUsage : int { vbr = 0, cbr = 1, cq = 2, q = 3 };
constexpr EnumValue end_usage_values[] = {
    {0, "vbr", "Variable Bit Rate Mode"},
    {1, "cbr", "Constant Bit Rate Mode"},
    {2, "cq", "Constrained Quality Mode"},
    {3, "q", "Constant Quality Mode"},
};

// GStreamer's GstAV1EncUsageProfile; the numbers are libaom's AOM_USAGE_*.
enum class UsageProfile : int { good_quality = 0, realtime = 1, all_intra = 2 };
constexpr EnumValue usage_profile_values[] = {
    {0, "good-quality", "Good Quality profile"},
    {1, "realtime", "Realtime profile"},
    {2, "all-intra", "All Intra profile"},
};

// GStreamer's GstAV1EncKFMode; the numbers are libaom's aom_kf_mode.
enum class KeyframeMode : int { disabled = 0, automatic = 1 };
constexpr EnumValue keyframe_mode_values[] = {
    {1, "auto", "Encoder determines optimal keyframe placement automatically"},
    {0, "disabled", "Encoder does not place keyframes"},
};

// The time base given to libaom: its internal 100 ns tick.
constexpr std::uint64_t ns_per_tick = 100;

// libaom's limit on encoder threads (MAX_NUM_THREADS).
constexpr unsigned max_threads = 64;

// The CPUs this process may run on. std::thread::hardware_concurrency()
// reads /sys and /proc first, which an isolated element's sandbox refuses
// (and reports); the affinity mask needs no file and also honours taskset
// and cpusets.
unsigned usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) != 0) {
        return 1;
    }
    return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

// What libaom needs to know about an input format.
struct InputFormat {
    aom_img_fmt_t image_format;
    unsigned profile; // seq_profile able to carry the chroma format and depth
    unsigned bit_depth;
};

std::optional<InputFormat> input_format(VideoFormat f) {
    switch (f) {
    case VideoFormat::i420:
    case VideoFormat::yv12:
        // YV12 only swaps the chroma planes; they are taken by component below.
        return InputFormat{AOM_IMG_FMT_I420, 0, 8};
    case VideoFormat::y444:
        return InputFormat{AOM_IMG_FMT_I444, 1, 8};
    case VideoFormat::y42b:
        return InputFormat{AOM_IMG_FMT_I422, 2, 8};
    case VideoFormat::i420_10le:
        // 10-bit samples in little-endian 16-bit words: libaom's high bit
        // depth layout on the little-endian hosts this runs on.
        return InputFormat{AOM_IMG_FMT_I42016, 0, 10};
    default:
        return std::nullopt;
    }
}

// One frame given to libaom and not yet seen in a packet.
struct PendingFrame {
    std::int64_t aom_pts; // the timestamp libaom got (ticks, strictly increasing)
    ClockTime pts;        // the input buffer's, as it was
    ClockTime duration;
    std::optional<KeyUnitRequest> key_unit; // forced a key frame to answer this
};

class Av1Enc final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "av1enc",
        .klass = "Codec/Encoder/Video",
        .summary = "Encode raw video to AV1 with libaom",
        .description = "Encodes I420, YV12, Y42B, Y444 and I420_10LE video into AV1 temporal units (one buffer "
                       "per input frame, low-overhead OBU stream with temporal delimiters) using libaom. The "
                       "defaults favour speed: realtime usage, cpu-used 8, all cores, row multithreading. A "
                       "force-key-unit request (the upstream event, or a downstream one from upstream) makes the "
                       "first frame at or after its running time a key frame with the sequence header in band, "
                       "announced by a downstream force-key-unit event just ahead of it."};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always,
                 Caps::parse_static("video/x-raw, format=(string){ I420, YV12, Y42B, Y444, I420_10LE }, "
                                    "width=(int)[ 4, 65536 ], height=(int)[ 4, 65536 ], "
                                    "framerate=(fraction)[ 0/1, 2147483647/1 ]")},
                {"src", PadDirection::src, PadPresence::always,
                 Caps::parse_static("video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu")}};
    }
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.processing = ProcessingHint::cpu_bound;
        h.uses_native_code = true;
        // The input is raw video made in the pipeline: libaom does not
        // parse anything from outside, so a crash would be a libaom bug.
        h.crash_safe = true;
        h.memory = MemoryHint::high;
        return h;
    }();

    ~Av1Enc() override { destroy_encoder(); }

    Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        static_cast<void>(from);
        static_cast<void>(caps);
        // The encoder changes the media type: each side can carry anything its
        // template allows whatever the other side carries.
        return to.pad_template().caps;
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        auto loaded = detail::aom_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        reset_stream();
        return {};
    }

    Result<void> stop() override {
        reset_stream();
        return {};
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (!info_) {
            return context().error(Error(Errc::not_negotiated, "av1enc: a buffer arrived before the caps"));
        }
        if (!encoder_open_) {
            if (auto ok = open_encoder(); !ok) {
                return context().error(std::move(ok.error()));
            }
        }
        auto frame = VideoFrame::map(*info_, buffer);
        if (!frame) {
            return context().error(Error(Errc::invalid_argument, fmt::format("av1enc: input frame {}: {}", frames_in_,
                                                                             frame.error().message())));
        }

        aom_image_t image;
        if (lib_->aom_img_wrap(&image, format_.image_format, info_->width(), info_->height(), 1,
                               reinterpret_cast<unsigned char*>(const_cast<std::byte*>(frame->data().data()))) ==
            nullptr) {
            return context().error(Error(Errc::failed, "av1enc: libaom refused to describe the input image"));
        }
        // Point at the planes as VideoInfo lays them out (strides and
        // offsets may differ from libaom's packed guess); libaom reads them
        // and copies into its lookahead, it never writes them.
        for (std::size_t c = 0; c < 3; ++c) {
            auto row = frame->component_row(c, 0);
            image.planes[c] = reinterpret_cast<unsigned char*>(const_cast<std::byte*>(row.data()));
            image.stride[c] = static_cast<int>(frame->component_stride(c));
        }

        const ClockTime in_pts = buffer.meta().pts();
        ClockTime duration = buffer.meta().duration();
        if (duration.is_none() || duration.ns() == 0) {
            duration = frame_duration_;
        }
        // libaom wants strictly increasing timestamps: use the input's when
        // they increase, else count on from the last one. libaom keeps time
        // in 100 ns ticks internally, so that is the time base it gets: its
        // packets then give back exactly the timestamps it was given.
        std::int64_t aom_pts = next_aom_pts_;
        if (!in_pts.is_none()) {
            aom_pts = std::max(aom_pts, static_cast<std::int64_t>(in_pts.ns() / ns_per_tick));
        }
        const auto aom_duration = static_cast<unsigned long>(std::max<std::uint64_t>(duration.ns() / ns_per_tick, 1));
        next_aom_pts_ = aom_pts + static_cast<std::int64_t>(aom_duration);
        const std::optional<KeyUnitRequest> key_unit = key_units_.take_due(segment_.to_running_time(in_pts));
        pending_.push_back({aom_pts, in_pts, duration, key_unit});
        ++frames_in_;

        // libaom writes the sequence header into every key temporal unit, so
        // a forced key frame carries all headers whatever was asked.
        const aom_enc_frame_flags_t flags = key_unit ? AOM_EFLAG_FORCE_KF : 0;
        const aom_codec_err_t err = lib_->aom_codec_encode(&codec_, &image, aom_pts, aom_duration, flags);
        if (err != AOM_CODEC_OK) {
            return context().error(codec_error(fmt::format("encoding frame {}", frames_in_ - 1)));
        }
        return push_packets(nullptr);
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return set_caps(*event.caps_value());
        case EventType::eos: {
            bool got = false;
            const Flow f = drain(got);
            if (!is_success(f) && f != Flow::eos) {
                return false;
            }
            release_held_events();
            return forward_event(pad, event);
        }
        case EventType::flush_stop:
            // Frames inside the encoder belong to the flushed data.
            destroy_encoder();
            pending_.clear();
            if (event.reset_time()) {
                segment_ = StreamSegment{};
            }
            return forward_event(pad, event);
        case EventType::downstream_force_key_unit:
            // Answered by the event this element sends ahead of the key frame.
            return key_units_.add(event);
        case EventType::segment:
            segment_ = *event.segment_value();
            [[fallthrough]];
        case EventType::tags:
            // Downstream gets them after the caps, as GStreamer orders sticky events.
            if (!caps_sent_) {
                held_events_.push_back(std::move(event));
                return true;
            }
            return forward_event(pad, event);
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    bool src_event(Pad& pad, Event&& event) override {
        if (key_units_.add(event)) {
            return true;
        }
        return Element::src_event(pad, std::move(event));
    }

private:
    void reset_stream() {
        destroy_encoder();
        info_.reset();
        pending_.clear();
        segment_ = StreamSegment{};
        key_units_.clear();
        held_events_.clear();
        caps_sent_ = false;
        sequence_header_.clear();
        frames_in_ = 0;
        next_aom_pts_ = 0;
    }

    void destroy_encoder() {
        if (encoder_open_) {
            lib_->aom_codec_destroy(&codec_);
            encoder_open_ = false;
        }
    }

    bool set_caps(const Caps& caps) {
        auto vinfo = VideoInfo::from_caps(caps);
        if (!vinfo) {
            context().error(Error(Errc::not_negotiated, fmt::format("av1enc: unusable input caps {}: {}",
                                                                    caps.to_string(), vinfo.error().message())));
            return false;
        }
        auto format = input_format(vinfo->format());
        if (!format) {
            context().error(Error(Errc::not_negotiated,
                                  fmt::format("av1enc: input format {} is not supported (I420, YV12, Y42B, Y444, "
                                              "I420_10LE are)",
                                              vinfo->format_info().name)));
            return false;
        }
        if (vinfo->width() < 4 || vinfo->height() < 4 || vinfo->width() > 65536 || vinfo->height() > 65536) {
            context().error(Error(Errc::not_negotiated, fmt::format("av1enc: frame size {}x{} is outside 4..65536",
                                                                    vinfo->width(), vinfo->height())));
            return false;
        }
        if (info_ && info_->format() == vinfo->format() && info_->width() == vinfo->width() &&
            info_->height() == vinfo->height() && info_->framerate() == vinfo->framerate()) {
            info_ = *vinfo; // colorimetry details only: the encoder goes on
            return true;
        }
        if (encoder_open_) {
            // A new format mid-stream: what the old encoder holds goes out
            // first, under the old caps; the new encoder sends new caps.
            bool got = false;
            const Flow f = drain(got);
            if (!is_success(f)) {
                return false;
            }
            destroy_encoder();
        }
        info_ = *vinfo;
        format_ = *format;
        const Fraction fps = info_->framerate();
        frame_duration_ = fps.num() > 0 && fps.den() > 0
                              ? ClockTime::from_ns(static_cast<std::uint64_t>(
                                    static_cast<double>(fps.den()) * 1e9 / static_cast<double>(fps.num()) + 0.5))
                              : ClockTime::from_ms(33);
        caps_sent_ = false;
        sequence_header_.clear();
        if (auto ok = open_encoder(); !ok) {
            context().error(std::move(ok.error()));
            return false;
        }
        return true;
    }

    Error property_error(std::string_view property, std::string_view message) const {
        return Error(Errc::invalid_argument, fmt::format("av1enc: property '{}': {}", property, message));
    }

    // libaom's message and detail for the last failed call on codec_.
    Error codec_error(std::string_view what) {
        const char* detail = lib_->aom_codec_error_detail(&codec_);
        return Error(Errc::failed, fmt::format("av1enc: libaom failed {}: {}{}{}", what, lib_->aom_codec_error(&codec_),
                                               detail != nullptr ? " - " : "", detail != nullptr ? detail : ""));
    }

    Result<void> open_encoder() {
        const auto usage = usage_profile_.get();
        const int cpu_used = cpu_used_.get();
        if (usage != UsageProfile::realtime && cpu_used > 9) {
            return fail(property_error("cpu-used", fmt::format("{} is only allowed with usage-profile=realtime "
                                                               "(good-quality and all-intra go up to 9)",
                                                               cpu_used)));
        }
        if (min_quantizer_.get() > max_quantizer_.get()) {
            return fail(property_error("min-quantizer", fmt::format("{} is above max-quantizer {}",
                                                                    min_quantizer_.get(), max_quantizer_.get())));
        }
        const auto end_usage = end_usage_.get();
        if ((end_usage == EndUsage::cq || end_usage == EndUsage::q) &&
            (cq_level_.get() < min_quantizer_.get() || cq_level_.get() > max_quantizer_.get())) {
            return fail(
                property_error("cq-level", fmt::format("{} is outside min-quantizer..max-quantizer ({}..{})",
                                                       cq_level_.get(), min_quantizer_.get(), max_quantizer_.get())));
        }

        aom_codec_iface_t* iface = lib_->aom_codec_av1_cx();
        aom_codec_enc_cfg_t cfg;
        if (lib_->aom_codec_enc_config_default(iface, &cfg, static_cast<unsigned>(usage)) != AOM_CODEC_OK) {
            return fail(Error(Errc::failed, "av1enc: libaom has no default configuration for this usage profile"));
        }
        cfg.g_w = info_->width();
        cfg.g_h = info_->height();
        cfg.g_profile = format_.profile;
        cfg.g_bit_depth = format_.bit_depth == 10 ? AOM_BITS_10 : AOM_BITS_8;
        cfg.g_input_bit_depth = format_.bit_depth;
        // libaom's own 100 ns ticks (see chain()). It derives the frame rate
        // from the durations, and takes 30 fps for a first guess when the
        // time base says more than 180.
        cfg.g_timebase.num = 1;
        cfg.g_timebase.den = static_cast<int>(1'000'000'000 / ns_per_tick);
        unsigned threads = threads_.get();
        if (threads == 0) {
            threads = usable_cpus();
        }
        cfg.g_threads = std::min(threads, max_threads);
        cfg.rc_end_usage = static_cast<aom_rc_mode>(end_usage);
        cfg.rc_target_bitrate = target_bitrate_.get();
        cfg.rc_min_quantizer = min_quantizer_.get();
        cfg.rc_max_quantizer = max_quantizer_.get();
        cfg.rc_undershoot_pct = undershoot_pct_.get();
        cfg.rc_overshoot_pct = overshoot_pct_.get();
        cfg.rc_buf_sz = buf_sz_.get();
        cfg.rc_buf_initial_sz = buf_initial_sz_.get();
        cfg.rc_buf_optimal_sz = buf_optimal_sz_.get();
        cfg.rc_dropframe_thresh = drop_frame_.get();
        if (usage == UsageProfile::all_intra) {
            // Every frame is a key frame and nothing is looked ahead:
            // libaom refuses anything else in this profile.
            cfg.g_lag_in_frames = 0;
            cfg.kf_mode = AOM_KF_AUTO;
            cfg.kf_min_dist = 0;
            cfg.kf_max_dist = 0;
        } else {
            cfg.g_lag_in_frames = lag_in_frames_.get();
            cfg.kf_mode = static_cast<aom_kf_mode>(keyframe_mode_.get());
            cfg.kf_min_dist = 0;
            cfg.kf_max_dist = static_cast<unsigned>(keyframe_max_dist_.get());
        }

        aom_codec_flags_t flags = 0;
        if (format_.bit_depth > 8) {
            flags |= AOM_CODEC_USE_HIGHBITDEPTH;
        }
        if (lib_->aom_codec_enc_init_ver(&codec_, iface, &cfg, flags, AOM_ENCODER_ABI_VERSION) != AOM_CODEC_OK) {
            Error e = codec_error("to open the encoder");
            lib_->aom_codec_destroy(&codec_);
            return fail(std::move(e));
        }
        encoder_open_ = true;

        struct Control {
            int id;
            int value;
            std::string_view property;
        };
        const Control controls[] = {
            {AOME_SET_CPUUSED, cpu_used, "cpu-used"},
            {AV1E_SET_ROW_MT, row_mt_.get() ? 1 : 0, "row-mt"},
            {AV1E_SET_TILE_COLUMNS, static_cast<int>(tile_columns_.get()), "tile-columns"},
            {AV1E_SET_TILE_ROWS, static_cast<int>(tile_rows_.get()), "tile-rows"},
            {AOME_SET_CQ_LEVEL, static_cast<int>(cq_level_.get()), "cq-level"},
        };
        for (const Control& c : controls) {
            aom_codec_err_t err = AOM_CODEC_OK;
            // Each control has its own argument type (AOM_CTRL_USE_TYPE).
            switch (c.id) {
            case AOME_SET_CPUUSED:
                err = lib_->aom_codec_control(&codec_, AOME_SET_CPUUSED, c.value);
                break;
            case AV1E_SET_ROW_MT:
                err = lib_->aom_codec_control(&codec_, AV1E_SET_ROW_MT, static_cast<unsigned>(c.value));
                break;
            case AV1E_SET_TILE_COLUMNS:
                err = lib_->aom_codec_control(&codec_, AV1E_SET_TILE_COLUMNS, static_cast<unsigned>(c.value));
                break;
            case AV1E_SET_TILE_ROWS:
                err = lib_->aom_codec_control(&codec_, AV1E_SET_TILE_ROWS, static_cast<unsigned>(c.value));
                break;
            case AOME_SET_CQ_LEVEL:
                if (end_usage != EndUsage::cq && end_usage != EndUsage::q) {
                    continue;
                }
                err = lib_->aom_codec_control(&codec_, AOME_SET_CQ_LEVEL, static_cast<unsigned>(c.value));
                break;
            default:
                break;
            }
            if (err != AOM_CODEC_OK) {
                Error e = codec_error(fmt::format("to apply property '{}' = {}", c.property, c.value));
                destroy_encoder();
                return fail(std::move(e));
            }
        }
        PARALLAX_DEBUG(av1enc_log, "opened {}x{} usage {} cpu-used {} threads {} end-usage {} bitrate {}", cfg.g_w,
                       cfg.g_h, static_cast<int>(usage), cpu_used, cfg.g_threads, static_cast<int>(end_usage),
                       cfg.rc_target_bitrate);
        return {};
    }

    // Flushes the encoder: every frame it holds comes out. The encoder
    // cannot take frames afterwards; it is closed.
    Flow drain(bool& got_any) {
        got_any = false;
        if (!encoder_open_) {
            return Flow::ok;
        }
        for (;;) {
            if (lib_->aom_codec_encode(&codec_, nullptr, 0, 0, 0) != AOM_CODEC_OK) {
                Flow f = context().error(codec_error("draining"));
                destroy_encoder();
                return f;
            }
            bool got = false;
            const Flow f = push_packets(&got);
            if (!is_success(f)) {
                destroy_encoder();
                return f;
            }
            if (!got) {
                break;
            }
            got_any = true;
        }
        destroy_encoder();
        pending_.clear();
        return Flow::ok;
    }

    // Pushes every packet libaom has ready.
    Flow push_packets(bool* got) {
        aom_codec_iter_t iter = nullptr;
        const aom_codec_cx_pkt_t* pkt = nullptr;
        while ((pkt = lib_->aom_codec_get_cx_data(&codec_, &iter)) != nullptr) {
            if (pkt->kind != AOM_CODEC_CX_FRAME_PKT) {
                continue;
            }
            if (got != nullptr) {
                *got = true;
            }
            const Flow f = push_packet(*pkt);
            if (!is_success(f)) {
                return f;
            }
        }
        return Flow::ok;
    }

    Flow push_packet(const aom_codec_cx_pkt_t& pkt) {
        const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(pkt.data.frame.buf),
                                                  pkt.data.frame.sz);
        const bool key = (pkt.data.frame.flags & AOM_FRAME_IS_KEY) != 0;
        if (key || !caps_sent_) {
            if (auto ok = update_caps(bytes); !ok) {
                return context().error(std::move(ok.error()));
            }
        }

        // The frame this temporal unit shows. Frames dropped by rate
        // control have no packet: skip their entries.
        PendingFrame shown{pkt.data.frame.pts, ClockTime::none(), frame_duration_, std::nullopt};
        while (!pending_.empty() && pending_.front().aom_pts < pkt.data.frame.pts) {
            if (pending_.front().key_unit) {
                key_units_.retry(*pending_.front().key_unit);
            }
            pending_.pop_front();
        }
        if (!pending_.empty() && pending_.front().aom_pts == pkt.data.frame.pts) {
            shown = pending_.front();
            pending_.pop_front();
        } else {
            shown.pts = ClockTime::from_ns(static_cast<std::uint64_t>(std::max<std::int64_t>(pkt.data.frame.pts, 0)) *
                                           ns_per_tick);
        }

        auto out = context().allocate(bytes.size());
        if (!out) {
            return context().error(std::move(out.error()));
        }
        auto dst = out->map_writable();
        if (!dst) {
            return context().error(std::move(dst.error()));
        }
        std::memcpy(dst->data(), bytes.data(), bytes.size());
        Metadata& meta = out->meta();
        meta.set_pts(shown.pts);
        meta.set_duration(shown.duration);
        if (!key) {
            meta.set_flag(BufferFlags::delta);
        }
        if (shown.key_unit) {
            if (key) {
                src_->push_event(KeyUnitRequests::announcement(*shown.key_unit, shown.pts, segment_));
            } else {
                key_units_.retry(*shown.key_unit);
            }
        }
        const Flow f = src_->push(std::move(*out));
        return f == Flow::dropped ? Flow::ok : f;
    }

    // Sends caps made from the sequence header of a key temporal unit when
    // none were sent yet for this encoder, or when the header changed.
    Result<void> update_caps(std::span<const std::uint8_t> tu) {
        auto obus = av1::split_obus(tu);
        if (!obus) {
            return fail(Error(Errc::failed,
                              fmt::format("av1enc: libaom's temporal unit is unreadable: {}", obus.error().message())));
        }
        const av1::Obu* seq_obu = nullptr;
        for (const av1::Obu& o : *obus) {
            if (o.type == av1::ObuType::sequence_header) {
                seq_obu = &o;
                break;
            }
        }
        if (seq_obu == nullptr) {
            if (!caps_sent_) {
                return fail(Error(Errc::failed, "av1enc: libaom's first temporal unit has no sequence header"));
            }
            return {};
        }
        if (caps_sent_ && std::ranges::equal(seq_obu->bytes, sequence_header_)) {
            return {};
        }
        auto seq = av1::parse_sequence_header(seq_obu->payload);
        if (!seq) {
            return fail(Error(Errc::failed, fmt::format("av1enc: libaom's sequence header is unreadable: {}",
                                                        seq.error().message())));
        }
        sequence_header_.assign(seq_obu->bytes.begin(), seq_obu->bytes.end());
        const std::vector<std::uint8_t> av1c = av1::make_av1c(*seq, seq_obu->bytes);
        const Caps base = av1::caps_for(*seq, av1c);
        Caps caps;
        for (std::size_t i = 0; i < base.size(); ++i) {
            Structure s = base.structure(i);
            s.set("framerate", info_->framerate());
            if (info_->pixel_aspect_ratio().num() > 0) {
                s.set("pixel-aspect-ratio", info_->pixel_aspect_ratio());
            }
            caps.append(std::move(s), base.features(i));
        }
        PARALLAX_DEBUG(av1enc_log, "caps {}", caps.to_string());
        src_->push_event(Event::caps(std::move(caps)));
        caps_sent_ = true;
        release_held_events();
        return {};
    }

    void release_held_events() {
        std::vector<Event> events = std::move(held_events_);
        held_events_.clear();
        for (Event& e : events) {
            src_->push_event(std::move(e));
        }
    }

    Pad* src_ = nullptr;

    const detail::AomLibrary* lib_ = nullptr; // from start()
    aom_codec_ctx_t codec_{};
    bool encoder_open_ = false;
    std::optional<VideoInfo> info_;
    InputFormat format_{AOM_IMG_FMT_I420, 0, 8};
    ClockTime frame_duration_ = ClockTime::from_ms(33);
    std::deque<PendingFrame> pending_;
    StreamSegment segment_;
    KeyUnitRequests key_units_;
    std::vector<Event> held_events_;
    bool caps_sent_ = false;
    std::vector<std::uint8_t> sequence_header_;
    std::uint64_t frames_in_ = 0;
    std::int64_t next_aom_pts_ = 0;

    Property<int> cpu_used_{this,
                            "cpu-used",
                            8,
                            "Speed against quality, 0 (slowest, best) to 10 (fastest); 10 only with "
                            "usage-profile=realtime, which treats 0-4 as 5; good-quality treats 7-9 as 6",
                            {0, 10}};
    Property<UsageProfile> usage_profile_{this, "usage-profile", UsageProfile::realtime,
                                          "Usage profile that guides the encoder's configuration",
                                          usage_profile_values};
    Property<EndUsage> end_usage_{this, "end-usage", EndUsage::vbr, "Rate control algorithm", end_usage_values};
    Property<std::uint32_t> target_bitrate_{
        this, "target-bitrate", 256, "Target bitrate, in kilobits per second (vbr, cbr, cq)", {1, 2000000}};
    Property<std::uint32_t> cq_level_{
        this, "cq-level", 30, "Quantizer level used by end-usage cq and q (0 best quality, 63 worst)", {0, 63}};
    Property<std::uint32_t> min_quantizer_{this, "min-quantizer", 0, "Minimum (best quality) quantizer", {0, 63}};
    Property<std::uint32_t> max_quantizer_{this, "max-quantizer", 63, "Maximum (worst quality) quantizer", {0, 63}};
    Property<KeyframeMode> keyframe_mode_{this, "keyframe-mode", KeyframeMode::automatic,
                                          "Whether the encoder places key frames itself", keyframe_mode_values};
    Property<std::int32_t> keyframe_max_dist_{this,
                                              "keyframe-max-dist",
                                              30,
                                              "Maximum distance between key frames, in frames (ignored by "
                                              "all-intra, where every frame is a key frame)",
                                              {0, std::numeric_limits<std::int32_t>::max()}};
    Property<std::uint32_t> lag_in_frames_{this,
                                           "lag-in-frames",
                                           0,
                                           "Future frames the encoder may look at before producing the current "
                                           "one (0: no lag; ignored by all-intra)",
                                           {0, 64}};
    Property<std::uint32_t> threads_{
        this, "threads", 0, "Encoder threads (0: one per core, at most 64)", {0, max_threads}};
    Property<bool> row_mt_{this, "row-mt", true, "Enable row-based multithreading"};
    Property<std::uint32_t> tile_columns_{this, "tile-columns", 0, "Tile columns, as a log2 (0 = 1 column)", {0, 6}};
    Property<std::uint32_t> tile_rows_{this, "tile-rows", 0, "Tile rows, as a log2 (0 = 1 row)", {0, 6}};
    Property<std::uint32_t> buf_sz_{this, "buf-sz", 6000, "Decoder buffer size, in milliseconds"};
    Property<std::uint32_t> buf_initial_sz_{this, "buf-initial-sz", 4000,
                                            "Decoder buffer initial size, in milliseconds"};
    Property<std::uint32_t> buf_optimal_sz_{this, "buf-optimal-sz", 5000,
                                            "Decoder buffer optimal size, in milliseconds"};
    Property<std::uint32_t> undershoot_pct_{
        this, "undershoot-pct", 25, "Rate control undershoot allowed, percent of the target", {0, 100}};
    Property<std::uint32_t> overshoot_pct_{
        this, "overshoot-pct", 25, "Rate control overshoot allowed, percent of the target", {0, 100}};
    Property<std::uint32_t> drop_frame_{this,
                                        "drop-frame",
                                        0,
                                        "Buffer fullness (percent) below which rate control drops frames "
                                        "(0: never drop)",
                                        {0, 100}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Av1Enc);
