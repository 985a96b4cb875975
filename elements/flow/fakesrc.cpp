// fakesrc: produces buffers of configurable size and content (GStreamer's
// fakesrc, with the properties users script against).

#include <parallax/element.hpp>

#include <cstring>
#include <limits>
#include <random>

namespace parallax {
namespace {

enum class SizeType { empty = 1, fixed = 2, random = 3 };
enum class FillType { nothing = 1, zero = 2, random = 3, pattern = 4, pattern_span = 5 };

constexpr EnumValue size_types[] = {
    {1, "empty", "Send empty buffers"},
    {2, "fixed", "Fixed size buffers (sizemax sized)"},
    {3, "random", "Random sized buffers (sizemin <= size <= sizemax)"},
};
constexpr EnumValue fill_types[] = {
    {1, "nothing", "Leave data as malloced"},
    {2, "zero", "Fill buffers with zeros"},
    {3, "random", "Fill buffers with random data"},
    {4, "pattern", "Fill buffers with pattern 0x00 -> 0xff"},
    {5, "pattern-span", "Fill buffers with pattern 0x00 -> 0xff that spans buffers"},
};

class FakeSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{.factory = "fakesrc",
                                      .klass = "Source",
                                      .summary = "Push empty (no data) buffers around",
                                      .description = "Produces buffers of a chosen size and content, timestamped "
                                                     "from datarate, optionally paced as a live source."};

protected:
    Result<void> start() override {
        sent_ = 0;
        bytes_ = 0;
        span_ = 0;
        rng_.seed(0x5eed);
        return SimpleSource::start();
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        const std::int32_t limit = num_buffers_.get();
        if (limit >= 0 && sent_ >= static_cast<std::uint64_t>(limit)) {
            return Flow::eos;
        }
        std::size_t size = 0;
        switch (size_type_.get()) {
        case SizeType::empty:
            size = 0;
            break;
        case SizeType::fixed:
            size = static_cast<std::size_t>(size_max_.get());
            break;
        case SizeType::random: {
            const auto lo = static_cast<std::size_t>(std::min(size_min_.get(), size_max_.get()));
            const auto hi = static_cast<std::size_t>(size_max_.get());
            size = lo + (hi > lo ? rng_() % (hi - lo + 1) : 0);
            break;
        }
        }
        auto buffer = ctx.allocate(size);
        if (!buffer) {
            return ctx.error(buffer.error());
        }
        if (size > 0) {
            fill(*buffer);
        }
        Metadata& m = buffer->meta();
        m.set_sequence(sent_);
        m.set_byte_offset(bytes_);
        const std::int32_t rate = datarate_.get();
        if (rate > 0) {
            const auto pts = ClockTime::from_ns(static_cast<std::int64_t>(bytes_ * 1'000'000'000ULL / static_cast<std::uint64_t>(rate)));
            m.set_pts(pts);
            m.set_duration(ClockTime::from_ns(static_cast<std::int64_t>(size * 1'000'000'000ULL / static_cast<std::uint64_t>(rate))));
            if (is_live_.get()) {
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
    void fill(Buffer& b) {
        auto bytes = b.map_writable();
        if (!bytes) {
            return;
        }
        switch (fill_type_.get()) {
        case FillType::nothing:
            break;
        case FillType::zero:
            std::memset(bytes->data(), 0, bytes->size());
            break;
        case FillType::random:
            for (auto& x : *bytes) {
                x = static_cast<std::byte>(rng_());
            }
            break;
        case FillType::pattern:
            for (std::size_t i = 0; i < bytes->size(); ++i) {
                (*bytes)[i] = static_cast<std::byte>(i);
            }
            break;
        case FillType::pattern_span:
            for (auto& x : *bytes) {
                x = static_cast<std::byte>(span_++);
            }
            break;
        }
    }

    std::uint64_t sent_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint8_t span_ = 0;
    std::minstd_rand rng_;

    Property<std::int32_t> num_buffers_{this, "num-buffers", -1,
                                        "Number of buffers to output before sending EOS (-1 = unlimited)",
                                        {-1, std::numeric_limits<std::int32_t>::max()}};
    Property<SizeType> size_type_{this, "sizetype", SizeType::empty, "How to determine the size of each buffer",
                                  size_types};
    Property<std::int32_t> size_min_{this, "sizemin", 0, "Minimum buffer size (sizetype=random)",
                                     {0, std::numeric_limits<std::int32_t>::max()}};
    Property<std::int32_t> size_max_{this, "sizemax", 4096, "Maximum buffer size",
                                     {0, std::numeric_limits<std::int32_t>::max()}};
    Property<FillType> fill_type_{this, "filltype", FillType::nothing, "How to fill the buffer, if at all",
                                  fill_types};
    Property<bool> is_live_{this, "is-live", false,
                            "Act as a live source: with datarate, each buffer leaves at its timestamp"};
    Property<std::int32_t> datarate_{this, "datarate", 0,
                                     "Timestamps buffers as if the data flowed at this many bytes per second (0 = "
                                     "no timestamps)",
                                     {0, std::numeric_limits<std::int32_t>::max()}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::FakeSrc);
PARALLAX_REGISTER_ALIAS("nullsource", "fakesrc");
