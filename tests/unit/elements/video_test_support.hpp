#pragma once

// Support for the tests of the raw-video elements: frames in plain memory,
// samples read and written by component, pipelines between an appsrc and an
// appsink, the caps that came out of a harness, and the checks every video
// filter passes (pass-through of equal caps, short buffers).

#include <parallax/check/harness.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "support/passthrough.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parallax::check {

inline VideoInfo info_of(VideoFormat f, std::uint32_t w, std::uint32_t h) {
    return *VideoInfo::make(f, w, h);
}

// The VideoInfo of fixed caps written as text.
inline VideoInfo info_of(std::string_view caps) {
    auto c = Caps::parse(caps);
    EXPECT_TRUE(c) << caps;
    auto i = VideoInfo::from_caps(*c);
    EXPECT_TRUE(i) << (i ? "" : i.error().to_string());
    return *i;
}

// `video/x-raw` of `format`, w x h, at 30/1.
inline Caps video_caps(std::string_view format, std::uint32_t w, std::uint32_t h) {
    return Caps::parse(fmt::format("video/x-raw, format={}, width={}, height={}, framerate=30/1", format, w, h))
        .value();
}

// Sample (x, y) of component c as stored: 8 bits, or 16 bits little-endian
// with the padding bits of P010-like formats included.
inline unsigned raw_sample(const VideoFrame& f, std::size_t c, std::uint32_t x, std::uint32_t y) {
    const auto row = f.component_row(c, y);
    const std::size_t at = x * f.component_pixel_stride(c);
    if (f.info().format_info().bits == 16) {
        return std::to_integer<unsigned>(row[at]) | (std::to_integer<unsigned>(row[at + 1]) << 8);
    }
    return std::to_integer<unsigned>(row[at]);
}

inline void set_raw_sample(const WritableVideoFrame& f, std::size_t c, std::uint32_t x, std::uint32_t y, unsigned v) {
    const auto row = f.component_row(c, y);
    const std::size_t at = x * f.component_pixel_stride(c);
    row[at] = static_cast<std::byte>(v & 0xff);
    if (f.info().format_info().bits == 16) {
        row[at + 1] = static_cast<std::byte>(v >> 8);
    }
}

// A frame in plain memory, for testing the kernels without buffers.
struct PlainFrame {
    VideoInfo info;
    std::vector<std::byte> bytes;

    explicit PlainFrame(const VideoInfo& i) : info(i), bytes(i.size()) {}

    [[nodiscard]] VideoFrame view() const { return *VideoFrame::map_bytes(info, std::span<const std::byte>(bytes)); }
    [[nodiscard]] WritableVideoFrame edit() {
        return *WritableVideoFrame::map_bytes(info, std::span<std::byte>(bytes));
    }

    // Component c at sample (x, y) of that component, its value without the
    // format's shift.
    [[nodiscard]] std::uint32_t sample(std::size_t c, std::uint32_t x, std::uint32_t y) const {
        return raw_sample(view(), c, x, y) >> info.format_info().components[c].shift;
    }
    void set_sample(std::size_t c, std::uint32_t x, std::uint32_t y, std::uint32_t v) {
        set_raw_sample(edit(), c, x, y, v << info.format_info().components[c].shift);
    }
    // Component c of pixel (x, y): of subsampled chroma, the sample that
    // covers the pixel.
    [[nodiscard]] std::uint32_t get(std::size_t c, std::uint32_t x, std::uint32_t y) const {
        const VideoComponentInfo& ci = info.format_info().components[c];
        return sample(c, x >> ci.x_sub, y >> ci.y_sub);
    }
    void set(std::size_t c, std::uint32_t x, std::uint32_t y, std::uint32_t v) {
        const VideoComponentInfo& ci = info.format_info().components[c];
        set_sample(c, x >> ci.x_sub, y >> ci.y_sub, v);
    }
    // Every sample of every component from f(c, x, y).
    template <class F>
    void fill(F f) {
        for (std::size_t c = 0; c < info.n_components(); ++c) {
            for (std::uint32_t y = 0; y < info.component_height(c); ++y) {
                for (std::uint32_t x = 0; x < info.component_width(c); ++x) {
                    set_sample(c, x, y, f(c, x, y));
                }
            }
        }
    }
};

// A frame from the harness whose every sample differs from its neighbours.
inline Buffer pattern_frame(Harness& h, const VideoInfo& info) {
    auto b = h.make_buffer(info.size(), 0xee);
    EXPECT_TRUE(b);
    auto f = WritableVideoFrame::map(info, *b);
    EXPECT_TRUE(f);
    const bool wide = info.format_info().bits == 16;
    for (std::size_t c = 0; c < info.n_components(); ++c) {
        for (std::uint32_t y = 0; y < info.component_height(c); ++y) {
            for (std::uint32_t x = 0; x < info.component_width(c); ++x) {
                const unsigned v = static_cast<unsigned>(c * 61 + x * 7 + y * 29 + 3);
                set_raw_sample(*f, c, x, y, wide ? v * 211 : v & 0xff);
            }
        }
    }
    return std::move(*b);
}

// Compares every sample of `out` with want(c, x, y), reporting the first
// five that differ (each preceded by `what`); returns how many differ.
template <class Want>
int count_wrong_samples(const VideoFrame& out, Want want, std::string_view what) {
    int wrong = 0;
    for (std::size_t c = 0; c < out.n_components(); ++c) {
        for (std::uint32_t y = 0; y < out.component_height(c); ++y) {
            for (std::uint32_t x = 0; x < out.component_width(c); ++x) {
                const unsigned expected = want(c, x, y);
                const unsigned got = raw_sample(out, c, x, y);
                if (expected != got && ++wrong <= 5) {
                    ADD_FAILURE() << what << " component " << c << " at (" << x << ", " << y << "): " << got
                                  << ", expected " << expected;
                }
            }
        }
    }
    return wrong;
}

// The last caps event that came out of the harness (its events are taken).
inline std::optional<Caps> last_caps(Harness& h) {
    std::optional<Caps> caps;
    for (const Event& e : h.take_events()) {
        if (const Caps* c = e.caps_value()) {
            caps = *c;
        }
    }
    return caps;
}

// One pattern frame through a harness element: the frame that went in, what
// came out, and the VideoInfo of the last caps that came out. The harness
// is kept (declared first, so destroyed last) because the buffers live in
// its arenas.
struct FilteredFrame {
    std::unique_ptr<Harness> harness;
    VideoInfo out_info;
    Buffer in;
    Buffer out;
};

// Starts the element of `description`, sends it the caps of `in` (at 30/1)
// and pushes a pattern_frame() with a pts; checks that the pts comes out
// and nothing posted an error. nullopt (the test failed) when no buffer or
// no caps came out.
inline std::optional<FilteredFrame> filter_pattern_frame(const std::string& description, const VideoInfo& in) {
    auto h = Harness::create(description);
    EXPECT_TRUE(h) << (h ? "" : h.error().to_string());
    if (!h) {
        return std::nullopt;
    }
    FilteredFrame f{std::move(*h), in, Buffer(), Buffer()};
    Harness& harness = *f.harness;
    const bool started =
        harness.start() && harness.set_input_caps(video_caps(in.format_info().name, in.width(), in.height()));
    EXPECT_TRUE(started) << description;
    const std::optional<Caps> caps = last_caps(harness);
    EXPECT_TRUE(caps) << description << ": no caps came out";
    if (!started || !caps) {
        return std::nullopt;
    }
    auto out_info = VideoInfo::from_caps(*caps);
    EXPECT_TRUE(out_info) << (out_info ? "" : out_info.error().to_string());
    if (!out_info) {
        return std::nullopt;
    }
    f.out_info = *out_info;
    const ClockTime pts = ClockTime::from_ms(40);
    f.in = pattern_frame(harness, in);
    f.in.meta().set_pts(pts);
    EXPECT_EQ(harness.push(f.in), Flow::ok);
    auto out = harness.pull();
    EXPECT_TRUE(out) << description << ": no buffer came out";
    if (!out) {
        return std::nullopt;
    }
    EXPECT_EQ(out->meta().pts(), pts);
    EXPECT_FALSE(harness.error()) << harness.error()->to_string();
    f.out = std::move(*out);
    return f;
}

// A pipeline `appsrc name=src ! ... ! appsink name=sink` and its two ends.
struct AppPipeline {
    std::unique_ptr<Pipeline> pipeline;
    AppSrc* src = nullptr;
    AppSink* sink = nullptr;
};

// Parses `text`; when it does not parse the test fails and the members stay
// null.
inline AppPipeline parse_app_pipeline(const std::string& text) {
    AppPipeline a;
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : format_pipeline_error(text, p.error()));
    if (!p) {
        return a;
    }
    a.pipeline = std::move(*p);
    a.src = *a.pipeline->get<AppSrc>("src");
    a.sink = *a.pipeline->get<AppSink>("sink");
    return a;
}

// parse_app_pipeline(), then running.
inline AppPipeline start_app_pipeline(const std::string& text) {
    AppPipeline a = parse_app_pipeline(text);
    if (a.pipeline) {
        auto ok = a.pipeline->set_state(State::running);
        EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    }
    return a;
}

// A buffer of `src` holding a copy of `bytes`.
inline Buffer app_buffer(AppSrc& src, std::span<const std::byte> bytes) {
    auto b = src.allocate(bytes.size());
    EXPECT_TRUE(b);
    std::copy(bytes.begin(), bytes.end(), b->map_writable()->begin());
    return std::move(*b);
}

// The element of `description` given `caps` that it passes through: a
// buffer of `size` bytes comes out in the same slot.
inline void expect_same_slot_through(const std::string& description, const Caps& caps, std::size_t size) {
    SCOPED_TRACE(description);
    auto h = Harness::create(description);
    ASSERT_TRUE(h) << h.error().to_string();
    ASSERT_TRUE((*h)->start());
    ASSERT_TRUE((*h)->set_input_caps(caps));
    EXPECT_TRUE(passes_same_buffer(**h, (*h)->make_buffer(size, 0x42)));
}

// Pushes a buffer of `size` bytes into the app pipeline `text`: the stream
// fails with an error from `element` whose message holds `message`.
inline void expect_short_buffer_error(const std::string& text, std::string_view element, std::size_t size,
                                      std::string_view message) {
    auto a = start_app_pipeline(text);
    ASSERT_NE(a.src, nullptr);
    auto b = a.src->allocate(size);
    ASSERT_TRUE(b);
    ASSERT_TRUE(a.src->push_buffer(std::move(*b)));
    auto m = a.pipeline->bus().pop({MessageType::error}, std::chrono::seconds(10));
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->error);
    EXPECT_EQ(m->error->element(), element);
    EXPECT_NE(m->error->message().find(message), std::string::npos) << m->error->message();
    static_cast<void>(a.pipeline->set_state(State::idle));
}

} // namespace parallax::check
