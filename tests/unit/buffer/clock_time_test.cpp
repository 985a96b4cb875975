#include <parallax/buffer/clock_time.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace parallax {
namespace {

constexpr std::uint64_t all_ones = ~std::uint64_t{0};

// Everything but to_string() and parse() is constexpr.
static_assert(ClockTime::from_ms(1500) == ClockTime::from_ns(1'500'000'000));
static_assert((ClockTime::none() + ClockTime::from_s(1)).is_none());
static_assert(ClockTime::from_s(1) - ClockTime::from_s(2) == ClockTime::zero());
static_assert(ClockTime::zero() < ClockTime::max() && ClockTime::max() < ClockTime::none());

TEST(ClockTimeTest, DefaultIsNone) {
    ClockTime t;
    EXPECT_TRUE(t.is_none());
    EXPECT_FALSE(t.is_valid());
    EXPECT_EQ(t, ClockTime::none());
    EXPECT_EQ(t.ns(), all_ones);
}

TEST(ClockTimeTest, NoneIsAllOnesAndMaxIsOneBelow) {
    EXPECT_EQ(ClockTime::none().ns(), all_ones);
    EXPECT_EQ(ClockTime::none_ns, all_ones);
    EXPECT_EQ(ClockTime::max().ns(), all_ones - 1);
    EXPECT_TRUE(ClockTime::max().is_valid());
    EXPECT_TRUE(ClockTime(all_ones).is_none());
    EXPECT_TRUE(ClockTime::from_ns(all_ones).is_none());
    EXPECT_EQ(ClockTime::zero().ns(), 0U);
    EXPECT_TRUE(ClockTime::zero().is_valid());
}

TEST(ClockTimeTest, FactoriesScaleToNanoseconds) {
    EXPECT_EQ(ClockTime::from_ns(42).ns(), 42U);
    EXPECT_EQ(ClockTime(std::uint64_t{42}).ns(), 42U);
    EXPECT_EQ(ClockTime::from_us(3).ns(), 3'000U);
    EXPECT_EQ(ClockTime::from_ms(3).ns(), 3'000'000U);
    EXPECT_EQ(ClockTime::from_s(3).ns(), 3'000'000'000U);
    EXPECT_EQ(ClockTime::from_s(0), ClockTime::zero());
}

TEST(ClockTimeTest, FactoriesSaturateAtMax) {
    EXPECT_EQ(ClockTime::from_us(all_ones), ClockTime::max());
    EXPECT_EQ(ClockTime::from_ms(all_ones / 1000), ClockTime::max());
    EXPECT_EQ(ClockTime::from_s(all_ones), ClockTime::max());
    // The largest whole second that fits is kept exactly.
    const std::uint64_t max_s = ClockTime::max().ns() / ClockTime::ns_per_s;
    EXPECT_EQ(ClockTime::from_s(max_s).ns(), max_s * ClockTime::ns_per_s);
    EXPECT_EQ(ClockTime::from_s(max_s + 1), ClockTime::max());
}

TEST(ClockTimeTest, AccessorsTruncateToTheUnit) {
    const ClockTime t = ClockTime::from_ns(2'345'678'901);
    EXPECT_EQ(t.ns(), 2'345'678'901U);
    EXPECT_EQ(t.us(), 2'345'678U);
    EXPECT_EQ(t.ms(), 2'345U);
    EXPECT_EQ(t.s(), 2U);
}

TEST(ClockTimeTest, AccessorsOfNoneAreAllOnes) {
    EXPECT_EQ(ClockTime::none().us(), all_ones);
    EXPECT_EQ(ClockTime::none().ms(), all_ones);
    EXPECT_EQ(ClockTime::none().s(), all_ones);
}

TEST(ClockTimeTest, ComparisonOrdersByNanosecondsWithNoneLast) {
    const ClockTime a = ClockTime::from_ms(1);
    const ClockTime b = ClockTime::from_ms(2);
    EXPECT_LT(a, b);
    EXPECT_LE(a, a);
    EXPECT_GT(b, a);
    EXPECT_GE(b, b);
    EXPECT_NE(a, b);
    EXPECT_EQ(a, ClockTime::from_us(1000));
    EXPECT_GT(ClockTime::none(), ClockTime::max());
    EXPECT_EQ(ClockTime::none(), ClockTime::none());
    EXPECT_EQ(a <=> b, std::strong_ordering::less);
}

TEST(ClockTimeTest, AdditionAddsAndPropagatesNone) {
    EXPECT_EQ(ClockTime::from_ms(1) + ClockTime::from_us(500), ClockTime::from_us(1500));
    EXPECT_TRUE((ClockTime::none() + ClockTime::from_s(1)).is_none());
    EXPECT_TRUE((ClockTime::from_s(1) + ClockTime::none()).is_none());
    EXPECT_TRUE((ClockTime::none() + ClockTime::none()).is_none());
}

TEST(ClockTimeTest, AdditionSaturatesAtMaxNotNone) {
    EXPECT_EQ(ClockTime::max() + ClockTime::from_ns(1), ClockTime::max());
    EXPECT_EQ(ClockTime::max() + ClockTime::max(), ClockTime::max());
    EXPECT_EQ(ClockTime::from_ns(ClockTime::max().ns() - 1) + ClockTime::from_ns(1), ClockTime::max());
    EXPECT_EQ(ClockTime::max() + ClockTime::zero(), ClockTime::max());
}

TEST(ClockTimeTest, SubtractionSaturatesAtZeroAndPropagatesNone) {
    EXPECT_EQ(ClockTime::from_s(3) - ClockTime::from_s(1), ClockTime::from_s(2));
    EXPECT_EQ(ClockTime::from_s(1) - ClockTime::from_s(3), ClockTime::zero());
    EXPECT_EQ(ClockTime::from_s(1) - ClockTime::from_s(1), ClockTime::zero());
    EXPECT_TRUE((ClockTime::none() - ClockTime::from_s(1)).is_none());
    EXPECT_TRUE((ClockTime::from_s(1) - ClockTime::none()).is_none());
}

TEST(ClockTimeTest, MultiplicationSaturatesAndPropagatesNone) {
    EXPECT_EQ(ClockTime::from_ms(20) * 3, ClockTime::from_ms(60));
    EXPECT_EQ(3 * ClockTime::from_ms(20), ClockTime::from_ms(60));
    EXPECT_EQ(ClockTime::from_ms(20) * 0, ClockTime::zero());
    EXPECT_EQ(ClockTime::from_s(10) * all_ones, ClockTime::max());
    EXPECT_EQ(ClockTime::max() * 2, ClockTime::max());
    EXPECT_TRUE((ClockTime::none() * 2).is_none());
    EXPECT_TRUE((ClockTime::none() * 0).is_none());
}

TEST(ClockTimeTest, DivisionTruncatesAndGivesNoneForZeroDivisor) {
    EXPECT_EQ(ClockTime::from_ns(10) / 3, ClockTime::from_ns(3));
    EXPECT_EQ(ClockTime::from_s(1) / 1000, ClockTime::from_ms(1));
    EXPECT_TRUE((ClockTime::from_s(1) / 0).is_none());
    EXPECT_TRUE((ClockTime::none() / 2).is_none());
    EXPECT_EQ(ClockTime::max() / 1, ClockTime::max());
}

TEST(ClockTimeTest, CompoundAssignmentMatchesTheOperators) {
    ClockTime t = ClockTime::from_ms(10);
    t += ClockTime::from_ms(5);
    EXPECT_EQ(t, ClockTime::from_ms(15));
    t -= ClockTime::from_ms(20);
    EXPECT_EQ(t, ClockTime::zero());
    t = ClockTime::from_ms(7);
    t *= 3;
    EXPECT_EQ(t, ClockTime::from_ms(21));
    t /= 7;
    EXPECT_EQ(t, ClockTime::from_ms(3));
    t += ClockTime::none();
    EXPECT_TRUE(t.is_none());
}

TEST(ClockTimeTest, ToStringMatchesGstTimeFormat) {
    EXPECT_EQ(ClockTime::zero().to_string(), "0:00:00.000000000");
    EXPECT_EQ(ClockTime::from_ms(1500).to_string(), "0:00:01.500000000");
    EXPECT_EQ(ClockTime::from_ns(1).to_string(), "0:00:00.000000001");
    EXPECT_EQ((ClockTime::from_s(3723) + ClockTime::from_ns(4)).to_string(), "1:02:03.000000004");
    EXPECT_EQ(ClockTime::from_s(59 * 60 + 59).to_string(), "0:59:59.000000000");
    EXPECT_EQ(ClockTime::from_s(100 * 3600).to_string(), "100:00:00.000000000");
    EXPECT_EQ(ClockTime::max().to_string(), "5124095:34:33.709551614");
    EXPECT_EQ(ClockTime::none().to_string(), "99:99:99.999999999");
}

TEST(ClockTimeTest, ParseRoundTripsToString) {
    const ClockTime times[] = {ClockTime::zero(),
                               ClockTime::from_ns(1),
                               ClockTime::from_ms(1500),
                               ClockTime::from_s(3723) + ClockTime::from_ns(4),
                               ClockTime::from_s(100 * 3600),
                               ClockTime::from_ns(987'654'321'012'345),
                               ClockTime::max(),
                               ClockTime::none()};
    for (ClockTime t : times) {
        auto parsed = ClockTime::parse(t.to_string());
        ASSERT_TRUE(parsed) << t.to_string() << ": " << parsed.error().message();
        EXPECT_EQ(*parsed, t) << t.to_string();
    }
}

TEST(ClockTimeTest, ParseAcceptsLeadingZerosInHours) {
    auto parsed = ClockTime::parse("007:00:00.000000000");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, ClockTime::from_s(7 * 3600));
}

TEST(ClockTimeTest, ParseRejectsMalformedTextNamingTheCharacter) {
    struct Case {
        std::string_view text;
        std::size_t position;
        std::string_view says;
    };
    const Case cases[] = {
        {"", 0, "expected digits of hours"},
        {"-1:00:00.000000000", 0, "expected digits of hours"},
        {" 0:00:00.000000000", 0, "expected digits of hours"},
        {"0", 1, "expected ':' after the hours"},
        {"0.00:00.000000000", 1, "expected ':' after the hours"},
        {"0:", 2, "expected two digits of minutes"},
        {"0:0:00.000000000", 3, "expected two digits of minutes"},
        {"0:60:00.000000000", 2, "minutes past 59"},
        {"0:00", 4, "expected ':' after the minutes"},
        {"0:000:00.000000000", 4, "expected ':' after the minutes"},
        {"0:00:", 5, "expected two digits of seconds"},
        {"0:00:1.000000000", 6, "expected two digits of seconds"},
        {"0:00:60.000000000", 5, "seconds past 59"},
        {"0:00:01", 7, "expected '.' after the seconds"},
        {"0:00:01,000000000", 7, "expected '.' after the seconds"},
        {"0:00:01.", 8, "expected nine digits of nanoseconds"},
        {"0:00:01.5", 9, "expected nine digits of nanoseconds"},
        {"0:00:01.50000000x", 16, "expected nine digits of nanoseconds"},
        {"0:00:01.5000000000", 17, "unexpected text after the nanoseconds"},
        {"0:00:01.500000000 ", 17, "unexpected text after the nanoseconds"},
        {"99:99:99.999999998", 3, "minutes past 59"},
    };
    for (const Case& c : cases) {
        auto parsed = ClockTime::parse(c.text);
        ASSERT_FALSE(parsed) << '"' << c.text << '"';
        EXPECT_TRUE(parsed.error().is(Errc::invalid_argument)) << c.text;
        EXPECT_EQ(parsed.error().position(), c.position) << c.text << ": " << parsed.error().message();
        EXPECT_NE(parsed.error().message().find(c.says), std::string::npos) << parsed.error().message();
        EXPECT_NE(parsed.error().message().find("at character " + std::to_string(c.position)), std::string::npos)
            << parsed.error().message();
    }
}

TEST(ClockTimeTest, ParseRejectsTimesPastMax) {
    // One past max() would be the none value.
    auto at_none = ClockTime::parse("5124095:34:33.709551615");
    ASSERT_FALSE(at_none);
    EXPECT_TRUE(at_none.error().is(Errc::out_of_range));

    auto hour_past = ClockTime::parse("5124096:00:00.000000000");
    ASSERT_FALSE(hour_past);
    EXPECT_TRUE(hour_past.error().is(Errc::out_of_range));
    EXPECT_EQ(hour_past.error().position(), 6U);

    auto huge = ClockTime::parse("99999999999999999999999:00:00.000000000");
    ASSERT_FALSE(huge);
    EXPECT_TRUE(huge.error().is(Errc::out_of_range));
    EXPECT_NE(huge.error().message().find("hours past the largest clock time"), std::string::npos);
}

} // namespace
} // namespace parallax
