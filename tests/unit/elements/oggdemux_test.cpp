#include <parallax/check/harness.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/ogg.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ogg/ogg.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax::oggdemux_test {
namespace {

constexpr std::uint16_t pre_skip = 312;
constexpr std::uint32_t packet_samples = 960; // TOC 0xFC: CELT fullband 20 ms, one frame

ClockTime at_sample(std::uint64_t s) {
    return ClockTime::from_ns(s * ClockTime::ns_per_s / 48000);
}

opus::Header mono_header() {
    opus::Header h;
    h.channels = 1;
    h.pre_skip = pre_skip;
    h.input_sample_rate = 48000;
    return h;
}

std::vector<std::uint8_t> packet_bytes(std::size_t i) {
    return {0xFC, static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8), 0xA5};
}

// What the demuxer must give for packet i of `count` (the last trimmed by
// `trim` samples): pts and duration of the audio left after pre-skip.
struct Expected {
    ClockTime pts;
    ClockTime duration;
};
Expected expected(std::size_t i, std::size_t count, std::uint32_t trim, std::uint64_t base = 0) {
    const std::uint64_t begin = std::max<std::uint64_t>(i * packet_samples, pre_skip) - pre_skip;
    std::uint64_t end = (i + 1) * packet_samples - pre_skip;
    if (i + 1 == count) {
        end -= trim;
    }
    return {at_sample(begin + base), ClockTime::from_ns(at_sample(end + base).ns() - at_sample(begin + base).ns())};
}

// Writes Ogg pages with libogg: one logical stream of `count` packets, four
// packets a page, the last page trimming `trim` samples.
class StreamWriter {
public:
    explicit StreamWriter(int serial) { ogg_stream_init(&os_, serial); }
    ~StreamWriter() { ogg_stream_clear(&os_); }
    StreamWriter(const StreamWriter&) = delete;
    StreamWriter& operator=(const StreamWriter&) = delete;

    std::vector<std::vector<std::uint8_t>> pages(std::span<const std::uint8_t> head, std::size_t count,
                                                 std::uint32_t trim) {
        std::vector<std::vector<std::uint8_t>> out;
        std::vector<std::uint8_t> h(head.begin(), head.end());
        packet(h, 0, true, false);
        flush(out);
        opus::Tags tags;
        tags.vendor = "test";
        auto t = opus::write_tags(tags);
        packet(t, 0, false, count == 0);
        flush(out);
        std::int64_t granule = 0;
        for (std::size_t i = 0; i < count; ++i) {
            granule += packet_samples;
            const bool last = i + 1 == count;
            auto p = packet_bytes(i);
            packet(p, last ? granule - trim : granule, false, last);
            if (i % 4 == 3 || last) {
                flush(out);
            }
        }
        return out;
    }

private:
    void packet(std::vector<std::uint8_t>& bytes, std::int64_t granule, bool bos, bool eos) {
        ogg_packet op{};
        op.packet = bytes.data();
        op.bytes = static_cast<long>(bytes.size());
        op.b_o_s = bos ? 1 : 0;
        op.e_o_s = eos ? 1 : 0;
        op.granulepos = granule;
        op.packetno = packetno_++;
        ogg_stream_packetin(&os_, &op);
    }
    void flush(std::vector<std::vector<std::uint8_t>>& out) {
        ogg_page og;
        while (ogg_stream_flush(&os_, &og) != 0) {
            std::vector<std::uint8_t> page(og.header, og.header + og.header_len);
            page.insert(page.end(), og.body, og.body + og.body_len);
            out.push_back(std::move(page));
        }
    }
    ogg_stream_state os_{};
    std::int64_t packetno_ = 0;
};

std::vector<std::uint8_t> join(const std::vector<std::vector<std::uint8_t>>& pages) {
    std::vector<std::uint8_t> out;
    for (const auto& p : pages) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

std::vector<std::uint8_t> opus_file(int serial, std::size_t count, std::uint32_t trim) {
    StreamWriter w(serial);
    return join(w.pages(opus::write_head(mono_header()), count, trim));
}

// Feeds `file` to an oggdemux harness in pieces of `piece` bytes, then eos.
// With `expect_eos` false the input is expected to fail (no eos comes out).
std::unique_ptr<check::Harness> demux(const std::vector<std::uint8_t>& file, std::size_t piece,
                                      bool expect_eos = true) {
    auto h = check::Harness::create("oggdemux").value();
    EXPECT_TRUE(h->set_input_caps(Caps::parse_static("application/ogg")));
    EXPECT_TRUE(h->start());
    for (std::size_t at = 0; at < file.size(); at += piece) {
        const std::size_t n = std::min(piece, file.size() - at);
        const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(file.data() + at), n);
        const Flow f = h->push(h->make_buffer(bytes).value());
        EXPECT_TRUE(f == Flow::ok || f == Flow::not_linked) << to_string(f);
    }
    h->push_event(Event::eos());
    if (expect_eos) {
        EXPECT_TRUE(h->wait_eos());
    }
    return h;
}

std::vector<Buffer> pull_all(check::Harness& h) {
    std::vector<Buffer> out;
    while (h.buffers_out() > 0) {
        out.push_back(*h.pull());
    }
    return out;
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

TEST(OggDemuxTest, HasASometimesPadPerStreamNamedAfterItsSerial) {
    auto e = Registry::global().create("oggdemux");
    ASSERT_TRUE(e);
    EXPECT_NE((*e)->pad("sink"), nullptr);
    const PadTemplate* t = (*e)->find_template("src_%s");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->presence, PadPresence::sometimes);

    auto h = demux(opus_file(0x4d2, 3, 0), 4096);
    EXPECT_NE(h->element().pad("src_000004d2"), nullptr);
}

TEST(OggDemuxTest, PushesEveryPacketWithConventionTimestampsWhateverTheChunkSize) {
    constexpr std::size_t count = 11;
    const auto file = opus_file(7, count, 250);
    for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{100}, file.size()}) {
        SCOPED_TRACE(piece);
        auto h = demux(file, piece);
        EXPECT_FALSE(h->error());
        EXPECT_TRUE(warnings(*h).empty());
        const auto out = pull_all(*h);
        ASSERT_EQ(out.size(), count);
        for (std::size_t i = 0; i < count; ++i) {
            const auto d = out[i].data();
            const std::vector<std::uint8_t> got(reinterpret_cast<const std::uint8_t*>(d.data()),
                                                reinterpret_cast<const std::uint8_t*>(d.data()) + d.size());
            EXPECT_EQ(got, packet_bytes(i));
            const Expected e = expected(i, count, 250);
            EXPECT_EQ(out[i].meta().pts(), e.pts) << "packet " << i;
            EXPECT_EQ(out[i].meta().duration(), e.duration) << "packet " << i;
        }
        EXPECT_TRUE(out[0].meta().has_flag(BufferFlags::discont));
        // Caps from the OpusHead.
        bool caps_seen = false;
        for (const Event& ev : h->take_events()) {
            if (ev.type() == EventType::caps) {
                caps_seen = true;
                EXPECT_EQ(*ev.caps_value(), opus::caps_for(mono_header()));
            }
        }
        EXPECT_TRUE(caps_seen);
    }
}

TEST(OggDemuxTest, ReadsBackWhatOggmuxWrote) {
    constexpr std::size_t count = 30;
    auto mux = check::Harness::create("oggmux max-page-delay=60000000").value();
    ASSERT_TRUE(mux->set_input_caps(opus::caps_for(mono_header())));
    ASSERT_TRUE(mux->start());
    for (std::size_t i = 0; i < count; ++i) {
        const auto bytes = packet_bytes(i);
        Buffer b = mux->make_buffer(std::as_bytes(std::span(bytes))).value();
        const Expected e = expected(i, count, 100);
        b.meta().set_pts(e.pts);
        b.meta().set_duration(e.duration);
        ASSERT_EQ(mux->push(std::move(b)), Flow::ok);
    }
    mux->push_event(Event::eos());
    ASSERT_TRUE(mux->wait_eos());
    std::vector<std::uint8_t> file;
    for (const Buffer& b : pull_all(*mux)) {
        const auto d = b.data();
        file.insert(file.end(), reinterpret_cast<const std::uint8_t*>(d.data()),
                    reinterpret_cast<const std::uint8_t*>(d.data()) + d.size());
    }
    auto h = demux(file, 333);
    EXPECT_FALSE(h->error());
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
        const Expected e = expected(i, count, 100);
        EXPECT_EQ(out[i].meta().pts(), e.pts) << "packet " << i;
        EXPECT_EQ(out[i].meta().duration(), e.duration) << "packet " << i;
        EXPECT_EQ(out[i].size(), 4U);
    }
}

TEST(OggDemuxTest, APipelineLinksItsPadWhenTheStreamAppears) {
    // filesrc ! oggdemux ! opusdec: opusdec's sink is linked once oggdemux
    // finds the stream, so the pipeline starts without it.
    const std::string path =
        (std::filesystem::temp_directory_path() / fmt::format("plx-oggdemux-{}.opus", ::getpid())).string();
    auto write = Pipeline::parse(
        fmt::format("audiotestsrc num-buffers=20 samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! opusenc ! "
                    "oggmux ! filesink location={}",
                    path));
    ASSERT_TRUE(write) << write.error().to_string();
    ASSERT_TRUE((*write)->run(std::chrono::seconds(20)));
    auto read = Pipeline::parse(
        fmt::format("filesrc location={} ! oggdemux ! opusdec ! appsink name=sink sync=false", path));
    ASSERT_TRUE(read) << read.error().to_string();
    auto sink = (*read)->get<AppSink>("sink");
    ASSERT_TRUE(sink);
    ASSERT_TRUE((*read)->set_state(State::running));
    std::size_t frames = 0;
    while (auto sample = (*sink)->try_pull_sample(std::chrono::seconds(10))) {
        EXPECT_EQ(sample->caps.structure(0).get_int("channels"), 2);
        frames += sample->buffer.size() / 4; // S16LE stereo
    }
    EXPECT_EQ(frames, 20U * 960U); // the pre-skip and the end trimmed, as written
    ASSERT_TRUE((*read)->set_state(State::idle));
    std::remove(path.c_str());
}

TEST(OggDemuxTest, SkipsADamagedPageAndGarbageWithWarnings) {
    StreamWriter w(9);
    auto pages = w.pages(opus::write_head(mono_header()), 12, 0);
    ASSERT_EQ(pages.size(), 5U); // head, tags, three pages of four packets
    pages[3].back() ^= 0x40;     // the CRC no longer matches
    std::vector<std::uint8_t> file = join({pages[0], pages[1], pages[2]});
    const std::string junk = "not a page at all, OggSnot either";
    file.insert(file.end(), junk.begin(), junk.end());
    const auto rest = join({pages[3], pages[4]});
    file.insert(file.end(), rest.begin(), rest.end());

    auto h = demux(file, 50);
    EXPECT_FALSE(h->error()) << h->error()->to_string();
    const auto warned = warnings(*h);
    EXPECT_TRUE(any_contains(warned, "not an Ogg page")) << ::testing::PrintToString(warned);
    EXPECT_TRUE(any_contains(warned, "damaged")) << ::testing::PrintToString(warned);
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), 8U); // the four packets of the damaged page are lost
    // The page after the loss keeps its true times (from its granule).
    EXPECT_EQ(out[4].meta().pts(), expected(8, 12, 0).pts);
    EXPECT_TRUE(out[4].meta().has_flag(BufferFlags::discont));
    EXPECT_EQ(out[7].meta().pts(), expected(11, 12, 0).pts);
}

TEST(OggDemuxTest, WarnsAboutATruncatedFileAndStillEnds) {
    const auto file = opus_file(3, 12, 0);
    const std::vector<std::uint8_t> cut(file.begin(), file.end() - 10);
    auto h = demux(cut, 64);
    EXPECT_FALSE(h->error());
    const auto warned = warnings(*h);
    EXPECT_TRUE(any_contains(warned, "truncated")) << ::testing::PrintToString(warned);
    EXPECT_EQ(pull_all(*h).size(), 8U);
}

TEST(OggDemuxTest, IgnoresStreamsOfOtherCodecs) {
    // A Vorbis-like stream first, then the Opus one, multiplexed.
    StreamWriter vorbis(1);
    const std::vector<std::uint8_t> vhead = {0x01, 'v', 'o', 'r', 'b', 'i', 's', 0, 0, 0, 0};
    auto vpages = vorbis.pages(vhead, 0, 0);
    StreamWriter opus_stream(2);
    auto opages = opus_stream.pages(opus::write_head(mono_header()), 4, 0);
    const auto file = join({vpages[0], opages[0], vpages[1], opages[1], opages[2]});
    auto h = demux(file, 4096);
    EXPECT_FALSE(h->error());
    EXPECT_TRUE(any_contains(warnings(*h), "is not Opus"));
    EXPECT_EQ(h->element().pad("src_00000001"), nullptr);
    EXPECT_NE(h->element().pad("src_00000002"), nullptr);
    EXPECT_EQ(pull_all(*h).size(), 4U);
}

TEST(OggDemuxTest, GivesEveryMultiplexedStreamItsPad) {
    StreamWriter a(0x10);
    StreamWriter b(0x20);
    auto pa = a.pages(opus::write_head(mono_header()), 8, 0);
    auto pb = b.pages(opus::write_head(mono_header()), 8, 0);
    // Both beginnings first, then the rest interleaved.
    const auto file = join({pa[0], pb[0], pa[1], pb[1], pa[2], pb[2], pa[3], pb[3]});
    auto h = demux(file, 100);
    EXPECT_FALSE(h->error());
    EXPECT_NE(h->element().pad("src_00000010"), nullptr);
    EXPECT_NE(h->element().pad("src_00000020"), nullptr);
    // The harness reads the first stream.
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), 8U);
    EXPECT_EQ(out[7].meta().pts(), expected(7, 8, 0).pts);
}

TEST(OggDemuxTest, TimesAChainedStreamAfterTheFirst) {
    // Two files one after the other, the same serial number (a chain).
    const auto first = opus_file(5, 5, 0);
    const auto second = opus_file(5, 5, 0);
    std::vector<std::uint8_t> file = first;
    file.insert(file.end(), second.begin(), second.end());
    auto h = demux(file, 1000);
    EXPECT_FALSE(h->error());
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), 10U);
    const ClockTime end_of_first = at_sample(5 * packet_samples - pre_skip);
    EXPECT_EQ(out[4].meta().pts() + out[4].meta().duration(), end_of_first);
    EXPECT_EQ(out[5].meta().pts(), end_of_first);
}

TEST(OggDemuxTest, InputWithoutOpusIsAnErrorNamingIt) {
    const std::string text = "this is not an Ogg file";
    auto h = demux(std::vector<std::uint8_t>(text.begin(), text.end()), 5, false);
    auto err = h->error();
    ASSERT_TRUE(err);
    EXPECT_NE(err->message().find("no Opus stream"), std::string::npos) << err->message();
}

TEST(OggDemuxTest, SurvivesDamagedFiles) {
    // Random bytes changed, cut or repeated: the demuxer ends with eos or an
    // error, and every buffer it pushes is a packet of the file.
    const auto file = opus_file(0x77, 20, 100);
    std::mt19937 rng(1234);
    for (int round = 0; round < 200; ++round) {
        std::vector<std::uint8_t> bad = file;
        const int edits = 1 + static_cast<int>(rng() % 8);
        for (int e = 0; e < edits; ++e) {
            const std::size_t at = rng() % bad.size();
            switch (rng() % 3) {
            case 0:
                bad[at] = static_cast<std::uint8_t>(rng());
                break;
            case 1:
                bad.resize(at + 1);
                break;
            default:
                bad.insert(bad.begin() + static_cast<std::ptrdiff_t>(at), bad.begin(),
                           bad.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(at, 40)));
                break;
            }
        }
        auto h = check::Harness::create("oggdemux").value();
        ASSERT_TRUE(h->start());
        for (std::size_t at = 0; at < bad.size(); at += 97) {
            const std::size_t n = std::min<std::size_t>(97, bad.size() - at);
            h->push(h->make_buffer(std::as_bytes(std::span(bad).subspan(at, n))).value());
        }
        h->push_event(Event::eos());
        EXPECT_TRUE(h->eos() || h->error()) << "round " << round;
        for (const Buffer& b : pull_all(*h)) {
            EXPECT_LE(b.size(), 4U) << "round " << round;
            EXPECT_FALSE(b.meta().pts().is_none());
        }
    }
}

TEST(OggDemuxTest, ABrokenOpusHeadIsAnError) {
    auto head = opus::write_head(mono_header());
    head[9] = 0; // zero channels
    StreamWriter w(4);
    const auto file = join(w.pages(head, 2, 0));
    auto h = check::Harness::create("oggdemux").value();
    ASSERT_TRUE(h->start());
    const auto bytes = std::as_bytes(std::span(file));
    EXPECT_EQ(h->push(h->make_buffer(bytes).value()), Flow::error);
    auto err = h->error();
    ASSERT_TRUE(err);
    EXPECT_TRUE(err->is(Errc::corrupt));
    EXPECT_NE(err->message().find("OpusHead"), std::string::npos) << err->message();
}

} // namespace
} // namespace parallax::oggdemux_test
