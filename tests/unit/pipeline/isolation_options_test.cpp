#include <parallax/pipeline/isolation.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace parallax {
namespace {

using Paths = std::vector<std::string>;

TEST(SandboxSettingsTest, KindNamesRoundTrip) {
    for (auto kind : {SandboxKind::compute_only, SandboxKind::with_network, SandboxKind::none}) {
        auto parsed = parse_sandbox_settings(to_string(kind));
        ASSERT_TRUE(parsed) << parsed.error().message();
        EXPECT_EQ(parsed->kind, kind);
        EXPECT_TRUE(parsed->allowed_paths.empty());
    }
    EXPECT_EQ(to_string(SandboxKind::with_filesystem), "with-filesystem");
}

TEST(SandboxSettingsTest, WithFilesystemTakesOneOrMoreAbsolutePaths) {
    auto one = parse_sandbox_settings("with-filesystem:/srv/in");
    ASSERT_TRUE(one) << one.error().message();
    EXPECT_EQ(one->kind, SandboxKind::with_filesystem);
    EXPECT_EQ(one->allowed_paths, Paths{"/srv/in"});

    auto two = parse_sandbox_settings("with-filesystem:/srv/in:/tmp/out");
    ASSERT_TRUE(two) << two.error().message();
    EXPECT_EQ(two->allowed_paths, (Paths{"/srv/in", "/tmp/out"}));
}

TEST(SandboxSettingsTest, OnlyTheKindAndPathsAreSet) {
    auto parsed = parse_sandbox_settings("compute-only");
    ASSERT_TRUE(parsed);
    EXPECT_FALSE(parsed->max_address_space);
    EXPECT_FALSE(parsed->max_cpu);
    EXPECT_FALSE(parsed->cgroup_memory_max);
    EXPECT_FALSE(parsed->cgroup_pids_max);
}

TEST(SandboxSettingsTest, AnErrorNamesTheBadPart) {
    struct BadInput {
        const char* text;
        const char* message;
    };
    const BadInput inputs[] = {
        {"", "sandbox \"\": no kind (compute-only, with-network, with-filesystem, none)"},
        {"foo", "sandbox \"foo\": \"foo\" is not a sandbox kind (compute-only, with-network, with-filesystem, none)"},
        {"Compute-Only", "sandbox \"Compute-Only\": \"Compute-Only\" is not a sandbox kind (compute-only, "
                         "with-network, with-filesystem, none)"},
        {":/tmp", "sandbox \":/tmp\": no kind (compute-only, with-network, with-filesystem, none)"},
        {"with-network:/tmp", "sandbox \"with-network:/tmp\": only with-filesystem takes paths"},
        {"compute-only:/tmp", "sandbox \"compute-only:/tmp\": only with-filesystem takes paths"},
        {"none:", "sandbox \"none:\": only with-filesystem takes paths"},
        {"with-filesystem",
         "sandbox \"with-filesystem\": with-filesystem needs at least one path (with-filesystem:/PATH[:/PATH...])"},
        {"with-filesystem:", "sandbox \"with-filesystem:\": path 1 is empty"},
        {"with-filesystem:/a::/b", "sandbox \"with-filesystem:/a::/b\": path 2 is empty"},
        {"with-filesystem:/a:", "sandbox \"with-filesystem:/a:\": path 2 is empty"},
        {"with-filesystem:/srv:tmp/out", "sandbox \"with-filesystem:/srv:tmp/out\": path \"tmp/out\" is not absolute"},
    };
    for (const auto& input : inputs) {
        SCOPED_TRACE(input.text);
        auto parsed = parse_sandbox_settings(input.text);
        ASSERT_FALSE(parsed);
        EXPECT_EQ(parsed.error().message(), input.message);
    }
}

} // namespace
} // namespace parallax
