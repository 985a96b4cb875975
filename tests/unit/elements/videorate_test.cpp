// videorate: rate changes through real pipelines (appsrc ! videorate !
// caps filter ! appsink) with the frames, timestamps, flags and counters
// GStreamer 1.22's videorate gives for the same input (taken from
// gst-launch-1.0 runs of videotestsrc ! videorate ! fakesink silent=false);
// drop-only, max-rate, variable rates, skip-to-first, segment ends, flushes.

#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t frame_bytes = 16; // GRAY8 4x4

// What came out: which input frame (its fill byte), when, for how long.
struct OutFrame {
    int frame;
    std::uint64_t pts;
    std::uint64_t duration;
    bool gap;
    bool discont;
};

struct RateRun {
    std::vector<OutFrame> out;
    Caps caps;
    std::string in;
    std::string out_count;
    std::string duplicate;
    std::string drop;
    std::vector<Message> notifications;
};

std::uint64_t frame_time(std::uint64_t i, std::uint64_t fps_num, std::uint64_t fps_den = 1) {
    return i * fps_den * 1'000'000'000ULL / fps_num;
}

// appsrc (GRAY8 4x4 at `in_rate`, frames stamped i / rate as
// videotestsrc stamps them) ! videorate `props` ! `downstream` ! appsink.
RateRun run(std::string_view in_rate, std::uint64_t fps_num, std::uint64_t fps_den, int frames, std::string_view props,
            std::string_view downstream) {
    RateRun r;
    const std::string text =
        fmt::format("appsrc name=src format=time caps=\"video/x-raw, format=GRAY8, width=4, height=4, "
                    "framerate={}\" ! videorate name=rate {} ! {} ! appsink name=sink sync=false",
                    in_rate, props, downstream);
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << text << ": " << (p ? "" : p.error().to_string());
    if (!p) {
        return r;
    }
    auto src = *(*p)->get<AppSrc>("src");
    auto sink = *(*p)->get<AppSink>("sink");
    EXPECT_TRUE((*p)->set_state(State::running));
    for (int i = 0; i < frames; ++i) {
        auto b = src->allocate(frame_bytes);
        EXPECT_TRUE(b);
        std::memset(b->map_writable()->data(), i, frame_bytes);
        if (fps_num != 0) {
            const std::uint64_t t = frame_time(static_cast<std::uint64_t>(i), fps_num, fps_den);
            b->meta().set_pts(ClockTime(t));
            b->meta().set_duration(ClockTime(frame_time(static_cast<std::uint64_t>(i) + 1, fps_num, fps_den) - t));
        } else {
            b->meta().set_pts(ClockTime::from_ms(static_cast<std::uint64_t>(i) * 10));
        }
        EXPECT_TRUE(src->push_buffer(std::move(*b)));
    }
    EXPECT_TRUE(src->end_of_stream());
    for (;;) {
        auto s = sink->try_pull_sample(10s);
        if (!s) {
            EXPECT_TRUE(s.error().is(Errc::closed)) << s.error().to_string();
            break;
        }
        r.caps = s->caps;
        const Metadata& m = s->buffer.meta();
        r.out.push_back({std::to_integer<int>(s->buffer.data()[0]), m.pts().ns(), m.duration().ns(),
                         m.has_flag(BufferFlags::gap), m.has_flag(BufferFlags::discont)});
    }
    Element* rate = (*p)->find("rate");
    r.in = rate->get_property("in").value();
    r.out_count = rate->get_property("out").value();
    r.duplicate = rate->get_property("duplicate").value();
    r.drop = rate->get_property("drop").value();
    while (auto m = (*p)->bus().pop({MessageType::property_notify}, 0ms)) {
        r.notifications.push_back(std::move(*m));
    }
    EXPECT_TRUE((*p)->set_state(State::idle));
    return r;
}

std::vector<int> frames_of(const RateRun& r) {
    std::vector<int> f;
    for (const OutFrame& o : r.out) {
        f.push_back(o.frame);
    }
    return f;
}

std::vector<std::uint64_t> pts_of(const RateRun& r) {
    std::vector<std::uint64_t> t;
    for (const OutFrame& o : r.out) {
        t.push_back(o.pts);
    }
    return t;
}

TEST(VideoRateTest, ThirtyToFifteenDropsEveryOtherFrame) {
    const RateRun r = run("30/1", 30, 1, 6, "", "video/x-raw,framerate=15/1");
    // GStreamer 1.22: frames 0, 2, 4 in their slots, the last one at eos.
    EXPECT_EQ(frames_of(r), (std::vector<int>{0, 2, 4, 5}));
    EXPECT_EQ(pts_of(r), (std::vector<std::uint64_t>{0, 66666666, 133333333, 200000000}));
    ASSERT_EQ(r.out.size(), 4U);
    EXPECT_EQ(r.out[0].duration, 66666666U);
    EXPECT_EQ(r.out[1].duration, 66666667U);
    EXPECT_EQ(r.out[2].duration, 66666667U);
    EXPECT_EQ(r.out[3].duration, 66666666U);
    EXPECT_TRUE(r.out[0].discont);
    EXPECT_FALSE(r.out[1].discont);
    for (const OutFrame& o : r.out) {
        EXPECT_FALSE(o.gap);
    }
    EXPECT_EQ(r.in, "6");
    EXPECT_EQ(r.out_count, "4");
    EXPECT_EQ(r.drop, "2");
    EXPECT_EQ(r.duplicate, "0");
    EXPECT_EQ(r.caps.structure(0).get_fraction("framerate"), Fraction::make(15, 1).value());
    EXPECT_TRUE(r.notifications.empty()) << "silent by default";
}

TEST(VideoRateTest, ALongerRunKeepsEveryOtherFrame) {
    const RateRun r = run("30/1", 30, 1, 60, "", "video/x-raw,framerate=15/1");
    ASSERT_EQ(r.out.size(), 31U);
    for (std::size_t k = 0; k < 30; ++k) {
        EXPECT_EQ(r.out[k].frame, static_cast<int>(2 * k));
        EXPECT_EQ(r.out[k].pts, frame_time(k, 15));
        EXPECT_EQ(r.out[k].duration, frame_time(k + 1, 15) - frame_time(k, 15));
    }
    EXPECT_EQ(r.out[30].frame, 59);
    EXPECT_EQ(r.drop, "29");
}

TEST(VideoRateTest, FifteenToThirtyDuplicates) {
    const RateRun r = run("15/1", 15, 1, 5, "", "video/x-raw,framerate=30/1");
    // As GStreamer 1.22 (the ties fall to the older frame; one output for
    // the last frame at eos).
    EXPECT_EQ(frames_of(r), (std::vector<int>{0, 0, 1, 2, 2, 2, 3, 3, 4}));
    std::vector<std::uint64_t> slots;
    for (std::uint64_t k = 0; k < 9; ++k) {
        slots.push_back(frame_time(k, 30));
    }
    EXPECT_EQ(pts_of(r), slots);
    const bool gaps[9] = {false, true, false, false, true, true, false, true, false};
    for (std::size_t k = 0; k < r.out.size() && k < 9; ++k) {
        EXPECT_EQ(r.out[k].gap, gaps[k]) << "output " << k << ": repeats carry the gap flag";
        EXPECT_EQ(r.out[k].duration, frame_time(k + 1, 30) - frame_time(k, 30));
    }
    EXPECT_EQ(r.in, "5");
    EXPECT_EQ(r.out_count, "9");
    EXPECT_EQ(r.duplicate, "4");
    EXPECT_EQ(r.drop, "0");
}

TEST(VideoRateTest, TwentyFiveToThirtyRepeatsOneFrameInSix) {
    const RateRun r = run("25/1", 25, 1, 6, "", "video/x-raw,framerate=30/1");
    EXPECT_EQ(frames_of(r), (std::vector<int>{0, 1, 2, 2, 3, 4, 5}));
    std::vector<std::uint64_t> slots;
    for (std::uint64_t k = 0; k < 7; ++k) {
        slots.push_back(frame_time(k, 30));
    }
    EXPECT_EQ(pts_of(r), slots);
    ASSERT_EQ(r.out.size(), 7U);
    EXPECT_TRUE(r.out[3].gap);
    EXPECT_EQ(r.in, "6");
    EXPECT_EQ(r.out_count, "7");
    EXPECT_EQ(r.duplicate, "1");
    EXPECT_EQ(r.drop, "0");

    // Over a second: 25 in, 30 out (and the last frame once at eos).
    const RateRun second = run("25/1", 25, 1, 25, "", "video/x-raw,framerate=30/1");
    EXPECT_EQ(second.out.size(), 30U);
    EXPECT_EQ(second.duplicate, "5");
}

TEST(VideoRateTest, NotifiesDropsAndDuplicatesUnlessSilent) {
    const RateRun r = run("30/1", 30, 1, 6, "silent=false", "video/x-raw,framerate=15/1");
    std::vector<std::string> values;
    for (const Message& m : r.notifications) {
        ASSERT_TRUE(m.structure);
        EXPECT_EQ(m.source, "rate");
        EXPECT_EQ(m.structure->name(), "drop");
        values.emplace_back(m.structure->get_string("value").value_or(""));
    }
    EXPECT_EQ(values, (std::vector<std::string>{"1", "2"}));
    const RateRun up = run("15/1", 15, 1, 5, "silent=false", "video/x-raw,framerate=30/1");
    ASSERT_FALSE(up.notifications.empty());
    EXPECT_EQ(up.notifications.back().structure->name(), "duplicate");
    EXPECT_EQ(up.notifications.back().structure->get_string("value"), "4");
}

TEST(VideoRateTest, DropOnlyNeverRepeats) {
    const RateRun r = run("30/1", 30, 1, 6, "drop-only=true", "video/x-raw,framerate=15/1");
    EXPECT_EQ(frames_of(r), (std::vector<int>{0, 2, 4}));
    EXPECT_EQ(pts_of(r), (std::vector<std::uint64_t>{0, 66666666, 133333333}));
    EXPECT_EQ(r.duplicate, "0");
    EXPECT_EQ(r.drop, "3");
    // Up is not possible in drop-only mode: the output rate stays the
    // input's at most.
    const RateRun same = run("15/1", 15, 1, 4, "drop-only=true", "video/x-raw,framerate=[ 1/1, 30/1 ]");
    EXPECT_EQ(same.caps.structure(0).get_fraction("framerate"), Fraction::make(15, 1).value());
    EXPECT_EQ(frames_of(same), (std::vector<int>{0, 1, 2, 3}));
}

TEST(VideoRateTest, MaxRateLimitsTheNegotiatedRate) {
    const RateRun r = run("30/1", 30, 1, 6, "max-rate=15", "identity");
    EXPECT_EQ(r.caps.structure(0).get_fraction("framerate"), Fraction::make(15, 1).value());
    EXPECT_EQ(frames_of(r), (std::vector<int>{0, 2, 4, 5}));
    // Below the limit the input's rate stays.
    const RateRun slow = run("10/1", 10, 1, 3, "max-rate=15", "identity");
    EXPECT_EQ(slow.caps.structure(0).get_fraction("framerate"), Fraction::make(10, 1).value());
    EXPECT_EQ(frames_of(slow), (std::vector<int>{0, 1, 2}));
}

TEST(VideoRateTest, KeepsTheInputRateWhenAllowedElseTheNearest) {
    const RateRun keep = run("25/1", 25, 1, 3, "", "video/x-raw,framerate={ 30/1, 25/1, 50/1 }");
    EXPECT_EQ(keep.caps.structure(0).get_fraction("framerate"), Fraction::make(25, 1).value());
    const RateRun nearest = run("25/1", 25, 1, 3, "", "video/x-raw,framerate=[ 30/1, 60/1 ]");
    EXPECT_EQ(nearest.caps.structure(0).get_fraction("framerate"), Fraction::make(30, 1).value());
}

TEST(VideoRateTest, AVariableOutputRatePassesFramesOn) {
    const RateRun r = run("0/1", 0, 1, 4, "", "identity");
    EXPECT_EQ(r.caps.structure(0).get_fraction("framerate"), Fraction());
    EXPECT_EQ(frames_of(r), (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(pts_of(r), (std::vector<std::uint64_t>{0, 10000000, 20000000, 30000000}));
    EXPECT_EQ(r.in, "4");
    EXPECT_EQ(r.out_count, "4");
}

TEST(VideoRateTest, AVariableInputRateIsResampledByTimestamps) {
    // Frames every 10 ms into 50/1 (20 ms slots): every other frame.
    const RateRun r = run("0/1", 0, 1, 6, "", "video/x-raw,framerate=50/1");
    EXPECT_EQ(frames_of(r), (std::vector<int>{0, 2, 4, 5}));
    EXPECT_EQ(pts_of(r), (std::vector<std::uint64_t>{0, 20000000, 40000000, 60000000}));
}

// The harness has no rate downstream: the output keeps the input's rate,
// and slots follow the segment.
Caps gray(std::string_view rate) {
    return Caps::parse(fmt::format("video/x-raw, format=GRAY8, width=4, height=4, framerate={}", rate)).value();
}

Buffer frame(check::Harness& h, int index, std::uint64_t pts, std::uint64_t duration) {
    auto b = h.make_buffer(frame_bytes, static_cast<std::uint8_t>(index));
    EXPECT_TRUE(b);
    b->meta().set_pts(ClockTime(pts));
    b->meta().set_duration(ClockTime(duration));
    return std::move(*b);
}

std::vector<OutFrame> drain(check::Harness& h) {
    std::vector<OutFrame> out;
    while (h.buffers_out() > 0) {
        auto b = h.pull(0ms);
        if (!b) {
            break;
        }
        out.push_back({std::to_integer<int>(b->data()[0]), b->meta().pts().ns(), b->meta().duration().ns(),
                       b->meta().has_flag(BufferFlags::gap), b->meta().has_flag(BufferFlags::discont)});
    }
    return out;
}

TEST(VideoRateTest, FirstSlotIsTheSegmentStartUnlessSkipToFirst) {
    for (const bool skip : {false, true}) {
        auto h = check::Harness::create(skip ? "videorate skip-to-first=true" : "videorate").value();
        ASSERT_TRUE(h->start());
        ASSERT_TRUE(h->set_input_caps(gray("10/1")));
        ASSERT_EQ(h->push(frame(*h, 1, 500'000'000, 100'000'000)), Flow::ok);
        ASSERT_EQ(h->push(frame(*h, 2, 600'000'000, 100'000'000)), Flow::ok);
        const auto out = drain(*h);
        if (skip) {
            ASSERT_EQ(out.size(), 1U);
            EXPECT_EQ(out[0].pts, 500'000'000U);
        } else {
            // Slots 0, 100, ... 500 ms all take the first frame.
            ASSERT_EQ(out.size(), 6U);
            for (std::size_t k = 0; k < 6; ++k) {
                EXPECT_EQ(out[k].pts, k * 100'000'000);
                EXPECT_EQ(out[k].frame, 1);
                EXPECT_EQ(out[k].gap, k > 0);
            }
            EXPECT_EQ(h->element().get_property("duplicate").value(), "5");
        }
    }
}

TEST(VideoRateTest, EosFillsTheSegmentUpToItsStop) {
    for (const auto& [props, expected] : {std::pair{"", 6U}, std::pair{" max-closing-segment-duplication-duration="
                                                                       "100000000",
                                                                       5U}}) {
        SCOPED_TRACE(props);
        auto h = check::Harness::create(fmt::format("videorate{}", props)).value();
        ASSERT_TRUE(h->start());
        ASSERT_TRUE(h->set_input_caps(gray("15/1")));
        StreamSegment seg;
        seg.stop = 400'000'000;
        ASSERT_TRUE(h->push_event(Event::segment(seg)));
        for (int i = 0; i < 3; ++i) {
            const auto t = frame_time(static_cast<std::uint64_t>(i), 15);
            ASSERT_EQ(h->push(frame(*h, i, t, frame_time(static_cast<std::uint64_t>(i) + 1, 15) - t)), Flow::ok);
        }
        ASSERT_TRUE(h->push_event(Event::eos()));
        const auto out = drain(*h);
        // Frames 0 and 1, then frame 2 in the slots at 133, 200, 266 and
        // 333 ms, all before the stop (only within 100 ms of its end with
        // the limit).
        ASSERT_EQ(out.size(), expected);
        EXPECT_EQ(out[0].frame, 0);
        EXPECT_EQ(out[1].frame, 1);
        for (std::size_t k = 2; k < out.size(); ++k) {
            EXPECT_EQ(out[k].frame, 2);
            EXPECT_EQ(out[k].pts, frame_time(k, 15));
            EXPECT_EQ(out[k].gap, k > 2);
        }
        EXPECT_TRUE(h->eos());
    }
}

TEST(VideoRateTest, MaxDuplicationTimeLeavesLongGapsUnfilled) {
    auto h = check::Harness::create("videorate max-duplication-time=500000000").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(gray("10/1")));
    ASSERT_EQ(h->push(frame(*h, 0, 0, 100'000'000)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, 1, 2'000'000'000, 100'000'000)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, 2, 2'100'000'000, 100'000'000)), Flow::ok);
    const auto out = drain(*h);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0].frame, 0);
    EXPECT_EQ(out[0].pts, 0U);
    EXPECT_EQ(out[1].frame, 1);
    EXPECT_EQ(out[1].pts, 2'000'000'000U);
    EXPECT_TRUE(out[1].discont);
}

TEST(VideoRateTest, OlderFramesAreDroppedAndFlushResets) {
    auto h = check::Harness::create("videorate").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(gray("10/1")));
    ASSERT_EQ(h->push(frame(*h, 0, 300'000'000, 100'000'000)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, 1, 200'000'000, 100'000'000)), Flow::ok);
    EXPECT_EQ(h->element().get_property("drop").value(), "1");
    EXPECT_EQ(h->element().get_property("in").value(), "2");
    ASSERT_TRUE(h->push_event(Event::flush_start()));
    ASSERT_TRUE(h->push_event(Event::flush_stop()));
    EXPECT_EQ(h->element().get_property("in").value(), "0");
    EXPECT_EQ(h->element().get_property("drop").value(), "0");
    // After the flush, slots start again from the (new) segment.
    static_cast<void>(drain(*h));
    ASSERT_TRUE(h->push_event(Event::segment(StreamSegment{})));
    ASSERT_EQ(h->push(frame(*h, 5, 0, 100'000'000)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, 6, 100'000'000, 100'000'000)), Flow::ok);
    const auto out = drain(*h);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].frame, 5);
    EXPECT_EQ(out[0].pts, 0U);
    EXPECT_TRUE(out[0].discont);
}

TEST(VideoRateTest, GapEventsDoNotPassAndOtherSegmentsAreRefused) {
    auto h = check::Harness::create("videorate").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(gray("10/1")));
    static_cast<void>(h->take_events());
    EXPECT_TRUE(h->push_event(Event::gap(ClockTime::from_ms(0), ClockTime::from_ms(100))));
    for (const Event& e : h->take_events()) {
        EXPECT_NE(e.type(), EventType::gap);
    }
    StreamSegment bytes;
    bytes.format = Format::bytes;
    EXPECT_FALSE(h->push_event(Event::segment(bytes)));
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("time"), std::string::npos) << h->error()->message();
}

TEST(VideoRateTest, CountersAreReadOnly) {
    auto e = Registry::global().create("videorate").value();
    for (const char* p : {"in", "out", "duplicate", "drop"}) {
        EXPECT_EQ(e->get_property(p).value(), "0");
        auto set = e->set_property(p, "5");
        ASSERT_FALSE(set) << p;
        EXPECT_NE(set.error().message().find(p), std::string::npos) << set.error().message();
        EXPECT_NE(set.error().message().find("read-only"), std::string::npos) << set.error().message();
        EXPECT_EQ(e->get_property(p).value(), "0");
    }
}

TEST(VideoRateTest, TransformCapsOpensTheRate) {
    auto e = Registry::global().create("videorate").value();
    const Pad& sink = *e->pad("sink");
    const Pad& src = *e->pad("src");
    const Caps in = Caps::parse("video/x-raw, format=I420, width=320, height=240, framerate=30/1").value();
    const Caps out = e->transform_caps(sink, src, in);
    EXPECT_TRUE(can_intersect(out, Caps::parse("video/x-raw, framerate=60/1").value())) << out.to_string();
    EXPECT_TRUE(can_intersect(out, Caps::parse("video/x-raw, framerate=1/2").value()));
    EXPECT_FALSE(can_intersect(out, Caps::parse("video/x-raw, width=640").value())) << "only the rate changes";
    const Caps back = e->transform_caps(src, sink, Caps::parse("video/x-raw, width=320, framerate=15/1").value());
    EXPECT_TRUE(can_intersect(back, Caps::parse("video/x-raw, framerate=30/1").value())) << back.to_string();
    // drop-only: the output never exceeds the input's rate.
    ASSERT_TRUE(e->set_property("drop-only", "true"));
    EXPECT_FALSE(can_intersect(e->transform_caps(sink, src, in), Caps::parse("video/x-raw, framerate=60/1").value()));
    EXPECT_FALSE(can_intersect(e->transform_caps(src, sink, Caps::parse("video/x-raw, framerate=15/1").value()),
                               Caps::parse("video/x-raw, framerate=10/1").value()));
}

TEST(VideoRateTest, IsRegisteredWithGStreamersNames) {
    const ElementFactory* f = Registry::global().find("videorate");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().convert_cost, 0U);
    auto e = f->create().value();
    for (const char* p : {"in", "out", "duplicate", "drop", "silent", "new-pref", "skip-to-first", "drop-only",
                          "max-rate", "max-duplication-time", "max-closing-segment-duplication-duration"}) {
        EXPECT_NE(e->property(p), nullptr) << p;
    }
    EXPECT_EQ(e->get_property("silent").value(), "true");
    EXPECT_EQ(e->get_property("max-rate").value(), "2147483647");
    EXPECT_EQ(e->get_property("max-closing-segment-duplication-duration").value(), "1000000000");
    // Not implemented, so not declared.
    EXPECT_EQ(e->property("average-period"), nullptr);
    EXPECT_EQ(e->property("rate"), nullptr);
}

} // namespace
} // namespace parallax
