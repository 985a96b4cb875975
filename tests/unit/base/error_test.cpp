#include <parallax/base/result.hpp>
#include <parallax/base/unique_fd.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace parallax {
namespace {

TEST(ErrorTest, CarriesCodeMessageAndPlace) {
    Error error(Errc::corrupt, "bad magic");
    EXPECT_TRUE(error.is(Errc::corrupt));
    EXPECT_FALSE(error.is(Errc::timeout));
    EXPECT_EQ(error.code().category().name(), std::string("parallax"));
    EXPECT_EQ(error.message(), "bad magic");
    EXPECT_EQ(error.to_string(), "bad magic");
    error.at_element("filesrc0").at_pad("src").at_position(12);
    EXPECT_EQ(error.element(), "filesrc0");
    EXPECT_EQ(error.pad(), "src");
    EXPECT_EQ(error.position(), 12U);
    EXPECT_EQ(error.to_string(), "filesrc0:src: bad magic (at character 12)");
}

TEST(ErrorTest, EveryCodeHasAMessage) {
    for (int code = static_cast<int>(Errc::invalid_argument); code <= static_cast<int>(Errc::state); ++code) {
        const std::string text = make_error_code(static_cast<Errc>(code)).message();
        EXPECT_FALSE(text.empty());
        EXPECT_EQ(text.find("unknown"), std::string::npos) << code;
    }
    EXPECT_NE(make_error_code(static_cast<Errc>(999)).message().find("unknown"), std::string::npos);
}

TEST(ErrorTest, FromErrnoNamesTheCallAndTheSystemReason) {
    const Error error = Error::from_errno(ENOENT, "opening /nope");
    EXPECT_EQ(error.code(), std::error_code(ENOENT, std::system_category()));
    EXPECT_NE(error.message().find("opening /nope"), std::string::npos);
    EXPECT_NE(error.message().find("No such file"), std::string::npos);
}

TEST(ErrorTest, FailHelpersMakeUnexpectedResults) {
    Result<int> a = fail(Errc::exhausted, "no slot");
    ASSERT_FALSE(a);
    EXPECT_TRUE(a.error().is(Errc::exhausted));
    Result<void> b = fail(Error(Errc::closed, "peer left").at_element("ipcsink0"));
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().element(), "ipcsink0");
    Result<int> c = fail_errno(EACCES, "open");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code().value(), EACCES);
}

TEST(UniqueFdTest, ClosesOnDestructionAndMovesOwnership) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    {
        UniqueFd read_end(fds[0]);
        UniqueFd moved = std::move(read_end);
        EXPECT_FALSE(read_end.valid()); // NOLINT(bugprone-use-after-move): moved-from is specified empty
        EXPECT_EQ(moved.get(), fds[0]);
        UniqueFd assigned;
        assigned = std::move(moved);
        EXPECT_TRUE(assigned);
    }
    EXPECT_EQ(::fcntl(fds[0], F_GETFD), -1); // closed
    UniqueFd write_end(fds[1]);
    const int raw = write_end.release();
    EXPECT_FALSE(write_end.valid());
    EXPECT_NE(::fcntl(raw, F_GETFD), -1); // release() did not close
    write_end.reset(raw);
    write_end.reset();
    EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
}

} // namespace
} // namespace parallax
