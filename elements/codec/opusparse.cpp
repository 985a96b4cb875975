// opusparse: checks a stream of Opus packets (one per buffer) and completes
// their timing: a packet without a duration gets the one it decodes to
// (less the part of pre-skip it still holds, per the timing convention of
// include/parallax/codec/opus.hpp), a packet without a pts gets the end of
// the one before. OpusHead and OpusTags packets in the stream (a demuxer
// that passes headers on) are taken out: OpusHead becomes the caps'
// codec_data.

#include <parallax/codec/opus.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace parallax {
namespace {

bool starts_with(std::span<const std::uint8_t> bytes, std::string_view magic) {
    return bytes.size() >= magic.size() &&
           std::equal(magic.begin(), magic.end(), bytes.begin(),
                      [](char c, std::uint8_t b) { return static_cast<std::uint8_t>(c) == b; });
}

Caps parsed_caps(const Caps& caps) {
    Caps out;
    for (std::size_t i = 0; i < caps.size(); ++i) {
        Structure s = caps.structure(i);
        s.set("framed", true);
        s.set("parsed", true);
        out.append(std::move(s), caps.features(i));
    }
    return out;
}

class OpusParse final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "opusparse",
        .klass = "Codec/Parser/Audio",
        .summary = "Checks Opus packets and completes their timestamps and durations",
        .description = "Validates each Opus packet's framing (RFC 6716 section 3); sets the duration of packets "
                       "without one from the samples they decode to, minus what remains of the header's pre-skip, "
                       "and the pts of packets without one from the end of the packet before. In-band OpusHead "
                       "packets become the caps' codec_data; OpusTags packets are dropped. A malformed packet is an "
                       "error naming its index and what is wrong.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static("audio/x-opus")},
                {"src", PadDirection::src, PadPresence::always,
                 Caps::parse_static("audio/x-opus, framed=(boolean)true, parsed=(boolean)true")}};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (from.direction() == PadDirection::src || caps.is_any() || caps.is_empty()) {
            return to.pad_template().caps;
        }
        return parsed_caps(caps);
    }

protected:
    Result<void> start() override {
        restart();
        header_.reset();
        return {};
    }

    Result<void> set_caps(const Caps& in, const Caps& out) override {
        static_cast<void>(out);
        // Caps without a header (no channels) are fine: packets still parse,
        // pre-skip is taken as 0 until an OpusHead packet comes.
        if (auto h = opus::header_from_caps(in)) {
            header_ = *h;
            skip_left_ = h->pre_skip;
        } else if (in.size() == 1 && in.structure(0).has("codec_data")) {
            return fail(Errc::not_negotiated, fmt::format("{}: {}", name(), h.error().message()));
        }
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::flush_stop) {
            restart();
        }
        return SimpleTransform::sink_event(pad, std::move(event));
    }

    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        const std::uint64_t index = packets_++;
        const auto bytes =
            std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buffer.data().data()), buffer.size());
        if (starts_with(bytes, "OpusHead")) {
            auto h = opus::parse_head(bytes);
            if (!h) {
                return ctx.error(
                    Error(Errc::corrupt, fmt::format("{}: packet {}: {}", name(), index, h.error().message())));
            }
            header_ = *h;
            skip_left_ = h->pre_skip;
            src_pad().push_event(Event::caps(parsed_caps(opus::caps_for(*h))));
            return Flow::dropped;
        }
        if (starts_with(bytes, "OpusTags")) {
            if (auto t = opus::parse_tags(bytes); !t) {
                return ctx.error(
                    Error(Errc::corrupt, fmt::format("{}: packet {}: {}", name(), index, t.error().message())));
            }
            return Flow::dropped;
        }
        auto samples = opus::packet_samples(bytes);
        if (!samples) {
            return ctx.error(Error(Errc::corrupt, fmt::format("{}: packet {} ({} bytes): {}", name(), index,
                                                              bytes.size(), samples.error().message())));
        }
        const std::uint32_t skipped = std::min<std::uint32_t>(*samples, skip_left_);
        skip_left_ -= skipped;
        Metadata& meta = buffer.meta();
        if (!meta.duration().is_valid()) {
            const std::uint64_t remain = *samples - skipped;
            meta.set_duration(ClockTime::from_ns((remain * 1'000'000'000ULL + 24'000) / 48'000));
        }
        if (!meta.pts().is_valid()) {
            meta.set_pts(ClockTime::from_ns(next_pts_));
        }
        next_pts_ = meta.pts().ns() + meta.duration().ns();
        return Flow::ok;
    }

private:
    void restart() {
        packets_ = 0;
        next_pts_ = 0;
        skip_left_ = header_ ? header_->pre_skip : 0;
    }

    std::optional<opus::Header> header_;
    std::uint64_t packets_ = 0;
    std::uint64_t next_pts_ = 0;
    std::uint32_t skip_left_ = 0;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OpusParse);
