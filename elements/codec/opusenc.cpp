// opusenc: encodes raw audio to Opus with libopus, with GStreamer's opusenc
// property names. Every stream goes through libopus's multistream surround
// encoder: mapping family 0 for one or two channels (its packets are plain
// Opus packets), family 1 (Vorbis channel order) for three to eight.
//
// An Element rather than a SimpleTransform: input buffers of any size are
// gathered into frames, so a buffer gives zero or more packets, and at EOS
// the last partial frame (and the encoder's lookahead) still has to come out.
//
// Timing follows the convention of include/parallax/codec/opus.hpp: packet n
// decodes to samples [n*F, (n+1)*F) of the encoder's output, which are the
// input's samples [n*F - pre_skip, (n+1)*F - pre_skip); pts and duration
// describe the part of that which lies within the input.

#include <parallax/audio/audio_info.hpp>
#include <parallax/base/log.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/element.hpp>

#include "codec/opus_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory opusenc_log("opusenc", "opusenc: libopus configuration and packets");

enum class BitrateType : int { cbr = 0, vbr = 1, constrained_vbr = 2 };
constexpr EnumValue bitrate_type_values[] = {
    {0, "cbr", "CBR"},
    {1, "vbr", "VBR"},
    {2, "constrained-vbr", "Constrained VBR"},
};

// The numbers are libopus's OPUS_APPLICATION_* values, as in GStreamer.
enum class AudioType : int { voice = 2048, generic = 2049, restricted_lowdelay = 2051 };
constexpr EnumValue audio_type_values[] = {
    {2049, "generic", "Generic audio"},
    {2048, "voice", "Voice"},
    {2051, "restricted-lowdelay", "Restricted low delay"},
};

// The numbers are libopus's OPUS_BANDWIDTH_* values and OPUS_AUTO.
enum class Bandwidth : int {
    narrowband = 1101,
    mediumband = 1102,
    wideband = 1103,
    superwideband = 1104,
    fullband = 1105,
    automatic = -1000
};
constexpr EnumValue bandwidth_values[] = {
    {1101, "narrowband", "Narrow band"},        {1102, "mediumband", "Medium band"}, {1103, "wideband", "Wide band"},
    {1104, "superwideband", "Super wide band"}, {1105, "fullband", "Full band"},     {-1000, "auto", "Auto"},
};

// GStreamer's GstOpusEncFrameSize: the number is the duration in ms, 2 for 2.5.
enum class FrameSize : int { ms2_5 = 2, ms5 = 5, ms10 = 10, ms20 = 20, ms40 = 40, ms60 = 60 };
constexpr EnumValue frame_size_values[] = {
    {2, "2.5", "2.5"}, {5, "5", "5"}, {10, "10", "10"}, {20, "20", "20"}, {40, "40", "40"}, {60, "60", "60"},
};

// Samples of one frame at 48 kHz.
std::uint32_t frame_samples_48k(FrameSize f) {
    return f == FrameSize::ms2_5 ? 120U : static_cast<std::uint32_t>(f) * 48U;
}

// Nanoseconds of `samples` at 48 kHz, rounded.
std::uint64_t ns_of(std::uint64_t samples) {
    return (samples * 1'000'000'000ULL + opus::sample_rate / 2) / opus::sample_rate;
}

class OpusEnc final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "opusenc",
        .klass = "Codec/Encoder/Audio",
        .summary = "Encodes raw audio to Opus with libopus",
        .description =
            "Encodes interleaved S16LE or F32LE audio at 48, 24, 16, 12 or 8 kHz with 1 to 8 channels into Opus "
            "packets, one buffer per packet. One or two channels use channel mapping family 0; three to eight "
            "use family 1 (Vorbis channel order, libopus's surround encoder). Input of any size is gathered into "
            "frames; at end of stream the last frame is padded with silence and its duration trimmed. The "
            "output caps carry the OpusHead (pre-skip = the encoder's lookahead) in codec_data; pts and duration "
            "describe the audio that remains after the decoder drops pre-skip samples."};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always,
                 Caps::parse_static("audio/x-raw, format=(string){ S16LE, F32LE }, layout=(string)interleaved, "
                                    "rate=(int){ 48000, 24000, 16000, 12000, 8000 }, channels=(int)[ 1, 8 ]")},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static("audio/x-opus")}};
    }
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.processing = ProcessingHint::cpu_bound;
        h.uses_native_code = true;
        // The input is raw audio made in the pipeline: libopus parses
        // nothing from outside here.
        h.crash_safe = true;
        return h;
    }();

    ~OpusEnc() override { destroy_encoder(); }

    Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        static_cast<void>(from);
        static_cast<void>(caps);
        return to.pad_template().caps;
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        auto loaded = detail::opus_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        reset_stream();
        return {};
    }

    Result<void> stop() override {
        reset_stream();
        return {};
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (encoder_ == nullptr || !info_) {
            return context().error(
                Error(Errc::not_negotiated, fmt::format("{}: a buffer arrived before the caps", name())));
        }
        auto frames = info_->frames_in(buffer.size());
        if (!frames) {
            return context().error(Error(Errc::invalid_argument, fmt::format("{}: input buffer {}: {}", name(),
                                                                             buffers_in_, frames.error().message())));
        }
        if (!base_pts_) {
            const ClockTime pts = buffer.meta().pts();
            base_pts_ = pts.is_valid() ? pts.ns() : 0;
        }
        ++buffers_in_;
        append_input(buffer.data(), *frames);
        input_frames_ += *frames;
        const std::size_t channels = info_->channels();
        while (pending_.size() >= frame_size_ * channels) {
            const Flow f = encode_frame();
            if (!is_success(f)) {
                return f;
            }
        }
        return Flow::ok;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return set_caps(*event.caps_value());
        case EventType::eos: {
            const Flow f = drain();
            if (!is_success(f) && f != Flow::eos) {
                return false;
            }
            return forward_event(pad, event);
        }
        case EventType::flush_stop:
            // What the encoder holds belongs to the flushed data.
            if (encoder_ != nullptr) {
                lib_->opus_multistream_encoder_ctl(encoder_, OPUS_RESET_STATE);
            }
            restart_timeline();
            return forward_event(pad, event);
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    void property_changed(const PropertyBase& property) override {
        static_cast<void>(property);
        settings_changed_.store(true, std::memory_order_release);
    }

private:
    void reset_stream() {
        destroy_encoder();
        info_.reset();
        restart_timeline();
    }

    void restart_timeline() {
        pending_.clear();
        base_pts_.reset();
        input_frames_ = 0;
        packets_out_ = 0;
        buffers_in_ = 0;
    }

    void destroy_encoder() {
        if (encoder_ != nullptr) {
            lib_->opus_multistream_encoder_destroy(encoder_);
            encoder_ = nullptr;
        }
    }

    Error property_error(std::string_view property, std::string_view message) const {
        return Error(Errc::invalid_argument, fmt::format("{}: property '{}': {}", name(), property, message));
    }

    bool set_caps(const Caps& caps) {
        auto in = AudioInfo::from_caps(caps);
        if (!in) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: unusable input caps {}: {}", name(),
                                                                    caps.to_string(), in.error().message())));
            return false;
        }
        const std::uint32_t rate = in->rate();
        if ((in->format() != AudioFormat::s16le && in->format() != AudioFormat::f32le) ||
            in->layout() != AudioLayout::interleaved ||
            (rate != 48000 && rate != 24000 && rate != 16000 && rate != 12000 && rate != 8000) || in->channels() < 1 ||
            in->channels() > 8) {
            context().error(Error(Errc::not_negotiated,
                                  fmt::format("{}: input {} is not supported (S16LE or F32LE, interleaved, 48000, "
                                              "24000, 16000, 12000 or 8000 Hz, 1 to 8 channels)",
                                              name(), in->to_string())));
            return false;
        }
        if (info_ && *info_ == *in && encoder_ != nullptr) {
            return true;
        }
        if (encoder_ != nullptr) {
            // A new format: the old stream ends first, under the old caps.
            if (const Flow f = drain(); !is_success(f)) {
                return false;
            }
            destroy_encoder();
        }
        info_ = *in;
        if (auto ok = open_encoder(); !ok) {
            context().error(std::move(ok.error()));
            return false;
        }
        return src_->push_event(Event::caps(opus::caps_for(header_)));
    }

    Result<void> open_encoder() {
        const auto channels = static_cast<int>(info_->channels());
        const int rate = static_cast<int>(info_->rate());
        const int family = channels <= 2 ? 0 : 1;
        int streams = 0;
        int coupled = 0;
        std::array<unsigned char, 8> mapping{};
        int err = OPUS_OK;
        encoder_ = lib_->opus_multistream_surround_encoder_create(
            rate, channels, family, &streams, &coupled, mapping.data(), static_cast<int>(audio_type_.get()), &err);
        if (encoder_ == nullptr || err != OPUS_OK) {
            encoder_ = nullptr;
            return fail(Error(Errc::failed, fmt::format("{}: libopus could not create an encoder for {}: {}", name(),
                                                        info_->to_string(), opus_error_text(*lib_, err))));
        }
        if (auto ok = apply_settings(); !ok) {
            destroy_encoder();
            return ok;
        }
        opus_int32 lookahead = 0;
        lib_->opus_multistream_encoder_ctl(encoder_, OPUS_GET_LOOKAHEAD(&lookahead));
        const std::uint32_t per_sample = opus::sample_rate / info_->rate();

        header_ = opus::Header{};
        header_.channels = static_cast<std::uint8_t>(channels);
        header_.pre_skip = static_cast<std::uint16_t>(lookahead * static_cast<opus_int32>(per_sample));
        header_.input_sample_rate = info_->rate();
        header_.mapping_family = static_cast<std::uint8_t>(family);
        header_.stream_count = static_cast<std::uint8_t>(streams);
        header_.coupled_count = static_cast<std::uint8_t>(coupled);
        if (family != 0) {
            header_.mapping.assign(mapping.begin(), mapping.begin() + channels);
        }
        frame_size_ = frame_samples_48k(frame_size_property_.get()) / per_sample;
        build_channel_order();
        PARALLAX_DEBUG(opusenc_log, "{}: {} family {} streams {} coupled {} pre-skip {} frame {} samples", name(),
                       info_->to_string(), family, streams, coupled, header_.pre_skip, frame_size_);
        return {};
    }

    // The settings that may change while running go to the encoder again
    // whenever a property changed.
    Result<void> apply_settings() {
        settings_changed_.store(false, std::memory_order_release);
        const BitrateType type = bitrate_type_.get();
        struct Setting {
            int result;
            std::string_view property;
        };
        const Setting settings[] = {
            {lib_->opus_multistream_encoder_ctl(encoder_, OPUS_SET_BITRATE(bitrate_.get())), "bitrate"},
            {lib_->opus_multistream_encoder_ctl(encoder_, OPUS_SET_VBR(type == BitrateType::cbr ? 0 : 1)),
             "bitrate-type"},
            {lib_->opus_multistream_encoder_ctl(encoder_,
                                                OPUS_SET_VBR_CONSTRAINT(type == BitrateType::constrained_vbr ? 1 : 0)),
             "bitrate-type"},
            {lib_->opus_multistream_encoder_ctl(encoder_, OPUS_SET_BANDWIDTH(static_cast<int>(bandwidth_.get()))),
             "bandwidth"},
            {lib_->opus_multistream_encoder_ctl(encoder_, OPUS_SET_COMPLEXITY(complexity_.get())), "complexity"},
            {lib_->opus_multistream_encoder_ctl(encoder_, OPUS_SET_INBAND_FEC(inband_fec_.get() ? 1 : 0)),
             "inband-fec"},
            {lib_->opus_multistream_encoder_ctl(encoder_, OPUS_SET_DTX(dtx_.get() ? 1 : 0)), "dtx"},
            {lib_->opus_multistream_encoder_ctl(encoder_, OPUS_SET_PACKET_LOSS_PERC(packet_loss_.get())),
             "packet-loss-percentage"},
        };
        for (const Setting& s : settings) {
            if (s.result != OPUS_OK) {
                return fail(property_error(
                    s.property, fmt::format("libopus refused the value: {}", opus_error_text(*lib_, s.result))));
            }
        }
        return {};
    }

    // source_[j]: the input channel that feeds coded channel j. Family 1
    // codes channels in Vorbis order: each is found in the input by its
    // position; input whose positions are not the Vorbis set (unpositioned,
    // or another layout) is taken as the Vorbis positions sorted by mask
    // bit, the order opusdec outputs.
    void build_channel_order() {
        const std::size_t channels = info_->channels();
        source_.resize(channels);
        for (std::size_t j = 0; j < channels; ++j) {
            source_[j] = j;
        }
        if (channels <= 2) {
            return;
        }
        const auto vorbis = opus::vorbis_channel_positions(static_cast<unsigned>(channels));
        const auto input = info_->positions();
        bool all_found = true;
        for (std::size_t j = 0; j < channels && all_found; ++j) {
            auto it = std::find(input.begin(), input.end(), vorbis[j]);
            if (it == input.end()) {
                all_found = false;
            } else {
                source_[j] = static_cast<std::size_t>(it - input.begin());
            }
        }
        if (!all_found) {
            auto sorted = vorbis;
            std::sort(sorted.begin(), sorted.end());
            for (std::size_t j = 0; j < channels; ++j) {
                source_[j] =
                    static_cast<std::size_t>(std::find(sorted.begin(), sorted.end(), vorbis[j]) - sorted.begin());
            }
        }
    }

    // Appends `frames` frames of `bytes` to pending_ as floats in coded order.
    void append_input(std::span<const std::byte> bytes, std::size_t frames) {
        const std::size_t channels = info_->channels();
        const bool is_float = info_->format() == AudioFormat::f32le;
        const std::size_t sample_size = is_float ? 4 : 2;
        pending_.reserve(pending_.size() + frames * channels);
        for (std::size_t i = 0; i < frames; ++i) {
            const std::byte* frame = bytes.data() + i * channels * sample_size;
            for (std::size_t j = 0; j < channels; ++j) {
                const std::byte* p = frame + source_[j] * sample_size;
                if (is_float) {
                    float v;
                    std::memcpy(&v, p, sizeof v);
                    pending_.push_back(v);
                } else {
                    std::int16_t v;
                    std::memcpy(&v, p, sizeof v);
                    pending_.push_back(static_cast<float>(v) / 32768.0F);
                }
            }
        }
    }

    // Encodes the first frame of pending_ (which holds at least one) and
    // pushes the packet.
    Flow encode_frame() {
        if (settings_changed_.load(std::memory_order_acquire)) {
            if (auto ok = apply_settings(); !ok) {
                return context().error(std::move(ok.error()));
            }
        }
        const std::size_t channels = info_->channels();
        std::array<unsigned char, 4000> packet{};
        const auto max_bytes = static_cast<opus_int32>(std::min<std::uint32_t>(max_payload_size_.get(), 4000));
        const opus_int32 size = lib_->opus_multistream_encode_float(
            encoder_, pending_.data(), static_cast<int>(frame_size_), packet.data(), max_bytes);
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(frame_size_ * channels));
        if (size < 0) {
            return context().error(Error(Errc::failed, fmt::format("{}: libopus failed to encode packet {}: {}", name(),
                                                                   packets_out_, opus_error_text(*lib_, size))));
        }
        return push_packet(std::span<const unsigned char>(packet.data(), static_cast<std::size_t>(size)));
    }

    Flow push_packet(std::span<const unsigned char> bytes) {
        const std::uint64_t per_sample = opus::sample_rate / info_->rate();
        const std::uint64_t frame48 = frame_size_ * per_sample;
        const std::uint64_t input48 = input_frames_ * per_sample;
        const std::uint64_t skip = header_.pre_skip;
        // The input samples this packet decodes to, once pre-skip is dropped,
        // within the input received so far (all of it at EOS).
        const std::uint64_t start_raw = packets_out_ * frame48;
        const std::uint64_t end_raw = start_raw + frame48;
        const std::uint64_t start = std::min(start_raw > skip ? start_raw - skip : 0, input48);
        const std::uint64_t end = std::min(end_raw > skip ? end_raw - skip : 0, input48);
        ++packets_out_;

        auto out = context().allocate(bytes.size());
        if (!out) {
            return context().error(std::move(out.error()));
        }
        if (!bytes.empty()) {
            auto dst = out->map_writable();
            if (!dst) {
                return context().error(std::move(dst.error()));
            }
            std::memcpy(dst->data(), bytes.data(), bytes.size());
        }
        Metadata& meta = out->meta();
        const std::uint64_t base = base_pts_.value_or(0);
        meta.set_pts(ClockTime::from_ns(base + ns_of(start)));
        meta.set_duration(ClockTime::from_ns(ns_of(end) - ns_of(start)));
        meta.set_sequence(packets_out_ - 1);
        const Flow f = src_->push(std::move(*out));
        return f == Flow::dropped ? Flow::ok : f;
    }

    // At EOS: the partial frame is padded with silence, then frames of
    // silence follow until every input sample has a packet (the encoder's
    // lookahead delays the input by pre-skip samples).
    Flow drain() {
        if (encoder_ == nullptr || !info_ || input_frames_ == 0) {
            pending_.clear();
            return Flow::ok;
        }
        const std::size_t channels = info_->channels();
        const std::uint64_t per_sample = opus::sample_rate / info_->rate();
        const std::uint64_t frame48 = frame_size_ * per_sample;
        const std::uint64_t needed = input_frames_ * per_sample + header_.pre_skip;
        while (packets_out_ * frame48 < needed) {
            pending_.resize(frame_size_ * channels, 0.0F);
            const Flow f = encode_frame();
            if (!is_success(f)) {
                return f;
            }
        }
        pending_.clear();
        // A stream that continues after EOS (after a flush) starts afresh.
        lib_->opus_multistream_encoder_ctl(encoder_, OPUS_RESET_STATE);
        restart_timeline();
        return Flow::ok;
    }

    Pad* src_ = nullptr;
    const detail::OpusLibrary* lib_ = nullptr; // from start()
    OpusMSEncoder* encoder_ = nullptr;
    std::optional<AudioInfo> info_;
    opus::Header header_;
    std::size_t frame_size_ = 960; // at the input rate
    std::vector<std::size_t> source_;
    std::vector<float> pending_; // interleaved, coded channel order
    std::optional<std::uint64_t> base_pts_;
    std::uint64_t input_frames_ = 0;
    std::uint64_t packets_out_ = 0;
    std::uint64_t buffers_in_ = 0;
    std::atomic<bool> settings_changed_{false};

    Property<std::int32_t> bitrate_{this,           "bitrate",          64000, "Specify an encoding bit-rate (in bps).",
                                    {4000, 650000}, Mutability::running};
    Property<BitrateType> bitrate_type_{this,           "bitrate-type",      BitrateType::constrained_vbr,
                                        "Bitrate type", bitrate_type_values, Mutability::running};
    Property<AudioType> audio_type_{this, "audio-type", AudioType::generic, "What type of audio to optimize for",
                                    audio_type_values};
    Property<Bandwidth> bandwidth_{
        this, "bandwidth", Bandwidth::fullband, "Audio Band Width", bandwidth_values, Mutability::running};
    Property<FrameSize> frame_size_property_{this, "frame-size", FrameSize::ms20,
                                             "The duration of an audio frame, in ms", frame_size_values};
    Property<std::int32_t> complexity_{this, "complexity", 10, "Complexity", {0, 10}, Mutability::running};
    Property<bool> inband_fec_{this, "inband-fec", false,
                               "Enable in-band forward error correction (use in combination with the "
                               "packet-loss-percentage property)",
                               Mutability::running};
    Property<bool> dtx_{this, "dtx", false, "DTX", Mutability::running};
    Property<std::int32_t> packet_loss_{this,     "packet-loss-percentage", 0, "Packet loss percentage",
                                        {0, 100}, Mutability::running};
    Property<std::uint32_t> max_payload_size_{this,      "max-payload-size", 4000, "Maximum payload size in bytes",
                                              {2, 4000}, Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OpusEnc);
