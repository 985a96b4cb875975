#include <parallax/caps/caps_ops.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/element.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "support/passthrough.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;

// A source of a few 1-byte buffers whose caps property says what it can
// produce.
class NegSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "neg-src", .klass = "Source", .summary = "caps from a property"};
    [[nodiscard]] Caps allowed_caps(const Pad& pad) const override {
        return intersect(pad.pad_template().caps, caps_.get());
    }

protected:
    Flow create(Buffer& out, SourceContext& ctx) override {
        if (limit_.get() >= 0 && sent_++ >= limit_.get()) {
            return Flow::eos;
        }
        auto b = ctx.allocate(1);
        if (!b) {
            return ctx.error(b.error());
        }
        out = std::move(*b);
        return Flow::ok;
    }
    Result<void> start() override {
        sent_ = 0;
        return SimpleSource::start();
    }

private:
    int sent_ = 0;
    Property<Caps> caps_{this, "caps", Caps::any(), "What it can produce"};
    Property<std::int32_t> limit_{this, "num-buffers", 3, "Buffers to send (-1: no end)", {-1, 1000000}};
};

// A sink whose caps property says what it accepts; it keeps the caps events
// it receives.
class NegSink final : public SimpleSink {
public:
    static constexpr ElementInfo info{.factory = "neg-sink", .klass = "Sink", .summary = "caps from a property"};
    [[nodiscard]] Caps allowed_caps(const Pad& pad) const override {
        return intersect(pad.pad_template().caps, caps_.get());
    }
    [[nodiscard]] std::vector<Caps> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }

protected:
    Flow render(Buffer&, SinkContext&) override { return Flow::ok; }
    bool sink_event(Pad& pad, Event&& e) override {
        if (const Caps* c = e.caps_value()) {
            std::lock_guard lock(mutex_);
            received_.push_back(*c);
        }
        return SimpleSink::sink_event(pad, std::move(e));
    }

private:
    mutable std::mutex mutex_;
    std::vector<Caps> received_;
    Property<Caps> caps_{this, "caps", Caps::any(), "What it accepts"};
};

// Converters: each opens some fields of video/x-raw (SimpleTransform sends
// on the caps negotiation chose for its src pad).
template <unsigned Cost>
class ConverterBase : public SimpleTransform {
public:
    static Caps pad_caps() { return Caps::parse_static("video/x-raw"); }

protected:
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }
};

class FormatConverter final : public ConverterBase<10> {
public:
    static constexpr ElementInfo info{
        .factory = "neg-convert", .klass = "Filter/Converter/Video", .summary = "format", .convert_cost = 10};
    [[nodiscard]] Caps transform_caps(const Pad&, const Pad&, const Caps& caps) const override {
        return without_fields(caps, {"format"});
    }
};

class DearFormatConverter final : public ConverterBase<50> {
public:
    static constexpr ElementInfo info{
        .factory = "neg-convert-dear", .klass = "Filter/Converter/Video", .summary = "format", .convert_cost = 50};
    [[nodiscard]] Caps transform_caps(const Pad&, const Pad&, const Caps& caps) const override {
        return without_fields(caps, {"format"});
    }
};

class Scaler final : public ConverterBase<20> {
public:
    static constexpr ElementInfo info{
        .factory = "neg-scale", .klass = "Filter/Converter/Video", .summary = "size", .convert_cost = 20};
    [[nodiscard]] Caps transform_caps(const Pad&, const Pad&, const Caps& caps) const override {
        return without_fields(caps, {"width", "height"});
    }
};

// A format converter that passes buffers untouched when there is nothing
// to convert, and refuses GRAY8 input.
class PassConverter final : public ConverterBase<10> {
public:
    static constexpr ElementInfo info{
        .factory = "neg-convert-pass", .klass = "Filter/Converter/Video", .summary = "pass"};
    [[nodiscard]] Caps transform_caps(const Pad&, const Pad&, const Caps& caps) const override {
        return without_fields(caps, {"format"});
    }
    int transformed = 0;

protected:
    [[nodiscard]] bool passthrough_when_equal() const noexcept override { return true; }
    Result<void> set_caps(const Caps& in, const Caps&) override {
        if (in.structure(0).get_string("format") == "GRAY8") {
            return fail(Errc::not_negotiated, "GRAY8 is not supported");
        }
        return {};
    }
    Flow transform(Buffer&, TransformContext&) override {
        ++transformed;
        return Flow::ok;
    }
};

// A filter whose transform_caps throws.
class Throwing final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "neg-throw", .klass = "Filter", .summary = "throws"};
    [[nodiscard]] Caps transform_caps(const Pad&, const Pad&, const Caps&) const override {
        throw std::runtime_error("no caps today");
    }

protected:
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }
};

// The global elements plus the test ones; converters only when asked.
void fill(Registry& r, bool converters) {
    // The built-in elements but their converters: these tests choose theirs.
    for (const ElementFactory* f : Registry::global().factories()) {
        if (f->info().convert_cost == 0) {
            static_cast<void>(r.add(*f));
        }
    }
    static_cast<void>(r.add(factory_of<NegSrc>()));
    static_cast<void>(r.add(factory_of<NegSink>()));
    static_cast<void>(r.add(factory_of<Throwing>()));
    if (converters) {
        static_cast<void>(r.add(factory_of<FormatConverter>()));
        static_cast<void>(r.add(factory_of<DearFormatConverter>()));
        static_cast<void>(r.add(factory_of<Scaler>()));
    }
}

Registry& registry(bool converters) {
    static Registry with;
    static Registry without;
    static const bool filled = [] {
        fill(with, true);
        fill(without, false);
        return true;
    }();
    static_cast<void>(filled);
    return converters ? with : without;
}

std::unique_ptr<Pipeline> make(const std::string& text, bool converters = true) {
    auto p = Pipeline::parse(text, registry(converters));
    EXPECT_TRUE(p) << format_pipeline_error(text, p.error());
    return p ? std::move(*p) : nullptr;
}

Caps caps_of(const Pipeline& p, std::string_view pad_path) {
    const auto colon = pad_path.find(':');
    Element* e = p.find(pad_path.substr(0, colon));
    if (e == nullptr || e->pad(pad_path.substr(colon + 1)) == nullptr) {
        ADD_FAILURE() << "no pad " << pad_path;
        return {};
    }
    return e->pad(pad_path.substr(colon + 1))->negotiated_caps();
}

Caps parsed(std::string_view text) {
    return Caps::parse_static(text);
}

std::vector<std::string> inserted(const Pipeline& p) {
    std::vector<std::string> out;
    for (const auto& c : p.negotiation().inserted) {
        out.push_back(c.factory);
    }
    return out;
}

TEST(NegotiationTest, ALinearChainAgreesAndFixesEveryLink) {
    auto p =
        make("neg-src name=src caps=\"video/x-raw, format={ I420, NV12 }, width=[ 16, 4096 ], height=[ 16, 4096 ]\" "
             "! identity name=id ! neg-sink name=sink caps=\"video/x-raw, format=NV12\"");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    const Caps expected = parsed("video/x-raw, format=(string)NV12, width=(int)16, height=(int)16");
    EXPECT_TRUE(is_equal(caps_of(*p, "src:src"), expected)) << caps_of(*p, "src:src").to_string();
    EXPECT_TRUE(is_equal(caps_of(*p, "id:src"), expected)) << caps_of(*p, "id:src").to_string();
    EXPECT_TRUE(is_equal(caps_of(*p, "sink:sink"), expected));
    EXPECT_TRUE(inserted(*p).empty());
    // The caps reach the sink in the stream, before the buffers.
    ASSERT_TRUE(p->run(10s));
    auto sink = p->get<NegSink>("sink");
    ASSERT_TRUE(sink);
    ASSERT_EQ((*sink)->received().size(), 1U);
    EXPECT_TRUE(is_equal((*sink)->received()[0], expected));
}

TEST(NegotiationTest, ACapsFilterNarrowsBothSides) {
    auto p = make("neg-src name=src caps=\"video/x-raw, width=[ 16, 4096 ], height=[ 16, 4096 ]\" "
                  "! video/x-raw,width=640 ! neg-sink name=sink");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_TRUE(is_equal(caps_of(*p, "src:src"), parsed("video/x-raw, width=(int)640, height=(int)16")))
        << caps_of(*p, "src:src").to_string();
    EXPECT_TRUE(is_equal(caps_of(*p, "sink:sink"), parsed("video/x-raw, width=(int)640, height=(int)16")));
}

TEST(NegotiationTest, DownstreamsOrderOfPreferenceWins) {
    // As in GStreamer (videotestsrc ! jpegenc gives jpegenc's first format):
    // the source lists NV12 first, the sink prefers I420.
    auto p = make("neg-src name=src caps=\"video/x-raw, format={ NV12, RGBA, I420 }, width=16, height=16\" "
                  "! neg-sink name=sink caps=\"video/x-raw, format={ I420, NV12 }\"");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_TRUE(is_equal(caps_of(*p, "src:src"), parsed("video/x-raw, format=(string)I420, width=(int)16, height=(int)16")))
        << caps_of(*p, "src:src").to_string();
    // Through an element that accepts anything, too.
    auto q = make("neg-src name=src caps=\"video/x-raw, format={ NV12, RGBA, I420 }, width=16, height=16\" "
                  "! queue ! identity ! neg-sink name=sink caps=\"video/x-raw, format={ I420, NV12 }\"");
    ASSERT_TRUE(q);
    ASSERT_TRUE(q->set_state(State::idle));
    EXPECT_TRUE(is_equal(caps_of(*q, "src:src"), parsed("video/x-raw, format=(string)I420, width=(int)16, height=(int)16")))
        << caps_of(*q, "src:src").to_string();
}

TEST(NegotiationTest, ACapsFilterNarrowsWithoutImposingItsOrder) {
    // gst-launch-1.0 videotestsrc ! "video/x-raw,format={ I420, RGBA }" gives
    // RGBA, the source's preference of the two.
    auto p = make("neg-src name=src caps=\"video/x-raw, format={ NV12, RGBA, I420 }, width=16, height=16\" "
                  "! video/x-raw,format={ I420, RGBA } ! neg-sink name=sink");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_TRUE(is_equal(caps_of(*p, "src:src"), parsed("video/x-raw, format=(string)RGBA, width=(int)16, height=(int)16")))
        << caps_of(*p, "src:src").to_string();
}

TEST(NegotiationTest, ALinkThatNothingConstrainsStaysAny) {
    auto p = make("fakesrc num-buffers=2 name=src ! fakesink");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_TRUE(caps_of(*p, "src:src").is_any());
}

TEST(NegotiationTest, AConverterIsInsertedAndKeepsWhatItNeedNotChange) {
    auto p =
        make("neg-src name=src caps=\"video/x-raw, format=I420, width=640, height=480\" "
             "! neg-sink name=sink caps=\"video/x-raw, format={ RGBA, BGRA }, width=[ 1, 4096 ], height=[ 1, 4096 ]\"");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    ASSERT_EQ(inserted(*p), std::vector<std::string>{"neg-convert"});
    const auto& c = p->negotiation().inserted[0];
    EXPECT_EQ(c.name, "auto-neg-convert0");
    EXPECT_EQ(c.upstream, "src:src");
    EXPECT_EQ(c.downstream, "sink:sink");
    EXPECT_TRUE(is_equal(caps_of(*p, "src:src"), parsed("video/x-raw, format=I420, width=640, height=480")));
    EXPECT_TRUE(is_equal(caps_of(*p, "sink:sink"), parsed("video/x-raw, format=RGBA, width=640, height=480")))
        << caps_of(*p, "sink:sink").to_string();
    // It is an element of the pipeline like any other, and data flows.
    EXPECT_NE(p->find("auto-neg-convert0"), nullptr);
    EXPECT_NE(p->to_dot().find("auto-neg-convert0"), std::string::npos);
    ASSERT_TRUE(p->run(10s));
    auto sink = p->get<NegSink>("sink");
    ASSERT_TRUE(sink && !(*sink)->received().empty());
    EXPECT_TRUE(is_equal((*sink)->received()[0], parsed("video/x-raw, format=RGBA, width=640, height=480")));
    // A second run negotiates again without inserting a second converter.
    ASSERT_TRUE(p->run(10s));
    EXPECT_EQ(inserted(*p).size(), 1U);
}

TEST(NegotiationTest, SeveralHopsWhenOneConverterIsNotEnough) {
    auto p = make("neg-src name=src caps=\"video/x-raw, format=I420, width=640, height=480\" "
                  "! neg-sink name=sink caps=\"video/x-raw, format=RGBA, width=1280, height=720\"");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle)) << "";
    auto kinds = inserted(*p);
    std::sort(kinds.begin(), kinds.end());
    EXPECT_EQ(kinds, (std::vector<std::string>{"neg-convert", "neg-scale"}));
    EXPECT_TRUE(is_equal(caps_of(*p, "sink:sink"), parsed("video/x-raw, format=RGBA, width=1280, height=720")));
    ASSERT_TRUE(p->run(10s));
}

TEST(NegotiationTest, TheCheapestChainWins) {
    auto p = make("neg-src caps=\"video/x-raw, format=I420\" ! neg-sink caps=\"video/x-raw, format=RGBA\"");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_EQ(inserted(*p), std::vector<std::string>{"neg-convert"}); // cost 10, not neg-convert-dear's 50
}

TEST(NegotiationTest, NoConverterWhenTheSidesAlreadyAgree) {
    auto p = make(
        "neg-src caps=\"video/x-raw, format={ NV12, I420 }\" ! neg-sink caps=\"video/x-raw, format={ I420, RGBA }\"");
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_TRUE(inserted(*p).empty());
}

TEST(NegotiationTest, TeeBranchesWithDifferentNeedsGetAConverterOnOne) {
    auto p =
        make("neg-src name=src caps=\"video/x-raw, format={ I420, NV12, RGBA }, width=320, height=240\" ! tee name=t "
             "t. ! queue ! neg-sink name=a caps=\"video/x-raw, format=I420\" "
             "t. ! queue ! neg-sink name=b caps=\"video/x-raw, format=RGBA\"");
    ASSERT_TRUE(p);
    auto ok = p->set_state(State::idle);
    ASSERT_TRUE(ok) << ok.error().message();
    ASSERT_EQ(inserted(*p), std::vector<std::string>{"neg-convert"});
    EXPECT_TRUE(is_equal(caps_of(*p, "a:sink"), parsed("video/x-raw, format=I420, width=320, height=240")))
        << caps_of(*p, "a:sink").to_string();
    EXPECT_TRUE(is_equal(caps_of(*p, "b:sink"), parsed("video/x-raw, format=RGBA, width=320, height=240")))
        << caps_of(*p, "b:sink").to_string();
    ASSERT_TRUE(p->run(10s));
}

TEST(NegotiationTest, FunnelInputsInDifferentFormatsGetAConverter) {
    auto p = make("neg-src name=x caps=\"video/x-raw, format=I420\" ! funnel name=f ! neg-sink name=sink "
                  "neg-src name=y caps=\"video/x-raw, format=RGBA\" ! f.");
    ASSERT_TRUE(p);
    auto ok = p->set_state(State::idle);
    ASSERT_TRUE(ok) << ok.error().message();
    ASSERT_EQ(inserted(*p), std::vector<std::string>{"neg-convert"});
    EXPECT_TRUE(is_equal(caps_of(*p, "f:src"), caps_of(*p, "x:src")) ||
                is_equal(caps_of(*p, "f:src"), caps_of(*p, "y:src")));
}

TEST(NegotiationTest, DenyingConvertersNamesTheChainThatWouldWork) {
    auto p = make("neg-src name=src caps=\"video/x-raw, format=I420, width=640, height=480\" "
                  "! neg-sink name=sink caps=\"video/x-raw, format=RGBA, width=640, height=480\"");
    ASSERT_TRUE(p);
    p->set_converter_policy(ConverterPolicy::deny);
    auto r = p->set_state(State::idle);
    ASSERT_FALSE(r);
    const std::string m = r.error().message();
    EXPECT_TRUE(r.error().is(Errc::not_negotiated));
    EXPECT_EQ(r.error().element(), "sink");
    EXPECT_EQ(m, "cannot negotiate caps between src:src and sink:sink\n"
                 "  src:src can produce:\n"
                 "      video/x-raw, format=(string)I420, width=(int)640, height=(int)480\n"
                 "  sink:sink can accept:\n"
                 "      video/x-raw, format=(string)RGBA, width=(int)640, height=(int)480\n"
                 "  video/x-raw differs in format (string)I420 against (string)RGBA\n"
                 "  automatic converters are off (converter policy deny, plx-launch --no-auto-convert): insert "
                 "`neg-convert` between src and sink, or allow them");
    EXPECT_TRUE(p->negotiation().inserted.empty());
    EXPECT_EQ(p->find("auto-neg-convert0"), nullptr);
}

TEST(NegotiationTest, WarnPolicyInsertsAndPostsAWarning) {
    auto p = make("neg-src caps=\"video/x-raw, format=I420\" ! neg-sink caps=\"video/x-raw, format=RGBA\"");
    ASSERT_TRUE(p);
    p->set_converter_policy(ConverterPolicy::warn);
    ASSERT_TRUE(p->set_state(State::idle));
    auto m = p->bus().pop({MessageType::warning}, 1s);
    ASSERT_TRUE(m);
    EXPECT_NE(m->to_string().find("inserted auto-neg-convert0 between"), std::string::npos) << m->to_string();
}

TEST(NegotiationTest, DifferentMediaTypesCannotBeConvertedAndTheErrorSaysSo) {
    auto p = make("neg-src name=src caps=\"audio/x-raw, rate=48000\" ! neg-sink name=sink caps=video/x-raw");
    ASSERT_TRUE(p);
    auto r = p->run(5s);
    ASSERT_FALSE(r);
    const std::string m = r.error().message();
    EXPECT_NE(m.find("cannot negotiate caps between src:src and sink:sink"), std::string::npos) << m;
    EXPECT_NE(m.find("the media types differ: audio/x-raw against video/x-raw"), std::string::npos) << m;
    EXPECT_NE(m.find("no chain of up to 3 converters (neg-convert, neg-convert-dear, neg-scale) turns one into the "
                     "other"),
              std::string::npos)
        << m;
    EXPECT_EQ(p->find("auto-neg-convert0"), nullptr);
}

TEST(NegotiationTest, TheErrorNamesWhatNarrowedEachSide) {
    auto p = make("neg-src name=src caps=\"video/x-raw, format={ I420, RGBA }\" ! video/x-raw,format=I420 ! "
                  "identity name=id ! neg-sink name=sink caps=\"video/x-raw, format=RGBA\"",
                  false);
    ASSERT_TRUE(p);
    auto r = p->set_state(State::idle);
    ASSERT_FALSE(r);
    const std::string m = r.error().message();
    EXPECT_NE(m.find("cannot negotiate caps between capsfilter0:src and id:sink"), std::string::npos) << m;
    // The capsfilter is named once, not again for passing on what it narrowed.
    EXPECT_NE(m.find("narrowed upstream by:\n      capsfilter0 (caps=video/x-raw, format=(string)I420)\n  id:sink can"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("narrowed downstream by:\n      id (identity), from what id:src carries\n      sink:sink takes "
                     "only video/x-raw, format=(string)RGBA\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("no converters are registered"), std::string::npos) << m;
}

TEST(NegotiationTest, AnExceptionInNegotiationCodeNamesTheElement) {
    auto p = make("neg-src ! neg-throw name=bad ! neg-sink");
    ASSERT_TRUE(p);
    auto r = p->set_state(State::idle);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().element(), "bad");
    EXPECT_NE(r.error().message().find("transform_caps() threw no caps today"), std::string::npos)
        << r.error().message();
}

TEST(NegotiationTest, AConverterWhoseCapsAreEqualPassesBuffersUntouched) {
    auto made = factory_of<PassConverter>().create("conv");
    ASSERT_TRUE(made);
    auto* conv = static_cast<PassConverter*>(made->get());
    auto h = check::Harness::wrap(std::move(*made));
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->set_input_caps(parsed("video/x-raw, format=I420, width=2, height=2")));
    ASSERT_TRUE((*h)->start());
    ASSERT_TRUE(check::passes_same_buffer(**h, (*h)->make_buffer(6)));
    EXPECT_EQ(conv->transformed, 0);
    EXPECT_TRUE(is_equal(conv->output_caps(), parsed("video/x-raw, format=I420, width=2, height=2")));
}

TEST(NegotiationTest, CapsAConverterRefusesFailTheStreamNamingIt) {
    auto made = factory_of<PassConverter>().create("conv");
    ASSERT_TRUE(made);
    auto h = check::Harness::wrap(std::move(*made));
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    EXPECT_FALSE((*h)->set_input_caps(parsed("video/x-raw, format=GRAY8, width=2, height=2")));
}

TEST(NegotiationTest, ACapsChangeMidStreamReachesThroughAConverter) {
    auto p = make("appsrc name=src caps=\"video/x-raw, format=I420, width=640, height=480\" ! neg-convert name=conv ! "
                  "appsink name=sink caps=\"video/x-raw, format=RGBA\"");
    ASSERT_TRUE(p);
    auto src = p->get<AppSrc>("src");
    auto sink = p->get<AppSink>("sink");
    ASSERT_TRUE(src && sink);
    ASSERT_TRUE(p->set_state(State::running));
    auto push = [&] {
        auto b = (*src)->allocate(4);
        ASSERT_TRUE(b);
        ASSERT_TRUE((*src)->push_buffer(std::move(*b)));
    };
    push();
    auto first = (*sink)->try_pull_sample(5s);
    ASSERT_TRUE(first);
    EXPECT_TRUE(is_equal(first->caps, parsed("video/x-raw, format=RGBA, width=640, height=480")))
        << first->caps.to_string();
    // The source changes its format only: the converter's output stays.
    ASSERT_TRUE((*src)->set_caps(parsed("video/x-raw, format=NV12, width=640, height=480")));
    push();
    auto second = (*sink)->try_pull_sample(5s);
    ASSERT_TRUE(second);
    EXPECT_TRUE(is_equal(second->caps, parsed("video/x-raw, format=RGBA, width=640, height=480")));
    // It changes its size, which the converter cannot change: its output
    // follows, and the sink sees the new caps before the buffer.
    ASSERT_TRUE((*src)->set_caps(parsed("video/x-raw, format=I420, width=320, height=240")));
    push();
    auto third = (*sink)->try_pull_sample(5s);
    ASSERT_TRUE(third);
    EXPECT_TRUE(is_equal(third->caps, parsed("video/x-raw, format=RGBA, width=320, height=240")))
        << third->caps.to_string();
    ASSERT_TRUE((*src)->end_of_stream());
    EXPECT_TRUE(p->set_state(State::idle));
}

TEST(NegotiationTest, ACapsChangeMidStreamSeesThroughAQueueBehindTheConverter) {
    // A decoder learns its size from the data; a queue (as the executor
    // puts in front of an encoder) stands between the converter and the
    // element that constrains it: the converter's new output must still be
    // one that element takes.
    auto p = make("appsrc name=src caps=\"video/x-raw, format=I420, width=640, height=480\" ! neg-convert name=conv ! "
                  "queue ! identity ! appsink name=sink caps=\"video/x-raw, format={ RGBA, BGRA }\"");
    ASSERT_TRUE(p);
    auto src = p->get<AppSrc>("src");
    auto sink = p->get<AppSink>("sink");
    ASSERT_TRUE(src && sink);
    ASSERT_TRUE(p->set_state(State::running));
    auto push = [&] {
        auto b = (*src)->allocate(4);
        ASSERT_TRUE(b);
        ASSERT_TRUE((*src)->push_buffer(std::move(*b)));
    };
    push();
    auto first = (*sink)->try_pull_sample(5s);
    ASSERT_TRUE(first);
    EXPECT_TRUE(is_equal(first->caps, parsed("video/x-raw, format=RGBA, width=640, height=480")))
        << first->caps.to_string();
    ASSERT_TRUE((*src)->set_caps(parsed("video/x-raw, format=I420, width=320, height=240")));
    push();
    auto second = (*sink)->try_pull_sample(5s);
    ASSERT_TRUE(second);
    EXPECT_TRUE(is_equal(second->caps, parsed("video/x-raw, format=RGBA, width=320, height=240")))
        << second->caps.to_string();
    ASSERT_TRUE((*src)->end_of_stream());
    EXPECT_TRUE(p->set_state(State::idle));
}

TEST(NegotiationTest, ACapsFilterChangedWhileRunningRenegotiatesTheSource) {
    auto p = make("neg-src name=src num-buffers=-1 caps=\"video/x-raw, width=[ 16, 4096 ], height=[ 16, 4096 ]\" ! "
                  "capsfilter name=cf caps=video/x-raw,width=640 ! neg-sink name=sink");
    ASSERT_TRUE(p);
    auto sink = p->get<NegSink>("sink");
    ASSERT_TRUE(sink);
    ASSERT_TRUE(p->set_state(State::running));
    const auto saw = [&](const Caps& wanted) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (std::chrono::steady_clock::now() < deadline) {
            for (const Caps& c : (*sink)->received()) {
                if (is_equal(c, wanted)) {
                    return true;
                }
            }
            std::this_thread::sleep_for(1ms);
        }
        return false;
    };
    EXPECT_TRUE(saw(parsed("video/x-raw, width=(int)640, height=(int)16")));
    ASSERT_TRUE(p->find("cf")->set_property("caps", "video/x-raw,width=320"));
    EXPECT_TRUE(saw(parsed("video/x-raw, width=(int)320, height=(int)16")));
    EXPECT_TRUE(is_equal(caps_of(*p, "src:src"), parsed("video/x-raw, width=(int)320, height=(int)16")));
    // A filter nothing upstream can satisfy: an error naming the link, not a hang.
    ASSERT_TRUE(p->find("cf")->set_property("caps", "video/x-raw,width=8"));
    auto m = p->bus().pop({MessageType::error}, 5s);
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->error);
    EXPECT_NE(m->error->message().find("cannot negotiate caps between src:src and cf:sink"), std::string::npos)
        << m->error->message();
    EXPECT_TRUE(p->set_state(State::idle));
}

} // namespace
} // namespace parallax
