// testsrc: buffers filled with a known byte pattern, for testing and
// benchmarking pipelines (the original Parallax's TestSrc, with GStreamer's
// source property names).

#include <parallax/element.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace parallax {
namespace {

enum class Pattern { zero = 0, ones = 1, counter = 2, random = 3, alternating = 4, sequence = 5 };

constexpr EnumValue patterns[] = {
    {0, "zero", "Every byte 0x00"},
    {1, "ones", "Every byte 0xff"},
    {2, "counter", "0x00, 0x01 ... 0xff, 0x00 ..., continuing from one buffer into the next"},
    {3, "random", "xorshift64 output (shifts 13, 7, 17) from seed, 8 bytes little-endian per step, across buffers"},
    {4, "alternating", "0x55, 0xaa, 0x55 ..., starting again with 0x55 in every buffer"},
    {5, "sequence", "The buffer's sequence number as 8 little-endian bytes, repeated"},
};

// The original's default seed, so that `pattern=random` gives the same bytes
// in both implementations.
constexpr std::uint64_t default_seed = 0x853c49e6748fea9bULL;

class TestSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{
        .factory = "testsrc",
        .klass = "Source",
        .summary = "Produce buffers filled with a test byte pattern",
        .description = "Fills each buffer of blocksize bytes with a pattern (zero, ones, counter, random, "
                       "alternating, sequence) that a test can recompute. With datarate the buffers carry "
                       "timestamps; with is-live as well they leave at those times."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.memory = MemoryHint::streaming;
        return h;
    }();

protected:
    Result<void> start() override {
        sent_ = 0;
        bytes_ = 0;
        counter_ = 0;
        rng_ = seed_.get();
        return SimpleSource::start();
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        const std::int64_t limit = num_buffers_.get();
        if (limit >= 0 && sent_ >= static_cast<std::uint64_t>(limit)) {
            return Flow::eos;
        }
        const auto size = static_cast<std::size_t>(blocksize_.get());
        auto buffer = ctx.allocate(size);
        if (!buffer) {
            return ctx.error(buffer.error());
        }
        if (size > 0) {
            auto bytes = buffer->map_writable();
            if (!bytes) {
                return ctx.error(bytes.error());
            }
            fill(*bytes);
        }
        Metadata& m = buffer->meta();
        m.set_sequence(sent_);
        m.set_byte_offset(bytes_);
        if (const std::uint64_t rate = datarate_.get(); rate > 0) {
            const ClockTime pts = at_byte(bytes_, rate);
            m.set_pts(pts);
            m.set_duration(at_byte(bytes_ + size, rate) - pts);
            if (is_live_.get()) {
                m.set_flag(BufferFlags::live);
                if (const Flow f = ctx.wait_until(pts); f != Flow::ok) {
                    return f;
                }
            }
        }
        ++sent_;
        bytes_ += size;
        out = std::move(*buffer);
        return Flow::ok;
    }

private:
    // The time at which byte `offset` flows at `rate` bytes per second;
    // long double keeps it exact to the nanosecond for any realistic offset.
    static ClockTime at_byte(std::uint64_t offset, std::uint64_t rate) {
        const long double ns = static_cast<long double>(offset) * ClockTime::ns_per_s / static_cast<long double>(rate);
        return ClockTime::from_ns(static_cast<ClockTime::rep>(ns));
    }

    std::uint64_t next_random() noexcept {
        std::uint64_t x = rng_;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rng_ = x;
        return x;
    }

    void fill(std::span<std::byte> bytes) {
        switch (pattern_.get()) {
        case Pattern::zero:
            std::memset(bytes.data(), 0x00, bytes.size());
            break;
        case Pattern::ones:
            std::memset(bytes.data(), 0xff, bytes.size());
            break;
        case Pattern::counter:
            for (auto& b : bytes) {
                b = static_cast<std::byte>(counter_++);
            }
            break;
        case Pattern::random:
            for (std::size_t i = 0; i < bytes.size(); i += 8) {
                std::uint64_t r = next_random();
                // Little-endian whatever the host: the bytes are part of the
                // documented pattern.
                for (std::size_t k = 0; k < 8 && i + k < bytes.size(); ++k, r >>= 8) {
                    bytes[i + k] = static_cast<std::byte>(r & 0xff);
                }
            }
            break;
        case Pattern::alternating:
            for (std::size_t i = 0; i < bytes.size(); ++i) {
                bytes[i] = std::byte{i % 2 == 0 ? std::uint8_t{0x55} : std::uint8_t{0xaa}};
            }
            break;
        case Pattern::sequence: {
            std::array<std::byte, 8> seq{};
            for (std::size_t k = 0; k < seq.size(); ++k) {
                seq[k] = static_cast<std::byte>((sent_ >> (8 * k)) & 0xff);
            }
            for (std::size_t i = 0; i < bytes.size(); ++i) {
                bytes[i] = seq[i % seq.size()];
            }
            break;
        }
        }
    }

    std::uint64_t sent_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint8_t counter_ = 0;
    std::uint64_t rng_ = default_seed;

    Property<Pattern> pattern_{this, "pattern", Pattern::zero, "The byte pattern to fill buffers with", patterns};
    Property<std::int64_t> num_buffers_{this,
                                        "num-buffers",
                                        -1,
                                        "Number of buffers to output before sending EOS (-1 = unlimited)",
                                        {-1, std::numeric_limits<std::int64_t>::max()}};
    Property<std::uint32_t> blocksize_{
        this, "blocksize", 4096, "Size in bytes of each buffer", {0, std::numeric_limits<std::int32_t>::max()}};
    Property<std::uint64_t> seed_{this,
                                  "seed",
                                  default_seed,
                                  "Start value of the random pattern's generator (the same seed gives the same bytes)",
                                  {1, std::numeric_limits<std::uint64_t>::max()}};
    Property<std::uint64_t> datarate_{this, "datarate", 0,
                                      "Timestamps buffers as if the data flowed at this many bytes per second (0 = "
                                      "no timestamps)"};
    Property<bool> is_live_{this, "is-live", false,
                            "Act as a live source: with datarate, each buffer leaves at its timestamp"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::TestSrc);
