#pragma once

/// \file
/// FdChannel: small framed, versioned messages with file descriptors attached,
/// between two processes (or two threads) over a Unix-domain SOCK_SEQPACKET
/// socket. This is how an arena's memfd reaches another process.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/base/unique_fd.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parallax {

/// One message of an FdChannel: a type chosen by the protocol that uses the
/// channel, up to FdChannel::max_payload_size bytes, and up to
/// FdChannel::max_fds file descriptors.
///
/// **Ownership:** the message owns its fds. FdChannel::send() only borrows
/// them (the kernel installs duplicates in the receiving process), so they stay
/// open in the sender. A message returned by FdChannel::receive() owns fds
/// that are new in this process, all with FD_CLOEXEC set.
struct FdMessage {
    std::uint16_t type = 0;
    std::vector<std::byte> payload;
    std::vector<UniqueFd> fds;
};

/// A connected Unix-domain SOCK_SEQPACKET socket (CLOEXEC) carrying FdMessages.
///
/// Each message travels as one datagram: a 16-byte little-endian header
/// (magic "PLXF", version, type, payload size, fd count), then the payload; the
/// fds ride along as SCM_RIGHTS. A datagram that is not a well-formed frame is
/// reported as an Error that says what is wrong, and every fd that came with
/// it is closed; the channel stays usable for the next datagram.
/// See docs/design/fd_channel.md for the frame layout.
///
/// Calls retry on EINTR. Sending to a peer that has gone away is Errc::closed,
/// never SIGPIPE. One thread may send while another receives; two threads must
/// not receive on the same channel at the same time.
///
/// **Ownership:** the channel owns its socket and closes it on destruction.
/// Moving transfers it; a moved-from or released channel is empty and every
/// call on it fails with Errc::state.
class PARALLAX_API FdChannel {
public:
    /// Largest payload of one message, in bytes.
    static constexpr std::size_t max_payload_size = std::size_t{64} * 1024;
    /// Most fds attached to one message.
    static constexpr std::size_t max_fds = 16;

    /// Two connected channels (socketpair). Hand one to a child process by
    /// fork, or by fork+exec after release() and clearing FD_CLOEXEC on the
    /// child's copy; the child then calls adopt().
    static Result<std::pair<FdChannel, FdChannel>> pair();

    /// Connects to a listening FdListener. `address` is a filesystem path, or
    /// a Linux abstract name written with a leading '@' ("@parallax-worker").
    static Result<FdChannel> connect(std::string_view address);

    /// Takes over a connected SOCK_SEQPACKET Unix socket, typically one
    /// inherited across fork+exec. Anything else (not a socket, another family
    /// or type, not connected) is Errc::invalid_argument. Sets FD_CLOEXEC so
    /// that the socket does not leak into further children.
    /// **Ownership:** the channel takes `fd`; on error it is closed.
    static Result<FdChannel> adopt(UniqueFd fd);

    FdChannel(FdChannel&& other) noexcept;
    FdChannel& operator=(FdChannel&& other) noexcept;
    FdChannel(const FdChannel&) = delete;
    FdChannel& operator=(const FdChannel&) = delete;
    ~FdChannel();

    /// Sends one message, waiting while the peer's queue is full. A payload
    /// larger than max_payload_size or more than max_fds fds is
    /// Errc::out_of_range, an invalid fd Errc::invalid_argument, a peer that
    /// has gone away Errc::closed. Nothing is sent when an error is returned.
    /// **Ownership:** the message's fds are only borrowed; they stay open here.
    Result<void> send(const FdMessage& message);

    /// Waits for the next message. Errc::closed once the peer has gone away
    /// and every message it sent has been received; Errc::corrupt or
    /// Errc::version_mismatch for a malformed datagram (its fds are closed).
    /// **Ownership:** the caller owns the returned message's fds.
    Result<FdMessage> receive();

    /// Like receive(), but gives up with Errc::timeout after `timeout`.
    /// **Ownership:** the caller owns the returned message's fds.
    Result<FdMessage> receive_for(std::chrono::milliseconds timeout);

    /// Like receive(), but returns Errc::would_block at once when no message
    /// is waiting. For callers that poll fd() themselves.
    /// **Ownership:** the caller owns the returned message's fds.
    Result<FdMessage> try_receive();

    /// The socket, for poll/epoll/Asio readiness (readable: a message or the
    /// peer's close is waiting). Do not read from or write to it directly.
    /// -1 when the channel is empty.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    /// True unless the channel was moved from or released.
    [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }

    /// Gives up the socket, e.g. to pass it to a child process.
    /// **Ownership:** the caller owns the returned fd; the channel is empty.
    [[nodiscard]] UniqueFd release() noexcept;

private:
    explicit FdChannel(UniqueFd fd);

    UniqueFd fd_;
    // Room for the largest frame, allocated once per channel.
    std::unique_ptr<std::byte[]> buffer_;
};

/// A listening Unix-domain SOCK_SEQPACKET socket (CLOEXEC) that accepts
/// FdChannels.
///
/// **Ownership:** the listener owns its socket and, for a filesystem address,
/// the socket file it created: both are removed on destruction (only in the
/// process that called listen(), not in a forked child). Moving transfers them.
class PARALLAX_API FdListener {
public:
    /// Binds and listens on `address`: a filesystem path, or a Linux abstract
    /// name written with a leading '@'. A file already present at the path is
    /// an error (EADDRINUSE); a stale socket file must be removed first.
    static Result<FdListener> listen(std::string_view address, int backlog = 16);

    FdListener(FdListener&& other) noexcept;
    FdListener& operator=(FdListener&& other) noexcept;
    FdListener(const FdListener&) = delete;
    FdListener& operator=(const FdListener&) = delete;
    ~FdListener();

    /// Waits for the next connection.
    Result<FdChannel> accept();

    /// Like accept(), but gives up with Errc::timeout after `timeout`.
    Result<FdChannel> accept_for(std::chrono::milliseconds timeout);

    /// The listening socket, for readiness polling (readable: a connection is
    /// waiting). -1 when the listener is empty.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    /// The address given to listen().
    [[nodiscard]] const std::string& address() const noexcept { return address_; }

private:
    FdListener(UniqueFd fd, std::string address) noexcept;
    void remove_socket_file() noexcept;

    UniqueFd fd_;
    std::string address_;
    std::int32_t owner_pid_ = 0;
};

} // namespace parallax
