// tsdemux: transport streams written with the packet functions of
// mpegts.hpp (H.264 from openh264enc, AV1 from av1enc, Opus packets with
// control headers, KLV in metadata cells and as private data) demuxed
// whatever the chunk size: buffers, caps, timestamps and flags; damage,
// garbage and truncation as warnings; foreign input as an error; and a
// pipeline from mpegtsmux through tsdemux to the decoders.

#include <parallax/check/harness.hpp>
#include <parallax/codec/av1.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mpegts.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace parallax::tsdemux_test {
namespace {

using namespace std::chrono_literals;
using Bytes8 = std::vector<std::uint8_t>;

constexpr std::uint16_t pmt_pid = 0x1000;
constexpr std::uint64_t frame_ticks = 3600; // 25 fps
constexpr std::uint64_t frame_ns = 40'000'000;
constexpr std::uint64_t start_ticks = 900'000; // 10 s: the demuxer starts the program at 0

Bytes8 bytes_of(const Buffer& b) {
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

std::vector<Caps> caps_events(check::Harness& h) {
    std::vector<Caps> out;
    for (const Event& ev : h.take_events()) {
        if (ev.type() == EventType::caps) {
            out.push_back(*ev.caps_value());
        }
    }
    return out;
}

// Writes packets the way a muxer does, counting continuity per PID.
struct Writer {
    Bytes8 out;
    std::map<std::uint16_t, std::uint8_t> cc;

    void tables(const std::vector<mpegts::PmtStream>& streams, std::uint16_t program = 1) {
        mpegts::Pat pat;
        pat.programs.push_back({program, pmt_pid});
        mpegts::write_section_packets(out, mpegts::pat_pid, cc[mpegts::pat_pid], mpegts::write_pat(pat).value());
        mpegts::Pmt pmt;
        pmt.program_number = program;
        pmt.pcr_pid = streams.front().pid;
        pmt.streams = streams;
        mpegts::write_section_packets(out, pmt_pid, cc[pmt_pid], mpegts::write_pmt(pmt).value());
    }

    void pes(std::uint16_t pid, std::uint8_t stream_id, std::optional<std::uint64_t> pts,
             std::optional<std::uint64_t> dts, const Bytes8& payload, bool rap = false) {
        Bytes8 p;
        EXPECT_TRUE(mpegts::write_pes_header(p, stream_id, pts, dts, payload.size()));
        p.insert(p.end(), payload.begin(), payload.end());
        std::size_t pos = 0;
        bool first = true;
        mpegts::AdaptationField af;
        af.random_access = true;
        while (pos < p.size()) {
            pos += mpegts::write_packet(out, pid, first, cc[pid], first && rap ? &af : nullptr,
                                        std::span<const std::uint8_t>(p).subspan(pos));
            cc[pid] = static_cast<std::uint8_t>((cc[pid] + 1) & 0x0F);
            first = false;
        }
    }
};

// Feeds `file` to a tsdemux harness in pieces of `piece` bytes, then eos.
std::unique_ptr<check::Harness> demux(const Bytes8& file, std::size_t piece, const std::string& props = "",
                                      bool expect_eos = true) {
    auto h = check::Harness::create("tsdemux " + props).value();
    EXPECT_TRUE(h->set_input_caps(Caps::parse_static("video/mpegts, systemstream=(boolean)true")));
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

// --- H.264 ---------------------------------------------------------------

// `frames` 64x48 pictures encoded by openh264enc, an IDR every 4: one
// access unit each.
std::vector<Bytes8> h264_units(int frames, int width = 64, int height = 48) {
    std::vector<Bytes8> units;
    auto h = check::Harness::create("openh264enc gop-size=4").value();
    EXPECT_TRUE(h->start());
    EXPECT_TRUE(h->set_input_caps(
        Caps::parse(fmt::format("video/x-raw, format=I420, width={}, height={}, framerate=25/1", width, height))
            .value()));
    for (int i = 0; i < frames; ++i) {
        auto b =
            h->make_buffer(static_cast<std::size_t>(width * height * 3 / 2), static_cast<std::uint8_t>(16 + i * 9));
        b->meta().set_pts(ClockTime::from_ns(static_cast<std::uint64_t>(i) * frame_ns));
        EXPECT_EQ(h->push(std::move(*b)), Flow::ok);
        auto out = h->pull();
        EXPECT_TRUE(out);
        if (out) {
            units.push_back(bytes_of(*out));
        }
    }
    return units;
}

std::vector<Bytes8> nals_of(const Bytes8& au) {
    std::vector<Bytes8> out;
    const auto nals = h264::split_annex_b(au);
    EXPECT_TRUE(nals);
    if (!nals) {
        return out;
    }
    for (const h264::Nal& n : *nals) {
        out.emplace_back(n.bytes.begin(), n.bytes.end());
    }
    return out;
}

bool is_idr(const Bytes8& au) {
    const auto nals = h264::split_annex_b(au).value();
    return h264::is_idr(nals);
}

Bytes8 h264_ts(const std::vector<Bytes8>& units) {
    Writer w;
    w.tables({{mpegts::stream_type::h264, 0x100, {}}});
    for (std::size_t i = 0; i < units.size(); ++i) {
        const std::uint64_t t = start_ticks + i * frame_ticks;
        w.pes(0x100, mpegts::stream_id::video_0, t, t, units[i], is_idr(units[i]));
    }
    return w.out;
}

TEST(TsDemuxTest, HasGStreamersSometimesPads) {
    auto e = Registry::global().create("tsdemux");
    ASSERT_TRUE(e);
    ASSERT_NE((*e)->pad("sink"), nullptr);
    EXPECT_EQ((*e)->pad("sink")->pad_template().caps, Caps::parse_static("video/mpegts, systemstream=(boolean)true"));
    for (const char* name : {"video_%s", "audio_%s", "private_%s"}) {
        const PadTemplate* t = (*e)->find_template(name);
        ASSERT_NE(t, nullptr) << name;
        EXPECT_EQ(t->presence, PadPresence::sometimes);
    }
    EXPECT_TRUE((*e)->set_property("program-number", "3"));
    EXPECT_FALSE((*e)->set_property("program-number", "-2"));
}

TEST(TsDemuxTest, PushesH264AccessUnitsWithCapsFromTheSpsWhateverTheChunkSize) {
    constexpr int count = 12;
    const auto units = h264_units(count);
    ASSERT_EQ(units.size(), static_cast<std::size_t>(count));
    const auto file = h264_ts(units);
    for (const std::size_t piece : {std::size_t{1}, std::size_t{100}, std::size_t{188}, file.size()}) {
        SCOPED_TRACE(piece);
        auto h = demux(file, piece);
        EXPECT_FALSE(h->error());
        EXPECT_TRUE(warnings(*h).empty()) << fmt::format("{}", fmt::join(warnings(*h), "; "));
        EXPECT_NE(h->element().pad("video_0_0100"), nullptr);
        const auto out = pull_all(*h);
        ASSERT_EQ(out.size(), units.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
            SCOPED_TRACE(i);
            // One access unit per PES: handed on as it is, start codes included.
            EXPECT_EQ(bytes_of(out[i]), units[i]);
            EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns(i * frame_ns));
            EXPECT_EQ(out[i].meta().dts(), ClockTime::from_ns(i * frame_ns));
            EXPECT_EQ(out[i].meta().has_flag(BufferFlags::delta), !is_idr(units[i]));
            EXPECT_EQ(out[i].meta().has_flag(BufferFlags::keyframe), is_idr(units[i]));
            EXPECT_EQ(out[i].meta().has_flag(BufferFlags::discont), i == 0);
        }
        const auto caps = caps_events(*h);
        ASSERT_EQ(caps.size(), 1U); // the SPS does not change
        const Structure& s = caps.front().structure(0);
        EXPECT_EQ(s.name(), "video/x-h264");
        EXPECT_EQ(s.get_string("stream-format"), "byte-stream");
        EXPECT_EQ(s.get_string("alignment"), "au");
        EXPECT_EQ(s.get_int("width"), 64);
        EXPECT_EQ(s.get_int("height"), 48);
        EXPECT_TRUE(s.get_string("profile"));
    }
}

TEST(TsDemuxTest, SendsNewCapsWhenTheSpsChangesAndKeepsThreeByteStartCodes) {
    auto units = h264_units(4);
    const auto larger = h264_units(4, 96, 64);
    units.insert(units.end(), larger.begin(), larger.end());
    // The second picture with 3-byte start codes and two zero bytes before
    // the first: the access unit starts at its first start code.
    Bytes8 short_codes = {0, 0};
    for (const Bytes8& n : nals_of(units[1])) {
        short_codes.insert(short_codes.end(), {0, 0, 1});
        short_codes.insert(short_codes.end(), n.begin(), n.end());
    }
    units[1] = short_codes;
    auto h = demux(h264_ts(units), 188);
    EXPECT_FALSE(h->error());
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), units.size());
    EXPECT_EQ(bytes_of(out[1]), Bytes8(short_codes.begin() + 1, short_codes.end()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(nals_of(bytes_of(out[i])), nals_of(units[i])) << i;
    }
    const auto caps = caps_events(*h);
    ASSERT_EQ(caps.size(), 2U);
    EXPECT_EQ(caps[0].structure(0).get_int("width"), 64);
    EXPECT_EQ(caps[1].structure(0).get_int("width"), 96);
    EXPECT_EQ(caps[1].structure(0).get_int("height"), 64);
}

TEST(TsDemuxTest, SplitsAPesHoldingSeveralAccessUnitsAndJoinsParameterSetsToThePicture) {
    const auto units = h264_units(6);
    Writer w;
    w.tables({{mpegts::stream_type::h264, 0x100, {}}});
    // Units 0 and 1 in one PES; unit 2's parameter sets alone, then its picture.
    Bytes8 both = units[0];
    both.insert(both.end(), units[1].begin(), units[1].end());
    w.pes(0x100, mpegts::stream_id::video_0, start_ticks, std::nullopt, both, true);
    Bytes8 params;
    Bytes8 picture;
    for (const Bytes8& n : nals_of(units[4])) {
        const auto type = static_cast<h264::NalType>(n[0] & 0x1F);
        Bytes8& into = type == h264::NalType::sps || type == h264::NalType::pps ? params : picture;
        into.insert(into.end(), {0, 0, 0, 1});
        into.insert(into.end(), n.begin(), n.end());
    }
    ASSERT_FALSE(params.empty());
    w.pes(0x100, mpegts::stream_id::video_0, start_ticks + 2 * frame_ticks, std::nullopt, params, true);
    w.pes(0x100, mpegts::stream_id::video_0, start_ticks + 2 * frame_ticks, std::nullopt, picture);
    auto h = demux(w.out, 500);
    EXPECT_FALSE(h->error());
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(nals_of(bytes_of(out[0])), nals_of(units[0]));
    EXPECT_EQ(nals_of(bytes_of(out[1])), nals_of(units[1]));
    EXPECT_EQ(nals_of(bytes_of(out[2])), nals_of(units[4]));
    EXPECT_EQ(out[0].meta().pts(), ClockTime::zero());
    EXPECT_TRUE(out[1].meta().pts().is_none());
    EXPECT_EQ(out[2].meta().pts(), ClockTime::from_ns(2 * frame_ns));
    EXPECT_TRUE(out[2].meta().has_flag(BufferFlags::keyframe));
}

TEST(TsDemuxTest, StartsTheProgramAtItsSmallestFirstTimestampKeepingDtsBeforePts) {
    const auto units = h264_units(4);
    Writer w;
    w.tables({{mpegts::stream_type::h264, 0x100, {}}});
    for (std::size_t i = 0; i < units.size(); ++i) {
        const std::uint64_t dts = start_ticks + i * frame_ticks;
        w.pes(0x100, mpegts::stream_id::video_0, dts + 2 * frame_ticks, dts, units[i], i == 0);
    }
    auto h = demux(w.out, 1000);
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), 4U);
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].meta().dts(), ClockTime::from_ns(i * frame_ns));
        EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns((i + 2) * frame_ns));
    }
}

// --- Opus ----------------------------------------------------------------

// A 20 ms CELT packet (TOC config 31, one frame: 960 samples) telling its number.
Bytes8 opus_packet(std::size_t i) {
    return {0xF8, static_cast<std::uint8_t>(i), 0xAA, 0x55};
}

ClockTime samples_ns(std::uint64_t n) {
    return ClockTime::from_ns(n * ClockTime::ns_per_s / 48000);
}

// `count` packets, `per_pes` in each PES; the first trims `pre_skip`, the
// last `end_trim` samples.
Bytes8 opus_ts(std::size_t count, std::size_t per_pes, std::uint16_t pre_skip, std::uint16_t end_trim,
               std::uint8_t channel_config = 2) {
    Writer w;
    w.tables({{mpegts::stream_type::private_pes,
               0x101,
               {mpegts::registration_descriptor("Opus"), mpegts::opus_audio_descriptor(channel_config)}}});
    for (std::size_t i = 0; i < count; i += per_pes) {
        Bytes8 payload;
        for (std::size_t k = i; k < std::min(count, i + per_pes); ++k) {
            const auto p = opus_packet(k);
            mpegts::write_opus_control_header(payload, p.size(), k == 0 ? pre_skip : 0, k + 1 == count ? end_trim : 0);
            payload.insert(payload.end(), p.begin(), p.end());
        }
        // The PES time is that of its first decoded sample, trimmed or not.
        w.pes(0x101, mpegts::stream_id::private_stream_1, start_ticks + i * 1800, std::nullopt, payload);
    }
    return w.out;
}

TEST(TsDemuxTest, OpusFollowsTheTimingConventionWithPreSkipFromTheStartTrim) {
    constexpr std::size_t count = 10;
    for (const std::size_t per_pes : {std::size_t{1}, std::size_t{3}}) {
        for (const std::size_t piece : {std::size_t{1}, std::size_t{333}}) {
            SCOPED_TRACE(fmt::format("{} per PES, pieces of {}", per_pes, piece));
            auto h = demux(opus_ts(count, per_pes, 312, 500), piece);
            EXPECT_FALSE(h->error());
            EXPECT_TRUE(warnings(*h).empty()) << fmt::format("{}", fmt::join(warnings(*h), "; "));
            EXPECT_NE(h->element().pad("audio_0_0101"), nullptr);
            const auto out = pull_all(*h);
            ASSERT_EQ(out.size(), count);
            std::uint64_t total = 0;
            for (std::size_t i = 0; i < count; ++i) {
                SCOPED_TRACE(i);
                EXPECT_EQ(bytes_of(out[i]), opus_packet(i));
                const std::uint64_t begin = i == 0 ? 0 : i * 960 - 312;
                const std::uint64_t end = std::min<std::uint64_t>((i + 1) * 960 - 312, count * 960 - 312 - 500);
                EXPECT_EQ(out[i].meta().pts(), samples_ns(begin));
                EXPECT_NEAR(static_cast<double>(out[i].meta().pts().ns() + out[i].meta().duration().ns()),
                            static_cast<double>(samples_ns(end).ns()), 1.0);
                total += out[i].meta().duration().ns();
            }
            EXPECT_NEAR(static_cast<double>(total), static_cast<double>(samples_ns(count * 960 - 312 - 500).ns()),
                        static_cast<double>(count));
            const auto caps = caps_events(*h);
            ASSERT_EQ(caps.size(), 1U);
            auto head = opus::header_from_caps(caps[0]);
            ASSERT_TRUE(head);
            EXPECT_EQ(head->pre_skip, 312);
            EXPECT_EQ(head->channels, 2);
            EXPECT_EQ(head->mapping_family, 0);
        }
    }
}

TEST(TsDemuxTest, OpusChannelConfigurationsBecomeTheirOpusHead) {
    struct Case {
        std::uint8_t code;
        std::uint8_t channels;
        std::uint8_t family;
        std::uint8_t streams;
        std::uint8_t coupled;
    };
    for (const Case c :
         {Case{0, 2, 255, 2, 0}, Case{1, 1, 0, 1, 0}, Case{2, 2, 0, 1, 1}, Case{6, 6, 1, 4, 2}, Case{8, 8, 1, 5, 3}}) {
        SCOPED_TRACE(int{c.code});
        auto h = demux(opus_ts(2, 1, 0, 0, c.code), 4096);
        const auto caps = caps_events(*h);
        ASSERT_EQ(caps.size(), 1U);
        auto head = opus::header_from_caps(caps[0]);
        ASSERT_TRUE(head) << head.error().message();
        EXPECT_EQ(head->channels, c.channels);
        EXPECT_EQ(head->mapping_family, c.family);
        EXPECT_EQ(head->stream_count, c.streams);
        EXPECT_EQ(head->coupled_count, c.coupled);
        EXPECT_EQ(head->pre_skip, 0);
    }
}

// --- AV1 -----------------------------------------------------------------

TEST(TsDemuxTest, PushesAv1TemporalUnitsWithAv1cFromTheDescriptorAndSequenceHeader) {
    ASSERT_NE(Registry::global().find("av1enc"), nullptr) << "av1enc is always built";
    auto enc = check::Harness::create("av1enc keyframe-max-dist=5 cpu-used=9").value();
    ASSERT_TRUE(enc->start());
    ASSERT_TRUE(
        enc->set_input_caps(Caps::parse("video/x-raw, format=I420, width=64, height=48, framerate=25/1").value()));
    for (int i = 0; i < 12; ++i) {
        auto b = enc->make_buffer(64 * 48 * 3 / 2, static_cast<std::uint8_t>(20 + i * 7));
        b->meta().set_pts(ClockTime::from_ns(static_cast<std::uint64_t>(i) * frame_ns));
        ASSERT_EQ(enc->push(std::move(*b)), Flow::ok);
    }
    enc->push_event(Event::eos());
    ASSERT_TRUE(enc->wait_eos());
    const auto tus = pull_all(*enc);
    ASSERT_EQ(tus.size(), 12U);
    Bytes8 codec_data;
    for (const Caps& c : caps_events(*enc)) {
        if (const auto* v = c.structure(0).get("codec_data"); v != nullptr && v->get_if<Bytes>() != nullptr) {
            codec_data = v->get_if<Bytes>()->data;
        }
    }
    ASSERT_GE(codec_data.size(), 4U);
    Writer w;
    w.tables({{mpegts::stream_type::private_pes,
               0x1E1,
               {mpegts::registration_descriptor("AV01"), mpegts::av1_video_descriptor(codec_data).value()}}});
    for (std::size_t i = 0; i < tus.size(); ++i) {
        const std::uint64_t t = start_ticks + i * frame_ticks;
        w.pes(0x1E1, mpegts::stream_id::private_stream_1, t, std::nullopt,
              mpegts::av1_to_start_code(bytes_of(tus[i])).value(), !tus[i].meta().has_flag(BufferFlags::delta));
    }
    auto h = demux(w.out, 777);
    EXPECT_FALSE(h->error());
    EXPECT_TRUE(warnings(*h).empty()) << fmt::format("{}", fmt::join(warnings(*h), "; "));
    EXPECT_NE(h->element().pad("video_0_01e1"), nullptr);
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), tus.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        SCOPED_TRACE(i);
        // The same OBUs (the temporal delimiter may be written differently).
        const auto got_bytes = bytes_of(out[i]);
        const auto a = av1::split_obus(got_bytes).value();
        const auto in = bytes_of(tus[i]);
        const auto b = av1::split_obus(in).value();
        std::vector<Bytes8> got;
        std::vector<Bytes8> want;
        for (const auto& o : a) {
            if (o.type != av1::ObuType::temporal_delimiter) {
                got.emplace_back(o.payload.begin(), o.payload.end());
            }
        }
        for (const auto& o : b) {
            if (o.type != av1::ObuType::temporal_delimiter) {
                want.emplace_back(o.payload.begin(), o.payload.end());
            }
        }
        EXPECT_EQ(got, want);
        EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns(i * frame_ns));
        EXPECT_EQ(out[i].meta().has_flag(BufferFlags::delta), tus[i].meta().has_flag(BufferFlags::delta));
    }
    const auto caps = caps_events(*h);
    ASSERT_FALSE(caps.empty());
    const Structure& s = caps.front().structure(0);
    EXPECT_EQ(s.name(), "video/x-av1");
    EXPECT_EQ(s.get_string("stream-format"), "obu-stream");
    EXPECT_EQ(s.get_string("alignment"), "tu");
    EXPECT_EQ(s.get_int("width"), 64);
    const CapsValue* cd = s.get("codec_data");
    ASSERT_NE(cd, nullptr);
    ASSERT_NE(cd->get_if<Bytes>(), nullptr);
    EXPECT_TRUE(av1::parse_av1c(cd->get_if<Bytes>()->data));
    EXPECT_EQ(Bytes8(cd->get_if<Bytes>()->data.begin(), cd->get_if<Bytes>()->data.begin() + 4),
              Bytes8(codec_data.begin(), codec_data.begin() + 4));
}

// A sequence header with timing info (num_units_in_display_tick 1001,
// time_scale 60000, 4 ticks per picture), as tests/unit/codec/av1_test.cpp
// writes it, and nothing else.
Bytes8 timed_sequence_header_obu() {
    Bytes8 bits;
    std::size_t used = 0;
    auto put = [&](std::uint32_t value, unsigned n) {
        for (unsigned i = n; i-- > 0;) {
            if (used % 8 == 0) {
                bits.push_back(0);
            }
            if (((value >> i) & 1U) != 0) {
                bits.back() = static_cast<std::uint8_t>(bits.back() | (0x80U >> (used % 8)));
            }
            ++used;
        }
    };
    put(0, 3);        // profile 0
    put(0, 1);        // still_picture
    put(0, 1);        // reduced_still_picture_header
    put(1, 1);        // timing_info_present_flag
    put(1001, 32);    // num_units_in_display_tick
    put(60000, 32);   // time_scale
    put(1, 1);        // equal_picture_interval
    put(0b00100, 5);  // num_ticks_per_picture_minus_1 = 3 (uvlc)
    put(0, 1);        // decoder_model_info_present_flag
    put(0, 1);        // initial_display_delay_present_flag
    put(0, 5);        // operating_points_cnt_minus_1
    put(0, 12);       // operating_point_idc[0]
    put(8, 5);        // seq_level_idx[0]
    put(0, 1);        // seq_tier[0] (levels above 7 have one)
    put(6, 4);        // frame_width_bits_minus_1
    put(5, 4);        // frame_height_bits_minus_1
    put(63, 7);       // max_frame_width_minus_1
    put(47, 6);       // max_frame_height_minus_1
    put(0, 1);        // frame_id_numbers_present_flag
    put(0, 1);        // use_128x128_superblock
    put(0, 1);        // enable_filter_intra
    put(0, 1);        // enable_intra_edge_filter
    put(0, 1);        // enable_interintra_compound
    put(0, 1);        // enable_masked_compound
    put(0, 1);        // enable_warped_motion
    put(0, 1);        // enable_dual_filter
    put(0, 1);        // enable_order_hint
    put(1, 1);        // seq_choose_screen_content_tools
    put(1, 1);        // seq_choose_integer_mv
    put(0, 1);        // enable_superres
    put(0, 1);        // enable_cdef
    put(0, 1);        // enable_restoration
    put(0, 1);        // high_bitdepth
    put(0, 1);        // mono_chrome
    put(0, 1);        // color_description_present_flag
    put(0, 1);        // color_range
    put(0, 2);        // chroma_sample_position
    put(0, 1);        // separate_uv_delta_q
    put(0, 1);        // film_grain_params_present
    put(1, 1);        // trailing one bit
    Bytes8 out{0x0A}; // sequence header OBU with obu_size
    av1::write_leb128(static_cast<std::uint32_t>(bits.size()), out);
    out.insert(out.end(), bits.begin(), bits.end());
    return out;
}

TEST(TsDemuxTest, Av1CapsTakeTheFrameRateOfTheSequenceHeadersTimingInfo) {
    const Bytes8 seq_obu = timed_sequence_header_obu();
    auto seq = av1::parse_sequence_header(av1::read_obu(seq_obu, 0).value().payload);
    ASSERT_TRUE(seq) << seq.error().message();
    ASSERT_TRUE(seq->timing_info_present);
    Bytes8 tu = {0x12, 0x00};
    tu.insert(tu.end(), seq_obu.begin(), seq_obu.end());
    Writer w;
    w.tables({{mpegts::stream_type::private_pes, 0x1E1, {mpegts::registration_descriptor("AV01")}}});
    w.pes(0x1E1, mpegts::stream_id::private_stream_1, start_ticks, std::nullopt, mpegts::av1_to_start_code(tu).value());
    auto h = demux(w.out, 4096);
    EXPECT_EQ(pull_all(*h).size(), 1U);
    const auto caps = caps_events(*h);
    ASSERT_FALSE(caps.empty());
    EXPECT_EQ(caps.back().structure(0).get_fraction("framerate"), Fraction::make(60000, 4004).value());
    EXPECT_EQ(caps.back().structure(0).get_int("width"), 64);
}

// --- KLV -----------------------------------------------------------------

Bytes8 klv_packet(std::size_t i, std::size_t value_size) {
    Bytes8 p = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00};
    p.push_back(static_cast<std::uint8_t>(value_size));
    for (std::size_t k = 0; k < value_size; ++k) {
        p.push_back(static_cast<std::uint8_t>(i * 3 + k));
    }
    return p;
}

TEST(TsDemuxTest, PushesOneBufferPerKlvPacketSynchronousOrAsynchronous) {
    for (const bool cells : {true, false}) {
        SCOPED_TRACE(cells);
        Writer w;
        if (cells) {
            w.tables({{mpegts::stream_type::metadata_pes, 0x102, {mpegts::klv_metadata_descriptor(0)}}});
        } else {
            w.tables({{mpegts::stream_type::private_pes, 0x102, {mpegts::registration_descriptor("KLVA")}}});
        }
        // Two KLV packets in each PES.
        for (std::size_t i = 0; i < 5; ++i) {
            Bytes8 klv = klv_packet(2 * i, 5);
            const auto second = klv_packet(2 * i + 1, 9);
            klv.insert(klv.end(), second.begin(), second.end());
            Bytes8 payload;
            if (cells) {
                mpegts::write_metadata_cell(payload, 0, static_cast<std::uint8_t>(i), klv);
            } else {
                payload = klv;
            }
            w.pes(0x102, cells ? mpegts::stream_id::metadata : mpegts::stream_id::private_stream_1,
                  start_ticks + i * frame_ticks, std::nullopt, payload);
        }
        auto h = demux(w.out, 50);
        EXPECT_FALSE(h->error());
        EXPECT_TRUE(warnings(*h).empty()) << fmt::format("{}", fmt::join(warnings(*h), "; "));
        EXPECT_NE(h->element().pad("private_0_0102"), nullptr);
        const auto out = pull_all(*h);
        ASSERT_EQ(out.size(), 10U);
        for (std::size_t i = 0; i < out.size(); ++i) {
            EXPECT_EQ(bytes_of(out[i]), klv_packet(i, i % 2 == 0 ? 5 : 9)) << i;
            EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns(i / 2 * frame_ns)) << i;
        }
        const auto caps = caps_events(*h);
        ASSERT_EQ(caps.size(), 1U);
        EXPECT_EQ(caps[0], Caps::parse_static("meta/x-klv, parsed=(boolean)true"));
    }
}

TEST(TsDemuxTest, AddsAPadForAStreamANewPmtVersionBrings) {
    const auto units = h264_units(6);
    Writer w;
    w.tables({{mpegts::stream_type::h264, 0x100, {}}});
    for (std::size_t i = 0; i < 3; ++i) {
        w.pes(0x100, mpegts::stream_id::video_0, start_ticks + i * frame_ticks, std::nullopt, units[i]);
    }
    mpegts::Pmt pmt;
    pmt.version = 1;
    pmt.pcr_pid = 0x100;
    pmt.streams.push_back({mpegts::stream_type::h264, 0x100, {}});
    pmt.streams.push_back({mpegts::stream_type::private_pes, 0x102, {mpegts::registration_descriptor("KLVA")}});
    mpegts::write_section_packets(w.out, pmt_pid, w.cc[pmt_pid], mpegts::write_pmt(pmt).value());
    for (std::size_t i = 3; i < 6; ++i) {
        w.pes(0x100, mpegts::stream_id::video_0, start_ticks + i * frame_ticks, std::nullopt, units[i]);
        w.pes(0x102, mpegts::stream_id::private_stream_1, start_ticks + i * frame_ticks, std::nullopt,
              klv_packet(i, 4));
    }
    auto h = demux(w.out, 256);
    EXPECT_FALSE(h->error());
    EXPECT_NE(h->element().pad("private_0_0102"), nullptr);
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), 6U);
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns(i * frame_ns)) << i;
    }
}

// --- Damage --------------------------------------------------------------

TEST(TsDemuxTest, GarbageAndContinuityGapsAreWarningsAndTheRestComesOut) {
    const auto units = h264_units(8);
    auto file = h264_ts(units);
    // Frame 4 loses the first packet of its PES; garbage after the tables.
    std::size_t packets_before = 0;
    {
        Writer w;
        w.tables({{mpegts::stream_type::h264, 0x100, {}}});
        for (std::size_t i = 0; i < 4; ++i) {
            w.pes(0x100, mpegts::stream_id::video_0, 0, 0, units[i]);
        }
        packets_before = w.out.size();
    }
    file.erase(file.begin() + static_cast<std::ptrdiff_t>(packets_before),
               file.begin() + static_cast<std::ptrdiff_t>(packets_before + mpegts::packet_size));
    const Bytes8 garbage(1000, 0x11);
    file.insert(file.begin() + 2 * mpegts::packet_size, garbage.begin(), garbage.end());
    auto h = demux(file, 64);
    EXPECT_FALSE(h->error());
    const auto w = warnings(*h);
    EXPECT_TRUE(any_contains(w, "1000 bytes at byte 376 are not transport packets"))
        << fmt::format("{}", fmt::join(w, "; "));
    EXPECT_TRUE(any_contains(w, "continuity counter")) << fmt::format("{}", fmt::join(w, "; "));
    const auto out = pull_all(*h);
    ASSERT_EQ(out.size(), 7U);
    EXPECT_EQ(nals_of(bytes_of(out[4])), nals_of(units[5]));
    EXPECT_TRUE(out[4].meta().has_flag(BufferFlags::discont));
    EXPECT_FALSE(out[5].meta().has_flag(BufferFlags::discont));
}

TEST(TsDemuxTest, ATruncatedFileGivesAWarningAndWhatCameBefore) {
    const auto units = h264_units(8);
    const auto file = h264_ts(units);
    const Bytes8 cut(file.begin(), file.end() - 100);
    auto h = demux(cut, 1000);
    EXPECT_FALSE(h->error());
    EXPECT_TRUE(any_contains(warnings(*h), "truncated")) << fmt::format("{}", fmt::join(warnings(*h), "; "));
    const auto out = pull_all(*h);
    EXPECT_GE(out.size(), 7U);
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i].meta().pts(), ClockTime::from_ns(i * frame_ns));
    }
}

TEST(TsDemuxTest, InputThatIsNoTransportStreamIsAnErrorNamingIt) {
    const std::string text(2000, 'x');
    auto h = demux(Bytes8(text.begin(), text.end()), 100, "", false);
    auto err = h->error();
    ASSERT_TRUE(err);
    EXPECT_NE(err->message().find("not an MPEG transport stream"), std::string::npos) << err->message();

    // Packets, but only of a stream type tsdemux does not read.
    Writer w;
    w.tables({{0x03, 0x100, {}}});
    w.pes(0x100, 0xC0, 1000, std::nullopt, Bytes8(100, 1));
    auto h2 = demux(w.out, 100, "", false);
    ASSERT_TRUE(h2->error());
    EXPECT_NE(h2->error()->message().find("no H.264, Opus, AV1 or KLV stream"), std::string::npos)
        << h2->error()->message();
    EXPECT_TRUE(any_contains(warnings(*h2), "stream_type 0x03"));
}

TEST(TsDemuxTest, ReadsTheProgramNumberAskedFor) {
    Writer w;
    w.tables({{mpegts::stream_type::h264, 0x100, {}}}, 5);
    w.pes(0x100, mpegts::stream_id::video_0, 1000, std::nullopt, h264_units(1)[0]);
    auto h = demux(w.out, 4096, "program-number=5");
    EXPECT_FALSE(h->error());
    EXPECT_NE(h->element().pad("video_0_0100"), nullptr) << "pads are named by program generation, not number";
    EXPECT_EQ(pull_all(*h).size(), 1U);
    auto other = demux(w.out, 4096, "program-number=4", false);
    ASSERT_TRUE(other->error());
    EXPECT_NE(other->error()->message().find("program 4"), std::string::npos) << other->error()->message();
}

TEST(TsDemuxTest, SurvivesDamagedFiles) {
    Bytes8 file = h264_ts(h264_units(10));
    const auto audio = opus_ts(20, 2, 312, 100);
    file.insert(file.end(), audio.begin(), audio.end());
    std::mt19937 rng(11);
    for (int round = 0; round < 150; ++round) {
        Bytes8 bad = file;
        const int edits = 1 + static_cast<int>(rng() % 10);
        for (int e = 0; e < edits && !bad.empty(); ++e) {
            const std::size_t at = rng() % bad.size();
            if (rng() % 6 == 0) {
                bad.resize(at + 1);
            } else if (rng() % 3 == 0) {
                bad.erase(bad.begin() + static_cast<std::ptrdiff_t>(at));
            } else {
                bad[at] = static_cast<std::uint8_t>(rng());
            }
        }
        auto h = check::Harness::create("tsdemux").value();
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

// --- Pipelines -----------------------------------------------------------

TEST(TsDemuxTest, APipelineDecodesWhatMpegtsmuxWroteExactly) {
    for (const char* f : {"av1enc", "opusenc", "dav1ddec", "opusdec", "mpegtsmux"}) {
        ASSERT_NE(Registry::global().find(f), nullptr) << f << " is always built";
    }
    const std::string path =
        (std::filesystem::temp_directory_path() / fmt::format("plx-tsdemux-{}.ts", ::getpid())).string();
    auto write = Pipeline::parse(fmt::format(
        "mpegtsmux name=m ! filesink location={}  videotestsrc num-buffers=50 ! "
        "video/x-raw,format=I420,width=64,height=48,framerate=25/1 ! av1enc keyframe-max-dist=10 cpu-used=9 ! "
        "m.sink_256  audiotestsrc num-buffers=100 samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! "
        "opusenc ! m.sink_257",
        path));
    ASSERT_TRUE(write) << write.error().to_string();
    auto wrote = (*write)->run(120s);
    ASSERT_TRUE(wrote) << wrote.error().to_string();

    std::mutex mutex;
    std::vector<ClockTime> video_pts;
    std::uint64_t audio_bytes = 0;
    auto read = Pipeline::parse(fmt::format("filesrc location={} ! tsdemux name=d  d.video_0_0100 ! dav1ddec ! "
                                            "appsink name=v sync=false  d.audio_0_0101 ! opusdec ! "
                                            "audio/x-raw,format=S16LE ! appsink name=a sync=false",
                                            path));
    ASSERT_TRUE(read) << read.error().to_string();
    auto v = (*read)->get<AppSink>("v");
    auto a = (*read)->get<AppSink>("a");
    ASSERT_TRUE(v && a);
    (*v)->set_new_sample([&](AppSink& s) {
        if (auto sample = s.pull_sample()) {
            std::lock_guard lock(mutex);
            video_pts.push_back(sample->buffer.meta().pts());
        }
    });
    (*a)->set_new_sample([&](AppSink& s) {
        if (auto sample = s.pull_sample()) {
            std::lock_guard lock(mutex);
            audio_bytes += sample->buffer.size();
        }
    });
    auto ok = (*read)->run(120s);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    ASSERT_EQ(video_pts.size(), 50U);
    // The muxer's timestamps, moved to start at 0 (both streams start at 0).
    for (std::size_t i = 0; i < video_pts.size(); ++i) {
        EXPECT_NEAR(static_cast<double>(video_pts[i].ns()), static_cast<double>(i * frame_ns), 11112.0) << i;
    }
    EXPECT_EQ(audio_bytes / 4, 100U * 960U); // S16LE stereo: pre-skip and end trimmed, as written
    std::remove(path.c_str());
}

} // namespace
} // namespace parallax::tsdemux_test
