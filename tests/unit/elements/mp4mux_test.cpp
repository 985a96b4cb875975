// mp4mux: the box structure of what it writes (read back with the test
// box reader), plain and fragmented, for AV1 frames pushed by hand and for
// encoder pipelines (AV1 only, Opus only, both); the moov of a fragmented
// file written again with its durations where downstream can seek; errors
// for bad inputs.

#include <parallax/check/harness.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mp4_reader.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "support/files.hpp"
#include "unit/elements/mp4_test_support.hpp"
#include "unit/elements/mux_live_test_support.hpp"
#include "unit/elements/mux_output_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax::mp4mux_test {
namespace {

using namespace std::chrono_literals;
using check::be32;
using check::Box;

constexpr std::uint64_t frame_ns = 40'000'000; // 25 fps

std::string av1_caps_text(bool with_codec_data = true) {
    av1::SequenceHeader seq;
    seq.level = 8;
    const std::vector<std::uint8_t> av1c = av1::make_av1c(seq, {});
    std::string hex;
    for (const std::uint8_t b : av1c) {
        hex += fmt::format("{:02x}", b);
    }
    std::string text = "video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu, width=(int)64, "
                       "height=(int)48, framerate=(fraction)25/1";
    if (with_codec_data) {
        text += ", codec_data=(buffer)" + hex;
    }
    return text;
}

// Frame i of a stream with a key frame every `gop` frames; its bytes tell
// its number.
Buffer frame(check::Harness& h, std::size_t i, std::size_t gop) {
    const std::vector<std::byte> bytes(10 + i % 7, std::byte{static_cast<unsigned char>(i)});
    Buffer b = h.make_buffer(bytes).value();
    b.meta().set_pts(ClockTime::from_ns(i * frame_ns));
    b.meta().set_duration(ClockTime::from_ns(frame_ns));
    if (i % gop != 0) {
        b.meta().set_flag(BufferFlags::delta);
    }
    return b;
}

std::vector<std::uint8_t> collect(check::Harness& h) {
    std::vector<std::uint8_t> out;
    while (h.buffers_out() > 0) {
        auto b = h.pull();
        const auto d = b->data();
        const auto* p = reinterpret_cast<const std::uint8_t*>(d.data());
        out.insert(out.end(), p, p + d.size());
    }
    return out;
}

std::vector<std::uint8_t> mux_frames(const std::string& props, std::size_t count, std::size_t gop) {
    auto h = check::Harness::create("mp4mux " + props).value();
    EXPECT_TRUE(h->set_input_caps(Caps::parse(av1_caps_text()).value()));
    EXPECT_TRUE(h->start());
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_EQ(h->push(frame(*h, i, gop)), Flow::ok);
    }
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    EXPECT_FALSE(h->error()) << h->error()->to_string();
    return collect(*h);
}

// What a pipeline ending in `mp4mux name=m` wrote (appended: `! appsink`).
std::vector<std::uint8_t> run_pipeline(const std::string& text) {
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : p.error().to_string());
    if (!p) {
        return {};
    }
    std::mutex mutex;
    std::vector<std::uint8_t> out;
    auto sink = (*p)->get<AppSink>("sink");
    EXPECT_TRUE(sink);
    if (!sink) {
        return {};
    }
    (*sink)->set_new_sample([&](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        const auto d = sample->buffer.data();
        const auto* b = reinterpret_cast<const std::uint8_t*>(d.data());
        std::lock_guard lock(mutex);
        out.insert(out.end(), b, b + d.size());
    });
    auto ok = (*p)->run(120s);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    std::lock_guard lock(mutex);
    return out;
}

std::vector<std::string> top_types(const std::vector<Box>& boxes) {
    std::vector<std::string> out;
    for (const Box& b : boxes) {
        out.push_back(b.type);
    }
    return out;
}

// The trak whose handler is `handler`.
const Box* trak_of(const Box& moov, const std::string& handler) {
    for (const Box* t : moov.all("trak")) {
        if (check::handler_of(*t) == handler) {
            return t;
        }
    }
    return nullptr;
}

TEST(Mp4MuxTest, HasGStreamersPadsAndProperties) {
    auto e = Registry::global().create("mp4mux");
    ASSERT_TRUE(e);
    EXPECT_NE((*e)->find_template("video_%u"), nullptr);
    EXPECT_NE((*e)->find_template("audio_%u"), nullptr);
    EXPECT_NE((*e)->pad("src"), nullptr);
    EXPECT_EQ((*e)->get_property("fragment-duration").value(), "0");
    EXPECT_EQ((*e)->get_property("faststart").value(), "false");
    EXPECT_EQ((*e)->get_property("movie-timescale").value(), "0");
    auto v = (*e)->request_pad("video_%u");
    ASSERT_TRUE(v);
    EXPECT_EQ((*v)->name(), "video_0");
    auto a = (*e)->request_pad("audio_%u");
    ASSERT_TRUE(a);
    EXPECT_EQ((*a)->name(), "audio_0"); // numbered per template, as in GStreamer
}

TEST(Mp4MuxTest, PlainFileIsFtypMoovThenMdatWithEverySample) {
    const auto file = mux_frames("", 20, 5);
    const auto boxes = check::parse_boxes(file);
    ASSERT_EQ(top_types(boxes), (std::vector<std::string>{"ftyp", "moov", "mdat"}));
    const Box* stbl = boxes[1].find("trak/mdia/minf/stbl");
    ASSERT_NE(stbl, nullptr);
    const Box* av01 = stbl->find("stsd/av01");
    ASSERT_NE(av01, nullptr);
    const auto config = check::parse_boxes(av01->payload.subspan(78));
    ASSERT_EQ(config.size(), 1U);
    EXPECT_EQ(config[0].type, "av1C");
    EXPECT_EQ(check::stsz_count(*stbl->find("stsz")), 20U);
    EXPECT_EQ(check::stss_entries(*stbl->find("stss")), (std::vector<std::uint32_t>{1, 6, 11, 16}));
    EXPECT_EQ(stbl->find("ctts"), nullptr);
    // 25 fps in 90 kHz: every frame 3600 ticks.
    const Box* stts = stbl->find("stts");
    EXPECT_EQ(be32(stts->payload, 4), 1U);
    EXPECT_EQ(be32(stts->payload, 12), 3600U);
    // The chunk offsets point into the mdat, at the first frame's bytes.
    const Box* stco = stbl->find("stco");
    ASSERT_NE(stco, nullptr);
    const std::uint32_t first = be32(stco->payload, 8);
    EXPECT_EQ(first, boxes[2].offset + 8);
    EXPECT_EQ(file.at(first), 0);
    EXPECT_EQ(boxes[2].payload.size(), [] {
        std::size_t n = 0;
        for (std::size_t i = 0; i < 20; ++i) {
            n += 10 + i % 7;
        }
        return n;
    }());
    // mvhd duration: 0.8 s in the default movie timescale 1000.
    EXPECT_EQ(be32(boxes[1].find("mvhd")->payload, 12), 1000U);
    EXPECT_EQ(be32(boxes[1].find("mvhd")->payload, 16), 800U);
}

TEST(Mp4MuxTest, MovieTimescaleIsTheProperty) {
    const auto file = mux_frames("movie-timescale=600", 5, 5);
    const auto boxes = check::parse_boxes(file);
    ASSERT_EQ(boxes.size(), 3U);
    EXPECT_EQ(be32(boxes[1].find("mvhd")->payload, 12), 600U);
    EXPECT_EQ(be32(boxes[1].find("mvhd")->payload, 16), 120U);
}

TEST(Mp4MuxTest, FragmentsStartAtKeyFramesAfterTheDuration) {
    // Key frames every 5 frames (200 ms); fragments of at least 300 ms cut
    // at frames 10 and 20.
    const auto file = mux_frames("fragment-duration=300", 25, 5);
    const auto boxes = check::parse_boxes(file);
    ASSERT_EQ(top_types(boxes),
              (std::vector<std::string>{"ftyp", "moov", "moof", "mdat", "moof", "mdat", "moof", "mdat"}));
    EXPECT_NE(boxes[1].find("mvex/trex"), nullptr);
    EXPECT_EQ(check::stsz_count(*boxes[1].find("trak/mdia/minf/stbl/stsz")), 0U);
    const std::vector<std::size_t> expected_counts = {10, 10, 5};
    std::uint64_t decode_time = 0;
    for (std::size_t f = 0; f < 3; ++f) {
        const Box& moof = boxes[2 + 2 * f];
        EXPECT_EQ(be32(moof.find("mfhd")->payload, 4), f + 1);
        const Box* trun = moof.find("traf/trun");
        ASSERT_NE(trun, nullptr);
        const auto samples = check::trun_samples(*trun);
        ASSERT_EQ(samples.size(), expected_counts[f]) << "fragment " << f;
        EXPECT_EQ(samples[0].flags & 0x00010000U, 0U) << "fragment " << f << " does not start with a key frame";
        std::size_t bytes = 0;
        for (std::size_t i = 1; i < samples.size(); ++i) {
            EXPECT_EQ(samples[i].flags & 0x00010000U, i % 5 == 0 ? 0U : 0x00010000U);
        }
        for (const auto& s : samples) {
            bytes += s.size;
            EXPECT_EQ(s.duration, 3600U);
        }
        EXPECT_EQ(check::be64(moof.find("traf/tfdt")->payload, 4), decode_time);
        decode_time += 3600 * samples.size();
        // The data offset points at the mdat's payload, which holds the run.
        EXPECT_EQ(be32(trun->payload, 8), moof.payload.size() + 8 + 8);
        EXPECT_EQ(boxes[3 + 2 * f].payload.size(), bytes);
    }
}

// H.264 with B-frames: decode order I P B B P B B, shown one frame after
// its decode time at the earliest.
TEST(Mp4MuxTest, H264WithReorderedFramesGetsAvccCttsAndAnEdit) {
    auto h = check::Harness::create("mp4mux").value();
    ASSERT_TRUE(h->set_input_caps(Caps::parse("video/x-h264, stream-format=(string)avc, alignment=(string)au, "
                                              "width=(int)64, height=(int)48, framerate=(fraction)25/1, "
                                              "codec_data=(buffer)0164001fffe100046764001f01000268ee")
                                      .value()));
    ASSERT_TRUE(h->start());
    const std::array<std::uint64_t, 7> shown = {1, 4, 2, 3, 7, 5, 6};
    for (std::size_t i = 0; i < shown.size(); ++i) {
        Buffer b = frame(*h, i, shown.size());
        b.meta().set_dts(ClockTime::from_ns(i * frame_ns));
        b.meta().set_pts(ClockTime::from_ns(shown[i] * frame_ns));
        EXPECT_EQ(h->push(std::move(b)), Flow::ok);
    }
    h->push_event(Event::eos());
    ASSERT_TRUE(h->wait_eos());
    ASSERT_FALSE(h->error()) << h->error()->to_string();
    const auto file = collect(*h);
    const auto boxes = check::parse_boxes(file);
    ASSERT_EQ(top_types(boxes), (std::vector<std::string>{"ftyp", "moov", "mdat"}));
    const Box* trak = boxes[1].find("trak");
    ASSERT_NE(trak, nullptr);
    const Box* avc1 = trak->find("mdia/minf/stbl/stsd/avc1");
    ASSERT_NE(avc1, nullptr);
    const auto config = check::parse_boxes(avc1->payload.subspan(78));
    ASSERT_EQ(config.size(), 1U);
    EXPECT_EQ(config[0].type, "avcC");
    EXPECT_EQ(config[0].payload.size(), 17U);
    EXPECT_EQ(check::stss_entries(*trak->find("mdia/minf/stbl/stss")), (std::vector<std::uint32_t>{1}));
    // ctts: offsets of 1, 3, 0, 0, 3, 0, 0 frames of 3600 ticks, in runs.
    const Box* ctts = trak->find("mdia/minf/stbl/ctts");
    ASSERT_NE(ctts, nullptr);
    std::vector<std::uint32_t> offsets;
    for (std::uint32_t r = 0; r < be32(ctts->payload, 4); ++r) {
        for (std::uint32_t n = 0; n < be32(ctts->payload, 8 + 8 * std::size_t{r}); ++n) {
            offsets.push_back(be32(ctts->payload, 12 + 8 * std::size_t{r}));
        }
    }
    EXPECT_EQ(offsets, (std::vector<std::uint32_t>{3600, 10800, 0, 0, 10800, 0, 0}));
    // The edit shows from the first presentation time, one frame in.
    const Box* elst = trak->find("edts/elst");
    ASSERT_NE(elst, nullptr);
    EXPECT_EQ(be32(elst->payload, 4), 1U);
    EXPECT_EQ(be32(elst->payload, 8), 280U); // 7 frames, in ms
    EXPECT_EQ(be32(elst->payload, 12), 3600U);
}

// Past 64 MiB of samples a plain file's samples wait in a temporary file;
// what comes out is the same.
TEST(Mp4MuxTest, SamplesBeyondTheMemoryLimitComeBackIntact) {
    constexpr std::size_t count = 66;
    constexpr std::size_t size = std::size_t{1} << 20;
    auto h = check::Harness::create("mp4mux").value();
    ASSERT_TRUE(h->set_input_caps(Caps::parse(av1_caps_text()).value()));
    ASSERT_TRUE(h->start());
    for (std::size_t i = 0; i < count; ++i) {
        auto b = h->make_buffer(size, static_cast<std::uint8_t>(i + 1));
        ASSERT_TRUE(b);
        b->meta().set_pts(ClockTime::from_ns(i * frame_ns));
        b->meta().set_duration(ClockTime::from_ns(frame_ns));
        ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
        // Take what comes out as it comes, so that the harness holds little.
        while (h->buffers_out() > 0) {
            static_cast<void>(h->pull());
        }
    }
    h->push_event(Event::eos());
    std::vector<std::uint8_t> head;
    std::uint64_t total = 0;
    std::vector<std::uint8_t> seen; // the fill byte at the start of every MiB of mdat payload
    while (!h->eos() || h->buffers_out() > 0) {
        auto b = h->pull();
        ASSERT_TRUE(b);
        const auto d = b->data();
        const auto* p = reinterpret_cast<const std::uint8_t*>(d.data());
        if (head.empty()) {
            head.assign(p, p + d.size());
            total = d.size();
            continue;
        }
        ASSERT_EQ(d.size() % size, 0U);
        for (std::size_t at = 0; at < d.size(); at += size) {
            seen.push_back(p[at]);
            EXPECT_EQ(p[at + size - 1], p[at]);
        }
        total += d.size();
    }
    ASSERT_FALSE(h->error()) << h->error()->to_string();
    const auto boxes = check::parse_boxes(std::span(head).first(head.size() - 8));
    ASSERT_EQ(top_types(boxes), (std::vector<std::string>{"ftyp", "moov"}));
    EXPECT_EQ(be32(head, head.size() - 8), count * size + 8);
    EXPECT_EQ(total, head.size() + count * size);
    ASSERT_EQ(seen.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_EQ(seen[i], i + 1);
    }
}

TEST(Mp4MuxTest, ABufferBeforeCapsIsAnErrorNamingThePad) {
    auto h = check::Harness::create("mp4mux").value();
    ASSERT_TRUE(h->start());
    EXPECT_EQ(h->push(frame(*h, 0, 1)), Flow::error);
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("video_0"), std::string::npos) << h->error()->message();
    EXPECT_NE(h->error()->message().find("before its caps"), std::string::npos) << h->error()->message();
}

TEST(Mp4MuxTest, CapsWithoutCodecDataAreAnError) {
    auto h = check::Harness::create("mp4mux").value();
    static_cast<void>(h->set_input_caps(Caps::parse(av1_caps_text(false)).value()));
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("video_0"), std::string::npos) << h->error()->message();
    EXPECT_NE(h->error()->message().find("codec_data"), std::string::npos) << h->error()->message();
}

TEST(Mp4MuxTest, UnsupportedCapsAreAnError) {
    auto h = check::Harness::create("mp4mux").value();
    static_cast<void>(h->set_input_caps(Caps::parse("video/x-vp9, width=(int)64, height=(int)48").value()));
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("video_0"), std::string::npos) << h->error()->message();
    EXPECT_NE(h->error()->message().find("not supported"), std::string::npos) << h->error()->message();
}

TEST(Mp4MuxTest, APadRequestedAfterDataStartedIsAnError) {
    auto h = check::Harness::create("mp4mux").value();
    ASSERT_TRUE(h->set_input_caps(Caps::parse(av1_caps_text()).value()));
    ASSERT_TRUE(h->start());
    EXPECT_EQ(h->push(frame(*h, 0, 1)), Flow::ok);
    static_cast<void>(h->element().request_pad("audio_%u"));
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("audio_0"), std::string::npos) << h->error()->message();
    EXPECT_NE(h->error()->message().find("after data started"), std::string::npos) << h->error()->message();
}

constexpr const char* av1_branch = "videotestsrc num-buffers=20 ! video/x-raw,format=I420,width=64,height=48,"
                                   "framerate=25/1 ! av1enc keyframe-max-dist=5 cpu-used=9 ! m.";
constexpr const char* opus_branch = "audiotestsrc num-buffers=40 samplesperbuffer=960 ! audio/x-raw,rate=48000,"
                                    "channels=2 ! opusenc ! m.";

bool have_encoders() {
    return Registry::global().find("av1enc") != nullptr && Registry::global().find("opusenc") != nullptr;
}

TEST(Mp4MuxTest, OpusOnlyFileHasDopsAndAPreSkipEdit) {
    ASSERT_TRUE(have_encoders()) << "an encoder or decoder this test uses is not registered";
    const auto file = run_pipeline(std::string("mp4mux name=m ! appsink name=sink sync=false  ") + opus_branch);
    const auto boxes = check::parse_boxes(file);
    ASSERT_EQ(top_types(boxes), (std::vector<std::string>{"ftyp", "moov", "mdat"}));
    const Box* trak = trak_of(boxes[1], "soun");
    ASSERT_NE(trak, nullptr);
    const Box* dops = trak->find("mdia/minf/stbl/stsd/Opus");
    ASSERT_NE(dops, nullptr);
    const auto entry = check::parse_boxes(dops->payload.subspan(28), 0);
    ASSERT_EQ(entry.size(), 1U);
    EXPECT_EQ(entry[0].type, "dOps");
    const std::uint16_t pre_skip = static_cast<std::uint16_t>(entry[0].payload[2] << 8 | entry[0].payload[3]);
    EXPECT_GT(pre_skip, 0);
    // 40 packets of 960 samples kept and pre_skip more: 41 packets.
    EXPECT_EQ(check::stsz_count(*trak->find("mdia/minf/stbl/stsz")), 41U);
    EXPECT_EQ(trak->find("mdia/minf/stbl/stss"), nullptr);
    // The edit starts at the pre-skip and lasts the kept 0.8 s.
    const Box* elst = trak->find("edts/elst");
    ASSERT_NE(elst, nullptr);
    EXPECT_EQ(be32(elst->payload, 4), 1U);
    EXPECT_EQ(be32(elst->payload, 8), 800U);
    EXPECT_EQ(be32(elst->payload, 12), pre_skip);
    EXPECT_EQ(be32(trak->find("mdia/mdhd")->payload, 12), 48000U);
    EXPECT_EQ(be32(trak->find("mdia/mdhd")->payload, 16), 41U * 960U);
}

TEST(Mp4MuxTest, Av1OnlyPipelineHasKeyFramesInStss) {
    ASSERT_TRUE(have_encoders()) << "an encoder or decoder this test uses is not registered";
    const auto file = run_pipeline(std::string("mp4mux name=m ! appsink name=sink sync=false  ") + av1_branch);
    const auto boxes = check::parse_boxes(file);
    ASSERT_EQ(top_types(boxes), (std::vector<std::string>{"ftyp", "moov", "mdat"}));
    const Box* trak = trak_of(boxes[1], "vide");
    ASSERT_NE(trak, nullptr);
    EXPECT_EQ(check::stsz_count(*trak->find("mdia/minf/stbl/stsz")), 20U);
    const Box* stss = trak->find("mdia/minf/stbl/stss");
    ASSERT_NE(stss, nullptr);
    const auto keys = check::stss_entries(*stss);
    ASSERT_FALSE(keys.empty());
    EXPECT_EQ(keys[0], 1U);
    EXPECT_LT(keys.size(), 20U);
}

TEST(Mp4MuxTest, Av1AndOpusPlainFileHasTwoTracksInterleaved) {
    ASSERT_TRUE(have_encoders()) << "an encoder or decoder this test uses is not registered";
    const auto file =
        run_pipeline(std::string("mp4mux name=m ! appsink name=sink sync=false  ") + av1_branch + "  " + opus_branch);
    const auto boxes = check::parse_boxes(file);
    ASSERT_EQ(top_types(boxes), (std::vector<std::string>{"ftyp", "moov", "mdat"}));
    ASSERT_EQ(boxes[1].all("trak").size(), 2U);
    const Box* video = trak_of(boxes[1], "vide");
    const Box* audio = trak_of(boxes[1], "soun");
    ASSERT_NE(video, nullptr);
    ASSERT_NE(audio, nullptr);
    EXPECT_EQ(check::stsz_count(*video->find("mdia/minf/stbl/stsz")), 20U);
    EXPECT_EQ(check::stsz_count(*audio->find("mdia/minf/stbl/stsz")), 41U);
    // 0.8 s of each in runs of at most 0.5 s, the earliest first: video
    // [0, 0.5 s), audio [0, 0.5 s) and, still earlier than the next video
    // frame, audio [0.5 s, 0.8 s) in the same chunk, then the rest of the
    // video.
    const Box* vstco = video->find("mdia/minf/stbl/stco");
    const Box* astco = audio->find("mdia/minf/stbl/stco");
    ASSERT_NE(vstco, nullptr);
    ASSERT_NE(astco, nullptr);
    ASSERT_EQ(be32(vstco->payload, 4), 2U);
    ASSERT_EQ(be32(astco->payload, 4), 1U);
    EXPECT_EQ(be32(vstco->payload, 8), boxes[2].offset + 8);
    EXPECT_GT(be32(astco->payload, 8), be32(vstco->payload, 8));
    EXPECT_LT(be32(astco->payload, 8), be32(vstco->payload, 12));
}

TEST(Mp4MuxTest, Av1AndOpusFragmentsStartWithVideoKeyFrames) {
    ASSERT_TRUE(have_encoders()) << "an encoder or decoder this test uses is not registered";
    const auto file = run_pipeline(std::string("mp4mux name=m fragment-duration=300 ! appsink name=sink "
                                               "sync=false  ") +
                                   av1_branch + "  " + opus_branch);
    const auto boxes = check::parse_boxes(file);
    ASSERT_GE(boxes.size(), 4U);
    EXPECT_EQ(boxes[0].type, "ftyp");
    EXPECT_EQ(boxes[1].type, "moov");
    ASSERT_EQ(boxes[1].all("trak").size(), 2U);
    std::uint32_t video_id = 0;
    for (const Box* t : boxes[1].all("trak")) {
        if (check::handler_of(*t) == "vide") {
            video_id = be32(t->find("tkhd")->payload, 12);
        }
    }
    std::size_t video_samples = 0;
    std::size_t audio_samples = 0;
    std::size_t fragments = 0;
    for (std::size_t i = 2; i < boxes.size(); i += 2) {
        ASSERT_EQ(boxes[i].type, "moof");
        ASSERT_LT(i + 1, boxes.size());
        ASSERT_EQ(boxes[i + 1].type, "mdat");
        ++fragments;
        for (const Box* traf : boxes[i].all("traf")) {
            const auto samples = check::trun_samples(*traf->find("trun"));
            if (be32(traf->find("tfhd")->payload, 4) == video_id) {
                ASSERT_FALSE(samples.empty());
                EXPECT_EQ(samples[0].flags & 0x00010000U, 0U) << "fragment " << fragments;
                video_samples += samples.size();
            } else {
                audio_samples += samples.size();
            }
        }
    }
    EXPECT_GE(fragments, 2U);
    EXPECT_EQ(video_samples, 20U);
    EXPECT_EQ(audio_samples, 41U);
}

// 1.013 s of mono Opus at 48 kHz, 48624 samples: not a whole number of
// 20 ms packets, so the last one carries end trimming.
constexpr std::uint64_t trimmed_samples = 48 * 1013;
constexpr const char* trimmed_opus_branch = "audiotestsrc num-buffers=48 samplesperbuffer=1013 ! "
                                            "audio/x-raw,rate=48000,channels=1 ! opusenc ! m.";

// The same fragmented Opus stream into a file (filesink: it can seek) and
// into a pipe (fdsink: it cannot). Into the pipe the moov stays as first
// written: mehd 0, the edit "to the end". Into the file it comes again over
// the first with the durations; same size, so every byte after it is the
// pipe's, and the project's own reader and qtdemux read it.
TEST(Mp4MuxTest, FragmentedOpusGetsItsDurationsWrittenBackWhereDownstreamCanSeek) {
    ASSERT_TRUE(have_encoders()) << "an encoder or decoder this test uses is not registered";
    const auto dir = std::filesystem::temp_directory_path();
    const auto path = dir / fmt::format("plx-mp4mux-trim-{}.mp4", ::getpid());
    EXPECT_EQ(test::run_counting_warnings(fmt::format("mp4mux name=m fragment-duration=300 ! filesink location={}  {}",
                                                      path.string(), trimmed_opus_branch)),
              0);
    const std::vector<std::uint8_t> file = check::read_file<std::uint8_t>(path);
    test::PipeReader pipe;
    EXPECT_EQ(test::run_counting_warnings(fmt::format("mp4mux name=m fragment-duration=300 ! fdsink fd={}  {}",
                                                      pipe.write_fd(), trimmed_opus_branch)),
              0);
    const std::vector<std::uint8_t> piped = pipe.finish();

    const auto boxes = check::parse_boxes(file);
    const auto piped_boxes = check::parse_boxes(piped);
    ASSERT_GE(boxes.size(), 4U);
    ASSERT_GE(piped_boxes.size(), 4U);
    ASSERT_EQ(boxes[1].type, "moov");
    ASSERT_EQ(piped_boxes[1].type, "moov");
    // The header written again must take exactly the room of the first.
    ASSERT_EQ(boxes[1].payload.size(), piped_boxes[1].payload.size())
        << "the moov written at the end differs in size from the first";
    ASSERT_EQ(file.size(), piped.size());
    const std::size_t header = boxes[2].offset;
    EXPECT_TRUE(std::equal(file.begin() + static_cast<std::ptrdiff_t>(header), file.end(),
                           piped.begin() + static_cast<std::ptrdiff_t>(header)))
        << "the fragments differ";

    // mehd: version 1, the movie's duration (0 into the pipe).
    const Box* mehd = boxes[1].find("mvex/mehd");
    ASSERT_NE(mehd, nullptr);
    EXPECT_EQ(mehd->payload[0], 1);
    EXPECT_EQ(check::be64(mehd->payload, 4), 1013U);
    EXPECT_EQ(check::be64(piped_boxes[1].find("mvex/mehd")->payload, 4), 0U);

    // The edit: from the pre-skip, 1013 ms (0 into the pipe: "to the end").
    const auto read = [](const Box& moov) {
        const std::size_t size = moov.header + moov.payload.size();
        return mp4::read_moov(std::span(moov.payload.data() - moov.header, size), moov.offset);
    };
    auto movie = read(boxes[1]);
    auto piped_movie = read(piped_boxes[1]);
    ASSERT_TRUE(movie) << movie.error().to_string();
    ASSERT_TRUE(piped_movie) << piped_movie.error().to_string();
    ASSERT_EQ(movie->tracks.size(), 1U);
    const mp4::TrackInfo& track = movie->tracks[0];
    ASSERT_EQ(track.edits.size(), 1U);
    ASSERT_EQ(piped_movie->tracks.at(0).edits.size(), 1U);
    EXPECT_EQ(track.edits[0].segment_duration, 1013U);
    EXPECT_EQ(piped_movie->tracks[0].edits[0].segment_duration, 0U);
    const auto head = opus::parse_head(track.config);
    ASSERT_TRUE(head);
    EXPECT_EQ(track.edits[0].media_time, head->pre_skip);
    EXPECT_EQ(piped_movie->tracks[0].edits[0].media_time, head->pre_skip);
    EXPECT_EQ(movie->duration, 1013U);

    // qtdemux reads the rewritten file, and opusdec gives exactly the
    // samples that went in.
    std::atomic<std::uint64_t> samples{0};
    auto demux = Pipeline::parse(
        fmt::format("filesrc location={} ! qtdemux ! opusdec ! appsink name=sink sync=false", path.string()));
    ASSERT_TRUE(demux) << demux.error().to_string();
    (*(*demux)->get<AppSink>("sink"))->set_new_sample([&samples](AppSink& s) {
        if (auto sample = s.pull_sample()) {
            samples += sample->buffer.size() / 2; // S16LE mono
        }
    });
    auto ok = (*demux)->run(120s);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    EXPECT_EQ(samples.load(), trimmed_samples);
    std::filesystem::remove(path);
}

TEST(Mp4MuxTest, RefusesALatencyBeyondAnHourNamingTheProperty) {
    auto e = Registry::global().create("mp4mux");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("latency").value(), "0");
    for (const char* bad : {"3600000000001", "-1", "soon"}) {
        auto r = (*e)->set_property("latency", bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("latency"), std::string::npos) << r.error().to_string();
    }
    EXPECT_TRUE((*e)->set_property("latency", "3600000000000"));
}

// The audio fragments of one live track in a fragmented file, by track id.
struct TrackRuns {
    std::vector<std::uint64_t> decode_times; // tfdt of each run
    std::vector<std::size_t> counts;         // samples of each run
    std::size_t samples = 0;
};

std::map<std::uint32_t, TrackRuns> runs_by_track(const std::vector<Box>& boxes) {
    std::map<std::uint32_t, TrackRuns> out;
    for (const Box& moof : boxes) {
        if (moof.type != "moof") {
            continue;
        }
        for (const Box* traf : moof.all("traf")) {
            TrackRuns& t = out[be32(traf->find("tfhd")->payload, 4)];
            t.decode_times.push_back(check::be64(traf->find("tfdt")->payload, 4));
            t.counts.push_back(check::trun_samples(*traf->find("trun")).size());
            t.samples += t.counts.back();
        }
    }
    return out;
}

// Two live Opus tracks, fragments of 100 ms: "a" sends 400 ms while "b" is
// silent, so only the latency wait for b lets fragments out. Then b
// resumes at 1 s and both end: b's samples are in later fragments at their
// own decode time, a's run on without a gap, and ffprobe reads the file.
TEST(Mp4MuxTest, FragmentsAreCutWithoutATrackThatStarvesInALivePipeline) {
    auto r = test::running_opus_pair("mp4mux name=m fragment-duration=100 latency=300000000", "m.audio_%u");
    ASSERT_TRUE(r);
    test::push_opus(*r->srcs[0], 0, 0, 20);
    EXPECT_TRUE(test::wait_for_output([&] {
        const auto out = r->output();
        const auto boxes = check::parse_boxes(out);
        return std::any_of(boxes.begin(), boxes.end(), [](const Box& b) { return b.type == "moof"; });
    })) << "track a waited for the silent track b";
    {
        const auto early = r->output();
        const auto runs = runs_by_track(check::parse_boxes(early));
        EXPECT_EQ(runs.count(2), 0U) << "the silent track has samples";
    }

    test::push_opus(*r->srcs[1], 1'000'000'000, 0, 10);
    test::push_opus(*r->srcs[0], 400'000'000, 20, 20);
    test::end_live_run(*r);

    const std::vector<std::uint8_t> file = r->output();
    const auto boxes = check::parse_boxes(file);
    ASSERT_GE(boxes.size(), 4U);
    EXPECT_EQ(boxes[0].type, "ftyp");
    EXPECT_EQ(boxes[1].type, "moov");
    for (std::size_t i = 2; i < boxes.size(); ++i) {
        EXPECT_EQ(boxes[i].type, i % 2 == 0 ? "moof" : "mdat") << "box " << i;
    }
    auto runs = runs_by_track(boxes);
    ASSERT_EQ(runs.size(), 2U);
    EXPECT_EQ(runs[1].samples, 40U);
    EXPECT_EQ(runs[2].samples, 10U);
    std::uint64_t next = 0;
    for (std::size_t i = 0; i < runs[1].decode_times.size(); ++i) {
        EXPECT_EQ(runs[1].decode_times[i], next) << "run " << i << " of track a";
        next += 960 * runs[1].counts[i];
    }
    // b's first packet is 1 s after the movie's start (a's first packet).
    ASSERT_FALSE(runs[2].decode_times.empty());
    EXPECT_EQ(runs[2].decode_times[0], 48000U);

    const auto probe = test::probe_packets(file, "live.mp4");
    if (!probe) {
        GTEST_SKIP() << "ffprobe is not installed: no outside reader to check the file against";
    }
    EXPECT_EQ(*probe, "opus,40\nopus,10\n");
}

// A live AV1 track that is silent while Opus goes on: the duration alone
// cuts the fragments after the latency wait. The video that comes later
// (from 1 s) goes into later fragments at its own decode time, starting
// with a key frame.
TEST(Mp4MuxTest, ASilentLiveVideoTrackLetsTheDurationCutTheFragments) {
    auto r =
        test::live_run("mp4mux name=m fragment-duration=100 latency=300000000 ! appsink name=sink sync=false "
                       "appsrc name=v format=time ! m.video_%u appsrc name=a format=time ! m.audio_%u",
                       {{"v", Caps::parse(av1_caps_text()).value()}, {"a", opus::caps_for(test::live_opus_header())}});
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->pipeline->set_state(State::running));
    AppSrc& video = *r->srcs[0];
    AppSrc& audio = *r->srcs[1];
    test::push_opus(audio, 0, 0, 20);
    EXPECT_TRUE(test::wait_for_output([&] {
        const auto out = r->output();
        const auto boxes = check::parse_boxes(out);
        return std::any_of(boxes.begin(), boxes.end(), [](const Box& b) { return b.type == "moof"; });
    })) << "the audio waited for the silent video";

    for (std::size_t i = 0; i < 10; ++i) {
        const std::vector<std::uint8_t> bytes(10 + i % 7, static_cast<std::uint8_t>(i));
        auto b = video.allocate(bytes.size()).value();
        auto w = b.map_writable().value();
        std::memcpy(w.data(), bytes.data(), bytes.size());
        b.meta().set_pts(ClockTime::from_ns(1'000'000'000 + i * frame_ns));
        b.meta().set_duration(ClockTime::from_ns(frame_ns));
        if (i % 5 != 0) {
            b.meta().set_flag(BufferFlags::delta);
        }
        ASSERT_TRUE(video.push_buffer(std::move(b)));
    }
    test::push_opus(audio, 400'000'000, 20, 20);
    test::end_live_run(*r);

    const std::vector<std::uint8_t> file = r->output();
    const auto boxes = check::parse_boxes(file);
    ASSERT_GE(boxes.size(), 4U);
    const Box* vtrak = trak_of(boxes[1], "vide");
    ASSERT_NE(vtrak, nullptr);
    const std::uint32_t video_id = be32(vtrak->find("tkhd")->payload, 12);
    const std::uint32_t timescale = be32(vtrak->find("mdia/mdhd")->payload, 12);
    auto runs = runs_by_track(boxes);
    ASSERT_EQ(runs.size(), 2U);
    EXPECT_EQ(runs[video_id].samples, 10U);
    EXPECT_EQ(runs[video_id == 1 ? 2 : 1].samples, 40U);
    ASSERT_FALSE(runs[video_id].decode_times.empty());
    EXPECT_EQ(runs[video_id].decode_times[0], timescale); // 1 s after the movie's start
    for (const Box& moof : boxes) {
        for (const Box* traf : moof.all("traf")) {
            if (be32(traf->find("tfhd")->payload, 4) == video_id) {
                EXPECT_EQ(check::trun_samples(*traf->find("trun"))[0].flags & 0x00010000U, 0U)
                    << "a video run that does not start with a key frame";
            }
        }
    }

    const auto probe = test::probe_packets(file, "video.mp4");
    if (!probe) {
        GTEST_SKIP() << "ffprobe is not installed: no outside reader to check the file against";
    }
    EXPECT_NE(probe->find("opus,40"), std::string::npos) << *probe;
    EXPECT_NE(probe->find(",10"), std::string::npos) << *probe;
}

} // namespace
} // namespace parallax::mp4mux_test
