// byteswap: reverses the byte order of every 16-, 32- or 64-bit word of
// the stream (big-endian samples or fields to little-endian and back).
// Words may straddle buffers: a partial word at the end of a buffer waits
// for the next one.

#include <parallax/element.hpp>
#include <parallax/plugin/plugin_descriptor.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

namespace {

using namespace parallax;

enum class Width { w16 = 16, w32 = 32, w64 = 64 };

constexpr EnumValue widths[] = {
    {16, "16-bit", "Swap the two bytes of each 16-bit word (S16BE <-> S16LE)"},
    {32, "32-bit", "Reverse the four bytes of each 32-bit word"},
    {64, "64-bit", "Reverse the eight bytes of each 64-bit word"},
};

void swap_words(std::span<std::byte> bytes, std::size_t width) {
    for (std::size_t i = 0; i + width <= bytes.size(); i += width) {
        std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                     bytes.begin() + static_cast<std::ptrdiff_t>(i + width));
    }
}

class ByteSwap final : public SimpleTransform {
public:
    static constexpr ElementInfo info{
        .factory = "byteswap",
        .klass = "Filter/Converter",
        .summary = "Reverse the byte order of every 16-, 32- or 64-bit word",
        .description = "Swaps the bytes of each word of width bits, counting words from the start of the stream: "
                       "a word split between two buffers is completed from the next one (the output buffer is then "
                       "a new one, carrying the input's metadata). At eos, bytes that do not make up a whole word "
                       "are passed on unchanged, with a warning. Caps pass through unchanged."};
    static constexpr ExecutionHints hints = [] {
        ExecutionHints h;
        h.memory = MemoryHint::streaming;
        return h;
    }();

protected:
    Result<void> start() override {
        pending_size_ = 0;
        return SimpleTransform::start();
    }

    Flow transform(Buffer& buffer, TransformContext& ctx) override {
        const auto width = static_cast<std::size_t>(width_.get()) / 8;
        if (pending_size_ == 0 && buffer.size() % width == 0) {
            auto bytes = buffer.map_writable(); // copies only if shared
            if (!bytes) {
                return ctx.error(bytes.error());
            }
            swap_words(*bytes, width);
            return Flow::ok;
        }
        // A word straddles buffers: join the pending bytes and this buffer,
        // keep the new partial word for the next one.
        const std::size_t total = pending_size_ + buffer.size();
        const std::size_t whole = total - total % width;
        const auto in = buffer.data();
        if (whole == 0) {
            std::memcpy(pending_.data() + pending_size_, in.data(), in.size());
            pending_size_ = total;
            return Flow::dropped;
        }
        auto out = ctx.allocate(whole);
        if (!out) {
            return ctx.error(out.error());
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            return ctx.error(bytes.error());
        }
        const std::size_t from_input = whole - pending_size_;
        std::memcpy(bytes->data(), pending_.data(), pending_size_);
        std::memcpy(bytes->data() + pending_size_, in.data(), from_input);
        swap_words(*bytes, width);
        pending_size_ = in.size() - from_input;
        std::memcpy(pending_.data(), in.data() + from_input, pending_size_);
        out->meta() = buffer.meta();
        buffer = std::move(*out);
        return Flow::ok;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::flush_stop) {
            pending_size_ = 0;
        } else if (event.type() == EventType::eos && pending_size_ > 0) {
            flush_partial_word();
        }
        return SimpleTransform::sink_event(pad, std::move(event));
    }

private:
    void flush_partial_word() {
        context().warning(fmt::format("the stream ended inside a {}-bit word: its last {} bytes were passed on "
                                      "unswapped",
                                      static_cast<int>(width_.get()), pending_size_));
        auto out = context().allocate(pending_size_);
        if (out) {
            if (auto bytes = out->map_writable()) {
                std::memcpy(bytes->data(), pending_.data(), pending_size_);
                static_cast<void>(src_pad().push(std::move(*out)));
            }
        }
        pending_size_ = 0;
    }

    Property<Width> width_{this, "width", Width::w16, "The width of a word in bits", widths};

    std::array<std::byte, 8> pending_{};
    std::size_t pending_size_ = 0;
};

} // namespace

PARALLAX_REGISTER_ELEMENT(ByteSwap);
