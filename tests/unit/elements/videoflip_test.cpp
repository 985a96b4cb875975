// videoflip: every method on every format, pixel by pixel, against a plain
// reference; hand-checked small images; caps (width and height swap) in the
// harness and in a pipeline; method changes while running; automatic from
// the image-orientation tag.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "unit/elements/video_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;
using check::last_caps;
using check::video_caps;

constexpr const char* methods[] = {
    "none",          "clockwise",           "rotate-180",          "counterclockwise", "horizontal-flip",
    "vertical-flip", "upper-left-diagonal", "upper-right-diagonal"};

bool transposes(int method) {
    return method == 1 || method == 3 || method == 6 || method == 7;
}

// Where destination (x, y) of a flip of a w x h grid comes from.
std::pair<std::uint32_t, std::uint32_t> source_of(int method, std::uint32_t x, std::uint32_t y, std::uint32_t w,
                                                  std::uint32_t h) {
    switch (method) {
    case 1:
        return {y, h - 1 - x};
    case 2:
        return {w - 1 - x, h - 1 - y};
    case 3:
        return {w - 1 - y, x};
    case 4:
        return {w - 1 - x, y};
    case 5:
        return {x, h - 1 - y};
    case 6:
        return {y, x};
    case 7:
        return {w - 1 - y, h - 1 - x};
    default:
        return {x, y};
    }
}

// What component c's sample (x, y) of the flipped frame must be.
unsigned expected_sample(const VideoFrame& in, int method, std::size_t c, std::uint32_t x, std::uint32_t y) {
    const VideoComponentInfo& ci = in.info().format_info().components[c];
    if (transposes(method) && ci.x_sub != ci.y_sub) {
        // 4:2:2 chroma turned by 90 degrees: the mean of the chroma of the
        // two pixels it covers.
        const std::uint32_t w = in.width();
        const std::uint32_t h = in.height();
        const std::uint32_t out_width = h;
        auto at = [&](std::uint32_t px) {
            const auto [sx, sy] = source_of(method, px, y, w, h);
            return check::raw_sample(in, c, sx / 2, sy);
        };
        unsigned v = at(2 * x);
        if (2 * x + 1 < out_width) {
            v = (v + at(2 * x + 1)) / 2;
        }
        return v;
    }
    const auto [sx, sy] = source_of(method, x, y, in.component_width(c), in.component_height(c));
    return check::raw_sample(in, c, sx, sy);
}

struct FlipCase {
    VideoFormat format;
    std::uint32_t width;
    std::uint32_t height;
};

class VideoFlipFormatTest : public ::testing::TestWithParam<FlipCase> {};

TEST_P(VideoFlipFormatTest, EveryMethodMovesEverySampleWhereItBelongs) {
    const FlipCase fc = GetParam();
    const VideoInfo in_info = VideoInfo::make(fc.format, fc.width, fc.height).value();
    for (int method = 0; method < 8; ++method) {
        SCOPED_TRACE(methods[method]);
        auto f = check::filter_pattern_frame(fmt::format("videoflip method={}", methods[method]), in_info);
        ASSERT_TRUE(f);
        EXPECT_EQ(f->out_info.format(), fc.format);
        EXPECT_EQ(f->out_info.width(), transposes(method) ? fc.height : fc.width);
        EXPECT_EQ(f->out_info.height(), transposes(method) ? fc.width : fc.height);
        ASSERT_GE(f->out.size(), f->out_info.size());
        auto in_frame = VideoFrame::map(in_info, f->in).value();
        auto out_frame = VideoFrame::map(f->out_info, f->out).value();
        const int wrong = check::count_wrong_samples(
            out_frame,
            [&](std::size_t c, std::uint32_t x, std::uint32_t y) { return expected_sample(in_frame, method, c, x, y); },
            fmt::format("{} {}x{}", in_info.format_info().name, fc.width, fc.height));
        EXPECT_EQ(wrong, 0);
    }
}

std::vector<FlipCase> every_format() {
    std::vector<FlipCase> cases;
    for (const VideoFormatInfo& f : video_format_table) {
        cases.push_back({f.format, 6, 4});
        cases.push_back({f.format, 5, 3});
        cases.push_back({f.format, 34, 18}); // past libyuv's SIMD block sizes
    }
    return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, VideoFlipFormatTest, ::testing::ValuesIn(every_format()),
                         [](const ::testing::TestParamInfo<FlipCase>& p) {
                             return fmt::format("{}_{}x{}", video_format_info(p.param.format).name, p.param.width,
                                                p.param.height);
                         });

// GRAY8 3x2: 1 2 3 / 4 5 6, turned by each method (worked out by hand).
TEST(VideoFlipTest, HandCheckedGray8) {
    const std::vector<std::vector<std::vector<int>>> expected = {
        {{1, 2, 3}, {4, 5, 6}},   // none
        {{4, 1}, {5, 2}, {6, 3}}, // clockwise
        {{6, 5, 4}, {3, 2, 1}},   // rotate-180
        {{3, 6}, {2, 5}, {1, 4}}, // counterclockwise
        {{3, 2, 1}, {6, 5, 4}},   // horizontal-flip
        {{4, 5, 6}, {1, 2, 3}},   // vertical-flip
        {{1, 4}, {2, 5}, {3, 6}}, // upper-left-diagonal
        {{6, 3}, {5, 2}, {4, 1}}, // upper-right-diagonal
    };
    const VideoInfo info = VideoInfo::make(VideoFormat::gray8, 3, 2).value();
    for (int method = 0; method < 8; ++method) {
        SCOPED_TRACE(methods[method]);
        auto h = check::Harness::create(fmt::format("videoflip method={}", method)).value();
        ASSERT_TRUE(h->start());
        ASSERT_TRUE(h->set_input_caps(video_caps("GRAY8", 3, 2)));
        auto b = h->make_buffer(info.size());
        ASSERT_TRUE(b);
        {
            auto f = WritableVideoFrame::map(info, *b).value();
            for (std::uint32_t y = 0; y < 2; ++y) {
                for (std::uint32_t x = 0; x < 3; ++x) {
                    f.row(0, y)[x] = static_cast<std::byte>(1 + x + 3 * y);
                }
            }
        }
        ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
        auto out = h->pull();
        ASSERT_TRUE(out);
        const auto& want = expected[static_cast<std::size_t>(method)];
        const VideoInfo out_info = VideoInfo::make(VideoFormat::gray8, static_cast<std::uint32_t>(want[0].size()),
                                                   static_cast<std::uint32_t>(want.size()))
                                       .value();
        auto f = VideoFrame::map(out_info, *out).value();
        for (std::uint32_t y = 0; y < want.size(); ++y) {
            for (std::uint32_t x = 0; x < want[y].size(); ++x) {
                EXPECT_EQ(std::to_integer<int>(f.row(0, y)[x]), want[y][x]) << "(" << x << ", " << y << ")";
            }
        }
    }
}

// I420 4x2, clockwise: luma as GRAY8, and the 2x1 chroma planes turn into
// 1x2 ones.
TEST(VideoFlipTest, HandCheckedI420Clockwise) {
    const VideoInfo in_info = VideoInfo::make(VideoFormat::i420, 4, 2).value();
    auto h = check::Harness::create("videoflip method=clockwise").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(video_caps("I420", 4, 2)));
    auto b = h->make_buffer(in_info.size());
    ASSERT_TRUE(b);
    {
        auto f = WritableVideoFrame::map(in_info, *b).value();
        for (std::uint32_t i = 0; i < 8; ++i) {
            f.row(0, i / 4)[i % 4] = static_cast<std::byte>(10 + i); // 10 11 12 13 / 14 15 16 17
        }
        f.row(1, 0)[0] = std::byte{100};
        f.row(1, 0)[1] = std::byte{101};
        f.row(2, 0)[0] = std::byte{200};
        f.row(2, 0)[1] = std::byte{201};
    }
    ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
    auto out = h->pull();
    ASSERT_TRUE(out);
    const VideoInfo out_info = VideoInfo::make(VideoFormat::i420, 2, 4).value();
    auto f = VideoFrame::map(out_info, *out).value();
    const int luma[4][2] = {{14, 10}, {15, 11}, {16, 12}, {17, 13}};
    for (std::uint32_t y = 0; y < 4; ++y) {
        for (std::uint32_t x = 0; x < 2; ++x) {
            EXPECT_EQ(std::to_integer<int>(f.row(0, y)[x]), luma[y][x]);
        }
    }
    EXPECT_EQ(std::to_integer<int>(f.row(1, 0)[0]), 100);
    EXPECT_EQ(std::to_integer<int>(f.row(1, 1)[0]), 101);
    EXPECT_EQ(std::to_integer<int>(f.row(2, 0)[0]), 200);
    EXPECT_EQ(std::to_integer<int>(f.row(2, 1)[0]), 201);
}

// YUY2 2x2 clockwise: each output macropixel covers two input rows, so its
// chroma is their mean.
TEST(VideoFlipTest, HandCheckedYuy2ClockwiseAveragesChroma) {
    auto h = check::Harness::create("videoflip method=clockwise").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(video_caps("YUY2", 2, 2)));
    const std::uint8_t bytes[8] = {1, 100, 2, 200, 3, 110, 4, 210}; // Y0 U Y1 V per row
    auto b = h->make_buffer(std::as_bytes(std::span(bytes)));
    ASSERT_TRUE(b);
    ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
    auto out = h->pull();
    ASSERT_TRUE(out);
    const auto d = out->data();
    const int want[8] = {3, 105, 1, 205, 4, 105, 2, 205};
    for (int i = 0; i < 8; ++i) {
        EXPECT_EQ(std::to_integer<int>(d[static_cast<std::size_t>(i)]), want[i]) << "byte " << i;
    }
}

TEST(VideoFlipTest, NoneAndIdentityPassBuffersThroughUntouched) {
    for (const char* desc : {"videoflip", "videoflip method=none", "videoflip video-direction=identity"}) {
        check::expect_same_slot_through(desc, video_caps("I420", 8, 8),
                                        VideoInfo::make(VideoFormat::i420, 8, 8).value().size());
    }
}

TEST(VideoFlipTest, MethodAndVideoDirectionAreOneSetting) {
    auto h = check::Harness::create("videoflip method=counterclockwise").value();
    Element& e = h->element();
    EXPECT_EQ(e.get_property("video-direction").value(), "90l");
    ASSERT_TRUE(e.set_property("video-direction", "ur-ll"));
    EXPECT_EQ(e.get_property("method").value(), "upper-right-diagonal");
    ASSERT_TRUE(e.set_property("method", "2"));
    EXPECT_EQ(e.get_property("video-direction").value(), "180");
    ASSERT_TRUE(e.set_property("video-direction", "auto"));
    EXPECT_EQ(e.get_property("method").value(), "automatic");
}

TEST(VideoFlipTest, CustomAndUnknownValuesAreErrorsNamingTheProperty) {
    auto h = check::Harness::create("videoflip method=rotate-180").value();
    Element& e = h->element();
    auto custom = e.set_property("video-direction", "custom");
    ASSERT_FALSE(custom);
    EXPECT_NE(custom.error().message().find("video-direction"), std::string::npos) << custom.error().message();
    EXPECT_NE(custom.error().message().find("custom"), std::string::npos);
    EXPECT_EQ(e.get_property("video-direction").value(), "180") << "a refused value leaves the setting";
    auto bad = e.set_property("method", "sideways");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("method"), std::string::npos) << bad.error().message();
    EXPECT_FALSE(e.set_property("method", "9"));
    EXPECT_FALSE(check::Harness::create("videoflip method=upside-down"));
}

TEST(VideoFlipTest, TurningSwapsWidthHeightAndPixelAspectRatio) {
    auto h = check::Harness::create("videoflip method=clockwise").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(
        Caps::parse("video/x-raw, format=NV12, width=640, height=480, pixel-aspect-ratio=4/3, framerate=25/1")
            .value()));
    auto caps = last_caps(*h);
    ASSERT_TRUE(caps);
    const Structure& s = caps->structure(0);
    EXPECT_EQ(s.get_int("width"), 480);
    EXPECT_EQ(s.get_int("height"), 640);
    EXPECT_EQ(s.get_fraction("pixel-aspect-ratio"), Fraction::make(3, 4).value());
    EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(25, 1).value());
    EXPECT_EQ(s.get_string("format"), "NV12");
}

TEST(VideoFlipTest, TransformCapsSwapsRangesBothWays) {
    auto e = Registry::global().create("videoflip").value();
    ASSERT_TRUE(e->set_property("method", "counterclockwise"));
    const Pad& sink = *e->pad("sink");
    const Pad& src = *e->pad("src");
    const Caps in = Caps::parse("video/x-raw, format=I420, width=[ 16, 64 ], height=32").value();
    const Caps expected = Caps::parse("video/x-raw, format=I420, width=32, height=[ 16, 64 ]").value();
    EXPECT_TRUE(is_equal(e->transform_caps(sink, src, in), expected)) << e->transform_caps(sink, src, in).to_string();
    EXPECT_TRUE(is_equal(e->transform_caps(src, sink, expected), in));
    ASSERT_TRUE(e->set_property("method", "vertical-flip"));
    EXPECT_TRUE(is_equal(e->transform_caps(sink, src, in), in));
}

TEST(VideoFlipTest, APipelineNegotiatesTheTurnedSize) {
    auto a = check::parse_app_pipeline("appsrc name=src format=time caps=\"video/x-raw, format=RGBA, width=8, "
                                       "height=2, framerate=30/1\" ! videoflip method=clockwise ! "
                                       "video/x-raw,width=2,height=8 ! appsink name=sink sync=false");
    ASSERT_TRUE(a.pipeline);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    const VideoInfo info = VideoInfo::make(VideoFormat::rgba, 8, 2).value();
    auto b = a.src->allocate(info.size());
    ASSERT_TRUE(b);
    {
        auto f = WritableVideoFrame::map(info, *b).value();
        for (std::uint32_t y = 0; y < 2; ++y) {
            for (std::uint32_t x = 0; x < 8; ++x) {
                for (std::size_t c = 0; c < 4; ++c) {
                    f.row(0, y)[x * 4 + c] = static_cast<std::byte>(x * 16 + y * 4 + c);
                }
            }
        }
    }
    ASSERT_TRUE(a.src->push_buffer(std::move(*b)));
    auto sample = a.sink->try_pull_sample(10s);
    ASSERT_TRUE(sample) << sample.error().to_string();
    const VideoInfo out_info = VideoInfo::from_caps(sample->caps).value();
    EXPECT_EQ(out_info.width(), 2U);
    EXPECT_EQ(out_info.height(), 8U);
    auto f = VideoFrame::map(out_info, sample->buffer).value();
    // Clockwise: output (x, y) is input (y, 1 - x).
    for (std::uint32_t y = 0; y < 8; ++y) {
        for (std::uint32_t x = 0; x < 2; ++x) {
            EXPECT_EQ(std::to_integer<unsigned>(f.row(0, y)[x * 4 + 2]), y * 16 + (1 - x) * 4 + 2);
        }
    }
    ASSERT_TRUE(a.src->end_of_stream());
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(VideoFlipTest, AMethodChangedWhileRunningAppliesToTheNextFrame) {
    auto h = check::Harness::create("videoflip").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(video_caps("GRAY8", 4, 2)));
    const VideoInfo info = VideoInfo::make(VideoFormat::gray8, 4, 2).value();
    auto frame = [&] {
        auto b = h->make_buffer(info.size());
        auto f = WritableVideoFrame::map(info, *b).value();
        for (std::uint32_t i = 0; i < 8; ++i) {
            f.row(0, i / 4)[i % 4] = static_cast<std::byte>(i);
        }
        return std::move(*b);
    };
    static_cast<void>(h->take_events());
    ASSERT_EQ(h->push(frame()), Flow::ok);
    auto first = h->pull();
    ASSERT_TRUE(first);
    EXPECT_EQ(std::to_integer<int>(first->data()[0]), 0);

    ASSERT_TRUE(h->element().set_property("method", "rotate-180"));
    ASSERT_EQ(h->push(frame()), Flow::ok);
    auto second = h->pull();
    ASSERT_TRUE(second);
    EXPECT_EQ(std::to_integer<int>(second->data()[0]), 7);

    ASSERT_TRUE(h->element().set_property("video-direction", "90r"));
    ASSERT_EQ(h->push(frame()), Flow::ok);
    auto third = h->pull();
    ASSERT_TRUE(third);
    auto caps = last_caps(*h);
    ASSERT_TRUE(caps) << "the turned size goes downstream before the frame";
    EXPECT_EQ(caps->structure(0).get_int("width"), 2);
    EXPECT_EQ(caps->structure(0).get_int("height"), 4);
    EXPECT_EQ(std::to_integer<int>(third->data()[0]), 4); // input (0, 1)
    EXPECT_FALSE(h->error());
}

TEST(VideoFlipTest, AutomaticFollowsTheImageOrientationTag) {
    auto h = check::Harness::create("videoflip method=automatic").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(video_caps("GRAY8", 3, 2)));
    const VideoInfo info = VideoInfo::make(VideoFormat::gray8, 3, 2).value();
    auto frame = [&] {
        auto b = h->make_buffer(info.size());
        auto f = WritableVideoFrame::map(info, *b).value();
        for (std::uint32_t i = 0; i < 6; ++i) {
            f.row(0, i / 3)[i % 3] = static_cast<std::byte>(1 + i);
        }
        return std::move(*b);
    };
    // No tag yet: as it is.
    ASSERT_EQ(h->push(frame()), Flow::ok);
    auto plain = h->pull();
    ASSERT_TRUE(plain);
    EXPECT_EQ(std::to_integer<int>(plain->data()[0]), 1);

    Structure tags("taglist");
    tags.set("image-orientation", "rotate-90");
    ASSERT_TRUE(h->push_event(Event::tags(tags)));
    static_cast<void>(h->take_events());
    ASSERT_EQ(h->push(frame()), Flow::ok);
    auto turned = h->pull();
    ASSERT_TRUE(turned);
    auto caps = last_caps(*h);
    ASSERT_TRUE(caps);
    EXPECT_EQ(caps->structure(0).get_int("width"), 2);
    EXPECT_EQ(caps->structure(0).get_int("height"), 3);
    EXPECT_EQ(std::to_integer<int>(turned->data()[0]), 4); // 4 1 / 5 2 / 6 3

    Structure flip("taglist");
    flip.set("image-orientation", "flip-rotate-0");
    ASSERT_TRUE(h->push_event(Event::tags(flip)));
    ASSERT_EQ(h->push(frame()), Flow::ok);
    auto mirrored = h->pull();
    ASSERT_TRUE(mirrored);
    EXPECT_EQ(std::to_integer<int>(mirrored->data()[0]), 3); // 3 2 1 / 6 5 4
    EXPECT_FALSE(h->error());
}

TEST(VideoFlipTest, IsRegisteredWithGStreamersNames) {
    const ElementFactory* f = Registry::global().find("videoflip");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().klass, "Filter/Effect/Video");
    EXPECT_EQ(f->info().convert_cost, 0U);
    auto e = f->create().value();
    EXPECT_EQ(e->get_property("method").value(), "none");
    EXPECT_EQ(e->get_property("video-direction").value(), "identity");
    EXPECT_EQ(e->property("method")->enum_values().size(), 9U);
    EXPECT_EQ(e->property("video-direction")->enum_values().size(), 10U);
}

} // namespace
} // namespace parallax
