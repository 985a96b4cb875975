// Checks every registered element factory the same way: creation, every
// property (read, set to its default, bad values refused with a message
// naming it), start/stop twice, eos through the element, flush.

#include <parallax/check/harness.hpp>
#include <parallax/element/registry.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

#ifdef CONFORMANCE_PLUGIN
// The plugin test program builds this file too, with CONFORMANCE_PLUGIN
// naming a plugin file: the suite then runs over that plugin's elements
// alone (the built-in ones are covered by unit_elements).
std::vector<std::string> factory_names() {
    std::optional<PluginInfo> plugin;
    for (PluginInfo& loaded : Registry::global().plugins()) {
        if (loaded.file == CONFORMANCE_PLUGIN) {
            plugin = std::move(loaded);
        }
    }
    if (!plugin) {
        auto loaded = Registry::global().load_plugin(CONFORMANCE_PLUGIN);
        if (!loaded) {
            // A name no factory has: every test fails, showing why.
            return {"plugin-failed-to-load: " + loaded.error().to_string()};
        }
        plugin = std::move(*loaded);
    }
    std::vector<std::string> names;
    for (const std::string& name : plugin->elements) {
        if (const ElementFactory* f = Registry::global().find(name); f != nullptr && f->name() == name) {
            names.push_back(name); // factories, not aliases
        }
    }
    return names;
}
#else
std::vector<std::string> factory_names() {
    std::vector<std::string> names;
    for (const ElementFactory* f : Registry::global().factories()) {
        names.emplace_back(f->name());
    }
    return names;
}
#endif

class ConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceTest, CreatesWithInfoAndPads) {
    const ElementFactory* f = Registry::global().find(GetParam());
    ASSERT_NE(f, nullptr);
    EXPECT_FALSE(f->info().klass.empty());
    EXPECT_FALSE(f->info().summary.empty());
    EXPECT_FALSE(f->pad_templates().empty()) << "an element without pad templates cannot be linked";
    auto e = f->create();
    ASSERT_TRUE(e) << e.error().to_string();
    EXPECT_TRUE((*e)->name().starts_with(GetParam()));
    for (const auto& t : f->pad_templates()) {
        if (t.presence == PadPresence::always) {
            EXPECT_NE((*e)->pad(t.name), nullptr) << t.name;
        }
    }
}

TEST_P(ConformanceTest, EveryPropertyReadsAndTakesItsDefault) {
    auto e = Registry::global().create(GetParam());
    ASSERT_TRUE(e);
    for (PropertyBase* p : (*e)->properties()) {
        SCOPED_TRACE(std::string(p->name()));
        EXPECT_FALSE(p->description().empty());
        EXPECT_FALSE(p->type_name().empty());
        // Kebab-case names, as users type them.
        EXPECT_TRUE(std::all_of(p->name().begin(), p->name().end(),
                                [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }));
        const std::string def = p->default_string();
        EXPECT_EQ(p->value_string(), def);
        auto ok = p->set_from_string(def);
        if (p->mutability() == Mutability::read_only) {
            // Users may read it, never set it.
            ASSERT_FALSE(ok);
            EXPECT_NE(ok.error().message().find("read-only"), std::string::npos) << ok.error().message();
        } else {
            EXPECT_TRUE(ok) << (ok ? "" : ok.error().to_string());
        }
        EXPECT_EQ(p->value_string(), def);
        auto got = (*e)->get_property(p->name());
        ASSERT_TRUE(got);
        EXPECT_EQ(*got, def);
        if (p->type_name() != "String" && p->type_name() != "Caps") {
            auto bad = p->set_from_string("not a value ~");
            ASSERT_FALSE(bad);
            EXPECT_NE(bad.error().message().find(std::string(p->name())), std::string::npos)
                << bad.error().message();
            EXPECT_EQ(p->value_string(), def) << "a refused value must leave the property unchanged";
        }
    }
    auto unknown = (*e)->set_property("no-such-property", "1");
    ASSERT_FALSE(unknown);
    EXPECT_TRUE(unknown.error().is(Errc::not_found));
}

TEST_P(ConformanceTest, StartsAndStopsTwiceOrRefusesWithItsName) {
    auto h = check::Harness::create(GetParam());
    ASSERT_TRUE(h) << h.error().to_string();
    for (int round = 0; round < 2; ++round) {
        auto ok = (*h)->start();
        if (!ok) {
            // Elements that need configuration (a file to read) refuse to
            // start, and say which element refused.
            EXPECT_EQ(ok.error().element(), (*h)->element().name()) << ok.error().to_string();
            return;
        }
        EXPECT_TRUE((*h)->stop());
    }
}

TEST_P(ConformanceTest, EndOfStreamComesOut) {
    auto h = check::Harness::create(GetParam());
    ASSERT_TRUE(h);
    if (!(*h)->start()) {
        return;
    }
    if ((*h)->input() != nullptr) {
        EXPECT_TRUE((*h)->push_event(Event::eos()) || (*h)->eos());
    } else {
        (*h)->element().request_eos();
    }
    EXPECT_TRUE((*h)->wait_eos(std::chrono::seconds(10))) << GetParam() << " did not pass eos on";
    EXPECT_TRUE((*h)->stop());
}

TEST_P(ConformanceTest, SurvivesFlush) {
    auto h = check::Harness::create(GetParam());
    ASSERT_TRUE(h);
    if (!(*h)->start()) {
        return;
    }
    if ((*h)->input() != nullptr) {
        (*h)->push_event(Event::flush_start());
        (*h)->push_event(Event::flush_stop());
        (*h)->push_event(Event::eos());
        EXPECT_TRUE((*h)->wait_eos(std::chrono::seconds(10))) << GetParam() << " lost eos after a flush";
    }
    EXPECT_TRUE((*h)->stop());
    EXPECT_FALSE((*h)->error()) << (*h)->error()->to_string();
}

INSTANTIATE_TEST_SUITE_P(EveryFactory, ConformanceTest, ::testing::ValuesIn(factory_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                             std::string name;
                             for (char c : param.param) {
                                 name += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
                             }
                             return name;
                         });

#ifndef CONFORMANCE_PLUGIN
TEST(RegistryContentsTest, EveryCoreElementIsRegistered) {
    for (const char* name : {"fakesrc", "fakesink", "identity", "queue", "tee", "capsfilter", "crashtest"}) {
        EXPECT_NE(Registry::global().find(name), nullptr) << name;
    }
    for (const char* alias : {"nullsource", "nullsink", "passthrough"}) {
        EXPECT_NE(Registry::global().find(alias), nullptr) << alias;
    }
}
#endif

} // namespace
} // namespace parallax
