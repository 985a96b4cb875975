// concat: plays its sink pads one after the other. The first pad's stream
// goes out to its eos, then the next one's, and so on; data arriving early on
// a later pad waits for its turn. Segments are shifted so that running time
// (or byte position) goes on from where the previous stream ended.

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

namespace parallax {
namespace {

LogCategory concat_log("concat", "concat: plays streams one after the other");

class Concat final : public Element {
public:
    static constexpr ElementInfo info{.factory = "concat",
                                      .klass = "Generic",
                                      .summary = "Concatenate multiple streams",
                                      .description = "Outputs the stream of sink_0 to its end, then that of the next "
                                                     "sink pad, and so on; only the last eos goes downstream, and "
                                                     "segments are adjusted so that running time continues."};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink_%u", PadDirection::sink, PadPresence::request, Caps::any()},
                {"src", PadDirection::src, PadPresence::always, Caps::any()}};
    }

    void unblock() override {
        {
            std::lock_guard lock(lock_);
            stopping_ = true;
        }
        cond_.notify_all();
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        std::lock_guard lock(lock_);
        stopping_ = false;
        offset_ = 0;
        format_.reset();
        for (Input& in : inputs_) {
            in.segment = {};
            in.position.reset();
        }
        auto it = std::find_if(inputs_.begin(), inputs_.end(), [](const Input& in) { return in.pad->is_linked(); });
        current_ = it != inputs_.end() ? it->pad : nullptr;
        return {};
    }

    void pad_requested(Pad& pad) override {
        std::lock_guard lock(lock_);
        inputs_.push_back(Input{&pad});
    }

    void pad_releasing(Pad& pad) override {
        {
            std::lock_guard lock(lock_);
            if (current_ == &pad) {
                current_ = next_after(pad);
            }
            std::erase_if(inputs_, [&](const Input& in) { return in.pad == &pad; });
        }
        cond_.notify_all();
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        {
            std::unique_lock lock(lock_);
            if (!wait_turn(lock, pad)) {
                return Flow::flushing;
            }
            if (Input* in = find(pad)) {
                in->advance(buffer);
            }
        }
        // Only the current pad gets here, and it changes only on that pad's
        // own eos: one pusher at a time without holding the lock.
        return src_->push(std::move(buffer));
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::flush_start: {
            bool current = false;
            {
                std::lock_guard lock(lock_);
                current = current_ == &pad;
            }
            // Wakes this pad's wait: it sees the pad flushing.
            cond_.notify_all();
            return current ? forward_event(pad, event) : true;
        }
        case EventType::flush_stop: {
            std::lock_guard lock(lock_);
            if (Input* in = find(pad)) {
                in->position.reset();
                if (event.reset_time()) {
                    in->segment = {};
                }
            }
            if (current_ != &pad) {
                return true;
            }
            if (event.reset_time()) {
                offset_ = 0;
            }
            return src_->push_event(std::move(event));
        }
        case EventType::segment:
            return segment(pad, *event.segment_value());
        case EventType::eos:
            return eos(pad);
        default:
            break;
        }
        if (event.is_serialized()) {
            std::unique_lock lock(lock_);
            if (!wait_turn(lock, pad)) {
                return false;
            }
        }
        return forward_event(pad, event);
    }

private:
    struct Input {
        Pad* pad;
        StreamSegment segment{};
        std::optional<std::uint64_t> position{}; // The end of the last buffer, in the segment's format.

        void advance(const Buffer& b) {
            const Metadata& m = b.meta();
            if (segment.format == Format::time && m.pts().is_valid()) {
                position = m.pts().ns() + (m.duration().is_valid() ? m.duration().ns() : 0);
            } else if (segment.format == Format::bytes && m.has_byte_offset()) {
                position = m.byte_offset() + b.size();
            }
        }
    };

    Input* find(const Pad& pad) {
        auto it = std::find_if(inputs_.begin(), inputs_.end(), [&](const Input& in) { return in.pad == &pad; });
        return it == inputs_.end() ? nullptr : &*it;
    }

    // The next linked pad after `pad`, in request order. lock_ held.
    Pad* next_after(const Pad& pad) {
        auto it = std::find_if(inputs_.begin(), inputs_.end(), [&](const Input& in) { return in.pad == &pad; });
        if (it == inputs_.end()) {
            return nullptr;
        }
        it = std::find_if(std::next(it), inputs_.end(), [](const Input& in) { return in.pad->is_linked(); });
        return it == inputs_.end() ? nullptr : it->pad;
    }

    // Blocks until `pad` is the current one; false when the pad flushes or
    // the pipeline stops first.
    bool wait_turn(std::unique_lock<std::mutex>& lock, Pad& pad) {
        cond_.wait(lock, [&] { return stopping_ || pad.is_flushing() || current_ == &pad; });
        return !stopping_ && !pad.is_flushing();
    }

    bool segment(Pad& pad, const StreamSegment& in_segment) {
        StreamSegment out = in_segment;
        {
            std::unique_lock lock(lock_);
            Input* in = find(pad);
            if (in == nullptr) {
                return false;
            }
            in->segment = in_segment;
            if (!wait_turn(lock, pad)) {
                return false;
            }
            if (!format_) {
                format_ = in_segment.format;
            } else if (*format_ != in_segment.format) {
                lock.unlock();
                context().error(
                    Error(Errc::not_negotiated,
                          fmt::format("{}: {} sends a segment in {}, the streams before it were in {}", name(),
                                      pad.name(), to_string(in_segment.format), to_string(*format_)))
                        .at_pad(pad.name()));
                return false;
            }
            if (adjust_base_.get()) {
                if (out.format == Format::time) {
                    out.base += offset_;
                } else if (offset_ != 0) {
                    // Byte (and other) positions continue where the last
                    // stream ended.
                    out.start += offset_;
                    out.time += offset_;
                    out.position += offset_;
                    if (out.stop != ClockTime::none_ns) {
                        out.stop += offset_;
                    }
                }
            }
        }
        return src_->push_event(Event::segment(out));
    }

    bool eos(Pad& pad) {
        {
            std::unique_lock lock(lock_);
            if (!wait_turn(lock, pad)) {
                return false;
            }
            Pad* next = next_after(pad);
            if (next != nullptr) {
                if (const Input* in = find(pad)) {
                    offset_ += length_of(*in);
                }
                PARALLAX_DEBUG(concat_log, "{}: {} ended, {} goes on (offset {})", name(), pad.name(), next->name(),
                               offset_);
                current_ = next;
                lock.unlock();
                cond_.notify_all();
                return true;
            }
        }
        PARALLAX_DEBUG(concat_log, "{}: {} was the last stream: eos", name(), pad.name());
        return src_->push_event(Event::eos());
    }

    // How far the ended input took running time (time) or position (bytes):
    // GStreamer's accounting, from its segment stop, else its last position.
    static std::uint64_t length_of(const Input& in) {
        const StreamSegment& s = in.segment;
        if (s.format == Format::time) {
            std::uint64_t last = s.start;
            if (s.stop != ClockTime::none_ns) {
                last = s.stop;
            } else if (in.position) {
                last = std::max(*in.position, s.start);
            }
            const ClockTime rt = s.to_running_time(ClockTime::from_ns(last));
            return rt.is_valid() ? rt.ns() : 0;
        }
        if (s.stop != ClockTime::none_ns) {
            return s.stop;
        }
        return in.position.value_or(0);
    }

    Pad* src_ = nullptr;

    std::mutex lock_;
    std::condition_variable cond_;
    std::vector<Input> inputs_;
    Pad* current_ = nullptr;
    bool stopping_ = false;
    std::uint64_t offset_ = 0;
    std::optional<Format> format_;

    Property<bool> adjust_base_{this, "adjust-base", true,
                                "Adjust the base value of segments to ensure they are adjacent"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Concat);
