// videocrop: every format cropped pixel by pixel against a plain reference
// (odd edges of subsampled formats included), caps both ways, automatic
// crops negotiated downstream, bad values, changes while running.

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

struct CropCase {
    VideoFormat format;
    std::uint32_t width;
    std::uint32_t height;
    std::uint32_t left;
    std::uint32_t right;
    std::uint32_t top;
    std::uint32_t bottom;
};

class VideoCropFormatTest : public ::testing::TestWithParam<CropCase> {};

// Every sample of the output is the input's at the crop offset; subsampled
// components start at the sample that holds the first kept pixel (the
// offset rounded down to the subsampling).
TEST_P(VideoCropFormatTest, KeepsExactlyTheRegion) {
    const CropCase cc = GetParam();
    const VideoInfo in_info = VideoInfo::make(cc.format, cc.width, cc.height).value();
    auto f = check::filter_pattern_frame(
        fmt::format("videocrop left={} right={} top={} bottom={}", cc.left, cc.right, cc.top, cc.bottom), in_info);
    ASSERT_TRUE(f);
    ASSERT_EQ(f->out_info.width(), cc.width - cc.left - cc.right);
    ASSERT_EQ(f->out_info.height(), cc.height - cc.top - cc.bottom);
    EXPECT_EQ(f->out_info.format(), cc.format);
    EXPECT_FALSE(f->out.arena() == f->in.arena() && f->out.slot() == f->in.slot())
        << "the region is copied into a buffer of its own";
    auto in_frame = VideoFrame::map(in_info, f->in).value();
    auto out_frame = VideoFrame::map(f->out_info, f->out).value();
    const int wrong = check::count_wrong_samples(
        out_frame,
        [&](std::size_t c, std::uint32_t x, std::uint32_t y) {
            const VideoComponentInfo& ci = in_info.format_info().components[c];
            return check::raw_sample(in_frame, c, x + (cc.left >> ci.x_sub), y + (cc.top >> ci.y_sub));
        },
        in_info.format_info().name);
    EXPECT_EQ(wrong, 0);
}

std::vector<CropCase> crop_cases() {
    std::vector<CropCase> cases;
    for (const VideoFormatInfo& f : video_format_table) {
        cases.push_back({f.format, 8, 6, 2, 2, 2, 0});   // even edges
        cases.push_back({f.format, 9, 7, 1, 2, 1, 3});   // odd edges, odd size
        cases.push_back({f.format, 40, 20, 3, 4, 5, 6}); // wider than a SIMD block
        cases.push_back({f.format, 5, 5, 0, 0, 0, 4});   // one row left
    }
    return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, VideoCropFormatTest, ::testing::ValuesIn(crop_cases()),
                         [](const ::testing::TestParamInfo<CropCase>& p) {
                             const CropCase& c = p.param;
                             return fmt::format("{}_{}x{}_l{}r{}t{}b{}", video_format_info(c.format).name, c.width,
                                                c.height, c.left, c.right, c.top, c.bottom);
                         });

// I420 4x4 cropped by one pixel on the left and top: 3x3 luma exact, and
// the 2x2 chroma starts at the chroma sample that covers pixel (1, 1), the
// first one (GStreamer rounds odd offsets down the same way).
TEST(VideoCropTest, OddCropOfI420KeepsTheChromaOfTheFirstPixel) {
    const VideoInfo in_info = VideoInfo::make(VideoFormat::i420, 4, 4).value();
    auto h = check::Harness::create("videocrop left=1 top=1").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(video_caps("I420", 4, 4)));
    auto b = h->make_buffer(in_info.size());
    ASSERT_TRUE(b);
    {
        auto f = WritableVideoFrame::map(in_info, *b).value();
        for (std::uint32_t y = 0; y < 4; ++y) {
            for (std::uint32_t x = 0; x < 4; ++x) {
                f.row(0, y)[x] = static_cast<std::byte>(10 * y + x);
            }
        }
        for (std::uint32_t y = 0; y < 2; ++y) {
            for (std::uint32_t x = 0; x < 2; ++x) {
                f.row(1, y)[x] = static_cast<std::byte>(100 + 10 * y + x);
                f.row(2, y)[x] = static_cast<std::byte>(200 + 10 * y + x);
            }
        }
    }
    ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
    auto out = h->pull();
    ASSERT_TRUE(out);
    const VideoInfo out_info = VideoInfo::make(VideoFormat::i420, 3, 3).value();
    auto f = VideoFrame::map(out_info, *out).value();
    for (std::uint32_t y = 0; y < 3; ++y) {
        for (std::uint32_t x = 0; x < 3; ++x) {
            EXPECT_EQ(std::to_integer<unsigned>(f.row(0, y)[x]), 10 * (y + 1) + (x + 1));
        }
    }
    for (std::uint32_t y = 0; y < 2; ++y) {
        for (std::uint32_t x = 0; x < 2; ++x) {
            EXPECT_EQ(std::to_integer<unsigned>(f.row(1, y)[x]), 100 + 10 * y + x);
            EXPECT_EQ(std::to_integer<unsigned>(f.row(2, y)[x]), 200 + 10 * y + x);
        }
    }
}

// YUY2 with an odd left edge: the luma moves by one pixel, the chroma
// stays with the macropixel that holds the first kept pixel.
TEST(VideoCropTest, OddCropOfYuy2ShiftsLumaOnly) {
    auto h = check::Harness::create("videocrop left=1 right=1").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(video_caps("YUY2", 6, 1)));
    // Y0 U0 Y1 V0 | Y2 U1 Y3 V1 | Y4 U2 Y5 V2
    const std::uint8_t bytes[12] = {0, 100, 1, 200, 2, 101, 3, 201, 4, 102, 5, 202};
    auto b = h->make_buffer(std::as_bytes(std::span(bytes)));
    ASSERT_TRUE(b);
    ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
    auto out = h->pull();
    ASSERT_TRUE(out);
    const int want[8] = {1, 100, 2, 200, 3, 101, 4, 201}; // 4 pixels: Y1..Y4
    ASSERT_GE(out->size(), 8U);
    for (int i = 0; i < 8; ++i) {
        EXPECT_EQ(std::to_integer<int>(out->data()[static_cast<std::size_t>(i)]), want[i]) << "byte " << i;
    }
}

TEST(VideoCropTest, NoCropPassesBuffersThroughUntouched) {
    check::expect_same_slot_through("videocrop", video_caps("NV12", 8, 8),
                                    VideoInfo::make(VideoFormat::nv12, 8, 8).value().size());
}

TEST(VideoCropTest, TransformCapsSubtractsAndAddsTheCrop) {
    auto e = Registry::global().create("videocrop").value();
    ASSERT_TRUE(e->set_property("left", "3"));
    ASSERT_TRUE(e->set_property("right", "2"));
    ASSERT_TRUE(e->set_property("top", "1"));
    const Pad& sink = *e->pad("sink");
    const Pad& src = *e->pad("src");
    const Caps in =
        Caps::parse("video/x-raw, format=I420, width=[ 16, 64 ], height={ 10, 20 }, framerate=30/1").value();
    const Caps out = e->transform_caps(sink, src, in);
    EXPECT_TRUE(is_equal(out, Caps::parse("video/x-raw, format=I420, width=[ 11, 59 ], height={ 9, 19 }, "
                                          "framerate=30/1")
                                  .value()))
        << out.to_string();
    const Caps back =
        e->transform_caps(src, sink, Caps::parse("video/x-raw, format=I420, width=100, height=50").value());
    EXPECT_TRUE(is_equal(back, Caps::parse("video/x-raw, format=I420, width=105, height=51").value()))
        << back.to_string();
    // A crop that leaves nothing clamps to 1 pixel, as in GStreamer (the
    // stream then fails naming the properties).
    EXPECT_TRUE(is_equal(e->transform_caps(sink, src, Caps::parse("video/x-raw, width=5, height=10").value()),
                         Caps::parse("video/x-raw, width=1, height=9").value()));
}

TEST(VideoCropTest, AutomaticSidesOpenTheSize) {
    auto e = Registry::global().create("videocrop").value();
    ASSERT_TRUE(e->set_property("left", "-1"));
    ASSERT_TRUE(e->set_property("right", "2"));
    const Pad& sink = *e->pad("sink");
    const Pad& src = *e->pad("src");
    const Caps out = e->transform_caps(sink, src, Caps::parse("video/x-raw, width=20, height=10").value());
    EXPECT_TRUE(is_equal(out, Caps::parse("video/x-raw, width=[ 1, 18 ], height=10").value())) << out.to_string();
    const Caps in = e->transform_caps(src, sink, Caps::parse("video/x-raw, width=8, height=10").value());
    EXPECT_TRUE(is_equal(in, Caps::parse("video/x-raw, width=[ 10, 2147483647 ], height=10").value()))
        << in.to_string();
}

check::AppPipeline make_pipeline(const std::string& middle, std::string_view format, std::uint32_t w, std::uint32_t h) {
    return check::parse_app_pipeline(fmt::format("appsrc name=src format=time caps=\"video/x-raw, format={}, "
                                                 "width={}, height={}, framerate=30/1\" ! {} ! appsink name=sink "
                                                 "sync=false",
                                                 format, w, h, middle));
}

// GRAY8 frame whose pixel (x, y) is 16 * y + x.
Buffer numbered_gray(AppSrc& src, std::uint32_t w, std::uint32_t h) {
    const VideoInfo info = VideoInfo::make(VideoFormat::gray8, w, h).value();
    auto b = src.allocate(info.size());
    EXPECT_TRUE(b);
    auto f = WritableVideoFrame::map(info, *b).value();
    for (std::uint32_t y = 0; y < h; ++y) {
        for (std::uint32_t x = 0; x < w; ++x) {
            f.row(0, y)[x] = static_cast<std::byte>(16 * y + x);
        }
    }
    return std::move(*b);
}

TEST(VideoCropTest, AutomaticCropTakesTheSizeNegotiatedDownstream) {
    // left and right automatic: the 3 columns to remove split 1 left, 2
    // right; top automatic with bottom=1: 2 rows at the top.
    auto a = make_pipeline("videocrop left=-1 right=-1 top=-1 bottom=1 ! video/x-raw,width=5,height=3", "GRAY8", 8, 6);
    ASSERT_TRUE(a.pipeline);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    ASSERT_TRUE(a.src->push_buffer(numbered_gray(*a.src, 8, 6)));
    auto s = a.sink->try_pull_sample(10s);
    ASSERT_TRUE(s) << s.error().to_string();
    const VideoInfo info = VideoInfo::from_caps(s->caps).value();
    ASSERT_EQ(info.width(), 5U);
    ASSERT_EQ(info.height(), 3U);
    auto f = VideoFrame::map(info, s->buffer).value();
    for (std::uint32_t y = 0; y < 3; ++y) {
        for (std::uint32_t x = 0; x < 5; ++x) {
            EXPECT_EQ(std::to_integer<unsigned>(f.row(0, y)[x]), 16 * (y + 2) + (x + 1));
        }
    }
    ASSERT_TRUE(a.src->end_of_stream());
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(VideoCropTest, AutomaticCropWithNothingDownstreamKeepsTheWholeFrame) {
    auto h = check::Harness::create("videocrop left=-1 top=-1").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(video_caps("I420", 16, 8)));
    auto caps = last_caps(*h);
    ASSERT_TRUE(caps);
    EXPECT_EQ(caps->structure(0).get_int("width"), 16);
    EXPECT_EQ(caps->structure(0).get_int("height"), 8);
}

TEST(VideoCropTest, BadValuesAreErrorsNamingTheProperty) {
    auto e = Registry::global().create("videocrop").value();
    for (const char* p : {"left", "right", "top", "bottom"}) {
        auto bad = e->set_property(p, "-2");
        ASSERT_FALSE(bad) << p;
        EXPECT_NE(bad.error().message().find(p), std::string::npos) << bad.error().message();
        auto text = e->set_property(p, "ten");
        ASSERT_FALSE(text) << p;
        EXPECT_NE(text.error().message().find(p), std::string::npos) << text.error().message();
    }
    // Cropping the whole frame: refused when the stream starts, naming both
    // sides.
    auto h = check::Harness::create("videocrop left=6 right=2").value();
    ASSERT_TRUE(h->start());
    EXPECT_FALSE(h->set_input_caps(video_caps("GRAY8", 8, 4)));
    auto error = h->error();
    ASSERT_TRUE(error);
    EXPECT_NE(error->message().find("\"left\""), std::string::npos) << error->message();
    EXPECT_NE(error->message().find("\"right\""), std::string::npos) << error->message();

    // In a pipeline: negotiation goes through, the stream fails naming them.
    auto p = Pipeline::parse("appsrc name=src format=time caps=\"video/x-raw, format=GRAY8, width=8, height=4, "
                             "framerate=30/1\" ! videocrop top=3 bottom=1 ! appsink name=sink sync=false");
    ASSERT_TRUE(p);
    ASSERT_TRUE((*p)->set_state(State::running));
    auto src = *(*p)->get<AppSrc>("src");
    // The caps may already have failed the stream: the push may be refused.
    static_cast<void>(src->push_buffer(*src->allocate(32)));
    auto m = (*p)->bus().pop({MessageType::error}, 10s);
    ASSERT_TRUE(m && m->error);
    EXPECT_NE(m->error->message().find("\"top\" (3) and \"bottom\" (1)"), std::string::npos) << m->error->message();
    static_cast<void>((*p)->set_state(State::idle));
}

TEST(VideoCropTest, AChangeWhileRunningCropsTheNextFrameWithNewCaps) {
    auto a = make_pipeline("videocrop name=crop left=1", "GRAY8", 8, 4);
    ASSERT_TRUE(a.pipeline);
    ASSERT_TRUE(a.pipeline->set_state(State::running));
    ASSERT_TRUE(a.src->push_buffer(numbered_gray(*a.src, 8, 4)));
    auto first = a.sink->try_pull_sample(10s);
    ASSERT_TRUE(first);
    EXPECT_EQ(VideoInfo::from_caps(first->caps).value().width(), 7U);
    EXPECT_EQ(std::to_integer<unsigned>(first->buffer.data()[0]), 1U);

    Element* crop = a.pipeline->find("crop");
    ASSERT_NE(crop, nullptr);
    ASSERT_TRUE(crop->set_property("top", "2"));
    ASSERT_TRUE(crop->set_property("left", "3"));
    ASSERT_TRUE(a.src->push_buffer(numbered_gray(*a.src, 8, 4)));
    auto second = a.sink->try_pull_sample(10s);
    ASSERT_TRUE(second);
    const VideoInfo info = VideoInfo::from_caps(second->caps).value();
    EXPECT_EQ(info.width(), 5U);
    EXPECT_EQ(info.height(), 2U);
    EXPECT_EQ(std::to_integer<unsigned>(second->buffer.data()[0]), 16U * 2 + 3);

    // A crop that would leave nothing of the running stream is refused.
    auto too_much = crop->set_property("right", "5");
    ASSERT_FALSE(too_much);
    EXPECT_NE(too_much.error().message().find("\"right\""), std::string::npos) << too_much.error().message();
    EXPECT_EQ(crop->get_property("right").value(), "0");
    ASSERT_TRUE(a.src->end_of_stream());
    EXPECT_TRUE(a.pipeline->set_state(State::idle));
}

TEST(VideoCropTest, IsRegisteredWithGStreamersNames) {
    const ElementFactory* f = Registry::global().find("videocrop");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().klass, "Filter/Effect/Video");
    EXPECT_EQ(f->info().convert_cost, 0U);
    auto e = f->create().value();
    for (const char* p : {"left", "right", "top", "bottom"}) {
        ASSERT_NE(e->property(p), nullptr) << p;
        EXPECT_EQ(e->property(p)->range_string(), "[-1, 2147483647]") << p;
        EXPECT_EQ(e->get_property(p).value(), "0");
    }
}

} // namespace
} // namespace parallax
