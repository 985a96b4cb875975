// The example plugin's elements (plugins/example), loaded from the built
// plugin into the global registry and driven through the test harness.
#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parallax {
namespace {

class ExamplePluginTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!Registry::global().find_plugin("example")) {
            auto loaded = Registry::global().load_plugin(EXAMPLE_PLUGIN);
            ASSERT_TRUE(loaded) << loaded.error().message();
        }
    }
};

std::vector<std::byte> bytes_of(std::string_view text) {
    std::vector<std::byte> out;
    for (char c : text) {
        out.push_back(static_cast<std::byte>(c));
    }
    return out;
}

std::string text_of(std::span<const std::byte> bytes) {
    std::string out;
    for (std::byte b : bytes) {
        out += static_cast<char>(b);
    }
    return out;
}

// Pushes `chunks` through `description`, then eos; returns what came out.
std::string run(check::Harness& h, const std::vector<std::string>& chunks) {
    EXPECT_TRUE(h.start());
    std::string out;
    for (const auto& chunk : chunks) {
        auto b = h.make_buffer(bytes_of(chunk));
        EXPECT_TRUE(b);
        const Flow f = h.push(std::move(*b));
        EXPECT_TRUE(f == Flow::ok || f == Flow::dropped) << to_string(f);
    }
    EXPECT_TRUE(h.push_event(Event::eos()));
    while (auto b = h.pull(std::chrono::milliseconds(100))) {
        out += text_of(b->data());
    }
    return out;
}

std::optional<Structure> checksum_message(const check::Harness& h) {
    for (const Message& m : h.messages()) {
        if (m.type == MessageType::element && m.structure && m.structure->name() == "checksum") {
            return m.structure;
        }
    }
    return std::nullopt;
}

TEST_F(ExamplePluginTest, ElementsComeFromThePlugin) {
    for (const char* name : {"checksum", "byteswap"}) {
        const ElementFactory* f = Registry::global().find(name);
        ASSERT_NE(f, nullptr) << name;
        EXPECT_EQ(f->plugin(), "example");
    }
    const auto plugin = Registry::global().find_plugin("example");
    ASSERT_TRUE(plugin);
    EXPECT_EQ(plugin->elements, (std::vector<std::string>{"byteswap", "checksum"}));
    EXPECT_EQ(plugin->license, "MIT OR Apache-2.0");
    EXPECT_TRUE(Registry::global().find("checksum")->hints().rt_safe);
}

TEST_F(ExamplePluginTest, ChecksumPassesDataAndPostsTheCrcAtEos) {
    auto h = check::Harness::create("checksum");
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ(run(**h, {"1234", "56789"}), "123456789");
    const auto s = checksum_message(**h);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->get("checksum")->to_string(), "(string)cbf43926"); // the CRC-32 check value
    EXPECT_EQ(s->get("bytes")->to_string(), "(string)9");
    EXPECT_EQ(s->get("buffers")->to_string(), "(string)2");
    EXPECT_EQ((*h)->element().get_property("checksum").value(), "cbf43926");
    EXPECT_FALSE((*h)->error());
}

TEST_F(ExamplePluginTest, ChecksumComputesAdler32) {
    auto h = check::Harness::create("checksum algorithm=adler32");
    ASSERT_TRUE(h) << h.error().message();
    run(**h, {"Wikipedia"});
    const auto s = checksum_message(**h);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->get("checksum")->to_string(), "(string)11e60398");
    EXPECT_EQ(s->get("algorithm")->to_string(), "(string)adler32");
}

TEST_F(ExamplePluginTest, ChecksumMismatchIsAnError) {
    auto h = check::Harness::create("checksum expected=cbf43926");
    ASSERT_TRUE(h);
    run(**h, {"123456789"});
    EXPECT_FALSE((*h)->error());
    auto bad = check::Harness::create("checksum expected=00000000");
    ASSERT_TRUE(bad);
    run(**bad, {"123456789"});
    ASSERT_TRUE((*bad)->error());
    EXPECT_EQ((*bad)->error()->message(), "crc32 is cbf43926, expected 00000000");
    EXPECT_FALSE(checksum_message(**bad));
    // The result is read-only for users.
    EXPECT_FALSE((*bad)->element().set_property("checksum", "1"));
}

TEST_F(ExamplePluginTest, ByteswapSwapsWordsOfEachWidth) {
    for (const auto& [width, in, out] :
         {std::tuple{"16-bit", "ABCDEF", "BADCFE"}, std::tuple{"32", "ABCDEFGH", "DCBAHGFE"},
          std::tuple{"64-bit", "ABCDEFGH", "HGFEDCBA"}}) {
        auto h = check::Harness::create(std::string("byteswap width=") + width);
        ASSERT_TRUE(h) << h.error().message();
        EXPECT_EQ(run(**h, {in}), out) << width;
    }
}

TEST_F(ExamplePluginTest, ByteswapCompletesWordsAcrossBuffers) {
    auto h = check::Harness::create("byteswap width=32-bit");
    ASSERT_TRUE(h);
    EXPECT_EQ(run(**h, {"AB", "C", "DEFGHI", "JKL"}), "DCBAHGFELKJI");
    EXPECT_FALSE((*h)->error());
}

TEST_F(ExamplePluginTest, ByteswapPassesATrailingPartialWordWithAWarning) {
    auto h = check::Harness::create("byteswap");
    ASSERT_TRUE(h);
    EXPECT_EQ(run(**h, {"ABC"}), "BAC");
    bool warned = false;
    for (const Message& m : (*h)->messages()) {
        warned = warned || (m.type == MessageType::warning && m.error &&
                            m.error->message().find("last 1 bytes were passed on unswapped") != std::string::npos);
    }
    EXPECT_TRUE(warned);
}

TEST_F(ExamplePluginTest, ByteswapRefusesAnUnknownWidth) {
    auto e = Registry::global().create("byteswap");
    ASSERT_TRUE(e);
    EXPECT_FALSE((*e)->set_property("width", "24"));
    EXPECT_TRUE((*e)->set_property("width", "64"));
    EXPECT_EQ((*e)->get_property("width").value(), "64-bit");
}

} // namespace
} // namespace parallax
