// openh264enc: encodes I420 video to H.264 (Constrained Baseline) with
// Cisco's OpenH264, with the property names of GStreamer's openh264enc.
//
// OpenH264 neither reorders nor looks ahead: each input frame gives one
// access unit at once, or none when rate control skips the frame. So a
// SimpleTransform-like flow would do, but skipped frames and caps sent
// ahead of the first buffer make an Element simpler to reason about.

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "codec/key_unit_requests.hpp"
#include "codec/openh264_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>
#include <wels/codec_api.h>

namespace parallax {
namespace {

LogCategory openh264enc_log("openh264enc", "openh264enc: OpenH264 configuration and frames");

// GStreamer's GstOpenh264encRCModes; the numbers are OpenH264's RC_MODES.
enum class RateControl : int {
    quality = RC_QUALITY_MODE,
    bitrate = RC_BITRATE_MODE,
    buffer = RC_BUFFERBASED_MODE,
    off = RC_OFF_MODE
};
constexpr EnumValue rate_control_values[] = {
    {RC_QUALITY_MODE, "quality", "Quality mode"},
    {RC_BITRATE_MODE, "bitrate", "Bitrate mode"},
    {RC_BUFFERBASED_MODE, "buffer", "No bitrate control, just using buffer status"},
    {RC_OFF_MODE, "off", "Rate control off mode"},
};

// GStreamer's GstOpenh264encComplexity; the numbers are OpenH264's ECOMPLEXITY_MODE.
enum class Complexity : int { low = LOW_COMPLEXITY, medium = MEDIUM_COMPLEXITY, high = HIGH_COMPLEXITY };
constexpr EnumValue complexity_values[] = {
    {LOW_COMPLEXITY, "low", "The lowest complexity, the fastest speed"},
    {MEDIUM_COMPLEXITY, "medium", "Medium complexity, medium speed, medium quality"},
    {HIGH_COMPLEXITY, "high", "High complexity, lowest speed, high quality"},
};

// GStreamer's usage types; the numbers are OpenH264's EUsageType.
enum class UsageType : int { camera = CAMERA_VIDEO_REAL_TIME, screen = SCREEN_CONTENT_REAL_TIME };
constexpr EnumValue usage_type_values[] = {
    {CAMERA_VIDEO_REAL_TIME, "camera", "video from camera"},
    {SCREEN_CONTENT_REAL_TIME, "screen", "screen content"},
};

class OpenH264Enc final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "openh264enc",
        .klass = "Codec/Encoder/Video",
        .summary = "Encode raw video to H.264 with OpenH264",
        .description = "Encodes I420 video into an H.264 byte-stream (Constrained Baseline profile, one access unit "
                       "per buffer, SPS and PPS before every IDR picture) using Cisco's OpenH264. IDR access units "
                       "are key units; frames that rate control skips (enable-frame-skip) give no buffer. A "
                       "force-key-unit request (the upstream event, or a downstream one from upstream) makes the "
                       "first frame at or after its running time an IDR picture, announced by a downstream "
                       "force-key-unit event just ahead of it.",
        .rank = rank_marginal};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always,
                 Caps::parse_static("video/x-raw, format=(string)I420, width=(int)[ 16, 4096 ], "
                                    "height=(int)[ 16, 4096 ], framerate=(fraction)[ 0/1, 2147483647/1 ]")},
                {"src", PadDirection::src, PadPresence::always,
                 Caps::parse_static("video/x-h264, stream-format=(string)byte-stream, alignment=(string)au, "
                                    "profile=(string)constrained-baseline, width=(int)[ 16, 4096 ], "
                                    "height=(int)[ 16, 4096 ], framerate=(fraction)[ 0/1, 2147483647/1 ]")}};
    }
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.processing = ProcessingHint::cpu_bound;
        h.uses_native_code = true;
        // The input is raw video made in the pipeline: OpenH264 parses
        // nothing from outside, so a crash would be an OpenH264 bug.
        h.crash_safe = true;
        return h;
    }();

    ~OpenH264Enc() override { destroy_encoder(); }

    // Raw video in, H.264 out: size and rate carry over.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction() || caps.is_any() || caps.is_empty()) {
            return to.pad_template().caps;
        }
        Caps out = Caps::empty();
        for (std::size_t i = 0; i < caps.size(); ++i) {
            Structure s = to.pad_template().caps.structure(0);
            for (const char* field : {"width", "height", "framerate"}) {
                if (const CapsValue* v = caps.structure(i).get(field)) {
                    s.set(field, *v);
                }
            }
            out.append(std::move(s));
        }
        return out;
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        reset_stream();
        // Loaded here, not when the first frame comes: an isolated element
        // starts before its sandbox closes the file system.
        auto lib = detail::openh264_library();
        if (!lib) {
            return fail(Error(lib.error().code(), fmt::format("{}: {}", name(), lib.error().message())));
        }
        h264_ = *lib;
        return {};
    }

    Result<void> stop() override {
        reset_stream();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return set_caps(*event.caps_value());
        case EventType::flush_stop:
            // Reference pictures belong to the flushed data: start at an IDR.
            destroy_encoder();
            if (event.reset_time()) {
                segment_ = StreamSegment{};
            }
            return forward_event(pad, event);
        case EventType::segment:
            segment_ = *event.segment_value();
            return forward_event(pad, event);
        case EventType::downstream_force_key_unit:
            // Answered by the event this element sends ahead of the IDR.
            return key_units_.add(event);
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

    Flow chain(Pad&, Buffer&& buffer) override {
        if (!info_) {
            return context().error(
                Error(Errc::not_negotiated, fmt::format("{}: a buffer arrived before the caps", name())));
        }
        if (encoder_ == nullptr) {
            if (auto ok = open_encoder(); !ok) {
                return context().error(std::move(ok.error()));
            }
        }
        auto frame = VideoFrame::map(*info_, buffer);
        if (!frame) {
            return context().error(Error(Errc::invalid_argument, fmt::format("{}: input frame {}: {}", name(),
                                                                             frames_in_, frame.error().message())));
        }
        SSourcePicture pic{};
        pic.iColorFormat = videoFormatI420;
        pic.iPicWidth = static_cast<int>(info_->width());
        pic.iPicHeight = static_cast<int>(info_->height());
        // OpenH264 reads the planes where VideoInfo put them; it never
        // writes them.
        for (std::size_t c = 0; c < 3; ++c) {
            pic.pData[c] = reinterpret_cast<unsigned char*>(const_cast<std::byte*>(frame->component_row(c, 0).data()));
            pic.iStride[c] = static_cast<int>(frame->component_stride(c));
        }
        const ClockTime pts = buffer.meta().pts();
        pic.uiTimeStamp = pts.is_valid() ? static_cast<long long>(pts.ns() / 1'000'000) : 0;
        ++frames_in_;
        const std::optional<KeyUnitRequest> key_unit = key_units_.take_due(segment_.to_running_time(pts));
        if (key_unit) {
            // An IDR picture, which OpenH264 always precedes with SPS and PPS:
            // all-headers holds whatever the request asked.
            encoder_->ForceIntraFrame(true);
        }

        SFrameBSInfo bs{};
        if (const int r = encoder_->EncodeFrame(&pic, &bs); r != cmResultSuccess) {
            return context().error(Error(Errc::failed, fmt::format("{}: OpenH264 failed to encode frame {} (error {})",
                                                                   name(), frames_in_ - 1, r)));
        }
        const bool idr = bs.eFrameType == videoFrameTypeIDR;
        if (key_unit && !idr) {
            key_units_.retry(*key_unit);
        }
        if (bs.eFrameType == videoFrameTypeSkip || bs.iFrameSizeInBytes <= 0) {
            PARALLAX_DEBUG(openh264enc_log, "{}: frame {} skipped by rate control", name(), frames_in_ - 1);
            return Flow::ok;
        }
        auto out = context().allocate(static_cast<std::size_t>(bs.iFrameSizeInBytes));
        if (!out) {
            return context().error(std::move(out.error()));
        }
        auto dst = out->map_writable();
        if (!dst) {
            return context().error(std::move(dst.error()));
        }
        std::size_t at = 0;
        for (int layer = 0; layer < bs.iLayerNum; ++layer) {
            const SLayerBSInfo& l = bs.sLayerInfo[layer];
            std::size_t size = 0;
            for (int n = 0; n < l.iNalCount; ++n) {
                size += static_cast<std::size_t>(l.pNalLengthInByte[n]);
            }
            if (size > dst->size() - at) {
                return context().error(Error(Errc::failed, fmt::format("{}: OpenH264's layers of frame {} exceed the "
                                                                       "frame size it reported",
                                                                       name(), frames_in_ - 1)));
            }
            std::memcpy(dst->data() + at, l.pBsBuf, size);
            at += size;
        }
        Metadata& meta = out->meta();
        meta.set_pts(pts);
        meta.set_duration(buffer.meta().duration().is_valid() ? buffer.meta().duration() : frame_duration_);
        if (idr) {
            meta.set_flag(BufferFlags::keyframe);
        } else {
            meta.set_flag(BufferFlags::delta);
        }
        if (key_unit && idr) {
            src_->push_event(KeyUnitRequests::announcement(*key_unit, pts, segment_));
        }
        const Flow f = src_->push(std::move(*out));
        return f == Flow::dropped ? Flow::ok : f;
    }

private:
    void reset_stream() {
        destroy_encoder();
        info_.reset();
        frames_in_ = 0;
        segment_ = StreamSegment{};
        key_units_.clear();
    }

    void destroy_encoder() {
        if (encoder_ != nullptr) {
            encoder_->Uninitialize();
            h264_->destroy_encoder(encoder_);
            encoder_ = nullptr;
        }
    }

    bool set_caps(const Caps& caps) {
        auto vinfo = VideoInfo::from_caps(caps);
        if (!vinfo) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: unusable input caps {}: {}", name(),
                                                                    caps.to_string(), vinfo.error().message())));
            return false;
        }
        if (vinfo->format() != VideoFormat::i420) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: input format {} is not supported (I420 is)",
                                                                    name(), vinfo->format_info().name)));
            return false;
        }
        const bool same = info_ && info_->width() == vinfo->width() && info_->height() == vinfo->height() &&
                          info_->framerate() == vinfo->framerate();
        info_ = *vinfo;
        if (same) {
            return true;
        }
        // A new size or rate: a new encoder, which starts with an IDR.
        destroy_encoder();
        const Fraction fps = info_->framerate();
        frame_duration_ = fps.num() > 0
                              ? ClockTime::from_ns(static_cast<std::uint64_t>(fps.den()) * ClockTime::ns_per_s /
                                                   static_cast<std::uint64_t>(fps.num()))
                              : ClockTime();
        Structure s("video/x-h264");
        s.set("stream-format", "byte-stream");
        s.set("alignment", "au");
        s.set("profile", "constrained-baseline");
        s.set("width", static_cast<std::int32_t>(info_->width()));
        s.set("height", static_cast<std::int32_t>(info_->height()));
        s.set("framerate", fps);
        if (info_->pixel_aspect_ratio().num() > 0) {
            s.set("pixel-aspect-ratio", info_->pixel_aspect_ratio());
        }
        Caps out;
        out.append(std::move(s));
        if (auto ok = open_encoder(); !ok) {
            context().error(std::move(ok.error()));
            return false;
        }
        return src_->push_event(Event::caps(std::move(out)));
    }

    Error property_error(std::string_view property, std::string_view message) const {
        return Error(Errc::invalid_argument, fmt::format("{}: property '{}': {}", name(), property, message));
    }

    Result<void> open_encoder() {
        if (qp_min_.get() > qp_max_.get()) {
            return fail(property_error("qp-min", fmt::format("{} is above qp-max {}", qp_min_.get(), qp_max_.get())));
        }
        const std::uint32_t max_bitrate = max_bitrate_.get();
        if (max_bitrate != 0 && max_bitrate < bitrate_.get()) {
            return fail(property_error(
                "max-bitrate", fmt::format("{} is below bitrate {} (0 = no maximum)", max_bitrate, bitrate_.get())));
        }
        ISVCEncoder* enc = nullptr;
        if (h264_->create_encoder(&enc) != 0 || enc == nullptr) {
            return fail(Error(Errc::failed, fmt::format("{}: OpenH264 could not create an encoder", name())));
        }
        int quiet = WELS_LOG_QUIET;
        enc->SetOption(ENCODER_OPTION_TRACE_LEVEL, &quiet);

        SEncParamExt p{};
        enc->GetDefaultParams(&p);
        const Fraction fps = info_->framerate();
        const float rate = fps.num() > 0 ? static_cast<float>(fps.num()) / static_cast<float>(fps.den()) : 30.0F;
        p.iUsageType = static_cast<EUsageType>(usage_type_.get());
        p.iPicWidth = static_cast<int>(info_->width());
        p.iPicHeight = static_cast<int>(info_->height());
        p.iTargetBitrate = static_cast<int>(bitrate_.get());
        p.iMaxBitrate = max_bitrate == 0 ? UNSPECIFIED_BIT_RATE : static_cast<int>(max_bitrate);
        p.iRCMode = static_cast<RC_MODES>(rate_control_.get());
        p.fMaxFrameRate = rate;
        p.iTemporalLayerNum = 1;
        p.iSpatialLayerNum = 1;
        p.iComplexityMode = static_cast<ECOMPLEXITY_MODE>(complexity_.get());
        p.uiIntraPeriod = gop_size_.get();
        // SPS and PPS keep their ids at every IDR, so that a parser or
        // muxer sees the same parameter sets again rather than new ones.
        p.eSpsPpsIdStrategy = CONSTANT_ID;
        p.bEnableFrameSkip = enable_frame_skip_.get();
        p.iMinQp = static_cast<int>(qp_min_.get());
        p.iMaxQp = static_cast<int>(qp_max_.get());
        p.iMultipleThreadIdc = static_cast<unsigned short>(multi_thread_.get());
        p.bEnableFrameCroppingFlag = true; // sizes that are not multiples of 16
        SSpatialLayerConfig& layer = p.sSpatialLayers[0];
        layer.iVideoWidth = p.iPicWidth;
        layer.iVideoHeight = p.iPicHeight;
        layer.fFrameRate = rate;
        layer.iSpatialBitrate = p.iTargetBitrate;
        layer.iMaxSpatialBitrate = p.iMaxBitrate;
        layer.uiProfileIdc = PRO_BASELINE;
        layer.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
        if (const int r = enc->InitializeExt(&p); r != cmResultSuccess) {
            h264_->destroy_encoder(enc);
            return fail(Error(Errc::failed, fmt::format("{}: OpenH264 refused the configuration ({}x{} at {} fps, "
                                                        "bitrate {}, rate-control {}): error {}",
                                                        name(), p.iPicWidth, p.iPicHeight, rate, p.iTargetBitrate,
                                                        static_cast<int>(p.iRCMode), r)));
        }
        int format = videoFormatI420;
        enc->SetOption(ENCODER_OPTION_DATAFORMAT, &format);
        encoder_ = enc;
        PARALLAX_DEBUG(openh264enc_log, "{}: opened {}x{} at {} fps, bitrate {}, rate-control {}", name(), p.iPicWidth,
                       p.iPicHeight, rate, p.iTargetBitrate, static_cast<int>(p.iRCMode));
        return {};
    }

    Pad* src_ = nullptr;
    const detail::OpenH264Library* h264_ = nullptr;
    ISVCEncoder* encoder_ = nullptr;
    std::optional<VideoInfo> info_;
    ClockTime frame_duration_;
    std::uint64_t frames_in_ = 0;
    StreamSegment segment_;
    KeyUnitRequests key_units_;

    Property<UsageType> usage_type_{this, "usage-type", UsageType::camera, "Type of video content", usage_type_values};
    Property<std::uint32_t> bitrate_{this,
                                     "bitrate",
                                     128000,
                                     "Bitrate (in bits per second)",
                                     {0, static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max())}};
    Property<std::uint32_t> max_bitrate_{this,
                                         "max-bitrate",
                                         0,
                                         "Maximum bitrate (in bits per second, 0 = unspecified)",
                                         {0, static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max())}};
    Property<std::uint32_t> gop_size_{this,
                                      "gop-size",
                                      90,
                                      "Number of frames between intra frames",
                                      {0, static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max())}};
    Property<RateControl> rate_control_{this, "rate-control", RateControl::quality, "Rate control mode",
                                        rate_control_values};
    Property<Complexity> complexity_{this, "complexity", Complexity::medium, "Complexity", complexity_values};
    Property<std::uint32_t> multi_thread_{this, "multi-thread", 0, "The number of threads (0 = auto)", {0, 64}};
    Property<bool> enable_frame_skip_{this, "enable-frame-skip", false, "Skip frames to reach target bitrate"};
    Property<std::uint32_t> qp_min_{this, "qp-min", 0, "Minimum quantizer", {0, 51}};
    Property<std::uint32_t> qp_max_{this, "qp-max", 51, "Maximum quantizer", {0, 51}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OpenH264Enc);
