// filesink: writes buffers to a file, with writes in flight through io_uring
// (plain writes where io_uring does not help); small buffers are gathered up
// to buffer-size bytes per write.
//
// Gathering copies only when it must: consecutive buffers that are adjacent
// slices of one slot (as filesrc pushes them) are written straight from the
// slot in one system call. Other small buffers are copied into a staging
// block.
//
// A segment in bytes says where its data goes, as in GStreamer's filesink: a
// muxer that knows its header only at the end (ivfmux's frame count) sends a
// byte segment from 0 and the header again. The sink writes what it holds at
// the old position, then continues at the segment's start. The seeking
// query (in bytes) tells such a muxer beforehand whether the file can seek:
// a regular file or a block device can, a pipe or a character device
// cannot (there a segment that goes elsewhere has its data dropped, with a
// warning). With append, byte 0 of the stream is the old end of the file.

#include <parallax/element.hpp>

#include "io/byte_position.hpp"
#include "io/uring_file.hpp"

#include <fmt/format.h>

#include <cstring>
#include <deque>
#include <optional>
#include <vector>

namespace parallax {
namespace {

class FileSink final : public SimpleSink {
public:
    static constexpr ElementInfo info{.factory = "filesink",
                                      .klass = "Sink/File",
                                      .summary = "Write stream to a file",
                                      .description = "Writes buffers to a file, several writes in flight "
                                                     "(io_uring); buffers smaller than buffer-size are gathered, "
                                                     "adjacent slices of one slot without a copy. A byte "
                                                     "segment moves the write position to its start (a muxer "
                                                     "rewriting its header); where the file cannot seek (a "
                                                     "pipe, a device) that segment's data is dropped with a "
                                                     "warning. Answers the seeking query in bytes."};
    static constexpr ExecutionHints hints = ExecutionHints::io_bound();

protected:
    Result<void> start() override {
        const std::string path = location_.get();
        if (path.empty()) {
            return fail(Error(Errc::invalid_argument, fmt::format("{}: no file to write: set location", name()))
                            .at_element(name()));
        }
        auto writer = detail::UringWriter::open(path, append_.get(), write_depth);
        if (!writer) {
            return fail(Error(writer.error()).at_element(name()));
        }
        writer_.emplace(std::move(*writer));
        position_.reset(writer_->offset(), writer_->seekable());
        inflight_.clear();
        run_.reset();
        run_size_ = 0;
        staging_.clear();
        for (auto& s : spare_) {
            s.clear();
        }
        return {};
    }

    Result<void> stop() override {
        Result<void> result;
        if (writer_) {
            result = drain();
        }
        writer_.reset();
        if (!result) {
            return fail(Error(result.error()).at_element(name()));
        }
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::eos && writer_) {
            if (auto ok = drain(); !ok) {
                context().error(ok.error());
                return false;
            }
        }
        if (event.type() == EventType::segment && writer_ && event.segment_value()->format == Format::bytes) {
            if (!move_to(event.segment_value()->start)) {
                return false;
            }
        }
        return SimpleSink::sink_event(pad, std::move(event));
    }

    bool query(Pad& pad, Query& q) override {
        if (q.type() == QueryType::seeking) {
            position_.answer(q);
            return true;
        }
        return SimpleSink::query(pad, q);
    }

    Flow render(Buffer& buffer, SinkContext& ctx) override {
        if (buffer.empty() || position_.dropping()) {
            return Flow::ok;
        }
        position_.advance(buffer.size());
        const std::size_t gather = buffer_size_.get();
        if (buffer.size() >= gather) {
            // Large enough on its own: write straight from the buffer.
            if (auto ok = flush_gathered(); !ok) {
                return ctx.error(ok.error());
            }
            const std::span<const std::byte> bytes = buffer.data(); // before the buffer moves
            if (auto ok = submit(bytes, Pending{std::move(buffer), {}}); !ok) {
                return ctx.error(ok.error());
            }
            return Flow::ok;
        }
        if (run_.valid()) {
            if (extends_run(buffer)) {
                run_size_ += buffer.size();
                return run_size_ >= gather ? checked(flush_run(), ctx) : Flow::ok;
            }
            // The run ends here: write it as it is when it is worth a system
            // call of its own, otherwise copy it to start a staging block.
            if (auto ok = run_size_ >= gather / 2 ? flush_run() : stage_run(); !ok) {
                return ctx.error(ok.error());
            }
        }
        if (staging_.empty()) {
            // Nothing gathered: this buffer may start a run.
            run_ = std::move(buffer);
            run_size_ = run_.size();
            return Flow::ok;
        }
        if (staging_.size() + buffer.size() > gather) {
            if (auto ok = flush_staging(); !ok) {
                return ctx.error(ok.error());
            }
            run_ = std::move(buffer);
            run_size_ = run_.size();
            return Flow::ok;
        }
        const auto bytes = buffer.data();
        staging_.insert(staging_.end(), bytes.begin(), bytes.end());
        return staging_.size() >= gather ? checked(flush_staging(), ctx) : Flow::ok;
    }

private:
    static constexpr unsigned write_depth = 4;

    // What a write in flight keeps alive: the buffer it writes from, or the
    // gathered bytes.
    struct Pending {
        Buffer buffer;
        std::vector<std::byte> bytes;
    };

    Result<void> submit(std::span<const std::byte> data, Pending keep) {
        if (writer_->pending() >= writer_->depth()) {
            if (auto ok = complete_oldest(); !ok) {
                return ok;
            }
        }
        inflight_.push_back(std::move(keep));
        const std::span<const std::byte> src =
            inflight_.back().bytes.empty() ? data : std::span<const std::byte>(inflight_.back().bytes);
        return writer_->submit(src, 0);
    }

    Result<void> complete_oldest() {
        auto done = writer_->wait();
        Pending p = std::move(inflight_.front());
        inflight_.pop_front();
        if (!p.bytes.empty()) {
            // Reuse the gathering memory for the next batch.
            p.bytes.clear();
            spare_.push_back(std::move(p.bytes));
        }
        if (!done) {
            return fail(done.error());
        }
        return {};
    }

    static Flow checked(Result<void> ok, SinkContext& ctx) { return ok ? Flow::ok : ctx.error(ok.error()); }

    // The next bytes of the run's slot, right after the run?
    [[nodiscard]] bool extends_run(const Buffer& b) const noexcept {
        return b.arena() == run_.arena() && b.slot() == run_.slot() && b.offset() == run_.offset() + run_size_;
    }

    // Writes the run from its slot; the run's first buffer keeps the slot
    // alive until the write completes.
    Result<void> flush_run() {
        const std::span<const std::byte> bytes(run_.arena()->slot_data(run_.slot()) + run_.offset(), run_size_);
        run_size_ = 0;
        return submit(bytes, Pending{std::move(run_), {}});
    }

    // Copies the run into the staging block (which is empty while a run is open).
    Result<void> stage_run() {
        if (staging_.capacity() < buffer_size_.get()) {
            staging_.reserve(buffer_size_.get());
        }
        const std::byte* first = run_.arena()->slot_data(run_.slot()) + run_.offset();
        staging_.insert(staging_.end(), first, first + run_size_);
        run_.reset();
        run_size_ = 0;
        return {};
    }

    // Writes whatever is gathered, run or staging block (never both).
    Result<void> flush_gathered() { return run_.valid() ? flush_run() : flush_staging(); }

    Result<void> flush_staging() {
        if (staging_.empty()) {
            return {};
        }
        std::vector<std::byte> next;
        if (!spare_.empty()) {
            next = std::move(spare_.back());
            spare_.pop_back();
        }
        Pending keep{Buffer(), std::move(staging_)};
        staging_ = std::move(next);
        return submit({}, std::move(keep));
    }

    // Continues writing at byte `start` of the stream. Everything gathered
    // or in flight is written first: it belongs at the old position, and the
    // writer moves only with nothing pending.
    bool move_to(std::uint64_t start) {
        const detail::BytePosition::Move move = position_.segment(start);
        if (move == detail::BytePosition::Move::none) {
            return true;
        }
        if (auto ok = drain(); !ok) {
            context().error(ok.error());
            return false;
        }
        if (move == detail::BytePosition::Move::drop) {
            position_.warn_dropping(context(), name(), writer_->path(), "it is not a regular file");
            return true;
        }
        if (auto ok = writer_->seek(position_.target()); !ok) {
            context().error(Error(ok.error()).at_element(name()));
            return false;
        }
        position_.seeked();
        return true;
    }

    Result<void> drain() {
        auto ok = flush_gathered();
        while (!inflight_.empty()) {
            auto done = complete_oldest();
            if (ok && !done) {
                ok = done;
            }
        }
        return ok;
    }

    std::optional<detail::UringWriter> writer_;
    std::deque<Pending> inflight_;
    Buffer run_;               // first of consecutive adjacent slices of one slot
    std::size_t run_size_ = 0; // bytes of the run
    std::vector<std::byte> staging_;
    std::vector<std::vector<std::byte>> spare_;
    detail::BytePosition position_;

    Property<std::string> location_{this, "location", "", "Location of the file to write"};
    Property<bool> append_{this, "append", false, "Append to an already existing file"};
    Property<std::uint32_t> buffer_size_{
        this, "buffer-size", 65536, "Buffers smaller than this are gathered into writes of this size", {1, 1U << 30}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::FileSink);
