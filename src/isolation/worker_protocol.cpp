#include "isolation/worker_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace parallax::detail {

namespace {

class Writer {
public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
    void u32(std::uint32_t v) { raw(&v, sizeof v); }
    void u64(std::uint64_t v) { raw(&v, sizeof v); }
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        raw(s.data(), s.size());
    }
    void bytes(std::span<const std::byte> b) {
        u32(static_cast<std::uint32_t>(b.size()));
        raw(b.data(), b.size());
    }
    void opt(const std::optional<std::uint64_t>& v) {
        u8(v ? 1 : 0);
        u64(v.value_or(0));
    }
    std::vector<std::byte> take() { return std::move(out_); }

private:
    void raw(const void* p, std::size_t n) {
        const auto* b = static_cast<const std::byte*>(p);
        out_.insert(out_.end(), b, b + n);
    }
    std::vector<std::byte> out_;
};

// Reads what Writer wrote; the first failed read names the field and every
// later read fails too, so decoders check once at the end of a group.
class Reader {
public:
    Reader(std::span<const std::byte> bytes, const char* what) : in_(bytes), what_(what) {}

    std::uint8_t u8(const char* field) {
        std::uint8_t v = 0;
        raw(&v, sizeof v, field);
        return v;
    }
    std::uint32_t u32(const char* field) {
        std::uint32_t v = 0;
        raw(&v, sizeof v, field);
        return v;
    }
    std::uint64_t u64(const char* field) {
        std::uint64_t v = 0;
        raw(&v, sizeof v, field);
        return v;
    }
    std::string str(const char* field) {
        const std::uint32_t n = u32(field);
        std::string s;
        if (ok() && n <= in_.size() - pos_) {
            s.assign(reinterpret_cast<const char*>(in_.data() + pos_), n);
            pos_ += n;
        } else {
            bad(field);
        }
        return s;
    }
    std::vector<std::byte> bytes(const char* field) {
        const std::uint32_t n = u32(field);
        std::vector<std::byte> b;
        if (ok() && n <= in_.size() - pos_) {
            b.assign(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                     in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
            pos_ += n;
        } else {
            bad(field);
        }
        return b;
    }
    std::optional<std::uint64_t> opt(const char* field) {
        const std::uint8_t has = u8(field);
        const std::uint64_t v = u64(field);
        if (has > 1) {
            bad(field);
        }
        return has == 1 ? std::optional<std::uint64_t>(v) : std::nullopt;
    }
    /// A count of items that each take at least `min_item` bytes: more than
    /// the rest of the frame could hold is an error, not an allocation.
    std::uint32_t count(const char* field, std::size_t min_item) {
        const std::uint32_t n = u32(field);
        if (ok() && static_cast<std::uint64_t>(n) * min_item > in_.size() - pos_) {
            bad(field);
            return 0;
        }
        return n;
    }
    [[nodiscard]] bool ok() const noexcept { return error_.empty(); }
    [[nodiscard]] bool at_end() const noexcept { return pos_ == in_.size(); }
    Error error() const {
        return Error(Errc::corrupt, ok() ? fmt::format("{}: {} bytes left over at the end", what_, in_.size() - pos_)
                                         : fmt::format("{}: field {} is truncated or malformed", what_, error_));
    }

private:
    void raw(void* p, std::size_t n, const char* field) {
        if (!ok() || n > in_.size() - pos_) {
            bad(field);
            std::memset(p, 0, n);
            return;
        }
        std::memcpy(p, in_.data() + pos_, n);
        pos_ += n;
    }
    void bad(const char* field) {
        if (error_.empty()) {
            error_ = field;
        }
    }
    std::span<const std::byte> in_;
    std::size_t pos_ = 0;
    const char* what_;
    std::string error_;
};

} // namespace

std::vector<std::byte> encode_worker_arena_offer(const ArenaId& id, ParticipantHandle offerer) {
    std::vector<std::byte> out(24);
    std::memcpy(out.data(), id.bytes.data(), 16);
    std::memcpy(out.data() + 16, &offerer.index, 4);
    std::memcpy(out.data() + 20, &offerer.incarnation, 4);
    return out;
}

Result<std::pair<ArenaId, ParticipantHandle>> decode_worker_arena_offer(std::span<const std::byte> bytes) {
    if (bytes.size() != 24) {
        return fail(Errc::corrupt, fmt::format("arena offer: {} bytes, not 24", bytes.size()));
    }
    ArenaId id;
    ParticipantHandle h;
    std::memcpy(id.bytes.data(), bytes.data(), 16);
    std::memcpy(&h.index, bytes.data() + 16, 4);
    std::memcpy(&h.incarnation, bytes.data() + 20, 4);
    return std::pair{id, h};
}

std::vector<std::byte> encode_setup(const WorkerSetup& setup) {
    Writer w;
    w.u32(WorkerSetup::magic);
    w.u32(WorkerSetup::version);
    w.u32(static_cast<std::uint32_t>(setup.elements.size()));
    for (const WorkerElement& e : setup.elements) {
        w.str(e.factory);
        w.str(e.name);
        w.u32(static_cast<std::uint32_t>(e.properties.size()));
        for (const auto& [name, value] : e.properties) {
            w.str(name);
            w.str(value);
        }
    }
    w.u8(static_cast<std::uint8_t>(setup.sandbox.kind));
    w.u32(static_cast<std::uint32_t>(setup.sandbox.allowed_paths.size()));
    for (const auto& p : setup.sandbox.allowed_paths) {
        w.str(p);
    }
    w.opt(setup.sandbox.max_address_space);
    w.opt(setup.sandbox.max_cpu
              ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(setup.sandbox.max_cpu->count()))
              : std::nullopt);
    w.opt(setup.sandbox.cgroup_memory_max);
    w.opt(setup.sandbox.cgroup_pids_max);
    w.u32(static_cast<std::uint32_t>(setup.sticky.size()));
    for (const auto& e : setup.sticky) {
        w.bytes(e);
    }
    w.bytes(encode_negotiation(setup.negotiation));
    w.u8(static_cast<std::uint8_t>(setup.wait));
    return w.take();
}

std::vector<std::byte> encode_property(const WorkerProperty& property) {
    Writer w;
    w.u32(property.id);
    w.u8(property.ok ? 1 : 0);
    w.str(property.element);
    w.str(property.name);
    w.str(property.value);
    return w.take();
}

Result<WorkerProperty> decode_property(std::span<const std::byte> bytes) {
    Reader r(bytes, "worker property");
    WorkerProperty p;
    p.id = r.u32("id");
    const std::uint8_t ok = r.u8("ok");
    p.element = r.str("element");
    p.name = r.str("name");
    p.value = r.str("value");
    if (!r.ok() || !r.at_end()) {
        return fail(r.error());
    }
    if (ok > 1) {
        return fail(Errc::corrupt, fmt::format("worker property: ok flag {} is neither 0 nor 1", ok));
    }
    p.ok = ok == 1;
    return p;
}

std::vector<std::byte> encode_negotiation(const WorkerNegotiation& negotiation) {
    Writer w;
    w.u32(static_cast<std::uint32_t>(negotiation.src.size()));
    for (const Caps& c : negotiation.src) {
        w.str(c.to_string());
    }
    w.str(negotiation.downstream.to_string());
    return w.take();
}

Result<WorkerNegotiation> decode_negotiation(std::span<const std::byte> bytes) {
    Reader r(bytes, "worker negotiation");
    std::vector<std::string> src;
    for (std::uint32_t n = r.count("element count", 4); n > 0 && r.ok(); --n) {
        src.push_back(r.str("source pad caps"));
    }
    const std::string downstream = r.str("downstream caps");
    if (!r.ok() || !r.at_end()) {
        return fail(r.error());
    }
    WorkerNegotiation n;
    for (std::size_t i = 0; i < src.size(); ++i) {
        auto parsed = Caps::parse(src[i]);
        if (!parsed) {
            return fail(Errc::corrupt, fmt::format("worker negotiation: source pad caps of element {}: {}", i,
                                                   parsed.error().message()));
        }
        n.src.push_back(std::move(*parsed));
    }
    auto parsed_downstream = Caps::parse(downstream);
    if (!parsed_downstream) {
        return fail(Errc::corrupt,
                    fmt::format("worker negotiation: downstream caps: {}", parsed_downstream.error().message()));
    }
    n.downstream = std::move(*parsed_downstream);
    return n;
}

Result<WorkerSetup> decode_setup(std::span<const std::byte> bytes) {
    Reader r(bytes, "worker setup");
    if (r.u32("magic") != WorkerSetup::magic) {
        return fail(Errc::corrupt, "worker setup: bad magic (not a setup frame)");
    }
    if (const auto v = r.u32("version"); v != WorkerSetup::version) {
        return fail(Errc::version_mismatch,
                    fmt::format("worker setup: version {}, this worker reads {}", v, WorkerSetup::version));
    }
    WorkerSetup s;
    for (std::uint32_t e = r.count("element count", 12); e > 0 && r.ok(); --e) {
        WorkerElement element;
        element.factory = r.str("factory");
        element.name = r.str("name");
        for (std::uint32_t n = r.count("property count", 8); n > 0 && r.ok(); --n) {
            std::string name = r.str("property name");
            std::string value = r.str("property value");
            element.properties.emplace_back(std::move(name), std::move(value));
        }
        s.elements.push_back(std::move(element));
    }
    const std::uint8_t kind = r.u8("sandbox kind");
    if (kind > static_cast<std::uint8_t>(SandboxKind::none)) {
        return fail(Errc::corrupt, fmt::format("worker setup: sandbox kind {} is unknown", kind));
    }
    s.sandbox.kind = static_cast<SandboxKind>(kind);
    for (std::uint32_t n = r.count("allowed path count", 4); n > 0 && r.ok(); --n) {
        s.sandbox.allowed_paths.push_back(r.str("allowed path"));
    }
    s.sandbox.max_address_space = r.opt("max address space");
    if (auto cpu = r.opt("max cpu")) {
        s.sandbox.max_cpu = std::chrono::seconds(static_cast<std::int64_t>(*cpu));
    }
    s.sandbox.cgroup_memory_max = r.opt("cgroup memory max");
    s.sandbox.cgroup_pids_max = r.opt("cgroup pids max");
    for (std::uint32_t n = r.count("sticky event count", 4); n > 0 && r.ok(); --n) {
        s.sticky.push_back(r.bytes("sticky event"));
    }
    const std::vector<std::byte> negotiation = r.bytes("negotiation");
    const std::uint8_t wait = r.u8("wait mode");
    if (!r.ok() || !r.at_end()) {
        return fail(r.error());
    }
    auto decoded = decode_negotiation(negotiation);
    if (!decoded) {
        return fail(Errc::corrupt, fmt::format("worker setup: {}", decoded.error().message()));
    }
    s.negotiation = std::move(*decoded);
    if (wait > static_cast<std::uint8_t>(ShmWait::spin)) {
        return fail(Errc::corrupt, fmt::format("worker setup: wait mode {} is unknown", wait));
    }
    s.wait = static_cast<ShmWait>(wait);
    if (s.elements.empty()) {
        return fail(Errc::corrupt, "worker setup: no element");
    }
    for (const WorkerElement& e : s.elements) {
        if (e.factory.empty() || e.name.empty()) {
            return fail(Errc::corrupt, "worker setup: an element without factory or name");
        }
    }
    if (s.negotiation.src.size() > s.elements.size()) {
        return fail(Errc::corrupt, fmt::format("worker setup: negotiation for {} elements, but {} elements",
                                               s.negotiation.src.size(), s.elements.size()));
    }
    return s;
}

std::vector<std::byte> encode_message(const Message& message) {
    Writer w;
    w.u8(static_cast<std::uint8_t>(message.type));
    w.u32(message.error ? static_cast<std::uint32_t>(message.error->code().value()) : 0);
    w.u8(message.error && message.error->code().category() == parallax_category() ? 1 : 0);
    w.str(message.error ? message.error->message() : std::string());
    w.str(message.detail);
    w.str(message.structure ? message.structure->to_string() : std::string());
    w.str(message.source);
    return w.take();
}

Result<Message> decode_message(std::span<const std::byte> bytes, const std::string& source,
                               std::span<const std::string> may_claim) {
    Reader r(bytes, "worker message");
    const std::uint8_t type = r.u8("type");
    const std::uint32_t code = r.u32("error code");
    const std::uint8_t ours = r.u8("error category");
    std::string text = r.str("text");
    std::string detail = r.str("detail");
    std::string structure = r.str("structure");
    std::string claimed = r.str("source");
    if (!r.ok() || !r.at_end()) {
        return fail(r.error());
    }
    Message m;
    switch (static_cast<MessageType>(type)) {
    case MessageType::error:
    case MessageType::warning:
    case MessageType::info:
    case MessageType::element:
    case MessageType::property_notify:
    case MessageType::latency:
        m.type = static_cast<MessageType>(type);
        break;
    default:
        // eos, state and stream-start messages are the pipeline's to post.
        return fail(Errc::corrupt, fmt::format("worker message: type {} may not come from an element", type));
    }
    m.source = std::find(may_claim.begin(), may_claim.end(), claimed) != may_claim.end() ? claimed : source;
    m.detail = std::move(detail);
    if (m.type == MessageType::error || m.type == MessageType::warning || m.type == MessageType::info) {
        const auto ec = ours == 1 ? make_error_code(static_cast<Errc>(code))
                                  : std::error_code(static_cast<int>(code), std::generic_category());
        m.error = Error(ec, std::move(text)).at_element(m.source);
    }
    if (!structure.empty()) {
        auto caps = Caps::parse(structure);
        if (!caps || caps->size() != 1) {
            return fail(Errc::corrupt, fmt::format("worker message: structure \"{}\" does not parse", structure));
        }
        m.structure = caps->structure(0);
    }
    return m;
}

} // namespace parallax::detail
