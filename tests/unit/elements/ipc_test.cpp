// ShmRing, the ipc message codec, and ipcsink -> ipcsrc within one process
// (the multi-process tests are in tests/integration/ipc_process_test.cpp).
#include <parallax/check/harness.hpp>
#include <parallax/element.hpp>
#include <parallax/ipc/ipc_message.hpp>
#include <parallax/ipc/shm_ring.hpp>
#include <parallax/memory/segment.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <linux/membarrier.h>
#include <string>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> out(s.size());
    std::memcpy(out.data(), s.data(), s.size());
    return out;
}

TEST(ShmRingTest, RecordsRoundTripAcrossTheWrapInOrder) {
    ShmRingConfig config;
    config.data_size = 4096;
    auto producer = ShmRing::create(config);
    ASSERT_TRUE(producer) << producer.error().to_string();
    auto fd = producer->dup_fd();
    ASSERT_TRUE(fd);
    auto consumer = ShmRing::attach(std::move(*fd));
    ASSERT_TRUE(consumer) << consumer.error().to_string();
    std::uint32_t written = 0;
    std::uint32_t read = 0;
    for (int round = 0; round < 2000; ++round) {
        const std::size_t size = 4 + static_cast<std::size_t>(round * 37) % 300;
        auto room = producer->try_reserve(7, size);
        if (!room.empty()) {
            std::memset(room.data(), 0, size);
            std::memcpy(room.data(), &written, 4);
            producer->commit(round % 2 == 0);
            ++written;
        }
        if (round % 3 != 0) {
            continue;
        }
        while (true) {
            auto rec = consumer->try_read();
            ASSERT_TRUE(rec) << rec.error().to_string();
            if (!*rec) {
                break;
            }
            EXPECT_EQ((*rec)->type, 7);
            std::uint32_t n = 0;
            std::memcpy(&n, (*rec)->payload.data(), 4);
            EXPECT_EQ(n, read);
            ++read;
            consumer->consume(false);
        }
    }
    EXPECT_GT(read, 500U);
    EXPECT_LE(written - read, 20U);
}

TEST(ShmRingTest, CountsBuffersInFlightAndDropRequests) {
    auto producer = ShmRing::create();
    ASSERT_TRUE(producer);
    auto consumer = ShmRing::attach(std::move(*producer->dup_fd()));
    ASSERT_TRUE(consumer);
    for (int i = 0; i < 3; ++i) {
        ASSERT_FALSE(producer->try_reserve(1, 8).empty());
        producer->commit(true);
    }
    EXPECT_EQ(producer->buffers_in_flight(), 3U);
    EXPECT_FALSE(producer->writable(8, 3));
    EXPECT_TRUE(producer->writable(8, 4));
    producer->request_drop();
    EXPECT_EQ(producer->buffers_in_flight(), 2U);
    auto rec = consumer->try_read();
    ASSERT_TRUE(rec && *rec);
    EXPECT_TRUE(consumer->take_drop_request());
    consumer->consume(true);
    EXPECT_FALSE(consumer->take_drop_request());
    EXPECT_EQ(producer->buffers_in_flight(), 2U);
    EXPECT_FALSE(consumer->producer_closed());
    producer->close_producer();
    EXPECT_TRUE(consumer->producer_closed());
    EXPECT_TRUE(consumer->wait_for_data(std::chrono::milliseconds(1)));
}

TEST(ShmRingTest, HostileHeadersAreErrorsNamingTheCheck) {
    auto ring = ShmRing::create();
    ASSERT_TRUE(ring);
    std::vector<std::byte> good(256);
    {
        auto copy = Segment::map(std::move(*ring->dup_fd()));
        ASSERT_TRUE(copy);
        std::memcpy(good.data(), copy->data(), good.size());
    }
    const std::uint64_t file_size = 256 + ring->data_size();
    ASSERT_TRUE(detail::validate_ring_header(good, file_size));
    const auto expect_error = [&](std::size_t offset, std::uint64_t value, std::size_t width, std::string_view words) {
        auto bad = good;
        std::memcpy(bad.data() + offset, &value, width);
        auto r = detail::validate_ring_header(bad, file_size);
        ASSERT_FALSE(r) << words;
        EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
    };
    expect_error(0, 0x1234, 8, "bad magic");
    expect_error(8, 1, 4, "layout version"); // version 1 kept the futex words on the counters' lines
    expect_error(12, 128, 4, "header size");
    expect_error(16, 5000, 8, "data size");
    expect_error(16, std::uint64_t{1} << 40, 8, "data size");
    expect_error(24, 1, 8, "total size");
    auto short_file = detail::validate_ring_header(good, 100);
    ASSERT_FALSE(short_file);
    EXPECT_NE(short_file.error().message().find("shorter"), std::string::npos);
    auto too_small = detail::validate_ring_header(std::span<const std::byte>(good).first(10), file_size);
    ASSERT_FALSE(too_small);
}

TEST(ShmRingTest, AttachRefusesAnUnsealedOrForeignFile) {
    auto segment = Segment::create(4096 + 256);
    ASSERT_TRUE(segment);
    auto r = ShmRing::attach(std::move(*segment->dup_fd()));
    ASSERT_FALSE(r);
    auto arena = Arena::create();
    ASSERT_TRUE(arena);
    auto a = ShmRing::attach(std::move(*(*arena)->dup_fd()));
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().message().find("bad magic"), std::string::npos) << a.error().message();
}

TEST(ShmRingTest, ARecordOverrunningTheRingIsAnErrorNotACrash) {
    ShmRingConfig config;
    config.data_size = 4096;
    auto producer = ShmRing::create(config);
    ASSERT_TRUE(producer);
    auto consumer = ShmRing::attach(std::move(*producer->dup_fd()));
    ASSERT_TRUE(consumer);
    auto room = producer->try_reserve(1, 16);
    ASSERT_FALSE(room.empty());
    // A hostile producer rewrites the record's size after committing it.
    const std::uint32_t huge = 1U << 30;
    std::memcpy(room.data() - 8, &huge, 4);
    producer->commit(true);
    auto rec = consumer->try_read();
    ASSERT_FALSE(rec);
    EXPECT_TRUE(rec.error().is(Errc::corrupt));
    EXPECT_NE(rec.error().message().find("overruns"), std::string::npos) << rec.error().message();
}

// Reads records, each starting with its u32 sequence number, until the ring
// is empty after the producer was seen closed (close_producer() follows its
// last commit, so nothing more can come). How many arrived in order; a
// record out of order or one that cannot be read is a failure and ends it.
std::uint32_t read_in_order_until_closed(ShmRing& consumer, ShmWait mode) {
    std::uint32_t next = 0;
    bool closed = false;
    while (true) {
        auto rec = consumer.try_read();
        if (!rec) {
            ADD_FAILURE() << rec.error().to_string();
            return next;
        }
        if (*rec) {
            std::uint32_t n = 0;
            std::memcpy(&n, (*rec)->payload.data(), 4);
            if (n != next) {
                ADD_FAILURE() << "record " << n << " where " << next << " was due, wait mode " << to_string(mode);
                return next;
            }
            ++next;
            consumer.consume(true);
            continue;
        }
        if (closed) {
            return next;
        }
        closed = consumer.producer_closed();
        if (!closed) {
            consumer.wait_for_data(std::chrono::seconds(5));
        }
    }
}

// Every record arrives, in order, whichever way the consumer waits, for a
// steady producer (which predict learns) and for one that pauses and
// changes its pace (which it must not mispredict into a lost record).
TEST(ShmRingTest, EveryWaitModeReceivesEveryRecordOfSteadyAndIrregularStreams) {
    for (const ShmWait mode : {ShmWait::sleep, ShmWait::predict, ShmWait::spin}) {
        auto producer = ShmRing::create();
        ASSERT_TRUE(producer);
        auto consumer = ShmRing::attach(std::move(*producer->dup_fd()));
        ASSERT_TRUE(consumer);
        consumer->set_consumer_wait(mode);
        constexpr std::uint32_t count = 120;
        std::thread writer([&] {
            for (std::uint32_t i = 0; i < count; ++i) {
                // 40 steady records 300 µs apart, a 20 ms pause, then
                // a pace that speeds up.
                const auto gap = i < 40    ? std::chrono::microseconds(300)
                                 : i == 40 ? std::chrono::microseconds(20'000)
                                           : std::chrono::microseconds(50 + 5 * (count - i));
                std::this_thread::sleep_for(gap);
                auto room = producer->try_reserve(3, 4);
                ASSERT_FALSE(room.empty());
                std::memcpy(room.data(), &i, 4);
                producer->commit(true);
            }
            producer->close_producer();
        });
        const std::uint32_t received = read_in_order_until_closed(*consumer, mode);
        writer.join();
        EXPECT_EQ(received, count) << "wait mode " << to_string(mode);
    }
}

// A producer that writes as fast as it can, held only by the buffer limit:
// a consumer right behind it lets records gather before it reads on (sleep
// and predict), and still gets every one, in order, whichever way it waits.
TEST(ShmRingTest, AConsumerBehindAFastProducerGetsEveryRecordInOrder) {
    for (const ShmWait mode : {ShmWait::sleep, ShmWait::predict, ShmWait::spin}) {
        auto producer = ShmRing::create();
        ASSERT_TRUE(producer);
        auto consumer = ShmRing::attach(std::move(*producer->dup_fd()));
        ASSERT_TRUE(consumer);
        consumer->set_consumer_wait(mode);
        constexpr std::uint32_t count = 50'000;
        constexpr std::uint64_t max_buffers = 64;
        std::thread writer([&] {
            for (std::uint32_t i = 0; i < count; ++i) {
                while (!producer->writable(56, max_buffers)) {
                    producer->wait_for_room(56, max_buffers, std::chrono::milliseconds(10));
                }
                auto room = producer->try_reserve(1, 56);
                ASSERT_FALSE(room.empty());
                std::memcpy(room.data(), &i, 4);
                producer->commit(true);
            }
            producer->close_producer();
        });
        const std::uint32_t received = read_in_order_until_closed(*consumer, mode);
        writer.join();
        EXPECT_EQ(received, count) << "wait mode " << to_string(mode);
        EXPECT_EQ(producer->buffers_in_flight(), 0U);
    }
}

// Once the consumer announces that it issues a global membarrier before
// its last look, the producer publishes without a fence. The one record a
// lost wake-up would strand is the last before a pause, so each record
// here waits for the consumer to take the one before it, after a random
// gap that lets the consumer spin, go to sleep, or be on its way to sleep.
TEST(ShmRingTest, AProducerThatStopsFencingNeverLeavesTheConsumerAsleep) {
    auto producer = ShmRing::create();
    ASSERT_TRUE(producer);
    auto consumer = ShmRing::attach(std::move(*producer->dup_fd()));
    ASSERT_TRUE(consumer);
    constexpr std::uint32_t count = 1500;
    std::atomic<std::uint32_t> taken{0};
    std::thread writer([&] {
        std::uint64_t seed = 0x9E3779B97F4A7C15ULL;
        for (std::uint32_t i = 0; i < count; ++i) {
            while (taken.load() < i) {
                std::this_thread::yield();
            }
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            const auto gap = std::chrono::microseconds((seed >> 33U) % 120);
            const auto until = std::chrono::steady_clock::now() + gap;
            while (std::chrono::steady_clock::now() < until) {
            }
            auto room = producer->try_reserve(1, 4);
            ASSERT_FALSE(room.empty());
            std::memcpy(room.data(), &i, 4);
            producer->commit(true);
        }
    });
    std::uint32_t stranded = 0;
    for (std::uint32_t next = 0; next < count;) {
        auto rec = consumer->try_read();
        ASSERT_TRUE(rec) << rec.error().to_string();
        if (*rec) {
            consumer->consume(true);
            taken.store(++next);
            continue;
        }
        // A wake-up that never comes ends at the timeout: far longer than
        // any gap above.
        const auto start = std::chrono::steady_clock::now();
        consumer->wait_for_data(std::chrono::seconds(3));
        if (std::chrono::steady_clock::now() - start >= std::chrono::seconds(3)) {
            ++stranded;
        }
    }
    writer.join();
    EXPECT_EQ(stranded, 0U) << "records waited for the consumer's timeout instead of waking it";
    // What the consumer announced, read from the shared header.
    auto fd = producer->dup_fd();
    ASSERT_TRUE(fd);
    auto mapping = Segment::map(std::move(*fd));
    ASSERT_TRUE(mapping) << mapping.error().to_string();
    const auto* header = reinterpret_cast<const detail::ShmRingHeader*>(mapping->data());
    const long commands = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    const bool available = commands > 0 && (commands & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0;
    if (available) {
        EXPECT_EQ(header->consumer_barrier.load(), 1U) << "the consumer slept without announcing its barrier";
    }
}

TEST(ShmRingTest, WaitModesReadFromTextAndBadOnesNameTheChoices) {
    for (const ShmWait w : {ShmWait::sleep, ShmWait::predict, ShmWait::spin}) {
        auto back = parse_shm_wait(to_string(w));
        ASSERT_TRUE(back) << to_string(w);
        EXPECT_EQ(*back, w);
    }
    auto bad = parse_shm_wait("busy");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message(), "wait mode \"busy\" is not one of sleep, predict, spin");
}

TEST(IpcMessageTest, EventsRoundTrip) {
    StreamSegment seg;
    seg.format = Format::bytes;
    seg.rate = 2.0;
    seg.start = 10;
    seg.stop = 99;
    seg.time = 5;
    seg.base = 7;
    seg.position = 11;
    Structure tags("taglist");
    tags.set("title", std::string("hello world"));
    Structure custom("my-event");
    custom.set("n", 3);
    const std::vector<Event> events{Event::stream_start("abc/1"),
                                    Event::caps(Caps::parse("video/x-raw,format=RGBA,width=64,height=48").value()),
                                    Event::segment(seg),
                                    Event::tags(tags),
                                    Event::eos(),
                                    Event::gap(ClockTime::from_ns(5), ClockTime::from_ns(6)),
                                    Event::flush_start(),
                                    Event::flush_stop(false),
                                    Event::custom(EventType::custom_downstream, custom)};
    for (const Event& e : events) {
        auto bytes = encode_event(e);
        ASSERT_TRUE(bytes) << e.to_string();
        auto back = decode_event(*bytes);
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(back->to_string(), e.to_string());
    }
    EXPECT_EQ(*decode_event(*encode_event(Event::segment(seg)))->segment_value(), seg);
    // An upstream event is not a downstream one, and the other way round.
    EXPECT_FALSE(decode_event(*encode_event(Event::reconfigure())));
    EXPECT_FALSE(decode_upstream_event(*encode_event(Event::eos())));
}

TEST(IpcMessageTest, UpstreamEventsRoundTrip) {
    SeekRequest seek;
    seek.rate = -2.0;
    seek.format = Format::bytes;
    seek.flush = false;
    seek.start = 100;
    seek.stop = 5000;
    QosReport qos;
    qos.proportion = 1.5;
    qos.jitter_ns = -250000;
    qos.timestamp = ClockTime::from_ns(123456789);
    Structure nav("navigation");
    nav.set("event", std::string("mouse-button-press"));
    nav.set("x", 12.5);
    const std::vector<Event> events{Event::seek(seek), Event::qos(qos), Event::latency(ClockTime::from_ns(20'000'000)),
                                    Event::reconfigure(), Event::custom(EventType::custom_upstream, nav)};
    for (const Event& e : events) {
        auto bytes = encode_event(e);
        ASSERT_TRUE(bytes) << e.to_string();
        auto back = decode_upstream_event(*bytes);
        ASSERT_TRUE(back) << back.error().to_string();
        EXPECT_EQ(back->to_string(), e.to_string());
    }
    EXPECT_EQ(*decode_upstream_event(*encode_event(Event::seek(seek)))->seek_value(), seek);
    EXPECT_EQ(*decode_upstream_event(*encode_event(Event::qos(qos)))->qos_value(), qos);

    const auto expect_error = [](std::vector<std::byte> bytes, std::string_view words) {
        auto r = decode_upstream_event(bytes);
        ASSERT_FALSE(r) << words;
        EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
    };
    expect_error({}, "shorter");
    auto cut = *encode_event(Event::seek(seek));
    cut.pop_back();
    expect_error(cut, "seek body");
    auto zero_rate = *encode_event(Event::seek(seek));
    std::fill(zero_rate.begin() + 16, zero_rate.begin() + 24, std::byte{0});
    expect_error(zero_rate, "seek rate");
    auto bad_format = *encode_event(Event::seek(seek));
    bad_format[8] = std::byte{7};
    expect_error(bad_format, "seek format");
    auto negative = *encode_event(Event::qos(qos));
    const double minus = -1.0;
    std::memcpy(negative.data() + 8, &minus, sizeof minus);
    expect_error(negative, "qos proportion");
    auto long_latency = *encode_event(Event::latency(ClockTime::from_ns(1)));
    long_latency.push_back(std::byte{0});
    expect_error(long_latency, "latency body");
}

TEST(IpcMessageTest, MalformedEventsAreErrorsNamingTheField) {
    const auto expect_error = [](std::vector<std::byte> bytes, std::string_view words) {
        auto r = decode_event(bytes);
        ASSERT_FALSE(r) << words;
        EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
    };
    expect_error({}, "shorter");
    auto bad_type = std::vector<std::byte>(8);
    bad_type[0] = std::byte{200};
    expect_error(bad_type, "not a downstream event");
    auto seg = *encode_event(Event::segment(StreamSegment{}));
    seg.pop_back();
    expect_error(seg, "segment body");
    auto seg_format = *encode_event(Event::segment(StreamSegment{}));
    seg_format[8] = std::byte{9};
    expect_error(seg_format, "segment format");
    auto caps = bytes_of(std::string(8, '\0') + "video/x-raw,width=((");
    caps[0] = std::byte{static_cast<std::uint8_t>(EventType::caps)};
    expect_error(caps, "caps do not parse");
    auto tags = bytes_of(std::string(8, '\0') + "a;b");
    tags[0] = std::byte{static_cast<std::uint8_t>(EventType::tags)};
    expect_error(tags, "structures");
}

TEST(IpcMessageTest, ForceKeyUnitEventsRoundTripInTheirDirections) {
    DownstreamForceKeyUnit key_unit;
    key_unit.timestamp = ClockTime::from_ns(1'033'333'333);
    key_unit.stream_time = ClockTime::from_ns(33'333'333);
    key_unit.running_time = ClockTime::none();
    key_unit.all_headers = false;
    key_unit.count = 0xfffffffe;
    auto down = decode_event(*encode_event(Event::downstream_force_key_unit(key_unit)));
    ASSERT_TRUE(down) << down.error().to_string();
    ASSERT_NE(down->downstream_force_key_unit_value(), nullptr);
    EXPECT_EQ(*down->downstream_force_key_unit_value(), key_unit);

    UpstreamForceKeyUnit request;
    request.running_time = ClockTime::from_s(2);
    request.all_headers = true;
    request.count = 12;
    auto up = decode_upstream_event(*encode_event(Event::upstream_force_key_unit(request)));
    ASSERT_TRUE(up) << up.error().to_string();
    ASSERT_NE(up->upstream_force_key_unit_value(), nullptr);
    EXPECT_EQ(*up->upstream_force_key_unit_value(), request);

    // Each only in its own direction.
    auto wrong_up = decode_upstream_event(*encode_event(Event::downstream_force_key_unit(key_unit)));
    ASSERT_FALSE(wrong_up);
    EXPECT_NE(wrong_up.error().message().find("not an upstream event"), std::string::npos);
    auto wrong_down = decode_event(*encode_event(Event::upstream_force_key_unit(request)));
    ASSERT_FALSE(wrong_down);
    EXPECT_NE(wrong_down.error().message().find("not a downstream event"), std::string::npos);
}

TEST(IpcMessageTest, MalformedForceKeyUnitEventsAreErrorsNamingTheField) {
    const auto expect_error = [](const std::vector<std::byte>& bytes, bool downstream, std::string_view words) {
        auto r = downstream ? decode_event(bytes) : decode_upstream_event(bytes);
        ASSERT_FALSE(r) << words;
        EXPECT_TRUE(r.error().is(Errc::corrupt));
        EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
    };
    const auto down = *encode_event(Event::downstream_force_key_unit(DownstreamForceKeyUnit{}));
    const auto up = *encode_event(Event::upstream_force_key_unit(UpstreamForceKeyUnit{}));
    ASSERT_EQ(down.size(), 8U + 32U);
    ASSERT_EQ(up.size(), 8U + 16U);

    auto cut = down;
    cut.pop_back();
    expect_error(cut, true, "downstream-force-key-unit body of 31 bytes (expected 32)");
    auto header_only = std::vector<std::byte>(down.begin(), down.begin() + 8);
    expect_error(header_only, true, "downstream-force-key-unit body of 0 bytes");
    auto longer = down;
    longer.push_back(std::byte{0});
    expect_error(longer, true, "downstream-force-key-unit body of 33 bytes");
    auto flag = down;
    flag[8 + 28] = std::byte{2};
    expect_error(flag, true, "downstream-force-key-unit all-headers is 2, not 0 or 1");

    auto up_cut = up;
    up_cut.resize(8 + 12);
    expect_error(up_cut, false, "upstream-force-key-unit body of 12 bytes (expected 16)");
    auto up_longer = up;
    up_longer.resize(8 + 32);
    expect_error(up_longer, false, "upstream-force-key-unit body of 32 bytes");
    auto up_flag = up;
    up_flag[8 + 12] = std::byte{0xff};
    expect_error(up_flag, false, "upstream-force-key-unit all-headers is 255, not 0 or 1");

    // A type past the last one is no event at all.
    auto unknown = down;
    unknown[0] = std::byte{static_cast<std::uint8_t>(EventType::upstream_force_key_unit) + 1};
    expect_error(unknown, true, "not a downstream event");
    expect_error(unknown, false, "not an upstream event");
}

TEST(IpcMessageTest, HandshakeFramesRoundTripAndRefuseMalformedBytes) {
    auto hello = decode_hello(encode_hello(IpcHello{42, 7}));
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->producer_pid, 42U);
    EXPECT_EQ(hello->max_buffers, 7U);
    auto h = encode_hello(IpcHello{});
    h[0] = std::byte{0};
    EXPECT_NE(decode_hello(h).error().message().find("bad magic"), std::string::npos);
    h = encode_hello(IpcHello{});
    h[4] = std::byte{9};
    EXPECT_TRUE(decode_hello(h).error().is(Errc::version_mismatch));
    h.push_back(std::byte{0});
    EXPECT_FALSE(decode_hello(h));

    IpcArenaAck ack;
    ack.arena.bytes[3] = 9;
    ack.participant = ParticipantHandle{5, 77};
    auto a = decode_arena_ack(encode_arena_ack(ack));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->arena, ack.arena);
    EXPECT_EQ(a->participant.index, 5U);
    EXPECT_EQ(a->participant.incarnation, 77U);
    auto bad = encode_arena_ack(ack);
    bad[16] = std::byte{3};
    EXPECT_NE(decode_arena_ack(bad).error().message().find("status"), std::string::npos);
    bad.resize(5);
    EXPECT_FALSE(decode_arena_ack(bad));
    EXPECT_FALSE(decode_arena_offer(std::vector<std::byte>(15)));
    EXPECT_FALSE(decode_buffer_ref(std::vector<std::byte>(39)));
    IpcBufferRef ref;
    ref.slot = 3;
    ref.offset = 64;
    ref.size = 100;
    std::vector<std::byte> out(IpcBufferRef::encoded_size);
    encode_buffer_ref(ref, out);
    auto r = decode_buffer_ref(out);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->slot, 3U);
    EXPECT_EQ(r->offset, 64U);
    EXPECT_EQ(r->size, 100U);
}

TEST(IpcMessageTest, CompactBufferRecordsCarryTheSetFieldsOnly) {
    auto arena = Arena::create();
    ASSERT_TRUE(arena);
    auto whole = Buffer::allocate(**arena, 256);
    ASSERT_TRUE(whole);
    auto buffer = whole->slice(64, 100);
    ASSERT_TRUE(buffer);

    // Nothing set: the fixed part only.
    std::size_t size = compact_buffer_size(*buffer, 7);
    EXPECT_EQ(size, IpcCompactBuffer::fixed_size);

    Metadata& m = buffer->meta();
    m.set_pts(ClockTime::from_ns(40'000'000));
    m.set_duration(ClockTime::from_ns(20'000'000));
    m.set_sequence(9);
    m.set_byte_offset(6400);
    m.set_stream_id(3);
    m.set_flags(BufferFlags::delta | BufferFlags::discont);
    size = compact_buffer_size(*buffer, 7);
    EXPECT_EQ(size, IpcCompactBuffer::fixed_size + 4 * 8); // one cache line with the record header
    std::vector<std::byte> out(size);
    encode_compact_buffer(*buffer, 7, out);
    auto r = decode_compact_buffer(out);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->arena_index, 7U);
    EXPECT_EQ(r->slot, buffer->slot());
    EXPECT_EQ(r->offset, 64U);
    EXPECT_EQ(r->size, 100U);
    EXPECT_EQ(r->meta, m);
    EXPECT_TRUE(r->meta.dts().is_none());

    // What needs the whole Metadata, or more than 16 bits of arena number.
    EXPECT_EQ(compact_buffer_size(*buffer, 65536), 0U);
    Buffer with_rtp = *buffer;
    with_rtp.meta().set_rtp(RtpInfo{});
    EXPECT_EQ(compact_buffer_size(with_rtp, 0), 0U);
    Buffer with_klv = *buffer;
    with_klv.meta().set_klv({1, 2, 3});
    EXPECT_EQ(compact_buffer_size(with_klv, 0), 0U);
    EXPECT_EQ(compact_buffer_size(Buffer(), 0), 0U); // no slot

    // Malformed records name what is wrong.
    EXPECT_NE(decode_compact_buffer(std::span(out).first(20)).error().message().find("shorter"), std::string::npos);
    auto bad = out;
    bad[2] = std::byte{0x20};
    EXPECT_NE(decode_compact_buffer(bad).error().message().find("reserved bits"), std::string::npos);
    bad = out;
    bad.push_back(std::byte{0});
    EXPECT_NE(decode_compact_buffer(bad).error().message().find("field mask"), std::string::npos);
    bad = out;
    bad[18] = std::byte{0xff};
    EXPECT_NE(decode_compact_buffer(bad).error().message().find("unknown flag bits"), std::string::npos);
}

TEST(ShmRingTest, ARecordThatFitsOneCacheLineNeverStraddlesTwo) {
    ShmRingConfig config;
    config.data_size = 4096;
    auto producer = ShmRing::create(config);
    ASSERT_TRUE(producer);
    auto fd = producer->dup_fd();
    ASSERT_TRUE(fd);
    auto consumer = ShmRing::attach(std::move(*fd));
    ASSERT_TRUE(consumer);
    // Payloads of 8..56 bytes (records of 16..64) in a changing mix, many
    // times round the ring.
    for (std::size_t i = 0; i < 2000; ++i) {
        const std::size_t payload = 8 + (i * 5 % 7) * 8;
        auto room = producer->try_reserve(1, payload);
        ASSERT_EQ(room.size(), payload);
        const auto start = reinterpret_cast<std::uintptr_t>(room.data()) - 8;
        EXPECT_LE(start % 64 + 8 + payload, 64U) << "record " << i;
        std::memset(room.data(), static_cast<int>(i & 0xff), payload);
        producer->commit(true);
        auto rec = consumer->try_read();
        ASSERT_TRUE(rec && *rec);
        ASSERT_EQ((*rec)->payload.size(), payload);
        EXPECT_EQ((*rec)->payload[payload - 1], static_cast<std::byte>(i & 0xff));
        consumer->consume(true);
    }
}

std::string socket_name(const char* what) {
    return fmt::format("@parallax-ipc-test-{}-{}", ::getpid(), what);
}

TEST(IpcElementsTest, StreamCrossesWithCapsSegmentTagsMetadataAndEos) {
    const std::string path = socket_name("stream");
    auto sink = check::Harness::create(fmt::format("ipcsink socket-path={}", path));
    ASSERT_TRUE(sink) << sink.error().to_string();
    ASSERT_TRUE((*sink)->start());
    auto src = check::Harness::create(fmt::format("ipcsrc socket-path={}", path));
    ASSERT_TRUE(src) << src.error().to_string();
    ASSERT_TRUE((*src)->start());

    const Caps caps = Caps::parse("video/x-raw,format=GRAY8,width=4,height=2,framerate=30/1").value();
    StreamSegment seg;
    seg.start = 1000;
    seg.base = 50;
    Structure tags("taglist");
    tags.set("title", std::string("across"));
    ASSERT_TRUE((*sink)->push_event(Event::stream_start("s")));
    ASSERT_TRUE((*sink)->push_event(Event::caps(caps)));
    std::vector<Metadata> sent;
    for (int i = 0; i < 20; ++i) {
        auto b = (*sink)->make_buffer(8, static_cast<std::uint8_t>(i));
        ASSERT_TRUE(b);
        Metadata& m = b->meta();
        m.set_pts(ClockTime::from_ns(1000 + i));
        m.set_dts(ClockTime::from_ns(999 + i));
        m.set_duration(ClockTime::from_ns(33));
        m.set_sequence(static_cast<std::uint64_t>(i));
        m.set_stream_id(4);
        m.set_byte_offset(static_cast<std::uint64_t>(i) * 8);
        m.set_flag(BufferFlags::discont);
        m.set_klv({1, 2, 3, static_cast<std::uint8_t>(i)});
        sent.push_back(m);
        EXPECT_EQ((*sink)->push(std::move(*b)), Flow::ok);
        if (i == 0) {
            // After the first buffer: the harness starts its stream there,
            // (a stream-start and a default segment), and a new stream drops
            // the tags of the previous one.
            ASSERT_TRUE((*sink)->push_event(Event::segment(seg)));
            ASSERT_TRUE((*sink)->push_event(Event::tags(tags)));
        }
    }
    for (int i = 0; i < 20; ++i) {
        auto got = (*src)->pull();
        ASSERT_TRUE(got) << "buffer " << i;
        EXPECT_EQ(got->size(), 8U);
        EXPECT_EQ(std::to_integer<int>(got->data()[0]), i);
        EXPECT_TRUE(got->meta() == sent[static_cast<std::size_t>(i)]) << "metadata of buffer " << i;
    }
    bool saw_caps = false;
    bool saw_segment = false;
    bool saw_tags = false;
    for (const Event& e : (*src)->take_events()) {
        if (e.type() == EventType::caps) {
            saw_caps = is_equal(*e.caps_value(), caps);
        } else if (e.type() == EventType::segment && *e.segment_value() == seg) {
            saw_segment = true;
        } else if (e.type() == EventType::tags) {
            saw_tags = e.structure()->to_string() == tags.to_string();
        }
    }
    EXPECT_TRUE(saw_caps);
    EXPECT_TRUE(saw_segment);
    EXPECT_TRUE(saw_tags);
    ASSERT_TRUE((*sink)->push_event(Event::eos()));
    EXPECT_TRUE((*src)->wait_eos(std::chrono::seconds(5)));
    EXPECT_TRUE((*src)->stop());
    EXPECT_TRUE((*sink)->stop());
    EXPECT_FALSE((*src)->error());
}

TEST(IpcElementsTest, TwoConsumersEachTakeAReferenceAndALateOneGetsTheStickyEvents) {
    const std::string path = socket_name("two");
    auto sink = check::Harness::create(fmt::format("ipcsink socket-path={}", path));
    ASSERT_TRUE(sink);
    ASSERT_TRUE((*sink)->start());
    auto a = check::Harness::create(fmt::format("ipcsrc socket-path={}", path));
    ASSERT_TRUE(a);
    ASSERT_TRUE((*a)->start());
    const Caps caps = Caps::parse("audio/x-raw,rate=48000").value();
    ASSERT_TRUE((*sink)->push_event(Event::stream_start("s")));
    ASSERT_TRUE((*sink)->push_event(Event::caps(caps)));
    auto first = (*sink)->make_buffer(16, 1);
    ASSERT_TRUE(first);
    EXPECT_EQ((*sink)->push(*first), Flow::ok);
    auto b = check::Harness::create(fmt::format("ipcsrc socket-path={}", path));
    ASSERT_TRUE(b);
    ASSERT_TRUE((*b)->start());
    // Let the late consumer's handshake finish before the next buffer.
    for (int i = 0; i < 200 && (*sink)->element().get_property("num-clients").value() != "2"; ++i) {
        auto again = (*sink)->make_buffer(16, 1);
        EXPECT_EQ((*sink)->push(std::move(*again)), Flow::ok);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ((*sink)->element().get_property("num-clients").value(), "2");
    auto second = (*sink)->make_buffer(16, 2);
    ASSERT_TRUE(second);
    const Buffer kept = *second;
    EXPECT_EQ((*sink)->push(std::move(*second)), Flow::ok);
    std::optional<Buffer> from_b;
    while (auto got = (*b)->pull(std::chrono::seconds(2))) {
        if (std::to_integer<int>(got->data()[0]) == 2) {
            from_b = std::move(got);
            break;
        }
    }
    ASSERT_TRUE(from_b);
    std::optional<Buffer> from_a;
    while (auto got = (*a)->pull(std::chrono::seconds(2))) {
        if (std::to_integer<int>(got->data()[0]) == 2) {
            from_a = std::move(got);
            break;
        }
    }
    ASSERT_TRUE(from_a);
    // The same slot, one reference each plus ours: nothing was copied.
    EXPECT_EQ(kept.ref_count(), 3U);
    bool late_saw_caps = false;
    for (const Event& e : (*b)->take_events()) {
        late_saw_caps = late_saw_caps || (e.type() == EventType::caps && is_equal(*e.caps_value(), caps));
    }
    EXPECT_TRUE(late_saw_caps);
    EXPECT_EQ((*sink)->element().get_property("copies").value(), "0");
    from_a.reset();
    from_b.reset();
    EXPECT_TRUE((*a)->stop());
    EXPECT_TRUE((*b)->stop());
    EXPECT_TRUE((*sink)->stop());
}

TEST(IpcElementsTest, LeakyDownstreamNeverBlocksOnAStalledConsumer) {
    const std::string path = socket_name("leaky");
    auto sink = check::Harness::create(fmt::format("ipcsink socket-path={} leaky=downstream max-buffers=4", path));
    ASSERT_TRUE(sink);
    ASSERT_TRUE((*sink)->start());
    auto src = check::Harness::create(fmt::format("ipcsrc socket-path={}", path));
    ASSERT_TRUE(src);
    ASSERT_TRUE((*src)->start());
    (*src)->pause(); // the consumer reads nothing
    for (int i = 0; i < 100; ++i) {
        auto b = (*sink)->make_buffer(8, static_cast<std::uint8_t>(i));
        ASSERT_TRUE(b);
        EXPECT_EQ((*sink)->push(std::move(*b)), Flow::ok);
    }
    (*src)->resume();
    std::vector<int> got;
    while (auto b = (*src)->pull(std::chrono::milliseconds(500))) {
        got.push_back(std::to_integer<int>(b->data()[0]));
    }
    ASSERT_FALSE(got.empty());
    EXPECT_LE(got.size(), 6U);
    EXPECT_EQ(got.back(), 99); // the newest arrive, the oldest went
    EXPECT_TRUE((*src)->stop());
    EXPECT_TRUE((*sink)->stop());
}

TEST(IpcElementsTest, WaitModesDeliverTheWholeStreamAndABadModeIsRefused) {
    for (const char* mode : {"sleep", "predict", "spin"}) {
        const std::string path = socket_name(mode);
        auto sink = check::Harness::create(fmt::format("ipcsink socket-path={}", path));
        ASSERT_TRUE(sink);
        ASSERT_TRUE((*sink)->start());
        auto src = check::Harness::create(fmt::format("ipcsrc socket-path={} wait-mode={}", path, mode));
        ASSERT_TRUE(src) << src.error().to_string();
        ASSERT_TRUE((*src)->start());
        for (int i = 0; i < 30; ++i) {
            std::this_thread::sleep_for(std::chrono::microseconds(500));
            auto b = (*sink)->make_buffer(8, static_cast<std::uint8_t>(i));
            ASSERT_TRUE(b);
            EXPECT_EQ((*sink)->push(std::move(*b)), Flow::ok);
        }
        for (int i = 0; i < 30; ++i) {
            auto b = (*src)->pull(std::chrono::seconds(5));
            ASSERT_TRUE(b) << mode << ": buffer " << i;
            EXPECT_EQ(std::to_integer<int>(b->data()[0]), i) << mode;
        }
        EXPECT_TRUE((*src)->stop());
        EXPECT_TRUE((*sink)->stop());
    }
    auto bad = check::Harness::create(fmt::format("ipcsrc socket-path={} wait-mode=nap", socket_name("bad")));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().to_string().find("wait-mode"), std::string::npos) << bad.error().to_string();
    EXPECT_NE(bad.error().to_string().find("nap"), std::string::npos) << bad.error().to_string();
}

TEST(IpcElementsTest, WithoutSocketPathStartFailsNamingTheProperty) {
    for (const char* factory : {"ipcsink", "ipcsrc"}) {
        auto h = check::Harness::create(factory);
        ASSERT_TRUE(h);
        auto ok = (*h)->start();
        ASSERT_FALSE(ok) << factory;
        EXPECT_NE(ok.error().message().find("socket-path"), std::string::npos) << ok.error().message();
        EXPECT_EQ(ok.error().element(), (*h)->element().name());
    }
}

TEST(IpcElementsTest, ConnectingToNobodyFailsWithAClearError) {
    auto h = check::Harness::create(fmt::format("ipcsrc socket-path={}", socket_name("nobody")));
    ASSERT_TRUE(h);
    auto ok = (*h)->start();
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message().find("cannot connect"), std::string::npos) << ok.error().message();
}

} // namespace
} // namespace parallax
