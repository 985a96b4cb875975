// filesrc: reads a file into buffers, with reads in flight ahead of the
// stream through io_uring (plain reads where io_uring does not help).

#include "io/uring_file.hpp"

#include <parallax/element.hpp>

#include <fmt/format.h>

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
                                      .description = "Reads a file in blocks of blocksize bytes, several reads in "
                                                     "flight ahead of the stream (io_uring)."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h = ExecutionHints::io_bound();
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
        sent_ = 0;
        ended_ = false;
        return SimpleSource::start();
    }

    Result<void> stop() override {
        if (reader_) {
            reader_->cancel();
        }
        inflight_.clear();
        reader_.reset();
        return {};
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        const std::int32_t limit = num_buffers_.get();
        if (limit >= 0 && sent_ >= static_cast<std::uint64_t>(limit)) {
            return Flow::eos;
        }
        // Keep the reads ahead in flight, each into a buffer of its own.
        while (!ended_ && inflight_.size() < reader_->depth()) {
            auto b = ctx.allocate(blocksize_.get());
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
        b.meta().set_sequence(sent_++);
        out = std::move(b);
        return Flow::ok;
    }

private:
    static constexpr unsigned read_ahead = 4;

    std::optional<detail::UringReader> reader_;
    std::deque<Buffer> inflight_;
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
