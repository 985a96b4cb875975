// Force-key-unit events through whole pipelines, for av1enc and openh264enc:
// - an upstream request sent from the sink side (a probe element in front of
//   the sink, at a known buffer) makes the requested frame a key frame, and
//   the encoder's downstream force-key-unit event reaches the sink side just
//   ahead of that frame's buffer;
// - multifilesink next-file=key-unit-event starts a file at each such event:
//   every file begins with a key frame, and ffprobe/ffmpeg decode each one on
//   its own, every frame of it, without an error;
// - so it does behind mpegtsmux, which holds the event until its key frame
//   goes out and writes the PAT and PMT again in front of it: each transport
//   stream segment plays alone.

#include <parallax/element.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"
#include "integration/media_tools_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// 30 fps from videotestsrc: frame i has pts i * 1/30 s.
ClockTime pts_of(unsigned frame) {
    return ClockTime::from_ns(frame * ClockTime::ns_per_s / 30);
}

// One thing that crossed the probe: a buffer or a downstream force-key-unit
// event.
struct Crossing {
    bool is_key_unit_event = false;
    bool key = false; // buffers: no delta flag
    ClockTime pts;    // buffers: pts; events: timestamp
    std::uint32_t count = 0;
};

// Passes everything on; records buffers and downstream force-key-unit events
// in the order they cross; sends upstream requests at chosen buffers.
class KeyUnitProbe final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "test-key-unit-probe", .klass = "Filter", .summary = "Records key units and asks for them"};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::any()},
                {"src", PadDirection::src, PadPresence::always, Caps::any()}};
    }

    // Sends `request` upstream when buffer `at` (counted from 0) arrives.
    void request_at(unsigned at, const UpstreamForceKeyUnit& request) { requests_.emplace_back(at, request); }

    std::vector<Crossing> crossings() const {
        const std::lock_guard lock(mutex_);
        return crossings_;
    }

protected:
    void init() override {
        sink_ = pad("sink");
        src_ = pad("src");
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        record({false, !buffer.meta().has_flag(BufferFlags::delta), buffer.meta().pts(), 0});
        for (const auto& [at, request] : requests_) {
            if (at == buffers_) {
                EXPECT_TRUE(sink_->push_event(Event::upstream_force_key_unit(request)));
            }
        }
        ++buffers_;
        return src_->push(std::move(buffer));
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (const auto* k = event.downstream_force_key_unit_value()) {
            record({true, false, k->timestamp, k->count});
        }
        return Element::sink_event(pad, std::move(event));
    }

private:
    void record(const Crossing& c) {
        const std::lock_guard lock(mutex_);
        crossings_.push_back(c);
    }

    Pad* sink_ = nullptr;
    Pad* src_ = nullptr;
    std::vector<std::pair<unsigned, UpstreamForceKeyUnit>> requests_;
    unsigned buffers_ = 0;
    mutable std::mutex mutex_;
    std::vector<Crossing> crossings_;
};

struct Codec {
    const char* encoder;   // no natural key frame after the first within 30 frames
    const char* extension; // of the raw stream multifilesink writes
    const char* ffmpeg_format;
};

void PrintTo(const Codec& c, std::ostream* os) {
    *os << c.encoder;
}

const Codec codecs[] = {
    {"av1enc keyframe-max-dist=1000", "obu", "obu"},
    {"openh264enc gop-size=1000", "h264", "h264"},
};

class ForceKeyUnitPipelineTest : public ::testing::TestWithParam<Codec> {};

// videotestsrc ! encoder ! probe ! `sink` (a factory and its properties),
// every element on one thread so that the probe's requests reach the
// encoder before the next frame does.
std::pair<std::unique_ptr<Pipeline>, KeyUnitProbe*> build(const Codec& codec, unsigned frames, std::string_view sink,
                                                          std::initializer_list<PropertySetting> sink_properties = {}) {
    const std::string text = fmt::format("videotestsrc num-buffers={} ! video/x-raw,format=I420,width=160,height=120,"
                                         "framerate=30/1 ! {} name=enc",
                                         frames, codec.encoder);
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << format_pipeline_error(text, p.error());
    if (!p) {
        return {nullptr, nullptr};
    }
    auto probe = (*p)->add(make_element<KeyUnitProbe>("probe").value());
    auto snk = (*p)->add(sink, "sink", sink_properties);
    EXPECT_TRUE(probe && snk) << (snk ? "" : snk.error().to_string());
    if (!probe || !snk) {
        return {nullptr, nullptr};
    }
    EXPECT_TRUE((*p)->link(*(*p)->find("enc"), **probe));
    EXPECT_TRUE((*p)->link(**probe, **snk));
    (*p)->scheduling().automatic_boundaries = false;
    return {std::move(*p), static_cast<KeyUnitProbe*>(*probe)};
}

UpstreamForceKeyUnit request(ClockTime running_time, std::uint32_t count) {
    UpstreamForceKeyUnit r;
    r.running_time = running_time;
    r.count = count;
    return r;
}

TEST_P(ForceKeyUnitPipelineTest, RequestFromTheSinkSideMakesTheFrameAKeyFrameAnnouncedAheadOfIt) {
    auto [p, probe] = build(GetParam(), 20, "fakesink");
    ASSERT_TRUE(p);
    // At buffer 3: one request for as soon as possible (frame 4), one for
    // the running time of frame 12.
    probe->request_at(3, request(ClockTime::none(), 1));
    probe->request_at(3, request(pts_of(12), 2));
    auto ok = p->run(60s);
    ASSERT_TRUE(ok) << ok.error().to_string();

    std::vector<unsigned> keys;
    std::vector<std::pair<unsigned, std::uint32_t>> announced; // (frame it preceded, count)
    unsigned frame = 0;
    std::optional<Crossing> pending_event;
    for (const Crossing& c : probe->crossings()) {
        if (c.is_key_unit_event) {
            EXPECT_FALSE(pending_event) << "two events without a buffer between them";
            pending_event = c;
            continue;
        }
        EXPECT_EQ(c.pts, pts_of(frame));
        if (c.key) {
            keys.push_back(frame);
        }
        if (pending_event) {
            EXPECT_TRUE(c.key) << "frame " << frame << " follows a force-key-unit event";
            EXPECT_EQ(pending_event->pts, c.pts) << "the event's timestamp is its key frame's pts";
            announced.emplace_back(frame, pending_event->count);
            pending_event.reset();
        }
        ++frame;
    }
    EXPECT_EQ(frame, 20U);
    EXPECT_EQ(keys, (std::vector<unsigned>{0, 4, 12}));
    EXPECT_EQ(announced, (std::vector<std::pair<unsigned, std::uint32_t>>{{4, 1}, {12, 2}}));
}

// ffprobe's key flag of every packet of `file`, in order.
std::vector<bool> packet_keys(const fs::path& file, const char* format) {
    const check::ShellRun r = check::shell(
        fmt::format("ffprobe -v error -f {} -show_entries packet=flags -of csv=p=0 {}", format, file.string()));
    EXPECT_TRUE(r.ok) << r.output;
    std::vector<bool> keys;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) {
            keys.push_back(line.front() == 'K');
        }
    }
    return keys;
}

// Runs 30 frames of `codec` into multifilesink next-file=key-unit-event
// (seg%02d.<extension> in `dir`), both key units asked at the first buffer
// by running time (frames 10 and 20); the names of the files, sorted.
std::vector<std::string> cut_at_frames_10_and_20(const Codec& codec, const check::ScratchDir& dir) {
    const std::string location = fmt::format("{}/seg%02d.{}", dir.path().string(), codec.extension);
    auto [p, probe] =
        build(codec, 30, "multifilesink", {{"next-file", "key-unit-event"}, {"location", location.c_str()}});
    if (!p) {
        return {};
    }
    probe->request_at(0, request(pts_of(10), 1));
    probe->request_at(0, request(pts_of(20), 2));
    auto ok = p->run(60s);
    EXPECT_TRUE(ok) << ok.error().to_string();
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST_P(ForceKeyUnitPipelineTest, MultifilesinkStartsAFileAtEachKeyUnitEventAndEachDecodesAlone) {
    for (const char* tool : {"ffprobe", "ffmpeg"}) {
        if (!check::have_tool(tool)) {
            GTEST_SKIP() << tool << " is not installed";
        }
    }
    const Codec& codec = GetParam();
    check::ScratchDir dir("ForceKeyUnitPipelineTest", codec.extension);
    const std::vector<std::string> names = cut_at_frames_10_and_20(codec, dir);
    const std::string ext = codec.extension;
    ASSERT_EQ(names, (std::vector<std::string>{"seg00." + ext, "seg01." + ext, "seg02." + ext}));
    for (const std::string& name : names) {
        SCOPED_TRACE(name);
        const fs::path file = dir.path() / name;
        const std::vector<bool> keys = packet_keys(file, codec.ffmpeg_format);
        ASSERT_EQ(keys.size(), 10U);
        EXPECT_TRUE(keys.front()) << "the file starts with a key frame";
        EXPECT_EQ(std::count(keys.begin(), keys.end(), true), 1) << "one key frame per file";
        // Decodes on its own: no error, every frame.
        const check::ShellRun decode =
            check::shell(fmt::format("ffmpeg -v error -f {} -i {} -f null -", codec.ffmpeg_format, file.string()));
        EXPECT_TRUE(decode.ok) << decode.output;
        EXPECT_EQ(decode.output, "");
        const check::ShellRun frames = check::shell(
            fmt::format("ffprobe -v error -f {} -count_frames -show_entries stream=nb_read_frames -of csv=p=0 {}",
                        codec.ffmpeg_format, file.string()));
        EXPECT_TRUE(frames.ok) << frames.output;
        EXPECT_EQ(frames.output, "10\n");
    }
}

TEST(ForceKeyUnitTransportStreamTest, MpegtsmuxSegmentsEachStartWithTablesAndAKeyFrameAndPlayAlone) {
    for (const char* tool : {"ffprobe", "ffmpeg"}) {
        if (!check::have_tool(tool)) {
            GTEST_SKIP() << tool << " is not installed";
        }
    }
    check::ScratchDir dir("ForceKeyUnitTransportStreamTest", "ts");
    // The mux is the element the probe asks: it passes the request on to
    // the encoder and the encoder's announcement back, at the right place.
    // alignment=7 makes it send whole groups of packets, so the packets
    // before each key unit must go out (padded) first.
    const Codec ts{"openh264enc gop-size=1000 ! mpegtsmux alignment=7", "ts", "mpegts"};
    const std::vector<std::string> names = cut_at_frames_10_and_20(ts, dir);
    ASSERT_EQ(names, (std::vector<std::string>{"seg00.ts", "seg01.ts", "seg02.ts"}));
    for (const std::string& name : names) {
        SCOPED_TRACE(name);
        const fs::path file = dir.path() / name;
        // Whole 188-byte packets, the first one the PAT (PID 0).
        const auto size = fs::file_size(file);
        EXPECT_EQ(size % (7 * 188), 0U);
        std::ifstream in(file, std::ios::binary);
        std::array<char, 3> head{};
        in.read(head.data(), head.size());
        EXPECT_EQ(head[0], 0x47);
        EXPECT_EQ(((static_cast<unsigned>(head[1]) & 0x1FU) << 8) | static_cast<unsigned char>(head[2]), 0U)
            << "the segment starts with the PAT";
        const std::vector<bool> keys = packet_keys(file, ts.ffmpeg_format);
        ASSERT_EQ(keys.size(), 10U);
        EXPECT_TRUE(keys.front()) << "the segment starts with a key frame";
        EXPECT_EQ(std::count(keys.begin(), keys.end(), true), 1) << "one key frame per segment";
        const check::ShellRun decode = check::shell(fmt::format("ffmpeg -v error -i {} -f null -", file.string()));
        EXPECT_TRUE(decode.ok) << decode.output;
        EXPECT_EQ(decode.output, "");
        const check::ShellRun frames = check::shell(
            fmt::format("ffprobe -v error -count_frames -show_entries stream=codec_name,nb_read_frames -of csv=p=0 {}",
                        file.string()));
        EXPECT_TRUE(frames.ok) << frames.output;
        // One stream (listed once more under its program).
        std::vector<std::string> streams;
        std::istringstream lines(frames.output);
        for (std::string line; std::getline(lines, line);) {
            if (!line.empty() && std::find(streams.begin(), streams.end(), line) == streams.end()) {
                streams.push_back(line);
            }
        }
        EXPECT_EQ(streams, (std::vector<std::string>{"h264,10"}));
    }
}

INSTANTIATE_TEST_SUITE_P(Encoders, ForceKeyUnitPipelineTest, ::testing::ValuesIn(codecs),
                         [](const ::testing::TestParamInfo<Codec>& p) {
                             return std::string(p.param.extension == std::string("obu") ? "av1enc" : "openh264enc");
                         });

} // namespace
} // namespace parallax
