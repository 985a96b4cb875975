// Fuzz target for the bytes an ipc peer controls (include/parallax/ipc/):
// the ring header (detail::validate_ring_header), the handshake frames
// (hello, arena offer, arena ack), ring records (buffer reference + metadata,
// compact buffer records, serialized events, both directions), and a ring whose record area is the input.
//
// Input: one selector byte, then the bytes. Every decoder must either succeed
// or return an Error with a message; nothing may crash or read out of bounds.
#include <parallax/buffer/metadata.hpp>
#include <parallax/ipc/ipc_message.hpp>
#include <parallax/ipc/shm_ring.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

namespace {

template <typename R>
void check(const R& r) {
    if (!r && r.error().message().empty()) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace parallax;
    if (size == 0) {
        return 0;
    }
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    switch (data[0] % 6) {
    case 0:
        check(detail::validate_ring_header(bytes, bytes.size()));
        break;
    case 1:
        check(decode_hello(bytes));
        check(decode_arena_offer(bytes));
        check(decode_arena_ack(bytes));
        break;
    case 2: {
        auto ref = decode_buffer_ref(bytes);
        check(ref);
        if (ref) {
            check(Metadata::deserialize(bytes.subspan(IpcBufferRef::encoded_size)));
        }
        check(decode_compact_buffer(bytes));
        break;
    }
    case 3: {
        auto event = decode_event(bytes);
        check(event);
        auto upstream = decode_upstream_event(bytes);
        check(upstream);
        if (upstream && !encode_event(*upstream)) {
            std::abort();
        }
        if (event) {
            // What decodes encodes again.
            auto again = encode_event(*event);
            if (!again) {
                std::abort();
            }
        }
        break;
    }
    default: {
        // A ring whose record area (and counters) come from the input: the
        // consumer must stop at the first bad record.
        ShmRingConfig config;
        config.data_size = 4096;
        auto producer = ShmRing::create(config);
        if (!producer) {
            return 0;
        }
        auto fd = producer->dup_fd();
        if (!fd) {
            return 0;
        }
        auto mapping = Segment::map(std::move(*fd));
        if (!mapping) {
            return 0;
        }
        auto consumer = ShmRing::attach(std::move(*producer->dup_fd()));
        if (!consumer) {
            std::abort();
        }
        std::memcpy(mapping->data() + 256, bytes.data(), std::min<std::size_t>(bytes.size(), 4096));
        // tail: how much the hostile producer claims to have written.
        std::uint64_t tail = bytes.empty() ? 0 : (std::to_integer<std::uint64_t>(bytes[0]) * 64) % 9000;
        std::memcpy(mapping->data() + 64, &tail, 8);
        for (int i = 0; i < 64; ++i) {
            auto rec = consumer->try_read();
            check(rec);
            if (!rec || !*rec) {
                break;
            }
            if ((*rec)->payload.data() < mapping->data() && (*rec)->payload.size() > 4096) {
                std::abort();
            }
            consumer->consume(false);
        }
        break;
    }
    }
    return 0;
}
