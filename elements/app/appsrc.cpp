#include <parallax/elements/app/appsrc.hpp>

#include <fmt/format.h>

namespace parallax {

namespace {

// GStreamer's default basesrc blocksize: the size hint need-data passes.
constexpr std::size_t need_data_hint = 4096;
// The streaming task waits for data in slices of this length so that a
// pipeline that pauses parks it between two slices.
constexpr auto wait_slice = std::chrono::milliseconds(100);

ClockTime queue_timestamp(const Buffer& b) {
    const ClockTime dts = b.meta().dts();
    return dts.is_none() ? b.meta().pts() : dts;
}

} // namespace

AppSrc::AppSrc() = default;
AppSrc::~AppSrc() = default;

Result<void> AppSrc::push_buffer(Buffer buffer) {
    return push(std::move(buffer), block_.get(), std::nullopt);
}

Result<void> AppSrc::push_buffer(Buffer buffer, std::chrono::nanoseconds timeout) {
    return push(std::move(buffer), true,
                std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
}

Result<void> AppSrc::push(Buffer buffer, bool wait, std::optional<std::chrono::steady_clock::time_point> deadline) {
    if (do_timestamp_.get() && buffer.meta().pts().is_none() && buffer.meta().dts().is_none()) {
        // Before the pipeline runs there is no running time yet: create()
        // stamps such buffers when it takes them out.
        if (const ClockTime now = context().running_time(); !now.is_none()) {
            buffer.meta().set_pts(now);
            buffer.meta().set_dts(now);
        }
    }
    std::unique_lock lock(mutex_);
    bool told_enough = false;
    while (true) {
        if (flushing_) {
            return fail(Error(Errc::state, fmt::format("{} is stopping or stopped: buffer refused", name()))
                            .at_element(name()));
        }
        if (eos_) {
            return fail(
                Error(Errc::closed, fmt::format("{} is at end of stream: buffer refused", name())).at_element(name()));
        }
        if (!full_locked()) {
            break;
        }
        if (!told_enough) {
            told_enough = true;
            std::shared_ptr<const EnoughData> callback;
            {
                std::lock_guard callbacks(callbacks_mutex_);
                callback = enough_data_;
            }
            if (callback && *callback) {
                lock.unlock();
                (*callback)();
                lock.lock();
                continue; // The callback ran unlocked: look again.
            }
        }
        const AppLeakyType leaky = leaky_type_.get();
        if (leaky == AppLeakyType::upstream) {
            ++dropped_;
            discont_upstream_ = true;
            return {};
        }
        if (leaky == AppLeakyType::downstream) {
            if (queued_buffers_ == 0) {
                break; // Full on time alone with nothing to drop: take it.
            }
            drop_oldest_locked();
            continue;
        }
        if (!wait) {
            return fail(Error(Errc::would_block,
                              fmt::format("{} is full ({} buffers, {} bytes queued) and block is false: buffer refused",
                                          name(), queued_buffers_, queued_bytes_))
                            .at_element(name()));
        }
        if (!deadline) {
            room_cv_.wait(lock);
        } else if (room_cv_.wait_until(lock, *deadline) == std::cv_status::timeout && !flushing_ && !eos_ &&
                   full_locked()) {
            return fail(Error(Errc::timeout, fmt::format("{} stayed full until the timeout: buffer refused", name()))
                            .at_element(name()));
        }
    }
    if (discont_upstream_) {
        buffer.meta().set_flag(BufferFlags::discont);
        discont_upstream_ = false;
    }
    ++queued_buffers_;
    queued_bytes_ += buffer.size();
    queue_.push_back(Item{std::move(buffer), std::nullopt});
    need_data_called_ = false;
    lock.unlock();
    data_cv_.notify_one();
    return {};
}

Result<void> AppSrc::end_of_stream() {
    {
        std::lock_guard lock(mutex_);
        if (flushing_) {
            return fail(Error(Errc::state, fmt::format("{} is stopping or stopped: end of stream refused", name()))
                            .at_element(name()));
        }
        eos_ = true;
    }
    data_cv_.notify_one();
    // Pushers waiting for room now fail with Errc::closed.
    room_cv_.notify_all();
    return {};
}

Result<void> AppSrc::set_caps(Caps caps) {
    return caps_.set(std::move(caps));
}

void AppSrc::set_need_data(NeedData callback) {
    auto p = callback ? std::make_shared<const NeedData>(std::move(callback)) : nullptr;
    std::lock_guard lock(callbacks_mutex_);
    need_data_ = std::move(p);
}

void AppSrc::set_enough_data(EnoughData callback) {
    auto p = callback ? std::make_shared<const EnoughData>(std::move(callback)) : nullptr;
    std::lock_guard lock(callbacks_mutex_);
    enough_data_ = std::move(p);
}

AppSrc::Level AppSrc::level() const {
    std::lock_guard lock(mutex_);
    return Level{queued_buffers_, queued_bytes_, queued_time_locked()};
}

std::uint64_t AppSrc::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

void AppSrc::request_eos() {
    // Pipeline::send_eos: what the application already queued still goes
    // out first.
    static_cast<void>(end_of_stream());
}

void AppSrc::unblock() {
    {
        std::lock_guard lock(mutex_);
        flushing_ = true;
    }
    data_cv_.notify_all();
    room_cv_.notify_all();
}

Result<void> AppSrc::start() {
    {
        std::lock_guard lock(mutex_);
        flushing_ = false;
    }
    caps_sent_ = false;
    sent_caps_gen_ = 0;
    return SimpleSource::start();
}

Result<void> AppSrc::stop() {
    {
        std::lock_guard lock(mutex_);
        flushing_ = true;
        eos_ = false;
        queue_.clear();
        queued_buffers_ = 0;
        queued_bytes_ = 0;
        need_data_called_ = false;
        discont_upstream_ = false;
        discont_downstream_ = false;
        // The caps changes still queued went with the queue: the next run
        // starts with the caps as they are now.
        output_caps_ = caps_.get();
        ++output_caps_gen_;
    }
    data_cv_.notify_all();
    room_cv_.notify_all();
    return {};
}

Flow AppSrc::create(Buffer& out, SourceContext& ctx) {
    std::unique_lock lock(mutex_);
    while (true) {
        if (flushing_) {
            return Flow::flushing;
        }
        if (!queue_.empty()) {
            Item item = std::move(queue_.front());
            queue_.pop_front();
            if (item.caps) {
                output_caps_ = std::move(*item.caps);
                ++output_caps_gen_;
                continue;
            }
            --queued_buffers_;
            queued_bytes_ -= item.buffer.size();
            out = std::move(item.buffer);
            break;
        }
        if (eos_) {
            return Flow::eos;
        }
        if (!need_data_called_) {
            need_data_called_ = true;
            lock.unlock();
            call_need_data();
            lock.lock();
            continue;
        }
        if (data_cv_.wait_for(lock, wait_slice) == std::cv_status::timeout) {
            return Flow::dropped; // Nothing produced: the task comes back.
        }
    }
    if (discont_downstream_) {
        out.meta().set_flag(BufferFlags::discont);
        discont_downstream_ = false;
    }
    const bool send_caps = !caps_sent_ || sent_caps_gen_ != output_caps_gen_;
    Caps caps = send_caps ? output_caps_ : Caps();
    const std::uint64_t caps_gen = output_caps_gen_;
    const std::uint64_t max_bytes = max_bytes_.get();
    const std::uint32_t min_percent = min_percent_.get();
    const bool below_min = min_percent != 0 && max_bytes != 0 && queued_bytes_ * 100 / max_bytes <= min_percent;
    lock.unlock();
    room_cv_.notify_all();

    if (send_caps) {
        caps_sent_ = true;
        sent_caps_gen_ = caps_gen;
        if (!caps.is_any() && !caps.is_empty()) {
            src_pad().push_event(Event::caps(std::move(caps)));
        }
    }
    if (do_timestamp_.get() && out.meta().pts().is_none() && out.meta().dts().is_none()) {
        const ClockTime now = ctx.running_time();
        out.meta().set_pts(now);
        out.meta().set_dts(now);
    }
    if (below_min) {
        call_need_data();
    }
    return Flow::ok;
}

StreamSegment AppSrc::output_segment() const {
    StreamSegment segment;
    switch (format_.get()) {
    case AppFormat::default_units:
        segment.format = Format::default_units;
        break;
    case AppFormat::bytes:
        segment.format = Format::bytes;
        break;
    case AppFormat::time:
        segment.format = Format::time;
        break;
    case AppFormat::buffers:
        segment.format = Format::buffers;
        break;
    }
    return segment;
}

bool AppSrc::query(Pad& pad, Query& q) {
    switch (q.type()) {
    case QueryType::caps: {
        const Caps caps = caps_.get();
        if (caps.is_any()) {
            break;
        }
        q.set_caps_result(intersect(q.caps_argument(), caps));
        return true;
    }
    case QueryType::latency: {
        const std::int64_t min = min_latency_.get();
        const std::int64_t max = max_latency_.get();
        q.set_latency(is_live_.get(), min < 0 ? ClockTime::zero() : ClockTime::from_ns(static_cast<std::uint64_t>(min)),
                      max < 0 ? ClockTime::none() : ClockTime::from_ns(static_cast<std::uint64_t>(max)));
        return true;
    }
    case QueryType::duration:
        if (q.format() == Format::bytes && size_.get() >= 0) {
            q.set_value(static_cast<std::uint64_t>(size_.get()));
            return true;
        }
        if (q.format() == Format::time && duration_.get() != ClockTime::none_ns) {
            q.set_value(duration_.get());
            return true;
        }
        return false;
    default:
        break;
    }
    return SimpleSource::query(pad, q);
}

void AppSrc::property_changed(const PropertyBase& property) {
    if (&property == &caps_) {
        queue_caps_change();
    } else {
        // A raised limit or a new leaky-type may let a waiting push through.
        // Taking the lock first orders this with a pusher that has just
        // checked and is about to sleep.
        { std::lock_guard lock(mutex_); }
        room_cv_.notify_all();
    }
}

bool AppSrc::full_locked() const {
    const std::uint64_t max_buffers = max_buffers_.get();
    if (max_buffers != 0 && queued_buffers_ >= max_buffers) {
        return true;
    }
    const std::uint64_t max_bytes = max_bytes_.get();
    if (max_bytes != 0 && queued_bytes_ >= max_bytes) {
        return true;
    }
    const std::uint64_t max_time = max_time_.get();
    return max_time != 0 && queued_time_locked() >= max_time;
}

std::uint64_t AppSrc::queued_time_locked() const {
    const Item* oldest = nullptr;
    for (const Item& i : queue_) {
        if (!i.caps) {
            oldest = &i;
            break;
        }
    }
    const Item* newest = nullptr;
    for (auto it = queue_.rbegin(); it != queue_.rend(); ++it) {
        if (!it->caps) {
            newest = &*it;
            break;
        }
    }
    if (oldest == nullptr || newest == nullptr) {
        return 0;
    }
    const ClockTime first = queue_timestamp(oldest->buffer);
    ClockTime last = queue_timestamp(newest->buffer);
    if (first.is_none() || last.is_none()) {
        return 0;
    }
    if (const ClockTime d = newest->buffer.meta().duration(); !d.is_none()) {
        last += d;
    }
    return last > first ? (last - first).ns() : 0;
}

void AppSrc::drop_oldest_locked() {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (!it->caps) {
            --queued_buffers_;
            queued_bytes_ -= it->buffer.size();
            queue_.erase(it);
            ++dropped_;
            discont_downstream_ = true;
            return;
        }
    }
}

void AppSrc::queue_caps_change() {
    Caps caps = caps_.get();
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Item{Buffer(), std::move(caps)});
    }
    data_cv_.notify_one();
}

void AppSrc::call_need_data() {
    std::shared_ptr<const NeedData> callback;
    {
        std::lock_guard lock(callbacks_mutex_);
        callback = need_data_;
    }
    if (callback && *callback) {
        (*callback)(need_data_hint);
    }
}

} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::AppSrc);
