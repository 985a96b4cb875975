#include <parallax/caps/value.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace parallax::value_test {
namespace {

Fraction frac(std::int64_t num, std::int64_t den) {
    return Fraction::make(num, den).value();
}

TEST(CapsValueTest, FractionDefaultsToZeroOverOne) {
    constexpr Fraction f;
    EXPECT_EQ(f.num(), 0);
    EXPECT_EQ(f.den(), 1);
}

TEST(CapsValueTest, FractionIsReducedWithAPositiveDenominator) {
    EXPECT_EQ(frac(6, 4).num(), 3);
    EXPECT_EQ(frac(6, 4).den(), 2);
    EXPECT_EQ(frac(3, -6).num(), -1);
    EXPECT_EQ(frac(3, -6).den(), 2);
    EXPECT_EQ(frac(-3, -6), frac(1, 2));
    EXPECT_EQ(frac(0, -5), Fraction());
    EXPECT_EQ(frac(60000, 2002), frac(30000, 1001));
}

TEST(CapsValueTest, FractionRejectsAZeroDenominator) {
    auto f = Fraction::make(1, 0);
    ASSERT_FALSE(f);
    EXPECT_TRUE(f.error().is(Errc::invalid_argument));
}

TEST(CapsValueTest, FractionRejectsValuesBeyondThirtyTwoBits) {
    EXPECT_FALSE(Fraction::make(std::int64_t{1} << 31, 1));
    EXPECT_FALSE(Fraction::make(1, std::int64_t{1} << 31));
    EXPECT_FALSE(Fraction::make(std::numeric_limits<std::int32_t>::min(), -1));
    EXPECT_FALSE(Fraction::make(std::numeric_limits<std::int64_t>::min(), 1));
    EXPECT_EQ(Fraction::make(std::int64_t{1} << 32, 4).value().num(), 1 << 30); // reduces into range
    EXPECT_TRUE(Fraction::make(std::numeric_limits<std::int32_t>::min(), 1));
}

TEST(CapsValueTest, FractionsCompareByValue) {
    EXPECT_LT(frac(1, 2), frac(2, 3));
    EXPECT_GT(frac(-1, 2), frac(-2, 3));
    EXPECT_EQ(frac(2, 4) <=> frac(1, 2), std::strong_ordering::equal);
    EXPECT_NE(frac(30, 1), frac(25, 1));
}

TEST(CapsValueTest, FractionPrintsAsNumeratorSlashDenominator) {
    EXPECT_EQ(frac(30000, 1001).to_string(), "30000/1001");
    EXPECT_EQ(frac(-1, 2).to_string(), "-1/2");
}

TEST(CapsValueTest, RangeNeedsMinimumBelowMaximum) {
    auto r = IntRange::make(1, 100);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->min(), 1);
    EXPECT_EQ(r->max(), 100);
    EXPECT_FALSE(IntRange::make(5, 5));
    EXPECT_TRUE(IntRange::make(6, 5).error().is(Errc::invalid_argument));
    EXPECT_FALSE(DoubleRange::make(0.0, std::nan("")));
    EXPECT_TRUE(FractionRange::make(frac(0, 1), frac(30, 1)));
    EXPECT_FALSE(FractionRange::make(frac(2, 4), frac(1, 2)));
    EXPECT_EQ(IntRange::make(1, 2).value(), IntRange::make(1, 2).value());
    EXPECT_NE(IntRange::make(1, 2).value(), IntRange::make(1, 3).value());
}

TEST(CapsValueTest, EachTypeHasItsName) {
    EXPECT_EQ(CapsValue(640).type_name(), "int");
    EXPECT_EQ(CapsValue(1.5).type_name(), "double");
    EXPECT_EQ(CapsValue(true).type_name(), "boolean");
    EXPECT_EQ(CapsValue("I420").type_name(), "string");
    EXPECT_EQ(CapsValue(std::string("I420")).type_name(), "string");
    EXPECT_EQ(CapsValue(std::string_view("I420")).type_name(), "string");
    EXPECT_EQ(CapsValue(frac(30, 1)).type_name(), "fraction");
    EXPECT_EQ(CapsValue(Bitmask{3}).type_name(), "bitmask");
    EXPECT_EQ(CapsValue(IntRange::make(1, 2).value()).type_name(), "int_range");
    EXPECT_EQ(CapsValue(DoubleRange::make(1, 2).value()).type_name(), "double_range");
    EXPECT_EQ(CapsValue(FractionRange::make(frac(1, 1), frac(2, 1)).value()).type_name(), "fraction_range");
    EXPECT_EQ(CapsValue::list({CapsValue(1), CapsValue(2)}).value().type_name(), "list");
}

TEST(CapsValueTest, OnlyRangesAndListsAreNotFixed) {
    EXPECT_TRUE(CapsValue(640).is_fixed());
    EXPECT_TRUE(CapsValue("x").is_fixed());
    EXPECT_TRUE(CapsValue(frac(1, 2)).is_fixed());
    EXPECT_TRUE(CapsValue(Bitmask{1}).is_fixed());
    EXPECT_FALSE(CapsValue(IntRange::make(1, 2).value()).is_fixed());
    EXPECT_FALSE(CapsValue(DoubleRange::make(1, 2).value()).is_fixed());
    EXPECT_FALSE(CapsValue(FractionRange::make(frac(1, 1), frac(2, 1)).value()).is_fixed());
    EXPECT_FALSE(CapsValue::list({CapsValue(1)}).value().is_fixed());
}

TEST(CapsValueTest, HoldsAndGetIfSeeTheStoredType) {
    const CapsValue v(640);
    EXPECT_TRUE(v.holds<std::int32_t>());
    EXPECT_FALSE(v.holds<double>());
    ASSERT_NE(v.get_if<std::int32_t>(), nullptr);
    EXPECT_EQ(*v.get_if<std::int32_t>(), 640);
    EXPECT_EQ(v.get_if<std::string>(), nullptr);
    const CapsValue s("I420");
    ASSERT_NE(s.get_if<std::string>(), nullptr);
    EXPECT_EQ(*s.get_if<std::string>(), "I420");
    EXPECT_FALSE(s.holds<bool>()); // a const char* is a string, never a boolean
}

TEST(CapsValueTest, ListHoldsValuesOfOneType) {
    auto list = CapsValue::list({CapsValue("I420"), CapsValue("NV12")});
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->holds<CapsValue::List>());
    ASSERT_EQ(list->list_items().size(), 2U);
    EXPECT_EQ(list->list_items()[1], CapsValue("NV12"));
    EXPECT_TRUE(CapsValue(1).list_items().empty());
}

TEST(CapsValueTest, ListRejectsEmptyMixedNestedAndRangeItems) {
    EXPECT_TRUE(CapsValue::list({}).error().is(Errc::invalid_argument));
    auto mixed = CapsValue::list({CapsValue(1), CapsValue("a")});
    ASSERT_FALSE(mixed);
    EXPECT_NE(mixed.error().message().find("int and string"), std::string::npos);
    EXPECT_FALSE(CapsValue::list({CapsValue(1), CapsValue(1.0)}));
    EXPECT_FALSE(CapsValue::list({CapsValue::list({CapsValue(1)}).value()}));
    EXPECT_FALSE(CapsValue::list({CapsValue(IntRange::make(1, 2).value())}));
}

TEST(CapsValueTest, PrintsWithGStreamerTypePrefixes) {
    EXPECT_EQ(CapsValue(640).to_string(), "(int)640");
    EXPECT_EQ(CapsValue(-5).to_string(), "(int)-5");
    EXPECT_EQ(CapsValue(1.5).to_string(), "(double)1.5");
    EXPECT_EQ(CapsValue(30.0).to_string(), "(double)30");
    EXPECT_EQ(CapsValue(0.1).to_string(), "(double)0.1");
    EXPECT_EQ(CapsValue(true).to_string(), "(boolean)true");
    EXPECT_EQ(CapsValue(false).to_string(), "(boolean)false");
    EXPECT_EQ(CapsValue("I420").to_string(), "(string)I420");
    EXPECT_EQ(CapsValue(frac(30, 1)).to_string(), "(fraction)30/1");
    EXPECT_EQ(CapsValue(Bitmask{3}).to_string(), "(bitmask)0x0000000000000003");
    EXPECT_EQ(CapsValue(IntRange::make(1, 100).value()).to_string(), "(int)[ 1, 100 ]");
    EXPECT_EQ(CapsValue(DoubleRange::make(0.5, 2).value()).to_string(), "(double)[ 0.5, 2 ]");
    EXPECT_EQ(CapsValue(FractionRange::make(frac(0, 1), frac(30, 1)).value()).to_string(), "(fraction)[ 0/1, 30/1 ]");
    EXPECT_EQ(CapsValue::list({CapsValue("I420"), CapsValue("NV12")}).value().to_string(), "(string){ I420, NV12 }");
    EXPECT_EQ(CapsValue::list({CapsValue(1)}).value().to_string(), "(int){ 1 }");
}

TEST(CapsValueTest, StringsThatAreNotSimpleAreQuotedAndEscaped) {
    EXPECT_EQ(CapsValue("").to_string(), "(string)\"\"");
    EXPECT_EQ(CapsValue("a b").to_string(), "(string)\"a\\ b\"");
    EXPECT_EQ(CapsValue("say \"hi\"").to_string(), "(string)\"say\\ \\\"hi\\\"\"");
    EXPECT_EQ(CapsValue("back\\slash").to_string(), "(string)\"back\\\\slash\"");
    EXPECT_EQ(CapsValue("tab\there").to_string(), "(string)\"tab\\011here\"");
    EXPECT_EQ(CapsValue("\xc3\xa9").to_string(), "(string)\"\\303\\251\"");
    EXPECT_EQ(CapsValue("a=b").to_string(), "(string)\"a\\=b\"");
    EXPECT_EQ(CapsValue("4.0/x-y:z_+").to_string(), "(string)4.0/x-y:z_+");
}

TEST(CapsValueTest, EqualityNeedsTheSameTypeAndValue) {
    EXPECT_EQ(CapsValue(1), CapsValue(1));
    EXPECT_NE(CapsValue(1), CapsValue(2));
    EXPECT_NE(CapsValue(1), CapsValue(1.0));
    EXPECT_NE(CapsValue(1), CapsValue(true));
    EXPECT_NE(CapsValue("1"), CapsValue(1));
    EXPECT_EQ(CapsValue(frac(2, 4)), CapsValue(frac(1, 2)));
    EXPECT_EQ(CapsValue::list({CapsValue(1), CapsValue(2)}).value(),
              CapsValue::list({CapsValue(1), CapsValue(2)}).value());
    EXPECT_NE(CapsValue::list({CapsValue(1), CapsValue(2)}).value(),
              CapsValue::list({CapsValue(2), CapsValue(1)}).value());
}

} // namespace
} // namespace parallax::value_test
