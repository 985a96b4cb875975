#include <parallax/check/harness.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace parallax {
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
        const std::string text = "filesrc location=" + in.string() + " blocksize=" + blocksize +
                                 " ! filesink location=" + out.string();
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
} // namespace parallax
