#pragma once

/// \file
/// Delivers a Bus's messages on an Asio executor (Boost.Asio), so that an
/// application's io_context handles pipeline messages beside its sockets and
/// timers.

#include <parallax/pipeline/bus.hpp>

#include <boost/asio/post.hpp>

#include <functional>
#include <memory>

namespace parallax {

/// From now on, every message posted on `bus` is popped and passed to
/// `handler` on `executor`, in order. **Ownership:** the bus must outlive
/// the executor's pending work, or call stop_watch() first.
template <class Executor>
void watch(Bus& bus, Executor executor, std::function<void(const Message&)> handler) {
    auto shared = std::make_shared<std::function<void(const Message&)>>(std::move(handler));
    bus.set_notify([&bus, executor, shared] {
        boost::asio::post(executor, [&bus, shared] {
            while (auto m = bus.pop(std::chrono::nanoseconds(0))) {
                (*shared)(*m);
            }
        });
    });
}

/// Stops delivering messages to an executor.
inline void stop_watch(Bus& bus) {
    bus.set_notify({});
}

} // namespace parallax
