#pragma once

// VideoFilter: the base of the raw-video transforms that write one new frame
// for each frame in (GStreamer's GstVideoFilter). Private to elements/video.

#include <parallax/element.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parallax::detail {

/// Raw video of every VideoFormat, for the pad templates of the filters that
/// take them all. Where no caps field or neighbour says otherwise,
/// negotiation picks from this list in this order.
inline constexpr std::string_view every_video_format_caps =
    "video/x-raw, format=(string){ I420, YV12, NV12, NV21, YUY2, UYVY, Y42B, Y444, I420_10LE, P010_10LE, I422_10LE, "
    "Y444_10LE, I420_12LE, I422_12LE, Y444_12LE, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, RGB, BGR, GRAY8, GRAY16_LE }, "
    "width=(int)[ 1, 2147483647 ], "
    "height=(int)[ 1, 2147483647 ]";

/// A SimpleTransform for raw video. The base reads the VideoInfo of the caps
/// in and out, hands them to set_info(), and for each buffer maps the input
/// frame, allocates and maps an output frame of the output size, calls
/// transform_frame() and sends the new buffer on with the input's metadata.
/// Pass-through (passthrough_when_equal()) works as in SimpleTransform.
///
/// An element whose output depends on a setting that may change while the
/// stream runs (a crop, a rotation) calls request_new_caps() when it
/// changes: the output caps are chosen again, and set_info() runs again,
/// before the next buffer.
class VideoFilter : public SimpleTransform {
protected:
    /// The stream's input and output, read from the caps given to
    /// set_caps(). Configure the conversion here; an error refuses the caps
    /// (it names the element). When the error comes from a setting that
    /// request_new_caps() reported changed after these caps were chosen, the
    /// caps are chosen again before the next buffer rather than refused.
    /// Called from: streaming thread.
    virtual Result<void> set_info(const VideoInfo& in, const VideoInfo& out) = 0;
    /// Writes the output frame `out` from the input frame `in`, with the
    /// configuration of the last set_info() that succeeded. Called from:
    /// streaming thread.
    virtual void transform_frame(const VideoFrame& in, const WritableVideoFrame& out) = 0;

    /// A setting that decides the output changed: choose the output caps
    /// again before the next buffer. With `renegotiate_links` (when the
    /// output's size or layout may change), a running pipeline also
    /// negotiates its links again. Called from: any thread.
    void request_new_caps(bool renegotiate_links = true);

    /// Subclasses that override start() call VideoFilter::start().
    Result<void> start() override;
    Result<void> set_caps(const Caps& in, const Caps& out) final;
    /// Subclasses that override sink_event() call VideoFilter::sink_event()
    /// for everything they do not consume.
    bool sink_event(Pad& pad, Event&& event) override;
    Flow chain(Pad& pad, Buffer&& buffer) final;
    Flow transform(Buffer& buffer, TransformContext& ctx) final;
    /// Allocation: lists video_meta_api (frames are read through
    /// VideoFrame, which honours a buffer's VideoMeta), unless the caps
    /// asked about pass through untouched, where downstream answers.
    bool query(Pad& pad, Query& q) override;

private:
    struct Configured {
        VideoInfo in;
        VideoInfo out;
    };

    // Any thread: bumped by request_new_caps().
    std::atomic<std::uint64_t> generation_{0};
    // Streaming thread only: the generation the configuration was made for,
    // and the one current when the caps event being handled arrived.
    std::uint64_t applied_generation_ = 0;
    std::uint64_t caps_generation_ = 0;
    std::optional<Configured> configured_;
};

} // namespace parallax::detail
