#include "element/element_access.hpp"
#include "pipeline/launch_parser.hpp"
#include "runtime/buffer_allocator.hpp"

#include <parallax/check/harness.hpp>

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace parallax::check {

namespace {

// The harness's ends: a src element feeding the element under test, and a
// sink element collecting what it produces.
class HarnessSrc final : public Element {
public:
    static constexpr ElementInfo info{.factory = "harness-src", .klass = "Source", .summary = "Harness input"};
    static std::vector<PadTemplate> pad_templates() {
        return {{"src", PadDirection::src, PadPresence::always, Caps::any()}};
    }
    [[nodiscard]] bool drives_src_pads() const noexcept override { return false; }
};

class HarnessSink final : public Element {
public:
    static constexpr ElementInfo info{.factory = "harness-sink", .klass = "Sink", .summary = "Harness output"};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::any()}};
    }

    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Buffer> buffers;
    std::vector<Event> events;
    std::vector<std::string> metas; // guarded by mutex
    bool eos = false;

protected:
    bool query(Pad& pad, Query& q) override {
        if (q.type() == QueryType::allocation) {
            std::lock_guard lock(mutex);
            for (const std::string& api : metas) {
                q.add_meta(api);
            }
            return true;
        }
        return Element::query(pad, q);
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        {
            std::lock_guard lock(mutex);
            buffers.push_back(std::move(buffer));
        }
        cv.notify_all();
        return Flow::ok;
    }
    bool sink_event(Pad&, Event&& event) override {
        {
            std::lock_guard lock(mutex);
            eos = eos || event.type() == EventType::eos;
            if (event.type() == EventType::flush_stop) {
                eos = false;
            }
            events.push_back(std::move(event));
        }
        cv.notify_all();
        return true;
    }
};

} // namespace

struct Harness::Impl final : public ElementHost {
    std::unique_ptr<Element> element;
    std::unique_ptr<HarnessSrc> src;
    std::unique_ptr<HarnessSink> sink;
    Pad* input = nullptr;
    Pad* output = nullptr;
    detail::BufferAllocator allocator{"harness"};
    bool stream_started = false;

    mutable std::mutex mutex;
    std::condition_variable cv;
    std::vector<Message> messages;
    bool sink_reported_eos = false;

    struct Task {
        std::string name;
        std::function<Flow()> step;
        std::thread thread;
    };
    std::vector<std::unique_ptr<Task>> tasks;
    std::atomic<bool> running{false};
    std::atomic<bool> stopping{false};
    std::mutex gate_mutex;
    std::condition_variable gate_cv;
    std::chrono::steady_clock::time_point base = std::chrono::steady_clock::now();
    bool started = false;

    ~Impl() override { static_cast<void>(stop()); }

    void post(Message message) override {
        {
            std::lock_guard lock(mutex);
            messages.push_back(std::move(message));
        }
        cv.notify_all();
    }
    Result<Buffer> allocate(std::size_t size) override { return allocator.allocate(size); }
    Result<void> start_task(Element&, std::string name, std::function<Flow()> step) override {
        auto t = std::make_unique<Task>();
        t->name = std::move(name);
        t->step = std::move(step);
        Task* raw = t.get();
        tasks.push_back(std::move(t));
        raw->thread = std::thread([this, raw] {
            while (!stopping.load()) {
                if (!running.load()) {
                    std::unique_lock lock(gate_mutex);
                    gate_cv.wait(lock, [&] { return running.load() || stopping.load(); });
                    continue;
                }
                Flow f = Flow::ok;
                try {
                    f = raw->step();
                } catch (const std::exception& e) {
                    f = element->context().error(Error(Errc::exception, e.what()));
                }
                if (is_success(f)) {
                    continue;
                }
                if (f == Flow::flushing && !stopping.load()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    continue;
                }
                break;
            }
        });
        return {};
    }
    ClockTime running_time() const override {
        return ClockTime::from_ns(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - base).count());
    }
    Flow wait_until(Element&, ClockTime t) override {
        while (!stopping.load()) {
            const ClockTime now = running_time();
            if (now >= t) {
                return Flow::ok;
            }
            std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>((t - now).ns(), 1'000'000)));
        }
        return Flow::flushing;
    }
    void sink_eos(Element&) override {
        {
            std::lock_guard lock(mutex);
            sink_reported_eos = true;
        }
        cv.notify_all();
    }
    void pad_added(Element& e, Pad& pad) override {
        if (&e == element.get() && pad.direction() == PadDirection::src && output == nullptr) {
            if (detail_pad_access::link(pad, *sink->pad("sink"))) {
                output = &pad;
            }
        }
    }
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

    Result<void> stop() {
        if (!started) {
            return {};
        }
        stopping.store(true);
        running.store(false);
        for (Element* e : {static_cast<Element*>(src.get()), element.get(), static_cast<Element*>(sink.get())}) {
            for (Pad* p : e->pads()) {
                detail_pad_access::set_flushing(*p, true);
            }
        }
        element->unblock();
        {
            std::lock_guard lock(gate_mutex);
        }
        gate_cv.notify_all();
        for (auto& t : tasks) {
            t->thread.join();
        }
        tasks.clear();
        auto ok = detail_element_access::stop(*element);
        for (Element* e : {static_cast<Element*>(src.get()), element.get(), static_cast<Element*>(sink.get())}) {
            for (Pad* p : e->pads()) {
                detail_pad_access::set_flushing(*p, false);
            }
            detail_element_access::set_state(*e, State::idle);
        }
        started = false;
        return ok;
    }
};

Harness::Harness(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Harness::~Harness() {
    static_cast<void>(impl_->stop());
    for (Pad* p : impl_->element->pads()) {
        detail_pad_access::unlink(*p);
    }
}

Result<std::unique_ptr<Harness>> Harness::create(std::string_view description, const Registry& registry) {
    auto parsed = detail::parse_launch(description);
    if (!parsed) {
        return fail(parsed.error());
    }
    if (parsed->elements.size() != 1 || !parsed->links.empty()) {
        return fail(Errc::invalid_argument,
                    fmt::format("a harness tests one element; \"{}\" describes {}", description,
                                parsed->elements.size()));
    }
    const auto& d = parsed->elements.front();
    std::string name;
    for (const auto& p : d.properties) {
        if (p.name == "name") {
            name = p.value;
        }
    }
    auto e = registry.create(d.factory, name);
    if (!e) {
        return fail(e.error());
    }
    for (const auto& p : d.properties) {
        if (p.name != "name") {
            if (auto ok = (*e)->set_property(p.name, p.value); !ok) {
                return fail(ok.error());
            }
        }
    }
    return wrap(std::move(*e));
}

Result<std::unique_ptr<Harness>> Harness::wrap(std::unique_ptr<Element> element) {
    if (!element) {
        return fail(Errc::invalid_argument, "no element to test");
    }
    auto impl = std::make_unique<Impl>();
    auto src = make_element<HarnessSrc>("harness-src");
    auto sink = make_element<HarnessSink>("harness-sink");
    if (!src || !sink) {
        return fail(Errc::failed, "cannot make the harness's own elements");
    }
    impl->element = std::move(element);
    impl->src = std::move(*src);
    impl->sink = std::move(*sink);
    for (Element* e : {static_cast<Element*>(impl->src.get()), impl->element.get(),
                       static_cast<Element*>(impl->sink.get())}) {
        detail_element_access::attach(*e, *impl);
    }
    Element& el = *impl->element;
    auto first_pad = [&](PadDirection dir) -> Pad* {
        for (Pad* p : el.pads()) {
            if (p->direction() == dir) {
                return p;
            }
        }
        for (const auto& t : el.pad_templates()) {
            if (t.direction == dir && t.presence == PadPresence::request) {
                auto p = el.request_pad(t.name);
                return p ? *p : nullptr;
            }
        }
        return nullptr;
    };
    if (Pad* in = first_pad(PadDirection::sink)) {
        if (auto ok = detail_pad_access::link(*impl->src->pad("src"), *in); !ok) {
            return fail(ok.error());
        }
        impl->input = in;
    }
    if (Pad* out = first_pad(PadDirection::src)) {
        if (auto ok = detail_pad_access::link(*out, *impl->sink->pad("sink")); !ok) {
            return fail(ok.error());
        }
        impl->output = out;
    }
    return std::unique_ptr<Harness>(new Harness(std::move(impl)));
}

Element& Harness::element() const noexcept {
    return *impl_->element;
}
Pad* Harness::input() const noexcept {
    return impl_->input;
}
Pad* Harness::output() const noexcept {
    return impl_->output;
}

Result<void> Harness::start() {
    if (impl_->started) {
        if (auto ok = stop(); !ok) {
            return ok;
        }
    }
    Impl& i = *impl_;
    i.stopping.store(false);
    i.running.store(false);
    i.stream_started = false;
    {
        std::lock_guard lock(i.mutex);
        i.sink_reported_eos = false;
    }
    {
        std::lock_guard lock(i.sink->mutex);
        i.sink->buffers.clear();
        i.sink->events.clear();
        i.sink->eos = false;
    }
    for (Element* e : {static_cast<Element*>(i.src.get()), i.element.get(), static_cast<Element*>(i.sink.get())}) {
        e->context().reset_errors();
        for (Pad* p : e->pads()) {
            detail_pad_access::reset(*p);
        }
        detail_element_access::set_state(*e, State::paused);
    }
    i.started = true;
    if (auto ok = detail_element_access::start(*i.element); !ok) {
        static_cast<void>(i.stop());
        return ok;
    }
    resume();
    return {};
}

Result<void> Harness::stop() {
    return impl_->stop();
}

void Harness::pause() {
    impl_->running.store(false);
    for (Element* e : {static_cast<Element*>(impl_->src.get()), impl_->element.get(),
                       static_cast<Element*>(impl_->sink.get())}) {
        detail_element_access::set_state(*e, State::paused);
    }
}

void Harness::resume() {
    for (Element* e : {static_cast<Element*>(impl_->src.get()), impl_->element.get(),
                       static_cast<Element*>(impl_->sink.get())}) {
        detail_element_access::set_state(*e, State::running);
    }
    impl_->running.store(true);
    {
        std::lock_guard lock(impl_->gate_mutex);
    }
    impl_->gate_cv.notify_all();
}

void Harness::set_output_metas(std::vector<std::string> apis) {
    std::lock_guard lock(impl_->sink->mutex);
    impl_->sink->metas = std::move(apis);
}

Result<void> Harness::set_input_caps(const Caps& caps) {
    Pad& out = *impl_->src->pad("src");
    if (impl_->input == nullptr) {
        return fail(Errc::invalid_argument, fmt::format("{} has no input pad", element().name()));
    }
    if (!impl_->stream_started) {
        impl_->stream_started = true;
        out.push_event(Event::stream_start("harness"));
    }
    if (!out.push_event(Event::caps(caps))) {
        return fail(Error(Errc::not_negotiated, fmt::format("{} refused caps {}", element().name(), caps.to_string()))
                        .at_element(element().name()));
    }
    out.push_event(Event::segment(StreamSegment{}));
    return {};
}

Result<Buffer> Harness::make_buffer(std::size_t size, std::uint8_t fill) {
    auto b = impl_->allocator.allocate(size);
    if (b && size > 0) {
        auto bytes = b->map_writable();
        if (!bytes) {
            return fail(bytes.error());
        }
        std::memset(bytes->data(), fill, bytes->size());
    }
    return b;
}

Result<Buffer> Harness::make_buffer(std::span<const std::byte> bytes) {
    auto b = impl_->allocator.allocate(bytes.size());
    if (b && !bytes.empty()) {
        auto dst = b->map_writable();
        if (!dst) {
            return fail(dst.error());
        }
        std::memcpy(dst->data(), bytes.data(), bytes.size());
    }
    return b;
}

Flow Harness::push(Buffer buffer) {
    if (impl_->input == nullptr) {
        return Flow::not_linked;
    }
    if (!impl_->stream_started) {
        impl_->stream_started = true;
        impl_->src->pad("src")->push_event(Event::stream_start("harness"));
        impl_->src->pad("src")->push_event(Event::segment(StreamSegment{}));
    }
    return impl_->src->pad("src")->push(std::move(buffer));
}

bool Harness::push_event(Event event) {
    if (event.is_downstream()) {
        return impl_->input != nullptr && impl_->src->pad("src")->push_event(std::move(event));
    }
    return impl_->output != nullptr && impl_->sink->pad("sink")->push_event(std::move(event));
}

std::optional<Buffer> Harness::pull(std::chrono::nanoseconds timeout) {
    HarnessSink& s = *impl_->sink;
    std::unique_lock lock(s.mutex);
    if (!s.cv.wait_for(lock, timeout, [&] { return !s.buffers.empty(); })) {
        return std::nullopt;
    }
    Buffer b = std::move(s.buffers.front());
    s.buffers.pop_front();
    return b;
}

std::size_t Harness::buffers_out() const {
    std::lock_guard lock(impl_->sink->mutex);
    return impl_->sink->buffers.size();
}

std::vector<Event> Harness::take_events() {
    std::lock_guard lock(impl_->sink->mutex);
    return std::exchange(impl_->sink->events, {});
}

bool Harness::eos() const {
    {
        std::lock_guard lock(impl_->sink->mutex);
        if (impl_->sink->eos) {
            return true;
        }
    }
    std::lock_guard lock(impl_->mutex);
    return impl_->sink_reported_eos;
}

bool Harness::wait_eos(std::chrono::nanoseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eos()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

std::vector<Message> Harness::messages() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->messages;
}

std::optional<Error> Harness::error() const {
    std::lock_guard lock(impl_->mutex);
    for (const auto& m : impl_->messages) {
        if (m.type == MessageType::error && m.error) {
            return m.error;
        }
    }
    return std::nullopt;
}

} // namespace parallax::check
