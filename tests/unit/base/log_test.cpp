#include <parallax/base/log.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace parallax {
namespace {

struct Captured {
    std::string category;
    LogLevel level;
    std::string file;
    std::string message;
};

// Installs a sink that records every message, and restores the defaults.
class LogTest : public ::testing::Test {
protected:
    void SetUp() override {
        set_log_sink([this](const LogRecord& record) {
            std::lock_guard lock(mutex_);
            captured_.push_back({record.category->name(), record.level, record.file, std::string(record.message)});
        });
    }
    void TearDown() override {
        set_log_sink({});
        ASSERT_TRUE(set_log_spec(""));
    }
    std::vector<Captured> captured() {
        std::lock_guard lock(mutex_);
        return captured_;
    }

private:
    std::mutex mutex_;
    std::vector<Captured> captured_;
};

TEST_F(LogTest, CategoriesAreOffByDefault) {
    LogCategory category("test-off", "nothing enabled");
    EXPECT_EQ(category.level(), LogLevel::none);
    EXPECT_FALSE(category.enabled(LogLevel::error));
    PARALLAX_ERROR(category, "never {}", 1);
    EXPECT_TRUE(captured().empty());
}

TEST_F(LogTest, ArgumentsAreNotEvaluatedWhenOff) {
    LogCategory category("test-lazy", "");
    int evaluated = 0;
    auto costly = [&] { return ++evaluated; };
    PARALLAX_DEBUG(category, "value {}", costly());
    EXPECT_EQ(evaluated, 0);
    ASSERT_TRUE(set_log_spec("test-lazy:debug"));
    PARALLAX_DEBUG(category, "value {}", costly());
    EXPECT_EQ(evaluated, 1);
}

TEST_F(LogTest, SpecSetsLevelsByNameAndPattern) {
    LogCategory arena("arena", "");
    LogCategory queue("queue", "");
    LogCategory queue2("queue2", "");
    ASSERT_TRUE(set_log_spec("*:2,queue*:5,arena:INFO"));
    EXPECT_EQ(arena.level(), LogLevel::info);
    EXPECT_EQ(queue.level(), LogLevel::debug);
    EXPECT_EQ(queue2.level(), LogLevel::debug);
    // Later entries win.
    ASSERT_TRUE(set_log_spec("queue:5,*:1"));
    EXPECT_EQ(queue.level(), LogLevel::error);
    // A bare level means every category.
    ASSERT_TRUE(set_log_spec("warning"));
    EXPECT_EQ(arena.level(), LogLevel::warning);
}

TEST_F(LogTest, CategoriesCreatedLaterFollowTheSpec) {
    ASSERT_TRUE(set_log_spec("late*:trace"));
    LogCategory late("late-category", "");
    EXPECT_EQ(late.level(), LogLevel::trace);
}

TEST_F(LogTest, MessagesReachTheSinkWithCategoryLevelAndPlace) {
    LogCategory category("test-sink", "");
    ASSERT_TRUE(set_log_spec("test-sink:4"));
    PARALLAX_INFO(category, "slot {} freed by {}", 3, "reclaim");
    PARALLAX_DEBUG(category, "not at level 4");
    const auto messages = captured();
    ASSERT_EQ(messages.size(), 1U);
    EXPECT_EQ(messages[0].category, "test-sink");
    EXPECT_EQ(messages[0].level, LogLevel::info);
    EXPECT_EQ(messages[0].file, "log_test.cpp");
    EXPECT_EQ(messages[0].message, "slot 3 freed by reclaim");
}

TEST_F(LogTest, MalformedSpecsAreErrorsThatChangeNothing) {
    LogCategory category("test-bad", "");
    ASSERT_TRUE(set_log_spec("test-bad:3"));
    const std::pair<std::string, std::string> cases[] = {
        {"test-bad:10", "outside 0-9"},
        {"test-bad:loud", "'loud' is not a level"},
        {":3", "no category"},
        {"*:2,queue:", "is not a level"},
    };
    for (const auto& [spec, words] : cases) {
        auto result = set_log_spec(spec);
        ASSERT_FALSE(result) << spec;
        EXPECT_NE(result.error().message().find(words), std::string::npos) << result.error().message();
        EXPECT_NE(result.error().position(), Error::no_position) << spec;
        EXPECT_EQ(category.level(), LogLevel::fixme) << spec;
    }
}

TEST_F(LogTest, LevelNamesPrintLikeGStreamer) {
    EXPECT_STREQ(to_string(LogLevel::error), "ERROR");
    EXPECT_STREQ(to_string(LogLevel::warning), "WARN");
    EXPECT_STREQ(to_string(LogLevel::fixme), "FIXME");
    EXPECT_STREQ(to_string(LogLevel::info), "INFO");
    EXPECT_STREQ(to_string(LogLevel::debug), "DEBUG");
    EXPECT_STREQ(to_string(LogLevel::log), "LOG");
    EXPECT_STREQ(to_string(LogLevel::trace), "TRACE");
    EXPECT_STREQ(to_string(LogLevel::memdump), "MEMDUMP");
    EXPECT_STREQ(to_string(LogLevel::none), "NONE");
}

TEST_F(LogTest, SetLevelOverridesUntilTheNextSpec) {
    LogCategory category("test-override", "");
    category.set_level(LogLevel::debug);
    EXPECT_TRUE(category.enabled(LogLevel::debug));
    ASSERT_TRUE(set_log_spec("*:1"));
    EXPECT_FALSE(category.enabled(LogLevel::debug));
    EXPECT_EQ(category.name(), "test-override");
}

} // namespace
} // namespace parallax
