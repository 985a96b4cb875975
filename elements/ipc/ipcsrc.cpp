// ipcsrc: receives the stream of an ipcsink in another process. Connects to
// socket-path, maps the ring and every arena the producer offers (as a
// participant, so that its references are reclaimed if it dies), and turns
// ring records back into buffers (by reference) and events. Protocol and
// guarantees: docs/design/ipc.md.

#include <parallax/element.hpp>
#include <parallax/ipc/ipc_message.hpp>
#include <parallax/ipc/shm_ring.hpp>
#include <parallax/memory/arena_cache.hpp>
#include <parallax/memory/fd_channel.hpp>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace parallax {

namespace {

constexpr auto hello_timeout = std::chrono::seconds(5);
// create() gives the task back after this long without data, so that a
// pausing pipeline parks it.
constexpr auto idle_return = std::chrono::milliseconds(100);
constexpr auto poll_slice = std::chrono::milliseconds(10);

} // namespace

class IpcSrc final : public SimpleSource {
public:
    static constexpr ElementInfo info{
        .factory = "ipcsrc",
        .klass = "Source",
        .summary = "Receive buffers from an ipcsink in another process by reference",
        .description = "Connects to an ipcsink's socket-path and outputs its stream: caps, segment, tags, eos and "
                       "every buffer with its metadata, the bytes staying in the producer's shared memory. A producer "
                       "that dies ends the stream with an error. wait-mode=predict learns the rhythm of a live "
                       "stream and is awake when each buffer is due."};

    ~IpcSrc() override { static_cast<void>(stop()); }

    void unblock() override {
        stopping_.store(true, std::memory_order_release);
        if (ring_) {
            ring_->wake_consumer();
        }
    }

protected:
    Result<void> start() override {
        const std::string path = socket_path_.get();
        if (path.empty()) {
            return fail(
                Error(Errc::invalid_argument, fmt::format("{}: no producer to connect to: set socket-path", name()))
                    .at_element(name()));
        }
        auto channel = FdChannel::connect(path);
        if (!channel) {
            return fail(Error(channel.error().code(), fmt::format("{}: cannot connect to socket-path {}: {}", name(),
                                                                  path, channel.error().message()))
                            .at_element(name()));
        }
        auto hello = channel->receive_for(std::chrono::duration_cast<std::chrono::milliseconds>(hello_timeout));
        if (!hello) {
            return fail(Error(hello.error().code(), fmt::format("{}: no greeting from the producer at {}: {}", name(),
                                                                path, hello.error().message()))
                            .at_element(name()));
        }
        auto ring = handshake(*hello);
        if (!ring) {
            return fail(Error(ring.error().code(), fmt::format("{}: bad handshake from the producer at {}: {}", name(),
                                                               path, ring.error().message()))
                            .at_element(name()));
        }
        channel_.emplace(std::move(*channel));
        ring_.emplace(std::move(*ring));
        ring_->set_consumer_wait(wait_mode_.get());
        stopping_.store(false, std::memory_order_release);
        producer_gone_.store(false, std::memory_order_release);
        serving_.store(true, std::memory_order_release);
        service_ = std::thread([this] { serve(); });
        return SimpleSource::start();
    }

    Result<void> stop() override {
        serving_.store(false, std::memory_order_release);
        if (service_.joinable()) {
            service_.join();
        }
        if (ring_) {
            ring_->close_consumer();
        }
        ring_.reset();
        channel_.reset();
        local_arenas_.clear();
        local_by_offer_.clear();
        {
            std::lock_guard lock(arenas_mutex_);
            arenas_.clear();
            by_offer_.clear();
        }
        cache_ = ArenaCache();
        return {};
    }

    Flow create(Buffer& out, SourceContext& ctx) override {
        // Read the clock only once the ring is found empty: a busy stream
        // never needs it.
        std::optional<std::chrono::steady_clock::time_point> give_back;
        while (true) {
            if (stopping_.load(std::memory_order_acquire)) {
                return Flow::flushing;
            }
            auto record = ring_->try_read();
            if (!record) {
                return ctx.error(Error(record.error().code(), fmt::format("{}: {}", name(), record.error().message())));
            }
            if (!*record) {
                if (ring_->producer_closed()) {
                    return Flow::eos; // Stopped without eos: the stream ends here.
                }
                if (producer_gone_.load(std::memory_order_acquire)) {
                    if (ring_->producer_closed()) {
                        return Flow::eos;
                    }
                    std::lock_guard lock(arenas_mutex_);
                    return ctx.error(Error(Errc::closed, fmt::format("{}: the producer went away before the end of "
                                                                     "the stream ({})",
                                                                     name(), gone_reason_)));
                }
                const auto now = std::chrono::steady_clock::now();
                if (!give_back) {
                    give_back = now + idle_return;
                } else if (now > *give_back) {
                    return Flow::dropped;
                }
                ring_->wait_for_data(poll_slice);
                continue;
            }
            const ShmRecord rec = **record;
            switch (static_cast<IpcRecord>(rec.type)) {
            case IpcRecord::buffer: {
                auto f = take_buffer(rec.payload, out, ctx);
                if (f == Flow::dropped) {
                    continue;
                }
                return f;
            }
            case IpcRecord::compact_buffer: {
                auto f = take_compact_buffer(rec.payload, out, ctx);
                if (f == Flow::dropped) {
                    continue;
                }
                return f;
            }
            case IpcRecord::event: {
                scratch_.assign(rec.payload.begin(), rec.payload.end());
                ring_->consume(false);
                auto event = decode_event(scratch_);
                if (!event) {
                    return ctx.error(
                        Error(event.error().code(), fmt::format("{}: {}", name(), event.error().message())));
                }
                if (event->type() == EventType::eos) {
                    return Flow::eos;
                }
                if (event->type() != EventType::stream_start) {
                    src_pad().push_event(std::move(*event));
                }
                continue;
            }
            }
            return ctx.error(Error(Errc::corrupt, fmt::format("{}: ipc record type {} is unknown", name(), rec.type)));
        }
    }

    bool query(Pad& pad, Query& q) override {
        if (q.type() == QueryType::latency) {
            q.set_latency(is_live_.get(), ClockTime::zero(), ClockTime::none());
            return true;
        }
        return SimpleSource::query(pad, q);
    }

private:
    struct KnownArena {
        ArenaId id;
        std::shared_ptr<Arena> arena;
    };

    static Result<ShmRing> handshake(FdMessage& hello) {
        if (hello.type != static_cast<std::uint16_t>(IpcFrame::hello)) {
            return fail(Errc::corrupt, fmt::format("first frame has type {:#x}, not hello", hello.type));
        }
        if (auto h = decode_hello(hello.payload); !h) {
            return fail(h.error());
        }
        if (hello.fds.size() != 1) {
            return fail(Errc::corrupt, fmt::format("hello carries {} fds, not 1 (the ring)", hello.fds.size()));
        }
        return ShmRing::attach(std::move(hello.fds[0]));
    }

    Flow take_buffer(std::span<const std::byte> payload, Buffer& out, SourceContext& ctx) {
        // Copied out of the shared memory before any check: the producer
        // cannot change what was checked.
        scratch_.assign(payload.begin(), payload.end());
        const bool drop = ring_->take_drop_request();
        ring_->consume(true);
        auto ref = decode_buffer_ref(scratch_);
        if (!ref) {
            return ctx.error(Error(ref.error().code(), fmt::format("{}: {}", name(), ref.error().message())));
        }
        auto meta = Metadata::deserialize(std::span<const std::byte>(scratch_).subspan(IpcBufferRef::encoded_size));
        if (!meta) {
            return ctx.error(
                Error(meta.error().code(), fmt::format("{}: buffer metadata: {}", name(), meta.error().message())));
        }
        Buffer buffer;
        if (ref->arena != ArenaId{}) {
            Arena* arena = find_arena(ref->arena);
            if (arena == nullptr) {
                return ctx.error(Error(Errc::corrupt, fmt::format("{}: buffer in arena {}, which was never offered",
                                                                  name(), ref->arena.to_string())));
            }
            auto adopted = Buffer::adopt(*arena, ref->slot, ref->offset, ref->size, std::move(*meta));
            if (!adopted) {
                return ctx.error(Error(adopted.error().code(),
                                       fmt::format("{}: buffer reference: {}", name(), adopted.error().message())));
            }
            buffer = std::move(*adopted);
        } else if (ref->size != 0) {
            return ctx.error(
                Error(Errc::corrupt, fmt::format("{}: a buffer of {} bytes without an arena", name(), ref->size)));
        } else {
            buffer.meta() = std::move(*meta);
        }
        return deliver(std::move(buffer), drop, out, ctx);
    }

    Flow take_compact_buffer(std::span<const std::byte> payload, Buffer& out, SourceContext& ctx) {
        // Copied out of the shared memory before any check, as above.
        std::array<std::byte, IpcCompactBuffer::max_size> copy{};
        const std::size_t n = payload.size();
        if (n <= copy.size()) {
            std::memcpy(copy.data(), payload.data(), n);
        }
        const bool drop = ring_->take_drop_request();
        ring_->consume(true);
        if (n > copy.size()) {
            return ctx.error(Error(Errc::corrupt, fmt::format("{}: ipc compact buffer record of {} bytes, longer "
                                                              "than the {} it can be",
                                                              name(), payload.size(), copy.size())));
        }
        auto rec = decode_compact_buffer(std::span<const std::byte>(copy.data(), n));
        if (!rec) {
            return ctx.error(Error(rec.error().code(), fmt::format("{}: {}", name(), rec.error().message())));
        }
        Arena* arena = arena_at(rec->arena_index);
        if (arena == nullptr) {
            return ctx.error(Error(Errc::corrupt, fmt::format("{}: buffer in arena number {} (bytes 0-1), which "
                                                              "was never offered or was refused",
                                                              name(), rec->arena_index)));
        }
        auto adopted = Buffer::adopt(*arena, rec->slot, rec->offset, rec->size, std::move(rec->meta));
        if (!adopted) {
            return ctx.error(Error(adopted.error().code(),
                                   fmt::format("{}: buffer reference: {}", name(), adopted.error().message())));
        }
        return deliver(std::move(*adopted), drop, out, ctx);
    }

    Flow deliver(Buffer&& buffer, bool drop, Buffer& out, SourceContext& ctx) {
        if (drop) {
            // leaky=downstream on the producer: this, the oldest, goes.
            return Flow::dropped;
        }
        if (do_timestamp_.get()) {
            const ClockTime now = ctx.running_time();
            buffer.meta().set_pts(now);
            buffer.meta().set_dts(now);
        }
        out = std::move(buffer);
        return Flow::ok;
    }

    // Streaming thread: the arena of the n-th offer, null when that offer
    // was refused or never made.
    Arena* arena_at(std::size_t index) {
        if (index >= local_by_offer_.size()) {
            std::lock_guard lock(arenas_mutex_);
            local_by_offer_ = by_offer_;
            if (index >= local_by_offer_.size()) {
                return nullptr;
            }
        }
        return local_by_offer_[index].get();
    }

    // Streaming thread: a cache of the arenas the service thread attached.
    Arena* find_arena(const ArenaId& id) {
        for (const auto& a : local_arenas_) {
            if (a.id == id) {
                return a.arena.get();
            }
        }
        std::lock_guard lock(arenas_mutex_);
        for (const auto& a : arenas_) {
            if (a.id == id) {
                local_arenas_.push_back(a);
                return a.arena.get();
            }
        }
        return nullptr;
    }

    // The service thread: answers arena offers whatever the streaming thread
    // does (a paused consumer still answers, so the producer never waits on
    // it), and notices the producer's hang-up at once.
    void serve() {
        while (serving_.load(std::memory_order_acquire)) {
            auto msg = channel_->receive_for(std::chrono::milliseconds(50));
            if (!msg && msg.error().is(Errc::timeout)) {
                continue;
            }
            Result<void> ok = msg ? answer_offer(*msg) : Result<void>(fail(msg.error()));
            if (!ok) {
                {
                    std::lock_guard lock(arenas_mutex_);
                    gone_reason_ = ok.error().is(Errc::closed) ? std::string("socket hung up") : ok.error().message();
                }
                producer_gone_.store(true, std::memory_order_release);
                ring_->wake_consumer();
                return;
            }
        }
    }

    // The producer sent an arena's fd: attach it and say under which
    // participant handle; the producer sends no buffer of that arena before
    // this answer.
    Result<void> answer_offer(FdMessage& message) {
        FdMessage* msg = &message;
        if (msg->type != static_cast<std::uint16_t>(IpcFrame::arena_offer)) {
            return fail(Errc::corrupt, fmt::format("expected an arena offer, got frame type {:#x}", msg->type));
        }
        auto id = decode_arena_offer(msg->payload);
        if (!id) {
            return fail(id.error());
        }
        if (msg->fds.size() != 1) {
            return fail(Errc::corrupt, fmt::format("arena offer carries {} fds, not 1", msg->fds.size()));
        }
        IpcArenaAck ack;
        ack.arena = *id;
        auto arena = cache_.attach(std::move(msg->fds[0]));
        if (arena && (*arena)->id() == *id) {
            ack.participant = (*arena)->handle();
            std::lock_guard lock(arenas_mutex_);
            arenas_.push_back(KnownArena{*id, *arena});
            by_offer_.push_back(*arena);
        } else {
            {
                std::lock_guard lock(arenas_mutex_);
                by_offer_.emplace_back(); // its number is taken all the same
            }
            // The producer copies into an arena of its own instead.
            ack.status = 1;
            context().warning(fmt::format("{}: cannot map an arena offered by the producer: {}", name(),
                                          arena ? "its id does not match the offer" : arena.error().message()));
        }
        FdMessage reply;
        reply.type = static_cast<std::uint16_t>(IpcFrame::arena_ack);
        reply.payload = encode_arena_ack(ack);
        if (auto sent = channel_->send(reply); !sent) {
            return fail(Errc::closed, "the producer went away while its arena offer was answered");
        }
        return {};
    }

    std::optional<FdChannel> channel_;
    std::optional<ShmRing> ring_;
    ArenaCache cache_; // service thread (thread-safe itself)
    std::mutex arenas_mutex_;
    std::vector<KnownArena> arenas_;       // guarded by arenas_mutex_
    std::vector<std::shared_ptr<Arena>> by_offer_;       // guarded by arenas_mutex_: one per offer, null if refused
    std::vector<std::shared_ptr<Arena>> local_by_offer_; // streaming thread
    std::string gone_reason_;              // guarded by arenas_mutex_
    std::vector<KnownArena> local_arenas_; // streaming thread
    std::vector<std::byte> scratch_;
    std::thread service_;
    std::atomic<bool> serving_{false};
    std::atomic<bool> producer_gone_{false};
    std::atomic<bool> stopping_{false};

    Property<std::string> socket_path_{this, "socket-path", "",
                                       "The path of the control socket of the ipcsink to receive from (a file path, "
                                       "or @name for an abstract socket)"};
    Property<bool> is_live_{this, "is-live", false, "Act as a live source"};
    Property<bool> do_timestamp_{this, "do-timestamp", false,
                                 "Apply the current running time to buffers as they arrive"};
    Property<ShmWait> wait_mode_{this, "wait-mode", ShmWait::sleep,
                                 "How the streaming thread waits for the next buffer: sleep (no CPU while idle), "
                                 "predict (learns the period of a steady stream and spins from shortly before each "
                                 "buffer is due: the latency of spin for a fraction of a core), spin (a core of its "
                                 "own)",
                                 wait_mode_values};

    static constexpr EnumValue wait_mode_values[] = {
        {0, "sleep", "Spin briefly, then sleep until woken"},
        {1, "predict", "Sleep until shortly before the next buffer is due, then spin"},
        {2, "spin", "Poll without sleeping"},
    };
};

} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::IpcSrc);
