// multifilesink: one file per buffer, named from the location pattern and
// the index, holding exactly the buffer's bytes; max-files keeps the newest;
// post-messages announces each file; patterns that printf could misread are
// refused naming the property and the fault; a directory it cannot write to
// is an error naming the path. The appending modes (discont, key-frame,
// key-unit-event, max-size, max-duration) put several buffers in each file
// and split where GStreamer's do; bad modes and limits are refused naming the
// property.

#include <parallax/check/harness.hpp>

#include "integration/gst_compare_support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

namespace parallax::multifilesink_test {
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
    for (const char* mode : {"buffer", "key-frame"}) {
        SCOPED_TRACE(mode);
        auto h = started(fmt::format("multifilesink location={}/f%d next-file={}", missing.string(), mode));
        ASSERT_TRUE(h);
        EXPECT_EQ(h->push(h->make_buffer(4).value()), Flow::error);
        ASSERT_TRUE(h->error());
        const std::string text = h->error()->to_string();
        EXPECT_NE(text.find((missing / "f0").string()), std::string::npos) << text;
        EXPECT_NE(text.find("multifilesink"), std::string::npos) << text;
    }
}

// A buffer of `size` bytes of `fill` with the given flags and, when `pts_ms`
// is not negative, pts and duration in milliseconds.
Buffer make(Harness& h, std::size_t size, std::uint8_t fill, BufferFlags flags = BufferFlags::none,
            std::int64_t pts_ms = -1, std::int64_t duration_ms = -1) {
    Buffer b = h.make_buffer(size, fill).value();
    b.meta().set_flags(flags);
    if (pts_ms >= 0) {
        b.meta().set_pts(ClockTime::from_ms(static_cast<std::uint64_t>(pts_ms)));
    }
    if (duration_ms >= 0) {
        b.meta().set_duration(ClockTime::from_ms(static_cast<std::uint64_t>(duration_ms)));
    }
    return b;
}

// `size` bytes of each fill in turn, as one file holds them.
std::vector<std::uint8_t> bytes_of(std::initializer_list<std::pair<std::size_t, std::uint8_t>> runs) {
    std::vector<std::uint8_t> out;
    for (const auto& [size, fill] : runs) {
        out.insert(out.end(), size, fill);
    }
    return out;
}

std::vector<Structure> file_messages(const Harness& h) {
    std::vector<Structure> posted;
    for (const Message& m : h.messages()) {
        if (m.type == MessageType::element && m.structure && m.structure->name() == "GstMultiFileSink") {
            posted.push_back(*m.structure);
        }
    }
    return posted;
}

TEST(MultiFileSinkTest, DefaultsAreGStreamers) {
    auto h = Harness::create("multifilesink").value();
    EXPECT_EQ(h->element().get_property("next-file").value(), "buffer");
    EXPECT_EQ(h->element().get_property("max-file-size").value(), "2147483648");
    EXPECT_EQ(h->element().get_property("max-file-duration").value(), "18446744073709551615");
    EXPECT_EQ(h->element().get_property("max-files").value(), "0");
}

TEST(MultiFileSinkTest, KeyFrameModeWritesOneFilePerGop) {
    ScratchDir dir("MultiFileSinkTest", "key-frame");
    auto h =
        started(fmt::format("multifilesink location={}/gop%02d.ts next-file=key-frame index=1", dir.path().string()));
    ASSERT_TRUE(h);
    // Three GOPs: a key frame (no delta flag) then delta units.
    const std::size_t gop_sizes[] = {3, 2, 4};
    std::uint8_t fill = 0;
    for (const std::size_t gop : gop_sizes) {
        ASSERT_EQ(h->push(make(*h, 5, fill++, BufferFlags::keyframe)), Flow::ok);
        for (std::size_t i = 1; i < gop; ++i) {
            ASSERT_EQ(h->push(make(*h, 2, fill++, BufferFlags::delta)), Flow::ok);
        }
    }
    h->push_event(Event::eos());
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"gop01.ts", "gop02.ts", "gop03.ts"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "gop01.ts"), bytes_of({{5, 0}, {2, 1}, {2, 2}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "gop02.ts"), bytes_of({{5, 3}, {2, 4}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "gop03.ts"), bytes_of({{5, 5}, {2, 6}, {2, 7}, {2, 8}}));
}

Event key_unit_event(std::uint32_t count) {
    DownstreamForceKeyUnit k;
    k.count = count;
    return Event::downstream_force_key_unit(k);
}

TEST(MultiFileSinkTest, KeyUnitEventModeStartsAFileAtEachForceKeyUnitEvent) {
    ScratchDir dir("MultiFileSinkTest", "key-unit-event");
    auto h = started(fmt::format("multifilesink location={}/k%d next-file=key-unit-event", dir.path().string()));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->element().get_property("next-file").value(), "key-unit-event");
    // An event before any buffer leaves no empty file behind.
    ASSERT_TRUE(h->push_event(key_unit_event(4)));
    ASSERT_EQ(h->push(make(*h, 3, 0, BufferFlags::keyframe)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 1, BufferFlags::delta)), Flow::ok);
    // Key frames without an event do not split in this mode.
    ASSERT_EQ(h->push(make(*h, 3, 2, BufferFlags::keyframe)), Flow::ok);
    ASSERT_TRUE(h->push_event(key_unit_event(5)));
    ASSERT_EQ(h->push(make(*h, 3, 3, BufferFlags::keyframe)), Flow::ok);
    // The same count again (the same key unit through another branch) is
    // not a new file.
    ASSERT_TRUE(h->push_event(key_unit_event(5)));
    ASSERT_EQ(h->push(make(*h, 2, 4, BufferFlags::delta)), Flow::ok);
    ASSERT_TRUE(h->push_event(key_unit_event(6)));
    ASSERT_EQ(h->push(make(*h, 3, 5, BufferFlags::keyframe)), Flow::ok);
    h->push_event(Event::eos());
    EXPECT_FALSE(h->error());
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"k0", "k1", "k2"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "k0"), bytes_of({{3, 0}, {2, 1}, {3, 2}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "k1"), bytes_of({{3, 3}, {2, 4}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "k2"), bytes_of({{3, 5}}));
}

TEST(MultiFileSinkTest, OtherModesIgnoreForceKeyUnitEvents) {
    ScratchDir dir("MultiFileSinkTest", "key-frame-ignores-events");
    auto h = started(fmt::format("multifilesink location={}/g%d next-file=key-frame", dir.path().string()));
    ASSERT_TRUE(h);
    ASSERT_EQ(h->push(make(*h, 3, 0, BufferFlags::keyframe)), Flow::ok);
    ASSERT_TRUE(h->push_event(key_unit_event(1)));
    ASSERT_EQ(h->push(make(*h, 2, 1, BufferFlags::delta)), Flow::ok);
    h->push_event(Event::eos());
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"g0"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "g0"), bytes_of({{3, 0}, {2, 1}}));
}

TEST(MultiFileSinkTest, DiscontModeStartsAFileAtEachDiscontinuity) {
    ScratchDir dir("MultiFileSinkTest", "discont");
    auto h = started(fmt::format("multifilesink location={}/d%d next-file=discont", dir.path().string()));
    ASSERT_TRUE(h);
    // The first buffer's discont opens the first file, not an empty one.
    ASSERT_EQ(h->push(make(*h, 3, 0, BufferFlags::discont)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 3, 1)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 4, 2, BufferFlags::discont)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 1, 3, BufferFlags::delta)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 4, BufferFlags::discont | BufferFlags::delta)), Flow::ok);
    // Stopping without end of stream still leaves complete files.
    ASSERT_TRUE(h->stop());
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"d0", "d1", "d2"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "d0"), bytes_of({{3, 0}, {3, 1}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "d1"), bytes_of({{4, 2}, {1, 3}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "d2"), bytes_of({{2, 4}}));
}

TEST(MultiFileSinkTest, MaxSizeModeStartsAFileBeforeABufferThatWouldOverflow) {
    ScratchDir dir("MultiFileSinkTest", "max-size");
    auto h =
        started(fmt::format("multifilesink location={}/s%d next-file=max-size max-file-size=10", dir.path().string()));
    ASSERT_TRUE(h);
    // 4+4+2 fills the first file exactly; the next 4 would overflow it. A
    // buffer larger than the limit gets a file of its own.
    const std::size_t sizes[] = {4, 4, 2, 4, 12, 3, 3};
    std::uint8_t fill = 0;
    for (const std::size_t size : sizes) {
        ASSERT_EQ(h->push(make(*h, size, fill++)), Flow::ok);
    }
    h->push_event(Event::eos());
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"s0", "s1", "s2", "s3"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "s0"), bytes_of({{4, 0}, {4, 1}, {2, 2}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "s1"), bytes_of({{4, 3}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "s2"), bytes_of({{12, 4}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "s3"), bytes_of({{3, 5}, {3, 6}}));
}

TEST(MultiFileSinkTest, MaxDurationModeSplitsByPtsSpan) {
    ScratchDir dir("MultiFileSinkTest", "max-duration");
    auto h = started(fmt::format("multifilesink location={}/t%d next-file=max-duration max-file-duration=100000000",
                                 dir.path().string()));
    ASSERT_TRUE(h);
    // 20 ms buffers every 40 ms; a file spans at most 100 ms from its first
    // pts to the end of its last buffer. A buffer without pts stays.
    ASSERT_EQ(h->push(make(*h, 2, 0, BufferFlags::none, 0, 20)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 1, BufferFlags::none, 40, 20)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 2)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 3, BufferFlags::none, 80, 20)), Flow::ok); // ends at 100: still fits
    ASSERT_EQ(h->push(make(*h, 2, 4, BufferFlags::none, 120, 20)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 5, BufferFlags::none, 160, 20)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 6, BufferFlags::none, 200, 20)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 2, 7, BufferFlags::none, 240)), Flow::ok); // no duration: 240 - 120 > 100
    h->push_event(Event::eos());
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"t0", "t1", "t2"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "t0"), bytes_of({{2, 0}, {2, 1}, {2, 2}, {2, 3}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "t1"), bytes_of({{2, 4}, {2, 5}, {2, 6}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "t2"), bytes_of({{2, 7}}));
}

TEST(MultiFileSinkTest, MaxFilesDeletesTheOldestInAppendingModes) {
    ScratchDir dir("MultiFileSinkTest", "max-files-appending");
    auto h = started(fmt::format("multifilesink location={}/g%d next-file=key-frame max-files=2", dir.path().string()));
    ASSERT_TRUE(h);
    for (std::uint8_t gop = 0; gop < 4; ++gop) {
        ASSERT_EQ(h->push(make(*h, 3, gop)), Flow::ok);
        ASSERT_EQ(h->push(make(*h, 1, gop, BufferFlags::delta)), Flow::ok);
    }
    h->push_event(Event::eos());
    EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"g2", "g3"}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "g2"), bytes_of({{3, 2}, {1, 2}}));
    EXPECT_EQ(read_file<std::uint8_t>(dir.path() / "g3"), bytes_of({{3, 3}, {1, 3}}));
}

TEST(MultiFileSinkTest, AppendingModesAnnounceEachCompleteFile) {
    ScratchDir dir("MultiFileSinkTest", "messages-appending");
    auto h = started(
        fmt::format("multifilesink location={}/k%d next-file=key-frame post-messages=true", dir.path().string()));
    ASSERT_TRUE(h);
    ASSERT_EQ(h->push(make(*h, 4, 0, BufferFlags::keyframe, 1000, 40)), Flow::ok);
    ASSERT_EQ(h->push(make(*h, 4, 1, BufferFlags::delta, 1040, 40)), Flow::ok);
    EXPECT_TRUE(file_messages(*h).empty()); // the first file is still open
    ASSERT_EQ(h->push(make(*h, 4, 2, BufferFlags::keyframe, 1080, 40)), Flow::ok);
    h->push_event(Event::eos());
    const std::vector<Structure> posted = file_messages(*h);
    ASSERT_EQ(posted.size(), 2U);
    EXPECT_EQ(posted[0].get_string("filename"), (dir.path() / "k0").string());
    EXPECT_EQ(posted[0].get_int("index"), 0);
    EXPECT_EQ(posted[0].get_double("timestamp"), 1e9);
    EXPECT_EQ(posted[0].get_double("duration"), 8e7); // first pts to the end of the last buffer
    EXPECT_EQ(posted[1].get_string("filename"), (dir.path() / "k1").string());
    EXPECT_EQ(posted[1].get_int("index"), 1);
    EXPECT_EQ(posted[1].get_double("timestamp"), 1.08e9);
    EXPECT_EQ(posted[1].get_double("duration"), 4e7);
}

TEST(MultiFileSinkTest, BadModeAndLimitValuesAreRejectedNamingTheProperty) {
    struct Case {
        const char* property;
        const char* value;
        const char* why;
    };
    const Case cases[] = {
        {"next-file", "key-unit", "is not one of"},    {"next-file", "-1", "is not one of"},
        {"next-file", "every-frame", "is not one of"}, {"next-file", "6", "is not one of"},
        {"max-file-size", "-1", "negative"},           {"max-file-size", "big", "not an unsigned integer"},
        {"max-file-duration", "-5", "negative"},       {"max-files", "-1", "negative"},
    };
    for (const auto& [property, value, why] : cases) {
        SCOPED_TRACE(fmt::format("{}={}", property, value));
        auto h = Harness::create("multifilesink").value();
        const std::string before = h->element().get_property(property).value();
        auto set = h->element().set_property(property, value);
        ASSERT_FALSE(set);
        const std::string text = set.error().to_string();
        EXPECT_NE(text.find(property), std::string::npos) << text;
        EXPECT_NE(text.find(why), std::string::npos) << text;
        EXPECT_EQ(h->element().get_property(property).value(), before);
        // Also from pipeline text.
        auto bad = Harness::create(fmt::format("multifilesink {}={}", property, value));
        ASSERT_FALSE(bad);
        EXPECT_NE(bad.error().to_string().find(property), std::string::npos) << bad.error().to_string();
    }
}

} // namespace
} // namespace parallax::multifilesink_test
