// plx-worker's side of an isolated element: the element runs here, fed from
// the "in" ring by a source pad of the worker's own and drained into the
// "out" ring by a sink pad of the worker's own. Buffers stay in their arena
// slots both ways. Protocol: docs/design/isolation.md.

#include "isolation/worker.hpp"

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>
#include <parallax/ipc/ipc_message.hpp>
#include <parallax/ipc/shm_ring.hpp>
#include <parallax/memory/arena_cache.hpp>
#include <parallax/memory/fd_channel.hpp>

#include "element/element_access.hpp"
#include "isolation/sandbox.hpp"
#include "isolation/worker_protocol.hpp"
#include "memory/process_identity.hpp"
#include "runtime/buffer_allocator.hpp"

#include <fmt/format.h>

#include <array>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <sys/mman.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace parallax::detail {

namespace {

LogCategory worker_log("worker", "plx-worker: an isolated element's process");

constexpr auto setup_timeout = std::chrono::seconds(10);
constexpr auto ack_timeout = std::chrono::seconds(5);
constexpr auto wait_slice = std::chrono::milliseconds(20);

class Worker;

class WorkerSrc final : public Element {
public:
    static constexpr ElementInfo info{.factory = "plx-worker-src", .klass = "Source", .summary = "Worker input"};
    static std::vector<PadTemplate> pad_templates() {
        return {{"src", PadDirection::src, PadPresence::always, Caps::any()}};
    }
    [[nodiscard]] bool drives_src_pads() const noexcept override { return false; }
    Worker* worker = nullptr;

protected:
    // What the elements send upstream goes on to the pipeline.
    bool src_event(Pad& pad, Event&& event) override;
};

class WorkerSink final : public Element {
public:
    static constexpr ElementInfo info{.factory = "plx-worker-sink", .klass = "Sink", .summary = "Worker output"};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::any()}};
    }
    Worker* worker = nullptr;

    // What the element downstream of the stand-in accepts: the worker's
    // output goes there.
    [[nodiscard]] Caps allowed_caps(const Pad&) const override {
        std::lock_guard lock(downstream_mutex_);
        return downstream_;
    }
    void set_downstream(Caps caps) {
        std::lock_guard lock(downstream_mutex_);
        downstream_ = std::move(caps);
    }

protected:
    Flow chain(Pad& pad, Buffer&& buffer) override;
    bool sink_event(Pad& pad, Event&& event) override;

private:
    mutable std::mutex downstream_mutex_;
    Caps downstream_ = Caps::any();
};

class Worker final : public ElementHost {
public:
    explicit Worker(FdChannel channel) : channel_(std::move(channel)) {}

    ~Worker() override {
        stopping_.store(true);
        for (auto& t : tasks_) {
            if (t.joinable()) {
                t.join();
            }
        }
    }

    int run() {
        auto msg = channel_.receive_for(std::chrono::duration_cast<std::chrono::milliseconds>(setup_timeout));
        if (!msg) {
            PARALLAX_ERROR(worker_log, "no setup from the pipeline: {}", msg.error().to_string());
            return 2;
        }
        if (auto ok = set_up(*msg); !ok) {
            FdMessage failed;
            failed.type = static_cast<std::uint16_t>(WorkerFrame::failed);
            const std::string text = ok.error().message();
            failed.payload.assign(reinterpret_cast<const std::byte*>(text.data()),
                                  reinterpret_cast<const std::byte*>(text.data() + text.size()));
            static_cast<void>(send(failed));
            return 3;
        }
        service_ = std::thread([this] { serve(); });
        const int status = stream();
        stopping_.store(true);
        for (auto& e : elements_) {
            for (Pad* p : e->pads()) {
                detail_pad_access::set_flushing(*p, true);
            }
            e->unblock();
        }
        for (auto it = elements_.rbegin(); it != elements_.rend(); ++it) {
            static_cast<void>(detail_element_access::stop(**it));
        }
        out_->close_producer();
        // The service thread sees its end of the socket shut and returns.
        ::shutdown(channel_.fd(), SHUT_RD);
        service_.join();
        return status;
    }

    // ElementHost
    void post(Message message) override {
        FdMessage m;
        m.type = static_cast<std::uint16_t>(WorkerFrame::message);
        m.payload = encode_message(message);
        static_cast<void>(send(m));
    }
    Result<Buffer> allocate(std::size_t size) override { return allocator_.allocate(size); }
    Result<void> start_task(Element& element, std::string name, std::function<Flow()> step) override {
        tasks_.emplace_back([this, &element, name = std::move(name), step = std::move(step)] {
            while (!stopping_.load()) {
                Flow f = Flow::ok;
                try {
                    f = step();
                } catch (const std::exception& e) {
                    f = element.context().error(Error(Errc::exception, e.what()), fmt::format("task {}", name));
                }
                if (!is_success(f) && f != Flow::flushing) {
                    return;
                }
                if (f == Flow::flushing) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            }
        });
        return {};
    }
    // The pipeline's running time, as the stand-in keeps it in the status
    // block (CLOCK_MONOTONIC is the same clock in both processes).
    [[nodiscard]] ClockTime running_time() const override {
        if (status_ == nullptr) {
            return ClockTime::none();
        }
        const std::int64_t paused_at = status_->clock_paused_at.load(std::memory_order_acquire);
        if (paused_at == clock_not_started) {
            return ClockTime::none();
        }
        if (paused_at >= 0) {
            return ClockTime::from_ns(paused_at);
        }
        const std::int64_t now =
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
                .count();
        return ClockTime::from_ns(std::max<std::int64_t>(0, now - status_->clock_base.load(std::memory_order_acquire)));
    }
    Flow wait_until(Element&, ClockTime t) override {
        // In slices of at most 10 ms: the pipeline may pause or resume.
        constexpr std::int64_t slice = 10'000'000;
        while (!stopping_.load()) {
            const ClockTime now = running_time();
            if (!now.is_none() && now >= t) {
                return Flow::ok;
            }
            const bool moving = !now.is_none() && status_->clock_paused_at.load(std::memory_order_acquire) < 0;
            std::this_thread::sleep_for(
                std::chrono::nanoseconds(moving ? std::min<std::int64_t>((t - now).ns(), slice) : slice));
        }
        return Flow::flushing;
    }
    void sink_eos(Element&) override { send_empty(WorkerFrame::sink_eos); }
    void sink_stream_start(Element&) override { send_empty(WorkerFrame::stream_start); }
    void pad_added(Element&, Pad&) override {}
    void post_control(std::function<void()> fn) override { fn(); }
    TimerHandle after(std::chrono::nanoseconds delay, std::function<void()> fn) override {
        auto cancelled = std::make_shared<std::atomic<bool>>(false);
        std::thread([delay, fn = std::move(fn), cancelled] {
            std::this_thread::sleep_for(delay);
            if (!cancelled->load()) {
                fn();
            }
        }).detach();
        return TimerHandle(cancelled);
    }

    // WorkerSink's two calls, on the streaming thread.
    Flow output(Buffer&& buffer) {
        IpcBufferRef ref;
        std::optional<ParticipantHandle> handle;
        if (Arena* arena = buffer.arena()) {
            auto h = parent_handle(*arena);
            if (!h) {
                return last().context().error(Error(Errc::closed, h.error().message()));
            }
            handle = *h;
            ref.arena = arena->id();
            ref.slot = buffer.slot();
            ref.offset = buffer.offset();
            ref.size = buffer.size();
        }
        std::vector<std::byte> big;
        std::span<const std::byte> meta;
        if (auto n = buffer.meta().serialize(std::span<std::byte>(meta_scratch_))) {
            meta = std::span<const std::byte>(meta_scratch_.data(), *n);
        } else if (auto all = buffer.meta().serialize()) {
            big = std::move(*all);
            meta = big;
        } else {
            return last().context().error(all.error());
        }
        const std::size_t size = IpcBufferRef::encoded_size + meta.size();
        // Room first, then the reference: one is credited only for a record
        // that is written.
        if (!wait_out_room(size)) {
            return Flow::flushing;
        }
        if (handle && !buffer.arena()->share(buffer.slot(), *handle)) {
            return Flow::flushing; // the pipeline's side is gone
        }
        auto room = out_->try_reserve(static_cast<std::uint16_t>(IpcRecord::buffer), size);
        encode_buffer_ref(ref, room);
        std::memcpy(room.data() + IpcBufferRef::encoded_size, meta.data(), meta.size());
        out_->commit(true);
        return Flow::ok;
    }
    // An upstream event the first element sent out of its sink pad.
    bool upstream(const Event& event) {
        auto bytes = encode_event(event);
        if (!bytes) {
            return false;
        }
        FdMessage m;
        m.type = static_cast<std::uint16_t>(WorkerFrame::upstream_event);
        m.payload = std::move(*bytes);
        return send(m);
    }
    bool output_event(const Event& event) {
        auto bytes = encode_event(event);
        if (!bytes) {
            return true; // not an event that crosses processes
        }
        return write_out(IpcRecord::event, *bytes, false);
    }

private:
    Element& first() { return *elements_.front(); }
    Element& last() { return *elements_.back(); }
    std::vector<Element*> all_elements() {
        std::vector<Element*> all{src_.get()};
        for (auto& e : elements_) {
            all.push_back(e.get());
        }
        all.push_back(sink_.get());
        return all;
    }

    bool send(const FdMessage& m) {
        std::lock_guard lock(send_mutex_);
        return static_cast<bool>(channel_.send(m));
    }
    void send_empty(WorkerFrame type) {
        FdMessage m;
        m.type = static_cast<std::uint16_t>(type);
        static_cast<void>(send(m));
    }

    Result<void> set_up(FdMessage& msg) {
        if (msg.type != static_cast<std::uint16_t>(WorkerFrame::setup)) {
            return fail(Errc::corrupt, fmt::format("first frame has type {:#x}, not setup", msg.type));
        }
        auto setup = decode_setup(msg.payload);
        if (!setup) {
            return fail(setup.error());
        }
        if (msg.fds.size() != 3) {
            return fail(Errc::corrupt, fmt::format("setup carries {} fds, not 3", msg.fds.size()));
        }
        auto in = ShmRing::attach(std::move(msg.fds[0]));
        if (!in) {
            return fail(in.error());
        }
        in_.emplace(std::move(*in));
        in_->set_consumer_wait(setup->wait);
        auto status = Segment::map(std::move(msg.fds[1]));
        if (!status) {
            return fail(status.error());
        }
        if (status->size() < sizeof(WorkerStatus)) {
            return fail(Errc::corrupt, fmt::format("the status block is smaller than {} bytes", sizeof(WorkerStatus)));
        }
        status_segment_.emplace(std::move(*status));
        status_ = reinterpret_cast<WorkerStatus*>(status_segment_->data());
        if (status_->magic != WorkerStatus::magic_value) {
            return fail(Errc::corrupt, "the status block has a bad magic");
        }
        report_fd_ = std::move(msg.fds[2]);

        for (const WorkerElement& spec : setup->elements) {
            auto element = Registry::global().create(spec.factory, spec.name);
            if (!element) {
                return fail(element.error());
            }
            for (const auto& [name, value] : spec.properties) {
                if (auto ok = (*element)->set_property(name, value); !ok) {
                    return fail(ok.error());
                }
            }
            elements_.push_back(std::move(*element));
        }
        auto src = make_element<WorkerSrc>("plx-worker-src");
        auto sink = make_element<WorkerSink>("plx-worker-sink");
        if (!src || !sink) {
            return fail(Errc::failed, "cannot make the worker's own pads");
        }
        src_ = std::move(*src);
        sink_ = std::move(*sink);
        sink_->worker = this;
        src_->worker = this;
        for (Element* e : all_elements()) {
            detail_element_access::attach(*e, *this);
        }
        // worker src -> first -> ... -> last -> worker sink (if the last has
        // a src pad).
        Pad* upstream = src_->pad("src");
        for (std::size_t i = 0; i < elements_.size(); ++i) {
            Element& e = *elements_[i];
            auto sinks = e.sink_pads();
            auto srcs = e.src_pads();
            if (sinks.size() != 1 || srcs.size() > 1 || (srcs.empty() && i + 1 < elements_.size())) {
                return fail(Errc::unsupported,
                            fmt::format("{} has {} sink and {} src pads; a worker runs elements with one "
                                        "sink pad and one src pad (none for the last one)",
                                        e.name(), sinks.size(), srcs.size()));
            }
            if (auto ok = detail_pad_access::link(*upstream, *sinks[0]); !ok) {
                return fail(ok.error());
            }
            upstream = srcs.empty() ? nullptr : srcs[0];
        }
        if (upstream != nullptr) {
            if (auto ok = detail_pad_access::link(*upstream, *sink_->pad("sink")); !ok) {
                return fail(ok.error());
            }
        }

        ShmRingConfig config;
        config.data_size = in_->data_size();
        config.name = "parallax-worker-out";
        auto out = ShmRing::create(config);
        if (!out) {
            return fail(out.error());
        }
        out_.emplace(std::move(*out));
        auto out_fd = out_->dup_fd();
        if (!out_fd) {
            return fail(out_fd.error());
        }

        for (Element* e : all_elements()) {
            detail_element_access::set_state(*e, State::paused);
        }
        // Downstream first, as a pipeline starts them.
        for (auto it = elements_.rbegin(); it != elements_.rend(); ++it) {
            if (auto ok = detail_element_access::start(**it); !ok) {
                return fail(ok.error());
            }
        }

        // Read from /proc now: arenas made once the sandbox is in place need it.
        static_cast<void>(ProcessIdentity::self());
        std::string report_text;
        if (setup->sandbox.kind != SandboxKind::none) {
            SandboxPolicy policy;
            policy.kind = setup->sandbox.kind == SandboxKind::with_network      ? SandboxPolicy::Kind::with_network
                          : setup->sandbox.kind == SandboxKind::with_filesystem ? SandboxPolicy::Kind::with_filesystem
                                                                                : SandboxPolicy::Kind::compute_only;
            policy.allowed_paths = setup->sandbox.allowed_paths;
            policy.max_address_space = setup->sandbox.max_address_space;
            policy.max_cpu = setup->sandbox.max_cpu;
            policy.report_fd = report_fd_.get();
            auto report = enter_sandbox(policy);
            if (!report) {
                return fail(report.error());
            }
            report_text = fmt::format("sandbox {}{}{}", to_string(report->kind), report->seccomp ? ", seccomp" : "",
                                      report->landlock ? fmt::format(", landlock ABI {}", report->landlock_abi) : "");
            for (const auto& u : report->unavailable) {
                report_text += "\nunavailable: " + u;
            }
        } else {
            report_text = "sandbox none (no seccomp filter)";
        }

        for (Element* e : all_elements()) {
            detail_element_access::set_state(*e, State::running);
        }
        apply(setup->negotiation);
        // The stream's state before the first record (a restarted worker).
        for (const auto& bytes : setup->sticky) {
            auto event = decode_event(bytes);
            if (!event) {
                return fail(event.error());
            }
            src_->pad("src")->push_event(std::move(*event));
        }

        FdMessage ready;
        ready.type = static_cast<std::uint16_t>(WorkerFrame::ready);
        ready.payload.assign(reinterpret_cast<const std::byte*>(report_text.data()),
                             reinterpret_cast<const std::byte*>(report_text.data() + report_text.size()));
        ready.fds.push_back(std::move(*out_fd));
        if (!send(ready)) {
            return fail(Errc::closed, "the pipeline went away during set-up");
        }
        return {};
    }

    // Feeds the element until the pipeline closes the "in" ring.
    int stream() {
        Pad& out = *src_->pad("src");
        std::vector<std::byte> scratch;
        while (true) {
            auto record = in_->try_read();
            if (!record) {
                first().context().post_error(Error(Errc::corrupt, record.error().message()));
                return 4;
            }
            status_->progress.fetch_add(1, std::memory_order_relaxed);
            if (!*record) {
                if (in_->producer_closed()) {
                    return 0;
                }
                in_->wait_for_data(wait_slice);
                continue;
            }
            const ShmRecord rec = **record;
            // Copied before any check: the bytes stay in shared memory.
            scratch.assign(rec.payload.begin(), rec.payload.end());
            if (failed_flow_) {
                // The element failed: it gets nothing more (references
                // dropped with the records).
                if (rec.type == static_cast<std::uint16_t>(IpcRecord::buffer)) {
                    static_cast<void>(take_buffer(scratch));
                }
                in_->consume(rec.type == static_cast<std::uint16_t>(IpcRecord::buffer));
                continue;
            }
            if (rec.type == worker_negotiation_record) {
                auto negotiation = decode_negotiation(scratch);
                if (!negotiation) {
                    first().context().post_error(Error(Errc::corrupt, negotiation.error().message()));
                    return 4;
                }
                apply(*negotiation);
                in_->consume(false);
                continue;
            }
            if (rec.type == worker_property_record) {
                set_property(scratch);
                in_->consume(false);
                continue;
            }
            if (rec.type == static_cast<std::uint16_t>(IpcRecord::event)) {
                auto event = decode_event(scratch);
                if (!event) {
                    first().context().post_error(Error(Errc::corrupt, event.error().message()));
                    return 4;
                }
                out.push_event(std::move(*event));
                in_->consume(false);
                status_->events_done.fetch_add(1, std::memory_order_release);
                continue;
            }
            if (rec.type != static_cast<std::uint16_t>(IpcRecord::buffer)) {
                first().context().post_error(
                    Error(Errc::corrupt, fmt::format("ring record type {} is unknown", rec.type)));
                return 4;
            }
            auto buffer = take_buffer(scratch);
            if (!buffer) {
                first().context().post_error(buffer.error());
                in_->consume(true);
                return 4;
            }
            status_->started.fetch_add(1, std::memory_order_relaxed);
            const Flow f = out.push(std::move(*buffer));
            // Consumed only now: a crash inside the element leaves the
            // record in the ring, counted as lost by the pipeline.
            in_->consume(true);
            status_->finished.fetch_add(1, std::memory_order_release);
            if (!is_success(f) && f != Flow::flushing) {
                // Errors went to the bus through the element's context;
                // the flow goes upstream through the proxy.
                failed_flow_ = true;
                status_->flow.store(static_cast<std::int32_t>(f), std::memory_order_release);
            }
        }
    }

    // What the pipeline's negotiation decided, given to the element's source
    // pad as the pipeline would have given it.
    void apply(const WorkerNegotiation& negotiation) {
        for (std::size_t i = 0; i < elements_.size() && i < negotiation.src.size(); ++i) {
            if (auto srcs = elements_[i]->src_pads(); !srcs.empty()) {
                detail_pad_access::set_negotiated(*srcs[0], negotiation.src[i]);
            }
        }
        sink_->set_downstream(negotiation.downstream);
    }

    Result<Buffer> take_buffer(std::span<const std::byte> bytes) {
        return adopt_buffer_record(bytes, [this](const ArenaId& id) { return cache_.find(id).get(); });
    }

    // Waits for room in the "out" ring; false when the pipeline's side is
    // gone or the record could never fit.
    bool wait_out_room(std::size_t size) {
        if (size > out_->max_record()) {
            return false;
        }
        while (!out_->writable(size, 0)) {
            if (out_->consumer_closed() || stopping_.load()) {
                return false;
            }
            status_->progress.fetch_add(1, std::memory_order_relaxed); // waiting is not hanging
            out_->wait_for_room(size, 0, wait_slice);
        }
        return true;
    }

    bool write_out(IpcRecord type, std::span<const std::byte> bytes, bool is_buffer) {
        if (!wait_out_room(bytes.size())) {
            return false;
        }
        auto room = out_->try_reserve(static_cast<std::uint16_t>(type), bytes.size());
        std::memcpy(room.data(), bytes.data(), bytes.size());
        out_->commit(is_buffer);
        return true;
    }

    // The pipeline's participant handle in `arena`: known from its offer, or,
    // for an arena of this worker's, by offering it now.
    Result<ParticipantHandle> parent_handle(Arena& arena) {
        std::unique_lock lock(arenas_mutex_);
        if (const ParticipantHandle* known = parent_handles_.find(arena.id())) {
            return *known;
        }
        auto fd = arena.dup_fd();
        if (!fd) {
            return fail(fd.error());
        }
        FdMessage offer;
        offer.type = static_cast<std::uint16_t>(WorkerFrame::arena_offer);
        offer.payload = encode_worker_arena_offer(arena.id(), arena.handle());
        offer.fds.push_back(std::move(*fd));
        pending_ack_.reset();
        lock.unlock();
        if (!send(offer)) {
            return fail(Errc::closed, "the pipeline went away");
        }
        lock.lock();
        if (!acks_cv_.wait_for(lock, ack_timeout, [&] { return pending_ack_.has_value() || stopping_.load(); }) ||
            !pending_ack_) {
            return fail(Errc::timeout, "the pipeline did not answer an arena offer");
        }
        const IpcArenaAck ack = *pending_ack_;
        if (ack.status != 0 || !(ack.arena == arena.id())) {
            return fail(Errc::failed, "the pipeline cannot map an arena of the worker");
        }
        parent_handles_.set(arena.id(), ack.participant);
        return ack.participant;
    }

    // The service thread: the pipeline's arena offers and the answers to
    // ours. Ends the process when the pipeline goes away.
    Element* element_named(std::string_view name) {
        for (auto& e : elements_) {
            if (e->name() == name) {
                return e.get();
            }
        }
        return nullptr;
    }

    // A property record from the "in" ring (streaming thread): a value the
    // pipeline set on the stand-in while the worker runs.
    void set_property(std::span<const std::byte> payload) {
        auto p = decode_property(payload);
        if (!p) {
            first().context().post_error(Error(Errc::corrupt, p.error().message()));
            return;
        }
        Element* target = element_named(p->element);
        if (target == nullptr) {
            return;
        }
        if (auto ok = target->set_property(p->name, p->value); !ok) {
            post(Message::make_warning(target->name(), ok.error().message()));
        }
    }

    // A read-only property's value, asked for by the pipeline (service
    // thread: the element's counters are read from other threads than the
    // streaming one, as in process).
    void answer_property(std::span<const std::byte> payload) {
        auto p = decode_property(payload);
        if (!p) {
            PARALLAX_WARNING(worker_log, "{}", p.error().message());
            return;
        }
        Element* target = element_named(p->element);
        WorkerProperty answer;
        answer.id = p->id;
        if (target == nullptr) {
            answer.ok = false;
            answer.value = fmt::format("no element {} in this worker", p->element);
        } else if (auto value = target->get_property(p->name)) {
            answer.value = std::move(*value);
        } else {
            answer.ok = false;
            answer.value = value.error().message();
        }
        FdMessage reply;
        reply.type = static_cast<std::uint16_t>(WorkerFrame::property_value);
        reply.payload = encode_property(answer);
        static_cast<void>(send(reply));
    }

    void serve() {
        while (true) {
            auto msg = channel_.receive_for(std::chrono::milliseconds(100));
            if (!msg) {
                if (stopping_.load()) {
                    return; // run() is done with the element
                }
                if (msg.error().is(Errc::closed)) {
                    // The pipeline is gone: nothing here is of use any more.
                    ::_exit(0);
                }
                continue;
            }
            if (msg->type == static_cast<std::uint16_t>(IpcFrame::arena_ack)) {
                auto ack = decode_arena_ack(msg->payload);
                std::lock_guard lock(arenas_mutex_);
                if (ack) {
                    pending_ack_ = *ack;
                }
                acks_cv_.notify_all();
                continue;
            }
            if (msg->type == static_cast<std::uint16_t>(WorkerFrame::property_query)) {
                answer_property(msg->payload);
                continue;
            }
            if (msg->type == static_cast<std::uint16_t>(WorkerFrame::upstream_event)) {
                // An upstream event from the pipeline (service thread; an
                // element takes upstream events on any thread): into the
                // last element's src pad, as from the element downstream.
                auto event = decode_upstream_event(msg->payload);
                if (event) {
                    static_cast<void>(sink_->pad("sink")->push_event(std::move(*event)));
                } else {
                    PARALLAX_WARNING(worker_log, "{}", event.error().message());
                }
                continue;
            }
            if (msg->type != static_cast<std::uint16_t>(WorkerFrame::arena_offer) || msg->fds.size() != 1) {
                continue;
            }
            auto offer = decode_worker_arena_offer(msg->payload);
            IpcArenaAck ack;
            ack.status = 1;
            if (offer) {
                ack.arena = offer->first;
                auto arena = cache_.attach(std::move(msg->fds[0]));
                if (arena && (*arena)->id() == offer->first) {
                    ack.status = 0;
                    ack.participant = (*arena)->handle();
                    std::lock_guard lock(arenas_mutex_);
                    parent_handles_.set(offer->first, offer->second);
                }
            }
            FdMessage reply;
            reply.type = static_cast<std::uint16_t>(IpcFrame::arena_ack);
            reply.payload = encode_arena_ack(ack);
            static_cast<void>(send(reply));
        }
    }

    FdChannel channel_;
    std::mutex send_mutex_;
    std::optional<ShmRing> in_;
    std::optional<ShmRing> out_;
    std::optional<Segment> status_segment_;
    WorkerStatus* status_ = nullptr;
    UniqueFd report_fd_;
    std::vector<std::unique_ptr<Element>> elements_; // in stream order
    std::unique_ptr<WorkerSrc> src_;
    std::unique_ptr<WorkerSink> sink_;
    BufferAllocator allocator_{"worker"};
    ArenaCache cache_;
    std::mutex arenas_mutex_;
    std::condition_variable acks_cv_;
    ArenaHandles parent_handles_;            // guarded by arenas_mutex_
    std::optional<IpcArenaAck> pending_ack_; // guarded by arenas_mutex_
    std::thread service_;
    std::vector<std::thread> tasks_;
    std::atomic<bool> stopping_{false};
    bool failed_flow_ = false;                   // streaming thread
    std::array<std::byte, 4096> meta_scratch_{}; // the pushing thread's
};

bool WorkerSrc::src_event(Pad&, Event&& event) {
    return worker->upstream(event);
}

Flow WorkerSink::chain(Pad&, Buffer&& buffer) {
    return worker->output(std::move(buffer));
}

bool WorkerSink::sink_event(Pad&, Event&& event) {
    return worker->output_event(event);
}

} // namespace

int run_worker(int control_fd) {
    auto channel = FdChannel::adopt(UniqueFd(control_fd));
    if (!channel) {
        PARALLAX_ERROR(worker_log, "fd {} is not a control socket: {}", control_fd, channel.error().to_string());
        return 2;
    }
    Worker worker(std::move(*channel));
    return worker.run();
}

} // namespace parallax::detail
