// The Executor: runs a pipeline's elements on streaming threads (one per
// element that drives its src pads: sources and queues), with Boost.Asio
// running the orchestration (state changes, timers, reactions to errors) on
// a control thread.

#include <parallax/base/log.hpp>

#include "element/element_access.hpp"
#include "isolation/isolated_element.hpp"
#include "pipeline/negotiation.hpp"
#include "pipeline/runner.hpp"
#include "runtime/buffer_allocator.hpp"
#include "runtime/realtime.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <set>
#include <thread>

namespace parallax::detail {

namespace {

LogCategory executor_log("executor", "streaming threads, state changes, scheduling plan");

using SteadyClock = std::chrono::steady_clock;

class Executor final : public Runner {
public:
    explicit Executor(PipelineCore& core)
        : core_(core), allocator_(core.name), work_(boost::asio::make_work_guard(io_)) {
        control_thread_ = std::thread([this] {
            control_id_.store(std::this_thread::get_id());
            io_.run();
        });
        while (control_id_.load() == std::thread::id()) {
            std::this_thread::yield();
        }
    }

    ~Executor() override {
        run_on_control([this] { bring_down_to(State::suspended); });
        work_.reset();
        io_.stop();
        control_thread_.join();
    }

    // ElementHost

    void post(Message message) override {
        if (message.timestamp.is_none()) {
            message.timestamp = running_time();
        }
        const bool is_error = message.type == MessageType::error;
        core_.bus.post(std::move(message));
        if (is_error && !error_stop_posted_.exchange(true)) {
            // Stop the pipeline from the control thread: the poster may be a
            // streaming thread that the stop joins.
            boost::asio::post(io_, [this] {
                if (state_.load() >= State::paused) {
                    PARALLAX_INFO(executor_log, "{}: stopping after an error", core_.name);
                    bring_down_to(State::idle);
                }
            });
        }
    }

    Result<Buffer> allocate(std::size_t size) override { return allocator_.allocate(size); }

    Result<void> start_task(Element& element, std::string name, std::function<Flow()> step) override {
        std::lock_guard lock(tasks_mutex_);
        auto task = std::make_unique<Task>();
        task->element = &element;
        task->name = std::move(name);
        task->step = std::move(step);
        Task* raw = task.get();
        raw->real_time = real_time_.fed_by(element) != nullptr;
        tasks_.push_back(std::move(task));
        raw->thread = std::thread([this, raw] { task_loop(*raw); });
        if (auto refused = real_time_.start(element, raw->thread.native_handle(), raw->name, core_.scheduling)) {
            post(std::move(*refused));
        }
        PARALLAX_DEBUG(executor_log, "{}: task {} started", core_.name, raw->name);
        return {};
    }

    ClockTime running_time() const override {
        std::lock_guard lock(clock_mutex_);
        return running_time_locked();
    }

    Flow wait_until(Element&, ClockTime t) override {
        std::unique_lock lock(clock_mutex_);
        while (true) {
            if (stopping_.load(std::memory_order_acquire)) {
                return Flow::flushing;
            }
            if (!clock_started_) {
                clock_cv_.wait(lock);
                continue;
            }
            const ClockTime now = running_time_locked();
            if (now >= t) {
                return Flow::ok;
            }
            if (clock_paused_) {
                clock_cv_.wait(lock);
            } else {
                clock_cv_.wait_for(lock, std::chrono::nanoseconds((t - now).ns()));
            }
        }
    }

    void sink_eos(Element& element) override {
        bool post_eos = false;
        {
            std::lock_guard lock(eos_mutex_);
            eos_sinks_.insert(&element);
            PARALLAX_DEBUG(executor_log, "{}: {} reached eos ({}/{})", core_.name, element.name(), eos_sinks_.size(),
                           sinks_.size());
            if (!eos_posted_ &&
                std::all_of(sinks_.begin(), sinks_.end(), [&](Element* s) { return eos_sinks_.contains(s); })) {
                eos_posted_ = true;
                post_eos = true;
            }
        }
        if (post_eos) {
            post(Message::make_eos(core_.name));
        }
    }

    void sink_stream_start(Element& element) override {
        bool post_start = false;
        {
            std::lock_guard lock(eos_mutex_);
            started_sinks_.insert(&element);
            if (!stream_start_posted_ &&
                std::all_of(sinks_.begin(), sinks_.end(), [&](Element* s) { return started_sinks_.contains(s); })) {
                stream_start_posted_ = true;
                post_start = true;
            }
        }
        if (post_start) {
            Message m;
            m.type = MessageType::stream_start;
            m.source = core_.name;
            post(std::move(m));
        }
    }

    void pad_added(Element& element, Pad& pad) override {
        if (core_.on_pad_added) {
            core_.on_pad_added(element, pad);
        }
    }

    void post_control(std::function<void()> fn) override { boost::asio::post(io_, std::move(fn)); }

    void renegotiate(Element& element) override {
        boost::asio::post(io_, [this, &element] {
            if (state_.load() < State::paused) {
                return; // negotiated again before the next run anyway
            }
            auto report = detail::negotiate(
                core_.graph, *core_.registry, core_.converter_policy, [](Element&) {}, true);
            if (!report) {
                element.context().post_error(report.error());
                return;
            }
            core_.negotiation.links = std::move(report->links);
        });
    }

    TimerHandle after(std::chrono::nanoseconds delay, std::function<void()> fn) override {
        auto cancelled = std::make_shared<std::atomic<bool>>(false);
        auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
        timer->async_wait([timer, cancelled, fn = std::move(fn)](const boost::system::error_code& ec) {
            if (!ec && !cancelled->load()) {
                fn();
            }
        });
        return TimerHandle(cancelled);
    }

    // Runner

    State current_state() const noexcept override { return state_.load(); }

    void run_on_control(const std::function<void()>& fn) override {
        if (std::this_thread::get_id() == control_id_.load()) {
            fn();
            return;
        }
        std::promise<void> done;
        boost::asio::post(io_, [&] {
            fn();
            done.set_value();
        });
        done.get_future().wait();
    }

    Result<void> step_state(State from, State to) override {
        Result<void> result;
        if (from == State::suspended && to == State::idle) {
            result = check_links();
            if (result) {
                result = negotiate_caps();
            }
            if (result) {
                place_elements();
            }
        } else if (from == State::idle && to == State::paused) {
            result = prepare();
        } else if (from == State::paused && to == State::running) {
            // Running before the first buffer moves: elements see their
            // state as running, and the state-changed message precedes any
            // eos or error that the data causes (as GStreamer's bins do).
            set_state(from, to);
            resume_clock();
            running_.store(true, std::memory_order_release);
            { std::lock_guard lock(gate_mutex_); }
            gate_cv_.notify_all();
            return {};
        } else if (from == State::running && to == State::paused) {
            running_.store(false, std::memory_order_release);
            pause_clock();
        } else if (from == State::paused && to == State::idle) {
            stop_streaming();
        }
        if (!result) {
            return result;
        }
        set_state(from, to);
        return {};
    }

    std::string plan() const override;

    void send_eos() override {
        for (Element* e : core_.graph.elements()) {
            if (e->is_source()) {
                e->request_eos();
            }
        }
    }

private:
    struct Task {
        Element* element = nullptr;
        std::string name;
        std::function<Flow()> step;
        std::thread thread;
        bool real_time = false; // runs a real-time element (real_time_.fed_by())
    };

    void set_state(State from, State to) {
        state_.store(to);
        for (Element* e : core_.graph.elements()) {
            detail_element_access::set_state(*e, to);
        }
        core_.bus.post(Message::make_state_changed(core_.name, from, to));
        if (core_.on_state_changed) {
            core_.on_state_changed(from, to);
        }
    }

    // Walks down one step at a time; used on errors and destruction.
    void bring_down_to(State target) {
        while (state_.load() > target) {
            const State from = state_.load();
            const State to = static_cast<State>(static_cast<int>(from) - 1);
            static_cast<void>(step_state(from, to));
        }
    }

    void task_loop(Task& t) {
        if (t.real_time) {
            mark_real_time_thread();
        }
        while (true) {
            if (stopping_.load(std::memory_order_relaxed)) {
                break;
            }
            if (!running_.load(std::memory_order_acquire)) {
                std::unique_lock lock(gate_mutex_);
                gate_cv_.wait(lock, [&] { return running_.load() || stopping_.load(); });
                continue;
            }
            Flow f = Flow::ok;
            try {
                f = t.step();
            } catch (const std::exception& e) {
                f = t.element->context().error(
                    Error(Errc::exception, std::string("exception in streaming code: ") + e.what()));
            } catch (...) {
                f = t.element->context().error(Error(Errc::exception, "unknown exception in streaming code"));
            }
            if (is_success(f)) {
                continue;
            }
            if (f == Flow::flushing) {
                if (stopping_.load()) {
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            if (f == Flow::not_linked || f == Flow::not_negotiated) {
                t.element->context().error(Error(f == Flow::not_linked ? Errc::not_linked : Errc::not_negotiated,
                                                 fmt::format("streaming stopped, reason {}", to_string(f))),
                                           fmt::format("task {}", t.name));
            }
            PARALLAX_DEBUG(executor_log, "{}: task {} ended: {}", core_.name, t.name, to_string(f));
            break;
        }
    }

    Result<void> check_links() {
        if (core_.graph.empty()) {
            return fail(Errc::invalid_argument, fmt::format("{} has no elements", core_.name));
        }
        for (Element* e : core_.graph.elements()) {
            for (Pad* p : e->pads()) {
                if (p->pad_template().presence == PadPresence::always && !p->is_linked() &&
                    !(core_.awaits_link && core_.awaits_link(*p))) {
                    return fail(Error(Errc::not_linked,
                                      p->direction() == PadDirection::src
                                          ? fmt::format("{} is not linked: its data would go nowhere", p->path())
                                          : fmt::format("{} is not linked: no data would ever reach it", p->path()))
                                    .at_element(e->name())
                                    .at_pad(p->name()));
                }
            }
        }
        return {};
    }

    // Solves the caps of every link (inserting converters as the policy
    // allows) and tells the bus what was inserted.
    Result<void> negotiate_caps() {
        auto report = detail::negotiate(core_.graph, *core_.registry, core_.converter_policy,
                                        [this](Element& e) { detail_element_access::attach(e, *this); });
        if (!report) {
            return fail(report.error());
        }
        // Converters inserted by an earlier negotiation stay in the graph.
        std::vector<InsertedConverter> inserted = std::move(core_.negotiation.inserted);
        for (InsertedConverter& c : report->inserted) {
            std::string text = fmt::format("inserted {} between {} and {} to convert between their formats", c.name,
                                           c.upstream, c.downstream);
            core_.bus.post(core_.converter_policy == ConverterPolicy::warn
                               ? Message::make_warning(c.name, std::move(text))
                               : Message::make_info(c.name, std::move(text)));
            inserted.push_back(std::move(c));
        }
        report->inserted = std::move(inserted);
        core_.negotiation = std::move(*report);
        return {};
    }

    Result<void> prepare() {
        if (auto ok = check_links(); !ok) {
            return ok;
        }
        if (auto ok = negotiate_caps(); !ok) {
            return ok;
        }
        place_elements();
        real_time_.prepare(real_time_drivers());
        stopping_.store(false);
        running_.store(false);
        error_stop_posted_.store(false);
        {
            std::lock_guard lock(eos_mutex_);
            eos_sinks_.clear();
            eos_posted_ = false;
            started_sinks_.clear();
            stream_start_posted_ = false;
            sinks_.clear();
            for (Element* e : core_.graph.elements()) {
                if (e->is_sink()) {
                    sinks_.push_back(e);
                }
            }
        }
        for (Element* e : core_.graph.elements()) {
            e->context().reset_errors();
            for (Pad* p : e->pads()) {
                detail_pad_access::reset(*p);
            }
        }
        {
            std::lock_guard lock(clock_mutex_);
            clock_started_ = false;
            clock_paused_ = false;
            paused_total_ = {};
        }
        // Downstream first, so that a sink is ready before data reaches it.
        auto order = core_.graph.topological_order();
        std::vector<Element*> started;
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            detail_element_access::set_state(**it, State::paused);
            auto ok = detail_element_access::start(**it);
            if (!ok) {
                Error e = ok.error();
                if (e.element().empty()) {
                    e.at_element((*it)->name());
                }
                stop_streaming_of(started);
                for (Element* x : core_.graph.elements()) {
                    detail_element_access::set_state(*x, State::idle);
                }
                return fail(std::move(e));
            }
            started.push_back(*it);
        }
        return {};
    }

    void stop_streaming() {
        auto order = core_.graph.topological_order();
        stop_streaming_of(order);
    }

    void stop_streaming_of(const std::vector<Element*>& elements) {
        stopping_.store(true, std::memory_order_release);
        running_.store(false, std::memory_order_release);
        for (Element* e : core_.graph.elements()) {
            for (Pad* p : e->pads()) {
                detail_pad_access::set_flushing(*p, true);
            }
        }
        for (Element* e : core_.graph.elements()) {
            e->unblock();
        }
        { std::lock_guard lock(gate_mutex_); }
        gate_cv_.notify_all();
        { std::lock_guard lock(clock_mutex_); }
        clock_cv_.notify_all();
        std::vector<std::unique_ptr<Task>> tasks;
        {
            std::lock_guard lock(tasks_mutex_);
            tasks.swap(tasks_);
        }
        for (auto& t : tasks) {
            t->thread.join();
        }
        for (Element* e : elements) {
            if (auto ok = detail_element_access::stop(*e); !ok) {
                PARALLAX_WARNING(executor_log, "{}: stop() failed: {}", e->name(), ok.error().to_string());
            }
        }
        for (Element* e : core_.graph.elements()) {
            for (Pad* p : e->pads()) {
                detail_pad_access::set_flushing(*p, false);
            }
        }
        std::lock_guard lock(clock_mutex_);
        clock_started_ = false;
        clock_paused_ = false;
    }

    // Chooses each element's strategy (docs/guide/execution.md), then puts
    // the thread boundaries the strategies and hints ask for.
    void place_elements() {
        std::map<const Element*, StrategyDecision> decisions;
        auto decide = [&] {
            for (Element* e : core_.graph.elements()) {
                if (decisions.contains(e)) {
                    continue;
                }
                auto previous = strategies_.find(e);
                StrategyDecision d =
                    choose_strategy(e->name(), e->factory().name(), e->hints(), core_.scheduling.strategies);
                const bool warned_before = previous != strategies_.end() && previous->second.warning == d.warning;
                if (!d.warning.empty() && !warned_before) {
                    PARALLAX_WARNING(executor_log, "{}: {}", e->name(), d.warning);
                    core_.bus.post(Message::make_warning(e->name(), d.warning));
                }
                decisions.emplace(e, std::move(d));
            }
            strategies_ = decisions;
        };
        decide();
        isolate(decisions);
        if (core_.scheduling.isolation.group_adjacent) {
            group(decisions);
        }
        strategies_ = decisions;
        if (core_.scheduling.automatic_boundaries) {
            insert_boundaries();
            decide(); // the boundaries just inserted
        }
    }

    // Puts a stand-in (isolation/isolated_element.hpp) in the place of each
    // element whose strategy is isolated: same name and pads, linked where
    // the element was; the element itself runs in a worker process. An
    // element a worker cannot run stays in process, with a warning.
    void isolate(std::map<const Element*, StrategyDecision>& decisions) {
        for (Element* e : core_.graph.elements()) {
            auto it = decisions.find(e);
            if (it == decisions.end() || it->second.strategy != ExecutionStrategy::isolated || is_isolated(*e)) {
                continue;
            }
            if (auto why = why_not_isolatable(*e)) {
                const std::string text = fmt::format("cannot run isolated ({}): it runs in process", *why);
                PARALLAX_WARNING(executor_log, "{}: {}", e->name(), text);
                core_.bus.post(Message::make_warning(e->name(), text));
                it->second.strategy = ExecutionStrategy::in_process;
                it->second.rule += fmt::format("; {}", text);
                continue;
            }
            // The links, by pad name, to restore around the stand-in.
            std::vector<std::pair<std::string, Pad*>> links;
            for (Pad* p : e->pads()) {
                if (Pad* peer = p->peer()) {
                    links.emplace_back(p->name(), peer);
                }
            }
            StrategyDecision decision = std::move(it->second);
            decisions.erase(it);
            auto removed = core_.graph.remove(*e);
            if (!removed) {
                PARALLAX_WARNING(executor_log, "{}: cannot take {} out of the graph: {}", core_.name, e->name(),
                                 removed.error().to_string());
                continue;
            }
            std::unique_ptr<Element> original = std::move(*removed);
            const std::string name = original->name();
            auto proxy = make_isolated(std::move(original), core_.scheduling.isolation);
            if (!proxy) {
                core_.bus.post(Message::make_error(name, proxy.error()));
                continue;
            }
            Element* pe = proxy->get();
            if (!core_.graph.add(std::move(*proxy))) {
                continue;
            }
            detail_element_access::attach(*pe, *this);
            for (auto& [pad_name, peer] : links) {
                Pad* mine = pe->pad(pad_name);
                if (mine == nullptr) {
                    continue;
                }
                auto linked = mine->direction() == PadDirection::src ? core_.graph.link(*mine, *peer)
                                                                     : core_.graph.link(*peer, *mine);
                if (!linked) {
                    PARALLAX_WARNING(executor_log, "{}: cannot link {}: {}", core_.name, mine->path(),
                                     linked.error().to_string());
                }
            }
            if (pe->drives_src_pads()) {
                boundary_reasons_[pe] = "strategy isolated: the element runs in a worker process, and this thread "
                                        "pushes what it outputs";
            }
            PARALLAX_INFO(executor_log, "{}: {} runs isolated ({})", core_.name, name, decision.rule);
            decisions.emplace(pe, std::move(decision));
        }
    }

    // Adjacent isolated elements with the same sandbox share a worker.
    void group(std::map<const Element*, StrategyDecision>& decisions) {
        for (const auto& chain : group_isolated(core_.graph.topological_order())) {
            std::vector<std::string> names;
            for (const Element* e : chain) {
                names.push_back(e->name());
            }
            const std::string all = fmt::format("{}", fmt::join(names, ", "));
            for (const Element* e : chain) {
                if (auto it = decisions.find(e); it != decisions.end()) {
                    it->second.rule += fmt::format("; in one worker process with its neighbours ({})", all);
                }
            }
            boundary_reasons_[chain.back()] =
                fmt::format("strategy isolated: {} run in one worker process, and this thread pushes what {} outputs",
                            all, chain.back()->name());
            PARALLAX_INFO(executor_log, "{}: {} share one worker process", core_.name, all);
        }
    }

    ExecutionStrategy strategy_of(const Element& e) const {
        auto it = strategies_.find(&e);
        return it == strategies_.end() ? ExecutionStrategy::in_process : it->second.strategy;
    }

    // What other work the thread that pushes out of `up` (the pad linked to
    // a CPU-bound element's input) would carry, for the plan; empty when
    // none. Work a boundary should keep apart from the CPU-bound element: a
    // CPU-bound element, an element that waits on I/O or runs real-time, or
    // other branches (an element with several outputs runs them all on its
    // thread). The walk goes upstream until the thread's start: a source, an
    // element that drives its outputs itself (a queue, an isolated element),
    // or a link that gets a boundary anyway (`split`). Parsers, identity and
    // other light elements share the thread: a hop to another thread would
    // cost more than running them in line.
    std::string work_sharing_thread(const Pad& up, const std::set<const Pad*>& split) const {
        for (const Pad* pad = &up;;) {
            if (split.contains(pad)) {
                return {};
            }
            const Element& x = pad->element();
            if (x.hints().processing == ProcessingHint::cpu_bound) {
                return fmt::format("{} upstream is CPU-bound too", x.name());
            }
            const ExecutionStrategy st = strategy_of(x);
            if (st == ExecutionStrategy::io) {
                return fmt::format("{} upstream waits on I/O", x.name());
            }
            if (st == ExecutionStrategy::real_time) {
                return fmt::format("{} upstream runs real-time", x.name());
            }
            if (x.src_pads().size() != 1) {
                return fmt::format("{} upstream runs its other outputs on the same thread", x.name());
            }
            if (x.drives_src_pads() || is_isolated(x)) {
                return {};
            }
            const auto sinks = x.sink_pads();
            if (sinks.size() != 1) {
                return fmt::format("{} upstream has several inputs", x.name());
            }
            pad = sinks.front()->peer();
            if (pad == nullptr) {
                return {};
            }
        }
    }

    // Thread boundaries the hints and strategies ask for: in front of
    // CPU-bound elements whose thread would otherwise carry other work
    // (see work_sharing_thread()); behind sources and in front of other
    // elements whose strategy is io. Each is an ordinary queue named
    // auto-queueN.
    void insert_boundaries() {
        const ElementFactory* queue = core_.registry->find("queue");
        if (queue == nullptr) {
            return;
        }
        std::vector<std::pair<Pad*, std::string>> wanted; // (src pad to split after, reason)
        for (Element* e : core_.graph.topological_order()) {
            if (is_isolated(*e)) {
                continue; // handing a buffer to its worker is cheap, and its output has a thread of its own
            }
            const ExecutionHints h = e->hints();
            if (h.processing == ProcessingHint::cpu_bound && !e->is_source()) {
                std::set<const Pad*> split;
                for (const auto& w : wanted) {
                    split.insert(w.first);
                }
                for (Pad* p : e->sink_pads()) {
                    Pad* up = p->peer();
                    if (up == nullptr || (up->element().drives_src_pads() && !up->element().is_source())) {
                        continue;
                    }
                    if (const std::string work = work_sharing_thread(*up, split); !work.empty()) {
                        wanted.emplace_back(
                            up, fmt::format("in front of {} (hints: processing=cpu-bound, and {})", e->name(), work));
                    }
                }
            }
            if (strategy_of(*e) == ExecutionStrategy::io && e->is_source()) {
                for (Pad* p : e->src_pads()) {
                    Pad* down = p->peer();
                    if (down != nullptr && !down->element().drives_src_pads()) {
                        wanted.emplace_back(p, fmt::format("behind {} (strategy io: waiting on I/O does not stall "
                                                           "the rest)",
                                                           e->name()));
                    }
                }
            } else if (strategy_of(*e) == ExecutionStrategy::real_time && core_.scheduling.real_time &&
                       !e->drives_src_pads()) {
                for (Pad* p : e->sink_pads()) {
                    Pad* up = p->peer();
                    if (up != nullptr && !(up->element().drives_src_pads() && !up->element().is_source())) {
                        wanted.emplace_back(up, fmt::format("in front of {} (strategy real-time: a thread of its "
                                                            "own, SCHED_FIFO when permitted)",
                                                            e->name()));
                    }
                }
            } else if (strategy_of(*e) == ExecutionStrategy::io && h.processing != ProcessingHint::cpu_bound) {
                for (Pad* p : e->sink_pads()) {
                    Pad* up = p->peer();
                    if (up != nullptr && !(up->element().drives_src_pads() && !up->element().is_source())) {
                        wanted.emplace_back(up, fmt::format("in front of {} (strategy io: waiting on I/O does not "
                                                            "stall the rest)",
                                                            e->name()));
                    }
                }
            }
        }
        // One boundary per link, whichever side asked first.
        std::set<Pad*> split;
        std::erase_if(wanted, [&](const auto& w) { return !split.insert(w.first).second; });
        for (auto& [src, reason] : wanted) {
            std::string name;
            do {
                name = fmt::format("auto-queue{}", auto_queue_counter_++);
            } while (core_.graph.find(name) != nullptr);
            auto q = queue->create(name);
            if (!q) {
                continue;
            }
            Element* qe = (*q).get();
            if (!core_.graph.add(std::move(*q))) {
                continue;
            }
            detail_element_access::attach(*qe, *this);
            Pad* sink = src->peer();
            core_.graph.unlink(*src);
            if (!core_.graph.link(*src, *qe->pad("sink")) || !core_.graph.link(*qe->pad("src"), *sink)) {
                PARALLAX_WARNING(executor_log, "{}: could not insert {}", core_.name, name);
                continue;
            }
            boundary_reasons_[qe] = reason;
            PARALLAX_INFO(executor_log, "{}: inserted {} {}", core_.name, name, reason);
        }
    }

    ClockTime running_time_locked() const {
        if (!clock_started_) {
            return ClockTime::none();
        }
        const auto now = clock_paused_ ? paused_at_ : SteadyClock::now();
        return ClockTime::from_ns(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - base_ - paused_total_).count());
    }

    void resume_clock() {
        {
            std::lock_guard lock(clock_mutex_);
            if (!clock_started_) {
                clock_started_ = true;
                clock_paused_ = false;
                base_ = SteadyClock::now();
                paused_total_ = {};
            } else if (clock_paused_) {
                paused_total_ += SteadyClock::now() - paused_at_;
                clock_paused_ = false;
            }
        }
        clock_cv_.notify_all();
    }

    void pause_clock() {
        std::lock_guard lock(clock_mutex_);
        if (clock_started_ && !clock_paused_) {
            clock_paused_ = true;
            paused_at_ = SteadyClock::now();
        }
    }

    PipelineCore& core_;
    BufferAllocator allocator_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread control_thread_;
    std::atomic<std::thread::id> control_id_{};

    std::atomic<State> state_{State::suspended};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> running_{false};
    std::atomic<bool> error_stop_posted_{false};
    std::mutex gate_mutex_;
    std::condition_variable gate_cv_;

    std::mutex tasks_mutex_;
    std::vector<std::unique_ptr<Task>> tasks_;

    mutable std::mutex clock_mutex_;
    std::condition_variable clock_cv_;
    bool clock_started_ = false;
    bool clock_paused_ = false;
    SteadyClock::time_point base_;
    SteadyClock::time_point paused_at_;
    SteadyClock::duration paused_total_{};

    std::mutex eos_mutex_;
    std::vector<Element*> sinks_;
    std::set<Element*> eos_sinks_;
    bool eos_posted_ = false;
    std::set<Element*> started_sinks_;
    bool stream_start_posted_ = false;

    unsigned auto_queue_counter_ = 0;
    std::map<const Element*, std::string> boundary_reasons_;
    RealTimeThreads real_time_; // see runtime/realtime.hpp
    RealTimeThreads::Drivers real_time_drivers() const {
        return RealTimeThreads::drivers(core_.graph.elements(), core_.scheduling, [this](const Element& e) {
            return strategy_of(e) == ExecutionStrategy::real_time;
        });
    }
    std::map<const Element*, StrategyDecision> strategies_;
};

std::string Executor::plan() const {
    std::string out;
    std::vector<Element*> drivers;
    const auto rt = real_time_drivers();
    for (Element* e : core_.graph.topological_order()) {
        if (e->drives_src_pads()) {
            drivers.push_back(e);
        }
    }
    out += fmt::format("{}: {} streaming thread{}\n", core_.name, drivers.size(), drivers.size() == 1 ? "" : "s");
    unsigned n = 1;
    for (Element* d : drivers) {
        out +=
            fmt::format("  thread {}: driven by {}{}\n", n++, d->name(), real_time_.describe(*d, rt, core_.scheduling));
        // Depth-first down the links until the next element that drives its
        // own src pads: everything on the way runs as direct calls.
        std::vector<std::pair<Element*, int>> stack{{d, 0}};
        std::set<Element*> seen;
        while (!stack.empty()) {
            auto [e, depth] = stack.back();
            stack.pop_back();
            if (!seen.insert(e).second) {
                continue;
            }
            const bool hands_over = e != d && e->drives_src_pads();
            out += fmt::format("    {}{}{}\n", std::string(static_cast<std::size_t>(depth) * 2, ' '), e->name(),
                               hands_over ? "  (hands over to its own thread)" : "");
            if (hands_over) {
                continue;
            }
            auto srcs = e->src_pads();
            for (auto it = srcs.rbegin(); it != srcs.rend(); ++it) {
                if (Pad* peer = (*it)->peer()) {
                    stack.emplace_back(&peer->element(), depth + 1);
                }
            }
        }
    }
    out += "thread boundaries:\n";
    bool any = false;
    for (Element* d : drivers) {
        if (d->is_source()) {
            continue;
        }
        any = true;
        auto it = boundary_reasons_.find(d);
        out += fmt::format("  {}: {}\n", d->name(),
                           it != boundary_reasons_.end()
                               ? it->second
                               : std::string("a ") + std::string(d->factory().name()) + " in the pipeline");
    }
    if (!any) {
        out += "  none: every element runs on its source's thread\n";
    }
    out += "strategies:\n";
    std::size_t width = 0;
    for (Element* e : core_.graph.topological_order()) {
        width = std::max(width, e->name().size());
    }
    for (Element* e : core_.graph.topological_order()) {
        auto it = strategies_.find(e);
        if (it == strategies_.end()) {
            continue;
        }
        out += fmt::format("  {:<{}}  {:<10}  {}\n", e->name(), width, to_string(it->second.strategy), it->second.rule);
    }
    return out;
}

} // namespace

std::unique_ptr<Runner> make_runner(PipelineCore& core) {
    return std::make_unique<Executor>(core);
}

} // namespace parallax::detail
