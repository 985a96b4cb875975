#include <parallax/element.hpp>

#include <gtest/gtest.h>

namespace parallax {
namespace {

class Pass final : public SimpleTransform {
public:
    static constexpr ElementInfo info{.factory = "registry-test-pass", .klass = "Filter", .summary = "Passes"};
    static Caps pad_caps() { return Caps::parse_static("audio/x-raw"); }

protected:
    Flow transform(Buffer&, TransformContext&) override { return Flow::ok; }
};

class Source final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "registry-test-src", .klass = "Source", .summary = "Nothing"};
    static constexpr ExecutionHints hints = ExecutionHints::io_bound();

protected:
    Flow create(Buffer&, SourceContext&) override { return Flow::eos; }
};

TEST(RegistryTest, CreatesByNameWithDefaultNamesAndPads) {
    Registry r;
    ASSERT_TRUE(r.add(factory_of<Pass>()));
    auto a = r.create("registry-test-pass");
    auto b = r.create("registry-test-pass");
    ASSERT_TRUE(a && b);
    EXPECT_NE((*a)->name(), (*b)->name());
    EXPECT_TRUE((*a)->name().starts_with("registry-test-pass"));
    ASSERT_NE((*a)->pad("sink"), nullptr);
    ASSERT_NE((*a)->pad("src"), nullptr);
    EXPECT_EQ((*a)->pad("src")->pad_template().caps.to_string(), "audio/x-raw");
    auto named = r.create("registry-test-pass", "mine");
    ASSERT_TRUE(named);
    EXPECT_EQ((*named)->name(), "mine");
}

TEST(RegistryTest, UnknownNamesGetSuggestions) {
    Registry r;
    ASSERT_TRUE(r.add(factory_of<Pass>()));
    ASSERT_TRUE(r.add(factory_of<Source>()));
    auto e = r.create("registry-test-pas");
    ASSERT_FALSE(e);
    EXPECT_TRUE(e.error().is(Errc::not_found));
    EXPECT_EQ(e.error().message(), "no element \"registry-test-pas\" (did you mean \"registry-test-pass\"?)");
    auto far = r.create("zzzz");
    ASSERT_FALSE(far);
    EXPECT_EQ(far.error().message(), "no element \"zzzz\"");
}

TEST(RegistryTest, AliasesFindTheirTarget) {
    Registry r;
    ASSERT_TRUE(r.add(factory_of<Pass>()));
    ASSERT_TRUE(r.add_alias("oldname", "registry-test-pass"));
    ASSERT_NE(r.find("oldname"), nullptr);
    EXPECT_EQ(r.find("oldname")->name(), "registry-test-pass");
    EXPECT_FALSE(r.add_alias("registry-test-pass", "x"));
    EXPECT_EQ(r.aliases().size(), 1U);
}

TEST(RegistryTest, SecondFactoryOfTheSameNameIsRefused) {
    Registry r;
    ASSERT_TRUE(r.add(factory_of<Pass>()));
    EXPECT_TRUE(r.add(factory_of<Pass>())); // the same factory again is harmless
    ElementFactory other(Pass::info, {}, {}, [] { return std::unique_ptr<Element>(); });
    EXPECT_FALSE(r.add(other));
}

// A deferred factory: counts how often the registry asks for it.
int deferred_makes = 0;
const ElementFactory& counted_pass() {
    ++deferred_makes;
    return factory_of<Pass>();
}
const ElementFactory& other_pass() {
    static const ElementFactory other(Pass::info, {}, {}, [] { return std::unique_ptr<Element>(); });
    return other;
}

TEST(RegistryTest, ADeferredFactoryIsMadeWhenFirstFoundAndOnlyThen) {
    Registry r;
    deferred_makes = 0;
    ASSERT_TRUE(r.add_deferred(Pass::info.factory, &counted_pass));
    ASSERT_TRUE(r.add_alias("deferred-alias", "registry-test-pass"));
    EXPECT_EQ(deferred_makes, 0);
    // A failed look-up lists the names, not the factories.
    EXPECT_FALSE(r.create("registry-test-pas"));
    EXPECT_EQ(deferred_makes, 0);
    ASSERT_EQ(r.find("deferred-alias"), &factory_of<Pass>());
    EXPECT_EQ(deferred_makes, 1);
    auto e = r.create("registry-test-pass");
    ASSERT_TRUE(e);
    ASSERT_NE((*e)->pad("src"), nullptr);
    ASSERT_EQ(r.factories().size(), 1U);
    EXPECT_EQ(deferred_makes, 1);
}

TEST(RegistryTest, ADeferredFactoryIsListedAndKeepsItsNameFromOthers) {
    Registry r;
    deferred_makes = 0;
    ASSERT_TRUE(r.add_deferred(Pass::info.factory, &counted_pass));
    const auto all = r.factories(); // plx-inspect lists: made now
    ASSERT_EQ(all.size(), 1U);
    EXPECT_EQ(all.front()->name(), "registry-test-pass");
    EXPECT_EQ(deferred_makes, 1);
    EXPECT_TRUE(r.add_deferred(Pass::info.factory, &counted_pass)); // the same again is harmless
    EXPECT_TRUE(r.add(factory_of<Pass>()));
    auto taken = r.add_deferred(Pass::info.factory, &other_pass);
    ASSERT_FALSE(taken);
    EXPECT_EQ(taken.error().message(), "an element factory named \"registry-test-pass\" exists already");
    EXPECT_EQ(r.find("registry-test-pass"), &factory_of<Pass>());
}

TEST(RegistryTest, HintsAndSimpleTemplatesComeFromTheType) {
    EXPECT_EQ(factory_of<Source>().hints().processing, ProcessingHint::io_bound);
    ASSERT_EQ(factory_of<Source>().pad_templates().size(), 1U);
    EXPECT_EQ(factory_of<Source>().pad_templates()[0].direction, PadDirection::src);
    EXPECT_EQ(factory_of<Pass>().hints(), ExecutionHints::trusted());
}

TEST(RegistryTest, SuggestNamesPrefersClosest) {
    const std::vector<std::string> names{"fakesink", "fakesrc", "filesink", "identity"};
    auto s = suggest_names("fakesnk", names);
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s.front(), "fakesink");
    EXPECT_TRUE(suggest_names("xyzzy", names).empty());
    EXPECT_EQ(suggest_names("fake", names).size(), 2U);
}

TEST(ExecutionHintsTest, PresetsMatchTheirMeaning) {
    EXPECT_EQ(ExecutionHints::untrusted().trust_level, TrustLevel::untrusted);
    EXPECT_FALSE(ExecutionHints::untrusted().crash_safe);
    EXPECT_EQ(ExecutionHints::cpu_intensive().processing, ProcessingHint::cpu_bound);
    EXPECT_EQ(ExecutionHints::io_bound().processing, ProcessingHint::io_bound);
    EXPECT_EQ(ExecutionHints::low_latency().latency, LatencyHint::low);
    EXPECT_TRUE(ExecutionHints::native().uses_native_code);
    EXPECT_FALSE(ExecutionHints::native().crash_safe);
    EXPECT_EQ(to_string(ExecutionHints::trusted()),
              "trust=trusted processing=unknown latency=normal crash-safe=yes native=no memory=normal rt-safe=no "
              "affinity=auto");
}

} // namespace
} // namespace parallax
