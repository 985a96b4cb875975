// h264parse: access units out of a byte-stream cut anywhere, caps from the
// SPS, key/delta flags, timestamps, conversion to avc (codec_data = avcC)
// and back, config-interval, and warnings that name the bad NAL unit. The
// streams come from openh264enc, but for slices in arbitrary order, written
// by hand.

#include <parallax/caps/caps.hpp>
#include <parallax/caps/structure.hpp>
#include <parallax/check/harness.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/elements/app/appsink.hpp>
#include <parallax/elements/app/appsrc.hpp>
#include <parallax/pipeline/pipeline.hpp>
#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_info.hpp>

#include "video_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace parallax::h264parse_test {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

Bytes8 bytes_of(const Buffer& b) {
    const auto d = b.data();
    Bytes8 out(d.size());
    std::transform(d.begin(), d.end(), out.begin(), [](std::byte x) { return std::to_integer<std::uint8_t>(x); });
    return out;
}

// `frames` I420 pictures of a moving gradient, w x h at 25 fps, encoded by
// openh264enc with `props`: one access unit each.
std::vector<Bytes8> encode(int frames, std::uint32_t w, std::uint32_t h, const std::string& props = "gop-size=4") {
    std::vector<Bytes8> units;
    auto harness = check::Harness::create("openh264enc " + props);
    EXPECT_TRUE(harness) << (harness ? "" : harness.error().to_string());
    if (!harness) {
        return units;
    }
    auto& hs = **harness;
    EXPECT_TRUE(hs.start());
    EXPECT_TRUE(hs.set_input_caps(Caps::parse(fmt::format("video/x-raw, format=I420, width={}, height={}, "
                                                          "framerate=25/1",
                                                          w, h))
                                      .value()));
    const VideoInfo info = check::info_of(VideoFormat::i420, w, h);
    for (int i = 0; i < frames; ++i) {
        auto b = hs.make_buffer(info.size());
        EXPECT_TRUE(b);
        auto f = WritableVideoFrame::map(info, *b);
        EXPECT_TRUE(f);
        for (std::size_t c = 0; c < 3; ++c) {
            for (std::uint32_t y = 0; y < info.component_height(c); ++y) {
                for (std::uint32_t x = 0; x < info.component_width(c); ++x) {
                    const unsigned v = c == 0 ? (x * 2 + y + static_cast<unsigned>(i) * 3) : (128 + c * 10 + x / 4);
                    check::set_raw_sample(*f, c, x, y, v & 0xffU);
                }
            }
        }
        b->meta().set_pts(ClockTime::from_ms(static_cast<std::uint64_t>(i) * 40));
        EXPECT_EQ(hs.push(std::move(*b)), Flow::ok);
        auto out = hs.pull();
        EXPECT_TRUE(out);
        if (out) {
            units.push_back(bytes_of(*out));
        }
    }
    return units;
}

// The NAL units of an Annex B access unit, as byte vectors.
std::vector<Bytes8> nals_of(const Bytes8& au) {
    std::vector<Bytes8> out;
    auto nals = h264::split_annex_b(au);
    EXPECT_TRUE(nals) << (nals ? "" : nals.error().message());
    if (nals) {
        for (const h264::Nal& n : *nals) {
            out.emplace_back(n.bytes.begin(), n.bytes.end());
        }
    }
    return out;
}

std::vector<h264::NalType> types_of(const Bytes8& au) {
    std::vector<h264::NalType> out;
    for (const Bytes8& n : nals_of(au)) {
        out.push_back(static_cast<h264::NalType>(n[0] & 0x1F));
    }
    return out;
}

bool has_type(const Bytes8& au, h264::NalType t) {
    const auto types = types_of(au);
    return std::find(types.begin(), types.end(), t) != types.end();
}

Bytes8 concat(const std::vector<Bytes8>& parts) {
    Bytes8 out;
    for (const Bytes8& p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

// `au` without its SPS and PPS.
Bytes8 without_parameter_sets(const Bytes8& au) {
    Bytes8 out;
    for (const Bytes8& n : nals_of(au)) {
        const auto t = static_cast<h264::NalType>(n[0] & 0x1F);
        if (t != h264::NalType::sps && t != h264::NalType::pps) {
            out.insert(out.end(), {0, 0, 0, 1});
            out.insert(out.end(), n.begin(), n.end());
        }
    }
    return out;
}

std::unique_ptr<check::Harness> started(const std::string& input_caps, const std::string& props = "") {
    auto h = check::Harness::create("h264parse " + props);
    EXPECT_TRUE(h) << h.error().to_string();
    EXPECT_TRUE((*h)->start());
    EXPECT_TRUE((*h)->set_input_caps(Caps::parse(input_caps).value()));
    return std::move(*h);
}

std::vector<Buffer> pull_all(check::Harness& h, std::size_t n) {
    std::vector<Buffer> out;
    for (std::size_t i = 0; i < n; ++i) {
        auto b = h.pull();
        EXPECT_TRUE(b) << "buffer " << i;
        if (!b) {
            break;
        }
        out.push_back(std::move(*b));
    }
    return out;
}

std::vector<std::string> warnings(const check::Harness& h) {
    std::vector<std::string> out;
    for (const Message& m : h.messages()) {
        if (m.type == MessageType::warning && m.error) {
            out.push_back(m.error->message() + ": " + m.detail);
        }
    }
    return out;
}

TEST(H264ParseTest, GathersAByteStreamCutAnywhereIntoAccessUnits) {
    const auto units = encode(10, 64, 48);
    ASSERT_EQ(units.size(), 10U);
    const Bytes8 stream = concat(units);
    for (const std::size_t chunk : {1U, 7U, 100U, 4096U}) {
        SCOPED_TRACE(chunk);
        auto h = started("video/x-h264,stream-format=byte-stream,framerate=25/1");
        for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
            const std::size_t n = std::min(chunk, stream.size() - pos);
            auto b = h->make_buffer(std::as_bytes(std::span(stream).subspan(pos, n)));
            ASSERT_TRUE(b);
            ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
        }
        ASSERT_TRUE(h->push_event(Event::eos()));
        const auto out = pull_all(*h, units.size());
        ASSERT_EQ(out.size(), units.size());
        for (std::size_t i = 0; i < units.size(); ++i) {
            EXPECT_EQ(nals_of(bytes_of(out[i])), nals_of(units[i])) << "unit " << i;
            const bool idr = i % 4 == 0;
            EXPECT_EQ(out[i].meta().has_flag(BufferFlags::delta), !idr) << "unit " << i;
            EXPECT_EQ(out[i].meta().has_flag(BufferFlags::keyframe), idr) << "unit " << i;
        }
        EXPECT_TRUE(h->wait_eos());
        EXPECT_FALSE(h->error());
        EXPECT_TRUE(warnings(*h).empty());
        const auto caps = check::last_caps(*h);
        ASSERT_TRUE(caps);
        const Structure& s = caps->structure(0);
        EXPECT_EQ(s.name(), "video/x-h264");
        EXPECT_EQ(s.get_string("stream-format"), "byte-stream");
        EXPECT_EQ(s.get_string("alignment"), "au");
        EXPECT_EQ(s.get_int("width"), 64);
        EXPECT_EQ(s.get_int("height"), 48);
        EXPECT_EQ(s.get_fraction("framerate"), Fraction::make(25, 1).value());
        EXPECT_EQ(s.get_bool("parsed"), true);
        EXPECT_TRUE(s.get_string("profile") == std::optional<std::string_view>("constrained-baseline") ||
                    s.get_string("profile") == std::optional<std::string_view>("baseline"))
            << caps->to_string();
        EXPECT_TRUE(s.get_string("level")) << caps->to_string();
        EXPECT_EQ(s.get_string("chroma-format"), "4:2:0");
        EXPECT_EQ(s.get_int("bit-depth-luma"), 8);
        EXPECT_EQ(s.get_int("bit-depth-chroma"), 8);
        EXPECT_EQ(s.get("codec_data"), nullptr);
    }
}

TEST(H264ParseTest, KeepsTheTimestampsOfAlignedAccessUnits) {
    const auto units = encode(6, 32, 32);
    ASSERT_EQ(units.size(), 6U);
    auto h = started("video/x-h264,stream-format=byte-stream,alignment=au");
    for (std::size_t i = 0; i < units.size(); ++i) {
        auto b = h->make_buffer(std::as_bytes(std::span(units[i])));
        ASSERT_TRUE(b);
        b->meta().set_pts(ClockTime::from_ms(i * 40));
        ASSERT_EQ(h->push(std::move(*b)), Flow::ok);
        // An aligned access unit goes out at once, not when the next begins.
        auto out = h->pull(std::chrono::seconds(2));
        ASSERT_TRUE(out) << "unit " << i;
        EXPECT_EQ(out->meta().pts(), ClockTime::from_ms(i * 40));
        EXPECT_EQ(nals_of(bytes_of(*out)), nals_of(units[i]));
    }
}

TEST(H264ParseTest, ConvertsByteStreamToAvcWithCodecDataAndBack) {
    const auto units = encode(8, 48, 32);
    ASSERT_EQ(units.size(), 8U);
    auto a = check::start_app_pipeline("appsrc name=src caps=\"video/x-h264, stream-format=byte-stream, "
                                       "framerate=25/1\" ! h264parse ! video/x-h264,stream-format=avc,alignment=au ! "
                                       "appsink name=sink sync=false");
    ASSERT_NE(a.src, nullptr);
    const Bytes8 stream = concat(units);
    ASSERT_TRUE(a.src->push_buffer(check::app_buffer(*a.src, std::as_bytes(std::span(stream)))));
    ASSERT_TRUE(a.src->end_of_stream());
    std::vector<Bytes8> avc_units;
    Caps avc_caps;
    for (std::size_t i = 0; i < units.size(); ++i) {
        auto sample = a.sink->pull_sample();
        ASSERT_TRUE(sample) << "unit " << i << ": " << sample.error().to_string();
        avc_units.push_back(bytes_of(sample->buffer));
        avc_caps = sample->caps;
        EXPECT_EQ(sample->buffer.meta().has_flag(BufferFlags::delta), i % 4 != 0);
    }
    static_cast<void>(a.pipeline->set_state(State::idle));

    ASSERT_EQ(avc_caps.size(), 1U);
    const Structure& s = avc_caps.structure(0);
    EXPECT_EQ(s.get_string("stream-format"), "avc");
    EXPECT_EQ(s.get_string("alignment"), "au");
    EXPECT_EQ(s.get_int("width"), 48);
    EXPECT_EQ(s.get_int("height"), 32);
    const CapsValue* cd = s.get("codec_data");
    ASSERT_NE(cd, nullptr);
    ASSERT_NE(cd->get_if<parallax::Bytes>(), nullptr);
    auto config = h264::parse_avcc(cd->get_if<parallax::Bytes>()->data);
    ASSERT_TRUE(config) << config.error().message();
    EXPECT_EQ(config->length_size, 4);
    ASSERT_EQ(config->sps.size(), 1U);
    ASSERT_EQ(config->pps.size(), 1U);
    EXPECT_EQ(config->sps[0], nals_of(units[0])[0]);
    for (std::size_t i = 0; i < units.size(); ++i) {
        auto annex_b = h264::to_annex_b(avc_units[i]);
        ASSERT_TRUE(annex_b) << "unit " << i << ": " << annex_b.error().message();
        EXPECT_EQ(nals_of(*annex_b), nals_of(units[i])) << "unit " << i;
    }

    // And back: avc in, byte-stream (the default) out.
    auto h = check::Harness::create("h264parse").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(avc_caps));
    for (const Bytes8& u : avc_units) {
        ASSERT_EQ(h->push(h->make_buffer(std::as_bytes(std::span(u))).value()), Flow::ok);
    }
    ASSERT_TRUE(h->push_event(Event::eos()));
    const auto back = pull_all(*h, units.size());
    ASSERT_EQ(back.size(), units.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        EXPECT_EQ(nals_of(bytes_of(back[i])), nals_of(units[i])) << "unit " << i;
    }
    const auto caps = check::last_caps(*h);
    ASSERT_TRUE(caps);
    EXPECT_EQ(caps->structure(0).get_string("stream-format"), "byte-stream");
    EXPECT_EQ(caps->structure(0).get("codec_data"), nullptr);
}

TEST(H264ParseTest, SplitsSlicesInArbitraryOrderWithTheParameterSetsOfCodecData) {
    // 32x32 Baseline, 4-bit frame_num, picture order count type 2.
    const Bytes8 sps = {0x67, 0x42, 0xc0, 0x1e, 0xda, 0x25, 0x90};
    const Bytes8 pps = {0x68, 0xce, 0x3c, 0x80};
    // P slices: first_mb_in_slice 2 then 0 with frame_num 0, 1 then 0 with
    // frame_num 1. The second picture begins at its new frame_num, not at
    // macroblock 0.
    const std::vector<Bytes8> slices = {{0x41, 0x66, 0x84}, {0x41, 0x9a, 0x10}, {0x41, 0x46, 0x8c}, {0x41, 0x9a, 0x30}};
    const auto parsed_sps = h264::parse_sps(sps);
    ASSERT_TRUE(parsed_sps) << parsed_sps.error().message();
    ASSERT_EQ(parsed_sps->width, 32U);
    const auto parsed_pps = h264::parse_pps(pps);
    ASSERT_TRUE(parsed_pps) << parsed_pps.error().message();
    const std::uint32_t first_mbs[] = {2, 0, 1, 0};
    for (std::size_t i = 0; i < slices.size(); ++i) {
        auto header = h264::parse_slice_header(slices[i], *parsed_sps, *parsed_pps);
        ASSERT_TRUE(header) << "slice " << i << ": " << header.error().message();
        ASSERT_EQ(header->first_mb_in_slice, first_mbs[i]) << "slice " << i;
        ASSERT_EQ(header->frame_num, i / 2) << "slice " << i;
    }

    auto avcc = h264::make_avcc(std::vector<Bytes8>{sps}, std::vector<Bytes8>{pps});
    ASSERT_TRUE(avcc) << avcc.error().message();
    Structure caps_structure("video/x-h264");
    caps_structure.set("stream-format", "avc");
    caps_structure.set("alignment", "nal");
    caps_structure.set("codec_data", parallax::Bytes{*avcc});
    Caps caps;
    caps.append(std::move(caps_structure));
    auto h = check::Harness::create("h264parse").value();
    ASSERT_TRUE(h->start());
    ASSERT_TRUE(h->set_input_caps(caps));
    for (const Bytes8& slice : slices) {
        Bytes8 unit = {0, 0, 0, static_cast<std::uint8_t>(slice.size())};
        unit.insert(unit.end(), slice.begin(), slice.end());
        ASSERT_EQ(h->push(h->make_buffer(std::as_bytes(std::span(unit))).value()), Flow::ok);
    }
    ASSERT_TRUE(h->push_event(Event::eos()));
    const auto out = pull_all(*h, 2);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(nals_of(bytes_of(out[0])), (std::vector<Bytes8>{slices[0], slices[1]}));
    EXPECT_EQ(nals_of(bytes_of(out[1])), (std::vector<Bytes8>{slices[2], slices[3]}));
    EXPECT_EQ(h->buffers_out(), 0U);
}

TEST(H264ParseTest, GivesOneNalUnitPerBufferWhenDownstreamAsksForNalAlignment) {
    const auto units = encode(3, 32, 32);
    ASSERT_EQ(units.size(), 3U);
    const Bytes8 stream = concat(units);
    std::size_t nal_count = 0;
    for (const Bytes8& u : units) {
        nal_count += nals_of(u).size();
    }
    auto a = check::start_app_pipeline("appsrc name=src caps=\"video/x-h264, stream-format=byte-stream\" ! h264parse "
                                       "! video/x-h264,alignment=nal ! appsink name=sink sync=false");
    ASSERT_NE(a.src, nullptr);
    ASSERT_TRUE(a.src->push_buffer(check::app_buffer(*a.src, std::as_bytes(std::span(stream)))));
    ASSERT_TRUE(a.src->end_of_stream());
    std::vector<Bytes8> got;
    for (std::size_t i = 0; i < nal_count; ++i) {
        auto sample = a.sink->pull_sample();
        ASSERT_TRUE(sample) << "NAL unit " << i << ": " << sample.error().to_string();
        EXPECT_EQ(sample->caps.structure(0).get_string("alignment"), "nal");
        EXPECT_EQ(sample->caps.structure(0).get_string("stream-format"), "byte-stream");
        const auto nals = nals_of(bytes_of(sample->buffer));
        ASSERT_EQ(nals.size(), 1U) << "buffer " << i;
        got.push_back(nals[0]);
    }
    static_cast<void>(a.pipeline->set_state(State::idle));
    std::vector<Bytes8> want;
    for (const Bytes8& u : units) {
        for (const Bytes8& n : nals_of(u)) {
            want.push_back(n);
        }
    }
    EXPECT_EQ(got, want);
}

// Access units 0..9 at 4 per second with an IDR every second unit, SPS and
// PPS only in the first, through h264parse with `config_interval`.
std::vector<Bytes8> with_config_interval(const std::string& config_interval) {
    auto units = encode(10, 32, 32, "gop-size=2");
    EXPECT_EQ(units.size(), 10U);
    auto h = started("video/x-h264,stream-format=byte-stream,alignment=au", "config-interval=" + config_interval);
    for (std::size_t i = 0; i < units.size(); ++i) {
        const Bytes8 u = i == 0 ? units[i] : without_parameter_sets(units[i]);
        auto b = h->make_buffer(std::as_bytes(std::span(u))).value();
        b.meta().set_pts(ClockTime::from_ms(i * 250));
        EXPECT_EQ(h->push(std::move(b)), Flow::ok);
    }
    EXPECT_TRUE(h->push_event(Event::eos()));
    std::vector<Bytes8> out;
    for (const Buffer& b : pull_all(*h, units.size())) {
        out.push_back(bytes_of(b));
    }
    return out;
}

TEST(H264ParseTest, ConfigIntervalInsertsParameterSetsBeforeIdrPictures) {
    for (const auto& [interval, expected] : std::vector<std::pair<std::string, std::vector<bool>>>{
             {"0", {true, false, false, false, false, false, false, false, false, false}},
             {"-1", {true, false, true, false, true, false, true, false, true, false}},
             {"1", {true, false, false, false, true, false, false, false, true, false}}}) {
        SCOPED_TRACE("config-interval=" + interval);
        const auto out = with_config_interval(interval);
        ASSERT_EQ(out.size(), expected.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
            EXPECT_EQ(has_type(out[i], h264::NalType::sps), expected[i]) << "unit " << i;
            EXPECT_EQ(has_type(out[i], h264::NalType::pps), expected[i]) << "unit " << i;
            if (expected[i]) {
                const auto types = types_of(out[i]);
                EXPECT_EQ(types.front(), h264::NalType::sps) << "unit " << i;
            }
        }
    }
}

TEST(H264ParseTest, BadNalUnitsAreWarningsNamingTheirIndex) {
    const auto units = encode(4, 32, 32);
    ASSERT_EQ(units.size(), 4U);
    Bytes8 stream = units[0];
    const Bytes8 forbidden = {0, 0, 0, 1, 0xe1, 0x11, 0x22};
    stream.insert(stream.end(), forbidden.begin(), forbidden.end());
    const Bytes8 truncated_sps = {0, 0, 0, 1, 0x67, 0x42};
    stream.insert(stream.end(), truncated_sps.begin(), truncated_sps.end());
    for (std::size_t i = 1; i < units.size(); ++i) {
        stream.insert(stream.end(), units[i].begin(), units[i].end());
    }
    const std::size_t first_unit_nals = nals_of(units[0]).size();
    auto h = started("video/x-h264,stream-format=byte-stream");
    ASSERT_EQ(h->push(h->make_buffer(std::as_bytes(std::span(stream))).value()), Flow::ok);
    ASSERT_TRUE(h->push_event(Event::eos()));
    const auto out = pull_all(*h, units.size());
    ASSERT_EQ(out.size(), units.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        EXPECT_EQ(nals_of(bytes_of(out[i])), nals_of(units[i])) << "unit " << i;
    }
    EXPECT_FALSE(h->error());
    const auto w = warnings(*h);
    ASSERT_EQ(w.size(), 2U);
    EXPECT_NE(w[0].find(fmt::format("NAL unit {}", first_unit_nals)), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("forbidden_zero_bit"), std::string::npos) << w[0];
    EXPECT_NE(w[1].find(fmt::format("NAL unit {}", first_unit_nals + 1)), std::string::npos) << w[1];
    EXPECT_NE(w[1].find("SPS"), std::string::npos) << w[1];
}

TEST(H264ParseTest, DropsDataBeforeTheFirstSpsWithAWarning) {
    const auto units = encode(5, 32, 32);
    ASSERT_EQ(units.size(), 5U);
    std::vector<Bytes8> later(units.begin() + 1, units.end());
    auto h = started("video/x-h264,stream-format=byte-stream");
    const Bytes8 stream = concat(later);
    ASSERT_EQ(h->push(h->make_buffer(std::as_bytes(std::span(stream))).value()), Flow::ok);
    ASSERT_TRUE(h->push_event(Event::eos()));
    // Units 1-3 have no SPS before them; unit 4 (an IDR) brings one.
    auto out = h->pull();
    ASSERT_TRUE(out);
    EXPECT_EQ(nals_of(bytes_of(*out)), nals_of(units[4]));
    EXPECT_TRUE(out->meta().has_flag(BufferFlags::keyframe));
    const auto w = warnings(*h);
    ASSERT_EQ(w.size(), 1U);
    EXPECT_NE(w[0].find("before the first SPS"), std::string::npos) << w[0];
}

TEST(H264ParseTest, DropsBytesBeforeTheFirstStartCodeWithOneWarning) {
    const auto units = encode(2, 32, 32);
    ASSERT_EQ(units.size(), 2U);
    Bytes8 stream(40, 0x5a);
    const Bytes8 rest = concat(units);
    stream.insert(stream.end(), rest.begin(), rest.end());
    auto h = started("video/x-h264,stream-format=byte-stream");
    for (std::size_t pos = 0; pos < stream.size(); pos += 9) {
        const std::size_t n = std::min<std::size_t>(9, stream.size() - pos);
        ASSERT_EQ(h->push(h->make_buffer(std::as_bytes(std::span(stream).subspan(pos, n))).value()), Flow::ok);
    }
    ASSERT_TRUE(h->push_event(Event::eos()));
    const auto out = pull_all(*h, units.size());
    ASSERT_EQ(out.size(), units.size());
    EXPECT_EQ(nals_of(bytes_of(out[0])), nals_of(units[0]));
    EXPECT_EQ(nals_of(bytes_of(out[1])), nals_of(units[1]));
    const auto w = warnings(*h);
    ASSERT_EQ(w.size(), 1U);
    EXPECT_NE(w[0].find("without a start code"), std::string::npos) << w[0];
}

TEST(H264ParseTest, RefusesAvcInputWithoutCodecData) {
    auto h = check::Harness::create("h264parse").value();
    ASSERT_TRUE(h->start());
    EXPECT_FALSE(h->set_input_caps(Caps::parse_static("video/x-h264, stream-format=avc, alignment=au")));
    ASSERT_TRUE(h->error());
    EXPECT_NE(h->error()->message().find("codec_data"), std::string::npos);
}

TEST(H264ParseTest, ConfigIntervalHasAGStreamerRange) {
    EXPECT_TRUE(check::Harness::create("h264parse config-interval=-1"));
    EXPECT_TRUE(check::Harness::create("h264parse config-interval=3600"));
    EXPECT_FALSE(check::Harness::create("h264parse config-interval=-2"));
    EXPECT_FALSE(check::Harness::create("h264parse config-interval=3601"));
}

} // namespace
} // namespace parallax::h264parse_test
