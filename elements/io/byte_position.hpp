#pragma once

// BytePosition: where a sink that writes a byte stream (filesink, fdsink)
// stands, for byte segments. Byte 0 of the stream is at `base` of the output
// (where writing started: 0, or the end of the file when appending); a byte
// segment moves the next byte to base + its start, as in GStreamer's
// filesink, for a muxer that rewrites its header at the end. An output that
// cannot seek (a pipe, a character device, a descriptor open for appending)
// cannot go back, and bytes written where they do not belong would corrupt
// what is already out, so a segment elsewhere has its data dropped until a
// segment comes back to the position reached.
//
// The sink does the I/O; this keeps the offsets, decides, words the warning
// and answers the seeking query (from any thread: seekable is fixed at
// reset(), in start()).

#include <parallax/element.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace parallax::detail {

class BytePosition {
public:
    // What a byte segment asks of the sink.
    enum class Move {
        none, // already there: go on writing
        seek, // seek to target(), then seeked()
        drop, // the output cannot seek: drop the data (warn_dropping())
    };

    // A new stream, at offset `base` of an output that can or cannot seek.
    void reset(std::uint64_t base, bool seekable) noexcept {
        base_ = base;
        position_ = base;
        target_ = base;
        dropping_ = false;
        seekable_.store(seekable, std::memory_order_relaxed);
    }

    // A byte segment from `start` of the stream.
    Move segment(std::uint64_t start) noexcept {
        target_ = base_ + start;
        if (target_ == position_) {
            dropping_ = false;
            return Move::none;
        }
        if (!seekable()) {
            dropping_ = true;
            return Move::drop;
        }
        return Move::seek;
    }

    // The output offset a Move::seek goes to.
    [[nodiscard]] std::uint64_t target() const noexcept { return target_; }
    // The seek to target() is done.
    void seeked() noexcept {
        position_ = target_;
        dropping_ = false;
    }
    // `n` more bytes were written.
    void advance(std::uint64_t n) noexcept { position_ += n; }

    // In a segment whose data is dropped.
    [[nodiscard]] bool dropping() const noexcept { return dropping_; }
    [[nodiscard]] bool seekable() const noexcept { return seekable_.load(std::memory_order_relaxed); }

    // The warning of a Move::drop: `output` names what cannot seek ("/x",
    // "fd 3") and `why` says why.
    void warn_dropping(ElementContext& ctx, std::string_view element, std::string_view output,
                       std::string_view why) const {
        ctx.warning(fmt::format("{}: cannot seek to byte {} in {}: {}; dropping the data of that segment", element,
                                target_ - base_, output, why),
                    fmt::format("{} bytes written so far stay as they are", position_ - base_));
    }

    // Answers a seeking query as GStreamer's filesink does: in bytes,
    // seekable from byte 0 of the stream on when the output can seek; in
    // any other format, not seekable.
    void answer(Query& q) const noexcept { q.set_seeking(q.format() == Format::bytes && seekable(), 0, std::nullopt); }

private:
    std::uint64_t base_ = 0;     // output offset of byte 0 of the stream
    std::uint64_t position_ = 0; // output offset of the next byte written
    std::uint64_t target_ = 0;   // of the last byte segment
    bool dropping_ = false;
    std::atomic<bool> seekable_{false};
};

} // namespace parallax::detail
