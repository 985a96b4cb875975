// Events: the force-key-unit events travel in GStreamer's directions, carry
// their fields, print them, and their parse helpers name a wrong event.

#include <parallax/element/event.hpp>

#include <gtest/gtest.h>

namespace parallax {
namespace {

DownstreamForceKeyUnit sample_key_unit() {
    DownstreamForceKeyUnit k;
    k.timestamp = ClockTime::from_ms(1500);
    k.stream_time = ClockTime::from_ms(500);
    k.running_time = ClockTime::from_ms(400);
    k.all_headers = true;
    k.count = 7;
    return k;
}

TEST(EventTest, DownstreamForceKeyUnitIsSerializedAndCarriesItsFields) {
    const Event e = Event::downstream_force_key_unit(sample_key_unit());
    EXPECT_EQ(e.type(), EventType::downstream_force_key_unit);
    EXPECT_TRUE(e.is_downstream());
    EXPECT_TRUE(e.is_serialized());
    EXPECT_TRUE(is_force_key_unit(e));
    ASSERT_NE(e.downstream_force_key_unit_value(), nullptr);
    EXPECT_EQ(*e.downstream_force_key_unit_value(), sample_key_unit());
    EXPECT_EQ(e.upstream_force_key_unit_value(), nullptr);
    EXPECT_EQ(e.structure(), nullptr);
    auto parsed = parse_downstream_force_key_unit(e);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(*parsed, sample_key_unit());
}

TEST(EventTest, UpstreamForceKeyUnitTravelsUpstreamWithoutOrder) {
    UpstreamForceKeyUnit request;
    request.running_time = ClockTime::none();
    request.all_headers = false;
    request.count = 3;
    const Event e = Event::upstream_force_key_unit(request);
    EXPECT_EQ(e.type(), EventType::upstream_force_key_unit);
    EXPECT_FALSE(e.is_downstream());
    EXPECT_FALSE(e.is_serialized());
    EXPECT_TRUE(is_force_key_unit(e));
    EXPECT_EQ(e.downstream_force_key_unit_value(), nullptr);
    auto parsed = parse_upstream_force_key_unit(e);
    ASSERT_TRUE(parsed) << parsed.error().to_string();
    EXPECT_EQ(*parsed, request);
    EXPECT_TRUE(parsed->running_time.is_none());
}

TEST(EventTest, OlderEventsKeepTheirDirections) {
    // The force-key-unit types are numbered after custom-upstream; the
    // direction test must still hold for every other type.
    EXPECT_TRUE(is_downstream(EventType::custom_downstream));
    EXPECT_TRUE(is_downstream(EventType::eos));
    EXPECT_FALSE(is_downstream(EventType::seek));
    EXPECT_FALSE(is_downstream(EventType::custom_upstream));
    EXPECT_FALSE(is_serialized(EventType::flush_start));
    EXPECT_FALSE(is_force_key_unit(Event::eos()));
    EXPECT_FALSE(is_force_key_unit(Event::custom(EventType::custom_upstream, Structure("GstForceKeyUnit"))));
}

TEST(EventTest, ParseHelpersNameTheEventThatIsNotAForceKeyUnit) {
    auto down = parse_downstream_force_key_unit(Event::eos());
    ASSERT_FALSE(down);
    EXPECT_TRUE(down.error().is(Errc::invalid_argument));
    EXPECT_EQ(down.error().message(), "a eos event is not a downstream-force-key-unit event");

    auto up = parse_upstream_force_key_unit(Event::downstream_force_key_unit(sample_key_unit()));
    ASSERT_FALSE(up);
    EXPECT_EQ(up.error().message(), "a downstream-force-key-unit event is not an upstream-force-key-unit event");

    EXPECT_FALSE(parse_downstream_force_key_unit(Event::upstream_force_key_unit({})));
}

TEST(EventTest, ForceKeyUnitEventsPrintTheirFields) {
    EXPECT_EQ(Event::downstream_force_key_unit(sample_key_unit()).to_string(),
              "downstream-force-key-unit: timestamp=0:00:01.500000000 stream-time=0:00:00.500000000 "
              "running-time=0:00:00.400000000 all-headers=true count=7");
    UpstreamForceKeyUnit asap;
    asap.count = 1;
    EXPECT_EQ(Event::upstream_force_key_unit(asap).to_string(),
              "upstream-force-key-unit: running-time=" + ClockTime::none().to_string() + " all-headers=true count=1");
    EXPECT_EQ(to_string(EventType::upstream_force_key_unit), "upstream-force-key-unit");
    EXPECT_EQ(to_string(EventType::downstream_force_key_unit), "downstream-force-key-unit");
}

} // namespace
} // namespace parallax
