// qtdemux: files written by mp4mux (plain and fragmented) and by the box
// writer (moov after mdat, Opus edits) demuxed back whatever the chunk
// size; truncated and foreign input; a decoding pipeline that links the
// pads as they appear.

#include <parallax/check/harness.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mp4.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax::qtdemux_test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t frame_ns = 40'000'000; // 25 fps

std::vector<std::uint8_t> av1c() {
    av1::SequenceHeader seq;
    seq.level = 8;
    return av1::make_av1c(seq, {});
}

Caps av1_caps() {
    std::string hex;
    for (const std::uint8_t b : av1c()) {
        hex += fmt::format("{:02x}", b);
    }
    return Caps::parse("video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu, width=(int)64, "
                       "height=(int)48, framerate=(fraction)25/1, codec_data=(buffer)" +
                       hex)
        .value();
}

// Frame i's bytes tell its number; a key frame every `gop` frames.
std::vector<std::uint8_t> frame_bytes(std::size_t i) {
    return std::vector<std::uint8_t>(10 + i % 7, static_cast<std::uint8_t>(i));
}

std::vector<std::uint8_t> bytes_of(const Buffer& b) {
    const auto d = b.data();
    const auto* p = reinterpret_cast<const std::uint8_t*>(d.data());
    return {p, p + d.size()};
}

std::vector<Buffer> pull_all(check::Harness& h) {
    std::vector<Buffer> out;
    while (h.buffers_out() > 0) {
        out.push_back(*h.pull());
    }
    return out;
}

// An AV1 file of `count` frames written by mp4mux with `props`.
std::vector<std::uint8_t> mux_frames(const std::string& props, std::size_t count, std::size_t gop) {
    auto h = check::Harness::create("mp4mux " + props).value();
    EXPECT_TRUE(h->set_input_caps(av1_caps()));
    EXPECT_TRUE(h->start());
    for (std::size_t i = 0; i < count; ++i) {
        const auto bytes = frame_bytes(i);
        Buffer b = h->make_buffer(std::as_bytes(std::span(bytes))).value();
        b.meta().set_pts(ClockTime::from_ns(i * frame_ns));
        b.meta().set_duration(ClockTime::from_ns(frame_ns));
        if (i % gop != 0) {
            b.meta().set_flag(BufferFlags::delta);
        }
        EXPECT_EQ(h->push(std::move(b)), Flow::ok);
    }
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    std::vector<std::uint8_t> file;
    for (const Buffer& b : pull_all(*h)) {
        const auto bytes = bytes_of(b);
        file.insert(file.end(), bytes.begin(), bytes.end());
    }
    return file;
}

// Feeds `file` to a qtdemux harness in pieces of `piece` bytes, then eos.
std::unique_ptr<check::Harness> demux(const std::vector<std::uint8_t>& file, std::size_t piece,
                                      bool expect_eos = true) {
    auto h = check::Harness::create("qtdemux").value();
    EXPECT_TRUE(h->set_input_caps(Caps::parse_static("video/quicktime, variant=(string)iso")));
    EXPECT_TRUE(h->start());
    for (std::size_t at = 0; at < file.size(); at += piece) {
        const std::size_t n = std::min(piece, file.size() - at);
        const Flow f = h->push(h->make_buffer(std::as_bytes(std::span(file).subspan(at, n))).value());
        if (expect_eos) {
            EXPECT_TRUE(f == Flow::ok || f == Flow::not_linked) << to_string(f) << " at byte " << at;
        }
    }
    h->push_event(Event::eos());
    if (expect_eos) {
        EXPECT_TRUE(h->wait_eos());
    }
    return h;
}

std::vector<std::string> warnings(const check::Harness& h) {
    std::vector<std::string> out;
    for (const Message& m : h.messages()) {
        if (m.type == MessageType::warning && m.error) {
            out.push_back(m.error->message());
        }
    }
    return out;
}

bool any_contains(const std::vector<std::string>& texts, std::string_view what) {
    return std::any_of(texts.begin(), texts.end(), [&](const std::string& t) { return t.find(what) != t.npos; });
}

// The frames of mux_frames() came out: bytes, times and flags.
void expect_frames(const std::vector<Buffer>& out, std::size_t count, std::size_t gop) {
    ASSERT_EQ(out.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(bytes_of(out[i]), frame_bytes(i));
        EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns(i * frame_ns));
        EXPECT_EQ(out[i].meta().duration(), ClockTime::from_ns(frame_ns));
        EXPECT_EQ(out[i].meta().has_flag(BufferFlags::keyframe), i % gop == 0);
        EXPECT_EQ(out[i].meta().has_flag(BufferFlags::delta), i % gop != 0);
    }
    EXPECT_TRUE(out[0].meta().has_flag(BufferFlags::discont));
}

TEST(QtDemuxTest, HasGStreamersSometimesPads) {
    auto e = Registry::global().create("qtdemux");
    ASSERT_TRUE(e);
    EXPECT_NE((*e)->pad("sink"), nullptr);
    for (const char* name : {"video_%u", "audio_%u"}) {
        const PadTemplate* t = (*e)->find_template(name);
        ASSERT_NE(t, nullptr) << name;
        EXPECT_EQ(t->presence, PadPresence::sometimes);
    }
}

TEST(QtDemuxTest, ReadsBackAPlainMp4muxFileWhateverTheChunkSize) {
    constexpr std::size_t count = 30;
    const auto file = mux_frames("", count, 5);
    for (const std::size_t piece : {std::size_t{1}, std::size_t{13}, std::size_t{1000}, file.size()}) {
        SCOPED_TRACE(piece);
        auto h = demux(file, piece);
        EXPECT_FALSE(h->error());
        EXPECT_TRUE(warnings(*h).empty());
        EXPECT_NE(h->element().pad("video_0"), nullptr);
        expect_frames(pull_all(*h), count, 5);
        bool caps_seen = false;
        for (const Event& ev : h->take_events()) {
            if (ev.type() == EventType::caps) {
                caps_seen = true;
                const Structure& s = ev.caps_value()->structure(0);
                EXPECT_EQ(s.name(), "video/x-av1");
                EXPECT_EQ(s.get_string("stream-format"), "obu-stream");
                EXPECT_EQ(s.get_string("alignment"), "tu");
                EXPECT_EQ(s.get_int("width"), 64);
                EXPECT_EQ(s.get_int("height"), 48);
                EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(25, 1).value());
                const CapsValue* cd = s.get("codec_data");
                ASSERT_NE(cd, nullptr);
                ASSERT_NE(cd->get_if<Bytes>(), nullptr);
                EXPECT_EQ(cd->get_if<Bytes>()->data, av1c());
            }
        }
        EXPECT_TRUE(caps_seen);
    }
}

TEST(QtDemuxTest, ReadsBackAFragmentedMp4muxFile) {
    constexpr std::size_t count = 40;
    const auto file = mux_frames("fragment-duration=300", count, 5);
    for (const std::size_t piece : {std::size_t{7}, std::size_t{4096}}) {
        SCOPED_TRACE(piece);
        auto h = demux(file, piece);
        EXPECT_FALSE(h->error());
        EXPECT_TRUE(warnings(*h).empty());
        expect_frames(pull_all(*h), count, 5);
    }
}

TEST(QtDemuxTest, ATruncatedFileGivesAWarningAndWhatCameBefore) {
    constexpr std::size_t count = 30;
    const auto file = mux_frames("", count, 5);
    // The last 100 bytes of the mdat are gone.
    const std::vector<std::uint8_t> cut(file.begin(), file.end() - 100);
    auto h = demux(cut, 64);
    EXPECT_FALSE(h->error());
    EXPECT_TRUE(any_contains(warnings(*h), "truncated")) << fmt::format("{}", fmt::join(warnings(*h), "; "));
    const auto out = pull_all(*h);
    ASSERT_GT(out.size(), 10U);
    ASSERT_LT(out.size(), count);
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(bytes_of(out[i]), frame_bytes(i));
        EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns(i * frame_ns));
    }
}

TEST(QtDemuxTest, GarbageIsAnErrorNamingIt) {
    const std::string text = "this is not an MP4 file at all, only text";
    auto h = demux(std::vector<std::uint8_t>(text.begin(), text.end()), 5, false);
    auto err = h->error();
    ASSERT_TRUE(err);
    EXPECT_NE(err->message().find("not an MP4 box"), std::string::npos) << err->message();
    EXPECT_NE(err->message().find("at byte 0"), std::string::npos) << err->message();
}

TEST(QtDemuxTest, AFileWithoutMoovIsAnErrorAtTheEnd) {
    const auto mdat = mp4::mdat_header(16);
    std::vector<std::uint8_t> file = mdat;
    file.resize(file.size() + 16, 0);
    auto h = demux(file, 8, false);
    auto err = h->error();
    ASSERT_TRUE(err);
    EXPECT_NE(err->message().find("no moov"), std::string::npos) << err->message();
}

// An Opus-only file made with the box writer: `count` packets of 960
// samples, each of 3 bytes telling its number, an edit dropping `pre_skip`
// and ending `trim` samples before the last packet's end. `moov_last`
// puts the moov after the mdat, as ffmpeg does by default.
std::vector<std::uint8_t> opus_file(std::size_t count, std::uint16_t pre_skip, std::uint32_t trim, bool moov_last) {
    opus::Header head;
    head.channels = 1;
    head.pre_skip = pre_skip;
    head.input_sample_rate = 48000;
    mp4::Movie m;
    m.timescale = 48000;
    mp4::Track t;
    t.id = 1;
    t.kind = mp4::TrackKind::audio;
    t.timescale = 48000;
    t.sample_entry = mp4::make_opus_entry(head);
    t.edits.push_back(mp4::Edit{count * 960 - pre_skip - trim, pre_skip});
    const std::array<std::string_view, 1> brands{"isom"};
    const auto ftyp = mp4::make_ftyp("isom", brands);
    std::vector<std::uint8_t> payload;
    for (std::size_t i = 0; i < count; ++i) {
        payload.insert(payload.end(), {0xF8, static_cast<std::uint8_t>(i), 0xAA});
        t.samples.push_back(mp4::Sample{3 * i, 3, 960, 0, true});
    }
    m.tracks.push_back(t);
    // The moov's size does not depend on where the one chunk starts (below
    // 4 GiB).
    const std::size_t moov_size = mp4::make_moov(m).size();
    const std::uint64_t data = ftyp.size() + (moov_last ? 0 : moov_size) + 8;
    for (std::size_t i = 0; i < count; ++i) {
        m.tracks[0].samples[i].offset = data + 3 * i;
    }
    const auto moov = mp4::make_moov(m);
    std::vector<std::uint8_t> file = ftyp;
    if (!moov_last) {
        file.insert(file.end(), moov.begin(), moov.end());
    }
    const auto mdat = mp4::mdat_header(payload.size());
    file.insert(file.end(), mdat.begin(), mdat.end());
    file.insert(file.end(), payload.begin(), payload.end());
    if (moov_last) {
        file.insert(file.end(), moov.begin(), moov.end());
    }
    return file;
}

ClockTime samples_ns(std::uint64_t n) {
    return ClockTime::from_ns(n * ClockTime::ns_per_s / 48000);
}

TEST(QtDemuxTest, OpusFollowsTheTimingConventionWithMoovBeforeOrAfterMdat) {
    constexpr std::size_t count = 10;
    for (const bool moov_last : {false, true}) {
        SCOPED_TRACE(moov_last);
        const auto file = opus_file(count, 312, 500, moov_last);
        auto h = demux(file, 11);
        EXPECT_FALSE(h->error());
        EXPECT_TRUE(warnings(*h).empty()) << fmt::format("{}", fmt::join(warnings(*h), "; "));
        EXPECT_NE(h->element().pad("audio_0"), nullptr);
        const auto out = pull_all(*h);
        ASSERT_EQ(out.size(), count);
        ClockTime total = ClockTime::zero();
        for (std::size_t i = 0; i < count; ++i) {
            SCOPED_TRACE(i);
            EXPECT_EQ(bytes_of(out[i]), (std::vector<std::uint8_t>{0xF8, static_cast<std::uint8_t>(i), 0xAA}));
            const std::uint64_t begin = i == 0 ? 0 : i * 960 - 312;
            const std::uint64_t end = std::min<std::uint64_t>((i + 1) * 960 - 312, count * 960 - 312 - 500);
            EXPECT_EQ(out[i].meta().pts(), samples_ns(begin));
            EXPECT_EQ(out[i].meta().pts().ns() + out[i].meta().duration().ns(), samples_ns(end).ns());
            total = ClockTime::from_ns(total.ns() + out[i].meta().duration().ns());
        }
        EXPECT_EQ(total, samples_ns(count * 960 - 312 - 500));
        for (const Event& ev : h->take_events()) {
            if (ev.type() == EventType::caps) {
                auto head = opus::header_from_caps(*ev.caps_value());
                ASSERT_TRUE(head);
                EXPECT_EQ(head->pre_skip, 312);
                EXPECT_EQ(head->channels, 1);
            }
        }
    }
}

TEST(QtDemuxTest, SurvivesDamagedFiles) {
    const auto file = mux_frames("fragment-duration=200", 30, 5);
    std::mt19937 rng(99);
    for (int round = 0; round < 150; ++round) {
        std::vector<std::uint8_t> bad = file;
        const int edits = 1 + static_cast<int>(rng() % 6);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % bad.size();
            if (rng() % 4 == 0) {
                bad.resize(at + 1);
            } else {
                bad[at] = static_cast<std::uint8_t>(rng());
            }
        }
        auto h = check::Harness::create("qtdemux").value();
        ASSERT_TRUE(h->start());
        for (std::size_t at = 0; at < bad.size(); at += 97) {
            const std::size_t n = std::min<std::size_t>(97, bad.size() - at);
            h->push(h->make_buffer(std::as_bytes(std::span(bad).subspan(at, n))).value());
        }
        h->push_event(Event::eos());
        EXPECT_TRUE(h->eos() || h->error()) << "round " << round;
        for (const Buffer& b : pull_all(*h)) {
            EXPECT_LE(b.size(), bad.size()) << "round " << round;
        }
    }
}

constexpr const char* av1_branch = "videotestsrc num-buffers=50 ! video/x-raw,format=I420,width=64,height=48,"
                                   "framerate=25/1 ! av1enc keyframe-max-dist=10 cpu-used=9 ! m.";
constexpr const char* opus_branch = "audiotestsrc num-buffers=100 samplesperbuffer=960 ! audio/x-raw,rate=48000,"
                                    "channels=2 ! opusenc ! m.";

bool have_codecs() {
    for (const char* f : {"av1enc", "opusenc", "dav1ddec", "opusdec"}) {
        if (Registry::global().find(f) == nullptr) {
            return false;
        }
    }
    return true;
}

std::string write_file(const std::string& mux_props, const std::string& tag) {
    const std::string path =
        (std::filesystem::temp_directory_path() / fmt::format("plx-qtdemux-{}-{}.mp4", ::getpid(), tag)).string();
    auto write = Pipeline::parse(
        fmt::format("mp4mux name=m {} ! filesink location={}  {}  {}", mux_props, path, av1_branch, opus_branch));
    EXPECT_TRUE(write) << write.error().to_string();
    if (write) {
        auto ok = (*write)->run(120s);
        EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    }
    return path;
}

struct Collected {
    std::mutex mutex;
    std::vector<ClockTime> video_pts;
    std::vector<bool> video_key;
    std::size_t audio_buffers = 0;
    std::uint64_t audio_bytes = 0;
    ClockTime audio_duration = ClockTime::zero();
};

// Runs `text` (appsinks named v and a) and collects what they get.
void run_read(const std::string& text, Collected& c) {
    auto read = Pipeline::parse(text);
    ASSERT_TRUE(read) << read.error().to_string();
    auto v = (*read)->get<AppSink>("v");
    auto a = (*read)->get<AppSink>("a");
    ASSERT_TRUE(v && a);
    (*v)->set_new_sample([&](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        std::lock_guard lock(c.mutex);
        c.video_pts.push_back(sample->buffer.meta().pts());
        c.video_key.push_back(!sample->buffer.meta().has_flag(BufferFlags::delta));
    });
    (*a)->set_new_sample([&](AppSink& s) {
        auto sample = s.pull_sample();
        if (!sample) {
            return;
        }
        std::lock_guard lock(c.mutex);
        ++c.audio_buffers;
        c.audio_bytes += sample->buffer.size();
        c.audio_duration = ClockTime::from_ns(c.audio_duration.ns() + sample->buffer.meta().duration().ns());
    });
    auto ok = (*read)->run(120s);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
}

TEST(QtDemuxTest, APipelineDecodesEveryFrameAndExactlyTheOriginalSamples) {
    ASSERT_TRUE(have_codecs()) << "an encoder or decoder this test uses is not registered";
    const std::string path = write_file("", "plain");
    Collected c;
    run_read(fmt::format("filesrc location={} ! qtdemux name=d  d.video_0 ! dav1ddec ! appsink name=v sync=false  "
                         "d.audio_0 ! opusdec ! appsink name=a sync=false",
                         path),
             c);
    EXPECT_EQ(c.video_pts.size(), 50U);
    for (std::size_t i = 0; i < c.video_pts.size(); ++i) {
        EXPECT_EQ(c.video_pts[i], ClockTime::from_ns(i * frame_ns)) << i;
    }
    EXPECT_EQ(c.audio_bytes / 4, 100U * 960U); // S16LE stereo: pre-skip and end trimmed, as written
    std::remove(path.c_str());
}

TEST(QtDemuxTest, PlainAndFragmentedPipelineFilesGiveTheSamePackets) {
    ASSERT_TRUE(have_codecs()) << "an encoder or decoder this test uses is not registered";
    for (const std::string props : {"", "fragment-duration=300"}) {
        SCOPED_TRACE(props);
        const std::string path = write_file(props, props.empty() ? "p" : "f");
        Collected c;
        run_read(fmt::format("filesrc location={} ! qtdemux name=d  d.video_0 ! appsink name=v sync=false  "
                             "d.audio_0 ! appsink name=a sync=false",
                             path),
                 c);
        ASSERT_EQ(c.video_pts.size(), 50U);
        for (std::size_t i = 0; i < 50; ++i) {
            EXPECT_EQ(c.video_pts[i], ClockTime::from_ns(i * frame_ns)) << i;
        }
        EXPECT_TRUE(c.video_key[0]);
        EXPECT_GT(std::count(c.video_key.begin(), c.video_key.end(), true), 1);
        // 2 s kept, the pre-skip one packet more.
        EXPECT_EQ(c.audio_buffers, 101U);
        if (props.empty()) {
            EXPECT_EQ(c.audio_duration, ClockTime::from_ns(2'000'000'000));
        }
        std::remove(path.c_str());
    }
}

} // namespace
} // namespace parallax::qtdemux_test
