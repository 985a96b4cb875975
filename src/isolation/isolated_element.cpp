// The stand-in of an isolated element and the supervision of its worker
// process. Design and guarantees: docs/design/isolation.md.

#include "isolation/isolated_element.hpp"

#include <parallax/base/log.hpp>
#include <parallax/element/registry.hpp>
#include <parallax/ipc/ipc_message.hpp>
#include <parallax/ipc/shm_ring.hpp>
#include <parallax/memory/arena_cache.hpp>
#include <parallax/memory/fd_channel.hpp>
#include <parallax/pipeline/restart_policy.hpp>

#include "element/element_access.hpp"
#include "isolation/sandbox.hpp"
#include "isolation/worker_protocol.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dlfcn.h>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <signal.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace parallax::detail {

namespace {

LogCategory isolation_log("isolation", "isolated elements: worker processes, supervision, restarts");

constexpr auto ready_timeout = std::chrono::seconds(10);
constexpr auto ack_timeout = std::chrono::seconds(5);
constexpr auto wait_slice = std::chrono::milliseconds(10);
constexpr auto supervise_slice = std::chrono::milliseconds(20);
constexpr std::uint32_t in_ring_buffers = 16;

std::string describe_status(int status) {
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        return fmt::format("killed by SIG{}", name != nullptr ? name : std::to_string(sig));
    }
    if (WIFEXITED(status)) {
        return fmt::format("exited with status {}", WEXITSTATUS(status));
    }
    return fmt::format("ended (wait status {:#x})", status);
}

SandboxPolicy::Kind policy_kind(SandboxKind k) {
    switch (k) {
    case SandboxKind::with_network:
        return SandboxPolicy::Kind::with_network;
    case SandboxKind::with_filesystem:
        return SandboxPolicy::Kind::with_filesystem;
    default:
        return SandboxPolicy::Kind::compute_only;
    }
}

// One worker process and what connects the proxy to it.
struct Session {
    std::optional<SandboxedChild> child;
    std::optional<FdChannel> channel;
    std::optional<ShmRing> in;  // proxy -> worker
    std::optional<ShmRing> out; // worker -> proxy
    std::optional<Segment> status_segment;
    WorkerStatus* status = nullptr;
    UniqueFd reports; // read end of the sandbox's violation pipe
    std::mutex send_mutex;
    // The worker's participant handle in each of the pipeline's arenas it
    // was offered (for share() and for reclaim after its death).
    std::mutex arenas_mutex;
    std::condition_variable arenas_cv;
    ArenaHandles worker_handles;    // guarded by arenas_mutex
    std::vector<Arena*> offered;    // guarded by arenas_mutex
    std::optional<IpcArenaAck> ack; // guarded by arenas_mutex
    std::atomic<bool> dead{false};
    // Set by other threads; the supervisor, which alone signals and reaps
    // the process, kills it at its next look.
    std::atomic<bool> kill_requested{false};
    // The stand-in's source pad's negotiation count the worker last heard
    // of (under the stand-in's write mutex once the session is published).
    std::uint64_t negotiation_seen = ~std::uint64_t{0};
    // Answers to property queries, by id (the supervisor thread stores them).
    std::mutex query_mutex;
    std::condition_variable query_cv;
    std::uint32_t next_query = 0;                    // guarded by query_mutex
    std::map<std::uint32_t, WorkerProperty> answers; // guarded by query_mutex

    bool send(const FdMessage& m) {
        std::lock_guard lock(send_mutex);
        return static_cast<bool>(channel->send(m));
    }
};

class IsolatedElement final : public Element {
public:
    IsolatedElement() = default;
    ~IsolatedElement() override { shut_down(); }

    void adopt(std::unique_ptr<Element> shadow, const IsolationOptions& options) {
        shadow_ = std::move(shadow);
        options_ = options;
        if (auto it = options_.sandbox_for.find(name()); it != options_.sandbox_for.end()) {
            sandbox_ = it->second;
        } else {
            sandbox_ = options_.sandbox;
        }
        // The element's properties, on the stand-in: values set go to the
        // shadow (which checks them as the element would) and to the
        // running worker; read-only ones are read from the worker.
        for (PropertyBase* p : shadow_->properties()) {
            if (property(p->name()) == nullptr) {
                mirrors_.push_back(std::make_unique<MirrorProperty>(this, *p));
            }
        }
    }

    // The output task pushes out of the last src pad of a group only.
    [[nodiscard]] bool drives_src_pads() const noexcept override { return tail_ == this && !src_pads().empty(); }

    // Makes `chain` (adjacent stand-ins in stream order) share the worker
    // of the first: it alone starts and supervises one, runs every
    // element of the chain there, and pushes what the last one outputs
    // through the last one's src pad. The others carry only negotiation.
    static void join(const std::vector<IsolatedElement*>& chain) {
        for (IsolatedElement* e : chain) {
            e->head_ = chain.front();
            e->tail_ = chain.back();
            e->group_.clear();
        }
        chain.front()->group_ = chain;
    }
    [[nodiscard]] const SandboxSettings& sandbox() const noexcept { return sandbox_; }

    void unblock() override {
        stopping_.store(true, std::memory_order_release);
        std::shared_ptr<Session> s = current();
        if (s) {
            s->in->wake_producer();
            s->out->wake_consumer();
        }
        std::lock_guard lock(session_mutex_);
        session_cv_.notify_all();
    }

    [[nodiscard]] Caps allowed_caps(const Pad& pad) const override { return shadow_->allowed_caps(shadow_pad(pad)); }

    // One of the element's properties on the stand-in (see adopt()).
    class MirrorProperty final : public PropertyBase {
    public:
        MirrorProperty(IsolatedElement* owner, PropertyBase& shadow)
            : PropertyBase(owner, shadow.name(), shadow.description(), shadow.mutability()), owner_(owner),
              shadow_(shadow) {}
        [[nodiscard]] std::string_view type_name() const noexcept override { return shadow_.type_name(); }
        [[nodiscard]] std::string value_string() const override {
            if (shadow_.mutability() == Mutability::read_only) {
                if (auto live = owner_->query_property(shadow_.name())) {
                    return *live;
                }
            }
            return shadow_.value_string();
        }
        [[nodiscard]] std::string default_string() const override { return shadow_.default_string(); }
        [[nodiscard]] std::string range_string() const override { return shadow_.range_string(); }
        [[nodiscard]] std::span<const EnumValue> enum_values() const noexcept override { return shadow_.enum_values(); }
        [[nodiscard]] PropertyValue value() const override { return shadow_.value(); }

    protected:
        Result<void> parse_and_store(std::string_view text) override {
            if (auto ok = shadow_.set_from_string(text); !ok) {
                return ok;
            }
            owner_->send_property(shadow_);
            return {};
        }
        Result<void> store_value(const PropertyValue& value) override {
            if (auto ok = shadow_.set_value(value); !ok) {
                return ok;
            }
            owner_->send_property(shadow_);
            return {};
        }
        void store_default() override {
            shadow_.reset();
            owner_->send_property(shadow_);
        }

    private:
        IsolatedElement* owner_;
        PropertyBase& shadow_;
    };
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps& caps) const override {
        return shadow_->transform_caps(shadow_pad(from), shadow_pad(to), caps);
    }
    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        return shadow_->fixate_caps(shadow_pad(pad), caps, reference);
    }

protected:
    Result<void> start() override {
        if (head_ != this) {
            return {}; // the head runs this element in its worker
        }
        members_ = group_.empty() ? std::vector<IsolatedElement*>{this} : group_;
        member_src_.clear();
        member_names_.clear();
        for (IsolatedElement* m : members_) {
            const auto srcs = m->src_pads();
            member_src_.push_back(srcs.empty() ? nullptr : srcs[0]);
            member_names_.push_back(m->name());
        }
        out_pad_ = member_src_.back();
        stopping_.store(false);
        failed_.store(false);
        budget_.emplace(options_.restart);
        restarts_ = 0;
        sticky_.clear();
        history_.clear();
        {
            // Arenas of an earlier run may be gone; buffers of the workers'
            // arenas from an earlier run must not outlive it.
            std::lock_guard lock(known_mutex_);
            pipeline_arenas_.clear();
        }
        worker_arenas_ = ArenaCache();
        history_front_ = 0;
        reported_sandbox_ = false;
        {
            // Under the write mutex, as a restart: a property set meanwhile
            // is either in the set-up or written to the published session.
            std::lock_guard writers(write_mutex_);
            auto session = spawn();
            if (!session) {
                return fail(session.error());
            }
            std::lock_guard lock(session_mutex_);
            session_ = *session;
            reading_ = *session;
        }
        supervisor_ = std::thread([this] { supervise(); });
        if (out_pad_ != nullptr) {
            return context().start_task(fmt::format("{}-worker-output", name()), [this] { return read_output(); });
        }
        return {};
    }

    Result<void> stop() override {
        if (head_ == this) {
            shut_down();
        }
        return {};
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        if (head_ != this) {
            return context().error(Error(Errc::failed, fmt::format("{} runs in the worker of {}: data must reach it "
                                                                   "there, not through this pad",
                                                                   name(), head_->name())),
                                   pad.name());
        }
        while (true) {
            std::shared_ptr<Session> s = usable_session();
            if (!s) {
                return failed_.load() ? Flow::error : Flow::flushing;
            }
            std::lock_guard lock(write_mutex_);
            if (!sync_negotiation(*s)) {
                continue; // the worker died: its successor is set up with it
            }
            auto f = send_buffer(*s, buffer);
            if (f) {
                return *f;
            }
            // The worker died before taking it: the next one gets it.
        }
    }

    // An upstream event from downstream goes to the elements in the worker
    // (what they send on upstream comes back: handle_frame()). It arrives
    // at the src pad the worker's output leaves from; the stand-in answers
    // true once it is sent.
    bool src_event(Pad& pad, Event&& event) override {
        if (tail_ == this) {
            if (auto bytes = encode_event(event)) {
                std::shared_ptr<Session> s = head_->current();
                if (s && !s->dead.load()) {
                    FdMessage m;
                    m.type = static_cast<std::uint16_t>(WorkerFrame::upstream_event);
                    m.payload = std::move(*bytes);
                    if (s->send(m)) {
                        return true;
                    }
                }
            }
        }
        // No worker to take it (or a member of a group): on upstream.
        return Element::src_event(pad, std::move(event));
    }

    bool sink_event(Pad& pad, Event&& event) override {
        if (event.type() == EventType::flush_start || head_ != this) {
            // (In a group, only flushes pass from member to member.)
            // Not serialized: it does not wait behind the ring's records.
            return forward_event(pad, event);
        }
        auto bytes = encode_event(event);
        if (!bytes) {
            return forward_event(pad, event); // does not cross processes (custom in-process events)
        }
        while (true) {
            std::shared_ptr<Session> s = usable_session();
            if (!s) {
                return false;
            }
            std::lock_guard lock(write_mutex_);
            if (sync_negotiation(*s) && write_record(*s, IpcRecord::event, *bytes, false)) {
                // Kept until the worker has handled it, so that a successor
                // starts in the stream's state at the point of the crash.
                history_.emplace_back(event.type(), std::move(*bytes));
                fold_history(s->status->events_done.load(std::memory_order_acquire));
                return true;
            }
            if (stopping_.load()) {
                return false;
            }
        }
    }

private:
    // The values that differ from the defaults, for a worker's set-up.
    std::vector<std::pair<std::string, std::string>> changed_properties() const {
        std::vector<std::pair<std::string, std::string>> out;
        for (PropertyBase* p : shadow_->properties()) {
            if (p->mutability() != Mutability::read_only && p->name() != "name" &&
                p->value_string() != p->default_string()) {
                out.emplace_back(std::string(p->name()), p->value_string());
            }
        }
        return out;
    }

    // A value set on the stand-in while its worker runs goes to the worker
    // through the "in" ring, in order with the buffers: those pushed after
    // the call see the new value. A worker started later (a restart) gets
    // it in its set-up: restarts happen under the write mutex.
    void send_property(const PropertyBase& p) {
        IsolatedElement* head = head_;
        std::lock_guard lock(head->write_mutex_);
        std::shared_ptr<Session> s = head->current();
        if (!s || s->dead.load()) {
            return;
        }
        WorkerProperty set;
        set.element = name();
        set.name = std::string(p.name());
        set.value = p.value_string();
        static_cast<void>(
            head->write_record(*s, static_cast<IpcRecord>(worker_property_record), encode_property(set), false));
    }

    // A read-only property's value in the running worker; nothing when no
    // worker runs or it does not answer in time.
    std::optional<std::string> query_property(std::string_view property) {
        std::shared_ptr<Session> s = head_->current();
        if (!s || s->dead.load()) {
            return std::nullopt;
        }
        WorkerProperty q;
        q.element = name();
        q.name = std::string(property);
        {
            std::lock_guard lock(s->query_mutex);
            q.id = ++s->next_query;
        }
        FdMessage m;
        m.type = static_cast<std::uint16_t>(WorkerFrame::property_query);
        m.payload = encode_property(q);
        if (!s->send(m)) {
            return std::nullopt;
        }
        std::unique_lock lock(s->query_mutex);
        if (!s->query_cv.wait_for(lock, ack_timeout, [&] { return s->answers.contains(q.id) || s->dead.load(); })) {
            return std::nullopt;
        }
        auto it = s->answers.find(q.id);
        if (it == s->answers.end()) {
            return std::nullopt;
        }
        WorkerProperty answer = std::move(it->second);
        s->answers.erase(it);
        if (!answer.ok) {
            return std::nullopt;
        }
        return answer.value;
    }

    // Keeps the worker's view of the pipeline's running time (the status
    // block) up to date: on the supervisor thread, at every turn of its loop
    // (20 ms at most) and when a worker starts. The pipeline's running time
    // stands still while it is paused: seen unchanged over a turn, the
    // worker is told the time it stands at.
    void publish_clock(Session& s) {
        const ClockTime rt = context().host().running_time();
        const std::int64_t now =
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
                .count();
        WorkerStatus& st = *s.status;
        if (rt.is_none()) {
            st.clock_paused_at.store(clock_not_started, std::memory_order_release);
        } else if (!clock_last_.is_none() && rt == clock_last_ && now - clock_last_at_ >= 1'000'000) {
            st.clock_paused_at.store(rt.ns(), std::memory_order_release);
        } else {
            st.clock_base.store(now - rt.ns(), std::memory_order_release);
            st.clock_paused_at.store(clock_running, std::memory_order_release);
        }
        if (rt != clock_last_) {
            clock_last_ = rt;
            clock_last_at_ = now;
        }
    }

    // "a" or "a (with b, c)" for a group.
    std::string group_label() const {
        if (members_.size() < 2) {
            return name();
        }
        return fmt::format("{} (with {})", name(),
                           fmt::join(std::vector<std::string>(member_names_.begin() + 1, member_names_.end()), ", "));
    }

    const Pad& shadow_pad(const Pad& pad) const {
        Pad* p = shadow_->pad(pad.name());
        return p != nullptr ? *p : pad;
    }

    std::shared_ptr<Session> current() {
        std::lock_guard lock(session_mutex_);
        return session_;
    }

    // The live session, waiting while a dead worker is replaced; nothing
    // when stopping or when the restart budget is spent.
    std::shared_ptr<Session> usable_session() {
        std::unique_lock lock(session_mutex_);
        session_cv_.wait(lock,
                         [&] { return stopping_.load() || failed_.load() || (session_ && !session_->dead.load()); });
        if (stopping_.load() || failed_.load()) {
            return nullptr;
        }
        return session_;
    }

    // Moves the events the worker has handled (`done` of them in this
    // session) from the history into the sticky state. Under write_mutex_.
    void fold_history(std::uint64_t done) {
        while (!history_.empty() && history_front_ < done) {
            sticky_.apply(history_.front().first, history_.front().second);
            history_.pop_front();
            ++history_front_;
        }
    }

    // What negotiation fixed on this stand-in's source pad, as the worker
    // is told it; `count` gets the pad's negotiation count it reflects.
    WorkerNegotiation negotiation(std::uint64_t& count) const {
        WorkerNegotiation n;
        count = negotiation_count();
        for (const Pad* p : member_src_) {
            n.src.push_back(p != nullptr ? p->negotiated_caps() : Caps());
        }
        if (out_pad_ != nullptr) {
            if (const Pad* peer = out_pad_->peer()) {
                n.downstream = peer->element().allowed_caps(*peer);
            }
        }
        return n;
    }

    // Moves whenever negotiation fixes new caps on a member's src pad.
    std::uint64_t negotiation_count() const noexcept {
        std::uint64_t sum = 0;
        for (const Pad* p : member_src_) {
            sum += p != nullptr ? p->negotiation_count() : 0;
        }
        return sum;
    }

    // Tells the worker what negotiation decided since it last heard.
    // Under write_mutex_; false when the worker is gone (or stopping).
    bool sync_negotiation(Session& s) {
        if (negotiation_count() == s.negotiation_seen) {
            return true;
        }
        std::uint64_t count = 0;
        const WorkerNegotiation n = negotiation(count);
        if (!write_record(s, static_cast<IpcRecord>(worker_negotiation_record), encode_negotiation(n), false)) {
            return false;
        }
        s.negotiation_seen = count;
        return true;
    }

    // Writes one record; false when the worker is gone (or stopping).
    bool write_record(Session& s, IpcRecord type, std::span<const std::byte> bytes, bool is_buffer) {
        if (s.dead.load() || bytes.size() > s.in->max_record()) {
            return false;
        }
        const std::uint64_t max = is_buffer ? in_ring_buffers : 0;
        while (!s.in->writable(bytes.size(), max)) {
            if (s.dead.load() || stopping_.load() || s.in->consumer_closed()) {
                return false;
            }
            s.in->wait_for_room(bytes.size(), max, wait_slice);
        }
        if (s.dead.load()) {
            return false;
        }
        auto room = s.in->try_reserve(static_cast<std::uint16_t>(type), bytes.size());
        std::memcpy(room.data(), bytes.data(), bytes.size());
        s.in->commit(is_buffer);
        return true;
    }

    // The worker's handle in `arena`, offering the arena first if needed.
    std::optional<ParticipantHandle> worker_handle(Session& s, Arena& arena) {
        std::unique_lock lock(s.arenas_mutex);
        if (const ParticipantHandle* h = s.worker_handles.find(arena.id())) {
            return *h;
        }
        auto fd = arena.dup_fd();
        if (!fd) {
            return std::nullopt;
        }
        FdMessage offer;
        offer.type = static_cast<std::uint16_t>(WorkerFrame::arena_offer);
        offer.payload = encode_worker_arena_offer(arena.id(), arena.handle());
        offer.fds.push_back(std::move(*fd));
        s.ack.reset();
        lock.unlock();
        if (!s.send(offer)) {
            return std::nullopt;
        }
        lock.lock();
        s.arenas_cv.wait_for(lock, ack_timeout, [&] { return s.ack.has_value() || s.dead.load() || stopping_.load(); });
        if (!s.ack || s.ack->status != 0 || !(s.ack->arena == arena.id())) {
            return std::nullopt;
        }
        s.worker_handles.set(arena.id(), s.ack->participant);
        s.offered.push_back(&arena);
        const ParticipantHandle handle = s.ack->participant;
        lock.unlock();
        note_pipeline_arena(arena);
        return handle;
    }

    // Buffers of `arena` may come back from the worker (an element that
    // passes its input on): the output task finds it by id.
    void note_pipeline_arena(Arena& arena) {
        std::lock_guard lock(known_mutex_);
        if (std::find(pipeline_arenas_.begin(), pipeline_arenas_.end(), &arena) == pipeline_arenas_.end()) {
            pipeline_arenas_.push_back(&arena);
        }
    }

    // Ok/error when the buffer was handed over (or refused for good);
    // nothing when the worker died first and the buffer should go to the
    // next one.
    std::optional<Flow> send_buffer(Session& s, const Buffer& buffer) {
        if (s.dead.load()) {
            return std::nullopt;
        }
        if (const std::int32_t f = s.status->flow.load(std::memory_order_acquire); f != 0) {
            return static_cast<Flow>(f); // the element failed in the worker
        }
        IpcBufferRef ref;
        std::optional<ParticipantHandle> handle;
        if (Arena* arena = buffer.arena()) {
            handle = worker_handle(s, *arena);
            if (!handle) {
                if (s.dead.load() || stopping_.load()) {
                    return stopping_.load() ? std::optional<Flow>(Flow::flushing) : std::nullopt;
                }
                kill_worker(s, "it did not answer an arena offer");
                return std::nullopt;
            }
            ref.arena = arena->id();
            ref.slot = buffer.slot();
            ref.offset = buffer.offset();
            ref.size = buffer.size();
        }
        auto meta = buffer.meta().serialize(std::span<std::byte>(scratch_));
        std::vector<std::byte> big;
        std::span<const std::byte> meta_bytes;
        if (meta) {
            meta_bytes = std::span<const std::byte>(scratch_.data(), *meta);
        } else {
            auto all = buffer.meta().serialize();
            if (!all) {
                return context().error(all.error());
            }
            big = std::move(*all);
            meta_bytes = big;
        }
        const std::size_t size = IpcBufferRef::encoded_size + meta_bytes.size();
        if (size > s.in->max_record()) {
            return context().error(
                Error(Errc::out_of_range, fmt::format("{}: a buffer's metadata of {} bytes does not fit the worker's "
                                                      "ring ({} bytes at most)",
                                                      name(), meta_bytes.size(), s.in->max_record())));
        }
        // Room first, then the reference: a reference is credited only for
        // a record that is written.
        const std::uint64_t max = in_ring_buffers;
        while (!s.in->writable(size, max)) {
            if (stopping_.load()) {
                return Flow::flushing;
            }
            if (s.dead.load() || s.in->consumer_closed()) {
                return std::nullopt;
            }
            s.in->wait_for_room(size, max, wait_slice);
        }
        if (handle && !buffer.arena()->share(buffer.slot(), *handle)) {
            return std::nullopt; // its participant was reclaimed: it is dead
        }
        auto room = s.in->try_reserve(static_cast<std::uint16_t>(IpcRecord::buffer), size);
        encode_buffer_ref(ref, room);
        std::memcpy(room.data() + IpcBufferRef::encoded_size, meta_bytes.data(), meta_bytes.size());
        s.in->commit(true);
        return Flow::ok;
    }

    // The output task: the worker's buffers and events go downstream.
    Flow read_output() {
        std::shared_ptr<Session> s;
        {
            std::lock_guard lock(session_mutex_);
            s = reading_;
        }
        if (!s || stopping_.load()) {
            return Flow::flushing;
        }
        auto record = s->out->try_read();
        if (!record) {
            kill_worker(*s, fmt::format("it wrote a malformed record: {}", record.error().message()));
            return Flow::ok;
        }
        if (!*record) {
            if (s->dead.load()) {
                // Everything it finished went out: move to its successor.
                std::unique_lock lock(session_mutex_);
                session_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] {
                    return stopping_.load() || failed_.load() || (session_ && session_ != reading_);
                });
                if (failed_.load()) {
                    return Flow::error;
                }
                if (session_ && session_ != reading_) {
                    reading_ = session_;
                }
                return Flow::ok;
            }
            s->out->wait_for_data(wait_slice);
            return Flow::ok;
        }
        const ShmRecord rec = **record;
        out_scratch_.assign(rec.payload.begin(), rec.payload.end());
        Pad& out = *out_pad_;
        if (rec.type == static_cast<std::uint16_t>(IpcRecord::event)) {
            s->out->consume(false);
            auto event = decode_event(out_scratch_);
            if (!event) {
                kill_worker(*s, fmt::format("it wrote a malformed event: {}", event.error().message()));
                return Flow::ok;
            }
            out.push_event(std::move(*event));
            return Flow::ok;
        }
        s->out->consume(true);
        auto buffer = take_output(out_scratch_);
        if (!buffer) {
            kill_worker(*s, buffer.error().message());
            return Flow::ok;
        }
        const Flow f = out.push(std::move(*buffer));
        return f == Flow::eos ? Flow::ok : f;
    }

    Result<Buffer> take_output(std::span<const std::byte> bytes) {
        return adopt_buffer_record(bytes, [this](const ArenaId& id) -> Arena* {
            if (auto worker_arena = worker_arenas_.find(id)) {
                return worker_arena.get(); // the cache keeps it mapped
            }
            std::lock_guard lock(known_mutex_);
            for (Arena* a : pipeline_arenas_) {
                if (a->id() == id) {
                    return a;
                }
            }
            return nullptr;
        });
    }

    // Starts a worker and hands it the element.
    Result<std::shared_ptr<Session>> spawn(const std::vector<Arena*>& arenas = {}) {
        auto path = find_worker(options_);
        if (!path) {
            return fail(
                Error(path.error().code(), fmt::format("{}: {}", name(), path.error().message())).at_element(name()));
        }
        auto s = std::make_shared<Session>();
        auto pair = FdChannel::pair();
        if (!pair) {
            return fail(pair.error());
        }
        s->channel.emplace(std::move(pair->first));
        std::optional<FdChannel> theirs(std::move(pair->second));
        ShmRingConfig config;
        config.data_size = std::size_t{256} << 10;
        config.max_buffers = in_ring_buffers;
        config.name = "parallax-worker-in";
        auto in = ShmRing::create(config);
        if (!in) {
            return fail(in.error());
        }
        s->in.emplace(std::move(*in));
        SegmentOptions seg;
        seg.name = "parallax-worker-status";
        auto status = Segment::create(sizeof(WorkerStatus), seg);
        if (!status) {
            return fail(status.error());
        }
        s->status_segment.emplace(std::move(*status));
        s->status = new (s->status_segment->data()) WorkerStatus{};
        s->status->magic = WorkerStatus::magic_value;
        s->status->clock_paused_at.store(clock_not_started, std::memory_order_relaxed);
        clock_last_ = ClockTime::none();
        publish_clock(*s);
        int pipe_fds[2];
        if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
            return fail(Error::from_errno(errno, "pipe2 for sandbox reports"));
        }
        s->reports = UniqueFd(pipe_fds[0]);
        UniqueFd report_write(pipe_fds[1]);

        // Everything the child does between fork and exec is async-signal-safe.
        const std::string program = *path;
        std::array<char*, 2> argv{const_cast<char*>(program.c_str()), nullptr};
        const int control = theirs->fd();
        SandboxPolicy spawn_policy;
        spawn_policy.kind = policy_kind(sandbox_.kind);
        spawn_policy.cgroup_memory_max = sandbox_.cgroup_memory_max;
        spawn_policy.cgroup_pids_max = sandbox_.cgroup_pids_max;
        auto child = spawn_sandboxed(spawn_policy, [&]() -> int {
            if (control == 3) {
                ::fcntl(3, F_SETFD, 0);
            } else if (::dup2(control, 3) != 3) {
                return 126;
            }
            ::execve(argv[0], argv.data(), environ);
            return 127;
        });
        if (!child) {
            return fail(Error(child.error().code(),
                              fmt::format("{}: cannot start its worker: {}", name(), child.error().message()))
                            .at_element(name()));
        }
        s->child.emplace(std::move(*child));
        theirs.reset(); // the worker's end lives in the worker only

        WorkerSetup setup;
        for (const IsolatedElement* m : members_) {
            setup.elements.push_back({std::string(m->shadow_->factory().name()), m->name(), m->changed_properties()});
        }
        setup.sandbox = sandbox_;
        setup.sticky = sticky_.in_order();
        setup.negotiation = negotiation(s->negotiation_seen);
        setup.wait = options_.wait;
        FdMessage msg;
        msg.type = static_cast<std::uint16_t>(WorkerFrame::setup);
        msg.payload = encode_setup(setup);
        auto in_fd = s->in->dup_fd();
        auto status_fd = s->status_segment->dup_fd();
        if (!in_fd || !status_fd) {
            return fail(Errc::system, fmt::format("{}: cannot duplicate the worker's fds", name()));
        }
        msg.fds.push_back(std::move(*in_fd));
        msg.fds.push_back(std::move(*status_fd));
        msg.fds.push_back(std::move(report_write));
        auto started_failing = [&](std::string why) {
            s->child->kill();
            auto st = s->child->wait();
            return fail(Error(Errc::failed, fmt::format("{}: its worker {} ({})", name(), why,
                                                        st ? describe_status(*st) : std::string("not reaped")))
                            .at_element(name()));
        };
        if (!s->channel->send(msg)) {
            return started_failing("went away before its set-up");
        }
        msg.fds.clear();
        auto reply = s->channel->receive_for(std::chrono::duration_cast<std::chrono::milliseconds>(ready_timeout));
        if (!reply) {
            return started_failing(fmt::format("did not get ready: {}", reply.error().message()));
        }
        if (reply->type == static_cast<std::uint16_t>(WorkerFrame::failed)) {
            const std::string why(reinterpret_cast<const char*>(reply->payload.data()), reply->payload.size());
            s->child->wait();
            return fail(
                Error(Errc::failed, fmt::format("{}: cannot run isolated: {}", name(), why)).at_element(name()));
        }
        if (reply->type != static_cast<std::uint16_t>(WorkerFrame::ready) || reply->fds.size() != 1) {
            return started_failing(fmt::format("answered its set-up with frame {:#x}", reply->type));
        }
        auto out = ShmRing::attach(std::move(reply->fds[0]));
        if (!out) {
            return started_failing(fmt::format("sent a bad output ring: {}", out.error().message()));
        }
        s->out.emplace(std::move(*out));
        s->out->set_consumer_wait(options_.wait);
        const std::string report(reinterpret_cast<const char*>(reply->payload.data()), reply->payload.size());
        PARALLAX_INFO(isolation_log, "{}: worker pid {} ready: {}", name(), s->child->pid(), report);
        // The arenas the predecessor was offered, offered again at once: the
        // records it left are re-sent in them.
        for (Arena* a : arenas) {
            if (!offer_now(*s, *a)) {
                return started_failing("did not take the pipeline's arenas");
            }
        }
        if (!reported_sandbox_) {
            reported_sandbox_ = true;
            std::string text = fmt::format("{} {} isolated in a worker process ({})", group_label(),
                                           members_.size() > 1 ? "run" : "runs", report);
            for (const auto& u : s->child->namespaces().unavailable) {
                text += fmt::format("; namespace unavailable: {}", u);
            }
            if (!s->child->cgroup().empty() && !s->child->cgroup_applied()) {
                text += "; " + s->child->cgroup();
            }
            context().info(std::move(text));
        }
        return s;
    }

    // On the supervisor thread, while it waits for a worker: handles the
    // worker's frames for up to one slice. False when the worker is gone.
    bool pump(Session& s) {
        auto msg = s.channel->receive_for(wait_slice);
        if (msg) {
            handle_frame(s, *msg);
            return true;
        }
        return msg.error().is(Errc::timeout);
    }

    // Offers `arena` to a worker that is not yet streaming (the supervisor
    // thread reads the answer itself).
    bool offer_now(Session& s, Arena& arena) {
        auto fd = arena.dup_fd();
        if (!fd) {
            return false;
        }
        FdMessage offer;
        offer.type = static_cast<std::uint16_t>(WorkerFrame::arena_offer);
        offer.payload = encode_worker_arena_offer(arena.id(), arena.handle());
        offer.fds.push_back(std::move(*fd));
        {
            std::lock_guard lock(s.arenas_mutex);
            s.ack.reset();
        }
        if (!s.send(offer)) {
            return false;
        }
        const auto deadline = std::chrono::steady_clock::now() + ack_timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            {
                std::lock_guard lock(s.arenas_mutex);
                if (s.ack) {
                    if (s.ack->status != 0 || !(s.ack->arena == arena.id())) {
                        return false;
                    }
                    s.worker_handles.set(arena.id(), s.ack->participant);
                    s.offered.push_back(&arena);
                    note_pipeline_arena(arena);
                    return true;
                }
            }
            if (!pump(s)) {
                return false;
            }
        }
        return false;
    }

    // A record the dead worker left unread, to give its successor.
    struct Leftover {
        std::uint16_t type = 0;
        std::vector<std::byte> bytes;
        Buffer hold; // this process's reference on the buffer's slot meanwhile
    };

    // Under write_mutex_, after the worker died: reads what it left in its
    // "in" ring. The buffer it was inside of when it died is lost (it may
    // be the one that kills it); the others are kept for the successor.
    std::vector<Leftover> take_leftovers(Session& s, std::uint64_t& lost) {
        bool in_element = s.status->started.load() != s.status->finished.load();
        std::vector<Leftover> left;
        while (true) {
            auto r = s.in->try_read();
            if (!r || !*r) {
                break;
            }
            Leftover item;
            item.type = (*r)->type;
            item.bytes.assign((*r)->payload.begin(), (*r)->payload.end());
            const bool is_buffer = item.type == static_cast<std::uint16_t>(IpcRecord::buffer);
            s.in->consume(is_buffer);
            if (is_buffer) {
                if (in_element) {
                    in_element = false;
                    ++lost;
                    continue;
                }
                auto ref = decode_buffer_ref(item.bytes);
                if (!ref) {
                    ++lost;
                    continue;
                }
                if (ref->arena != ArenaId{}) {
                    Arena* arena = nullptr;
                    for (Arena* a : s.offered) {
                        if (a->id() == ref->arena) {
                            arena = a;
                        }
                    }
                    if (arena == nullptr) {
                        ++lost;
                        continue;
                    }
                    // The dead worker's reference goes with the reclaim;
                    // this one keeps the slot until the successor has it.
                    arena->retain(ref->slot);
                    auto held = Buffer::adopt(*arena, ref->slot, ref->offset, ref->size);
                    if (!held) {
                        ++lost;
                        continue;
                    }
                    item.hold = std::move(*held);
                }
            }
            left.push_back(std::move(item));
        }
        return left;
    }

    // Gives the successor what its predecessor left (supervisor thread,
    // before the successor is published). False when it died meanwhile.
    bool resend(Session& s, std::vector<Leftover>& left) {
        for (Leftover& item : left) {
            const bool is_buffer = item.type == static_cast<std::uint16_t>(IpcRecord::buffer);
            while (!s.in->writable(item.bytes.size(), is_buffer ? in_ring_buffers : 0)) {
                if (stopping_.load() || !pump(s)) {
                    return false;
                }
            }
            if (item.hold.arena() != nullptr) {
                const ParticipantHandle* h = s.worker_handles.find(item.hold.arena()->id());
                if (h == nullptr || !item.hold.arena()->share(item.hold.slot(), *h)) {
                    return false;
                }
            }
            auto room = s.in->try_reserve(item.type, item.bytes.size());
            std::memcpy(room.data(), item.bytes.data(), item.bytes.size());
            s.in->commit(is_buffer);
            item.hold = Buffer();
        }
        return true;
    }

    // The supervisor thread: control frames from the worker, hang checks,
    // sandbox reports; replaces the worker when it dies.
    void supervise() {
        std::uint64_t last_progress = ~std::uint64_t{0};
        auto progress_since = std::chrono::steady_clock::now();
        while (!stopping_.load()) {
            std::shared_ptr<Session> s = current();
            if (!s) {
                return;
            }
            if (s->kill_requested.exchange(false)) {
                s->child->kill(); // the socket closes: handled below as a death
            }
            publish_clock(*s);
            auto msg = s->channel->receive_for(supervise_slice);
            report_violations(*s);
            if (msg) {
                handle_frame(*s, *msg);
                continue;
            }
            if (msg.error().is(Errc::timeout)) {
                const std::uint64_t p = s->status->progress.load(std::memory_order_relaxed);
                const bool pending =
                    s->in->buffers_in_flight() > 0 || s->status->started.load() != s->status->finished.load();
                const auto now = std::chrono::steady_clock::now();
                if (p != last_progress || !pending) {
                    last_progress = p;
                    progress_since = now;
                } else if (options_.hang_timeout.count() > 0 && now - progress_since > options_.hang_timeout) {
                    hung_ = true;
                    s->child->kill(); // the socket closes: handled below as a death
                }
                continue;
            }
            if (stopping_.load()) {
                return;
            }
            if (!on_death(s)) {
                return;
            }
            last_progress = ~std::uint64_t{0};
            progress_since = std::chrono::steady_clock::now();
        }
    }

    void handle_frame(Session& s, FdMessage& msg) {
        switch (static_cast<WorkerFrame>(msg.type)) {
        case WorkerFrame::message: {
            auto m = decode_message(msg.payload, name(), member_names_);
            if (m) {
                context().host().post(std::move(*m));
            } else {
                kill_worker(s, m.error().message());
            }
            return;
        }
        case WorkerFrame::sink_eos:
            // Only a sink (the group's last element) reaches eos.
            context().host().sink_eos(*members_.back());
            return;
        case WorkerFrame::stream_start:
            context().host().sink_stream_start(*members_.back());
            return;
        case WorkerFrame::upstream_event: {
            auto event = decode_upstream_event(msg.payload);
            if (!event) {
                kill_worker(s, event.error().message());
                return;
            }
            if (auto sinks = sink_pads(); !sinks.empty()) {
                static_cast<void>(sinks[0]->push_event(std::move(*event)));
            }
            return;
        }
        case WorkerFrame::property_value: {
            auto answer = decode_property(msg.payload);
            if (!answer) {
                kill_worker(s, answer.error().message());
                return;
            }
            std::lock_guard lock(s.query_mutex);
            if (answer->id != 0 && answer->id <= s.next_query) {
                s.answers[answer->id] = std::move(*answer);
            }
            s.query_cv.notify_all();
            return;
        }
        case WorkerFrame::arena_offer: {
            auto offer = decode_worker_arena_offer(msg.payload);
            IpcArenaAck ack;
            ack.status = 1;
            if (offer && msg.fds.size() == 1) {
                ack.arena = offer->first;
                auto arena = worker_arenas_.attach(std::move(msg.fds[0]));
                if (arena && (*arena)->id() == offer->first) {
                    ack.status = 0;
                    ack.participant = (*arena)->handle();
                }
            }
            FdMessage reply;
            reply.type = static_cast<std::uint16_t>(IpcFrame::arena_ack);
            reply.payload = encode_arena_ack(ack);
            static_cast<void>(s.send(reply));
            return;
        }
        default:
            if (msg.type == static_cast<std::uint16_t>(IpcFrame::arena_ack)) {
                auto ack = decode_arena_ack(msg.payload);
                std::lock_guard lock(s.arenas_mutex);
                if (ack) {
                    s.ack = *ack;
                }
                s.arenas_cv.notify_all();
                return;
            }
            kill_worker(s, fmt::format("it sent frame type {:#x}", msg.type));
        }
    }

    void report_violations(Session& s) {
        for (const SandboxViolation& v : read_violations(s.reports.get())) {
            context().warning(fmt::format("{}: the sandbox denied {}{}", name(), syscall_name(v.syscall, v.arch),
                                          v.fatal != 0 ? " (fatal: the process that made the call was killed)"
                                                       : " (refused with EPERM)"));
        }
    }

    // Called from any thread: the supervisor kills the worker (it alone
    // signals and reaps the process, so a pid is never signalled after it
    // was reaped).
    void kill_worker(Session& s, const std::string& why) {
        PARALLAX_WARNING(isolation_log, "{}: killing its worker: {}", name(), why);
        {
            std::lock_guard lock(session_mutex_);
            if (kill_reason_.empty()) {
                kill_reason_ = why;
            }
        }
        s.kill_requested.store(true);
    }

    // The worker of `s` is gone: reclaim, count, restart or fail. False when
    // supervision ends (budget spent, stopping).
    bool on_death(const std::shared_ptr<Session>& s) {
        s->dead.store(true);
        s->child->kill(); // the whole tree, in case only the socket closed
        auto st = s->child->wait();
        report_violations(*s);
        std::string reason = st ? describe_status(*st) : std::string("gone");
        {
            std::lock_guard lock(session_mutex_);
            if (hung_) {
                reason = fmt::format("hung (no progress for {} ms), killed", options_.hang_timeout.count());
            } else if (!kill_reason_.empty()) {
                reason = fmt::format("misbehaved ({}), killed", kill_reason_);
            }
            hung_ = false;
            kill_reason_.clear();
        }
        // Let a writer waiting on the dead worker go, then keep writers out
        // until the successor has what its predecessor left.
        s->in->wake_producer();
        s->out->wake_consumer();
        {
            std::lock_guard lock(s->arenas_mutex);
            s->arenas_cv.notify_all();
        }
        {
            std::lock_guard lock(s->query_mutex);
            s->query_cv.notify_all();
        }
        {
            std::lock_guard lock(session_mutex_);
            session_cv_.notify_all();
        }
        std::unique_lock writers(write_mutex_);
        std::uint64_t lost = 0;
        std::vector<Leftover> left = take_leftovers(*s, lost);
        fold_history(s->status->events_done.load(std::memory_order_acquire));
        std::vector<Arena*> arenas;
        {
            std::lock_guard lock(s->arenas_mutex);
            arenas = s->offered;
            for (Arena* a : s->offered) {
                if (const ParticipantHandle* h = s->worker_handles.find(a->id())) {
                    static_cast<void>(a->reclaim(*h));
                }
            }
        }
        lost_total_ += lost;
        PARALLAX_WARNING(isolation_log, "{}: worker {} ({} buffers lost, {} records kept for its successor)", name(),
                         reason, lost, left.size());
        while (!stopping_.load()) {
            auto delay = budget_->on_failure(std::chrono::steady_clock::now());
            if (!delay) {
                failed_.store(true);
                {
                    std::lock_guard lock(session_mutex_);
                    session_cv_.notify_all();
                }
                left.clear();
                context().post_error(
                    Error(Errc::failed,
                          fmt::format("{}: its worker process {}, and the restart budget is spent "
                                      "({} restarts within {} ms); {} buffers lost in all",
                                      name(), reason, restarts_, options_.restart.reset_window.count(), lost_total_)));
                return false;
            }
            {
                std::unique_lock lock(session_mutex_);
                session_cv_.wait_for(lock, *delay, [&] { return stopping_.load(); });
            }
            if (stopping_.load()) {
                return false;
            }
            auto next = spawn(arenas);
            if (!next) {
                reason = next.error().message();
                continue;
            }
            // The successor counts its events from 0: the history left is
            // exactly the events among the records re-sent.
            history_front_ = 0;
            if (!resend(**next, left)) {
                (*next)->child->kill();
                static_cast<void>((*next)->child->wait());
                reason = "its successor died while taking over";
                continue;
            }
            ++restarts_;
            {
                std::lock_guard lock(session_mutex_);
                session_ = *next;
                if (out_pad_ == nullptr) {
                    reading_ = *next;
                }
            }
            session_cv_.notify_all();
            writers.unlock();
            Structure st_msg("element-restarted");
            st_msg.set("element", name());
            if (members_.size() > 1) {
                st_msg.set("elements", fmt::format("{}", fmt::join(member_names_, ",")));
            }
            st_msg.set("reason", reason);
            st_msg.set("count", static_cast<std::int32_t>(restarts_));
            st_msg.set("lost-buffers", static_cast<std::int32_t>(lost));
            context().post_element_message(std::move(st_msg));
            context().warning(fmt::format("{} restarted (restart {}): its worker {}; {} buffer{} lost", group_label(),
                                          restarts_, reason, lost, lost == 1 ? "" : "s"));
            return true;
        }
        return false;
    }

    void shut_down() {
        stopping_.store(true);
        std::shared_ptr<Session> s;
        {
            std::lock_guard lock(session_mutex_);
            s = session_;
            session_cv_.notify_all();
        }
        if (s) {
            s->in->close_producer(); // the worker finishes and exits
            s->out->wake_consumer();
        }
        if (supervisor_.joinable()) {
            supervisor_.join();
        }
        if (s && s->child) {
            // A worker that does not leave on its own within a moment is killed.
            // What it still had to say (messages, sandbox reports) reaches
            // the bus.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
            while (std::chrono::steady_clock::now() < deadline) {
                auto msg = s->channel->receive_for(std::chrono::milliseconds(20));
                if (msg) {
                    handle_frame(*s, *msg);
                } else if (msg.error().is(Errc::closed)) {
                    break;
                }
            }
            report_violations(*s);
            s->child->kill();
            static_cast<void>(s->child->wait());
            std::lock_guard lock(s->arenas_mutex);
            for (Arena* a : s->offered) {
                if (const ParticipantHandle* h = s->worker_handles.find(a->id())) {
                    static_cast<void>(a->reclaim(*h));
                }
            }
        }
        std::lock_guard lock(session_mutex_);
        session_.reset();
        reading_.reset();
    }

    std::unique_ptr<Element> shadow_;
    IsolationOptions options_;
    SandboxSettings sandbox_;
    std::vector<std::unique_ptr<MirrorProperty>> mirrors_;
    std::optional<RestartBudget> budget_;
    std::uint32_t restarts_ = 0;
    std::uint64_t lost_total_ = 0;
    bool reported_sandbox_ = false;

    std::mutex session_mutex_;
    std::condition_variable session_cv_;
    std::shared_ptr<Session> session_; // the live worker (guarded by session_mutex_)
    std::shared_ptr<Session> reading_; // the one the output task drains (guarded)
    bool hung_ = false;                // guarded by session_mutex_
    std::string kill_reason_;          // guarded by session_mutex_
    std::thread supervisor_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> failed_{false};
    // A group (see join()): the head and, on the head, every member.
    IsolatedElement* head_ = this;
    IsolatedElement* tail_ = this;
    std::vector<IsolatedElement*> group_;
    // Set at start, on the head: the members (itself alone when not in a
    // group), their src pads (null for a sink), their names, and the pad
    // the worker's output goes out of (the last member's).
    std::vector<IsolatedElement*> members_;
    std::vector<Pad*> member_src_;
    std::vector<std::string> member_names_;
    Pad* out_pad_ = nullptr;
    // The running time last published and when it was read (supervisor).
    ClockTime clock_last_ = ClockTime::none();
    std::int64_t clock_last_at_ = 0;

    // Writers of the "in" ring (the streaming thread; the supervisor while it
    // hands a dead worker's records to its successor).
    std::mutex write_mutex_;
    StickyEvents sticky_;                                              // as the worker has handled them
    std::deque<std::pair<EventType, std::vector<std::byte>>> history_; // sent, not yet handled
    std::uint64_t history_front_ = 0;                                  // the session's index of history_.front()

    ArenaCache worker_arenas_; // arenas of the workers, mapped here
    std::mutex known_mutex_;
    std::vector<Arena*> pipeline_arenas_; // the pipeline's arenas that buffers from a worker may be in

    std::array<std::byte, 4096> scratch_{};
    std::vector<std::byte> out_scratch_;
};

struct ProxyFactories {
    std::mutex mutex;
    std::map<const ElementFactory*, std::unique_ptr<ElementFactory>> by_original;
};

ProxyFactories& proxy_factories() {
    static ProxyFactories* f = new ProxyFactories(); // lives as long as the process: elements point at them
    return *f;
}

std::unique_ptr<Element> construct_isolated() {
    return std::make_unique<IsolatedElement>();
}

bool file_is_executable(const std::string& path) {
    return ::access(path.c_str(), X_OK) == 0;
}

} // namespace

std::optional<std::string> why_not_isolatable(const Element& element) {
    if (element.is_source()) {
        return std::string("it is a source (a worker runs elements fed by the pipeline)");
    }
    if (element.drives_src_pads()) {
        return std::string("it drives its src pads from a thread of its own");
    }
    std::size_t sinks = 0;
    std::size_t srcs = 0;
    for (const PadTemplate& t : element.pad_templates()) {
        if (t.presence != PadPresence::always) {
            return fmt::format("its pad template {} is not always present", t.name);
        }
        (t.direction == PadDirection::sink ? sinks : srcs) += 1;
    }
    if (sinks != 1 || srcs > 1) {
        return fmt::format("it has {} sink and {} src pads (a worker runs one sink pad and at most one src pad)", sinks,
                           srcs);
    }
    return std::nullopt;
}

std::vector<std::vector<Element*>> group_isolated(const std::vector<Element*>& order) {
    std::vector<std::vector<Element*>> groups;
    std::vector<const Element*> taken;
    for (Element* e : order) {
        auto* head = dynamic_cast<IsolatedElement*>(e);
        if (head == nullptr || std::find(taken.begin(), taken.end(), e) != taken.end()) {
            continue;
        }
        std::vector<IsolatedElement*> chain{head};
        while (true) {
            const auto srcs = chain.back()->src_pads();
            if (srcs.size() != 1 || srcs[0]->peer() == nullptr) {
                break;
            }
            auto* next = dynamic_cast<IsolatedElement*>(&srcs[0]->peer()->element());
            // A sink keeps a worker of its own: what reaches its pad is the
            // pipeline's progress and position.
            if (next == nullptr || next->src_pads().empty() || next->sandbox() != head->sandbox() ||
                std::find(taken.begin(), taken.end(), next) != taken.end()) {
                break;
            }
            chain.push_back(next);
        }
        taken.insert(taken.end(), chain.begin(), chain.end());
        if (chain.size() > 1) {
            IsolatedElement::join(chain);
            groups.emplace_back(chain.begin(), chain.end());
        }
    }
    return groups;
}

bool is_isolated(const Element& element) {
    return dynamic_cast<const IsolatedElement*>(&element) != nullptr;
}

Result<std::unique_ptr<Element>> make_isolated(std::unique_ptr<Element> element, const IsolationOptions& options) {
    if (auto why = why_not_isolatable(*element)) {
        return fail(Error(Errc::unsupported, fmt::format("{} cannot run isolated: {}", element->name(), *why))
                        .at_element(element->name()));
    }
    const ElementFactory* original = &element->factory();
    const ElementFactory* factory = nullptr;
    {
        ProxyFactories& f = proxy_factories();
        std::lock_guard lock(f.mutex);
        auto& slot = f.by_original[original];
        if (!slot) {
            slot = std::make_unique<ElementFactory>(
                original->info(),
                std::vector<PadTemplate>(original->pad_templates().begin(), original->pad_templates().end()),
                original->hints(), &construct_isolated);
        }
        factory = slot.get();
    }
    auto proxy = factory->create(element->name());
    if (!proxy) {
        return fail(proxy.error());
    }
    static_cast<IsolatedElement&>(**proxy).adopt(std::move(element), options);
    return proxy;
}

Result<std::string> find_worker(const IsolationOptions& options) {
    if (!options.worker_path.empty()) {
        if (!file_is_executable(options.worker_path)) {
            return fail(Errc::not_found, fmt::format("the worker program {} (IsolationOptions::worker_path) is not "
                                                     "an executable file",
                                                     options.worker_path));
        }
        return options.worker_path;
    }
    if (const char* env = std::getenv("PARALLAX_WORKER"); env != nullptr && *env != '\0') {
        if (!file_is_executable(env)) {
            return fail(Errc::not_found,
                        fmt::format("the worker program {} ($PARALLAX_WORKER) is not an executable file", env));
        }
        return std::string(env);
    }
    // The library's own location says whether it runs from its build tree.
    Dl_info info{};
    std::string module;
    if (::dladdr(reinterpret_cast<const void*>(&find_worker), &info) != 0 && info.dli_fname != nullptr) {
        module = info.dli_fname;
    }
    const std::string built = PARALLAX_WORKER_BUILT;
    const std::string installed = PARALLAX_WORKER_INSTALLED;
    const std::string build_dir = PARALLAX_BUILD_DIR;
    const bool from_build_tree = module.rfind(build_dir, 0) == 0;
    for (const std::string& candidate : from_build_tree ? std::array{built, installed} : std::array{installed, built}) {
        if (file_is_executable(candidate)) {
            return candidate;
        }
    }
    return fail(Errc::not_found, fmt::format("cannot find the worker program plx-worker (looked for {} and {}); set "
                                             "PARALLAX_WORKER to its path",
                                             installed, built));
}

} // namespace parallax::detail
