// tsdemux against FFmpeg and GStreamer: transport streams with H.264 and
// Opus written by `ffmpeg -f mpegts` and by gst-launch-1.0's mpegtsmux are
// read by tsdemux: each stream must give as many packets as `ffprobe
// -show_packets` counts, with the pts ffprobe reports, moved by the
// program's time base (the smallest first DTS/PTS of its streams), within
// one 90 kHz tick, and the key frames ffprobe marks. Opus follows the
// timing convention: the first packet's start_trim is the pre-skip, so its
// pts lies start_trim samples after the PES PTS ffprobe shows; opusdec
// decodes exactly the samples that were encoded. KLV (synchronous, as our
// library writes it, and asynchronous, as ffmpeg copies it) gives one
// buffer per KLV packet.
//
// Each test is skipped, saying why, when ffmpeg, ffprobe, gst-launch-1.0 or
// an encoder is missing.

#include <parallax/audio/audio_info.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/mpegts.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "integration/gst_compare_support.hpp"
#include "integration/media_tools_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace parallax::tsdemux_tools_test {
namespace {

namespace fs = std::filesystem;
using check::have_tool;
using check::ScratchDir;
using check::shell;
using check::ShellRun;
using namespace std::chrono_literals;

constexpr double tick_ns = 1e9 / 90000.0;

struct ProbePacket {
    std::int64_t pts = 0; // 90 kHz
    std::optional<std::int64_t> dts;
    bool key = false;
};

struct ProbeStream {
    int index = 0;
    std::string codec;
    int pid = 0;
    std::vector<ProbePacket> packets;
};

struct Probe {
    int program = 1;
    std::vector<ProbeStream> streams;
};

// What ffprobe says of `file`: program number, streams (codec, PID) and the
// packets of each, in 90 kHz ticks (a transport stream's time base).
Probe probe(const fs::path& file) {
    Probe p;
    const ShellRun prog =
        shell(fmt::format("ffprobe -v error -show_entries program=program_num -of csv=p=0 {}", file.string()));
    EXPECT_TRUE(prog.ok) << prog.output;
    p.program = std::atoi(prog.output.c_str());
    const ShellRun st = shell(fmt::format("ffprobe -v error -show_entries stream=index,codec_name,id,time_base -of "
                                          "csv=p=0 {}",
                                          file.string()));
    EXPECT_TRUE(st.ok) << st.output;
    std::istringstream lines(st.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) {
            continue;
        }
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, ',');) {
            f.push_back(x);
        }
        if (f.size() < 4) {
            continue;
        }
        // index, codec_name, id, time_base; streams are listed under their
        // program and again on their own.
        EXPECT_EQ(f[3], "1/90000") << line;
        ProbeStream s;
        s.index = std::atoi(f[0].c_str());
        s.codec = f[1];
        s.pid = static_cast<int>(std::strtol(f[2].c_str(), nullptr, 16));
        if (std::none_of(p.streams.begin(), p.streams.end(),
                         [&s](const ProbeStream& x) { return x.index == s.index; })) {
            p.streams.push_back(s);
        }
    }
    const ShellRun pk = shell(fmt::format("ffprobe -v error -show_entries packet=stream_index,pts,dts,flags -of "
                                          "csv=p=0 {}",
                                          file.string()));
    EXPECT_TRUE(pk.ok) << pk.output;
    std::istringstream plines(pk.output);
    for (std::string line; std::getline(plines, line);) {
        std::vector<std::string> f;
        std::istringstream fields(line);
        for (std::string x; std::getline(fields, x, ',');) {
            f.push_back(x);
        }
        if (f.size() < 4) {
            continue;
        }
        const int index = std::atoi(f[0].c_str());
        for (ProbeStream& s : p.streams) {
            if (s.index == index) {
                ProbePacket packet;
                packet.pts = std::strtoll(f[1].c_str(), nullptr, 10);
                if (f[2] != "N/A") {
                    packet.dts = std::strtoll(f[2].c_str(), nullptr, 10);
                }
                packet.key = f[3].find('K') != std::string::npos;
                s.packets.push_back(packet);
            }
        }
    }
    return p;
}

struct Got {
    std::int64_t pts_ns = 0;
    std::int64_t dts_ns = -1;
    bool key = false;
    std::size_t size = 0;
};

struct Collected {
    std::mutex mutex;
    std::map<std::string, std::vector<Got>> by_pad;
    std::map<std::string, Caps> caps;
    std::uint64_t decoded_bytes = 0;
    std::optional<AudioInfo> decoded_info;
};

std::string pad_name(const std::string& kind, int program, int pid) {
    return fmt::format("{}_{:x}_{:04x}", kind, program, pid);
}

// Runs tsdemux over `file` with an appsink on each of `pads`, or, when
// `decode_audio` names a pad, that pad through opusdec into an appsink
// counting bytes.
void demux(const fs::path& file, const std::vector<std::string>& pads, const std::string& decode_audio, Collected& c) {
    std::string text = fmt::format("filesrc location={} ! tsdemux name=d", file.string());
    for (std::size_t i = 0; i < pads.size(); ++i) {
        text += fmt::format("  d.{} ! appsink name=s{} sync=false", pads[i], i);
    }
    if (!decode_audio.empty()) {
        text = fmt::format("filesrc location={} ! tsdemux name=d  d.{} ! opusdec ! audio/x-raw,format=S16LE ! "
                           "appsink name=dec sync=false",
                           file.string(), decode_audio);
    }
    auto p = Pipeline::parse(text);
    ASSERT_TRUE(p) << p.error().to_string();
    for (std::size_t i = 0; i < pads.size() && decode_audio.empty(); ++i) {
        auto sink = (*p)->get<AppSink>(fmt::format("s{}", i));
        ASSERT_TRUE(sink);
        const std::string pad = pads[i];
        (*sink)->set_new_sample([&c, pad](AppSink& s) {
            auto sample = s.pull_sample();
            if (!sample) {
                return;
            }
            const Metadata& m = sample->buffer.meta();
            std::lock_guard lock(c.mutex);
            c.caps[pad] = sample->caps;
            c.by_pad[pad].push_back(Got{static_cast<std::int64_t>(m.pts().ns()),
                                        m.dts().is_none() ? -1 : static_cast<std::int64_t>(m.dts().ns()),
                                        !m.has_flag(BufferFlags::delta), sample->buffer.size()});
        });
    }
    if (!decode_audio.empty()) {
        auto dec = (*p)->get<AppSink>("dec");
        ASSERT_TRUE(dec);
        (*dec)->set_new_sample([&c](AppSink& s) {
            auto sample = s.pull_sample();
            if (!sample) {
                return;
            }
            std::lock_guard lock(c.mutex);
            c.decoded_bytes += sample->buffer.size();
            if (!c.decoded_info) {
                if (auto info = AudioInfo::from_caps(sample->caps)) {
                    c.decoded_info = *info;
                }
            }
        });
    }
    auto ok = (*p)->run(60s);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
}

class TsDemuxToolsTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* tool : {"ffprobe", "ffmpeg"}) {
            if (!have_tool(tool)) {
                GTEST_SKIP() << tool << " is not installed (ffmpeg is needed)";
            }
        }
        dir_ = std::make_unique<ScratchDir>("tsdemux", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    }

    static bool has_ffmpeg_encoder(const std::string& name) {
        const ShellRun r = shell("ffmpeg -hide_banner -encoders");
        return r.ok && r.output.find(" " + name + " ") != std::string::npos;
    }

    static bool has_gst_element(const std::string& name) { return shell("gst-inspect-1.0 --exists " + name).ok; }

    // Reads `file` with tsdemux and compares every H.264 and Opus stream
    // with ffprobe; returns the decoded Opus samples per channel (0 without
    // Opus).
    static std::uint64_t check_against_ffprobe(const fs::path& file) {
        const Probe pr = probe(file);
        std::vector<std::string> pads;
        std::string audio_pad;
        for (const ProbeStream& s : pr.streams) {
            if (s.codec == "h264") {
                pads.push_back(pad_name("video", pr.program, s.pid));
            } else if (s.codec == "opus") {
                pads.push_back(pad_name("audio", pr.program, s.pid));
                audio_pad = pads.back();
            }
        }
        EXPECT_FALSE(pads.empty());
        Collected c;
        demux(file, pads, "", c);
        if (!audio_pad.empty()) {
            demux(file, {}, audio_pad, c);
        }
        // The time base: the smallest first DTS/PTS; for Opus where the
        // kept audio starts.
        std::uint16_t pre_skip = 0;
        if (!audio_pad.empty() && c.caps.count(audio_pad) != 0) {
            auto head = opus::header_from_caps(c.caps[audio_pad]);
            EXPECT_TRUE(head);
            pre_skip = head ? head->pre_skip : 0;
        }
        const std::int64_t trim_ticks = std::int64_t{pre_skip} * 90000 / 48000;
        std::optional<std::int64_t> base;
        for (const ProbeStream& s : pr.streams) {
            if (s.packets.empty() || (s.codec != "h264" && s.codec != "opus")) {
                continue;
            }
            std::int64_t first = s.packets[0].pts;
            if (s.packets[0].dts) {
                first = std::min(first, *s.packets[0].dts);
            }
            if (s.codec == "opus") {
                first += trim_ticks;
            }
            base = base ? std::min(*base, first) : first;
        }
        EXPECT_TRUE(base);
        for (const ProbeStream& s : pr.streams) {
            if (s.codec != "h264" && s.codec != "opus") {
                continue;
            }
            const std::string pad = pad_name(s.codec == "h264" ? "video" : "audio", pr.program, s.pid);
            SCOPED_TRACE(file.filename().string() + " " + pad);
            const auto& got = c.by_pad[pad];
            EXPECT_FALSE(s.packets.empty());
            EXPECT_EQ(got.size(), s.packets.size());
            for (std::size_t i = 0; i < std::min(got.size(), s.packets.size()); ++i) {
                std::int64_t ticks = s.packets[i].pts - base.value_or(0);
                if (s.codec == "opus" && i == 0) {
                    ticks += trim_ticks;
                }
                EXPECT_NEAR(static_cast<double>(got[i].pts_ns), static_cast<double>(ticks) * tick_ns, tick_ns)
                    << "packet " << i;
                if (s.codec == "h264") {
                    EXPECT_EQ(got[i].key, s.packets[i].key) << "packet " << i;
                    if (s.packets[i].dts) {
                        EXPECT_NEAR(static_cast<double>(got[i].dts_ns),
                                    static_cast<double>(*s.packets[i].dts - base.value_or(0)) * tick_ns, tick_ns)
                            << "packet " << i;
                    }
                }
            }
        }
        if (audio_pad.empty() || !c.decoded_info) {
            return 0;
        }
        return c.decoded_bytes / c.decoded_info->bytes_per_frame();
    }

    std::unique_ptr<ScratchDir> dir_;
};

TEST_F(TsDemuxToolsTest, H264AndOpusAsFfmpegWritesThem) {
    if (!has_ffmpeg_encoder("libx264") || !has_ffmpeg_encoder("libopus")) {
        GTEST_SKIP() << "ffmpeg has no libx264 or libopus encoder";
    }
    for (const char* profile : {"baseline", "high"}) {
        SCOPED_TRACE(profile);
        const fs::path file = dir_->path() / fmt::format("{}.ts", profile);
        const ShellRun r = shell(fmt::format(
            "ffmpeg -nostdin -y -v error -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi -i sine=f=440:r=48000 "
            "-t 3 -c:v libx264 -profile:v {} -pix_fmt yuv420p -c:a libopus -f mpegts {}",
            profile, file.string()));
        ASSERT_TRUE(r.ok) << r.output;
        // 3 s at 48 kHz, pre-skip and end trimming applied.
        EXPECT_EQ(check_against_ffprobe(file), 3U * 48000U);
    }
}

TEST_F(TsDemuxToolsTest, H264AndOpusAsGStreamersMpegtsmuxWritesThem) {
    if (!have_tool("gst-launch-1.0") || !have_tool("gst-inspect-1.0")) {
        GTEST_SKIP() << "gst-launch-1.0 is not installed";
    }
    const std::string encoder = has_gst_element("x264enc")       ? "x264enc"
                                : has_gst_element("openh264enc") ? "openh264enc"
                                                                 : "";
    if (encoder.empty() || !has_gst_element("h264parse") || !has_gst_element("mpegtsmux") ||
        !has_gst_element("opusenc")) {
        GTEST_SKIP() << "GStreamer has no x264enc or openh264enc, h264parse, opusenc or mpegtsmux";
    }
    const fs::path video = dir_->path() / "gst-video.ts";
    ShellRun r = shell(fmt::format("gst-launch-1.0 -q videotestsrc num-buffers=50 ! "
                                   "video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! {} ! h264parse ! "
                                   "mpegtsmux ! filesink location={}",
                                   encoder, video.string()));
    ASSERT_TRUE(r.ok) << r.output;
    EXPECT_EQ(check_against_ffprobe(video), 0U);

    const fs::path both = dir_->path() / "gst-both.ts";
    r = shell(fmt::format("gst-launch-1.0 -q mpegtsmux name=m ! filesink location={}  videotestsrc num-buffers=50 ! "
                          "video/x-raw,format=I420,width=320,height=240,framerate=25/1 ! {} ! h264parse ! m.  "
                          "audiotestsrc num-buffers=100 samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! "
                          "opusenc ! m.",
                          both.string(), encoder));
    ASSERT_TRUE(r.ok) << r.output;
    // 100 buffers of 960 samples went into opusenc.
    EXPECT_EQ(check_against_ffprobe(both), 100U * 960U);
}

// A transport stream with one KLV stream, written with the library: `count`
// packets of a 16-byte key, a short length and `count`-dependent values,
// one PES each (synchronous: metadata AU cells, stream type 0x15).
std::vector<std::uint8_t> klv_packet(std::size_t i) {
    std::vector<std::uint8_t> p = {0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01,
                                   0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00};
    p.push_back(static_cast<std::uint8_t>(4 + i % 5));
    for (std::size_t k = 0; k < 4 + i % 5; ++k) {
        p.push_back(static_cast<std::uint8_t>(i + k));
    }
    return p;
}

std::vector<std::uint8_t> klv_ts(std::size_t count) {
    std::vector<std::uint8_t> out;
    std::uint8_t cc_pat = 0;
    std::uint8_t cc_pmt = 0;
    std::uint8_t cc = 0;
    mpegts::Pat pat;
    pat.programs.push_back({1, 0x1000});
    mpegts::Pmt pmt;
    pmt.program_number = 1;
    pmt.pcr_pid = 0x102;
    pmt.program_descriptors.push_back(mpegts::klv_metadata_pointer_descriptor(0, 1));
    pmt.streams.push_back({mpegts::stream_type::metadata_pes,
                           0x102,
                           {mpegts::klv_metadata_descriptor(0), mpegts::klv_metadata_std_descriptor()}});
    const auto pat_section = mpegts::write_pat(pat).value();
    const auto pmt_section = mpegts::write_pmt(pmt).value();
    for (std::size_t i = 0; i < count; ++i) {
        if (i % 10 == 0) {
            mpegts::write_section_packets(out, mpegts::pat_pid, cc_pat, pat_section);
            mpegts::write_section_packets(out, 0x1000, cc_pmt, pmt_section);
        }
        std::vector<std::uint8_t> cells;
        mpegts::write_metadata_cell(cells, 0, static_cast<std::uint8_t>(i), klv_packet(i));
        std::vector<std::uint8_t> pes;
        const std::uint64_t pts = 900000 + i * 3600;
        EXPECT_TRUE(mpegts::write_pes_header(pes, mpegts::stream_id::metadata, pts, std::nullopt, cells.size()));
        pes.insert(pes.end(), cells.begin(), cells.end());
        mpegts::AdaptationField af;
        af.random_access = true;
        af.pcr = pts * 300;
        std::size_t pos = 0;
        bool first = true;
        while (pos < pes.size()) {
            pos += mpegts::write_packet(out, 0x102, first, cc, first ? &af : nullptr,
                                        std::span<const std::uint8_t>(pes).subspan(pos));
            cc = static_cast<std::uint8_t>((cc + 1) & 0x0F);
            first = false;
        }
    }
    return out;
}

TEST_F(TsDemuxToolsTest, KlvSynchronousAndAsFfmpegCopiesIt) {
    constexpr std::size_t count = 40;
    const fs::path sync_file = dir_->path() / "klv-sync.ts";
    {
        const auto bytes = klv_ts(count);
        std::ofstream f(sync_file, std::ios::binary);
        f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    const fs::path copied = dir_->path() / "klv-ffmpeg.ts";
    const ShellRun r = shell(fmt::format("ffmpeg -nostdin -y -v error -i {} -map 0:d -c copy -f mpegts {}",
                                         sync_file.string(), copied.string()));
    ASSERT_TRUE(r.ok) << r.output;
    for (const fs::path& file : {sync_file, copied}) {
        SCOPED_TRACE(file.filename().string());
        const Probe pr = probe(file);
        ASSERT_EQ(pr.streams.size(), 1U);
        ASSERT_EQ(pr.streams[0].packets.size(), count);
        Collected c;
        const std::string pad = pad_name("private", pr.program, pr.streams[0].pid);
        demux(file, {pad}, "", c);
        const auto& got = c.by_pad[pad];
        ASSERT_EQ(got.size(), count);
        for (std::size_t i = 0; i < count; ++i) {
            EXPECT_EQ(got[i].size, klv_packet(i).size()) << i;
            const std::int64_t ticks = pr.streams[0].packets[i].pts - pr.streams[0].packets[0].pts;
            EXPECT_NEAR(static_cast<double>(got[i].pts_ns), static_cast<double>(ticks) * tick_ns, tick_ns) << i;
        }
    }
}

} // namespace
} // namespace parallax::tsdemux_tools_test
