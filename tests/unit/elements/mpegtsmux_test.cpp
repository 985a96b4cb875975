// mpegtsmux: the transport stream it writes, read back packet by packet with
// the functions of parallax/container/mpegts.hpp. Timeouts only guard
// against hangs.

#include <parallax/check/harness.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/klv/uas_local_set.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "unit/elements/mpegts_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parallax::mpegtsmux_test {
namespace {

using namespace std::chrono_literals;

constexpr auto hang_guard = 60s;

struct Output {
    std::mutex mutex;
    std::vector<std::uint8_t> bytes;
    std::vector<std::size_t> buffer_sizes;
    std::atomic<std::size_t> buffers{0};
};

// Collects what appsink "sink" of `p` receives.
void collect(Pipeline& p, Output& out) {
    auto sink = p.get<AppSink>("sink");
    ASSERT_TRUE(sink);
    (*sink)->set_new_sample([&out](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        const auto d = sample->buffer.data();
        const auto* b = reinterpret_cast<const std::uint8_t*>(d.data());
        std::lock_guard lock(out.mutex);
        out.bytes.insert(out.bytes.end(), b, b + d.size());
        out.buffer_sizes.push_back(d.size());
        ++out.buffers;
    });
}

std::vector<std::uint8_t> run(const std::string& text, std::vector<std::size_t>* sizes = nullptr) {
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << (p ? "" : p.error().to_string());
    if (!p) {
        return {};
    }
    Output out;
    collect(**p, out);
    auto ok = (*p)->run(hang_guard);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    std::lock_guard lock(out.mutex);
    if (sizes != nullptr) {
        *sizes = out.buffer_sizes;
    }
    return out.bytes;
}

constexpr const char* h264_branch = "videotestsrc num-buffers=30 ! video/x-raw,format=I420,width=160,height=120,"
                                    "framerate=25/1 ! openh264enc gop-size=10 ! h264parse ! m.";
constexpr const char* opus_branch = "audiotestsrc num-buffers=25 samplesperbuffer=1920 ! audio/x-raw,rate=48000,"
                                    "channels=2 ! opusenc ! m.";

std::string registration(const mpegts::PmtStream& s) {
    return mpegts::find_registration(s.descriptors);
}

TEST(MpegTsMuxTest, HasGStreamersPadsAndProperties) {
    auto e = Registry::global().create("mpegtsmux");
    ASSERT_TRUE(e) << e.error().to_string();
    ASSERT_NE((*e)->find_template("sink_%d"), nullptr);
    ASSERT_NE((*e)->find_template("src"), nullptr);
    EXPECT_EQ(*(*e)->get_property("alignment"), "-1");
    EXPECT_EQ(*(*e)->get_property("pat-interval"), "9000");
    EXPECT_EQ(*(*e)->get_property("pmt-interval"), "9000");
    EXPECT_EQ(*(*e)->get_property("pcr-interval"), "3600");
    EXPECT_FALSE((*e)->set_property("alignment", "-2"));
}

TEST(MpegTsMuxTest, H264AndOpusMakeAValidProgram) {
    // A wide window: nothing leaves before its time, whatever the threads do.
    const auto bytes = run(std::string("mpegtsmux name=m max-delay=10000000000 ! appsink name=sink ") + h264_branch +
                           " " + opus_branch);
    const auto ts = check::read_ts(bytes);
    EXPECT_EQ(ts.cc_gaps, 0U);
    ASSERT_FALSE(ts.pats.empty());
    ASSERT_FALSE(ts.pmts.empty());
    EXPECT_EQ(ts.pats.front().programs.size(), 1U);
    // One PMT version: both streams were known before the first one.
    for (const auto& pmt : ts.pmts) {
        EXPECT_EQ(pmt.version, 0);
        ASSERT_EQ(pmt.streams.size(), 2U);
    }
    const auto& pmt = ts.pmts.front();
    const mpegts::PmtStream* video = nullptr;
    const mpegts::PmtStream* audio = nullptr;
    for (const auto& s : pmt.streams) {
        (s.stream_type == mpegts::stream_type::h264 ? video : audio) = &s;
    }
    ASSERT_NE(video, nullptr);
    ASSERT_NE(audio, nullptr);
    EXPECT_EQ(pmt.pcr_pid, video->pid);
    EXPECT_EQ(audio->stream_type, mpegts::stream_type::private_pes);
    EXPECT_EQ(registration(*audio), "Opus");
    std::optional<std::uint8_t> code;
    for (const auto& d : audio->descriptors) {
        if (auto c = mpegts::opus_channel_config(d); c && *c) {
            code = **c;
        }
    }
    EXPECT_EQ(code, std::uint8_t{2});

    const auto& vpes = ts.pes.at(video->pid);
    ASSERT_EQ(vpes.size(), 30U);
    for (std::size_t i = 0; i < vpes.size(); ++i) {
        EXPECT_EQ(vpes[i].stream_id, mpegts::stream_id::video_0);
        ASSERT_TRUE(vpes[i].pts);
        auto nals = h264::split_annex_b(vpes[i].payload);
        ASSERT_TRUE(nals) << nals.error().to_string();
        ASSERT_FALSE(nals->empty());
        EXPECT_EQ(nals->front().type, h264::NalType::aud) << "PES " << i << " does not start with an AUD";
        const bool idr = h264::is_idr(*nals);
        EXPECT_EQ(vpes[i].random_access, idr) << "PES " << i;
        EXPECT_EQ(idr, i % 10 == 0) << "PES " << i;
        EXPECT_TRUE(vpes[i].has_pcr) << "the PCR rides on every video PES";
        if (i > 0) {
            EXPECT_EQ(*vpes[i].pts - *vpes[i - 1].pts, 3600U) << "25 fps is 3600 ticks a frame";
        }
    }

    // Opus: 1 s of audio is 50 packets of 20 ms and one more for pre-skip.
    const auto& apes = ts.pes.at(audio->pid);
    ASSERT_EQ(apes.size(), 51U);
    std::uint32_t start_trim = 0;
    std::uint32_t end_trim = 0;
    std::uint32_t samples = 0;
    for (const auto& p : apes) {
        EXPECT_EQ(p.stream_id, mpegts::stream_id::private_stream_1);
        auto h = mpegts::parse_opus_control_header(p.payload);
        ASSERT_TRUE(h) << h.error().to_string();
        ASSERT_EQ(h->header_size + h->au_size, p.payload.size());
        auto n = opus::packet_samples(std::span(p.payload).subspan(h->header_size));
        ASSERT_TRUE(n);
        samples += *n;
        start_trim += h->start_trim;
        end_trim += h->end_trim;
    }
    EXPECT_EQ(start_trim, 312U) << "libopus's pre-skip travels as the first packet's start trim";
    EXPECT_EQ(samples - start_trim - end_trim, 48000U) << "exactly the 1 s of input remains";
    // The first sample decoded is the first in time: it sits at the 0.7 s
    // offset, and the first sample kept plays with the first video frame.
    EXPECT_EQ(*apes.front().pts, 63000U);
    EXPECT_EQ(*apes.front().pts + 312 * 90000 / 48000, *vpes.front().pts);

    // Interleaved: PES packets leave in decode order.
    std::vector<std::pair<std::size_t, std::uint64_t>> order;
    for (const auto& [pid, list] : ts.pes) {
        for (const auto& p : list) {
            order.emplace_back(p.first_packet, p.dts.value_or(*p.pts));
        }
    }
    std::sort(order.begin(), order.end());
    for (std::size_t i = 1; i < order.size(); ++i) {
        EXPECT_LE(order[i - 1].second, order[i].second) << "out of decode order";
    }
    // PAT and PMT repeat every 100 ms (and the file is 1.2 s long).
    EXPECT_GE(ts.pats.size(), 10U);
    EXPECT_EQ(ts.pats.size(), ts.pmts.size());
    // PCRs never go backwards; they come with every frame (40 ms).
    for (std::size_t i = 1; i < ts.pcrs.size(); ++i) {
        EXPECT_GE(ts.pcrs[i].second, ts.pcrs[i - 1].second);
        EXPECT_LE(ts.pcrs[i].second - ts.pcrs[i - 1].second, 3600U * 300);
    }
}

TEST(MpegTsMuxTest, Av1GetsItsRegistrationDescriptorAndStartCodes) {
    auto p = Pipeline::parse("videotestsrc num-buffers=10 ! video/x-raw,format=I420,width=64,height=48,framerate=25/1 "
                             "! av1enc cpu-used=9 keyframe-max-dist=5 ! tee name=t t. ! queue ! mpegtsmux ! appsink "
                             "name=sink t. ! queue ! appsink name=raw");
    ASSERT_TRUE(p) << p.error().to_string();
    Output out;
    collect(**p, out);
    std::mutex raw_mutex;
    std::vector<std::vector<std::uint8_t>> tus;
    Caps raw_caps;
    auto raw = (*p)->get<AppSink>("raw");
    ASSERT_TRUE(raw);
    (*raw)->set_new_sample([&](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        const auto d = sample->buffer.data();
        const auto* b = reinterpret_cast<const std::uint8_t*>(d.data());
        std::lock_guard lock(raw_mutex);
        tus.emplace_back(b, b + d.size());
        raw_caps = sample->caps;
    });
    auto ok = (*p)->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    const auto ts = check::read_ts(out.bytes);
    ASSERT_FALSE(ts.pmts.empty());
    ASSERT_EQ(ts.pmts.front().streams.size(), 1U);
    const auto& s = ts.pmts.front().streams.front();
    EXPECT_EQ(s.stream_type, mpegts::stream_type::private_pes);
    ASSERT_GE(s.descriptors.size(), 2U);
    EXPECT_EQ(registration(s), "AV01");
    EXPECT_EQ(s.descriptors[0].tag, mpegts::descriptor_tag::registration) << "the registration comes first";
    auto av1c = mpegts::av1c_from_descriptor(s.descriptors[1]);
    ASSERT_TRUE(av1c) << av1c.error().to_string();
    const Bytes* record = raw_caps.structure(0).get("codec_data")->get_if<Bytes>();
    ASSERT_NE(record, nullptr);
    EXPECT_TRUE(std::equal(av1c->begin(), av1c->end(), record->data.begin()));

    const auto& pes = ts.pes.at(s.pid);
    std::lock_guard lock(raw_mutex);
    ASSERT_EQ(pes.size(), tus.size());
    for (std::size_t i = 0; i < pes.size(); ++i) {
        auto back = mpegts::av1_from_start_code(pes[i].payload);
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(*back, tus[i]) << "temporal unit " << i << " does not come back from the start-code format";
        EXPECT_EQ(pes[i].random_access, i % 5 == 0) << "PES " << i;
    }
}

std::vector<std::uint8_t> klv_packet(int i) {
    klv::UasLocalSet set;
    EXPECT_TRUE(set.set_integer(klv::Tag::precision_time_stamp, 1'700'000'000'000'000ULL + i * 40'000ULL));
    EXPECT_TRUE(set.set_platform_heading(i * 3.0));
    EXPECT_TRUE(set.set_platform_pitch(-10.0 + i));
    EXPECT_TRUE(set.set_mission_id("MPEGTS"));
    return set.encode().value();
}

// A pipeline that writes into appsink "sink" and has an appsrc named
// `app_name`, which the test feeds (AppRun::app).
struct AppRun {
    std::unique_ptr<Pipeline> pipeline;
    AppSrc* app = nullptr;
    Output out;
};

std::unique_ptr<AppRun> app_pipeline(const std::string& text, const std::string& app_name) {
    auto r = std::make_unique<AppRun>();
    auto p = Pipeline::parse(text);
    EXPECT_TRUE(p) << p.error().to_string();
    if (!p) {
        return nullptr;
    }
    r->pipeline = std::move(*p);
    collect(*r->pipeline, r->out);
    auto src = r->pipeline->get<AppSrc>(app_name);
    EXPECT_TRUE(src);
    r->app = src ? *src : nullptr;
    return r;
}

// Video from videotestsrc and KLV pushed by the test through appsrc "klv".
std::unique_ptr<AppRun> klv_pipeline(const std::string& mux_props, int frames) {
    return app_pipeline(fmt::format("mpegtsmux name=m {} ! appsink name=sink appsrc name=klv "
                                    "caps=meta/x-klv,parsed=true format=time ! m. videotestsrc num-buffers={} ! "
                                    "video/x-raw,format=I420,width=64,height=48,framerate=25/1 ! openh264enc ! "
                                    "h264parse ! m.",
                                    mux_props, frames),
                        "klv");
}

Buffer klv_buffer(AppSrc& src, int i) {
    const auto bytes = klv_packet(i);
    auto b = src.allocate(bytes.size()).value();
    auto w = b.map_writable().value();
    std::memcpy(w.data(), bytes.data(), bytes.size());
    b.meta().set_pts(ClockTime::from_ns(static_cast<std::uint64_t>(i) * 40'000'000));
    return b;
}

TEST(MpegTsMuxTest, KlvIsSynchronousMetadataWithItsDescriptors) {
    auto r = klv_pipeline("", 10);
    ASSERT_TRUE(r && r->app);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(r->app->push_buffer(klv_buffer(*r->app, i)));
    }
    ASSERT_TRUE(r->app->end_of_stream());
    auto ok = r->pipeline->run(hang_guard);
    ASSERT_TRUE(ok) << ok.error().to_string();
    std::lock_guard lock(r->out.mutex);
    const auto ts = check::read_ts(r->out.bytes);
    ASSERT_FALSE(ts.pmts.empty());
    const auto& pmt = ts.pmts.front();
    ASSERT_EQ(pmt.streams.size(), 2U);
    bool pointer = false;
    for (const auto& d : pmt.program_descriptors) {
        pointer = pointer || d.tag == mpegts::descriptor_tag::metadata_pointer;
    }
    EXPECT_TRUE(pointer) << "the program loop points at the metadata service";
    const mpegts::PmtStream* meta = nullptr;
    for (const auto& s : pmt.streams) {
        if (s.stream_type == mpegts::stream_type::metadata_pes) {
            meta = &s;
        }
    }
    ASSERT_NE(meta, nullptr);
    bool klv_descriptor = false;
    bool std_descriptor = false;
    for (const auto& d : meta->descriptors) {
        klv_descriptor = klv_descriptor || mpegts::is_klv_metadata_descriptor(d);
        std_descriptor = std_descriptor || d.tag == mpegts::descriptor_tag::metadata_std;
    }
    EXPECT_TRUE(klv_descriptor);
    EXPECT_TRUE(std_descriptor);
    const auto& pes = ts.pes.at(meta->pid);
    ASSERT_EQ(pes.size(), 10U);
    for (int i = 0; i < 10; ++i) {
        const auto& p = pes[static_cast<std::size_t>(i)];
        EXPECT_EQ(p.stream_id, mpegts::stream_id::metadata);
        ASSERT_TRUE(p.pts);
        EXPECT_EQ(*p.pts, 63000U + static_cast<std::uint64_t>(i) * 3600) << "KLV " << i;
        auto cells = mpegts::parse_metadata_cells(p.payload);
        ASSERT_TRUE(cells) << cells.error().to_string();
        ASSERT_EQ(cells->size(), 1U);
        EXPECT_EQ((*cells)[0].sequence_number, i);
        EXPECT_EQ((*cells)[0].fragment, 3);
        const std::vector<std::uint8_t> back((*cells)[0].data.begin(), (*cells)[0].data.end());
        EXPECT_EQ(back, klv_packet(i));
        auto set = klv::UasLocalSet::parse(back);
        ASSERT_TRUE(set) << set.error().to_string();
        EXPECT_NEAR(set->platform_heading().value(), i * 3.0, 0.01);
        EXPECT_NEAR(set->platform_pitch().value(), -10.0 + i, 0.001);
    }
}

// Video from videotestsrc next to a second H.264 input, appsrc "silent",
// that never sends a buffer.
std::unique_ptr<AppRun> silent_partner_pipeline(const std::string& mux_props, int frames) {
    return app_pipeline(fmt::format("mpegtsmux name=m {} ! appsink name=sink appsrc name=silent "
                                    "caps=video/x-h264,stream-format=byte-stream,alignment=au format=time ! m. "
                                    "videotestsrc num-buffers={} ! video/x-raw,format=I420,width=64,height=48,"
                                    "framerate=25/1 ! openh264enc ! h264parse ! m.",
                                    mux_props, frames),
                        "silent");
}

void end_and_wait(AppRun& r) {
    ASSERT_TRUE(r.app->end_of_stream());
    auto end = r.pipeline->bus().pop({MessageType::eos, MessageType::error}, hang_guard);
    ASSERT_TRUE(end);
    EXPECT_EQ(end->type, MessageType::eos);
    EXPECT_TRUE(r.pipeline->set_state(State::idle));
}

TEST(MpegTsMuxTest, SilentKlvDoesNotHoldVideoBack) {
    auto r = klv_pipeline("", 50);
    ASSERT_TRUE(r && r->app);
    ASSERT_TRUE(r->pipeline->set_state(State::running));
    const auto deadline = std::chrono::steady_clock::now() + hang_guard;
    while (r->out.buffers.load() < 50 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(r->out.buffers.load(), 50U) << "video waited for the KLV input";
    end_and_wait(*r);
}

TEST(MpegTsMuxTest, ASilentInputHoldsTheOthersBackOnlyForMaxDelay) {
    // The second video input stays silent while 50 frames (2 s) of video
    // are muxed: all but the last 200 ms must come out before it ends.
    auto r = silent_partner_pipeline("max-delay=200000000", 50);
    ASSERT_TRUE(r && r->app);
    ASSERT_TRUE(r->pipeline->set_state(State::running));
    const auto deadline = std::chrono::steady_clock::now() + hang_guard;
    while (r->out.buffers.load() < 40 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(r->out.buffers.load(), 40U) << "video waited for the silent input";
    end_and_wait(*r);
    std::lock_guard lock(r->out.mutex);
    const auto ts = check::read_ts(r->out.bytes);
    std::size_t video = 0;
    for (const auto& [pid, list] : ts.pes) {
        video += list.size();
    }
    EXPECT_EQ(video, 50U);
}

TEST(MpegTsMuxTest, LatencyReleasesAFrameWhoseOnlyPartnerIsSilent) {
    // One frame, then its input ends; the other input is silent. Without
    // latency the frame waits for it; with latency=50 ms it leaves alone.
    for (const bool with_latency : {false, true}) {
        auto r = silent_partner_pipeline(with_latency ? "latency=50000000" : "", 1);
        ASSERT_TRUE(r && r->app);
        ASSERT_TRUE(r->pipeline->set_state(State::running));
        const auto deadline = std::chrono::steady_clock::now() + (with_latency ? hang_guard : 500ms);
        while (r->out.buffers.load() == 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
        }
        EXPECT_EQ(r->out.buffers.load() > 0, with_latency);
        end_and_wait(*r);
        EXPECT_GT(r->out.buffers.load(), 0U);
    }
}

TEST(MpegTsMuxTest, PadNameChoosesThePid) {
    const auto bytes = run("mpegtsmux name=m ! appsink name=sink audiotestsrc num-buffers=5 ! opusenc ! m.sink_300");
    const auto ts = check::read_ts(bytes);
    ASSERT_FALSE(ts.pmts.empty());
    ASSERT_EQ(ts.pmts.front().streams.size(), 1U);
    EXPECT_EQ(ts.pmts.front().streams.front().pid, 300);
    EXPECT_EQ(ts.pmts.front().pcr_pid, 300) << "without video the PCR rides on the first stream";
}

TEST(MpegTsMuxTest, AlignmentMakesBuffersOfThatManyPackets) {
    std::vector<std::size_t> sizes;
    const auto bytes = run(std::string("mpegtsmux name=m alignment=7 ! appsink name=sink ") + opus_branch, &sizes);
    ASSERT_FALSE(sizes.empty());
    for (const std::size_t s : sizes) {
        EXPECT_EQ(s, 7U * 188);
    }
    const auto ts = check::read_ts(bytes);
    EXPECT_EQ(ts.cc_gaps, 0U);
    EXPECT_LT(ts.null_packets, 7U) << "only the last buffer is filled up";
}

TEST(MpegTsMuxTest, ABufferBeforeCapsIsAnErrorNamingThePad) {
    auto h = check::Harness::create("mpegtsmux").value();
    ASSERT_TRUE(h->start());
    EXPECT_EQ(h->push(h->make_buffer(16).value()), Flow::error);
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("sink_0"), std::string::npos) << h->error()->message();
    EXPECT_NE(h->error()->message().find("before its caps"), std::string::npos) << h->error()->message();
}

TEST(MpegTsMuxTest, UnsupportedCapsAreAnErrorThatSaysWhy) {
    opus::Header three;
    three.channels = 3;
    three.mapping_family = 255;
    three.stream_count = 3;
    three.coupled_count = 0;
    three.mapping = {0, 1, 2};
    const std::pair<Caps, const char*> cases[] = {
        {Caps::parse("video/x-vp9, width=(int)64, height=(int)48").value(), "H.264, AV1, Opus and KLV"},
        {Caps::parse("video/x-h264, stream-format=(string)avc, alignment=(string)au").value(), "byte-stream"},
        {opus::caps_for(three), "channel configuration"},
    };
    for (const auto& [caps, why] : cases) {
        auto h = check::Harness::create("mpegtsmux").value();
        static_cast<void>(h->set_input_caps(caps));
        ASSERT_TRUE(h->error()) << caps.to_string();
        EXPECT_NE(h->error()->message().find("sink_0"), std::string::npos) << h->error()->message();
        EXPECT_NE(h->error()->message().find(why), std::string::npos) << h->error()->message();
    }
}

TEST(MpegTsMuxTest, BadH264IsAnErrorNamingTheBuffer) {
    auto h = check::Harness::create("mpegtsmux").value();
    ASSERT_TRUE(h->set_input_caps(
        Caps::parse("video/x-h264, stream-format=(string)byte-stream, alignment=(string)au").value()));
    ASSERT_TRUE(h->start());
    EXPECT_EQ(h->push(h->make_buffer(16, 0xAB).value()), Flow::error);
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("buffer 0 on sink_0"), std::string::npos) << h->error()->message();
    EXPECT_NE(h->error()->message().find("start code"), std::string::npos) << h->error()->message();
}

} // namespace
} // namespace parallax::mpegtsmux_test
