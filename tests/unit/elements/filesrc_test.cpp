#include <parallax/check/harness.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>
#include <random>
#include <string_view>
#include <sys/stat.h>

namespace parallax::filesrc_test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) {
    return fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
}

std::string random_bytes(std::size_t n) {
    std::mt19937 rng(42);
    std::string s(n, '\0');
    for (auto& c : s) {
        c = static_cast<char>(rng());
    }
    return s;
}

void write_file(const fs::path& p, const std::string& data) {
    std::ofstream(p, std::ios::binary) << data;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(FileSrcTest, CopiesAFileExactlyAtAnyBlockSize) {
    const auto in = temp_file("plx-filesrc-in");
    const auto out = temp_file("plx-filesrc-out");
    const std::string data = random_bytes(1'000'003);
    write_file(in, data);
    for (const char* blocksize : {"1000", "4096", "65536", "1048576"}) {
        SCOPED_TRACE(blocksize);
        const std::string text =
            "filesrc location=" + in.string() + " blocksize=" + blocksize + " ! filesink location=" + out.string();
        auto p = Pipeline::parse(text);
        ASSERT_TRUE(p) << format_pipeline_error(text, p.error());
        auto ok = (*p)->run(30s);
        ASSERT_TRUE(ok) << ok.error().to_string();
        const std::string copy = read_file(out);
        EXPECT_EQ(copy.size(), data.size());
        EXPECT_TRUE(copy == data) << "the copy differs";
    }
    fs::remove(in);
    fs::remove(out);
}

TEST(FileSrcTest, NumBuffersAndOffsetsAreKept) {
    const auto in = temp_file("plx-filesrc-n");
    write_file(in, random_bytes(10'000));
    auto h = check::Harness::create("filesrc blocksize=1000 num-buffers=3 location=" + in.string());
    ASSERT_TRUE(h);
    ASSERT_TRUE((*h)->start());
    for (std::uint64_t i = 0; i < 3; ++i) {
        auto b = (*h)->pull();
        ASSERT_TRUE(b);
        EXPECT_EQ(b->size(), 1000U);
        EXPECT_EQ(b->meta().byte_offset(), i * 1000);
    }
    EXPECT_TRUE((*h)->wait_eos());
    fs::remove(in);
}

TEST(FileSrcTest, SmallBlocksAreSlicesOfOneReadInOrder) {
    const auto in = temp_file("plx-filesrc-slices");
    const std::string data = random_bytes(600'003);
    write_file(in, data);
    auto h = check::Harness::create("filesrc blocksize=1000 location=" + in.string());
    ASSERT_TRUE(h && (*h)->start());
    std::vector<Buffer> got;
    std::string joined;
    while (auto b = (*h)->pull(1s)) {
        EXPECT_EQ(b->meta().byte_offset(), joined.size());
        EXPECT_EQ(b->meta().sequence(), got.size());
        const auto bytes = b->data();
        joined.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        got.push_back(std::move(*b));
    }
    EXPECT_TRUE((*h)->wait_eos());
    ASSERT_EQ(got.size(), 601U);
    for (std::size_t i = 0; i + 1 < got.size(); ++i) {
        EXPECT_EQ(got[i].size(), 1000U) << "buffer " << i;
    }
    EXPECT_EQ(got.back().size(), 3U);
    EXPECT_TRUE(joined == data) << "the buffers do not add up to the file";
    // Blocks of one read share its slot, one after the other: no copy, and a
    // sink can write them back in one call.
    EXPECT_EQ(got[0].slot(), got[1].slot());
    EXPECT_EQ(got[0].arena(), got[1].arena());
    EXPECT_EQ(got[1].offset(), got[0].offset() + 1000);
    // Writing into a slice copies it; its neighbours keep the file's bytes.
    auto w = got[1].map_writable();
    ASSERT_TRUE(w);
    std::fill(w->begin(), w->end(), std::byte{0});
    EXPECT_NE(got[1].slot(), got[0].slot());
    EXPECT_TRUE(
        std::equal(got[2].data().begin(), got[2].data().end(), reinterpret_cast<const std::byte*>(data.data()) + 2000));
    fs::remove(in);
}

TEST(FileSrcTest, EmptyFileIsJustEos) {
    const auto in = temp_file("plx-filesrc-empty");
    write_file(in, "");
    auto h = check::Harness::create("filesrc location=" + in.string());
    ASSERT_TRUE(h && (*h)->start());
    EXPECT_TRUE((*h)->wait_eos());
    EXPECT_EQ((*h)->buffers_out(), 0U);
    fs::remove(in);
}

TEST(FileSrcTest, MissingFileOrLocationIsAnErrorNamingIt) {
    auto p = Pipeline::parse("filesrc name=src location=/nonexistent/plx ! fakesink");
    ASSERT_TRUE(p);
    auto r = (*p)->run(10s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().element(), "src");
    EXPECT_NE(r.error().message().find("/nonexistent/plx"), std::string::npos) << r.error().message();
    auto q = Pipeline::parse("filesrc name=src ! fakesink");
    ASSERT_TRUE(q);
    auto r2 = (*q)->run(10s);
    ASSERT_FALSE(r2);
    EXPECT_NE(r2.error().message().find("set location"), std::string::npos);
}

TEST(FileSinkTest, AppendsWhenAsked) {
    const auto out = temp_file("plx-filesink-append");
    write_file(out, "head:");
    auto p = Pipeline::parse("fakesrc num-buffers=4 sizetype=fixed sizemax=3 filltype=zero ! filesink append=true "
                             "location=" +
                             out.string());
    ASSERT_TRUE(p);
    ASSERT_TRUE((*p)->run(10s));
    EXPECT_TRUE(read_file(out) == std::string("head:") + std::string(12, '\0'));
    fs::remove(out);
}

TEST(FileSinkTest, GathersSlicesAndSeparateBuffersInOrder) {
    const auto out = temp_file("plx-filesink-gather");
    auto h = check::Harness::create("filesink buffer-size=4096 location=" + out.string());
    ASSERT_TRUE(h && (*h)->start());
    std::string expected;
    std::uint8_t next = 0;
    auto make = [&](std::size_t n) {
        std::string bytes(n, '\0');
        for (auto& c : bytes) {
            c = static_cast<char>(next++ % 251);
        }
        auto b = (*h)->make_buffer(std::as_bytes(std::span(bytes)));
        EXPECT_TRUE(b);
        return std::move(*b);
    };
    auto push = [&](Buffer b) {
        const auto bytes = b.data();
        expected.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        EXPECT_EQ((*h)->push(std::move(b)), Flow::ok);
    };
    // Adjacent slices of one slot (a run past buffer-size), then a gap inside
    // the slot, then separate buffers, then slices again, in every order the
    // sink switches between writing from the slot and copying.
    const Buffer big = make(20'000);
    for (std::size_t off = 0; off < 9000; off += 1000) {
        push(*big.slice(off, 1000));
    }
    push(*big.slice(9500, 700)); // not adjacent: ends the run
    push(make(300));
    push(make(5000)); // large on its own
    push(*big.slice(12'000, 100));
    push(*big.slice(12'100, 100));
    push(make(10));
    for (std::size_t off = 13'000; off < 20'000; off += 700) {
        push(*big.slice(off, 700));
    }
    push(make(1));
    ASSERT_TRUE((*h)->push_event(Event::eos()));
    ASSERT_TRUE((*h)->stop());
    EXPECT_TRUE(read_file(out) == expected) << "the file differs from what was pushed";
    fs::remove(out);
}

StreamSegment byte_segment(std::uint64_t start) {
    StreamSegment s;
    s.format = Format::bytes;
    s.start = start;
    return s;
}

TEST(FileSinkTest, AByteSegmentMovesTheWritePosition) {
    const auto out = temp_file("plx-filesink-segment");
    auto h = check::Harness::create("filesink location=" + out.string());
    ASSERT_TRUE(h && (*h)->start());
    auto push = [&](std::string_view text) {
        auto b = (*h)->make_buffer(std::as_bytes(std::span(text.data(), text.size())));
        ASSERT_TRUE(b);
        EXPECT_EQ((*h)->push(std::move(*b)), Flow::ok);
    };
    // Slices of one slot form a run that is still gathered when the segment
    // comes: it must reach the file at the old position first.
    const std::string run = "abcdef";
    const Buffer slot = (*h)->make_buffer(std::as_bytes(std::span(run))).value();
    for (std::size_t off = 0; off < run.size(); off += 2) {
        EXPECT_EQ((*h)->push(*slot.slice(off, 2)), Flow::ok);
    }
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(2))));
    push("XY");
    // A time segment says nothing about file positions.
    StreamSegment time;
    time.start = 1'000'000'000;
    ASSERT_TRUE((*h)->push_event(Event::segment(time)));
    push("Z");
    // Past the end: a hole of zeros, as lseek(2) leaves it.
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(9))));
    push("!");
    ASSERT_TRUE((*h)->push_event(Event::eos()));
    ASSERT_TRUE((*h)->stop());
    EXPECT_EQ(read_file(out), std::string("abXYZf\0\0\0!", 10));
    EXPECT_FALSE((*h)->error());
    fs::remove(out);
}

TEST(FileSinkTest, ByteSegmentsCountFromWhereAppendingStarted) {
    const auto out = temp_file("plx-filesink-segment-append");
    write_file(out, "head:");
    auto h = check::Harness::create("filesink append=true location=" + out.string());
    ASSERT_TRUE(h && (*h)->start());
    const std::string body = "0123";
    const std::string header = "H";
    ASSERT_EQ((*h)->push((*h)->make_buffer(std::as_bytes(std::span(body))).value()), Flow::ok);
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(0))));
    ASSERT_EQ((*h)->push((*h)->make_buffer(std::as_bytes(std::span(header))).value()), Flow::ok);
    ASSERT_TRUE((*h)->push_event(Event::eos()));
    ASSERT_TRUE((*h)->stop());
    EXPECT_EQ(read_file(out), "head:H123");
    fs::remove(out);
}

TEST(FileSinkTest, AByteSegmentOnAPipeDropsItsDataWithAWarning) {
    // A FIFO cannot seek: the bytes already written stay, the segment that
    // goes back is dropped (not appended), and writing resumes when a segment
    // comes back to the position reached.
    const auto fifo = temp_file("plx-filesink-fifo");
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto reader = std::async(std::launch::async, [&] { return read_file(fifo); });
    auto h = check::Harness::create("filesink name=out location=" + fifo.string());
    ASSERT_TRUE(h && (*h)->start());
    auto push = [&](std::string_view text) {
        auto b = (*h)->make_buffer(std::as_bytes(std::span(text.data(), text.size())));
        ASSERT_TRUE(b);
        EXPECT_EQ((*h)->push(std::move(*b)), Flow::ok);
    };
    push("abc");
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(0))));
    push("XYZ");
    ASSERT_TRUE((*h)->push_event(Event::segment(byte_segment(3))));
    push("d");
    ASSERT_TRUE((*h)->push_event(Event::eos()));
    ASSERT_TRUE((*h)->stop());
    EXPECT_EQ(reader.get(), "abcd");
    EXPECT_FALSE((*h)->error());
    std::vector<std::string> warnings;
    for (const Message& m : (*h)->messages()) {
        if (m.type == MessageType::warning && m.error) {
            EXPECT_EQ(m.source, "out");
            warnings.push_back(m.error->message());
        }
    }
    ASSERT_EQ(warnings.size(), 1U);
    EXPECT_NE(warnings[0].find(fifo.string()), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("cannot seek"), std::string::npos) << warnings[0];
    fs::remove(fifo);
}

// Whether filesink `props` says, asked from appsrc while paused, that it
// can seek in `format`; nullopt when nobody answers.
std::optional<bool> filesink_seekable(const std::string& props, Format format) {
    auto p = Pipeline::parse("appsrc name=src ! filesink " + props);
    EXPECT_TRUE(p);
    if (!p || !(*p)->set_state(State::paused)) {
        ADD_FAILURE() << "the pipeline did not pause";
        return std::nullopt;
    }
    Query q = Query::seeking(format);
    const bool answered = (*p)->get<AppSrc>("src").value()->src_pad().peer_query(q);
    EXPECT_TRUE((*p)->set_state(State::idle));
    if (!answered) {
        return std::nullopt;
    }
    EXPECT_EQ(q.seek_start(), 0U);
    return q.seekable();
}

TEST(FileSinkTest, AnswersTheSeekingQueryInBytesWhereTheFileCanSeek) {
    const auto out = temp_file("plx-filesink-query");
    EXPECT_EQ(filesink_seekable("location=" + out.string(), Format::bytes), true);
    EXPECT_EQ(filesink_seekable("location=" + out.string(), Format::time), false);
    // Appending, the stream starts at the old end, and its own bytes can
    // still be gone back to (the file is not opened O_APPEND).
    EXPECT_EQ(filesink_seekable("append=true location=" + out.string(), Format::bytes), true);
    // A character device cannot.
    EXPECT_EQ(filesink_seekable("location=/dev/null", Format::bytes), false);
    fs::remove(out);
}

TEST(FileSinkTest, WriteErrorsNameTheFile) {
    auto p = Pipeline::parse("fakesrc num-buffers=100 sizetype=fixed sizemax=65536 ! filesink name=out "
                             "location=/dev/full");
    ASSERT_TRUE(p);
    auto r = (*p)->run(10s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().element(), "out");
    EXPECT_NE(r.error().message().find("/dev/full"), std::string::npos) << r.error().message();
    auto q = Pipeline::parse("fakesrc ! filesink location=/nonexistent/dir/file");
    ASSERT_TRUE(q);
    EXPECT_FALSE((*q)->run(10s));
}

} // namespace
} // namespace parallax::filesrc_test
