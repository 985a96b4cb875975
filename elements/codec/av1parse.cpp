// av1parse: gathers an AV1 low-overhead OBU stream, cut into buffers
// anywhere, into one buffer per temporal unit, with caps from the sequence
// header (av1C as codec_data) and key/delta flags.
//
// A temporal delimiter OBU starts a temporal unit. When the input caps say
// alignment=tu, each input buffer also ends one (streams whose units lack
// delimiters stay whole). The bytes are gathered in a vector: OBUs are small
// next to the decoding that follows, and a temporal unit may span any number
// of input buffers.

#include <parallax/codec/av1.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <vector>

namespace parallax {
namespace {

std::span<const std::uint8_t> as_u8(std::span<const std::byte> b) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

// How many bytes the OBU at the start of `data` takes, 0 when `data` does not
// hold it whole yet, or nullopt when it has no size field (it then runs to
// the end of what the producer handed over).
std::optional<std::size_t> complete_obu_size(std::span<const std::uint8_t> data) {
    if (data.empty()) {
        return 0;
    }
    const std::uint8_t h = data[0];
    std::size_t pos = (h & 0x04U) != 0 ? 2 : 1;
    if ((h & 0x02U) == 0) {
        return std::nullopt;
    }
    std::uint64_t size = 0;
    for (std::size_t i = 0;; ++i) {
        if (pos >= data.size()) {
            return 0;
        }
        const std::uint8_t b = data[pos++];
        size |= static_cast<std::uint64_t>(b & 0x7FU) << (7 * i);
        if ((b & 0x80U) == 0 || i == 7) {
            break; // read_obu reports a value that is too long or too large
        }
    }
    if (size > data.size() - pos) {
        return size > 0xFFFFFFFFULL ? pos : std::size_t{0}; // too large: let read_obu say so
    }
    return pos + static_cast<std::size_t>(size);
}

// An OBU larger than this is taken for broken data rather than waited for.
constexpr std::uint32_t max_obu_size = 256U << 20;

class Av1Parse final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "av1parse",
        .klass = "Codec/Parser/Converter/Video",
        .summary = "Parses AV1 streams",
        .description = "Gathers an AV1 OBU stream (cut anywhere) into temporal units, one buffer each; caps from the "
                       "sequence header with the av1C record as codec_data; key temporal units are marked, the "
                       "others carry the delta-unit flag.",
        .rank = rank_secondary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static("video/x-av1")},
                {"src", PadDirection::src, PadPresence::always,
                 Caps::parse_static("video/x-av1, stream-format=(string)obu-stream, alignment=(string)tu, "
                                    "parsed=(boolean)true")}};
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        reset_stream();
        seq_.reset();
        seq_obu_.clear();
        framerate_.reset();
        input_tu_aligned_ = false;
        return {};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return take_input_caps(*event.caps_value());
        case EventType::segment:
        case EventType::tags:
        case EventType::gap:
            if (!caps_sent_) {
                held_.push_back(std::move(event)); // after our caps, as downstream expects
                return true;
            }
            return src_->push_event(std::move(event));
        case EventType::eos: {
            if (const Flow f = drain(true); f != Flow::ok && f != Flow::eos) {
                // The error is on the bus; eos still goes on so the pipeline ends.
                static_cast<void>(f);
            }
            push_held();
            return src_->push_event(std::move(event));
        }
        case EventType::flush_stop:
            reset_stream();
            return src_->push_event(std::move(event));
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        const auto bytes = as_u8(buffer.data());
        marks_.push_back(Mark{stream_offset_ + pending_.size(), buffer.meta().pts(), buffer.meta().duration()});
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        // An OBU without a size field runs to the end of this buffer.
        return drain(input_tu_aligned_);
    }

private:
    bool take_input_caps(const Caps& caps) {
        if (caps.size() == 0) {
            return true;
        }
        const Structure& s = caps.structure(0);
        if (auto format = s.get_string("stream-format"); format && *format != "obu-stream") {
            context().error(Error(Errc::unsupported, fmt::format("stream-format {} is not supported: only obu-stream "
                                                                 "(the low-overhead format of AV1 section 5)",
                                                                 *format)));
            return false;
        }
        input_tu_aligned_ = s.get_string("alignment") == std::optional<std::string_view>("tu");
        if (auto fr = s.get_fraction("framerate"); fr && fr->num() > 0) {
            framerate_ = *fr;
        } else {
            framerate_.reset();
        }
        if (const CapsValue* cd = s.get("codec_data"); cd != nullptr && !seq_) {
            if (const Bytes* b = cd->get_if<Bytes>(); b != nullptr) {
                auto seq = av1::parse_av1c(b->data);
                if (!seq) {
                    context().error(Error(Errc::corrupt, "codec_data of the input caps: " + seq.error().message()));
                    return false;
                }
                if (b->data.size() > 4) {
                    seq_ = *seq;
                    auto obus = av1::split_obus(std::span(b->data).subspan(4));
                    for (const av1::Obu& o : obus.value_or(std::vector<av1::Obu>{})) {
                        if (o.type == av1::ObuType::sequence_header) {
                            seq_obu_.assign(o.bytes.begin(), o.bytes.end());
                            break;
                        }
                    }
                }
            }
        }
        caps_dirty_ = true;
        return true;
    }

    void reset_stream() {
        pending_.clear();
        marks_.clear();
        tu_.clear();
        held_.clear();
        stream_offset_ = 0;
        caps_sent_ = false;
        caps_dirty_ = true;
        warned_no_seq_ = false;
        tu_pts_ = ClockTime();
        tu_duration_ = ClockTime();
    }

    // Takes every complete OBU out of pending_. `at_boundary`: the producer
    // handed over a whole unit (or the stream ended), so what is left is
    // complete or broken, and the gathered temporal unit ends here.
    Flow drain(bool at_boundary) {
        std::size_t pos = 0;
        Flow result = Flow::ok;
        while (pos < pending_.size()) {
            const std::span<const std::uint8_t> rest = std::span<const std::uint8_t>(pending_).subspan(pos);
            auto need = complete_obu_size(rest);
            if (need && *need == 0 && !at_boundary) {
                // Wait for more bytes, unless the OBU claims more than is sane.
                std::size_t length = 0;
                const std::size_t size_at = (rest[0] & 0x04U) != 0 ? 2 : 1;
                if (auto size = av1::read_leb128(rest, size_at, length); size && *size > max_obu_size) {
                    pending_.clear();
                    return context().error(
                        Error(Errc::corrupt, fmt::format("AV1 OBU at byte {} of the stream: obu_size {} exceeds "
                                                         "the limit of {} bytes",
                                                         stream_offset_ + pos, *size, max_obu_size)));
                }
                break;
            }
            const std::span<const std::uint8_t> limited = need && *need > 0 ? rest.first(*need) : rest;
            auto obu = av1::read_obu(limited, 0);
            if (!obu) {
                std::string message = obu.error().message();
                // read_obu counts from `limited`; name the position in the stream.
                const std::string prefix = "AV1 OBU at byte 0: ";
                if (message.rfind(prefix, 0) == 0) {
                    message.erase(0, prefix.size());
                }
                pending_.clear();
                return context().error(Error(
                    Errc::corrupt, fmt::format("AV1 OBU at byte {} of the stream: {}", stream_offset_ + pos, message)));
            }
            if (const Flow f = take_obu(*obu, stream_offset_ + pos); f != Flow::ok) {
                result = f;
                pos += obu->bytes.size();
                break;
            }
            pos += obu->bytes.size();
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos));
        stream_offset_ += pos;
        // Keep the marks of the buffers the unconsumed bytes came from.
        while (marks_.size() > 1 && marks_[1].offset <= stream_offset_) {
            marks_.pop_front();
        }
        if (result == Flow::ok && at_boundary && !tu_.empty()) {
            result = finish_tu();
        }
        return result;
    }

    Flow take_obu(const av1::Obu& obu, std::size_t stream_offset) {
        if (obu.type == av1::ObuType::temporal_delimiter && !tu_.empty()) {
            if (const Flow f = finish_tu(); f != Flow::ok) {
                return f;
            }
        }
        if (tu_.empty()) {
            // The unit takes the times of the buffer that brought its first byte.
            for (const Mark& m : marks_) {
                if (m.offset > stream_offset) {
                    break;
                }
                tu_pts_ = m.pts;
                tu_duration_ = m.duration;
            }
            tu_offset_ = stream_offset;
        }
        if (obu.type == av1::ObuType::sequence_header) {
            auto seq = av1::parse_sequence_header(obu.payload);
            if (!seq) {
                return context().error(Error(Errc::corrupt, fmt::format("AV1 OBU at byte {} of the stream: {}",
                                                                        stream_offset, seq.error().message())));
            }
            std::vector<std::uint8_t> canonical = with_size_field(obu);
            if (canonical != seq_obu_) {
                seq_obu_ = std::move(canonical);
                seq_ = *seq;
                caps_dirty_ = true;
            }
        }
        tu_.insert(tu_.end(), obu.bytes.begin(), obu.bytes.end());
        return Flow::ok;
    }

    // The OBU as av1C wants it: with obu_has_size_field set.
    static std::vector<std::uint8_t> with_size_field(const av1::Obu& obu) {
        if ((obu.bytes[0] & 0x02U) != 0) {
            return {obu.bytes.begin(), obu.bytes.end()};
        }
        const std::size_t header = obu.has_extension ? 2 : 1;
        std::vector<std::uint8_t> out(obu.bytes.begin(), obu.bytes.begin() + static_cast<std::ptrdiff_t>(header));
        out[0] = static_cast<std::uint8_t>(out[0] | 0x02U);
        av1::write_leb128(static_cast<std::uint32_t>(obu.payload.size()), out);
        out.insert(out.end(), obu.payload.begin(), obu.payload.end());
        return out;
    }

    Flow finish_tu() {
        std::vector<std::uint8_t> tu;
        tu.swap(tu_);
        if (!seq_) {
            if (!warned_no_seq_) {
                warned_no_seq_ = true;
                context().warning("dropping AV1 data before the first sequence header",
                                  fmt::format("temporal unit at byte {} of the stream", tu_offset_));
            }
            return Flow::ok;
        }
        auto key = av1::is_key_temporal_unit(tu, *seq_);
        if (!key) {
            return context().error(Error(Errc::corrupt, fmt::format("temporal unit at byte {} of the stream: {}",
                                                                    tu_offset_, key.error().message())));
        }
        if (caps_dirty_ || !caps_sent_) {
            Caps caps = av1::caps_for(*seq_, av1::make_av1c(*seq_, seq_obu_));
            if (framerate_) {
                Structure s = caps.structure(0);
                s.set("framerate", *framerate_);
                caps = Caps();
                caps.append(std::move(s));
            }
            if (!caps_sent_ || caps != src_->current_caps()) {
                src_->push_event(Event::caps(std::move(caps)));
            }
            caps_sent_ = true;
            caps_dirty_ = false;
            push_held();
        }
        auto out = context().allocate(tu.size());
        if (!out) {
            return context().error(out.error());
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            return context().error(bytes.error());
        }
        std::memcpy(bytes->data(), tu.data(), tu.size());
        Metadata& m = out->meta();
        m.set_pts(tu_pts_);
        m.set_duration(tu_duration_);
        m.set_byte_offset(tu_offset_);
        if (*key) {
            m.set_flag(BufferFlags::keyframe);
        } else {
            m.set_flag(BufferFlags::delta);
        }
        tu_pts_ = ClockTime();
        return src_->push(std::move(*out));
    }

    void push_held() {
        for (Event& e : held_) {
            src_->push_event(std::move(e));
        }
        held_.clear();
    }

    Pad* src_ = nullptr;
    // Where an input buffer started in the stream, and its times.
    struct Mark {
        std::size_t offset;
        ClockTime pts;
        ClockTime duration;
    };

    std::vector<std::uint8_t> pending_; // bytes not yet cut into OBUs
    std::deque<Mark> marks_;            // of the buffers pending_ holds bytes of
    std::size_t stream_offset_ = 0;     // of pending_[0] in the stream
    std::vector<std::uint8_t> tu_;      // the temporal unit being gathered
    ClockTime tu_pts_;
    ClockTime tu_duration_;
    std::size_t tu_offset_ = 0;
    std::optional<av1::SequenceHeader> seq_;
    std::vector<std::uint8_t> seq_obu_; // the sequence header OBU, with size field
    std::optional<Fraction> framerate_;
    std::vector<Event> held_; // serialized events waiting for our first caps
    bool input_tu_aligned_ = false;
    bool caps_sent_ = false;
    bool caps_dirty_ = true;
    bool warned_no_seq_ = false;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Av1Parse);
