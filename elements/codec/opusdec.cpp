// opusdec: decodes Opus packets with libopus's multistream decoder (which
// takes every mapping family), with GStreamer's opusdec property names.
//
// Timing follows the convention of include/parallax/codec/opus.hpp: the
// first pre_skip samples (48 kHz) of the stream are dropped, and a packet
// whose duration is shorter than what it decodes to after that is cut to its
// duration (end trimming). Output timestamps are the input's.
//
// Corrupt packets: like GStreamer's audio decoders with max-errors=-1 (its
// default), a packet libopus cannot decode gives a warning naming the
// element and the packet, and its duration is concealed (libopus's packet
// loss concealment) so that the output timeline stays whole; with
// max-errors=N the N+1st consecutive bad packet is an error.

#include <parallax/audio/audio_info.hpp>
#include <parallax/base/log.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/element.hpp>

#include "codec/opus_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory opusdec_log("opusdec", "opusdec: libopus decoding");

constexpr std::string_view raw_template = "audio/x-raw, format=(string){ S16LE, F32LE }, layout=(string)interleaved, "
                                          "rate=(int){ 48000, 24000, 16000, 12000, 8000 }, channels=(int)[ 1, 8 ]";

bool is_opus_rate(std::int32_t rate) {
    return rate == 48000 || rate == 24000 || rate == 16000 || rate == 12000 || rate == 8000;
}

class OpusDec final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "opusdec",
        .klass = "Codec/Decoder/Audio",
        .summary = "Decodes Opus packets with libopus",
        .description =
            "Decodes Opus packets (one per buffer; the OpusHead comes from the caps' codec_data, or for mono and "
            "stereo from the caps fields) into interleaved S16LE or F32LE audio at 48, 24, 16, 12 or 8 kHz, as "
            "negotiated (48000 and S16LE by default). Drops pre-skip samples at the start and trims the last "
            "packet to its duration. Three to eight channels of mapping family 1 come out with their "
            "positions in the channel-mask. plc conceals gaps in the timestamps; buffers flagged gap or empty "
            "are always concealed.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always,
                 Caps::parse_static("audio/x-opus, channel-mapping-family=(int)0; "
                                    "audio/x-opus, channel-mapping-family=(int)[ 1, 255 ], channels=(int)[ 1, 255 ], "
                                    "stream-count=(int)[ 1, 255 ], coupled-count=(int)[ 0, 255 ]")},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(raw_template)}};
    }
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.processing = ProcessingHint::cpu_bound;
        h.uses_native_code = true;
        return h;
    }();

    ~OpusDec() override { destroy_decoder(); }

    // Opus caps with channels narrow the raw side to them; raw caps leave
    // the Opus side open.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        if (from.direction() == to.direction()) {
            return Caps::any();
        }
        if (from.direction() == PadDirection::src || caps.is_any() || caps.is_empty()) {
            return to.pad_template().caps;
        }
        Caps out = Caps::empty();
        for (std::size_t i = 0; i < caps.size(); ++i) {
            Structure s = to.pad_template().caps.structure(0);
            if (const CapsValue* v = caps.structure(i).get("channels")) {
                s.set("channels", *v);
            }
            out.append(std::move(s));
        }
        return out;
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        auto loaded = detail::opus_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        destroy_decoder();
        restart();
        return {};
    }

    Result<void> stop() override {
        destroy_decoder();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return set_caps(*event.caps_value());
        case EventType::flush_stop:
            if (decoder_ != nullptr) {
                lib_->opus_multistream_decoder_ctl(decoder_, OPUS_RESET_STATE);
            }
            restart();
            return forward_event(pad, event);
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (decoder_ == nullptr) {
            return context().error(
                Error(Errc::not_negotiated, fmt::format("{}: a buffer arrived before the caps", name())));
        }
        const std::uint64_t index = packets_in_++;
        const Metadata& meta = buffer.meta();
        const ClockTime pts = meta.pts();
        const ClockTime duration = meta.duration();

        const auto bytes =
            std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(buffer.data().data()), buffer.size());
        const bool lost = buffer.size() == 0 || meta.has_flag(BufferFlags::gap);
        auto samples48 = lost ? Result<std::uint32_t>(0U) : opus::packet_samples(bytes);

        // A gap in the timestamps: conceal it first (plc), or move on.
        if (pts.is_valid() && next_pts_ && pts.ns() > *next_pts_) {
            const std::uint64_t gap = pts.ns() - *next_pts_;
            if (plc_.get() && gap >= 1'000'000) { // less than 1 ms is rounding
                if (const Flow f = conceal_gap(*next_pts_, gap, lost || !samples48 ? 0 : *samples48, bytes);
                    !is_success(f)) {
                    return f;
                }
            }
        }
        const std::uint64_t start = pts.is_valid() ? pts.ns() : next_pts_.value_or(0);

        if (lost) {
            // A lost packet: conceal its duration.
            if (duration.is_valid() && duration.ns() > 0) {
                return conceal(start, duration.ns());
            }
            return Flow::ok;
        }
        int decoded = 0;
        std::string problem;
        if (!samples48) {
            problem = samples48.error().message();
        } else {
            const int frame = static_cast<int>(*samples48 / per_sample_);
            pcm_.resize(static_cast<std::size_t>(frame) * channels_);
            decoded = lib_->opus_multistream_decode_float(decoder_, bytes.data(), static_cast<opus_int32>(bytes.size()),
                                                          pcm_.data(), frame, 0);
            if (decoded < 0) {
                problem = fmt::format("libopus: {}", opus_error_text(*lib_, decoded));
            }
        }
        if (!problem.empty()) {
            ++errors_in_a_row_;
            const std::string message =
                fmt::format("{}: packet {} ({} bytes) cannot be decoded: {}", name(), index, buffer.size(), problem);
            const int max_errors = max_errors_.get();
            if (max_errors >= 0 && errors_in_a_row_ > static_cast<std::uint64_t>(max_errors)) {
                return context().error(Error(Errc::corrupt, message).at_pad("sink"));
            }
            context().warning(message);
            if (duration.is_valid() && duration.ns() > 0) {
                return conceal(start, duration.ns());
            }
            return Flow::ok;
        }
        errors_in_a_row_ = 0;

        // Pre-skip, then end trimming to the buffer's duration.
        std::size_t first = 0;
        std::size_t count = static_cast<std::size_t>(decoded);
        if (skip_left_ > 0) {
            const std::size_t skip = std::min<std::size_t>(skip_left_, count);
            first = skip;
            count -= skip;
            skip_left_ -= skip;
        }
        if (duration.is_valid()) {
            const auto keep = static_cast<std::size_t>(std::llround(static_cast<double>(duration.ns()) * rate_ / 1e9));
            count = std::min(count, keep);
        }
        return push_samples(first, count, start);
    }

private:
    void restart() {
        next_pts_.reset();
        skip_left_ = pre_skip_out_;
        packets_in_ = 0;
        errors_in_a_row_ = 0;
    }

    void destroy_decoder() {
        if (decoder_ != nullptr) {
            lib_->opus_multistream_decoder_destroy(decoder_);
            decoder_ = nullptr;
        }
    }

    // The raw format to produce: what negotiation fixed downstream when it
    // is one we make, else S16LE at 48 kHz.
    void choose_output_format() {
        format_ = AudioFormat::s16le;
        rate_ = 48000;
        const Caps negotiated = src_->negotiated_caps();
        if (negotiated.size() >= 1) {
            const Structure& s = negotiated.structure(0);
            if (auto f = s.get_string("format"); f && *f == "F32LE") {
                format_ = AudioFormat::f32le;
            }
            if (auto r = s.get_int("rate"); r && is_opus_rate(*r)) {
                rate_ = static_cast<std::uint32_t>(*r);
            }
        }
    }

    bool set_caps(const Caps& caps) {
        auto header = opus::header_from_caps(caps);
        if (!header) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: unusable input caps {}: {}", name(),
                                                                    caps.to_string(), header.error().message())));
            return false;
        }
        if (header->channels > 8) {
            context().error(Error(Errc::not_negotiated,
                                  fmt::format("{}: {} channels; at most 8 are decoded", name(), header->channels)));
            return false;
        }
        const AudioFormat previous_format = format_;
        const std::uint32_t previous_rate = rate_;
        choose_output_format();
        if (decoder_ != nullptr && *header == header_ && format_ == previous_format && rate_ == previous_rate) {
            // The same stream announced again (a demuxer repeating its caps):
            // the decoder and the pre-skip already dropped go on.
            return true;
        }
        header_ = *header;
        destroy_decoder();
        channels_ = header_.channels;
        std::vector<unsigned char> mapping(header_.mapping.begin(), header_.mapping.end());
        if (header_.mapping_family == 0) {
            mapping = header_.channels == 1 ? std::vector<unsigned char>{0} : std::vector<unsigned char>{0, 1};
        }
        int err = OPUS_OK;
        decoder_ =
            lib_->opus_multistream_decoder_create(static_cast<opus_int32>(rate_), static_cast<int>(channels_),
                                                  header_.stream_count, header_.coupled_count, mapping.data(), &err);
        if (decoder_ == nullptr || err != OPUS_OK) {
            decoder_ = nullptr;
            context().error(Error(Errc::not_negotiated, fmt::format("{}: libopus refused the header: {}", name(),
                                                                    opus_error_text(*lib_, err))));
            return false;
        }
        if (apply_gain_.get() && header_.output_gain != 0) {
            lib_->opus_multistream_decoder_ctl(decoder_, OPUS_SET_GAIN(header_.output_gain));
        }
        lib_->opus_multistream_decoder_ctl(decoder_, OPUS_SET_PHASE_INVERSION_DISABLED(phase_inversion_.get() ? 0 : 1));
        per_sample_ = opus::sample_rate / rate_;
        pre_skip_out_ = header_.pre_skip / per_sample_;
        skip_left_ = pre_skip_out_;
        next_pts_.reset();

        auto out = AudioInfo::make(format_, rate_, channels_);
        if (!out) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: {}", name(), out.error().message())));
            return false;
        }
        // Decoded family 1 channels come in Vorbis order; the output is in
        // mask-bit order with those positions.
        order_.resize(channels_);
        for (std::size_t k = 0; k < channels_; ++k) {
            order_[k] = k;
        }
        if (header_.mapping_family == 1 && channels_ > 2) {
            auto vorbis = opus::vorbis_channel_positions(channels_);
            auto sorted = vorbis;
            std::sort(sorted.begin(), sorted.end());
            std::uint64_t mask = 0;
            for (std::size_t k = 0; k < channels_; ++k) {
                order_[k] =
                    static_cast<std::size_t>(std::find(vorbis.begin(), vorbis.end(), sorted[k]) - vorbis.begin());
                mask |= audio_channel_bit(sorted[k]);
            }
            static_cast<void>(out->set_channel_mask(mask));
        } else if (channels_ > 2) {
            static_cast<void>(out->set_channel_mask(0)); // unpositioned
        }
        out_info_ = *out;
        PARALLAX_DEBUG(opusdec_log, "{}: family {} streams {} coupled {} pre-skip {} -> {}", name(),
                       header_.mapping_family, header_.stream_count, header_.coupled_count, header_.pre_skip,
                       out_info_->to_string());
        return src_->push_event(Event::caps(out_info_->to_caps()));
    }

    // Conceals a gap of `length` ns from `start` before a packet of
    // `samples48` samples: with use-inband-fec, its last packet's worth
    // comes from the redundancy the packet carries (when it has any, libopus
    // conceals instead), the rest from loss concealment.
    Flow conceal_gap(std::uint64_t start, std::uint64_t length, std::uint32_t samples48,
                     std::span<const std::uint8_t> packet) {
        const std::uint64_t frame_ns = (std::uint64_t{samples48} * 1'000'000'000ULL + 24'000) / 48'000;
        if (!use_inband_fec_.get() || samples48 == 0 || length < frame_ns) {
            return conceal(start, length);
        }
        if (const Flow f = conceal(start, length - frame_ns); !is_success(f)) {
            return f;
        }
        const int frame = static_cast<int>(samples48 / per_sample_);
        pcm_.resize(static_cast<std::size_t>(frame) * channels_);
        const int got = lib_->opus_multistream_decode_float(
            decoder_, packet.data(), static_cast<opus_int32>(packet.size()), pcm_.data(), frame, 1);
        if (got <= 0) {
            return conceal(start + length - frame_ns, frame_ns);
        }
        return push_samples(0, static_cast<std::size_t>(got), start + length - frame_ns);
    }

    // Conceals `length` ns from `start` with libopus's loss concealment, in
    // steps of whole 2.5 ms blocks (what libopus conceals), at most 120 ms each.
    Flow conceal(std::uint64_t start, std::uint64_t length) {
        const auto total = static_cast<std::size_t>(std::llround(static_cast<double>(length) * rate_ / 1e9));
        const std::size_t block = rate_ / 400; // 2.5 ms
        std::size_t done = 0;
        while (done + block <= total) {
            const std::size_t step = std::min<std::size_t>((total - done) / block * block, 48 * block);
            pcm_.resize(step * channels_);
            const int got =
                lib_->opus_multistream_decode_float(decoder_, nullptr, 0, pcm_.data(), static_cast<int>(step), 0);
            if (got <= 0) {
                break;
            }
            const std::uint64_t at = start + (done * 1'000'000'000ULL + rate_ / 2) / rate_;
            // Concealed samples replace lost ones: pre-skip does not apply.
            if (const Flow f = push_samples(0, static_cast<std::size_t>(got), at); !is_success(f)) {
                return f;
            }
            done += static_cast<std::size_t>(got);
        }
        return Flow::ok;
    }

    // Pushes frames [first, first + count) of pcm_ with pts `pts`.
    Flow push_samples(std::size_t first, std::size_t count, std::uint64_t pts) {
        const std::uint64_t duration = (count * 1'000'000'000ULL + rate_ / 2) / rate_;
        next_pts_ = pts + duration;
        if (count == 0) {
            return Flow::ok;
        }
        const std::size_t sample_size = format_ == AudioFormat::f32le ? 4 : 2;
        auto out = context().allocate(count * channels_ * sample_size);
        if (!out) {
            return context().error(std::move(out.error()));
        }
        auto dst = out->map_writable();
        if (!dst) {
            return context().error(std::move(dst.error()));
        }
        std::byte* p = dst->data();
        for (std::size_t i = 0; i < count; ++i) {
            const float* frame = pcm_.data() + (first + i) * channels_;
            for (std::size_t k = 0; k < channels_; ++k) {
                const float v = frame[order_[k]];
                if (format_ == AudioFormat::f32le) {
                    std::memcpy(p, &v, sizeof v);
                    p += 4;
                } else {
                    const float scaled = std::clamp(v * 32768.0F, -32768.0F, 32767.0F);
                    const auto s = static_cast<std::int16_t>(std::lrint(scaled));
                    std::memcpy(p, &s, sizeof s);
                    p += 2;
                }
            }
        }
        out->meta().set_pts(ClockTime::from_ns(pts));
        out->meta().set_duration(ClockTime::from_ns(duration));
        const Flow f = src_->push(std::move(*out));
        return f == Flow::dropped ? Flow::ok : f;
    }

    Pad* src_ = nullptr;
    const detail::OpusLibrary* lib_ = nullptr; // from start()
    OpusMSDecoder* decoder_ = nullptr;
    opus::Header header_;
    std::optional<AudioInfo> out_info_;
    AudioFormat format_ = AudioFormat::s16le;
    std::uint32_t rate_ = 48000;
    std::uint32_t per_sample_ = 1; // 48 kHz samples per output sample
    unsigned channels_ = 1;
    std::vector<std::size_t> order_; // output channel k <- decoded channel order_[k]
    std::vector<float> pcm_;
    std::size_t pre_skip_out_ = 0;
    std::size_t skip_left_ = 0;
    std::optional<std::uint64_t> next_pts_;
    std::uint64_t packets_in_ = 0;
    std::uint64_t errors_in_a_row_ = 0;

    Property<bool> apply_gain_{this, "apply-gain", true, "Apply gain if any is specified in the header"};
    Property<bool> plc_{this, "plc", false, "Perform packet loss concealment (if supported)"};
    Property<bool> use_inband_fec_{this, "use-inband-fec", false,
                                   "Use forward error correction if available (needs PLC enabled)"};
    Property<bool> phase_inversion_{this, "phase-inversion", false,
                                    "Set to true to enable phase inversion, this will slightly improve stereo "
                                    "quality, but will have side effects when downmixed to mono."};
    Property<std::int32_t> max_errors_{this,
                                       "max-errors",
                                       -1,
                                       "Max consecutive decoder errors before returning flow error (-1: never; "
                                       "bad packets are concealed with a warning)",
                                       {-1, std::numeric_limits<std::int32_t>::max()}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OpusDec);
