#include <parallax/base/runtime_library.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

// A table of two libc functions, declared and defined the way the elements
// declare theirs.
#define TEST_LIBC_ENTRIES(X)                                                                                           \
    X(strlen)                                                                                                          \
    X(getpid)

namespace parallax {
namespace {

PARALLAX_DECLARE_RUNTIME_LIBRARY(libc_table, LibcTable, TEST_LIBC_ENTRIES)
PARALLAX_DEFINE_RUNTIME_LIBRARY(libc_table, LibcTable, "libc", "libc.so.6", TEST_LIBC_ENTRIES)

struct MissingTable {
    decltype(&::getpid) getpid = nullptr;
    decltype(&::getpid) no_such_function = nullptr;
};

TEST(RuntimeLibraryTest, OpensBySonameAndBindsFunctionsOfTheirOwnType) {
    auto lib = detail::RuntimeLibrary::open("libc", "libc.so.6");
    ASSERT_TRUE(lib) << lib.error().to_string();
    EXPECT_EQ(lib->what(), "libc");
    EXPECT_EQ(lib->file(), "libc.so.6");
    std::size_t (*strlen_fn)(const char*) = nullptr;
    ASSERT_TRUE(lib->bind("strlen", strlen_fn));
    ASSERT_NE(strlen_fn, nullptr);
    EXPECT_EQ(strlen_fn("parallax"), 8U);
}

TEST(RuntimeLibraryTest, AMissingLibraryIsAnErrorNamingItsFileAndWhy) {
    auto lib = detail::RuntimeLibrary::open("libnothing", "/nonexistent/libnothing.so.1");
    ASSERT_FALSE(lib);
    EXPECT_TRUE(lib.error().is(Errc::unsupported));
    const std::string& m = lib.error().message();
    EXPECT_NE(m.find("libnothing (/nonexistent/libnothing.so.1) cannot be loaded"), std::string::npos) << m;
    EXPECT_NE(m.find("No such file"), std::string::npos) << m;
}

TEST(RuntimeLibraryTest, AMissingSymbolIsAnErrorNamingTheSymbolAndTheLibrary) {
    auto lib = detail::RuntimeLibrary::open("libc", "libc.so.6");
    ASSERT_TRUE(lib);
    void (*fn)() = nullptr;
    auto bound = lib->bind("parallax_no_such_function", fn);
    ASSERT_FALSE(bound);
    EXPECT_TRUE(bound.error().is(Errc::unsupported));
    EXPECT_EQ(bound.error().message(), "libc (libc.so.6) has no symbol parallax_no_such_function");
    EXPECT_EQ(fn, nullptr);
}

TEST(RuntimeLibraryTest, ADefinedTableBindsEveryEntryOnce) {
    auto first = libc_table();
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_EQ((*first)->strlen("abc"), 3U);
    EXPECT_EQ((*first)->getpid(), ::getpid());
    auto second = libc_table();
    ASSERT_TRUE(second);
    EXPECT_EQ(*first, *second); // the same table, not a second load
}

TEST(RuntimeLibraryTest, ATableWithAMissingEntryFailsWhole) {
    detail::RuntimeLibraryTable<MissingTable> once;
    auto table = once.get([]() -> Result<MissingTable> {
        auto library = detail::RuntimeLibrary::open("libc", "libc.so.6");
        if (!library) {
            return fail(library.error());
        }
        MissingTable t;
        if (auto ok = library->bind("getpid", t.getpid); !ok) {
            return fail(ok.error());
        }
        if (auto ok = library->bind("no_such_function", t.no_such_function); !ok) {
            return fail(ok.error());
        }
        return t;
    });
    ASSERT_FALSE(table);
    EXPECT_NE(table.error().message().find("has no symbol no_such_function"), std::string::npos);
}

TEST(RuntimeLibraryTest, AFailureIsNotRememberedAndASuccessIsLoadedOnce) {
    detail::RuntimeLibraryTable<int> once;
    int calls = 0;
    auto failing = [&]() -> Result<int> {
        ++calls;
        return fail(Errc::unsupported, "not installed yet");
    };
    auto working = [&]() -> Result<int> {
        ++calls;
        return 42;
    };
    EXPECT_FALSE(once.get(failing));
    EXPECT_FALSE(once.get(failing));
    EXPECT_EQ(calls, 2);
    auto loaded = once.get(working);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(**loaded, 42);
    auto again = once.get(failing); // loaded: the loader is not called
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *loaded);
    EXPECT_EQ(calls, 3);
}

TEST(RuntimeLibraryTest, ThreadsRacingForTheFirstLoadLoadOnceAndSeeTheSameTable) {
    detail::RuntimeLibraryTable<int> once;
    std::atomic<int> calls{0};
    std::atomic<bool> go{false};
    std::vector<const int*> seen(8, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        threads.emplace_back([&, i] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            auto table = once.get([&]() -> Result<int> {
                calls.fetch_add(1);
                return 7;
            });
            seen[i] = table ? *table : nullptr;
        });
    }
    go.store(true);
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(calls.load(), 1);
    for (const int* p : seen) {
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p, seen.front());
        EXPECT_EQ(*p, 7);
    }
}

} // namespace
} // namespace parallax
