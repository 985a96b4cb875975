#include <parallax/memory/fd_channel.hpp>

#include "memory/fd_frame.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace parallax {
namespace {

using Clock = std::chrono::steady_clock;

// Room for max_fds descriptors in one SCM_RIGHTS message. A sender that
// attaches more makes the kernel set MSG_CTRUNC and drop the rest.
constexpr std::size_t control_size = CMSG_SPACE(sizeof(int) * FdChannel::max_fds);

struct UnixAddress {
    sockaddr_un addr{};
    socklen_t length = 0;
};

// "@name" is a Linux abstract name: sun_path starts with a NUL and the name
// is exactly the bytes that follow, without a terminator.
Result<UnixAddress> make_address(std::string_view address) {
    UnixAddress out;
    out.addr.sun_family = AF_UNIX;
    constexpr std::size_t path_room = sizeof(out.addr.sun_path);
    if (address.empty()) {
        return fail(Errc::invalid_argument, "fd channel: empty socket address");
    }
    if (address.find('\0') != std::string_view::npos) {
        return fail(Errc::invalid_argument, "fd channel: socket address contains a NUL byte");
    }
    if (address.front() == '@') {
        const std::string_view name = address.substr(1);
        if (name.empty()) {
            return fail(Errc::invalid_argument, "fd channel: abstract socket name after '@' is empty");
        }
        if (name.size() > path_room - 1) {
            return fail(Errc::invalid_argument,
                        fmt::format("fd channel: abstract socket name '{}' is {} bytes, the limit is {}", address,
                                    name.size(), path_room - 1));
        }
        out.addr.sun_path[0] = '\0';
        std::memcpy(out.addr.sun_path + 1, name.data(), name.size());
        out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
        return out;
    }
    if (address.size() >= path_room) {
        return fail(Errc::invalid_argument, fmt::format("fd channel: socket path '{}' is {} bytes, the limit is {}",
                                                        address, address.size(), path_room - 1));
    }
    std::memcpy(out.addr.sun_path, address.data(), address.size());
    out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() + 1);
    return out;
}

// Waits until `fd` has one of `events`, or `timeout_ms` (-1: forever) passes.
// Returns false on timeout. A signal counts as a (spurious) wake-up: callers
// retry their non-blocking call and wait again with what is left of their time.
Result<bool> wait_ready(int fd, short events, int timeout_ms) {
    pollfd pfd{fd, events, 0};
    const int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0) {
        if (errno == EINTR) {
            return true;
        }
        return fail_errno(errno, "poll on fd channel");
    }
    if (ready > 0 && (pfd.revents & POLLNVAL) != 0) {
        return fail_errno(EBADF, "poll on fd channel");
    }
    return ready > 0;
}

// Milliseconds left until `deadline`, rounded up so that a wait never ends
// early; -1 without a deadline; 0 when it has passed.
int remaining_ms(const std::optional<Clock::time_point>& deadline) {
    if (!deadline) {
        return -1;
    }
    const auto now = Clock::now();
    if (now >= *deadline) {
        return 0;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - now).count();
    return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

std::optional<Clock::time_point> deadline_after(std::chrono::milliseconds timeout) {
    return Clock::now() + std::max(timeout, std::chrono::milliseconds{0});
}

// Wraps every fd of every SCM_RIGHTS message in `msg`. `fds` has room for
// max_fds reserved beforehand, which is all the control buffer can carry, so
// that no allocation can fail between the kernel installing the fds and
// this taking ownership of them.
void take_fds(msghdr& msg, std::vector<UniqueFd>& fds) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char* data = CMSG_DATA(c);
        for (std::size_t i = 0; i < count; ++i) {
            int fd = -1;
            std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
            fds.emplace_back(fd);
        }
    }
}

// True once the peer has closed: a zero-length read is then end of stream
// rather than an empty datagram.
bool peer_has_closed(int fd) {
    pollfd pfd{fd, POLLIN | POLLRDHUP, 0};
    int ready = 0;
    do {
        ready = ::poll(&pfd, 1, 0);
    } while (ready < 0 && errno == EINTR);
    return ready > 0 && (pfd.revents & (POLLHUP | POLLRDHUP)) != 0;
}

Error closed_error() {
    return {Errc::closed, "fd channel: the peer has closed the channel"};
}

// Receives one datagram without waiting (Errc::would_block when none is
// queued). Every fd that arrives is owned by `fds` before anything is checked,
// so each error path below closes them.
Result<FdMessage> receive_datagram(int fd, std::byte* buffer) {
    std::vector<UniqueFd> fds;
    fds.reserve(FdChannel::max_fds);
    alignas(cmsghdr) std::array<std::byte, control_size> control{};
    iovec iov{buffer, detail::fd_frame_max_size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();

    ssize_t received = 0;
    do {
        // MSG_TRUNC makes recvmsg return the datagram's real length.
        received = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
    } while (received < 0 && errno == EINTR);
    if (received < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            return fail(Errc::would_block, "fd channel: no message waiting");
        }
        if (err == ECONNRESET) {
            return fail(closed_error());
        }
        return fail_errno(err, "recvmsg on fd channel");
    }
    take_fds(msg, fds);

    const auto length = static_cast<std::size_t>(received);
    if ((msg.msg_flags & MSG_TRUNC) != 0 || length > detail::fd_frame_max_size) {
        return fail(Errc::corrupt, fmt::format("fd channel: datagram truncated: {} bytes, the largest frame is {}",
                                               length, detail::fd_frame_max_size));
    }
    if ((msg.msg_flags & MSG_CTRUNC) != 0) {
        return fail(Errc::corrupt, fmt::format("fd channel: control data truncated: more than {} fds attached "
                                               "({} received and closed)",
                                               FdChannel::max_fds, fds.size()));
    }
    if (length == 0 && fds.empty() && peer_has_closed(fd)) {
        return fail(closed_error());
    }
    auto header = detail::decode_frame({buffer, length}, fds.size());
    if (!header) {
        return fail(std::move(header).error());
    }
    FdMessage message;
    message.type = header->type;
    const std::byte* payload = buffer + detail::fd_frame_header_size;
    message.payload.assign(payload, payload + header->payload_size);
    message.fds = std::move(fds);
    return message;
}

Result<FdMessage> receive_until(int fd, std::byte* buffer, std::optional<Clock::time_point> deadline,
                                std::chrono::milliseconds timeout) {
    for (;;) {
        auto message = receive_datagram(fd, buffer);
        if (message || !message.error().is(Errc::would_block)) {
            return message;
        }
        const int wait_ms = remaining_ms(deadline);
        auto ready = wait_ms == 0 ? Result<bool>(false) : wait_ready(fd, POLLIN, wait_ms);
        if (!ready) {
            return fail(std::move(ready).error());
        }
        if (!*ready) {
            return fail(Errc::timeout, fmt::format("fd channel: no message within {} ms", timeout.count()));
        }
    }
}

// Accepts one connection on the non-blocking listening socket `fd`, waiting
// in poll() until `deadline` (none: forever).
Result<FdChannel> accept_until(int fd, const std::string& address, std::optional<Clock::time_point> deadline,
                               std::chrono::milliseconds timeout) {
    if (fd < 0) {
        return fail(Errc::state, "fd listener: accept on an empty (moved-from) listener");
    }
    for (;;) {
        // Accepted sockets do not inherit O_NONBLOCK on Linux.
        UniqueFd accepted(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC));
        if (accepted) {
            return FdChannel::adopt(std::move(accepted));
        }
        const int err = errno;
        if (err == EINTR || err == ECONNABORTED) {
            continue;
        }
        if (err != EAGAIN && err != EWOULDBLOCK) {
            return fail_errno(err, fmt::format("accepting on '{}'", address));
        }
        const int wait_ms = remaining_ms(deadline);
        auto ready = wait_ms == 0 ? Result<bool>(false) : wait_ready(fd, POLLIN, wait_ms);
        if (!ready) {
            return fail(std::move(ready).error());
        }
        if (!*ready) {
            return fail(Errc::timeout,
                        fmt::format("fd listener: no connection on '{}' within {} ms", address, timeout.count()));
        }
    }
}

Error empty_channel_error(std::string_view call) {
    return {Errc::state, fmt::format("fd channel: {} on an empty (moved-from or released) channel", call)};
}

} // namespace

FdChannel::FdChannel(UniqueFd fd)
    : fd_(std::move(fd)), buffer_(std::make_unique_for_overwrite<std::byte[]>(detail::fd_frame_max_size)) {}

FdChannel::FdChannel(FdChannel&& other) noexcept = default;
FdChannel& FdChannel::operator=(FdChannel&& other) noexcept = default;
FdChannel::~FdChannel() = default;

Result<std::pair<FdChannel, FdChannel>> FdChannel::pair() {
    std::array<int, 2> fds{-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds.data()) != 0) {
        return fail_errno(errno, "socketpair(AF_UNIX, SOCK_SEQPACKET)");
    }
    UniqueFd first(fds[0]);
    UniqueFd second(fds[1]);
    return std::pair<FdChannel, FdChannel>(FdChannel(std::move(first)), FdChannel(std::move(second)));
}

Result<FdChannel> FdChannel::connect(std::string_view address) {
    auto addr = make_address(address);
    if (!addr) {
        return fail(std::move(addr).error());
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) {
        return fail_errno(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
    }
    // An AF_UNIX connect interrupted by a signal leaves the socket
    // unconnected (nothing is half-open, unlike TCP), so it is simply retried.
    int rc = 0;
    do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->length);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        return fail_errno(errno, fmt::format("connecting to '{}'", address));
    }
    return FdChannel(std::move(fd));
}

Result<FdChannel> FdChannel::adopt(UniqueFd fd) {
    if (!fd) {
        return fail(Errc::invalid_argument, "fd channel: adopt of an invalid fd");
    }
    const int raw = fd.get();
    int domain = 0;
    socklen_t size = sizeof(domain);
    if (::getsockopt(raw, SOL_SOCKET, SO_DOMAIN, &domain, &size) != 0) {
        const int err = errno;
        if (err == ENOTSOCK) {
            return fail(Errc::invalid_argument, fmt::format("fd channel: adopt: fd {} is not a socket", raw));
        }
        if (err == EBADF) {
            return fail(Errc::invalid_argument, fmt::format("fd channel: adopt: fd {} is not open", raw));
        }
        return fail_errno(err, fmt::format("fd channel: adopt: getsockopt(SO_DOMAIN) on fd {}", raw));
    }
    if (domain != AF_UNIX) {
        return fail(Errc::invalid_argument,
                    fmt::format("fd channel: adopt: fd {} is a socket of family {}, not AF_UNIX", raw, domain));
    }
    int type = 0;
    size = sizeof(type);
    if (::getsockopt(raw, SOL_SOCKET, SO_TYPE, &type, &size) != 0) {
        return fail_errno(errno, fmt::format("fd channel: adopt: getsockopt(SO_TYPE) on fd {}", raw));
    }
    if (type != SOCK_SEQPACKET) {
        return fail(Errc::invalid_argument,
                    fmt::format("fd channel: adopt: fd {} is a Unix socket of type {}, not SOCK_SEQPACKET", raw, type));
    }
    sockaddr_un peer{};
    socklen_t peer_size = sizeof(peer);
    if (::getpeername(raw, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) {
        const int err = errno;
        if (err == ENOTCONN) {
            return fail(Errc::invalid_argument, fmt::format("fd channel: adopt: fd {} is not connected", raw));
        }
        return fail_errno(err, fmt::format("fd channel: adopt: getpeername on fd {}", raw));
    }
    const int flags = ::fcntl(raw, F_GETFD);
    if (flags < 0 || ::fcntl(raw, F_SETFD, flags | FD_CLOEXEC) != 0) {
        return fail_errno(errno, fmt::format("fd channel: adopt: setting FD_CLOEXEC on fd {}", raw));
    }
    return FdChannel(std::move(fd));
}

Result<void> FdChannel::send(const FdMessage& message) {
    if (!fd_) {
        return fail(empty_channel_error("send"));
    }
    if (message.payload.size() > max_payload_size) {
        return fail(Errc::out_of_range, fmt::format("fd channel: payload of {} bytes exceeds the limit of {}",
                                                    message.payload.size(), max_payload_size));
    }
    const std::size_t fd_count = message.fds.size();
    if (fd_count > max_fds) {
        return fail(Errc::out_of_range, fmt::format("fd channel: {} fds attached, the limit is {}", fd_count, max_fds));
    }
    std::array<int, max_fds> raw_fds{};
    for (std::size_t i = 0; i < fd_count; ++i) {
        if (!message.fds[i]) {
            return fail(Errc::invalid_argument, fmt::format("fd channel: fd {} of the message is not valid", i));
        }
        raw_fds[i] = message.fds[i].get();
    }

    auto header = detail::encode_frame_header(detail::make_frame_header(
        message.type, static_cast<std::uint32_t>(message.payload.size()), static_cast<std::uint32_t>(fd_count)));
    std::array<iovec, 2> iov{{
        {header.data(), header.size()},
        // sendmsg only reads the payload; iovec has no const variant.
        {const_cast<std::byte*>(message.payload.data()), message.payload.size()},
    }};
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = message.payload.empty() ? 1 : 2;
    alignas(cmsghdr) std::array<std::byte, control_size> control{};
    if (fd_count > 0) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
        std::memcpy(CMSG_DATA(c), raw_fds.data(), sizeof(int) * fd_count);
    }
    const std::size_t total = header.size() + message.payload.size();

    for (;;) {
        // MSG_NOSIGNAL: a closed peer is EPIPE here, not SIGPIPE. MSG_DONTWAIT
        // with poll below waits the same way on blocking and non-blocking
        // sockets (an adopted socket may be either).
        const ssize_t sent = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent >= 0) {
            // A SOCK_SEQPACKET datagram goes whole or not at all.
            if (static_cast<std::size_t>(sent) != total) {
                return fail(Errc::system, fmt::format("fd channel: sent {} of {} bytes", sent, total));
            }
            return {};
        }
        const int err = errno;
        if (err == EINTR) {
            continue;
        }
        if (err == EAGAIN || err == EWOULDBLOCK) {
            auto ready = wait_ready(fd_.get(), POLLOUT, -1);
            if (!ready) {
                return fail(std::move(ready).error());
            }
            continue;
        }
        if (err == EPIPE || err == ECONNRESET || err == ENOTCONN) {
            return fail(closed_error());
        }
        return fail_errno(err, "sendmsg on fd channel");
    }
}

Result<FdMessage> FdChannel::receive() {
    if (!fd_) {
        return fail(empty_channel_error("receive"));
    }
    return receive_until(fd_.get(), buffer_.get(), std::nullopt, std::chrono::milliseconds{-1});
}

Result<FdMessage> FdChannel::receive_for(std::chrono::milliseconds timeout) {
    if (!fd_) {
        return fail(empty_channel_error("receive_for"));
    }
    return receive_until(fd_.get(), buffer_.get(), deadline_after(timeout), timeout);
}

Result<FdMessage> FdChannel::try_receive() {
    if (!fd_) {
        return fail(empty_channel_error("try_receive"));
    }
    return receive_datagram(fd_.get(), buffer_.get());
}

UniqueFd FdChannel::release() noexcept {
    buffer_.reset();
    return std::move(fd_);
}

FdListener::FdListener(UniqueFd fd, std::string address) noexcept
    : fd_(std::move(fd)), address_(std::move(address)), owner_pid_(static_cast<std::int32_t>(::getpid())) {}

FdListener::FdListener(FdListener&& other) noexcept
    : fd_(std::move(other.fd_)), address_(std::exchange(other.address_, {})), owner_pid_(other.owner_pid_) {}

FdListener& FdListener::operator=(FdListener&& other) noexcept {
    if (this != &other) {
        remove_socket_file();
        fd_ = std::move(other.fd_);
        address_ = std::exchange(other.address_, {});
        owner_pid_ = other.owner_pid_;
    }
    return *this;
}

FdListener::~FdListener() {
    remove_socket_file();
}

void FdListener::remove_socket_file() noexcept {
    // A forked child that destroys its copy must not pull the socket file
    // from under the parent that still listens on it.
    if (fd_ && !address_.empty() && address_.front() != '@' && owner_pid_ == ::getpid()) {
        ::unlink(address_.c_str());
    }
}

Result<FdListener> FdListener::listen(std::string_view address, int backlog) {
    auto addr = make_address(address);
    if (!addr) {
        return fail(std::move(addr).error());
    }
    // Non-blocking so that accept() and accept_for() wait in poll() and a
    // connection taken by another thread cannot block accept4() forever.
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        return fail_errno(errno, "socket(AF_UNIX, SOCK_SEQPACKET)");
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->length) != 0) {
        return fail_errno(errno, fmt::format("binding fd listener to '{}'", address));
    }
    // From here on the listener owns the socket file and removes it on error.
    FdListener listener(std::move(fd), std::string(address));
    if (::listen(listener.fd_.get(), backlog) != 0) {
        return fail_errno(errno, fmt::format("listening on '{}'", address));
    }
    return listener;
}

Result<FdChannel> FdListener::accept() {
    return accept_until(fd_.get(), address_, std::nullopt, std::chrono::milliseconds{-1});
}

Result<FdChannel> FdListener::accept_for(std::chrono::milliseconds timeout) {
    return accept_until(fd_.get(), address_, deadline_after(timeout), timeout);
}

} // namespace parallax
