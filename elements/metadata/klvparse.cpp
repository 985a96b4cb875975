// klvparse: cuts a KLV byte stream into one buffer per whole packet, and
// checks the structure and checksum of MISB ST 0601 (UAS Datalink) packets.
// Packets may arrive split over several buffers or several in one buffer;
// each output buffer takes the pts of the input buffer its first byte came in.

#include <parallax/element.hpp>
#include <parallax/klv/klv_packet.hpp>
#include <parallax/klv/uas_local_set.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

namespace parallax {
namespace {

class KlvParse final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "klvparse",
        .klass = "Codec/Parser/Metadata",
        .summary = "Splits a KLV stream into packets and checks MISB ST 0601 local sets",
        .description = "Gathers KLV bytes into one buffer per whole packet (16-byte key, BER length, value), "
                       "keeping the pts of the buffer each packet started in. UAS Datalink Local Sets (MISB ST "
                       "0601) are checked item by item and by checksum. A bad packet is an error, or with "
                       "skip-invalid=true a warning: the packet is dropped and parsing resumes at the next key."};
    static constexpr ExecutionHints hints = [] {
        // Every read is bounds-checked and the parser is fuzzed: bad bytes
        // give an error, not a crash, so no isolation is needed.
        ExecutionHints h;
        h.memory = MemoryHint::streaming;
        return h;
    }();
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, sink_caps()},
                {"src", PadDirection::src, PadPresence::always, src_caps()}};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        static_cast<void>(caps);
        static_cast<void>(from);
        return to.direction() == PadDirection::src ? src_caps() : sink_caps();
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        reset();
        return {};
    }

    Result<void> stop() override {
        reset();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return forward_event(pad, Event::caps(parsed_caps(event.caps_value())));
        case EventType::flush_stop:
            reset();
            return forward_event(pad, event);
        case EventType::eos:
            if (!pending_.empty()) {
                const std::string text =
                    fmt::format("{}: the stream ends inside a KLV packet: {} bytes left over in the packet at byte {}",
                                name(), pending_.size(), pending_start_);
                if (skip_invalid_.get()) {
                    context().warning(text);
                } else {
                    context().error(Error(Errc::corrupt, text));
                }
                reset();
            }
            return forward_event(pad, event);
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(buffer.data().data());
        if (buffer.empty()) {
            return Flow::ok;
        }
        marks_.push_back({pending_start_ + pending_.size(), buffer.meta().pts()});
        pending_.insert(pending_.end(), bytes, bytes + buffer.size());
        return drain();
    }

private:
    static Caps sink_caps() { return Caps::parse_static("meta/x-klv"); }
    static Caps src_caps() { return Caps::parse_static("meta/x-klv, parsed=(boolean)true"); }

    // The upstream caps with parsed=true (the fields upstream set are kept).
    static Caps parsed_caps(const Caps* in) {
        if (in == nullptr || in->size() == 0) {
            return src_caps();
        }
        Structure s = in->structure(0);
        s.set("parsed", true);
        Caps out;
        out.append(std::move(s), in->features(0));
        return out;
    }

    void reset() {
        pending_.clear();
        pending_start_ = 0;
        marks_.clear();
    }

    // The pts of the input buffer that held stream byte `offset`.
    ClockTime pts_at(std::uint64_t offset) const {
        ClockTime pts;
        for (const Mark& m : marks_) {
            if (m.offset > offset) {
                break;
            }
            pts = m.pts;
        }
        return pts;
    }

    // Pushes every whole packet in pending_, then drops the bytes consumed.
    Flow drain() {
        const std::span<const std::uint8_t> data(pending_);
        std::size_t pos = 0;
        Flow flow = Flow::ok;
        while (pos < data.size()) {
            const std::uint64_t packet_offset = pending_start_ + pos;
            auto size = klv::next_packet(data.subspan(pos), max_packet_size);
            if (!size) {
                if (!bad_packet(size.error(), packet_offset)) {
                    reset();
                    return Flow::error;
                }
                pos = klv::find_key(data, pos + 1);
                continue;
            }
            if (!*size) {
                break; // the rest of the packet has not arrived
            }
            const auto packet = data.subspan(pos, **size);
            if (std::equal(klv::uas_local_set_key.begin(), klv::uas_local_set_key.end(), packet.begin())) {
                if (auto set = klv::UasLocalSet::parse(packet); !set) {
                    if (!bad_packet(set.error(), packet_offset)) {
                        reset();
                        return Flow::error;
                    }
                    pos = klv::find_key(data, pos + 1);
                    continue;
                }
            }
            flow = push_packet(packet, packet_offset);
            pos += packet.size();
            if (flow != Flow::ok && flow != Flow::dropped) {
                break;
            }
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pos));
        pending_start_ += pos;
        // Keep the mark in force at the new start and those after it.
        auto first_kept =
            std::find_if(marks_.begin(), marks_.end(), [this](const Mark& m) { return m.offset > pending_start_; });
        if (first_kept != marks_.begin()) {
            --first_kept;
        }
        marks_.erase(marks_.begin(), first_kept);
        return flow == Flow::dropped ? Flow::ok : flow;
    }

    // Reports a bad packet; true when parsing goes on (skip-invalid).
    bool bad_packet(const Error& error, std::uint64_t offset) {
        const std::string text = fmt::format("{}: {} in the packet at byte {}", name(), error.message(), offset);
        if (skip_invalid_.get()) {
            context().warning(text);
            return true;
        }
        context().error(Error(Errc::corrupt, text));
        return false;
    }

    Flow push_packet(std::span<const std::uint8_t> packet, std::uint64_t offset) {
        auto out = context().allocate(packet.size());
        if (!out) {
            return context().error(out.error());
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            return context().error(bytes.error());
        }
        std::memcpy(bytes->data(), packet.data(), packet.size());
        out->meta().set_pts(pts_at(offset));
        out->meta().set_byte_offset(offset);
        return src_->push(std::move(*out));
    }

    struct Mark {
        std::uint64_t offset; // stream offset of the buffer's first byte
        ClockTime pts;
    };

    static constexpr std::size_t max_packet_size = klv::default_max_packet_size;

    Pad* src_ = nullptr;
    std::vector<std::uint8_t> pending_; // bytes not yet pushed
    std::uint64_t pending_start_ = 0;   // stream offset of pending_[0]
    std::vector<Mark> marks_;
    Property<bool> skip_invalid_{this, "skip-invalid", false,
                                 "Drop bad packets with a warning and resume at the next key, instead of an error",
                                 Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::KlvParse);
