// PARALLAX_DEBUG is read once, when a program's first log category appears.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

// Runs the helper with PARALLAX_DEBUG set to `spec` and returns its stderr.
std::string run_with(const std::string& spec) {
    const std::string command =
        "PARALLAX_DEBUG='" + spec + "' " + PARALLAX_TEST_HELPER_DIR + "/log_env_child 2>&1 >/dev/null";
    FILE* pipe = ::popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string out;
    std::array<char, 512> chunk{};
    while (std::fgets(chunk.data(), static_cast<int>(chunk.size()), pipe) != nullptr) {
        out += chunk.data();
    }
    EXPECT_EQ(::pclose(pipe), 0);
    return out;
}

TEST(LogEnvTest, LevelFromTheEnvironmentFiltersMessages) {
    const std::string out = run_with("envtest:4");
    EXPECT_NE(out.find("INFO"), std::string::npos) << out;
    EXPECT_NE(out.find("envtest"), std::string::npos) << out;
    EXPECT_NE(out.find("log_env_child.cpp"), std::string::npos) << out;
    EXPECT_NE(out.find("info message 1"), std::string::npos) << out;
    EXPECT_EQ(out.find("debug message"), std::string::npos) << out;
}

TEST(LogEnvTest, PatternsAndNamedLevelsWork) {
    const std::string out = run_with("*:1,env*:debug");
    EXPECT_NE(out.find("debug message 2"), std::string::npos) << out;
}

TEST(LogEnvTest, NothingIsWrittenByDefault) {
    EXPECT_EQ(run_with(""), "");
}

TEST(LogEnvTest, AMalformedSpecIsReportedOnceAndIgnored) {
    const std::string out = run_with("envtest:loud");
    EXPECT_NE(out.find("PARALLAX_DEBUG ignored"), std::string::npos) << out;
    EXPECT_NE(out.find("'loud' is not a level"), std::string::npos) << out;
    EXPECT_EQ(out.find("info message"), std::string::npos) << out;
}

} // namespace
