#include <parallax/pipeline/bus.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace parallax {

struct Bus::Impl {
    mutable std::mutex mutex;
    std::condition_variable cv;
    std::deque<Message> queue;
    std::function<bool(const Message&)> sync_handler;
    std::function<void()> notify;
};

Bus::Bus() : impl_(std::make_unique<Impl>()) {}
Bus::~Bus() = default;

void Bus::post(Message message) {
    std::function<void()> notify;
    {
        std::unique_lock lock(impl_->mutex);
        if (impl_->sync_handler) {
            auto handler = impl_->sync_handler;
            lock.unlock();
            if (!handler(message)) {
                return;
            }
            lock.lock();
        }
        impl_->queue.push_back(std::move(message));
        notify = impl_->notify;
    }
    impl_->cv.notify_all();
    if (notify) {
        notify();
    }
}

std::optional<Message> Bus::pop(std::chrono::nanoseconds timeout) {
    std::unique_lock lock(impl_->mutex);
    auto ready = [&] { return !impl_->queue.empty(); };
    if (timeout.count() < 0) {
        impl_->cv.wait(lock, ready);
    } else if (!impl_->cv.wait_for(lock, timeout, ready)) {
        return std::nullopt;
    }
    Message m = std::move(impl_->queue.front());
    impl_->queue.pop_front();
    return m;
}

std::optional<Message> Bus::pop(std::initializer_list<MessageType> types, std::chrono::nanoseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto left = timeout.count() < 0 ? timeout
                                        : std::max(std::chrono::nanoseconds(0),
                                                   std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                       deadline - std::chrono::steady_clock::now()));
        auto m = pop(left);
        if (!m) {
            return std::nullopt;
        }
        if (std::find(types.begin(), types.end(), m->type) != types.end()) {
            return m;
        }
    }
}

void Bus::set_sync_handler(std::function<bool(const Message&)> handler) {
    std::lock_guard lock(impl_->mutex);
    impl_->sync_handler = std::move(handler);
}

void Bus::set_notify(std::function<void()> notify) {
    std::lock_guard lock(impl_->mutex);
    impl_->notify = std::move(notify);
}

void Bus::clear() {
    std::lock_guard lock(impl_->mutex);
    impl_->queue.clear();
}

std::size_t Bus::size() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->queue.size();
}

} // namespace parallax
