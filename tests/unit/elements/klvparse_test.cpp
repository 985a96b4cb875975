#include <parallax/check/harness.hpp>
#include <parallax/element.hpp>
#include <parallax/klv/uas_local_set.hpp>
#include <parallax/pipeline/pipeline.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace parallax::klvparse_test {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes uas_packet(double heading) {
    klv::UasLocalSet set;
    set.set_precision_time_stamp(1'700'000'000'000'000);
    EXPECT_TRUE(set.set_platform_heading(heading));
    EXPECT_TRUE(set.set_mission_id("KLVTEST"));
    return set.encode().value();
}

// A KLV packet that is not an ST 0601 local set (only split, not checked).
Bytes other_packet(std::size_t n) {
    Bytes p{0x06, 0x0E, 0x2B, 0x34, 0x01, 0x01, 0x01, 0x01, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    p.push_back(static_cast<std::uint8_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
        p.push_back(static_cast<std::uint8_t>(0xA0 + i));
    }
    return p;
}

Bytes join(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

Bytes bytes_of(const Buffer& b) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(b.data().data());
    return Bytes(p, p + b.size());
}

struct KlvHarness {
    std::unique_ptr<check::Harness> h;

    explicit KlvHarness(std::string_view description = "klvparse") {
        auto made = check::Harness::create(description);
        EXPECT_TRUE(made) << made.error().to_string();
        h = std::move(*made);
        EXPECT_TRUE(h->start());
        EXPECT_TRUE(h->set_input_caps(Caps::parse("meta/x-klv").value()));
    }

    // Pushes `bytes` as one buffer stamped `pts_ms`.
    Flow push(const Bytes& bytes, std::int64_t pts_ms) {
        auto b =
            h->make_buffer(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
        EXPECT_TRUE(b);
        b->meta().set_pts(ClockTime::from_ns(static_cast<ClockTime::rep>(pts_ms) * 1'000'000));
        return h->push(std::move(*b));
    }

    std::vector<Buffer> pull_all() {
        std::vector<Buffer> out;
        while (h->buffers_out() > 0) {
            out.push_back(*h->pull());
        }
        return out;
    }

    std::vector<std::string> warnings() const {
        std::vector<std::string> out;
        for (const Message& m : h->messages()) {
            if (m.type == MessageType::warning && m.error) {
                out.push_back(m.error->message());
            }
        }
        return out;
    }
};

TEST(KlvParseTest, IsRegisteredWithKlvCaps) {
    const ElementFactory* f = Registry::global().find("klvparse");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(f->pad_templates().size(), 2U);
    EXPECT_EQ(f->pad_templates()[0].caps.to_string(), "meta/x-klv");
    EXPECT_NE(f->pad_templates()[1].caps.to_string().find("parsed=(boolean)true"), std::string::npos);
    auto e = f->create();
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)->get_property("skip-invalid").value(), "false");
}

TEST(KlvParseTest, OutputCapsSayParsed) {
    KlvHarness t;
    bool saw = false;
    for (const Event& e : t.h->take_events()) {
        if (const Caps* c = e.caps_value()) {
            saw = true;
            EXPECT_EQ(c->to_string(), "meta/x-klv, parsed=(boolean)true");
        }
    }
    EXPECT_TRUE(saw);
}

TEST(KlvParseTest, WholePacketsPassOneBufferEach) {
    KlvHarness t;
    const Bytes a = uas_packet(10);
    const Bytes b = other_packet(5);
    EXPECT_EQ(t.push(a, 10), Flow::ok);
    EXPECT_EQ(t.push(b, 20), Flow::ok);
    auto out = t.pull_all();
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(bytes_of(out[0]), a);
    EXPECT_EQ(out[0].meta().pts().ms(), 10U);
    EXPECT_EQ(bytes_of(out[1]), b);
    EXPECT_EQ(out[1].meta().pts().ms(), 20U);
    EXPECT_FALSE(t.h->error());
}

TEST(KlvParseTest, JoinedAndSplitPacketsAreRegathered) {
    KlvHarness t;
    const Bytes a = uas_packet(10);
    const Bytes b = uas_packet(20);
    const Bytes c = other_packet(30);
    const Bytes stream = join({a, b, c});
    // Cut inside b's key and inside c's value: buffers at 1, 2 and 3 ms.
    const std::size_t cut1 = a.size() + 7;
    const std::size_t cut2 = a.size() + b.size() + 20;
    EXPECT_EQ(t.push(Bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut1)), 1), Flow::ok);
    EXPECT_EQ(t.h->buffers_out(), 1U);
    EXPECT_EQ(t.push(Bytes(stream.begin() + static_cast<std::ptrdiff_t>(cut1),
                           stream.begin() + static_cast<std::ptrdiff_t>(cut2)),
                     2),
              Flow::ok);
    EXPECT_EQ(t.push(Bytes(stream.begin() + static_cast<std::ptrdiff_t>(cut2), stream.end()), 3), Flow::ok);
    auto out = t.pull_all();
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(bytes_of(out[0]), a);
    EXPECT_EQ(bytes_of(out[1]), b);
    EXPECT_EQ(bytes_of(out[2]), c);
    // Each packet keeps the pts of the buffer it started in.
    EXPECT_EQ(out[0].meta().pts().ms(), 1U);
    EXPECT_EQ(out[1].meta().pts().ms(), 1U);
    EXPECT_EQ(out[2].meta().pts().ms(), 2U);
    EXPECT_EQ(out[2].meta().byte_offset(), a.size() + b.size());
}

TEST(KlvParseTest, ByteByByteStillGivesWholePackets) {
    KlvHarness t;
    const Bytes a = uas_packet(123.4);
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(t.push(Bytes{a[i]}, static_cast<std::int64_t>(i)), Flow::ok);
    }
    auto out = t.pull_all();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(bytes_of(out[0]), a);
    EXPECT_EQ(out[0].meta().pts().ms(), 0U);
}

TEST(KlvParseTest, BadChecksumIsAnErrorNamingElementAndOffset) {
    KlvHarness t;
    const Bytes a = uas_packet(10);
    Bytes b = uas_packet(20);
    b.back() ^= 0x01;
    EXPECT_EQ(t.push(join({a, b}), 0), Flow::error);
    auto err = t.h->error();
    ASSERT_TRUE(err);
    EXPECT_EQ(err->element(), t.h->element().name());
    EXPECT_NE(err->message().find("klvparse"), std::string::npos) << err->message();
    EXPECT_NE(err->message().find("checksum 0x"), std::string::npos) << err->message();
    EXPECT_NE(err->message().find(" expected 0x"), std::string::npos) << err->message();
    EXPECT_NE(err->message().find("in the packet at byte " + std::to_string(a.size())), std::string::npos)
        << err->message();
    EXPECT_EQ(t.pull_all().size(), 1U); // the good packet before it went out
}

TEST(KlvParseTest, BytesThatAreNotKlvAreAnError) {
    KlvHarness t;
    EXPECT_EQ(t.push(Bytes{0x47, 0x40, 0x00, 0x10, 0x00}, 0), Flow::error);
    auto err = t.h->error();
    ASSERT_TRUE(err);
    EXPECT_NE(err->message().find("no UL key"), std::string::npos) << err->message();
}

TEST(KlvParseTest, SkipInvalidDropsBadPacketsAndResynchronises) {
    KlvHarness t("klvparse skip-invalid=true");
    const Bytes a = uas_packet(10);
    Bytes bad = uas_packet(20);
    bad[bad.size() - 2] ^= 0x10;
    const Bytes c = uas_packet(30);
    const Bytes junk{0x00, 0x06, 0x0E, 0x2B, 0x00, 0x99};
    // The junk in front is skipped to the first key; from the bad packet the
    // parser skips to the next key, over the partial key in the junk after it.
    EXPECT_EQ(t.push(join({junk, a, bad, junk, c}), 5), Flow::ok);
    auto out = t.pull_all();
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(bytes_of(out[0]), a);
    EXPECT_EQ(bytes_of(out[1]), c);
    EXPECT_EQ(out[1].meta().pts().ms(), 5U);
    EXPECT_FALSE(t.h->error());
    const auto w = t.warnings();
    ASSERT_EQ(w.size(), 2U);
    EXPECT_NE(w[0].find("no UL key"), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("in the packet at byte 0"), std::string::npos) << w[0];
    EXPECT_NE(w[1].find("checksum"), std::string::npos) << w[1];
    EXPECT_NE(w[1].find("in the packet at byte " + std::to_string(junk.size() + a.size())), std::string::npos) << w[1];
}

TEST(KlvParseTest, StructureErrorsOfLocalSetsAreCaught) {
    KlvHarness t("klvparse skip-invalid=true");
    // A local set whose heading item has 3 bytes: framing is fine, the item is not.
    Bytes p(klv::uas_local_set_key.begin(), klv::uas_local_set_key.end());
    const Bytes body{0x09, 0x05, 0x03, 0x01, 0x02, 0x03, 0x01, 0x02};
    p.insert(p.end(), body.begin(), body.end());
    const std::uint16_t sum = klv::checksum(p);
    p.push_back(static_cast<std::uint8_t>(sum >> 8));
    p.push_back(static_cast<std::uint8_t>(sum));
    EXPECT_EQ(t.push(p, 0), Flow::ok);
    EXPECT_EQ(t.h->buffers_out(), 0U);
    const auto w = t.warnings();
    ASSERT_EQ(w.size(), 1U);
    EXPECT_NE(w[0].find("tag 5 (platform heading angle) at byte 17 has 3 bytes, expected 2"), std::string::npos)
        << w[0];
}

TEST(KlvParseTest, LeftoverBytesAtEosAreAnError) {
    KlvHarness t;
    const Bytes a = uas_packet(10);
    EXPECT_EQ(t.push(Bytes(a.begin(), a.begin() + 30), 0), Flow::ok);
    t.h->push_event(Event::eos());
    EXPECT_TRUE(t.h->wait_eos());
    auto err = t.h->error();
    ASSERT_TRUE(err);
    EXPECT_NE(err->message().find("30 bytes left over in the packet at byte 0"), std::string::npos) << err->message();
}

TEST(KlvParseTest, LeftoverBytesAtEosAreAWarningWhenSkipping) {
    KlvHarness t("klvparse skip-invalid=true");
    const Bytes a = uas_packet(10);
    EXPECT_EQ(t.push(join({a, Bytes(a.begin(), a.begin() + 20)}), 0), Flow::ok);
    t.h->push_event(Event::eos());
    EXPECT_TRUE(t.h->wait_eos());
    EXPECT_FALSE(t.h->error());
    EXPECT_EQ(t.pull_all().size(), 1U);
    const auto w = t.warnings();
    ASSERT_EQ(w.size(), 1U);
    EXPECT_NE(w[0].find("20 bytes left over in the packet at byte " + std::to_string(a.size())), std::string::npos)
        << w[0];
}

TEST(KlvParseTest, FlushForgetsAPartialPacket) {
    KlvHarness t;
    const Bytes a = uas_packet(10);
    EXPECT_EQ(t.push(Bytes(a.begin(), a.begin() + 25), 0), Flow::ok);
    t.h->push_event(Event::flush_start());
    t.h->push_event(Event::flush_stop());
    EXPECT_EQ(t.push(a, 7), Flow::ok);
    auto out = t.pull_all();
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(bytes_of(out[0]), a);
    EXPECT_EQ(out[0].meta().pts().ms(), 7U);
    EXPECT_FALSE(t.h->error());
}

TEST(KlvParseTest, RandomDamageIsSkippedAndEveryOutputIsAWholePacket) {
    KlvHarness t("klvparse skip-invalid=true");
    std::mt19937 rng(0x4B4C56);
    std::uniform_int_distribution<int> byte(0, 255);
    Bytes stream;
    for (int i = 0; i < 200; ++i) {
        Bytes p = i % 3 == 0 ? other_packet(static_cast<std::size_t>(i % 50)) : uas_packet(i);
        if (i % 4 == 1) {
            p[static_cast<std::size_t>(byte(rng)) % p.size()] ^= static_cast<std::uint8_t>(1 + byte(rng) % 255);
        }
        stream.insert(stream.end(), p.begin(), p.end());
        if (i % 10 == 5) {
            for (int k = byte(rng) % 20; k > 0; --k) {
                stream.push_back(static_cast<std::uint8_t>(byte(rng)));
            }
        }
    }
    std::size_t pos = 0;
    while (pos < stream.size()) {
        const std::size_t n = std::min<std::size_t>(1 + static_cast<std::size_t>(byte(rng)), stream.size() - pos);
        EXPECT_EQ(t.push(Bytes(stream.begin() + static_cast<std::ptrdiff_t>(pos),
                               stream.begin() + static_cast<std::ptrdiff_t>(pos + n)),
                         static_cast<std::int64_t>(pos)),
                  Flow::ok);
        pos += n;
    }
    t.h->push_event(Event::eos());
    EXPECT_TRUE(t.h->wait_eos());
    EXPECT_FALSE(t.h->error());
    const auto out = t.pull_all();
    EXPECT_GT(out.size(), 100U);
    for (const Buffer& b : out) {
        const Bytes bytes = bytes_of(b);
        auto size = klv::next_packet(bytes);
        ASSERT_TRUE(size && *size);
        EXPECT_EQ(**size, bytes.size());
        if (std::equal(klv::uas_local_set_key.begin(), klv::uas_local_set_key.end(), bytes.begin())) {
            EXPECT_TRUE(klv::UasLocalSet::parse(bytes));
        }
    }
}

// Writes `bytes` to a file in the temporary directory and returns its path.
std::filesystem::path write_temp(const std::string& name, const Bytes& bytes) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
}

TEST(KlvParseTest, RunsInAPipelineFromAFileReadInSmallBlocks) {
    const Bytes stream = join({uas_packet(1), other_packet(40), uas_packet(2)});
    const auto path = write_temp("klvparse_test_good.klv", stream);
    auto p = Pipeline::parse("filesrc location=" + path.string() +
                             " blocksize=7 ! meta/x-klv ! klvparse ! fakesink name=sink");
    ASSERT_TRUE(p) << p.error().to_string();
    auto ok = (*p)->run(std::chrono::seconds(20));
    EXPECT_TRUE(ok) << ok.error().to_string();
    Element* sink = (*p)->find("sink");
    ASSERT_NE(sink, nullptr);
    EXPECT_EQ(sink->pad("sink")->buffer_count(), 3U) << "one buffer per packet";
    EXPECT_EQ(sink->pad("sink")->byte_count(), stream.size());
    std::filesystem::remove(path);
}

TEST(KlvParseTest, CorruptFileStopsThePipelineWithTheElementsError) {
    Bytes bad = uas_packet(3);
    bad[bad.size() - 1] ^= 0xFF;
    const auto path = write_temp("klvparse_test_bad.klv", join({uas_packet(1), bad}));
    auto p = Pipeline::parse("filesrc location=" + path.string() + " ! meta/x-klv ! klvparse name=k ! fakesink");
    ASSERT_TRUE(p) << p.error().to_string();
    auto ok = (*p)->run(std::chrono::seconds(20));
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().element(), "k");
    EXPECT_NE(ok.error().message().find("checksum"), std::string::npos) << ok.error().to_string();
    std::filesystem::remove(path);
}

} // namespace
} // namespace parallax::klvparse_test
