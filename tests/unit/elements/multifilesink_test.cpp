// multifilesink: one file per buffer, named from the location pattern and
// the index, holding exactly the buffer's bytes; max-files keeps the newest;
// post-messages announces each file; patterns that printf could misread are
// refused naming the property and the fault; a directory it cannot write to
// is an error naming the path.

#include <parallax/check/harness.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace parallax {
namespace {

namespace fs = std::filesystem;
using check::Harness;
using check::read_file;
using check::ScratchDir;

std::unique_ptr<Harness> started(const std::string& description) {
    auto h = Harness::create(description);
    EXPECT_TRUE(h) << (h ? "" : h.error().to_string());
    if (!h) {
        return nullptr;
    }
    EXPECT_TRUE((*h)->set_input_caps(Caps::any()));
    const auto ok = (*h)->start();
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
    return std::move(*h);
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(MultiFileSinkTest, WritesOneFilePerBufferNamedFromThePattern) {
    ScratchDir dir("MultiFileSinkTest", "names");
    auto h = started(fmt::format("multifilesink location={}/frame%05d.bin index=3", dir.path().string()));
    ASSERT_TRUE(h);
    for (std::uint8_t i = 0; i < 4; ++i) {
        ASSERT_EQ(h->push(h->make_buffer(10U + i, i).value()), Flow::ok);
    }
    h->push_event(Event::eos());
    EXPECT_EQ(names_in(dir.path()),
              (std::vector<std::string>{"frame00003.bin", "frame00004.bin", "frame00005.bin", "frame00006.bin"}));
    for (std::uint8_t i = 0; i < 4; ++i) {
        const auto bytes = read_file<std::uint8_t>(dir.path() / fmt::format("frame{:05}.bin", 3 + i));
        EXPECT_EQ(bytes, std::vector<std::uint8_t>(10U + i, i));
    }
}

TEST(MultiFileSinkTest, OtherIntegerConversionsAndLiteralPercentWork) {
    ScratchDir dir("MultiFileSinkTest", "conversions");
    auto h = started(fmt::format("multifilesink location={}/100%%-%x.bin index=10", dir.path().string()));
    ASSERT_TRUE(h);
    ASSERT_EQ(h->push(h->make_buffer(1).value()), Flow::ok);
    ASSERT_EQ(h->push(h->make_buffer(1).value()), Flow::ok);
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"100%-a.bin", "100%-b.bin"}));
}

TEST(MultiFileSinkTest, MaxFilesKeepsOnlyTheNewest) {
    ScratchDir dir("MultiFileSinkTest", "max-files");
    auto h = started(fmt::format("multifilesink location={}/f%d max-files=3", dir.path().string()));
    ASSERT_TRUE(h);
    for (std::uint8_t i = 0; i < 7; ++i) {
        ASSERT_EQ(h->push(h->make_buffer(4, i).value()), Flow::ok);
    }
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"f4", "f5", "f6"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "f6"), std::vector<std::uint8_t>(4, 6));
}

TEST(MultiFileSinkTest, PostMessagesAnnouncesEachFile) {
    ScratchDir dir("MultiFileSinkTest", "messages");
    auto h = started(fmt::format("multifilesink location={}/m%02d post-messages=true", dir.path().string()));
    ASSERT_TRUE(h);
    Buffer b = h->make_buffer(8).value();
    b.meta().set_pts(ClockTime::from_ns(2'000'000'000));
    b.meta().set_duration(ClockTime::from_ns(40'000'000));
    ASSERT_EQ(h->push(std::move(b)), Flow::ok);
    std::vector<Structure> posted;
    for (const Message& m : h->messages()) {
        if (m.type == MessageType::element && m.structure && m.structure->name() == "GstMultiFileSink") {
            posted.push_back(*m.structure);
        }
    }
    ASSERT_EQ(posted.size(), 1U);
    EXPECT_EQ(posted[0].get_string("filename"), (dir.path() / "m00").string());
    EXPECT_EQ(posted[0].get_int("index"), 0);
    EXPECT_EQ(posted[0].get_double("timestamp"), 2e9);
    EXPECT_EQ(posted[0].get_double("duration"), 4e7);
}

TEST(MultiFileSinkTest, BadPatternsAreRejectedNamingTheProperty) {
    const std::pair<const char*, const char*> cases[] = {
        {"frame.png", "no integer conversion"},
        {"%s.png", "not an integer conversion"},
        {"%n", "not an integer conversion"},
        {"%d-%d.png", "second conversion"},
        {"%ld.png", "length modifier"},
        {"%*d.png", "not an integer conversion"},
        {"frame%05", "incomplete"},
        {"%999999999d", "width of the conversion at character 1 is over 64"},
        {"%.100d", "precision"},
        {"", "empty"},
    };
    for (const auto& [pattern, why] : cases) {
        SCOPED_TRACE(pattern);
        auto h = Harness::create("multifilesink").value();
        auto set = h->element().set_property("location", pattern);
        ASSERT_FALSE(set);
        const std::string text = set.error().to_string();
        EXPECT_NE(text.find("location"), std::string::npos) << text;
        EXPECT_NE(text.find(why), std::string::npos) << text;
        // The previous value stays.
        EXPECT_EQ(h->element().get_property("location").value(), "%05d");
    }
    // Also from pipeline text.
    auto bad = Harness::create("multifilesink location=%s");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().to_string().find("location"), std::string::npos) << bad.error().to_string();
}

TEST(MultiFileSinkTest, UnwritableDirectoryIsAnErrorNamingThePath) {
    ScratchDir dir("MultiFileSinkTest", "unwritable");
    const fs::path missing = dir.path() / "no-such-dir";
    auto h = started(fmt::format("multifilesink location={}/f%d", missing.string()));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->push(h->make_buffer(4).value()), Flow::error);
    ASSERT_TRUE(h->error());
    const std::string text = h->error()->to_string();
    EXPECT_NE(text.find((missing / "f0").string()), std::string::npos) << text;
    EXPECT_NE(text.find("multifilesink"), std::string::npos) << text;
}

TEST(MultiFileSinkTest, NextFileOffersOnlyBuffer) {
    auto h = Harness::create("multifilesink next-file=buffer");
    ASSERT_TRUE(h);
    EXPECT_FALSE(Harness::create("multifilesink next-file=key-frame"));
}

} // namespace
} // namespace parallax
