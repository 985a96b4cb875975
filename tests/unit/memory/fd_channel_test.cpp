#include <parallax/memory/fd_channel.hpp>

#include "memory/fd_frame.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace parallax {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Long enough never to fire on a healthy system; only there so that a broken
// channel fails the test instead of hanging it. Nothing asserts on time.
constexpr auto generous = 10s;

template <typename T>
::testing::AssertionResult fails_with(const Result<T>& result, Errc expected) {
    if (result) {
        return ::testing::AssertionFailure() << "succeeded; expected " << make_error_code(expected).message();
    }
    if (!result.error().is(expected)) {
        return ::testing::AssertionFailure() << "failed with \"" << result.error().to_string() << "\"; expected "
                                             << make_error_code(expected).message();
    }
    return ::testing::AssertionSuccess();
}

std::size_t open_fd_count() {
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        static_cast<void>(entry);
        ++count;
    }
    return count;
}

UniqueFd make_memfd(std::string_view content) {
    UniqueFd fd(::memfd_create("fd-channel-test", MFD_CLOEXEC));
    if (fd && !content.empty()) {
        if (::pwrite(fd.get(), content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) {
            fd.reset();
        }
    }
    return fd;
}

std::string read_all(int fd) {
    std::string out;
    std::array<char, 256> chunk{};
    off_t offset = 0;
    for (;;) {
        const ssize_t got = ::pread(fd, chunk.data(), chunk.size(), offset);
        if (got <= 0) {
            return out;
        }
        out.append(chunk.data(), static_cast<std::size_t>(got));
        offset += got;
    }
}

std::vector<std::byte> to_bytes(std::string_view text) {
    std::vector<std::byte> out(text.size());
    std::memcpy(out.data(), text.data(), text.size());
    return out;
}

bool is_cloexec(int fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

// A datagram: `header`, then `payload_bytes` bytes of filler.
std::vector<std::byte> frame(const detail::FdFrameHeader& header, std::size_t payload_bytes) {
    const auto head = detail::encode_frame_header(header);
    // Sized once: growing the vector after the header trips a false
    // -Warray-bounds in g++ 12 at -O3.
    std::vector<std::byte> out(head.size() + payload_bytes, std::byte{0x5A});
    std::copy(head.begin(), head.end(), out.begin());
    return out;
}

// Sends `datagram` with `fds` attached straight on the socket, bypassing
// FdChannel's framing, as a buggy or hostile peer would.
::testing::AssertionResult send_raw(int socket, std::span<const std::byte> datagram, std::span<const int> fds) {
    iovec iov{const_cast<std::byte*>(datagram.data()), datagram.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    std::vector<std::byte> control(CMSG_SPACE(sizeof(int) * fds.size()));
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t sent = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (sent != static_cast<ssize_t>(datagram.size())) {
        return ::testing::AssertionFailure() << "sendmsg: " << std::strerror(errno);
    }
    return ::testing::AssertionSuccess();
}

struct RejectedCase {
    std::vector<std::byte> datagram;
    std::size_t fds_attached = 0;
    Errc expected = Errc::corrupt;
    std::string_view message_part;
};

// Sends a malformed datagram with fresh memfds attached and checks that
// receive() names the problem, that every fd that arrived was closed, and
// that the channel still carries the next, well-formed message.
void expect_rejected(const RejectedCase& c) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels) << channels.error().to_string();
    auto& [sender, receiver] = *channels;
    const std::size_t fds_before = open_fd_count();
    {
        std::vector<UniqueFd> owned;
        std::vector<int> raw;
        for (std::size_t i = 0; i < c.fds_attached; ++i) {
            owned.push_back(make_memfd("in flight"));
            ASSERT_TRUE(owned.back());
            raw.push_back(owned.back().get());
        }
        ASSERT_TRUE(send_raw(sender.fd(), c.datagram, raw));
    } // Our copies are closed; only the ones in flight remain.

    auto received = receiver.receive_for(generous);
    ASSERT_FALSE(received);
    EXPECT_TRUE(received.error().is(c.expected)) << received.error().to_string();
    EXPECT_THAT(received.error().message(), HasSubstr(c.message_part));
    EXPECT_EQ(open_fd_count(), fds_before) << "an fd that came with the malformed datagram was leaked";

    FdMessage next;
    next.type = 7;
    next.payload = to_bytes("after");
    ASSERT_TRUE(sender.send(next));
    auto good = receiver.receive_for(generous);
    ASSERT_TRUE(good) << good.error().to_string();
    EXPECT_EQ(good->type, 7);
    EXPECT_EQ(good->payload, to_bytes("after"));
}

std::string unique_abstract_name() {
    static int counter = 0;
    return fmt::format("@parallax-fd-channel-test-{}-{}", ::getpid(), counter++);
}

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "plx-fdch-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr) {
            path_ = pattern;
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        if (!path_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(path_, ignored);
        }
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// The message of the error decode_frame() reports, or "decoded" when it does not fail.
std::string decode_error(std::span<const std::byte> datagram, std::size_t fds_received) {
    auto header = detail::decode_frame(datagram, fds_received);
    return header ? std::string("decoded") : header.error().message();
}

// --- the frame ---------------------------------------------------------------

TEST(FdChannelTest, EncodedHeaderIsLittleEndianAndStartsWithPlxf) {
    const auto bytes = detail::encode_frame_header(detail::make_frame_header(0x0102, 0x03040506, 0x0708090A));
    const std::array<unsigned, 16> expected{'P',  'L',  'X',  'F',  0x01, 0x00, 0x02, 0x01,
                                            0x06, 0x05, 0x04, 0x03, 0x0A, 0x09, 0x08, 0x07};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(std::to_integer<unsigned>(bytes[i]), expected[i]) << "byte " << i;
    }
}

TEST(FdChannelTest, DecodeFrameAcceptsAWellFormedFrame) {
    const auto datagram = frame(detail::make_frame_header(42, 5, 2), 5);
    auto header = detail::decode_frame(datagram, 2);
    ASSERT_TRUE(header) << header.error().to_string();
    EXPECT_EQ(header->type, 42);
    EXPECT_EQ(header->payload_size, 5U);
    EXPECT_EQ(header->fd_count, 2U);
}

TEST(FdChannelTest, DecodeFrameNamesEachDefect) {
    const auto ok = detail::make_frame_header(1, 4, 1);
    auto bad_magic = ok;
    bad_magic.magic = 0xDEADBEEF;
    auto bad_version = ok;
    bad_version.version = 2;

    const auto whole = frame(ok, 4);
    EXPECT_THAT(decode_error(std::span(whole).first(15), 1), HasSubstr("short header"));
    EXPECT_THAT(decode_error(frame(bad_magic, 4), 1), HasSubstr("bad magic"));
    EXPECT_THAT(decode_error(frame(bad_version, 4), 1), HasSubstr("unsupported version 2"));
    EXPECT_TRUE(fails_with(detail::decode_frame(frame(bad_version, 4), 1), Errc::version_mismatch));
    EXPECT_THAT(decode_error(frame(ok, 3), 1), HasSubstr("does not match the datagram"));
    EXPECT_THAT(decode_error(frame(ok, 4), 0), HasSubstr("does not match the 0 fds"));
}

// --- round trips -------------------------------------------------------------

TEST(FdChannelTest, RoundTripCarriesTypePayloadAndFdsOfTheSameFiles) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels) << channels.error().to_string();
    auto& [a, b] = *channels;

    const std::array<std::string_view, 3> contents{"first file", "second file", "third"};
    FdMessage message;
    message.type = 0xBEEF;
    message.payload = to_bytes("slot 3, offset 128, length 4096");
    for (auto content : contents) {
        message.fds.push_back(make_memfd(content));
        ASSERT_TRUE(message.fds.back());
    }
    ASSERT_TRUE(a.send(message));
    // send() borrows: the sender's fds stay open.
    for (const auto& fd : message.fds) {
        EXPECT_GE(::fcntl(fd.get(), F_GETFD), 0);
    }

    auto received = b.receive_for(generous);
    ASSERT_TRUE(received) << received.error().to_string();
    EXPECT_EQ(received->type, 0xBEEF);
    EXPECT_EQ(received->payload, message.payload);
    ASSERT_EQ(received->fds.size(), contents.size());
    for (std::size_t i = 0; i < contents.size(); ++i) {
        EXPECT_NE(received->fds[i].get(), message.fds[i].get());
        EXPECT_EQ(read_all(received->fds[i].get()), contents[i]);
        EXPECT_TRUE(is_cloexec(received->fds[i].get()));
    }
    // Same file, not a copy: a write through the received fd shows on the sender's.
    ASSERT_EQ(::pwrite(received->fds[0].get(), "FIRST", 5, 0), 5);
    EXPECT_EQ(read_all(message.fds[0].get()), "FIRST file");
}

TEST(FdChannelTest, MessageWithoutPayloadOrFdsRoundTrips) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    auto& [a, b] = *channels;
    ASSERT_TRUE(a.send(FdMessage{.type = 3, .payload = {}, .fds = {}}));
    auto received = b.receive_for(generous);
    ASSERT_TRUE(received) << received.error().to_string();
    EXPECT_EQ(received->type, 3);
    EXPECT_TRUE(received->payload.empty());
    EXPECT_TRUE(received->fds.empty());
}

TEST(FdChannelTest, LargestMessageRoundTrips) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    auto& [a, b] = *channels;
    FdMessage message;
    message.payload.resize(FdChannel::max_payload_size);
    for (std::size_t i = 0; i < message.payload.size(); ++i) {
        message.payload[i] = static_cast<std::byte>(i * 7U);
    }
    for (std::size_t i = 0; i < FdChannel::max_fds; ++i) {
        message.fds.push_back(make_memfd(fmt::format("fd {}", i)));
    }
    ASSERT_TRUE(a.send(message));
    auto received = b.receive_for(generous);
    ASSERT_TRUE(received) << received.error().to_string();
    EXPECT_EQ(received->payload, message.payload);
    ASSERT_EQ(received->fds.size(), FdChannel::max_fds);
    EXPECT_EQ(read_all(received->fds[15].get()), "fd 15");
}

TEST(FdChannelTest, MessagesKeepTheirBoundariesAndOrder) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    auto& [a, b] = *channels;
    for (std::uint16_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(a.send(FdMessage{.type = i, .payload = to_bytes(std::string(i + 1U, 'x')), .fds = {}}));
    }
    for (std::uint16_t i = 0; i < 3; ++i) {
        auto received = b.try_receive();
        ASSERT_TRUE(received) << received.error().to_string();
        EXPECT_EQ(received->type, i);
        EXPECT_EQ(received->payload.size(), i + 1U);
    }
}

// --- listener ------------------------------------------------------------------

TEST(FdChannelTest, ListenerAcceptsConnectionOnFilesystemPathAndRemovesItsFile) {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    const std::string path = (dir.path() / "channel.sock").string();
    {
        auto listener = FdListener::listen(path);
        ASSERT_TRUE(listener) << listener.error().to_string();
        EXPECT_TRUE(std::filesystem::exists(path));
        EXPECT_EQ(listener->address(), path);

        auto client = FdChannel::connect(path);
        ASSERT_TRUE(client) << client.error().to_string();
        auto server = listener->accept_for(generous);
        ASSERT_TRUE(server) << server.error().to_string();
        EXPECT_TRUE(is_cloexec(client->fd()));
        EXPECT_TRUE(is_cloexec(server->fd()));

        FdMessage hello;
        hello.type = 1;
        hello.fds.push_back(make_memfd("over a path"));
        ASSERT_TRUE(client->send(hello));
        auto received = server->receive_for(generous);
        ASSERT_TRUE(received) << received.error().to_string();
        ASSERT_EQ(received->fds.size(), 1U);
        EXPECT_EQ(read_all(received->fds[0].get()), "over a path");

        ASSERT_TRUE(server->send(FdMessage{.type = 2, .payload = to_bytes("reply"), .fds = {}}));
        auto reply = client->receive_for(generous);
        ASSERT_TRUE(reply) << reply.error().to_string();
        EXPECT_EQ(reply->payload, to_bytes("reply"));
    }
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(FdChannelTest, ListenerAcceptsConnectionOnAbstractName) {
    const std::string name = unique_abstract_name();
    auto listener = FdListener::listen(name);
    ASSERT_TRUE(listener) << listener.error().to_string();
    auto client = FdChannel::connect(name);
    ASSERT_TRUE(client) << client.error().to_string();
    auto server = listener->accept();
    ASSERT_TRUE(server) << server.error().to_string();

    FdMessage message;
    message.fds.push_back(make_memfd("abstract"));
    ASSERT_TRUE(client->send(message));
    auto received = server->receive_for(generous);
    ASSERT_TRUE(received) << received.error().to_string();
    ASSERT_EQ(received->fds.size(), 1U);
    EXPECT_EQ(read_all(received->fds[0].get()), "abstract");
}

TEST(FdChannelTest, ListenOnAnAddressInUseFails) {
    const std::string name = unique_abstract_name();
    auto first = FdListener::listen(name);
    ASSERT_TRUE(first) << first.error().to_string();
    auto second = FdListener::listen(name);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), std::error_code(EADDRINUSE, std::system_category()));

    TempDir dir;
    const std::string path = (dir.path() / "taken").string();
    UniqueFd file(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
    ASSERT_TRUE(file);
    auto on_file = FdListener::listen(path);
    ASSERT_FALSE(on_file);
    // The failed listener must not remove what was there before it.
    EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(FdChannelTest, ConnectWithoutListenerFails) {
    TempDir dir;
    auto to_path = FdChannel::connect((dir.path() / "nobody").string());
    ASSERT_FALSE(to_path);
    EXPECT_THAT(to_path.error().message(), HasSubstr("nobody"));
    auto to_name = FdChannel::connect(unique_abstract_name());
    ASSERT_FALSE(to_name);
}

TEST(FdChannelTest, AddressesThatCannotBeSocketAddressesAreRejected) {
    EXPECT_TRUE(fails_with(FdChannel::connect(""), Errc::invalid_argument));
    EXPECT_TRUE(fails_with(FdChannel::connect("@"), Errc::invalid_argument));
    EXPECT_TRUE(fails_with(FdChannel::connect(std::string(200, 'a')), Errc::invalid_argument));
    EXPECT_TRUE(fails_with(FdChannel::connect("@" + std::string(108, 'a')), Errc::invalid_argument));
    EXPECT_TRUE(fails_with(FdListener::listen(std::string_view("a\0b", 3)), Errc::invalid_argument));
}

TEST(FdChannelTest, AcceptForTimesOutWithoutConnection) {
    auto listener = FdListener::listen(unique_abstract_name());
    ASSERT_TRUE(listener) << listener.error().to_string();
    auto accepted = listener->accept_for(10ms);
    ASSERT_FALSE(accepted);
    EXPECT_TRUE(fails_with(accepted, Errc::timeout));
}

// --- across processes -------------------------------------------------------------

// The child exits with one of these, so that the parent can say what failed.
enum ChildExit : int { child_ok = 0, child_adopt = 10, child_receive, child_content, child_memfd, child_send };

int run_child(UniqueFd socket) {
    auto channel = FdChannel::adopt(std::move(socket));
    if (!channel) {
        return child_adopt;
    }
    auto request = channel->receive_for(generous);
    if (!request || request->fds.size() != 1) {
        return child_receive;
    }
    const std::string asked = read_all(request->fds[0].get());
    if (asked != "from parent") {
        return child_content;
    }
    FdMessage reply;
    reply.type = 2;
    reply.payload = to_bytes(fmt::format("pid {}", ::getpid()));
    reply.fds.push_back(make_memfd(asked + ", and back from child"));
    if (!reply.fds[0]) {
        return child_memfd;
    }
    return channel->send(reply) ? child_ok : child_send;
}

TEST(FdChannelTest, MemfdsTravelBetweenProcesses) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    auto& [parent_end, child_end] = *channels;

    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) {
        // The child adopts a duplicate of its end, as a worker does with the
        // socket it inherits across exec.
        { FdChannel drop = std::move(parent_end); }
        UniqueFd inherited(::dup(child_end.fd()));
        ::_exit(run_child(std::move(inherited)));
    }
    { FdChannel drop = std::move(child_end); }

    FdMessage request;
    request.type = 1;
    request.fds.push_back(make_memfd("from parent"));
    ASSERT_TRUE(parent_end.send(request));
    auto reply = parent_end.receive_for(generous);

    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), child_ok);
    ASSERT_TRUE(reply) << reply.error().to_string();
    EXPECT_EQ(reply->type, 2);
    EXPECT_EQ(reply->payload, to_bytes(fmt::format("pid {}", pid)));
    ASSERT_EQ(reply->fds.size(), 1U);
    // The child's memfd outlives the child: the fd keeps the file alive.
    EXPECT_EQ(read_all(reply->fds[0].get()), "from parent, and back from child");
}

// --- waiting and closing -------------------------------------------------------------

TEST(FdChannelTest, ReceiveForTimesOutWhenNothingArrives) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    auto received = channels->second.receive_for(10ms);
    ASSERT_FALSE(received);
    EXPECT_TRUE(fails_with(received, Errc::timeout));
    auto at_once = channels->second.receive_for(0ms);
    EXPECT_TRUE(fails_with(at_once, Errc::timeout));
}

TEST(FdChannelTest, TryReceiveWouldBlockWhenNothingIsWaiting) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    auto received = channels->second.try_receive();
    ASSERT_FALSE(received);
    EXPECT_TRUE(fails_with(received, Errc::would_block));
}

TEST(FdChannelTest, ReceiveDeliversQueuedMessagesThenReportsClosedPeer) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    {
        FdChannel sender = std::move(channels->first);
        FdMessage last;
        last.type = 9;
        last.fds.push_back(make_memfd("last words"));
        ASSERT_TRUE(sender.send(last));
    }
    auto& receiver = channels->second;
    auto queued = receiver.receive();
    ASSERT_TRUE(queued) << queued.error().to_string();
    EXPECT_EQ(queued->type, 9);
    ASSERT_EQ(queued->fds.size(), 1U);
    EXPECT_EQ(read_all(queued->fds[0].get()), "last words");

    auto after = receiver.receive();
    ASSERT_FALSE(after);
    EXPECT_TRUE(fails_with(after, Errc::closed));
    EXPECT_TRUE(fails_with(receiver.receive_for(generous), Errc::closed));
    EXPECT_TRUE(fails_with(receiver.try_receive(), Errc::closed));
}

TEST(FdChannelTest, SendToClosedPeerIsClosedRatherThanSigpipe) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    auto& [alive, doomed] = *channels;
    { FdChannel gone = std::move(doomed); }
    auto sent = alive.send(FdMessage{.type = 1, .payload = to_bytes("anyone?"), .fds = {}});
    ASSERT_FALSE(sent);
    EXPECT_TRUE(fails_with(sent, Errc::closed));
}

TEST(FdChannelTest, CallsOnAnEmptyChannelFailWithStateError) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    FdChannel taken = std::move(channels->first);
    FdChannel& empty = channels->first; // NOLINT(bugprone-use-after-move): the point of the test.
    EXPECT_FALSE(empty.valid());
    EXPECT_EQ(empty.fd(), -1);
    EXPECT_TRUE(fails_with(empty.send(FdMessage{}), Errc::state));
    EXPECT_TRUE(fails_with(empty.receive(), Errc::state));
    EXPECT_TRUE(fails_with(empty.try_receive(), Errc::state));
    EXPECT_TRUE(taken.valid());
}

// --- send-side limits -------------------------------------------------------------

TEST(FdChannelTest, SendRejectsPayloadOverTheLimit) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    FdMessage message;
    message.payload.resize(FdChannel::max_payload_size + 1);
    auto sent = channels->first.send(message);
    ASSERT_FALSE(sent);
    EXPECT_TRUE(fails_with(sent, Errc::out_of_range));
    EXPECT_TRUE(fails_with(channels->second.try_receive(), Errc::would_block));
}

TEST(FdChannelTest, SendRejectsMoreFdsThanTheLimit) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    FdMessage message;
    for (std::size_t i = 0; i <= FdChannel::max_fds; ++i) {
        message.fds.push_back(make_memfd(""));
    }
    auto sent = channels->first.send(message);
    ASSERT_FALSE(sent);
    EXPECT_TRUE(fails_with(sent, Errc::out_of_range));
    EXPECT_TRUE(fails_with(channels->second.try_receive(), Errc::would_block));
}

TEST(FdChannelTest, SendRejectsAnInvalidFd) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    FdMessage message;
    message.fds.push_back(make_memfd("fine"));
    message.fds.emplace_back(); // -1
    auto sent = channels->first.send(message);
    ASSERT_FALSE(sent);
    EXPECT_TRUE(fails_with(sent, Errc::invalid_argument));
}

// --- malformed frames ----------------------------------------------------------------

TEST(FdChannelTest, ShortHeaderIsCorruptAndItsFdsAreClosed) {
    expect_rejected({.datagram = std::vector<std::byte>(7, std::byte{'P'}),
                     .fds_attached = 2,
                     .expected = Errc::corrupt,
                     .message_part = "short header"});
}

TEST(FdChannelTest, EmptyDatagramFromALivePeerIsCorrupt) {
    expect_rejected({.datagram = {}, .fds_attached = 0, .expected = Errc::corrupt, .message_part = "short header"});
}

TEST(FdChannelTest, EmptyDatagramWithFdsIsCorruptAndItsFdsAreClosed) {
    expect_rejected({.datagram = {}, .fds_attached = 3, .expected = Errc::corrupt, .message_part = "short header"});
}

TEST(FdChannelTest, BadMagicIsCorruptAndItsFdsAreClosed) {
    auto header = detail::make_frame_header(1, 0, 1);
    header.magic = 0x46584C51; // "QLXF"
    expect_rejected(
        {.datagram = frame(header, 0), .fds_attached = 1, .expected = Errc::corrupt, .message_part = "bad magic"});
}

TEST(FdChannelTest, UnsupportedVersionIsVersionMismatchAndItsFdsAreClosed) {
    auto header = detail::make_frame_header(1, 0, 2);
    header.version = 2;
    expect_rejected({.datagram = frame(header, 0),
                     .fds_attached = 2,
                     .expected = Errc::version_mismatch,
                     .message_part = "unsupported version 2"});
}

TEST(FdChannelTest, PayloadSizeLargerThanDatagramIsCorruptAndItsFdsAreClosed) {
    expect_rejected({.datagram = frame(detail::make_frame_header(1, 100, 1), 50),
                     .fds_attached = 1,
                     .expected = Errc::corrupt,
                     .message_part = "payload size 100 does not match"});
}

TEST(FdChannelTest, PayloadSizeSmallerThanDatagramIsCorrupt) {
    expect_rejected({.datagram = frame(detail::make_frame_header(1, 10, 0), 11),
                     .fds_attached = 0,
                     .expected = Errc::corrupt,
                     .message_part = "payload size 10 does not match"});
}

TEST(FdChannelTest, PayloadSizeOverTheLimitIsCorrupt) {
    expect_rejected({.datagram = frame(detail::make_frame_header(1, 70000, 1), 8),
                     .fds_attached = 1,
                     .expected = Errc::corrupt,
                     .message_part = "exceeds the limit"});
}

TEST(FdChannelTest, FdCountAboveFdsReceivedIsCorruptAndTheFdsAreClosed) {
    expect_rejected({.datagram = frame(detail::make_frame_header(1, 0, 3), 0),
                     .fds_attached = 2,
                     .expected = Errc::corrupt,
                     .message_part = "fd count 3 does not match the 2 fds received"});
}

TEST(FdChannelTest, FdsAttachedToAFrameThatAnnouncesNoneAreCorruptAndClosed) {
    expect_rejected({.datagram = frame(detail::make_frame_header(1, 4, 0), 4),
                     .fds_attached = 4,
                     .expected = Errc::corrupt,
                     .message_part = "fd count 0 does not match the 4 fds received"});
}

TEST(FdChannelTest, FdCountOverTheLimitIsCorrupt) {
    expect_rejected({.datagram = frame(detail::make_frame_header(1, 0, 17), 0),
                     .fds_attached = 0,
                     .expected = Errc::corrupt,
                     .message_part = "fd count 17 exceeds the limit"});
}

TEST(FdChannelTest, DatagramLongerThanTheLargestFrameIsTruncatedAndItsFdsAreClosed) {
    const std::size_t payload = FdChannel::max_payload_size + 1;
    expect_rejected({.datagram = frame(detail::make_frame_header(1, static_cast<std::uint32_t>(payload), 2), payload),
                     .fds_attached = 2,
                     .expected = Errc::corrupt,
                     .message_part = "datagram truncated"});
}

TEST(FdChannelTest, MoreFdsThanTheControlBufferHoldsIsTruncatedAndTheFdsAreClosed) {
    expect_rejected({.datagram = frame(detail::make_frame_header(1, 0, 20), 0),
                     .fds_attached = 20,
                     .expected = Errc::corrupt,
                     .message_part = "control data truncated"});
}

// --- adopt -----------------------------------------------------------------------------

TEST(FdChannelTest, AdoptTakesOverAConnectedSeqpacketSocketAndSetsCloexec) {
    auto channels = FdChannel::pair();
    ASSERT_TRUE(channels);
    UniqueFd raw = channels->second.release();
    EXPECT_FALSE(channels->second.valid());
    ASSERT_EQ(::fcntl(raw.get(), F_SETFD, 0), 0); // As inherited across exec.
    auto adopted = FdChannel::adopt(std::move(raw));
    ASSERT_TRUE(adopted) << adopted.error().to_string();
    EXPECT_TRUE(is_cloexec(adopted->fd()));
    ASSERT_TRUE(channels->first.send(FdMessage{.type = 5, .payload = {}, .fds = {}}));
    auto received = adopted->receive_for(generous);
    ASSERT_TRUE(received) << received.error().to_string();
    EXPECT_EQ(received->type, 5);
}

TEST(FdChannelTest, AdoptRejectsANonSocketFd) {
    const std::size_t fds_before = open_fd_count();
    {
        auto adopted = FdChannel::adopt(make_memfd("not a socket"));
        ASSERT_FALSE(adopted);
        EXPECT_TRUE(fails_with(adopted, Errc::invalid_argument));
        EXPECT_THAT(adopted.error().message(), HasSubstr("not a socket"));
    }
    EXPECT_EQ(open_fd_count(), fds_before) << "adopt() must close the fd it rejects";
}

TEST(FdChannelTest, AdoptRejectsAnInvalidFd) {
    EXPECT_TRUE(fails_with(FdChannel::adopt(UniqueFd()), Errc::invalid_argument));
}

TEST(FdChannelTest, AdoptRejectsAStreamSocket) {
    std::array<int, 2> fds{};
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()), 0);
    UniqueFd keep(fds[1]);
    auto adopted = FdChannel::adopt(UniqueFd(fds[0]));
    ASSERT_FALSE(adopted);
    EXPECT_THAT(adopted.error().message(), HasSubstr("not SOCK_SEQPACKET"));
}

TEST(FdChannelTest, AdoptRejectsAnUnconnectedSocket) {
    auto adopted = FdChannel::adopt(UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)));
    ASSERT_FALSE(adopted);
    EXPECT_THAT(adopted.error().message(), HasSubstr("not connected"));
}

TEST(FdChannelTest, AdoptRejectsANonUnixSocket) {
    auto adopted = FdChannel::adopt(UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)));
    ASSERT_FALSE(adopted);
    EXPECT_THAT(adopted.error().message(), HasSubstr("not AF_UNIX"));
}

} // namespace
} // namespace parallax
