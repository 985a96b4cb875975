// mpegts::Demuxer: transport streams written with the packet functions of
// mpegts.hpp read back the same whatever the pieces they arrive in;
// garbage, continuity gaps, duplicates, damaged sections, transport
// errors, PMT updates, program selection, PTS wrap and truncation.

#include <parallax/container/mpegts.hpp>
#include <parallax/container/mpegts_demux.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace parallax::mpegts {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

constexpr std::uint16_t pmt_pid = 0x1000;
constexpr std::uint16_t video_pid = 0x100;
constexpr std::uint16_t audio_pid = 0x101;
constexpr std::uint16_t klv_pid = 0x102;
constexpr std::uint16_t other_pid = 0x103;

// Writes packets the way a muxer does, counting continuity per PID.
struct Writer {
    Bytes8 out;
    std::map<std::uint16_t, std::uint8_t> cc;

    void section(std::uint16_t pid, const Bytes8& s) { write_section_packets(out, pid, cc[pid], s); }

    void pat(std::vector<PatProgram> programs, std::uint8_t version = 0) {
        Pat p;
        p.version = version;
        p.programs = std::move(programs);
        section(pat_pid, write_pat(p).value());
    }

    static Pmt standard_pmt(std::uint8_t version = 0) {
        Pmt p;
        p.version = version;
        p.pcr_pid = video_pid;
        p.streams.push_back({stream_type::h264, video_pid, {}});
        p.streams.push_back(
            {stream_type::private_pes, audio_pid, {registration_descriptor("Opus"), opus_audio_descriptor(2)}});
        p.streams.push_back({stream_type::metadata_pes, klv_pid, {klv_metadata_descriptor(0)}});
        p.streams.push_back({0x03, other_pid, {}}); // MPEG-1 audio: not read
        return p;
    }

    void pmt(const Pmt& p, std::uint16_t pid = pmt_pid) { section(pid, write_pmt(p).value()); }

    // A PES of `payload` in as many packets as it takes; the first carries
    // an adaptation field with random_access when `rap`.
    void pes(std::uint16_t pid, std::uint8_t stream_id, std::optional<std::uint64_t> pts,
             std::optional<std::uint64_t> dts, const Bytes8& payload, bool rap = false) {
        Bytes8 p;
        EXPECT_TRUE(write_pes_header(p, stream_id, pts, dts, payload.size()));
        p.insert(p.end(), payload.begin(), payload.end());
        std::size_t pos = 0;
        bool first = true;
        AdaptationField af;
        af.random_access = true;
        while (pos < p.size()) {
            pos += write_packet(out, pid, first, cc[pid], first && rap ? &af : nullptr,
                                std::span<const std::uint8_t>(p).subspan(pos));
            cc[pid] = static_cast<std::uint8_t>((cc[pid] + 1) & 0x0F);
            first = false;
        }
    }
};

Bytes8 payload_of(std::size_t size, std::uint8_t seed) {
    Bytes8 b(size);
    for (std::size_t i = 0; i < size; ++i) {
        b[i] = static_cast<std::uint8_t>(seed + i * 7);
    }
    return b;
}

// A program with video (one PES of 3000 bytes, then small ones), audio, KLV
// and a stream of an unknown type.
Bytes8 sample_stream(std::size_t frames = 6) {
    Writer w;
    w.pat({{0, 0x10}, {1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    for (std::size_t i = 0; i < frames; ++i) {
        const std::uint64_t t = 90000 + i * 3600;
        w.pes(video_pid, stream_id::video_0, t + 7200, t, payload_of(i == 0 ? 3000 : 200 + i, 1), i % 3 == 0);
        w.pes(audio_pid, stream_id::private_stream_1, t, std::nullopt, payload_of(50, 2));
        w.pes(klv_pid, stream_id::metadata, t, std::nullopt, payload_of(30, 3));
        w.pes(other_pid, 0xC0, t, std::nullopt, payload_of(100, 4));
        if (i == 2) {
            w.pat({{0, 0x10}, {1, pmt_pid}}); // repeated tables change nothing
            w.pmt(Writer::standard_pmt());
        }
    }
    return w.out;
}

// An event as text: what tests compare.
std::string describe(const DemuxEvent& e) {
    switch (e.type) {
    case DemuxEvent::Type::program: {
        std::string s =
            fmt::format("program {} v{} pcr {:x}:", e.program.program_number, e.program.version, e.program.pcr_pid);
        for (const StreamInfo& st : e.program.streams) {
            s += fmt::format(" {:x}/{:02x}/{}", st.pid, st.stream_type, to_string(st.codec));
        }
        s += " +";
        for (auto p : e.program.added) {
            s += fmt::format(" {:x}", p);
        }
        s += " -";
        for (auto p : e.program.removed) {
            s += fmt::format(" {:x}", p);
        }
        return s;
    }
    case DemuxEvent::Type::pes: {
        std::uint32_t sum = 0;
        for (const std::uint8_t b : e.pes.payload) {
            sum = sum * 31 + b;
        }
        return fmt::format("pes {:x} id {:02x} pts {} dts {} disc {} rap {} at {} size {} sum {:08x}", e.pes.pid,
                           e.pes.stream_id, e.pes.pts ? std::to_string(*e.pes.pts) : "-",
                           e.pes.dts ? std::to_string(*e.pes.dts) : "-", e.pes.discontinuity, e.pes.random_access,
                           e.pes.offset, e.pes.payload.size(), sum);
    }
    case DemuxEvent::Type::problem:
        return "problem " + (e.problem ? e.problem->message() : std::string());
    }
    return {};
}

std::vector<std::string> run(const Bytes8& data, const std::vector<std::size_t>& cuts, Demuxer::Options o = {}) {
    Demuxer d(o);
    std::vector<std::string> out;
    std::size_t from = 0;
    auto take = [&](std::vector<DemuxEvent> events) {
        for (const DemuxEvent& e : events) {
            out.push_back(describe(e));
        }
    };
    for (const std::size_t cut : cuts) {
        take(d.push(std::span<const std::uint8_t>(data).subspan(from, cut - from)));
        from = cut;
    }
    take(d.push(std::span<const std::uint8_t>(data).subspan(from)));
    take(d.finish());
    return out;
}

std::vector<std::string> run(const Bytes8& data, Demuxer::Options o = {}) {
    return run(data, {}, o);
}

std::vector<std::string> only(const std::vector<std::string>& events, std::string_view prefix) {
    std::vector<std::string> out;
    for (const std::string& e : events) {
        if (e.starts_with(prefix)) {
            out.push_back(e);
        }
    }
    return out;
}

bool any_contains(const std::vector<std::string>& texts, std::string_view what) {
    return std::any_of(texts.begin(), texts.end(), [&](const std::string& t) { return t.find(what) != t.npos; });
}

TEST(MpegtsDemuxTest, ReadsTheProgramAndEveryPesOfKnownStreams) {
    const auto data = sample_stream();
    Demuxer d;
    auto events = d.push(data);
    auto tail = d.finish();
    events.insert(events.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
    ASSERT_FALSE(events.empty());
    ASSERT_EQ(events[0].type, DemuxEvent::Type::program);
    const ProgramInfo& p = events[0].program;
    EXPECT_EQ(p.program_number, 1);
    EXPECT_EQ(p.pmt_pid, pmt_pid);
    ASSERT_EQ(p.streams.size(), 4U);
    EXPECT_EQ(p.streams[0].codec, CodecKind::h264);
    EXPECT_EQ(p.streams[1].codec, CodecKind::opus);
    EXPECT_EQ(p.streams[2].codec, CodecKind::klv);
    EXPECT_TRUE(p.streams[2].klv_cells);
    EXPECT_EQ(p.streams[3].codec, CodecKind::unknown);
    EXPECT_EQ(p.added.size(), 4U);
    std::map<std::uint16_t, std::vector<const PesPacket*>> pes;
    std::size_t programs = 0;
    std::size_t problems = 0;
    for (const DemuxEvent& e : events) {
        if (e.type == DemuxEvent::Type::pes) {
            pes[e.pes.pid].push_back(&e.pes);
        } else if (e.type == DemuxEvent::Type::program) {
            ++programs;
        } else {
            ++problems;
            EXPECT_NE(e.problem->message().find("0x0103"), std::string::npos) << e.problem->message();
        }
    }
    EXPECT_EQ(programs, 1U);
    EXPECT_EQ(problems, 1U); // the unknown stream, once
    EXPECT_EQ(pes.count(other_pid), 0U);
    ASSERT_EQ(pes[video_pid].size(), 6U);
    ASSERT_EQ(pes[audio_pid].size(), 6U);
    ASSERT_EQ(pes[klv_pid].size(), 6U);
    for (std::size_t i = 0; i < 6; ++i) {
        const PesPacket& v = *pes[video_pid][i];
        EXPECT_EQ(v.payload, payload_of(i == 0 ? 3000 : 200 + i, 1)) << i;
        EXPECT_EQ(v.stream_id, stream_id::video_0);
        EXPECT_EQ(v.pts, std::int64_t(90000 + i * 3600 + 7200));
        EXPECT_EQ(v.dts, std::int64_t(90000 + i * 3600));
        EXPECT_EQ(v.random_access, i % 3 == 0);
        EXPECT_EQ(v.discontinuity, i == 0);
        EXPECT_EQ(pes[audio_pid][i]->payload, payload_of(50, 2));
        EXPECT_FALSE(pes[audio_pid][i]->dts);
        EXPECT_EQ(pes[klv_pid][i]->payload, payload_of(30, 3));
    }
    EXPECT_EQ(d.bytes_skipped(), 0U);
    EXPECT_EQ(d.bytes_in(), data.size());
    EXPECT_EQ(d.packets(), data.size() / packet_size);
    EXPECT_TRUE(d.has_program());
}

TEST(MpegtsDemuxTest, EveryCutGivesTheSameEvents) {
    const auto data = sample_stream(4);
    const auto whole = run(data);
    ASSERT_GT(only(whole, "pes").size(), 10U);
    for (std::size_t cut = 1; cut < data.size(); ++cut) {
        ASSERT_EQ(run(data, std::vector<std::size_t>{cut}), whole) << "cut at byte " << cut;
    }
    std::vector<std::size_t> bytes(data.size() - 1);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = i + 1;
    }
    EXPECT_EQ(run(data, bytes), whole);
}

TEST(MpegtsDemuxTest, SkipsAndCountsGarbageBetweenPackets) {
    const auto clean = sample_stream();
    Bytes8 dirty;
    std::mt19937 rng(7);
    std::uint64_t garbage = 0;
    // Garbage at the start, and after every fifth packet (no sync byte in it).
    for (std::size_t i = 0; i < clean.size(); i += packet_size) {
        if (i % (5 * packet_size) == 0) {
            const std::size_t n = 1 + rng() % 300;
            for (std::size_t k = 0; k < n; ++k) {
                dirty.push_back(static_cast<std::uint8_t>(rng() % 0x40));
            }
            garbage += n;
        }
        dirty.insert(dirty.end(), clean.begin() + static_cast<std::ptrdiff_t>(i),
                     clean.begin() + static_cast<std::ptrdiff_t>(i + packet_size));
    }
    Demuxer d;
    std::vector<std::string> events;
    for (std::size_t at = 0; at < dirty.size(); at += 61) {
        for (const auto& e :
             d.push(std::span<const std::uint8_t>(dirty).subspan(at, std::min<std::size_t>(61, dirty.size() - at)))) {
            events.push_back(describe(e));
        }
    }
    for (const auto& e : d.finish()) {
        events.push_back(describe(e));
    }
    EXPECT_EQ(d.bytes_skipped(), garbage);
    EXPECT_EQ(d.packets(), clean.size() / packet_size);
    EXPECT_TRUE(any_contains(only(events, "problem"), "are not transport packets: skipped"));
    EXPECT_TRUE(any_contains(only(events, "problem"), "at byte 0"));
    // The same payloads come out (offsets and discont flags differ).
    auto payloads = [](const std::vector<std::string>& ev) {
        std::vector<std::string> out;
        for (const std::string& e : only(ev, "pes")) {
            out.push_back(e.substr(e.find("size")));
        }
        return out;
    };
    EXPECT_EQ(payloads(events), payloads(run(clean)));
}

TEST(MpegtsDemuxTest, KeepsTheFirstPacketsWhenGarbageFollowsThem) {
    Writer w;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    const std::size_t tables = w.out.size();
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(100, 1));
    Bytes8 data = w.out;
    const Bytes8 garbage(500, 0x11);
    data.insert(data.begin() + static_cast<std::ptrdiff_t>(tables), garbage.begin(), garbage.end());
    const auto events = run(data);
    EXPECT_EQ(only(events, "program").size(), 1U) << fmt::format("{}", fmt::join(events, "\n"));
    EXPECT_EQ(only(events, "pes").size(), 1U);
    EXPECT_TRUE(any_contains(only(events, "problem"), fmt::format("500 bytes at byte {}", tables)));
}

TEST(MpegtsDemuxTest, ReportsAContinuityGapBetweenPesPackets) {
    Writer w;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(100, 1));
    const std::size_t lost = w.out.size();
    w.pes(video_pid, stream_id::video_0, 4600, std::nullopt, payload_of(100, 2));
    w.pes(video_pid, stream_id::video_0, 8200, std::nullopt, payload_of(100, 3));
    Bytes8 data = w.out;
    data.erase(data.begin() + static_cast<std::ptrdiff_t>(lost),
               data.begin() + static_cast<std::ptrdiff_t>(lost + packet_size));
    const auto events = run(data);
    const auto pes = only(events, "pes");
    ASSERT_EQ(pes.size(), 2U);
    EXPECT_NE(pes[1].find("disc true"), std::string::npos);
    EXPECT_TRUE(any_contains(only(events, "problem PID 0x0100"), "packets were lost"))
        << fmt::format("{}", fmt::join(events, "\n"));
}

TEST(MpegtsDemuxTest, AContinuityGapDropsThePesAndMarksTheNextDiscontinuous) {
    Writer w;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(1000, 1));
    const std::size_t second = w.out.size();
    w.pes(video_pid, stream_id::video_0, 4600, std::nullopt, payload_of(1000, 2));
    w.pes(video_pid, stream_id::video_0, 8200, std::nullopt, payload_of(1000, 3));
    Bytes8 data = w.out;
    // The second PES loses its second packet.
    data.erase(data.begin() + static_cast<std::ptrdiff_t>(second + packet_size),
               data.begin() + static_cast<std::ptrdiff_t>(second + 2 * packet_size));
    const auto events = run(data);
    const auto pes = only(events, "pes");
    ASSERT_EQ(pes.size(), 2U) << fmt::format("{}", fmt::join(events, "\n"));
    EXPECT_NE(pes[0].find("pts 1000 "), std::string::npos);
    EXPECT_NE(pes[0].find("disc true"), std::string::npos);
    EXPECT_NE(pes[1].find("pts 8200 "), std::string::npos);
    EXPECT_NE(pes[1].find("disc true"), std::string::npos) << pes[1];
    const auto problems = only(events, "problem PID");
    ASSERT_EQ(problems.size(), 1U);
    EXPECT_NE(problems[0].find("continuity counter"), std::string::npos) << problems[0];
    EXPECT_NE(problems[0].find("PID 0x0100"), std::string::npos) << problems[0];
    EXPECT_NE(problems[0].find(fmt::format("at byte {}", second + packet_size)), std::string::npos) << problems[0];
}

TEST(MpegtsDemuxTest, IgnoresDuplicatePacketsAndDropsTransportErrors) {
    Writer w;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    const std::size_t first = w.out.size();
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(1000, 1));
    w.pes(video_pid, stream_id::video_0, 4600, std::nullopt, payload_of(1000, 2));
    const auto clean = run(w.out);
    Bytes8 dup = w.out;
    // Every packet of the first PES twice in a row.
    const Bytes8 again(dup.begin() + static_cast<std::ptrdiff_t>(first + packet_size),
                       dup.begin() + static_cast<std::ptrdiff_t>(first + 2 * packet_size));
    dup.insert(dup.begin() + static_cast<std::ptrdiff_t>(first + 2 * packet_size), again.begin(), again.end());
    auto strip_offsets = [](std::vector<std::string> v) {
        for (auto& e : v) {
            e = e.substr(0, e.find(" at "));
        }
        return v;
    };
    EXPECT_EQ(strip_offsets(only(run(dup), "pes")), strip_offsets(only(clean, "pes")));

    Bytes8 bad = w.out;
    bad[first + packet_size + 1] |= 0x80; // transport_error_indicator
    const auto events = run(bad);
    const auto pes = only(events, "pes");
    ASSERT_EQ(pes.size(), 1U) << fmt::format("{}", fmt::join(events, "\n"));
    EXPECT_NE(pes[0].find("pts 4600 "), std::string::npos);
    EXPECT_NE(pes[0].find("disc true"), std::string::npos);
}

TEST(MpegtsDemuxTest, ABadCrcInPatOrPmtIsAProblemReportNotACrash) {
    for (const bool in_pat : {true, false}) {
        SCOPED_TRACE(in_pat);
        Writer w;
        w.pat({{1, pmt_pid}});
        w.pmt(Writer::standard_pmt());
        const std::size_t good_tables = w.out.size();
        w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(100, 1));
        w.pat({{1, pmt_pid}});
        w.pmt(Writer::standard_pmt());
        w.pes(video_pid, stream_id::video_0, 4600, std::nullopt, payload_of(100, 2));
        Bytes8 data = w.out;
        // A flipped byte in the first table's body (after the 4-byte header
        // and pointer field).
        data[(in_pat ? 0 : packet_size) + 4 + 1 + 9] ^= 0x01;
        static_cast<void>(good_tables);
        const auto events = run(data);
        const auto problems = only(events, "problem");
        EXPECT_TRUE(any_contains(problems, "CRC_32")) << fmt::format("{}", fmt::join(events, "\n"));
        EXPECT_TRUE(any_contains(problems, in_pat ? "PAT" : "PMT"));
        EXPECT_TRUE(any_contains(problems, in_pat ? "at byte 0" : fmt::format("at byte {}", packet_size)));
        // The tables repeated later are read, and the PES after them.
        const auto pes = only(events, "pes");
        ASSERT_EQ(pes.size(), 1U) << fmt::format("{}", fmt::join(events, "\n"));
        EXPECT_NE(pes[0].find("pts 4600 "), std::string::npos);
        EXPECT_EQ(only(events, "program").size(), 1U);
    }
}

TEST(MpegtsDemuxTest, ASectionOfLengthZeroIsAProblemReportNotAHang) {
    Writer w;
    // A PAT packet whose section says section_length 0, then good tables.
    Bytes8 bad(packet_size, 0xFF);
    bad[0] = sync_byte;
    bad[1] = 0x40;
    bad[2] = 0x00;
    bad[3] = 0x10;
    bad[4] = 0x00; // pointer_field
    bad[5] = 0x00; // table_id
    bad[6] = 0xB0;
    bad[7] = 0x00;
    w.out = bad;
    w.cc[pat_pid] = 1;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(100, 1));
    const auto events = run(w.out);
    EXPECT_TRUE(any_contains(only(events, "problem PAT"), "at byte 0")) << fmt::format("{}", fmt::join(events, "\n"));
    EXPECT_EQ(only(events, "program").size(), 1U);
    EXPECT_EQ(only(events, "pes").size(), 1U);
}

TEST(MpegtsDemuxTest, UnwrapsPtsAndDtsAcrossTheWrap) {
    Writer w;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    const std::uint64_t start = pts_wrap - 3 * 3600;
    for (std::uint64_t i = 0; i < 6; ++i) {
        const std::uint64_t dts = start + i * 3600;
        w.pes(video_pid, stream_id::video_0, (dts + 7200) % pts_wrap, dts % pts_wrap, payload_of(10, 1));
    }
    Demuxer d;
    auto events = d.push(w.out);
    std::vector<std::int64_t> pts;
    std::vector<std::int64_t> dts;
    for (const DemuxEvent& e : events) {
        if (e.type == DemuxEvent::Type::pes) {
            pts.push_back(*e.pes.pts);
            dts.push_back(*e.pes.dts);
        }
    }
    ASSERT_EQ(pts.size(), 6U);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(dts[i], static_cast<std::int64_t>(start + i * 3600)) << i;
        EXPECT_EQ(pts[i], static_cast<std::int64_t>(start + i * 3600 + 7200)) << i;
    }
}

TEST(MpegtsDemuxTest, FollowsPmtVersionsAddingAndRemovingStreams) {
    Writer w;
    w.pat({{1, pmt_pid}});
    Pmt one;
    one.pcr_pid = video_pid;
    one.streams.push_back({stream_type::h264, video_pid, {}});
    w.pmt(one);
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(10, 1));
    Pmt two = one;
    two.version = 1;
    two.streams.push_back({stream_type::private_pes, 0x200, {registration_descriptor("AV01")}});
    w.pmt(two);
    w.pes(0x200, stream_id::private_stream_1, 2000, std::nullopt, payload_of(10, 2));
    Pmt three;
    three.version = 2;
    three.pcr_pid = 0x200;
    three.streams.push_back({stream_type::private_pes, 0x200, {registration_descriptor("AV01")}});
    w.pmt(three);
    w.pes(video_pid, stream_id::video_0, 3000, std::nullopt, payload_of(10, 3)); // no longer in the program
    w.pes(0x200, stream_id::private_stream_1, 4000, std::nullopt, payload_of(10, 4));
    const auto events = run(w.out);
    const auto programs = only(events, "program");
    ASSERT_EQ(programs.size(), 3U) << fmt::format("{}", fmt::join(events, "\n"));
    EXPECT_EQ(programs[0], "program 1 v0 pcr 100: 100/1b/h264 + 100 -");
    EXPECT_EQ(programs[1], "program 1 v1 pcr 100: 100/1b/h264 200/06/av1 + 200 -");
    EXPECT_EQ(programs[2], "program 1 v2 pcr 200: 200/06/av1 + - 100");
    const auto pes = only(events, "pes");
    ASSERT_EQ(pes.size(), 3U);
    EXPECT_NE(pes[0].find("pes 100 "), std::string::npos);
    EXPECT_NE(pes[1].find("pes 200 "), std::string::npos);
    EXPECT_NE(pes[2].find("pts 4000 "), std::string::npos);
}

TEST(MpegtsDemuxTest, ReadsTheProgramAskedFor) {
    Writer w;
    w.pat({{1, 0x1000}, {2, 0x1001}});
    Pmt a;
    a.program_number = 1;
    a.streams.push_back({stream_type::h264, 0x100, {}});
    Pmt b;
    b.program_number = 2;
    b.streams.push_back({stream_type::h264, 0x200, {}});
    w.pmt(a, 0x1000);
    w.pmt(b, 0x1001);
    w.pes(0x100, stream_id::video_0, 1000, std::nullopt, payload_of(10, 1));
    w.pes(0x200, stream_id::video_0, 2000, std::nullopt, payload_of(10, 2));
    Demuxer::Options o;
    auto first = only(run(w.out, o), "pes");
    ASSERT_EQ(first.size(), 1U);
    EXPECT_NE(first[0].find("pes 100 "), std::string::npos);
    o.program_number = 2;
    auto second = only(run(w.out, o), "pes");
    ASSERT_EQ(second.size(), 1U);
    EXPECT_NE(second[0].find("pes 200 "), std::string::npos);
    o.program_number = 7;
    const auto none = run(w.out, o);
    EXPECT_TRUE(only(none, "pes").empty());
    EXPECT_TRUE(any_contains(only(none, "problem"), "has no program 7 (it has: 1, 2)"));
}

TEST(MpegtsDemuxTest, EndsUnboundedPesAtTheEndAndReportsTruncation) {
    Writer w;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    // Longer than a PES_packet_length can say: unbounded.
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(70000, 1));
    w.pes(audio_pid, stream_id::private_stream_1, 1000, std::nullopt, payload_of(1000, 2));
    {
        const auto events = run(w.out);
        // The bounded audio PES is whole at once, the unbounded one at the end.
        const auto pes = only(events, "pes");
        ASSERT_EQ(pes.size(), 2U);
        EXPECT_NE(pes[0].find("pes 101 "), std::string::npos);
        EXPECT_NE(pes[1].find("pes 100 "), std::string::npos);
        EXPECT_NE(pes[1].find("size 70000"), std::string::npos);
        EXPECT_EQ(only(events, "problem").size(), 1U) << fmt::format("{}", fmt::join(events, "\n"));
    }
    // Cut in the middle of the audio PES's last packet.
    const Bytes8 cut(w.out.begin(), w.out.end() - 100);
    const auto events = run(cut);
    const auto pes = only(events, "pes");
    ASSERT_EQ(pes.size(), 1U);
    EXPECT_NE(pes[0].find("pes 100 "), std::string::npos);
    const auto problems = only(events, "problem");
    EXPECT_TRUE(any_contains(problems, "not a whole transport packet (truncated)"))
        << fmt::format("{}", fmt::join(events, "\n"));
    EXPECT_TRUE(any_contains(problems, "is cut short by the end of the input"));
}

TEST(MpegtsDemuxTest, BoundsThePesSize) {
    Writer w;
    w.pat({{1, pmt_pid}});
    w.pmt(Writer::standard_pmt());
    w.pes(video_pid, stream_id::video_0, 1000, std::nullopt, payload_of(70000, 1));
    w.pes(video_pid, stream_id::video_0, 4600, std::nullopt, payload_of(100, 2));
    Demuxer::Options o;
    o.max_pes_size = 10000;
    const auto events = run(w.out, o);
    const auto pes = only(events, "pes");
    ASSERT_EQ(pes.size(), 1U);
    EXPECT_NE(pes[0].find("pts 4600 "), std::string::npos);
    EXPECT_NE(pes[0].find("disc true"), std::string::npos);
    EXPECT_TRUE(any_contains(only(events, "problem"), "limit of 10000 bytes"));
}

TEST(MpegtsDemuxTest, SurvivesDamagedStreams) {
    const auto data = sample_stream();
    std::mt19937 rng(3);
    for (int round = 0; round < 300; ++round) {
        Bytes8 bad = data;
        const int edits = 1 + static_cast<int>(rng() % 20);
        for (int e = 0; e < edits && !bad.empty(); ++e) {
            const std::size_t at = rng() % bad.size();
            if (rng() % 8 == 0) {
                bad.resize(at + 1);
            } else if (rng() % 4 == 0) {
                bad.erase(bad.begin() + static_cast<std::ptrdiff_t>(at));
            } else {
                bad[at] = static_cast<std::uint8_t>(rng());
            }
        }
        Demuxer d;
        std::size_t payload = 0;
        for (std::size_t at = 0; at < bad.size(); at += 97) {
            for (const auto& e :
                 d.push(std::span<const std::uint8_t>(bad).subspan(at, std::min<std::size_t>(97, bad.size() - at)))) {
                payload += e.pes.payload.size();
            }
        }
        for (const auto& e : d.finish()) {
            payload += e.pes.payload.size();
        }
        EXPECT_LE(payload, bad.size()) << "round " << round;
    }
}

TEST(MpegtsDemuxTest, ClassifiesTheCarriageOfEachCodec) {
    EXPECT_EQ(classify_stream({stream_type::h264, 1, {}}).codec, CodecKind::h264);
    EXPECT_EQ(classify_stream({stream_type::private_pes, 1, {registration_descriptor("Opus")}}).codec, CodecKind::opus);
    EXPECT_EQ(classify_stream({stream_type::private_pes, 1, {registration_descriptor("AV01")}}).codec, CodecKind::av1);
    const auto async = classify_stream({stream_type::private_pes, 1, {registration_descriptor("KLVA")}});
    EXPECT_EQ(async.codec, CodecKind::klv);
    EXPECT_FALSE(async.klv_cells);
    const auto sync = classify_stream({stream_type::metadata_pes, 1, {klv_metadata_descriptor(0)}});
    EXPECT_EQ(sync.codec, CodecKind::klv);
    EXPECT_TRUE(sync.klv_cells);
    EXPECT_EQ(classify_stream({stream_type::private_pes, 1, {}}).codec, CodecKind::unknown);
    EXPECT_EQ(classify_stream({stream_type::metadata_pes, 1, {}}).codec, CodecKind::unknown);
    // A registration in the program loop counts when the stream has none.
    const std::vector<Descriptor> program{registration_descriptor("Opus")};
    EXPECT_EQ(classify_stream({stream_type::private_pes, 1, {}}, program).codec, CodecKind::opus);
}

} // namespace
} // namespace parallax::mpegts
