#include <parallax/elements/app/appsink.hpp>

#include <fmt/format.h>

namespace parallax {

AppSink::AppSink() = default;
AppSink::~AppSink() = default;

Result<Sample> AppSink::pull_sample() {
    return pull(std::nullopt);
}

Result<Sample> AppSink::try_pull_sample(std::chrono::nanoseconds timeout) {
    return pull(std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
}

Result<Sample> AppSink::pull(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    while (true) {
        if (!queue_.empty()) {
            Sample s = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            room_cv_.notify_all();
            return s;
        }
        if (flushing_) {
            return fail(
                Error(Errc::state, fmt::format("{} is stopping or stopped: no sample", name())).at_element(name()));
        }
        if (eos_) {
            return fail(
                Error(Errc::closed, fmt::format("{} is at end of stream: no sample left", name())).at_element(name()));
        }
        if (!deadline) {
            sample_cv_.wait(lock);
        } else if (sample_cv_.wait_until(lock, *deadline) == std::cv_status::timeout && queue_.empty() && !flushing_ &&
                   !eos_) {
            return fail(
                Error(Errc::timeout, fmt::format("{}: no sample before the timeout", name())).at_element(name()));
        }
    }
}

bool AppSink::is_eos() const {
    std::lock_guard lock(mutex_);
    return queue_.empty() && (eos_ || flushing_);
}

void AppSink::set_new_sample(NewSample callback) {
    auto p = callback ? std::make_shared<const NewSample>(std::move(callback)) : nullptr;
    std::lock_guard lock(callbacks_mutex_);
    new_sample_ = std::move(p);
}

void AppSink::set_eos(EosCallback callback) {
    auto p = callback ? std::make_shared<const EosCallback>(std::move(callback)) : nullptr;
    std::lock_guard lock(callbacks_mutex_);
    eos_callback_ = std::move(p);
}

std::size_t AppSink::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::uint64_t AppSink::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

void AppSink::unblock() {
    {
        std::lock_guard lock(mutex_);
        flushing_ = true;
    }
    sample_cv_.notify_all();
    room_cv_.notify_all();
}

Result<void> AppSink::start() {
    std::lock_guard lock(mutex_);
    flushing_ = false;
    eos_ = false;
    queue_.clear();
    current_caps_ = Caps();
    caps_refused_ = false;
    return {};
}

Result<void> AppSink::stop() {
    {
        std::lock_guard lock(mutex_);
        flushing_ = true;
        queue_.clear();
    }
    sample_cv_.notify_all();
    room_cv_.notify_all();
    return {};
}

bool AppSink::full_locked() const {
    const std::uint32_t max = max_buffers_.get();
    return max != 0 && queue_.size() >= max;
}

Flow AppSink::render(Buffer& buffer, SinkContext& ctx) {
    static_cast<void>(ctx);
    if (caps_refused_) {
        return Flow::error; // Posted when the caps arrived.
    }
    if (sync_.get()) {
        if (const Flow f = wait_for_buffer_time(buffer); f != Flow::ok) {
            return f;
        }
    }
    {
        std::unique_lock lock(mutex_);
        while (true) {
            if (flushing_) {
                return Flow::flushing;
            }
            if (!full_locked()) {
                break;
            }
            if (drop_.get()) {
                queue_.pop_front();
                ++dropped_;
                continue;
            }
            room_cv_.wait(lock);
        }
        queue_.push_back(Sample{std::move(buffer), current_caps_});
    }
    sample_cv_.notify_one();
    std::shared_ptr<const NewSample> callback;
    {
        std::lock_guard lock(callbacks_mutex_);
        callback = new_sample_;
    }
    if (callback && *callback) {
        (*callback)(*this);
    }
    return Flow::ok;
}

bool AppSink::sink_event(Pad& pad, Event&& event) {
    switch (event.type()) {
    case EventType::caps: {
        const Caps& caps = *event.caps_value();
        const Caps allowed = caps_.get();
        if (!allowed.is_any() && !is_subset(caps, allowed)) {
            caps_refused_ = true;
            context().error(Error(Errc::not_negotiated, fmt::format("{} does not accept caps {} (caps property: {})",
                                                                    name(), caps.to_string(), allowed.to_string())));
            return false;
        }
        caps_refused_ = false;
        current_caps_ = caps;
        break;
    }
    case EventType::flush_start: {
        {
            std::lock_guard lock(mutex_);
            flushing_ = true;
        }
        sample_cv_.notify_all();
        room_cv_.notify_all();
        break;
    }
    case EventType::flush_stop: {
        std::lock_guard lock(mutex_);
        queue_.clear();
        flushing_ = false;
        eos_ = false;
        break;
    }
    case EventType::eos: {
        std::unique_lock lock(mutex_);
        eos_ = true;
        sample_cv_.notify_all();
        // Report the end only once the application took everything, so
        // that the pipeline's eos means "all pulled".
        while (wait_on_eos_.get() && !queue_.empty() && !flushing_) {
            room_cv_.wait(lock);
        }
        if (flushing_) {
            return false;
        }
        lock.unlock();
        std::shared_ptr<const EosCallback> callback;
        {
            std::lock_guard callbacks(callbacks_mutex_);
            callback = eos_callback_;
        }
        if (callback && *callback) {
            (*callback)(*this);
        }
        break;
    }
    default:
        break;
    }
    return SimpleSink::sink_event(pad, std::move(event));
}

bool AppSink::query(Pad& pad, Query& q) {
    const Caps allowed = caps_.get();
    if (allowed.is_any()) {
        return SimpleSink::query(pad, q);
    }
    switch (q.type()) {
    case QueryType::caps:
        q.set_caps_result(intersect(q.caps_argument(), allowed));
        return true;
    case QueryType::accept_caps:
        q.set_accepted(is_subset(q.caps_argument(), allowed));
        return true;
    default:
        return SimpleSink::query(pad, q);
    }
}

void AppSink::property_changed(const PropertyBase& property) {
    if (&property == &max_buffers_ || &property == &drop_ || &property == &wait_on_eos_) {
        // A raised limit, drop=true or wait-on-eos=false may let the
        // streaming thread go on. Taking the lock first orders this with a
        // waiter that has just checked and is about to sleep.
        { std::lock_guard lock(mutex_); }
        room_cv_.notify_all();
    }
    if (&property == &caps_ && state() >= State::paused) {
        // Other caps while data flows: upstream negotiates again.
        context().renegotiate();
    }
}

} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::AppSink);
