#include "video/video_filter.hpp"

#include <parallax/video/video_meta.hpp>

#include <fmt/format.h>

#include <utility>

namespace parallax::detail {

void VideoFilter::request_new_caps(bool renegotiate_links) {
    generation_.fetch_add(1, std::memory_order_relaxed);
    if (renegotiate_links && state() >= State::paused) {
        context().renegotiate();
    }
}

Result<void> VideoFilter::start() {
    // Settings made before the start (the description's properties) ask for
    // no new caps: the stream's caps come after. The configuration stays, as
    // SimpleTransform keeps its caps across a restart.
    applied_generation_ = generation_.load(std::memory_order_relaxed);
    return {};
}

Result<void> VideoFilter::set_caps(const Caps& in, const Caps& out) {
    // Read before set_info() reads the settings: a change after this point
    // is seen by the next buffer.
    applied_generation_ = generation_.load(std::memory_order_relaxed);
    configured_.reset();
    // Errors need not name the element: SimpleTransform::sink_event() does.
    auto in_info = VideoInfo::from_caps(in);
    if (!in_info) {
        return fail(std::move(in_info.error()));
    }
    auto out_info = VideoInfo::from_caps(out);
    if (!out_info) {
        return fail(std::move(out_info.error()));
    }
    if (auto ok = set_info(*in_info, *out_info); !ok) {
        if (applied_generation_ != caps_generation_) {
            // A setting changed between the choice of these caps and now:
            // the next buffer chooses again (see chain()).
            applied_generation_ = ~std::uint64_t{0};
            return {};
        }
        return ok;
    }
    configured_ = Configured{*in_info, *out_info};
    return {};
}

bool VideoFilter::sink_event(Pad& pad, Event&& event) {
    if (event.type() == EventType::caps) {
        // Before the output caps are chosen from the settings.
        caps_generation_ = generation_.load(std::memory_order_relaxed);
    }
    return SimpleTransform::sink_event(pad, std::move(event));
}

Flow VideoFilter::chain(Pad& pad, Buffer&& buffer) {
    // A setting changed while running: choose the output caps again, and
    // whether to pass through, before this buffer (again if it changes once
    // more meanwhile).
    for (int attempt = 0; generation_.load(std::memory_order_relaxed) != applied_generation_; ++attempt) {
        if (input_caps().is_empty() || attempt == 8) {
            applied_generation_ = generation_.load(std::memory_order_relaxed);
            break;
        }
        if (!sink_event(sink_pad(), Event::caps(input_caps()))) {
            return Flow::not_negotiated;
        }
    }
    return SimpleTransform::chain(pad, std::move(buffer));
}

bool VideoFilter::query(Pad& pad, Query& q) {
    if (q.type() == QueryType::allocation && pad.direction() == PadDirection::sink) {
        if (passes_untouched(q.caps_argument())) {
            return forward_query(pad, q);
        }
        q.add_meta(video_meta_api);
        return true;
    }
    return SimpleTransform::query(pad, q);
}

Flow VideoFilter::transform(Buffer& buffer, TransformContext& ctx) {
    if (!configured_) {
        return ctx.error(Error(Errc::not_negotiated, fmt::format("{}: a buffer arrived before caps", name())));
    }
    auto in = VideoFrame::map(configured_->in, buffer);
    if (!in) {
        return ctx.error(std::move(in.error()));
    }
    auto out_buffer = ctx.allocate(configured_->out.size());
    if (!out_buffer) {
        return ctx.error(std::move(out_buffer.error()));
    }
    auto out = WritableVideoFrame::map(configured_->out, *out_buffer);
    if (!out) {
        return ctx.error(std::move(out.error()));
    }
    transform_frame(*in, *out);
    out_buffer->meta() = buffer.meta();
    clear_video_meta(out_buffer->meta()); // the output is in the layout of its caps
    buffer = std::move(*out_buffer);
    return Flow::ok;
}

} // namespace parallax::detail
