// ipcsink: hands buffers to other processes (ipcsrc) by reference. Each
// consumer that connects to socket-path gets a ShmRing of its own; a buffer
// crosses as (arena id, slot, offset, size, metadata) after one reference on
// its slot is credited to the consumer (Arena::share; with one consumer the
// buffer's own reference, Arena::hand_over). Protocol and guarantees:
// docs/design/ipc.md.

#include <parallax/element.hpp>
#include <parallax/ipc/ipc_message.hpp>
#include <parallax/ipc/shm_ring.hpp>
#include <parallax/memory/fd_channel.hpp>

#include <fmt/format.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace parallax {

namespace {

// Waits are cut into slices of this length, so that a dead consumer, a
// stopping pipeline or a changed property is noticed within one slice.
constexpr auto wait_slice = std::chrono::milliseconds(10);
// How long a consumer may take to answer an arena offer before it is
// dropped as unresponsive.
constexpr auto ack_timeout = std::chrono::seconds(5);
// Buffers between two looks at whether a consumer's socket hung up (the
// rings' back-pressure notices a dead consumer sooner when they fill).
constexpr std::uint32_t liveness_interval = 1024;

enum class IpcLeaky : std::uint8_t { no = 0, downstream = 2 };

bool socket_hung_up(int fd) {
    pollfd p{fd, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
}

} // namespace

class IpcSink final : public SimpleSink {
public:
    static constexpr ElementInfo info{
        .factory = "ipcsink",
        .klass = "Sink",
        .summary = "Send buffers to other processes by reference through shared memory",
        .description = "Listens on a Unix socket; every ipcsrc that connects receives the stream (caps, segment, "
                       "tags, eos and buffer metadata) through a shared-memory ring, buffers by reference to their "
                       "arena slots. Back-pressure per consumer, or leaky=downstream to drop its oldest buffers."};

    ~IpcSink() override { shutdown(); }

    void unblock() override {
        stopping_.store(true, std::memory_order_release);
        { std::lock_guard lock(pending_mutex_); }
        pending_cv_.notify_all();
    }

protected:
    Result<void> start() override {
        const std::string path = socket_path_.get();
        if (path.empty()) {
            return fail(Error(Errc::invalid_argument, fmt::format("{}: no socket to listen on: set socket-path", name()))
                            .at_element(name()));
        }
        auto listener = FdListener::listen(path);
        if (!listener && path.front() != '@') {
            // A socket file left by a producer that died: nobody answers it.
            if (auto probe = FdChannel::connect(path); !probe && probe.error().is(Errc::system)) {
                ::unlink(path.c_str());
                listener = FdListener::listen(path);
            }
        }
        if (!listener) {
            return fail(Error(listener.error().code(),
                              fmt::format("{}: cannot listen on socket-path {}: {}", name(), path,
                                          listener.error().message()))
                            .at_element(name()));
        }
        listener_.emplace(std::move(*listener));
        stopping_.store(false, std::memory_order_release);
        accepting_.store(true, std::memory_order_release);
        sticky_.clear();
        copies_count_ = 0;
        dropped_count_ = 0;
        acceptor_ = std::thread([this] { accept_loop(); });
        return {};
    }

    Result<void> stop() override {
        shutdown();
        return {};
    }

    Flow render(Buffer& buffer, SinkContext& ctx) override {
        static_cast<void>(ctx);
        if (!adopt_new_peers(wait_for_connection_.get())) {
            return Flow::flushing;
        }
        // With one consumer, the buffer's reference itself goes to it
        // (Arena::hand_over) instead of a new one credited and this one
        // dropped.
        const bool single = peers_.size() == 1;
        for (auto& peer : peers_) {
            send_buffer(*peer, buffer, single);
        }
        reap_dead_peers();
        return Flow::ok;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.is_downstream()) {
            if (auto bytes = encode_event(event)) {
                sticky_.apply(event.type(), *bytes);
                adopt_new_peers(false);
                for (auto& peer : peers_) {
                    send_record(*peer, IpcRecord::event, *bytes);
                }
                reap_dead_peers();
            }
        }
        return SimpleSink::sink_event(pad, std::move(event));
    }

private:
    struct ArenaEntry {
        Arena* arena = nullptr;
        ParticipantHandle handle;
        bool accepted = false;
        std::size_t index = 0; // its number on the connection: the n-th offer
    };

    struct Peer {
        FdChannel channel;
        ShmRing ring;
        std::vector<ArenaEntry> arenas;
        bool dead = false;
        std::uint32_t since_check = 0;
        std::size_t offers = 0; // arena offers sent
    };

    void accept_loop() {
        while (accepting_.load(std::memory_order_acquire)) {
            auto channel = listener_->accept_for(std::chrono::milliseconds(50));
            if (!channel) {
                continue;
            }
            ShmRingConfig config;
            const std::uint64_t max = max_buffers_.get();
            // Room for max-buffers buffer records (with room for metadata
            // entries) and the events between them.
            config.data_size = std::bit_ceil(std::max<std::uint64_t>(max * 512 * 2, std::uint64_t{256} << 10));
            config.max_buffers = static_cast<std::uint32_t>(max);
            auto ring = ShmRing::create(config);
            if (!ring) {
                context().warning(fmt::format("{}: cannot create a ring for a consumer: {}", name(),
                                              ring.error().message()));
                continue;
            }
            auto fd = ring->dup_fd();
            if (!fd) {
                continue;
            }
            FdMessage hello;
            hello.type = static_cast<std::uint16_t>(IpcFrame::hello);
            hello.payload = encode_hello(IpcHello{static_cast<std::uint32_t>(::getpid()), config.max_buffers});
            hello.fds.push_back(std::move(*fd));
            if (!channel->send(hello)) {
                continue; // Gone already.
            }
            auto peer = std::make_unique<Peer>(Peer{std::move(*channel), std::move(*ring), {}, false, 0});
            {
                std::lock_guard lock(pending_mutex_);
                pending_.push_back(std::move(peer));
                pending_count_.fetch_add(1, std::memory_order_release);
            }
            pending_cv_.notify_all();
        }
    }

    // Moves consumers that connected into peers_, first sending them the
    // sticky events. With `wait`, waits for a first consumer. False when
    // stopping.
    bool adopt_new_peers(bool wait) {
        if (pending_count_.load(std::memory_order_acquire) == 0 && (!wait || !peers_.empty())) {
            return !stopping_.load(std::memory_order_acquire);
        }
        std::vector<std::unique_ptr<Peer>> fresh;
        {
            std::unique_lock lock(pending_mutex_);
            while (wait && peers_.empty() && pending_.empty() && !stopping_.load(std::memory_order_acquire)) {
                pending_cv_.wait_for(lock, std::chrono::milliseconds(100));
            }
            fresh.swap(pending_);
            pending_count_.store(0, std::memory_order_release);
        }
        for (auto& peer : fresh) {
            for (const auto& bytes : sticky_.in_order()) {
                send_record(*peer, IpcRecord::event, bytes);
            }
            if (!peer->dead) {
                peers_.push_back(std::move(peer));
            }
        }
        clients_.set(static_cast<std::uint32_t>(peers_.size()));
        return !stopping_.load(std::memory_order_acquire);
    }

    // Waits until the peer's ring takes `size` bytes (and, with
    // `max_buffers`, has fewer buffers in flight). False when the peer is gone
    // or the sink stops.
    bool wait_room(Peer& peer, std::size_t size, std::uint64_t max_buffers) {
        while (!peer.ring.writable(size, max_buffers)) {
            if (stopping_.load(std::memory_order_acquire)) {
                return false;
            }
            if (peer.ring.consumer_closed() || socket_hung_up(peer.channel.fd())) {
                peer.dead = true;
                return false;
            }
            peer.ring.wait_for_room(size, max_buffers, wait_slice);
        }
        return true;
    }

    void send_record(Peer& peer, IpcRecord type, std::span<const std::byte> bytes) {
        if (peer.dead || bytes.size() > peer.ring.max_record()) {
            return;
        }
        if (!wait_room(peer, bytes.size(), 0)) {
            return;
        }
        auto room = peer.ring.try_reserve(static_cast<std::uint16_t>(type), bytes.size());
        std::memcpy(room.data(), bytes.data(), bytes.size());
        peer.ring.commit(false);
    }

    // The consumer's handle in `arena`, offering the arena first when this
    // consumer has not seen it. Nothing when the consumer refused it.
    ArenaEntry* arena_entry(Peer& peer, Arena* arena) {
        for (auto& e : peer.arenas) {
            if (e.arena == arena) {
                return &e;
            }
        }
        auto fd = arena->dup_fd();
        if (!fd) {
            peer.arenas.push_back(ArenaEntry{arena, {}, false, 0}); // never offered, never named
            return &peer.arenas.back();
        }
        FdMessage offer;
        offer.type = static_cast<std::uint16_t>(IpcFrame::arena_offer);
        offer.payload.resize(16);
        std::memcpy(offer.payload.data(), arena->id().bytes.data(), 16);
        offer.fds.push_back(std::move(*fd));
        if (!peer.channel.send(offer)) {
            peer.dead = true;
            return nullptr;
        }
        const std::size_t index = peer.offers++;
        const auto deadline = std::chrono::steady_clock::now() + ack_timeout;
        while (!peer.dead) {
            if (stopping_.load(std::memory_order_acquire) || std::chrono::steady_clock::now() > deadline) {
                peer.dead = true; // Unresponsive: let it go rather than stall the stream.
                break;
            }
            auto msg = peer.channel.receive_for(wait_slice);
            if (!msg) {
                if (!msg.error().is(Errc::timeout)) {
                    peer.dead = true;
                }
                continue;
            }
            auto ack = msg->type == static_cast<std::uint16_t>(IpcFrame::arena_ack) ? decode_arena_ack(msg->payload)
                                                                                      : Result<IpcArenaAck>();
            if (msg->type != static_cast<std::uint16_t>(IpcFrame::arena_ack) || !ack || !(ack->arena == arena->id())) {
                context().warning(fmt::format("{}: a consumer answered an arena offer with a malformed frame; "
                                              "dropping it",
                                              name()));
                peer.dead = true;
                break;
            }
            peer.arenas.push_back(ArenaEntry{arena, ack->participant, ack->status == 0, index});
            return &peer.arenas.back();
        }
        return nullptr;
    }

    // A copy of `buffer` in an arena of this sink's own, for consumers that
    // cannot map the buffer's arena (counted in the copies property).
    Buffer copy_to_own_arena(const Buffer& buffer) {
        const std::size_t size = std::bit_ceil(std::max<std::size_t>(buffer.size(), 4096));
        const auto cls = static_cast<std::size_t>(std::countr_zero(size));
        if (own_arenas_.size() <= cls) {
            own_arenas_.resize(cls + 1);
        }
        if (!own_arenas_[cls]) {
            ArenaConfig config;
            config.slot_size = size;
            config.slot_count = 64;
            config.max_participants = 64;
            config.name = "parallax-ipcsink";
            auto arena = Arena::create(config);
            if (!arena) {
                return {};
            }
            own_arenas_[cls] = std::move(*arena);
        }
        auto copy = Buffer::allocate(*own_arenas_[cls], buffer.size());
        if (!copy) {
            return {};
        }
        if (auto bytes = copy->map_writable(); bytes) {
            std::memcpy(bytes->data(), buffer.data().data(), buffer.size());
        }
        copy->meta() = buffer.meta();
        copies_.set(++copies_count_);
        return std::move(*copy);
    }

    // `give`: the consumer takes over `original`'s reference, which is then
    // empty once the record is sent.
    void send_buffer(Peer& peer, Buffer& original, bool give) {
        if (peer.dead) {
            return;
        }
        if (++peer.since_check >= liveness_interval) {
            peer.since_check = 0;
            if (peer.ring.consumer_closed() || socket_hung_up(peer.channel.fd())) {
                peer.dead = true;
                return;
            }
        }
        const Buffer* buffer = &original;
        Buffer copy;
        ArenaEntry* entry = nullptr;
        if (original.arena() != nullptr) {
            entry = arena_entry(peer, original.arena());
            if (entry == nullptr) {
                return;
            }
            if (!entry->accepted) {
                copy = copy_to_own_arena(original);
                if (!copy.valid()) {
                    return;
                }
                buffer = &copy;
                entry = arena_entry(peer, copy.arena());
                if (entry == nullptr || !entry->accepted) {
                    return;
                }
            }
        }
        // Most buffers fit a compact record of one cache line; others carry
        // their whole Metadata, serialized into scratch first to know the
        // record's size.
        const std::size_t compact = entry != nullptr ? compact_buffer_size(*buffer, entry->index) : 0;
        std::vector<std::byte> big;
        std::span<const std::byte> meta_bytes;
        if (compact == 0) {
            if (auto meta_size = buffer->meta().serialize(std::span<std::byte>(scratch_)); meta_size) {
                meta_bytes = std::span<const std::byte>(scratch_.data(), *meta_size);
            } else {
                auto all = buffer->meta().serialize();
                if (!all) {
                    return;
                }
                big = std::move(*all);
                meta_bytes = big;
            }
        }
        const std::size_t size = compact != 0 ? compact : IpcBufferRef::encoded_size + meta_bytes.size();
        if (size > peer.ring.max_record()) {
            return;
        }
        const std::uint64_t max = max_buffers_.get();
        if (!peer.ring.writable(size, max)) {
            if (leaky_.get() == IpcLeaky::downstream) {
                if (peer.ring.buffers_in_flight() > 0) {
                    peer.ring.request_drop(); // the consumer drops its oldest
                }
                if (!peer.ring.writable(size, 0)) {
                    dropped_.set(++dropped_count_); // the ring itself is full: drop the newest
                    return;
                }
            } else if (!wait_room(peer, size, max)) {
                return;
            }
        }
        // The copy is not needed after this either. The reference moves
        // before the record is published: the consumer cannot drop it first.
        Buffer* given = buffer == &copy ? &copy : (give ? &original : nullptr);
        if (entry != nullptr) {
            Arena& arena = *buffer->arena();
            if (!(given != nullptr ? arena.hand_over(buffer->slot(), entry->handle)
                                   : arena.share(buffer->slot(), entry->handle))) {
                peer.dead = true; // The consumer's participant is gone.
                return;
            }
        } else {
            given = nullptr;
        }
        if (compact != 0) {
            auto room = peer.ring.try_reserve(static_cast<std::uint16_t>(IpcRecord::compact_buffer), size);
            encode_compact_buffer(*buffer, static_cast<std::uint16_t>(entry->index), room);
            peer.ring.commit(true);
            if (given != nullptr) {
                given->release_reference();
            }
            return;
        }
        IpcBufferRef ref;
        if (entry != nullptr) {
            ref.arena = buffer->arena()->id();
            ref.slot = buffer->slot();
            ref.offset = buffer->offset();
            ref.size = buffer->size();
        }
        auto room = peer.ring.try_reserve(static_cast<std::uint16_t>(IpcRecord::buffer), size);
        encode_buffer_ref(ref, room);
        std::memcpy(room.data() + IpcBufferRef::encoded_size, meta_bytes.data(), meta_bytes.size());
        peer.ring.commit(true);
        if (given != nullptr) {
            given->release_reference();
        }
    }

    void reap_dead_peers() {
        bool any = false;
        for (auto& peer : peers_) {
            any = any || peer->dead;
        }
        if (!any) {
            return;
        }
        // Reclaim below drops every dead participant, not only this one: a
        // consumer that has died too but is not known dead here yet would
        // go on being credited references after its record was freed.
        // Every consumer whose socket hung up is dropped first (one whose
        // socket has not hung up is still exiting, and reclaim leaves it).
        for (auto& peer : peers_) {
            if (!peer->dead && (peer->ring.consumer_closed() || socket_hung_up(peer->channel.fd()))) {
                peer->dead = true;
            }
        }
        std::vector<Arena*> to_reclaim;
        for (auto& peer : peers_) {
            if (peer->dead) {
                any = true;
                // Its in-flight references are counted for its participant:
                // reclaim drops them once the process is gone (now, or at
                // the next reclaim if it is still exiting).
                for (auto& e : peer->arenas) {
                    to_reclaim.push_back(e.arena);
                }
                peer.reset();
            }
        }
        std::erase(peers_, nullptr);
        clients_.set(static_cast<std::uint32_t>(peers_.size()));
        for (Arena* arena : to_reclaim) {
            arena->reclaim_dead();
        }
    }

    void shutdown() {
        accepting_.store(false, std::memory_order_release);
        stopping_.store(true, std::memory_order_release);
        if (acceptor_.joinable()) {
            acceptor_.join();
        }
        {
            std::lock_guard lock(pending_mutex_);
            for (auto& p : pending_) {
                peers_.push_back(std::move(p));
            }
            pending_.clear();
            pending_count_.store(0);
        }
        for (auto& peer : peers_) {
            // The flag before the hang-up: the consumer tells a stop from a crash.
            peer->ring.close_producer();
        }
        peers_.clear();
        listener_.reset();
        own_arenas_.clear();
        if (clients_.get() != 0) {
            clients_.set(0);
        }
    }

    std::optional<FdListener> listener_;
    std::thread acceptor_;
    std::atomic<bool> accepting_{false};
    std::atomic<bool> stopping_{false};
    std::mutex pending_mutex_;
    std::condition_variable pending_cv_;
    std::vector<std::unique_ptr<Peer>> pending_; // guarded by pending_mutex_
    std::atomic<std::size_t> pending_count_{0};
    std::vector<std::unique_ptr<Peer>> peers_; // streaming thread only
    StickyEvents sticky_; // replayed to consumers that connect late
    std::vector<std::shared_ptr<Arena>> own_arenas_; // by log2 of slot size
    std::array<std::byte, 4096> scratch_{};
    std::uint64_t copies_count_ = 0;
    std::uint64_t dropped_count_ = 0;

    Property<std::string> socket_path_{this, "socket-path", "",
                                       "The path of the control socket consumers connect to (a file path, or @name "
                                       "for an abstract socket)"};
    Property<bool> wait_for_connection_{this, "wait-for-connection", true,
                                        "Block the stream until at least one consumer is connected",
                                        Mutability::running};
    Property<std::uint32_t> max_buffers_{this, "max-buffers", 64,
                                         "Max. buffers in flight to each consumer before back-pressure or leaking",
                                         {1, 65536},
                                         Mutability::running};
    Property<IpcLeaky> leaky_{this, "leaky", IpcLeaky::no,
                              "What to do when a consumer's ring is full: wait (no), or drop its oldest buffers "
                              "(downstream)",
                              leaky_values, Mutability::running};
    Property<std::uint32_t> clients_{this, "num-clients", 0, "Consumers connected now", {}, Mutability::read_only};
    Property<std::uint64_t> copies_{this, "copies", 0,
                                    "Buffers copied once into an arena of the sink's own because a consumer could not "
                                    "map theirs",
                                    {},
                                    Mutability::read_only};
    Property<std::uint64_t> dropped_{this, "dropped", 0,
                                     "Buffers not sent because a consumer's ring was full (leaky=downstream)", {},
                                     Mutability::read_only};

    static constexpr EnumValue leaky_values[] = {
        {0, "no", "Not Leaky: wait for the consumer"},
        {2, "downstream", "Leaky on downstream (the consumer's oldest buffers)"},
    };
};

} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::IpcSink);
