#include <parallax/element/registry.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <parallax/elements/flow/fakesink.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parallax {
namespace {

struct Received {
    std::vector<std::byte> bytes;
    Metadata meta;
    ClockTime arrival; ///< Running time at the sink.
};

// Runs `testsrc <properties> ! fakesink` to the end and returns what reached
// the sink.
std::vector<Received> run_testsrc(std::initializer_list<PropertySetting> properties) {
    auto p = Pipeline::create();
    auto built = p->chain().then("testsrc", properties, "src").then("fakesink", {}, "sink").done();
    EXPECT_TRUE(built) << built.error().to_string();
    std::mutex mutex;
    std::vector<Received> got;
    auto sink = p->get<FakeSink>("sink");
    EXPECT_TRUE(sink);
    if (!built || !sink) {
        return got;
    }
    Pipeline* pipeline = p.get();
    (*sink)->set_handoff([&](const Buffer& b, Pad&) {
        std::lock_guard lock(mutex);
        got.push_back({std::vector<std::byte>(b.data().begin(), b.data().end()), b.meta(), pipeline->running_time()});
    });
    EXPECT_TRUE((*sink)->set_property("signal-handoffs", "true"));
    auto ok = p->run(std::chrono::seconds(20));
    EXPECT_TRUE(ok) << ok.error().to_string();
    return got;
}

std::uint8_t u8(std::byte b) {
    return std::to_integer<std::uint8_t>(b);
}

TEST(TestSrcTest, IsRegisteredAsTestsrc) {
    const ElementFactory* f = Registry::global().find("testsrc");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->info().klass, "Source");
}

TEST(TestSrcTest, ZeroPatternIsTheDefaultAndFillsWithZeros) {
    auto got = run_testsrc({{"num-buffers", 3}, {"blocksize", 100}});
    ASSERT_EQ(got.size(), 3U);
    for (const auto& r : got) {
        ASSERT_EQ(r.bytes.size(), 100U);
        for (auto b : r.bytes) {
            ASSERT_EQ(u8(b), 0x00);
        }
    }
}

TEST(TestSrcTest, OnesPatternFillsWithFf) {
    auto got = run_testsrc({{"num-buffers", 3}, {"blocksize", 100}, {"pattern", "ones"}});
    ASSERT_EQ(got.size(), 3U);
    for (const auto& r : got) {
        ASSERT_EQ(r.bytes.size(), 100U);
        for (auto b : r.bytes) {
            ASSERT_EQ(u8(b), 0xff);
        }
    }
}

TEST(TestSrcTest, CounterPatternCountsOnFromOneBufferIntoTheNext) {
    auto got = run_testsrc({{"num-buffers", 6}, {"blocksize", 100}, {"pattern", "counter"}});
    ASSERT_EQ(got.size(), 6U);
    std::size_t n = 0;
    for (const auto& r : got) {
        for (auto b : r.bytes) {
            ASSERT_EQ(u8(b), n % 256) << "byte " << n << " of the stream";
            ++n;
        }
    }
    EXPECT_EQ(n, 600U);
}

TEST(TestSrcTest, AlternatingPatternStartsEveryBufferWith55) {
    auto got = run_testsrc({{"num-buffers", 3}, {"blocksize", 7}, {"pattern", "alternating"}});
    ASSERT_EQ(got.size(), 3U);
    for (const auto& r : got) {
        ASSERT_EQ(r.bytes.size(), 7U);
        for (std::size_t i = 0; i < r.bytes.size(); ++i) {
            EXPECT_EQ(u8(r.bytes[i]), i % 2 == 0 ? 0x55 : 0xaa) << "byte " << i;
        }
    }
}

TEST(TestSrcTest, SequencePatternRepeatsTheSequenceNumberLittleEndian) {
    auto got = run_testsrc({{"num-buffers", 300}, {"blocksize", 20}, {"pattern", "sequence"}});
    ASSERT_EQ(got.size(), 300U);
    for (std::uint64_t seq = 0; seq < got.size(); ++seq) {
        const auto& bytes = got[seq].bytes;
        ASSERT_EQ(bytes.size(), 20U);
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            const auto expected = static_cast<std::uint8_t>((seq >> (8 * (i % 8))) & 0xff);
            ASSERT_EQ(u8(bytes[i]), expected) << "buffer " << seq << " byte " << i;
        }
    }
    // Buffer 258 = 0x0102: the low byte comes first.
    EXPECT_EQ(u8(got[258].bytes[0]), 0x02);
    EXPECT_EQ(u8(got[258].bytes[1]), 0x01);
}

// The documented generator: xorshift64 (13, 7, 17), each step giving 8
// little-endian bytes; a buffer takes whole steps and drops what is left.
std::vector<std::vector<std::uint8_t>> xorshift_stream(std::uint64_t seed, std::size_t buffers, std::size_t size) {
    std::vector<std::vector<std::uint8_t>> out;
    std::uint64_t x = seed;
    for (std::size_t n = 0; n < buffers; ++n) {
        std::vector<std::uint8_t> b(size);
        for (std::size_t i = 0; i < size; i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for (std::size_t k = 0; k < 8 && i + k < size; ++k) {
                b[i + k] = static_cast<std::uint8_t>(x >> (8 * k));
            }
        }
        out.push_back(std::move(b));
    }
    return out;
}

TEST(TestSrcTest, RandomPatternIsXorshift64FromTheSeed) {
    auto got = run_testsrc({{"num-buffers", 4}, {"blocksize", 13}, {"pattern", "random"}, {"seed", 12345}});
    ASSERT_EQ(got.size(), 4U);
    const auto expected = xorshift_stream(12345, 4, 13);
    for (std::size_t n = 0; n < got.size(); ++n) {
        ASSERT_EQ(got[n].bytes.size(), 13U);
        for (std::size_t i = 0; i < 13; ++i) {
            EXPECT_EQ(u8(got[n].bytes[i]), expected[n][i]) << "buffer " << n << " byte " << i;
        }
    }
}

TEST(TestSrcTest, RandomPatternDefaultSeedIsTheOriginals) {
    auto got = run_testsrc({{"num-buffers", 2}, {"blocksize", 64}, {"pattern", "random"}});
    ASSERT_EQ(got.size(), 2U);
    const auto expected = xorshift_stream(0x853c49e6748fea9bULL, 2, 64);
    for (std::size_t n = 0; n < got.size(); ++n) {
        for (std::size_t i = 0; i < 64; ++i) {
            ASSERT_EQ(u8(got[n].bytes[i]), expected[n][i]) << "buffer " << n << " byte " << i;
        }
    }
}

TEST(TestSrcTest, RandomPatternRepeatsForTheSameSeedAndDiffersForAnother) {
    auto a = run_testsrc({{"num-buffers", 2}, {"blocksize", 256}, {"pattern", "random"}, {"seed", 7}});
    auto b = run_testsrc({{"num-buffers", 2}, {"blocksize", 256}, {"pattern", "random"}, {"seed", 7}});
    auto c = run_testsrc({{"num-buffers", 2}, {"blocksize", 256}, {"pattern", "random"}, {"seed", 8}});
    ASSERT_EQ(a.size(), 2U);
    ASSERT_EQ(b.size(), 2U);
    ASSERT_EQ(c.size(), 2U);
    EXPECT_EQ(a[0].bytes, b[0].bytes);
    EXPECT_EQ(a[1].bytes, b[1].bytes);
    EXPECT_NE(a[0].bytes, c[0].bytes);
    EXPECT_NE(a[0].bytes, a[1].bytes) << "the generator runs on from one buffer to the next";
}

TEST(TestSrcTest, BuffersCarrySequenceAndByteOffset) {
    auto got = run_testsrc({{"num-buffers", 5}, {"blocksize", 1000}});
    ASSERT_EQ(got.size(), 5U);
    for (std::uint64_t n = 0; n < got.size(); ++n) {
        EXPECT_EQ(got[n].meta.sequence(), n);
        EXPECT_EQ(got[n].meta.byte_offset(), n * 1000);
        EXPECT_TRUE(got[n].meta.pts().is_none()) << "no timestamps without datarate";
    }
}

TEST(TestSrcTest, ZeroBlocksizeGivesEmptyBuffers) {
    auto got = run_testsrc({{"num-buffers", 3}, {"blocksize", 0}, {"pattern", "ones"}});
    ASSERT_EQ(got.size(), 3U);
    for (const auto& r : got) {
        EXPECT_TRUE(r.bytes.empty());
    }
}

TEST(TestSrcTest, DatarateTimestampsTheBuffers) {
    auto got = run_testsrc({{"num-buffers", 4}, {"blocksize", 100}, {"datarate", 1000}});
    ASSERT_EQ(got.size(), 4U);
    for (std::uint64_t n = 0; n < got.size(); ++n) {
        EXPECT_EQ(got[n].meta.pts(), ClockTime::from_ms(100 * n));
        EXPECT_EQ(got[n].meta.duration(), ClockTime::from_ms(100));
        EXPECT_FALSE(got[n].meta.has_flag(BufferFlags::live));
    }
}

TEST(TestSrcTest, LiveSourceSendsEachBufferNoEarlierThanItsTimestamp) {
    auto got = run_testsrc({{"num-buffers", 4}, {"blocksize", 100}, {"datarate", 2000}, {"is-live", "true"}});
    ASSERT_EQ(got.size(), 4U);
    for (std::uint64_t n = 0; n < got.size(); ++n) {
        EXPECT_EQ(got[n].meta.pts(), ClockTime::from_ms(50 * n));
        EXPECT_TRUE(got[n].meta.has_flag(BufferFlags::live));
        EXPECT_GE(got[n].arrival, got[n].meta.pts()) << "buffer " << n;
    }
}

TEST(TestSrcTest, NumBuffersMinusOneRunsUntilEosIsRequested) {
    auto p = Pipeline::create();
    ASSERT_TRUE(p->chain().then("testsrc", {{"blocksize", 16}}).then("fakesink", {{"sync", "false"}}).done());
    ASSERT_TRUE(p->set_state(State::running));
    while (p->progress().buffers < 100) {
        std::this_thread::yield();
    }
    p->send_eos();
    auto m = p->bus().pop({MessageType::eos, MessageType::error}, std::chrono::seconds(10));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, MessageType::eos);
    ASSERT_TRUE(p->set_state(State::idle));
    EXPECT_GE(p->progress().buffers, 100U);
}

TEST(TestSrcTest, BadPropertyValuesAreErrorsNamingTheProperty) {
    auto e = Registry::global().create("testsrc");
    ASSERT_TRUE(e) << e.error().to_string();
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"pattern", "plaid"},  {"pattern", "9"}, {"blocksize", "-1"}, {"blocksize", "big"},
        {"num-buffers", "-2"}, {"seed", "0"},    {"datarate", "-5"},  {"is-live", "maybe"}};
    for (const auto& [name, value] : bad) {
        auto ok = (*e)->set_property(name, value);
        ASSERT_FALSE(ok) << name << "=" << value;
        EXPECT_NE(ok.error().message().find(name), std::string::npos) << ok.error().to_string();
    }
    EXPECT_EQ(*(*e)->get_property("pattern"), "zero");
    EXPECT_EQ(*(*e)->get_property("blocksize"), "4096");
}

TEST(TestSrcTest, EveryPatternCanBeSetByNick) {
    auto e = Registry::global().create("testsrc");
    ASSERT_TRUE(e);
    for (const char* nick : {"zero", "ones", "counter", "random", "alternating", "sequence"}) {
        ASSERT_TRUE((*e)->set_property("pattern", nick)) << nick;
        EXPECT_EQ(*(*e)->get_property("pattern"), nick);
    }
}

} // namespace
} // namespace parallax
