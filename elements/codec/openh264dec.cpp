// openh264dec: decodes H.264 with Cisco's OpenH264. Input is an Annex B
// byte-stream in access units (h264parse makes one from any other form).
// Each picture OpenH264 returns is copied once into a buffer of the I420
// layout the caps describe (OpenH264's planes have their own strides); the
// output caps follow the pictures, a picture of another size sends new caps
// first.
//
// OpenH264 is made for the Constrained Baseline profile, which has no B
// pictures: pictures come out as soon as they are decoded. For Main and
// High streams with B pictures OpenH264 reorders the pictures into display
// order but not their timestamps, so each picture takes the smallest pts
// not yet given out (input pts are presentation times, which display order
// sorts); the pictures it still holds at EOS are flushed. Features it lacks
// (interlaced coding, 4:2:2, more than 8 bits) make it report errors.

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "codec/decoded_picture.hpp"
#include "codec/openh264_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <string>
#include <vector>
#include <wels/codec_api.h>

namespace parallax {
namespace {

LogCategory openh264dec_log("openh264dec", "openh264dec: H.264 decoding with OpenH264");

// More pictures than the decoded picture buffer holds (16) plus one in
// decoding cannot be waiting for output.
constexpr std::size_t max_pending_pts = 17;

constexpr std::string_view h264_caps = "video/x-h264, stream-format=(string)byte-stream, alignment=(string)au";
constexpr std::string_view decoded_caps = "video/x-raw, format=(string)I420, width=(int)[ 1, 65536 ], "
                                          "height=(int)[ 1, 65536 ], framerate=(fraction)[ 0/1, 2147483647/1 ]";

// OpenH264's DECODING_STATE bits, named for messages.
std::string state_text(int state) {
    std::string text;
    auto add = [&](int bit, std::string_view name) {
        if ((state & bit) != 0) {
            if (!text.empty()) {
                text += ", ";
            }
            text += name;
        }
    };
    add(dsFramePending, "frame pending");
    add(dsRefLost, "reference lost");
    add(dsBitstreamError, "bitstream error");
    add(dsDepLayerLost, "dependent layer lost");
    add(dsNoParamSets, "no parameter sets");
    add(dsDataErrorConcealed, "error concealed");
    add(dsRefListNullPtrs, "reference list broken");
    add(dsInvalidArgument, "invalid argument");
    add(dsInitialOptExpected, "not initialised");
    add(dsOutOfMemory, "out of memory");
    add(dsDstBufNeedExpan, "output buffer too small");
    return text.empty() ? fmt::format("state 0x{:x}", state) : text;
}

class OpenH264Dec final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "openh264dec",
        .klass = "Codec/Decoder/Video",
        .summary = "Decodes H.264 video with OpenH264",
        .description =
            "Decodes an H.264 byte-stream in access units (put h264parse before it for avc or unaligned input) into "
            "I420 video with Cisco's OpenH264: Constrained Baseline, and progressive 8-bit 4:2:0 Main and High "
            "streams (pictures with B frames come out in display order). The output caps follow the pictures: a "
            "change of size sends new caps before the first picture that has it. Each picture takes the smallest "
            "input pts not yet given out (presentation order). Damaged data gives a warning and decoding goes on at "
            "the next picture OpenH264 can decode; max-errors damaged access units in a row are an error.",
        .rank = rank_marginal};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h = ExecutionHints::cpu_intensive();
        h.uses_native_code = true;
        // OpenH264 parses data from outside, but it is fuzzed continuously
        // by OSS-Fuzz (as dav1d is): crash_safe stays true, as for dav1ddec.
        return h;
    }();

    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static(h264_caps)},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(decoded_caps)}};
    }

    ~OpenH264Dec() override { close_decoder(); }

    // H.264 caps with a size or rate narrow the raw caps to match; raw caps
    // leave the H.264 side open.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (from.direction() == PadDirection::src || caps.is_any() || caps.is_empty()) {
            return to.pad_template().caps;
        }
        Caps out = Caps::empty();
        for (std::size_t i = 0; i < caps.size(); ++i) {
            Structure s = to.pad_template().caps.structure(0);
            for (const char* field : {"width", "height", "framerate", "pixel-aspect-ratio"}) {
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
        out_info_.reset();
        errors_in_a_row_ = 0;
        pending_pts_ = {};
        // Loaded here, as openh264enc does: an isolated element starts
        // before its sandbox closes the file system.
        auto lib = detail::openh264_library();
        if (!lib) {
            return fail(
                Error(lib.error().code(), fmt::format("{}: {}", name(), lib.error().message())).at_element(name()));
        }
        h264_ = *lib;
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
            // is known.
            input_caps_ = *event.caps_value();
            return true;
        case EventType::eos:
            if (decoder_ != nullptr) {
                static_cast<void>(drain());
            }
            break;
        case EventType::flush_stop:
            // Reference pictures belong to the flushed data.
            if (auto ok = open_decoder(); !ok) {
                context().error(std::move(ok.error()));
            }
            errors_in_a_row_ = 0;
            pending_pts_ = {};
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
        if (buffer.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
            return context().error(
                Error(Errc::corrupt, fmt::format("{}: access unit of {} bytes is too large", name(), buffer.size())));
        }
        ++units_in_;
        unsigned char* planes[3] = {nullptr, nullptr, nullptr};
        SBufferInfo out{};
        const ClockTime pts = buffer.meta().pts();
        if (pts.is_valid()) {
            pending_pts_.push(pts.ns());
            // Pictures that never came out (damaged data) must not hold
            // their times forever: the oldest go.
            while (pending_pts_.size() > max_pending_pts) {
                pending_pts_.pop();
            }
        }
        last_duration_ = buffer.meta().duration();
        const auto state =
            static_cast<int>(decoder_->DecodeFrameNoDelay(reinterpret_cast<const unsigned char*>(buffer.data().data()),
                                                          static_cast<int>(buffer.size()), planes, &out));
        if (state != dsErrorFree) {
            if (const Flow f = damaged(state, pts); f != Flow::ok) {
                return f;
            }
        } else {
            errors_in_a_row_ = 0;
        }
        if (out.iBufferStatus == 1) {
            return push_picture(planes, out);
        }
        return Flow::ok;
    }

private:
    Result<void> open_decoder() {
        close_decoder();
        ISVCDecoder* dec = nullptr;
        if (h264_->create_decoder(&dec) != 0 || dec == nullptr) {
            return fail(
                Error(Errc::failed, fmt::format("{}: OpenH264 could not create a decoder", name())).at_element(name()));
        }
        int quiet = WELS_LOG_QUIET;
        dec->SetOption(DECODER_OPTION_TRACE_LEVEL, &quiet);
        SDecodingParam param{};
        param.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
        param.sVideoProperty.size = sizeof(param.sVideoProperty);
        param.uiTargetDqLayer = std::numeric_limits<unsigned char>::max();
        // No concealment: a damaged picture is left out rather than shown
        // with made-up blocks.
        param.eEcActiveIdc = ERROR_CON_DISABLE;
        if (const long r = dec->Initialize(&param); r != cmResultSuccess) {
            h264_->destroy_decoder(dec);
            return fail(
                Error(Errc::failed, fmt::format("{}: OpenH264 could not initialise its decoder (error {})", name(), r))
                    .at_element(name()));
        }
        decoder_ = dec;
        return {};
    }

    void close_decoder() {
        if (decoder_ != nullptr) {
            decoder_->Uninitialize();
            h264_->destroy_decoder(decoder_);
            decoder_ = nullptr;
        }
    }

    // A damaged access unit: a warning, or an error after max-errors in a row.
    Flow damaged(int state, ClockTime pts) {
        ++errors_in_a_row_;
        const std::string what =
            fmt::format("access unit {}{}: {}", units_in_ - 1,
                        pts.is_valid() ? fmt::format(" (pts {})", pts.to_string()) : "", state_text(state));
        const std::int32_t limit = max_errors_.get();
        if (limit >= 0 && errors_in_a_row_ > static_cast<std::uint32_t>(limit)) {
            return context().error(Error(Errc::corrupt, fmt::format("{}: OpenH264 could not decode {} access units "
                                                                    "in a row; the last, {}",
                                                                    name(), errors_in_a_row_, what))
                                       .at_pad("sink"));
        }
        context().warning(fmt::format("{}: could not decode the stream", name()), what);
        return Flow::ok;
    }

    // At EOS: the pictures OpenH264 still holds for reordering (streams
    // with B pictures) come out.
    Flow drain() {
        int end = 1;
        decoder_->SetOption(DECODER_OPTION_END_OF_STREAM, &end);
        int remaining = 0;
        decoder_->GetOption(DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER, &remaining);
        // The count is bounded by the decoded picture buffer (16 frames).
        for (int i = 0; i < std::min(remaining, 16); ++i) {
            unsigned char* planes[3] = {nullptr, nullptr, nullptr};
            SBufferInfo out{};
            decoder_->FlushFrame(planes, &out);
            if (out.iBufferStatus != 1) {
                break;
            }
            if (const Flow f = push_picture(planes, out); f != Flow::ok) {
                return f;
            }
        }
        return Flow::ok;
    }

    Result<VideoInfo> info_for(std::uint32_t width, std::uint32_t height) const {
        auto vi = VideoInfo::make(VideoFormat::i420, width, height);
        if (!vi) {
            return fail(std::move(vi.error()));
        }
        detail::set_rate_and_aspect_of(*vi, input_caps_);
        return vi;
    }

    Flow push_picture(unsigned char* const planes[3], const SBufferInfo& out) {
        const SSysMEMBuffer& pic = out.UsrData.sSystemBuffer;
        if (pic.iWidth <= 0 || pic.iHeight <= 0 || planes[0] == nullptr || planes[1] == nullptr ||
            planes[2] == nullptr) {
            return Flow::ok;
        }
        const auto width = static_cast<std::uint32_t>(pic.iWidth);
        const auto height = static_cast<std::uint32_t>(pic.iHeight);
        if (!out_info_ || out_info_->width() != width || out_info_->height() != height) {
            auto vi = info_for(width, height);
            if (!vi) {
                return context().error(std::move(vi.error()));
            }
            out_info_ = std::move(*vi);
            PARALLAX_INFO(openh264dec_log, "{}: output caps {}", name(), out_info_->to_caps().to_string());
            if (!src_->push_event(Event::caps(out_info_->to_caps()))) {
                return context().error(Error(Errc::not_negotiated, fmt::format("{}: downstream refused {}", name(),
                                                                               out_info_->to_caps().to_string()))
                                           .at_pad("src"));
            }
        }
        const VideoInfo& vi = *out_info_;
        std::array<detail::PicturePlane, 3> picture_planes{};
        for (std::size_t plane = 0; plane < picture_planes.size(); ++plane) {
            picture_planes[plane] = {reinterpret_cast<const std::byte*>(planes[plane]), pic.iStride[plane == 0 ? 0 : 1],
                                     plane == 0 ? width : (width + 1) / 2};
        }
        auto buffer = detail::copy_picture(context(), vi, picture_planes);
        if (!buffer) {
            return context().error(std::move(buffer.error()));
        }
        Metadata& m = buffer->meta();
        if (!pending_pts_.empty()) {
            m.set_pts(ClockTime::from_ns(pending_pts_.top()));
            pending_pts_.pop();
        }
        if (last_duration_.is_valid()) {
            m.set_duration(last_duration_);
        } else if (vi.framerate().num() > 0) {
            m.set_duration(ClockTime::from_ns(static_cast<std::uint64_t>(vi.framerate().den()) * ClockTime::ns_per_s /
                                              static_cast<std::uint64_t>(vi.framerate().num())));
        }
        return src_->push(std::move(*buffer));
    }

    Pad* src_ = nullptr;
    const detail::OpenH264Library* h264_ = nullptr;
    ISVCDecoder* decoder_ = nullptr;
    Caps input_caps_ = Caps::empty();
    std::optional<VideoInfo> out_info_;
    ClockTime last_duration_;
    std::uint64_t units_in_ = 0;
    std::uint32_t errors_in_a_row_ = 0;
    // The pts of the access units whose pictures have not come out, smallest first.
    std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> pending_pts_;

    Property<std::int32_t> max_errors_{this,
                                       "max-errors",
                                       10,
                                       "Damaged access units in a row before decoding fails (-1 = never fail, "
                                       "only warn)",
                                       {-1, std::numeric_limits<std::int32_t>::max()}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OpenH264Dec);
