// filesrc: reads a file into buffers, with reads in flight ahead of the
// stream through io_uring (plain reads where io_uring does not help).
//
// Small blocks are not read one system call each: a read fills a slot with
// several blocks (up to about 256 KiB), and the buffers pushed downstream are
// blocksize-byte slices of that slot, sharing it without a copy. A sink that
// sees consecutive slices of one slot (filesink does) can write them back in
// one system call, again without a copy. As slices share their slot, an
// element that wants to write into one gets a copy (copy-on-write).

#include "io/uring_file.hpp"

#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>

namespace parallax {
namespace {

class FileSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "filesrc",
                                      .klass = "Source/File",
                                      .summary = "Read from arbitrary point in a file",
                                      .description = "Reads a file in buffers of blocksize bytes; small blocks are "
                                                     "read about 256 KiB at a time and pushed as slices of one "
                                                     "slot, several reads in flight ahead of the stream (io_uring)."};
    // Not io-bound: several reads are in flight ahead of the stream
    // (io_uring), so the streaming thread waits on the disk only when it
    // has caught up with the device, and a thread boundary behind the
    // source (one hop per buffer) would cost more than it hides.
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.trust_level = TrustLevel::semi_trusted;
        return h;
    }();

protected:
    Result<void> start() override {
        const std::string path = location_.get();
        if (path.empty()) {
            return fail(Error(Errc::invalid_argument, fmt::format("{}: no file to read: set location", name()))
                            .at_element(name()));
        }
        auto reader = detail::UringReader::open(path, read_ahead);
        if (!reader) {
            return fail(Error(reader.error()).at_element(name()));
        }
        reader_.emplace(std::move(*reader));
        inflight_.clear();
        chunk_.reset();
        chunk_pos_ = 0;
        sent_ = 0;
        ended_ = false;
        return SimpleSource::start();
    }

    Result<void> stop() override {
        if (reader_) {
            reader_->cancel();
        }
        inflight_.clear();
        chunk_.reset();
        reader_.reset();
        return {};
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        const std::int32_t limit = num_buffers_.get();
        if (limit >= 0 && sent_ >= static_cast<std::uint64_t>(limit)) {
            return Flow::eos;
        }
        if (!chunk_.valid()) {
            if (const Flow f = next_chunk(ctx); f != Flow::ok) {
                return f;
            }
        }
        const std::size_t left = chunk_.size() - chunk_pos_;
        const std::size_t size = std::min<std::size_t>(left, blocksize_.get());
        if (size == chunk_.size()) {
            out = std::move(chunk_); // one block per read: hand the slot over as it is
        } else {
            auto slice = chunk_.slice(chunk_pos_, size);
            if (!slice) {
                return ctx.error(slice.error());
            }
            out = std::move(*slice);
            out.meta().set_byte_offset(chunk_offset_ + chunk_pos_);
            chunk_pos_ += size;
            if (chunk_pos_ == chunk_.size()) {
                chunk_.reset();
            }
        }
        out.meta().set_sequence(sent_++);
        return Flow::ok;
    }

private:
    static constexpr unsigned read_ahead = 4;
    // Blocks smaller than this are read several at a time.
    static constexpr std::size_t read_target = std::size_t{256} << 10;

    // Bytes per read: a whole number of blocks, about read_target.
    [[nodiscard]] std::size_t read_size() const {
        const std::size_t block = blocksize_.get();
        return block >= read_target ? block : block * (read_target / block);
    }

    // Waits for the oldest read and makes it the current chunk, keeping the
    // reads ahead in flight, each into a slot of its own.
    Flow next_chunk(SourceContext& ctx) {
        const std::size_t bytes_per_read = read_size();
        while (!ended_ && inflight_.size() < reader_->depth()) {
            auto b = ctx.allocate(bytes_per_read);
            if (!b) {
                return ctx.error(b.error());
            }
            auto bytes = b->map_writable();
            if (!bytes) {
                return ctx.error(bytes.error());
            }
            if (auto ok = reader_->submit(*bytes, 0); !ok) {
                return ctx.error(ok.error());
            }
            inflight_.push_back(std::move(*b));
        }
        if (inflight_.empty()) {
            return Flow::eos;
        }
        auto done = reader_->wait();
        Buffer b = std::move(inflight_.front());
        inflight_.pop_front();
        if (!done) {
            return ctx.error(done.error());
        }
        if (done->bytes == 0) {
            // End of file: what is still in flight reads past it too.
            ended_ = true;
            reader_->cancel();
            inflight_.clear();
            return Flow::eos;
        }
        if (auto ok = b.resize(done->bytes); !ok) {
            return ctx.error(ok.error());
        }
        b.meta().set_byte_offset(done->offset);
        chunk_offset_ = done->offset;
        chunk_pos_ = 0;
        chunk_ = std::move(b);
        return Flow::ok;
    }

    std::optional<detail::UringReader> reader_;
    std::deque<Buffer> inflight_;
    Buffer chunk_;                  // the read being handed out in slices
    std::uint64_t chunk_offset_ = 0; // its position in the file
    std::size_t chunk_pos_ = 0;      // bytes of it already handed out
    std::uint64_t sent_ = 0;
    bool ended_ = false;

    Property<std::string> location_{this, "location", "", "Location of the file to read"};
    Property<std::uint32_t> blocksize_{this, "blocksize", 4096, "Size in bytes to read per buffer", {1, 1U << 30}};
    Property<std::int32_t> num_buffers_{this, "num-buffers", -1,
                                        "Number of buffers to output before sending EOS (-1 = unlimited)",
                                        {-1, std::numeric_limits<std::int32_t>::max()}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::FileSrc);
