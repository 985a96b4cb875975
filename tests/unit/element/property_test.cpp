#include <parallax/element.hpp>

#include <gtest/gtest.h>

#include <limits>

namespace parallax {
namespace {

enum class Mode { slow = 0, fast = 1, best = 7 };
constexpr EnumValue mode_values[] = {{0, "slow", "Slow"}, {1, "fast", "Fast"}, {7, "best", "Best"}};

class Props final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "test-props", .klass = "Filter", .summary = "Has every property type"};

    Property<bool> flag{this, "flag", false, "A switch"};
    Property<std::int32_t> count{this, "count", -1, "A count", {-1, 100}};
    Property<std::uint64_t> big{this, "big", 5, "A big number"};
    Property<double> ratio{this, "ratio", 0.5, "A ratio", {0.0, 1.0}, Mutability::running};
    Property<std::string> text{this, "text", "hello", "Some text"};
    Property<Mode> mode{this, "mode", Mode::fast, "A mode", mode_values};
    Property<Fraction> rate{this, "rate", Fraction::make(30, 1).value(), "A rate"};
    Property<Caps> caps{this, "caps", Caps::any(), "Some caps"};
    Property<std::uint64_t> seen{this, "seen", 0, "A counter", {}, Mutability::read_only};
    int changes = 0;

protected:
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }
    void property_changed(const PropertyBase&) override { ++changes; }
};

std::unique_ptr<Props> make() {
    return make_element<Props>("props0").value();
}

TEST(PropertyTest, DefaultsAreReadableAsText) {
    auto e = make();
    EXPECT_EQ(e->get_property("flag").value(), "false");
    EXPECT_EQ(e->get_property("count").value(), "-1");
    EXPECT_EQ(e->get_property("big").value(), "5");
    EXPECT_EQ(e->get_property("ratio").value(), "0.5");
    EXPECT_EQ(e->get_property("text").value(), "hello");
    EXPECT_EQ(e->get_property("mode").value(), "fast");
    EXPECT_EQ(e->get_property("rate").value(), "30/1");
    EXPECT_EQ(e->get_property("caps").value(), "ANY");
}

TEST(PropertyTest, TextSetsEveryType) {
    auto e = make();
    ASSERT_TRUE(e->set_property("flag", "yes"));
    EXPECT_TRUE(e->flag.get());
    ASSERT_TRUE(e->set_property("count", "0x10"));
    EXPECT_EQ(e->count.get(), 16);
    ASSERT_TRUE(e->set_property("big", "18446744073709551615"));
    EXPECT_EQ(e->big.get(), std::numeric_limits<std::uint64_t>::max());
    ASSERT_TRUE(e->set_property("ratio", "0.25"));
    EXPECT_DOUBLE_EQ(e->ratio.get(), 0.25);
    ASSERT_TRUE(e->set_property("text", "a b"));
    EXPECT_EQ(e->text.get(), "a b");
    ASSERT_TRUE(e->set_property("mode", "best"));
    EXPECT_EQ(e->mode.get(), Mode::best);
    ASSERT_TRUE(e->set_property("mode", "0"));
    EXPECT_EQ(e->mode.get(), Mode::slow);
    ASSERT_TRUE(e->set_property("rate", "60000/1001"));
    EXPECT_EQ(e->rate.get(), Fraction::make(60000, 1001).value());
    ASSERT_TRUE(e->set_property("caps", "video/x-raw,width=640"));
    EXPECT_EQ(e->caps.get().to_string(), "video/x-raw, width=(int)640");
    EXPECT_EQ(e->changes, 9);
}

TEST(PropertyTest, CppValuesConvertWhenTheyFit) {
    auto e = make();
    ASSERT_TRUE(e->set_property_value("count", std::int64_t{42}));
    EXPECT_EQ(e->count.get(), 42);
    ASSERT_TRUE(e->set_property_value("ratio", std::int64_t{1}));
    EXPECT_DOUBLE_EQ(e->ratio.get(), 1.0);
    ASSERT_TRUE(e->set_property_value("mode", std::string("slow")));
    EXPECT_EQ(e->mode.get(), Mode::slow);
    EXPECT_FALSE(e->set_property_value("flag", 1.5));
    EXPECT_FALSE(e->set_property_value("count", std::int64_t{101}));
    EXPECT_FALSE(e->set_property_value("big", std::int64_t{-1}));
}

TEST(PropertyTest, BadValuesAreErrorsNamingPropertyAndElement) {
    auto e = make();
    struct Case {
        const char* name;
        const char* value;
        const char* expect;
    };
    for (const Case& c : {Case{"flag", "maybe", "not a boolean"}, Case{"count", "101", "out of range [-1, 100]"},
                          Case{"count", "-2", "out of range"}, Case{"count", "12abc", "not an integer"},
                          Case{"count", "", "not an integer"}, Case{"big", "-1", "negative"},
                          Case{"big", "99999999999999999999", "too large"}, Case{"ratio", "1.5", "out of range"},
                          Case{"ratio", "nan", "not a number"}, Case{"mode", "fastest", "not one of: slow (0)"},
                          Case{"mode", "3", "not one of"}, Case{"rate", "30/0", "not a valid fraction"},
                          Case{"rate", "x", "not a fraction"}, Case{"caps", "video/x-raw,width=", "property"}}) {
        SCOPED_TRACE(std::string(c.name) + "=" + c.value);
        const std::string before = e->get_property(c.name).value();
        auto r = e->set_property(c.name, c.value);
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message().find(c.expect), std::string::npos) << r.error().message();
        EXPECT_NE(r.error().message().find(std::string("\"") + c.name + "\" of props0"), std::string::npos)
            << r.error().message();
        EXPECT_EQ(r.error().element(), "props0");
        EXPECT_EQ(e->get_property(c.name).value(), before);
    }
    EXPECT_EQ(e->changes, 0);
}

TEST(PropertyTest, UnknownPropertySuggestsCloseNames) {
    auto e = make();
    auto r = e->set_property("cont", "1");
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().is(Errc::not_found));
    EXPECT_NE(r.error().message().find("did you mean \"count\""), std::string::npos) << r.error().message();
    auto g = e->get_property("nothing-like-it");
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().message().find("did you mean"), std::string::npos);
}

TEST(PropertyTest, ResetRestoresTheDefault) {
    auto e = make();
    ASSERT_TRUE(e->set_property("text", "changed"));
    e->text.reset();
    EXPECT_EQ(e->text.get(), "hello");
}

TEST(PropertyTest, DescribesItselfForTools) {
    auto e = make();
    const PropertyBase* count = e->property("count");
    ASSERT_NE(count, nullptr);
    EXPECT_EQ(count->type_name(), "Integer");
    EXPECT_EQ(count->range_string(), "[-1, 100]");
    EXPECT_EQ(count->default_string(), "-1");
    EXPECT_EQ(count->mutability(), Mutability::idle);
    EXPECT_EQ(e->property("big")->type_name(), "Unsigned Integer64");
    EXPECT_EQ(e->property("ratio")->mutability(), Mutability::running);
    EXPECT_EQ(e->property("mode")->enum_values().size(), 3U);
    EXPECT_EQ(e->properties().size(), 9U);
}

TEST(PropertyTest, ReadOnlyIsSetByTheElementAlone) {
    auto e = make();
    ASSERT_TRUE(e->seen.set(3)); // the element counts
    EXPECT_EQ(e->property("seen")->value_string(), "3");
    // Users cannot, from text or from C++ values.
    auto text = e->property("seen")->set_from_string("7");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().code(), make_error_code(Errc::invalid_argument));
    EXPECT_NE(text.error().message().find("property \"seen\""), std::string::npos) << text.error().message();
    EXPECT_NE(text.error().message().find("is read-only"), std::string::npos) << text.error().message();
    EXPECT_FALSE(e->property("seen")->set_value(std::uint64_t{7}));
    EXPECT_EQ(e->seen.get(), 3U);
    EXPECT_EQ(e->changes, 1);
}

} // namespace
} // namespace parallax
