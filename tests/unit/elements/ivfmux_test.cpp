// ivfmux: the file header from the caps, frame headers with timestamps in
// the timebase, the default timebase, the header again at EOS with the frame
// count where downstream can seek (filesink or fdsink on a file) and not
// where it cannot (a pipe, or nobody answers), a round trip through
// ivfparse, and frames without caps.

#include <parallax/caps/caps.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/container/ivf.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include "unit/elements/mux_output_test_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <span>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace parallax::ivfmux_test {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

Bytes8 bytes_of(const Buffer& b) {
    const auto d = b.data();
    Bytes8 out(d.size());
    std::transform(d.begin(), d.end(), out.begin(), [](std::byte x) { return std::to_integer<std::uint8_t>(x); });
    return out;
}

Buffer frame(check::Harness& h, const Bytes8& data, std::uint64_t pts_ns) {
    auto b = h.make_buffer(std::as_bytes(std::span(data))).value();
    b.meta().set_pts(ClockTime::from_ns(pts_ns));
    return b;
}

// The file the muxer wrote: every buffer at its byte offset, as filesink
// places them (the header sent again at EOS lands on the first).
Bytes8 drain(check::Harness& h) {
    Bytes8 out;
    while (auto b = h.pull(std::chrono::milliseconds(200))) {
        const Bytes8 bytes = bytes_of(*b);
        EXPECT_TRUE(b->meta().has_byte_offset());
        const auto at = static_cast<std::size_t>(b->meta().byte_offset());
        out.resize(std::max(out.size(), at + bytes.size()));
        std::copy(bytes.begin(), bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    }
    return out;
}

TEST(IvfMuxTest, WritesTheHeaderAndFramesInTheFramerateTimebase) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(
        Caps::parse_static("video/x-av1,stream-format=obu-stream,alignment=tu,width=64,height=48,framerate=25/1")));
    const Bytes8 a{0x12, 0x00, 0xaa};
    const Bytes8 b{0x12, 0x00, 0xbb, 0xcc};
    ASSERT_EQ(h->push(frame(*h, a, 0)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, b, 40'000'000)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, a, 120'000'001)), Flow::ok); // rounds to 3
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    const Bytes8 file = drain(*h);
    auto header = ivf::parse_file_header(file).value();
    EXPECT_EQ(std::string(header.fourcc.begin(), header.fourcc.end()), "AV01");
    EXPECT_EQ(header.width, 64);
    EXPECT_EQ(header.height, 48);
    EXPECT_EQ(header.framerate, Fraction::make(25, 1).value());
    // The harness does not say it can seek: the count stays 0 (see the
    // filesink and fdsink tests below).
    EXPECT_EQ(header.frame_count, 0U);
    std::size_t pos = 32;
    const std::uint64_t timestamps[] = {0, 1, 3};
    const Bytes8* data[] = {&a, &b, &a};
    for (std::size_t i = 0; i < 3; ++i) {
        auto fh = ivf::parse_frame_header(std::span(file).subspan(pos), pos).value();
        EXPECT_EQ(fh.timestamp, timestamps[i]);
        ASSERT_EQ(fh.size, data[i]->size());
        EXPECT_EQ(Bytes8(file.begin() + static_cast<std::ptrdiff_t>(pos + 12),
                         file.begin() + static_cast<std::ptrdiff_t>(pos + 12 + fh.size)),
                  *data[i]);
        pos += 12 + fh.size;
    }
    EXPECT_EQ(pos, file.size());
    bool ivf_caps = false;
    for (const Event& e : h->take_events()) {
        if (e.type() == EventType::caps) {
            ivf_caps = e.caps_value()->structure(0).name() == "video/x-ivf";
        }
    }
    EXPECT_TRUE(ivf_caps);
}

TEST(IvfMuxTest, WithoutFramerateTheTimebaseIsAMicrosecond) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("video/x-vp9,width=10,height=10")));
    ASSERT_EQ(h->push(frame(*h, {1, 2, 3}, 1'234'567'000)), Flow::ok);
    h->push_event(Event::eos());
    const Bytes8 file = drain(*h);
    auto header = ivf::parse_file_header(file).value();
    EXPECT_EQ(std::string(header.fourcc.begin(), header.fourcc.end()), "VP90");
    EXPECT_EQ(header.framerate, Fraction::make(1'000'000, 1).value());
    EXPECT_EQ(ivf::parse_frame_header(std::span(file).subspan(32), 32).value().timestamp, 1'234'567U);
}

TEST(IvfMuxTest, Vp8GetsItsFourcc) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("video/x-vp8,width=10,height=10,framerate=30000/1001")));
    ASSERT_EQ(h->push(frame(*h, {1}, 0)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, {1}, 1'001'000'000)), Flow::ok); // 30 frames later
    h->push_event(Event::eos());
    const Bytes8 file = drain(*h);
    auto header = ivf::parse_file_header(file).value();
    EXPECT_EQ(std::string(header.fourcc.begin(), header.fourcc.end()), "VP80");
    EXPECT_EQ(header.framerate, Fraction::make(30000, 1001).value());
    EXPECT_EQ(ivf::parse_frame_header(std::span(file).subspan(32 + 13), 45).value().timestamp, 30U);
}

TEST(IvfMuxTest, WhereNobodySaysDownstreamCanSeekTheHeaderIsNotSentAgain) {
    // The harness answers no seeking query: one header, two frames, eos.
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("video/x-vp9,width=10,height=10,framerate=30/1")));
    ASSERT_EQ(h->push(frame(*h, {1, 2}, 0)), Flow::ok);
    ASSERT_EQ(h->push(frame(*h, {3}, 33'333'333)), Flow::ok);
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    std::vector<Buffer> out;
    while (auto b = h->pull(std::chrono::milliseconds(200))) {
        out.push_back(std::move(*b));
    }
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(ivf::parse_file_header(bytes_of(out[0])).value().frame_count, 0U);
    EXPECT_EQ(out[1].meta().byte_offset(), 32U);
    EXPECT_EQ(out[2].meta().byte_offset(), 32U + 12 + 2);
    std::vector<StreamSegment> segments;
    EventType last = EventType::caps;
    for (const Event& e : h->take_events()) {
        last = e.type();
        if (e.type() == EventType::segment) {
            segments.push_back(*e.segment_value());
        }
    }
    EXPECT_EQ(last, EventType::eos);
    ASSERT_EQ(segments.size(), 1U);
    EXPECT_EQ(segments[0].format, Format::bytes);
    EXPECT_EQ(segments[0].start, 0U);
    EXPECT_FALSE(h->error());
}

TEST(IvfMuxTest, EosWithoutFramesWritesNoHeader) {
    // No frame, no file header: nothing to go back to either.
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(Caps::parse_static("video/x-vp8,width=10,height=10")));
    h->push_event(Event::eos());
    EXPECT_TRUE(h->wait_eos());
    EXPECT_FALSE(h->pull(std::chrono::milliseconds(100)));
    EXPECT_FALSE(h->error());
}

// An IVF file of `frames` VP8 frames whose header says `count` frames.
Bytes8 ivf_file(std::uint64_t frames, std::uint32_t count = 0) {
    ivf::FileHeader fh;
    fh.fourcc = {'V', 'P', '8', '0'};
    fh.width = 32;
    fh.height = 16;
    fh.framerate = Fraction::make(30, 1).value();
    fh.frame_count = count;
    const auto hdr = ivf::write_file_header(fh);
    Bytes8 file(hdr.begin(), hdr.end());
    for (std::uint64_t i = 0; i < frames; ++i) {
        const Bytes8 data(20 + i, static_cast<std::uint8_t>(i == 0 ? 0x00 : 0x01));
        const auto f = ivf::write_frame_header({static_cast<std::uint32_t>(data.size()), i});
        file.insert(file.end(), f.begin(), f.end());
        file.insert(file.end(), data.begin(), data.end());
    }
    return file;
}

std::filesystem::path temp_path(const std::string& name) {
    return std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
}

void write_bytes(const std::filesystem::path& p, const Bytes8& bytes) {
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes8 read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(IvfMuxTest, RoundTripsThroughIvfParse) {
    // A file made here, parsed by ivfparse and written again: the same bytes
    // but for the frame count, which only a downstream that can seek gets.
    const Bytes8 file = ivf_file(5, 5);
    auto parse = check::Harness::create("ivfparse").value();
    auto mux = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(parse->start());
    ASSERT_TRUE(mux->start());
    ASSERT_TRUE(parse->set_input_caps(Caps::parse_static("video/x-ivf")));
    ASSERT_EQ(parse->push(parse->make_buffer(std::as_bytes(std::span(file))).value()), Flow::ok);
    parse->push_event(Event::eos());
    std::optional<Caps> caps;
    std::vector<Buffer> frames;
    while (auto b = parse->pull(std::chrono::milliseconds(200))) {
        frames.push_back(std::move(*b));
    }
    for (const Event& e : parse->take_events()) {
        if (e.type() == EventType::caps) {
            caps = *e.caps_value();
        }
    }
    ASSERT_TRUE(caps);
    ASSERT_EQ(frames.size(), 5U);
    ASSERT_TRUE(mux->set_input_caps(*caps));
    for (Buffer& b : frames) {
        ASSERT_EQ(mux->push(std::move(b)), Flow::ok);
    }
    mux->push_event(Event::eos());
    EXPECT_EQ(drain(*mux), ivf_file(5, 0));
}

TEST(IvfMuxTest, FileSinkWritesTheFrameCountIntoTheFileHeader) {
    const Bytes8 input = ivf_file(7);
    const auto in = temp_path("plx-ivfmux-in.ivf");
    const auto out = temp_path("plx-ivfmux-out.ivf");
    write_bytes(in, input);
    auto p = Pipeline::parse(fmt::format("filesrc location={} blocksize=50 ! ivfparse ! ivfmux ! filesink location={}",
                                         in.string(), out.string()));
    ASSERT_TRUE(p);
    ASSERT_TRUE((*p)->run(std::chrono::seconds(10)));
    const Bytes8 file = read_bytes(out);
    ASSERT_EQ(file.size(), input.size()) << "the header must be written over, not appended";
    EXPECT_EQ(ivf::parse_file_header(file).value().frame_count, 7U);
    // Bytes 24..27, little-endian, and nothing else changed.
    Bytes8 expected = input;
    expected[24] = 7;
    EXPECT_EQ(file, expected);
    std::filesystem::remove(in);
    std::filesystem::remove(out);
}

TEST(IvfMuxTest, ToAPipeTheFileStaysValidWithFrameCountZero) {
    // A FIFO cannot seek, filesink says so, and the muxer leaves the header
    // as it is: the reader gets the stream as written, without a warning.
    const Bytes8 input = ivf_file(3);
    const auto in = temp_path("plx-ivfmux-in-pipe.ivf");
    const auto fifo = temp_path("plx-ivfmux-fifo");
    write_bytes(in, input);
    std::filesystem::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto reader = std::async(std::launch::async, [&] { return read_bytes(fifo); });
    EXPECT_EQ(test::run_counting_warnings(fmt::format("filesrc location={} ! ivfparse ! ivfmux ! filesink location={}",
                                                      in.string(), fifo.string()),
                                          std::chrono::seconds(10)),
              0);
    EXPECT_EQ(reader.get(), input);
    std::filesystem::remove(in);
    std::filesystem::remove(fifo);
}

// `ivfmux ! fdsink fd=1 | dav1d`: a pipe, so no second header and no
// warning; on a file descriptor of a regular file the frame count is
// written.
TEST(IvfMuxTest, FdSinkGetsTheFrameCountOnAFileAndNoWarningOnAPipe) {
    const Bytes8 input = ivf_file(4);
    const auto in = temp_path("plx-ivfmux-in-fd.ivf");
    write_bytes(in, input);
    const std::string text = "filesrc location=" + in.string() + " ! ivfparse ! ivfmux ! queue ! fdsink fd=";

    test::PipeReader pipe;
    EXPECT_EQ(test::run_counting_warnings(text + std::to_string(pipe.write_fd()), std::chrono::seconds(10)), 0);
    EXPECT_EQ(pipe.finish(), input);

    const auto out = temp_path("plx-ivfmux-out-fd.ivf");
    const int file = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(file, 0);
    EXPECT_EQ(test::run_counting_warnings(text + std::to_string(file), std::chrono::seconds(10)), 0);
    ::close(file);
    const Bytes8 written = read_bytes(out);
    ASSERT_EQ(written.size(), input.size());
    EXPECT_EQ(ivf::parse_file_header(written).value().frame_count, 4U);
    std::filesystem::remove(in);
    std::filesystem::remove(out);
}

TEST(IvfMuxTest, AFrameBeforeCapsIsAnError) {
    auto h = check::Harness::create("ivfmux").value();
    ASSERT_TRUE(h->start());
    EXPECT_EQ(h->push(frame(*h, {1}, 0)), Flow::error);
    auto e = h->error();
    ASSERT_TRUE(e);
    EXPECT_NE(e->message().find("before caps"), std::string::npos) << e->message();
}

} // namespace
} // namespace parallax::ivfmux_test
