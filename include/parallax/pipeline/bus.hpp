#pragma once

/// \file
/// Bus: where a pipeline's elements post messages (errors, eos, state
/// changes, element messages) for the application.

#include <parallax/base/export.hpp>
#include <parallax/element/message.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>

namespace parallax {

/// A thread-safe message queue from a pipeline to its application. Read it
/// by popping (with a timeout), or give it a handler; bus_asio.hpp adds
/// delivery on any Asio executor.
class PARALLAX_API Bus {
public:
    using Handler = std::function<void(const Message&)>;

    Bus();
    ~Bus();
    Bus(const Bus&) = delete;
    Bus& operator=(const Bus&) = delete;

    /// Posts a message. Called from: any thread.
    void post(Message message);

    /// The next message, waiting up to `timeout` (negative: forever; zero:
    /// do not wait). nullopt on timeout.
    std::optional<Message> pop(std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1));
    /// The next message of one of `types`, dropping others on the way.
    std::optional<Message> pop(std::initializer_list<MessageType> types,
                               std::chrono::nanoseconds timeout = std::chrono::nanoseconds(-1));

    /// Called for every message as it is posted, on the posting thread,
    /// before it is queued; return false to keep it off the queue. Keep it
    /// short: it may run on a streaming thread. Empty removes it.
    void set_sync_handler(std::function<bool(const Message&)> handler);
    /// Called (without the bus lock) whenever a message is queued: the hook
    /// bus_asio.hpp uses to wake an Asio executor. Empty removes it.
    void set_notify(std::function<void()> notify);

    /// Drops every queued message.
    void clear();
    [[nodiscard]] std::size_t size() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace parallax
