#include <parallax/elements/flow/fakesink.hpp>
#include <parallax/video/video_meta.hpp>

#include <fmt/format.h>

namespace parallax {

namespace {
std::string hexdump(std::span<const std::byte> bytes) {
    std::string out;
    for (std::size_t line = 0; line < bytes.size(); line += 16) {
        out += fmt::format("{:08x}: ", line);
        std::string ascii;
        for (std::size_t i = line; i < line + 16; ++i) {
            if (i < bytes.size()) {
                const auto b = std::to_integer<unsigned>(bytes[i]);
                out += fmt::format("{:02x} ", b);
                ascii += (b >= 32 && b < 127) ? static_cast<char>(b) : '.';
            } else {
                out += "   ";
            }
        }
        out += " " + ascii + "\n";
    }
    return out;
}
} // namespace

void FakeSink::set_handoff(Handoff handoff) {
    std::lock_guard lock(handoff_mutex_);
    handoff_ = std::move(handoff);
}

Result<void> FakeSink::start() {
    count_ = 0;
    return {};
}

bool FakeSink::sink_event(Pad& pad, Event&& event) {
    if (!silent_.get()) {
        Structure s("last-message");
        s.set("value", fmt::format("event   ******* ({}:{}) E ({})", name(), pad.name(), event.to_string()));
        Message m;
        m.type = MessageType::property_notify;
        m.source = name();
        m.structure = std::move(s);
        context().host().post(std::move(m));
    }
    return SimpleSink::sink_event(pad, std::move(event));
}

bool FakeSink::query(Pad& pad, Query& q) {
    if (q.type() == QueryType::allocation) {
        // The bytes are not read here, except by a handoff, which may expect
        // the layout of the caps.
        if (!signal_handoffs_.get()) {
            q.add_meta(video_meta_api);
        }
        return true;
    }
    return SimpleSink::query(pad, q);
}

Flow FakeSink::render(Buffer& buffer, SinkContext& ctx) {
    const std::int32_t limit = num_buffers_.get();
    if (limit >= 0 && count_ >= static_cast<std::uint64_t>(limit)) {
        return Flow::eos;
    }
    if (sync_.get()) {
        if (const Flow f = wait_for_buffer_time(buffer); f != Flow::ok) {
            return f;
        }
    }
    ++count_;
    if (!silent_.get()) {
        const Metadata& m = buffer.meta();
        Structure s("last-message");
        s.set("value", fmt::format("chain   ******* ({}:sink) ({} bytes, pts: {}, dts: {}, duration: {}, offset: {}, "
                                   "flags: {:08x}) {:p}",
                                   name(), buffer.size(), m.pts().to_string(), m.dts().to_string(),
                                   m.duration().to_string(), m.byte_offset(), static_cast<unsigned>(m.flags()),
                                   static_cast<const void*>(buffer.data().data())));
        Message msg;
        msg.type = MessageType::property_notify;
        msg.source = name();
        msg.structure = std::move(s);
        ctx.host().post(std::move(msg));
    }
    if (dump_.get()) {
        Structure s("dump");
        s.set("data", hexdump(buffer.data()));
        ctx.post_element_message(std::move(s));
    }
    if (signal_handoffs_.get()) {
        std::lock_guard lock(handoff_mutex_);
        if (handoff_) {
            handoff_(buffer, sink_pad());
        }
    }
    // After the last accepted buffer upstream learns of the end through
    // Flow::eos and sends eos, which reaches this sink like any other.
    return limit >= 0 && count_ >= static_cast<std::uint64_t>(limit) ? Flow::eos : Flow::ok;
}

} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::FakeSink);
PARALLAX_REGISTER_ALIAS("nullsink", "fakesink");
