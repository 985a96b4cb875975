// The control frames between a pipeline and its plx-worker: what either side
// reads from the other is checked, and every malformed frame is an Error
// naming what is wrong, never a crash.

#include <parallax/element/event.hpp>
#include <parallax/ipc/ipc_message.hpp>

#include "isolation/worker_protocol.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace parallax::detail {
namespace {

WorkerSetup sample_setup() {
    WorkerSetup s;
    s.elements.push_back({"crashtest", "fragile", {{"mode", "segv"}, {"after", "300"}}});
    s.elements.push_back({"videoconvert", "convert", {}});
    s.sandbox.kind = SandboxKind::with_filesystem;
    s.sandbox.allowed_paths = {"/tmp", "/var/cache/models"};
    s.sandbox.max_address_space = std::uint64_t{1} << 30;
    s.sandbox.max_cpu = std::chrono::seconds(30);
    s.sandbox.cgroup_pids_max = 16;
    s.sticky.push_back(*encode_event(Event::stream_start("s0")));
    s.sticky.push_back(*encode_event(Event::caps(Caps::parse("video/x-raw,format=I420").value())));
    s.negotiation.src = {Caps(), Caps::parse("video/x-raw,format=RGBA,width=64,height=48").value()};
    s.negotiation.downstream = Caps::parse("video/x-raw,format={RGBA,BGRA}").value();
    s.wait = ShmWait::predict;
    return s;
}

TEST(WorkerProtocolTest, SetupRoundTrips) {
    const WorkerSetup s = sample_setup();
    auto back = decode_setup(encode_setup(s));
    ASSERT_TRUE(back) << back.error().to_string();
    ASSERT_EQ(back->elements.size(), 2U);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(back->elements[i].factory, s.elements[i].factory);
        EXPECT_EQ(back->elements[i].name, s.elements[i].name);
        EXPECT_EQ(back->elements[i].properties, s.elements[i].properties);
    }
    EXPECT_EQ(back->sandbox.kind, s.sandbox.kind);
    EXPECT_EQ(back->sandbox.allowed_paths, s.sandbox.allowed_paths);
    EXPECT_EQ(back->sandbox.max_address_space, s.sandbox.max_address_space);
    EXPECT_EQ(back->sandbox.max_cpu, s.sandbox.max_cpu);
    EXPECT_EQ(back->sandbox.cgroup_memory_max, std::nullopt);
    EXPECT_EQ(back->sandbox.cgroup_pids_max, s.sandbox.cgroup_pids_max);
    EXPECT_EQ(back->sticky, s.sticky);
    EXPECT_EQ(back->negotiation.src, s.negotiation.src);
    EXPECT_EQ(back->negotiation.downstream, s.negotiation.downstream);
    EXPECT_EQ(back->wait, ShmWait::predict);
}

TEST(WorkerProtocolTest, PropertyRecordsRoundTripAndBadOnesNameTheField) {
    WorkerProperty p;
    p.id = 7;
    p.ok = false;
    p.element = "vol";
    p.name = "volume";
    p.value = "0.25";
    const auto bytes = encode_property(p);
    auto back = decode_property(bytes);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->id, 7U);
    EXPECT_FALSE(back->ok);
    EXPECT_EQ(back->element, "vol");
    EXPECT_EQ(back->name, "volume");
    EXPECT_EQ(back->value, "0.25");
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        auto r = decode_property(std::span<const std::byte>(bytes.data(), cut));
        ASSERT_FALSE(r) << "decoded a property cut to " << cut << " bytes";
        EXPECT_NE(r.error().message().find("worker property"), std::string::npos) << r.error().message();
    }
    auto bad = bytes;
    bad[4] = std::byte{2};
    auto r = decode_property(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("ok flag 2"), std::string::npos) << r.error().message();
}

TEST(WorkerProtocolTest, NegotiationRoundTripsAndBadOnesNameTheField) {
    WorkerNegotiation n;
    auto back = decode_negotiation(encode_negotiation(n));
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_TRUE(back->src.empty());
    EXPECT_TRUE(back->downstream.is_any());

    const auto bytes = encode_negotiation(sample_setup().negotiation);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        auto r = decode_negotiation(std::span<const std::byte>(bytes.data(), cut));
        ASSERT_FALSE(r) << "decoded a negotiation cut to " << cut << " bytes";
        EXPECT_NE(r.error().message().find("worker negotiation"), std::string::npos) << r.error().message();
    }
    // Caps text that does not parse: the error says which caps.
    std::vector<std::byte> bad;
    const std::string text = "video/x-raw,width=(int)wide";
    const auto size = static_cast<std::uint32_t>(text.size());
    const std::uint32_t one = 1;
    bad.resize(8);
    std::memcpy(bad.data(), &one, 4);
    std::memcpy(bad.data() + 4, &size, 4);
    for (char c : text) {
        bad.push_back(static_cast<std::byte>(c));
    }
    bad.insert(bad.end(), 4, std::byte{0}); // empty downstream caps
    auto r = decode_negotiation(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("source pad caps"), std::string::npos) << r.error().message();
}

TEST(WorkerProtocolTest, EveryTruncationOfASetupIsAnErrorNamingAField) {
    const auto bytes = encode_setup(sample_setup());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        auto r = decode_setup(std::span<const std::byte>(bytes.data(), n));
        ASSERT_FALSE(r) << "decoded a setup cut to " << n << " bytes";
        EXPECT_NE(r.error().message().find("worker setup"), std::string::npos) << r.error().message();
    }
    auto longer = bytes;
    longer.push_back(std::byte{0});
    auto r = decode_setup(longer);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("left over"), std::string::npos) << r.error().message();
}

TEST(WorkerProtocolTest, BadMagicVersionKindAndCountsAreRefused) {
    auto bytes = encode_setup(sample_setup());
    auto bad = bytes;
    bad[0] = std::byte{'X'};
    auto r = decode_setup(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("magic"), std::string::npos);

    bad = bytes;
    bad[4] = std::byte{9};
    r = decode_setup(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), make_error_code(Errc::version_mismatch));

    // A property count far beyond what the frame holds: refused before any
    // allocation of that size.
    bad = bytes;
    const std::size_t count_at = 8 + 4 + 4 + std::strlen("crashtest") + 4 + std::strlen("fragile");
    const std::uint32_t huge = 0x7FFFFFFF;
    std::memcpy(bad.data() + count_at, &huge, 4);
    r = decode_setup(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("property count"), std::string::npos) << r.error().message();

    // The wait mode is the last byte.
    bad = bytes;
    bad.back() = std::byte{7};
    r = decode_setup(bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("wait mode 7"), std::string::npos) << r.error().message();

    WorkerSetup empty;
    r = decode_setup(encode_setup(empty));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("no element"), std::string::npos);
    WorkerSetup nameless;
    nameless.elements.push_back({"crashtest", "", {}});
    r = decode_setup(encode_setup(nameless));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("without factory or name"), std::string::npos);
    // Negotiation for more elements than there are.
    WorkerSetup extra = sample_setup();
    extra.negotiation.src.resize(3);
    r = decode_setup(encode_setup(extra));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("negotiation for 3 elements"), std::string::npos) << r.error().message();
}

TEST(WorkerProtocolTest, MessagesKeepTheirContentAndTakeTheProxysName) {
    Message m = Message::make_error("impostor", Error(Errc::not_negotiated, "caps refused"), "detail text");
    auto back = decode_message(encode_message(m), "fragile");
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->type, MessageType::error);
    EXPECT_EQ(back->source, "fragile");
    ASSERT_TRUE(back->error);
    EXPECT_EQ(back->error->code(), make_error_code(Errc::not_negotiated));
    EXPECT_EQ(back->error->message(), "caps refused");
    EXPECT_EQ(back->error->element(), "fragile");
    EXPECT_EQ(back->detail, "detail text");

    Structure s("crashtest");
    s.set("allowed", false);
    s.set("target", "/etc/passwd");
    auto el = decode_message(encode_message(Message::make_element("x", s)), "fragile");
    ASSERT_TRUE(el) << el.error().to_string();
    ASSERT_TRUE(el->structure);
    EXPECT_EQ(el->structure->get_bool("allowed"), std::optional<bool>(false));
    EXPECT_EQ(el->structure->get_string("target").value_or(""), "/etc/passwd");
}

TEST(WorkerProtocolTest, AGroupsWorkerPostsInTheNameOfItsOwnElementsOnly) {
    const std::vector<std::string> group{"fragile", "convert"};
    auto own = decode_message(encode_message(Message::make_warning("convert", "odd input")), "fragile", group);
    ASSERT_TRUE(own) << own.error().to_string();
    EXPECT_EQ(own->source, "convert");
    EXPECT_EQ(own->error->element(), "convert");
    auto other = decode_message(encode_message(Message::make_warning("src", "forged")), "fragile", group);
    ASSERT_TRUE(other) << other.error().to_string();
    EXPECT_EQ(other->source, "fragile");
}

TEST(WorkerProtocolTest, AWorkerCannotPostPipelineMessages) {
    for (MessageType t : {MessageType::eos, MessageType::state_changed, MessageType::stream_start}) {
        Message m;
        m.type = t;
        auto r = decode_message(encode_message(m), "fragile");
        ASSERT_FALSE(r) << to_string(t);
        EXPECT_NE(r.error().message().find("may not come from an element"), std::string::npos);
    }
    auto bytes = encode_message(Message::make_info("x", "hello"));
    bytes[0] = std::byte{200};
    EXPECT_FALSE(decode_message(bytes, "fragile"));
}

TEST(WorkerProtocolTest, ArenaOfferIsExactly24Bytes) {
    ArenaId id;
    id.bytes.fill(7);
    auto bytes = encode_worker_arena_offer(id, ParticipantHandle{3, 9});
    auto back = decode_worker_arena_offer(bytes);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->first, id);
    EXPECT_EQ(back->second.index, 3U);
    EXPECT_EQ(back->second.incarnation, 9U);
    bytes.pop_back();
    auto r = decode_worker_arena_offer(bytes);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("not 24"), std::string::npos);
}

} // namespace
} // namespace parallax::detail
