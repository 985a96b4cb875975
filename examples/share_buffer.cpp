// Two processes, one buffer, no copy.
//
// The parent creates a buffer pool (an arena in a memfd) and starts a second
// program, this same executable with --child, handing it a socket. Over the
// socket it sends the arena's fd once. The child maps the arena, fills a
// buffer, credits one reference on it to the parent and sends only where the
// bytes are (slot, offset, size) and the buffer's metadata (timestamps,
// flags, KLV) in serialized form. The parent reads the bytes in place; both
// sides print the reference count they see in the shared memory; the child
// then writes once more and the parent sees that write, because both read
// the same memory.
#include <parallax/buffer/buffer_pool.hpp>
#include <parallax/memory/fd_channel.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <spawn.h>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

using parallax::Buffer;
using parallax::FdChannel;
using parallax::FdMessage;

enum : std::uint16_t { msg_arena = 1, msg_buffer = 2, msg_ack = 3, msg_rewrite = 4 };

// What crosses the socket for a buffer: where its bytes are, not the bytes.
struct BufferRef {
    std::uint32_t slot;
    std::uint32_t offset;
    std::uint32_t size;
    std::uint32_t reserved;
};

template <typename T>
FdMessage message(std::uint16_t type, const T& body) {
    FdMessage m;
    m.type = type;
    m.payload.resize(sizeof(T));
    std::memcpy(m.payload.data(), &body, sizeof(T));
    return m;
}

template <typename T>
bool read_body(const FdMessage& m, std::uint16_t type, T& out) {
    if (m.type != type || m.payload.size() != sizeof(T)) {
        return false;
    }
    std::memcpy(&out, m.payload.data(), sizeof(T));
    return true;
}

[[noreturn]] void die(std::string_view where, const parallax::Error& error) {
    fmt::print(stderr, "{}: {}\n", where, error.to_string());
    std::exit(1);
}

std::string_view text(const Buffer& buffer) {
    return {reinterpret_cast<const char*>(buffer.data().data()), buffer.size()};
}

int run_child(int socket_fd) {
    auto channel = FdChannel::adopt(parallax::UniqueFd(socket_fd));
    if (!channel) {
        die("child: socket", channel.error());
    }
    // 1. The arena fd and the parent's participant handle.
    auto first = channel->receive();
    parallax::ParticipantHandle parent{};
    if (!first || first->fds.size() != 1 || !read_body(*first, msg_arena, parent)) {
        fmt::print(stderr, "child: expected the arena fd\n");
        return 1;
    }
    auto arena = parallax::Arena::attach(std::move(first->fds[0]));
    if (!arena) {
        die("child: attach", arena.error());
    }
    auto pool = parallax::BufferPool::over(*arena);
    // 2. Fill a buffer from the shared pool.
    auto buffer = pool->acquire();
    if (!buffer) {
        die("child: acquire", buffer.error());
    }
    constexpr std::string_view greeting = "hello from the child process";
    std::memcpy(buffer->map_writable()->data(), greeting.data(), greeting.size());
    (void)buffer->resize(greeting.size());
    // 3. Credit one reference to the parent and say where the bytes are.
    if (auto shared = (*arena)->share(buffer->slot(), parent); !shared) {
        die("child: share", shared.error());
    }
    buffer->meta().set_pts(parallax::ClockTime::from_ms(40));
    buffer->meta().set_sequence(1);
    buffer->meta().set_flag(parallax::BufferFlags::keyframe);
    buffer->meta().set_klv({0x06, 0x0E, 0x2B, 0x34}); // the first bytes of a MISB ST 0601 key
    const BufferRef ref{buffer->slot(), static_cast<std::uint32_t>(buffer->offset()),
                        static_cast<std::uint32_t>(buffer->size()), 0};
    // The position, then the metadata in its serialized form: the bytes of
    // the buffer itself never travel.
    FdMessage announce = message(msg_buffer, ref);
    auto meta = buffer->meta().serialize();
    if (!meta) {
        die("child: metadata", meta.error());
    }
    announce.payload.insert(announce.payload.end(), meta->begin(), meta->end());
    if (auto sent = channel->send(announce); !sent) {
        die("child: send", sent.error());
    }
    fmt::print("child  (pid {}): wrote \"{}\" into slot {} and sent only its position\n", ::getpid(), text(*buffer),
               ref.slot);
    // 4. Once the parent has looked, write again in place and drop our reference.
    auto ack = channel->receive();
    if (!ack || ack->type != msg_ack) {
        fmt::print(stderr, "child: expected an acknowledgement\n");
        return 1;
    }
    fmt::print("child  (pid {}): sees {} references on slot {}\n", ::getpid(), buffer->ref_count(), ref.slot);
    // Real code never writes into a buffer another process holds: Buffer's
    // map_writable() would copy it first. The demo writes through the raw
    // slot pointer on purpose, to show that both processes look at one piece
    // of memory.
    std::memcpy((*arena)->slot_data(ref.slot) + ref.offset, "HELLO", 5);
    buffer->reset();
    (void)channel->send(message(msg_rewrite, ref));
    // Our reference is gone; the parent's keeps the slot alive.
    return 0;
}

int run_parent(const char* self) {
    auto pool = parallax::BufferPool::create({.buffer_size = 4096, .buffer_count = 8, .name = "share-buffer-demo"});
    if (!pool) {
        die("parent: pool", pool.error());
    }
    parallax::Arena& arena = pool->arena();
    auto channels = FdChannel::pair();
    if (!channels) {
        die("parent: socketpair", channels.error());
    }
    auto child_end = channels->second.release();

    // Start the second program with its end of the socket as fd 3.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, child_end.get(), 3);
    char* argv[] = {const_cast<char*>(self), const_cast<char*>("--child"), nullptr};
    pid_t child = -1;
    const int rc = posix_spawn(&child, self, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    child_end.reset();
    if (rc != 0) {
        fmt::print(stderr, "parent: cannot start {}: {}\n", self, std::strerror(rc));
        return 1;
    }

    FdChannel& channel = channels->first;
    auto arena_fd = arena.dup_fd();
    FdMessage hello = message(msg_arena, arena.handle());
    hello.fds.push_back(std::move(*arena_fd));
    fmt::print("parent (pid {}): sends arena {} ({} slots of {} bytes) once, as an fd\n", ::getpid(),
               arena.id().to_string(), arena.slot_count(), arena.slot_size());
    if (auto sent = channel.send(hello); !sent) {
        die("parent: send", sent.error());
    }

    auto received = channel.receive();
    BufferRef ref{};
    if (!received || received->type != msg_buffer || received->payload.size() < sizeof(BufferRef)) {
        fmt::print(stderr, "parent: expected a buffer reference\n");
        return 1;
    }
    std::memcpy(&ref, received->payload.data(), sizeof(BufferRef));
    auto meta = parallax::Metadata::deserialize(std::span(received->payload).subspan(sizeof(BufferRef)));
    if (!meta) {
        die("parent: metadata", meta.error());
    }
    // The child credited this reference to us: adopt it, do not copy.
    auto buffer = Buffer::adopt(arena, ref.slot, ref.offset, ref.size, std::move(*meta));
    if (!buffer) {
        die("parent: adopt", buffer.error());
    }
    fmt::print("parent (pid {}): metadata crossed too: pts {}, sequence {}, keyframe {}, {} KLV bytes\n", ::getpid(),
               buffer->meta().pts().to_string(), buffer->meta().sequence(),
               buffer->meta().has_flag(parallax::BufferFlags::keyframe), buffer->meta().klv().size());
    fmt::print("parent (pid {}): reads \"{}\" in place at {}\n", ::getpid(), text(*buffer),
               static_cast<const void*>(buffer->data().data()));
    fmt::print("parent (pid {}): sees {} references on slot {}, held by participants", ::getpid(), buffer->ref_count(),
               ref.slot);
    for (auto who : arena.holders(ref.slot)) {
        fmt::print(" {}", who);
    }
    fmt::print(" (this process is {})\n", arena.participant());
    (void)channel.send(message(msg_ack, ref));

    auto rewritten = channel.receive();
    if (!rewritten || rewritten->type != msg_rewrite) {
        fmt::print(stderr, "parent: expected the child's second write\n");
        return 1;
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    fmt::print("parent (pid {}): after the child's second write and exit: \"{}\", {} reference(s) left\n", ::getpid(),
               text(*buffer), buffer->ref_count());
    const bool same_memory = text(*buffer).substr(0, 5) == "HELLO" && buffer->ref_count() == 1;
    buffer->reset();
    fmt::print("parent (pid {}): slot {} is {} after the last reference\n", ::getpid(), ref.slot,
               arena.is_held(ref.slot) ? "still held" : "free again");
    if (!same_memory || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || arena.is_held(ref.slot)) {
        fmt::print(stderr, "parent: the demonstration did not go as expected\n");
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // two processes share the terminal
    if (argc == 2 && std::string_view(argv[1]) == "--child") {
        return run_child(3);
    }
    // posix_spawn needs a path: /proc/self/exe names this very program.
    return run_parent("/proc/self/exe");
}
