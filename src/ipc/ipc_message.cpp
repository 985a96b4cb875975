#include <parallax/ipc/ipc_message.hpp>

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstring>
#include <string>

namespace parallax {

namespace {

template <typename T>
void put(std::vector<std::byte>& out, T value) {
    const auto at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &value, sizeof(T));
}

template <typename T>
T get(std::span<const std::byte> bytes, std::size_t at) {
    T value{};
    std::memcpy(&value, bytes.data() + at, sizeof(T));
    return value;
}

void put_string(std::vector<std::byte>& out, const std::string& s) {
    const auto at = out.size();
    out.resize(at + s.size());
    std::memcpy(out.data() + at, s.data(), s.size());
}

std::string get_string(std::span<const std::byte> bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Event header: type u8, flag u8, reserved u16, reserved u32.
constexpr std::size_t event_header = 8;
constexpr std::size_t segment_body = 56;
constexpr std::size_t gap_body = 16;
constexpr std::size_t seek_body = 32;
constexpr std::size_t qos_body = 24;
// downstream-force-key-unit: timestamp, stream-time, running-time (u64),
// count (u32), all-headers (u8), 3 reserved; upstream-force-key-unit:
// running-time (u64), count (u32), all-headers (u8), 3 reserved.
constexpr std::size_t downstream_key_unit_body = 32;
constexpr std::size_t upstream_key_unit_body = 16;

void put_key_unit_tail(std::vector<std::byte>& out, std::uint32_t count, bool all_headers) {
    put(out, count);
    put(out, static_cast<std::uint8_t>(all_headers ? 1 : 0));
    for (int i = 0; i < 3; ++i) {
        put(out, std::uint8_t{0});
    }
}

// Errc::corrupt unless `body` is exactly `n` bytes.
Result<void> check_body_size(std::span<const std::byte> body, std::size_t n, std::string_view what) {
    if (body.size() != n) {
        return fail(Errc::corrupt, fmt::format("ipc event: {} body of {} bytes (expected {})", what, body.size(), n));
    }
    return {};
}

// What both force-key-unit bodies end with (put_key_unit_tail()).
struct KeyUnitTail {
    std::uint32_t count = 0;
    bool all_headers = false;
};

// Checks that a force-key-unit body is `n` bytes and reads its tail.
Result<KeyUnitTail> get_key_unit_body(std::span<const std::byte> body, std::size_t n, std::string_view what) {
    if (auto ok = check_body_size(body, n, what); !ok) {
        return fail(ok.error());
    }
    const auto all_headers = get<std::uint8_t>(body, n - 4);
    if (all_headers > 1) {
        return fail(Errc::corrupt, fmt::format("ipc event: {} all-headers is {}, not 0 or 1", what, all_headers));
    }
    return KeyUnitTail{get<std::uint32_t>(body, n - 8), all_headers == 1};
}

Result<Structure> parse_structure(std::span<const std::byte> body, const char* what) {
    auto caps = Caps::parse(get_string(body));
    if (!caps) {
        return fail(Errc::corrupt,
                    fmt::format("ipc event: {} structure does not parse: {}", what, caps.error().message()));
    }
    if (caps->size() != 1) {
        return fail(Errc::corrupt, fmt::format("ipc event: {} holds {} structures, not one", what, caps->size()));
    }
    return caps->structure(0);
}

} // namespace

void encode_buffer_ref(const IpcBufferRef& ref, std::span<std::byte> out) noexcept {
    std::memcpy(out.data(), ref.arena.bytes.data(), 16);
    std::memcpy(out.data() + 16, &ref.slot, 4);
    std::memset(out.data() + 20, 0, 4);
    std::memcpy(out.data() + 24, &ref.offset, 8);
    std::memcpy(out.data() + 32, &ref.size, 8);
}

Result<IpcBufferRef> decode_buffer_ref(std::span<const std::byte> bytes) {
    if (bytes.size() < IpcBufferRef::encoded_size) {
        return fail(Errc::corrupt, fmt::format("ipc buffer record: {} bytes, shorter than the {}-byte reference",
                                               bytes.size(), IpcBufferRef::encoded_size));
    }
    IpcBufferRef ref;
    std::memcpy(ref.arena.bytes.data(), bytes.data(), 16);
    ref.slot = get<std::uint32_t>(bytes, 16);
    ref.offset = get<std::uint64_t>(bytes, 24);
    ref.size = get<std::uint64_t>(bytes, 32);
    return ref;
}

Result<std::vector<std::byte>> encode_event(const Event& event) {
    std::vector<std::byte> out;
    put(out, static_cast<std::uint8_t>(event.type()));
    put(out, static_cast<std::uint8_t>(event.reset_time() ? 1 : 0));
    put(out, std::uint16_t{0});
    put(out, std::uint32_t{0});
    switch (event.type()) {
    case EventType::stream_start:
        put_string(out, *event.stream_id());
        break;
    case EventType::caps:
        put_string(out, event.caps_value()->to_string());
        break;
    case EventType::segment: {
        const StreamSegment& s = *event.segment_value();
        put(out, static_cast<std::uint8_t>(s.format));
        for (int i = 0; i < 7; ++i) {
            put(out, std::uint8_t{0});
        }
        put(out, s.rate);
        put(out, s.start);
        put(out, s.stop);
        put(out, s.time);
        put(out, s.base);
        put(out, s.position);
        break;
    }
    case EventType::tags:
    case EventType::custom_downstream:
        put_string(out, event.structure()->to_string());
        break;
    case EventType::gap:
        put(out, event.time().ns());
        put(out, event.duration().ns());
        break;
    case EventType::eos:
    case EventType::flush_start:
    case EventType::flush_stop:
    case EventType::reconfigure:
        break;
    case EventType::seek: {
        const SeekRequest& s = *event.seek_value();
        put(out, static_cast<std::uint8_t>(s.format));
        put(out, static_cast<std::uint8_t>(s.flush ? 1 : 0));
        for (int i = 0; i < 6; ++i) {
            put(out, std::uint8_t{0});
        }
        put(out, s.rate);
        put(out, s.start);
        put(out, s.stop);
        break;
    }
    case EventType::qos: {
        const QosReport& q = *event.qos_value();
        put(out, q.proportion);
        put(out, q.jitter_ns);
        put(out, q.timestamp.ns());
        break;
    }
    case EventType::latency:
        put(out, event.time().ns());
        break;
    case EventType::custom_upstream:
        put_string(out, event.structure()->to_string());
        break;
    case EventType::downstream_force_key_unit: {
        const DownstreamForceKeyUnit& k = *event.downstream_force_key_unit_value();
        put(out, k.timestamp.ns());
        put(out, k.stream_time.ns());
        put(out, k.running_time.ns());
        put_key_unit_tail(out, k.count, k.all_headers);
        break;
    }
    case EventType::upstream_force_key_unit: {
        const UpstreamForceKeyUnit& k = *event.upstream_force_key_unit_value();
        put(out, k.running_time.ns());
        put_key_unit_tail(out, k.count, k.all_headers);
        break;
    }
    }
    return out;
}

Result<Event> decode_upstream_event(std::span<const std::byte> bytes) {
    if (bytes.size() < event_header) {
        return fail(Errc::corrupt,
                    fmt::format("ipc event: {} bytes, shorter than the {}-byte header", bytes.size(), event_header));
    }
    const auto type = get<std::uint8_t>(bytes, 0);
    const auto body = bytes.subspan(event_header);
    auto sized = [&](std::size_t n, std::string_view what) { return check_body_size(body, n, what); };
    switch (static_cast<EventType>(type)) {
    case EventType::seek: {
        if (auto ok = sized(seek_body, "seek"); !ok) {
            return fail(ok.error());
        }
        SeekRequest s;
        const auto format = get<std::uint8_t>(body, 0);
        if (format > static_cast<std::uint8_t>(Format::default_units)) {
            return fail(Errc::corrupt, fmt::format("ipc event: seek format {} is unknown", format));
        }
        s.format = static_cast<Format>(format);
        s.flush = get<std::uint8_t>(body, 1) != 0;
        s.rate = get<double>(body, 8);
        if (!(s.rate == s.rate) || s.rate == 0.0) {
            return fail(Errc::corrupt, "ipc event: seek rate is zero or not a number");
        }
        s.start = get<std::uint64_t>(body, 16);
        s.stop = get<std::uint64_t>(body, 24);
        return Event::seek(s);
    }
    case EventType::qos: {
        if (auto ok = sized(qos_body, "qos"); !ok) {
            return fail(ok.error());
        }
        QosReport q;
        q.proportion = get<double>(body, 0);
        if (!(q.proportion == q.proportion) || q.proportion < 0.0) {
            return fail(Errc::corrupt, "ipc event: qos proportion is negative or not a number");
        }
        q.jitter_ns = get<std::int64_t>(body, 8);
        q.timestamp = ClockTime::from_ns(get<std::uint64_t>(body, 16));
        return Event::qos(q);
    }
    case EventType::latency:
        if (auto ok = sized(8, "latency"); !ok) {
            return fail(ok.error());
        }
        return Event::latency(ClockTime::from_ns(get<std::uint64_t>(body, 0)));
    case EventType::reconfigure:
        if (auto ok = sized(0, "reconfigure"); !ok) {
            return fail(ok.error());
        }
        return Event::reconfigure();
    case EventType::custom_upstream: {
        auto s = parse_structure(body, "custom event");
        if (!s) {
            return fail(s.error());
        }
        return Event::custom(EventType::custom_upstream, std::move(*s));
    }
    case EventType::upstream_force_key_unit: {
        auto tail = get_key_unit_body(body, upstream_key_unit_body, "upstream-force-key-unit");
        if (!tail) {
            return fail(tail.error());
        }
        UpstreamForceKeyUnit k;
        k.running_time = ClockTime::from_ns(get<std::uint64_t>(body, 0));
        k.count = tail->count;
        k.all_headers = tail->all_headers;
        return Event::upstream_force_key_unit(k);
    }
    default:
        break;
    }
    return fail(Errc::corrupt, fmt::format("ipc event: type {} is not an upstream event", type));
}

Result<Event> decode_event(std::span<const std::byte> bytes) {
    if (bytes.size() < event_header) {
        return fail(Errc::corrupt,
                    fmt::format("ipc event: {} bytes, shorter than the {}-byte header", bytes.size(), event_header));
    }
    const auto type = get<std::uint8_t>(bytes, 0);
    const bool flag = get<std::uint8_t>(bytes, 1) != 0;
    const auto body = bytes.subspan(event_header);
    if (type > static_cast<std::uint8_t>(EventType::upstream_force_key_unit) ||
        !is_downstream(static_cast<EventType>(type))) {
        return fail(Errc::corrupt, fmt::format("ipc event: type {} is not a downstream event", type));
    }
    switch (static_cast<EventType>(type)) {
    case EventType::stream_start:
        return Event::stream_start(get_string(body));
    case EventType::caps: {
        auto caps = Caps::parse(get_string(body));
        if (!caps) {
            return fail(Errc::corrupt, fmt::format("ipc event: caps do not parse: {}", caps.error().message()));
        }
        return Event::caps(std::move(*caps));
    }
    case EventType::segment: {
        if (auto ok = check_body_size(body, segment_body, "segment"); !ok) {
            return fail(ok.error());
        }
        StreamSegment s;
        const auto format = get<std::uint8_t>(body, 0);
        if (format > static_cast<std::uint8_t>(Format::default_units)) {
            return fail(Errc::corrupt, fmt::format("ipc event: segment format {} is unknown", format));
        }
        s.format = static_cast<Format>(format);
        s.rate = get<double>(body, 8);
        if (!(s.rate == s.rate) || s.rate == 0.0) {
            return fail(Errc::corrupt, "ipc event: segment rate is zero or not a number");
        }
        s.start = get<std::uint64_t>(body, 16);
        s.stop = get<std::uint64_t>(body, 24);
        s.time = get<std::uint64_t>(body, 32);
        s.base = get<std::uint64_t>(body, 40);
        s.position = get<std::uint64_t>(body, 48);
        return Event::segment(s);
    }
    case EventType::tags: {
        auto s = parse_structure(body, "tags");
        if (!s) {
            return fail(s.error());
        }
        return Event::tags(std::move(*s));
    }
    case EventType::custom_downstream: {
        auto s = parse_structure(body, "custom event");
        if (!s) {
            return fail(s.error());
        }
        return Event::custom(EventType::custom_downstream, std::move(*s));
    }
    case EventType::gap:
        if (auto ok = check_body_size(body, gap_body, "gap"); !ok) {
            return fail(ok.error());
        }
        return Event::gap(ClockTime::from_ns(get<std::uint64_t>(body, 0)),
                          ClockTime::from_ns(get<std::uint64_t>(body, 8)));
    case EventType::eos:
        return Event::eos();
    case EventType::flush_start:
        return Event::flush_start();
    case EventType::flush_stop:
        return Event::flush_stop(flag);
    case EventType::downstream_force_key_unit: {
        auto tail = get_key_unit_body(body, downstream_key_unit_body, "downstream-force-key-unit");
        if (!tail) {
            return fail(tail.error());
        }
        DownstreamForceKeyUnit k;
        k.timestamp = ClockTime::from_ns(get<std::uint64_t>(body, 0));
        k.stream_time = ClockTime::from_ns(get<std::uint64_t>(body, 8));
        k.running_time = ClockTime::from_ns(get<std::uint64_t>(body, 16));
        k.count = tail->count;
        k.all_headers = tail->all_headers;
        return Event::downstream_force_key_unit(k);
    }
    default:
        break;
    }
    return fail(Errc::corrupt, fmt::format("ipc event: type {} does not cross processes", type));
}

std::vector<std::byte> encode_hello(const IpcHello& hello) {
    std::vector<std::byte> out;
    put(out, IpcHello::magic);
    put(out, IpcHello::version);
    put(out, std::uint16_t{0});
    put(out, hello.producer_pid);
    put(out, hello.max_buffers);
    return out;
}

Result<IpcHello> decode_hello(std::span<const std::byte> bytes) {
    if (bytes.size() != IpcHello::encoded_size) {
        return fail(Errc::corrupt,
                    fmt::format("ipc hello: {} bytes (expected {})", bytes.size(), IpcHello::encoded_size));
    }
    if (get<std::uint32_t>(bytes, 0) != IpcHello::magic) {
        return fail(Errc::corrupt, "ipc hello: bad magic");
    }
    if (const auto v = get<std::uint16_t>(bytes, 4); v != IpcHello::version) {
        return fail(Errc::version_mismatch,
                    fmt::format("ipc hello: protocol version {} (this build speaks {})", v, IpcHello::version));
    }
    IpcHello hello;
    hello.producer_pid = get<std::uint32_t>(bytes, 8);
    hello.max_buffers = get<std::uint32_t>(bytes, 12);
    return hello;
}

std::vector<std::byte> encode_arena_ack(const IpcArenaAck& ack) {
    std::vector<std::byte> out(16);
    std::memcpy(out.data(), ack.arena.bytes.data(), 16);
    put(out, ack.status);
    put(out, ack.participant.index);
    put(out, ack.participant.incarnation);
    return out;
}

Result<IpcArenaAck> decode_arena_ack(std::span<const std::byte> bytes) {
    if (bytes.size() != IpcArenaAck::encoded_size) {
        return fail(Errc::corrupt,
                    fmt::format("ipc arena ack: {} bytes (expected {})", bytes.size(), IpcArenaAck::encoded_size));
    }
    IpcArenaAck ack;
    std::memcpy(ack.arena.bytes.data(), bytes.data(), 16);
    ack.status = get<std::uint32_t>(bytes, 16);
    if (ack.status > 1) {
        return fail(Errc::corrupt, fmt::format("ipc arena ack: status {} is unknown", ack.status));
    }
    ack.participant.index = get<std::uint32_t>(bytes, 20);
    ack.participant.incarnation = get<std::uint32_t>(bytes, 24);
    return ack;
}

Result<ArenaId> decode_arena_offer(std::span<const std::byte> bytes) {
    if (bytes.size() != 16) {
        return fail(Errc::corrupt, fmt::format("ipc arena offer: {} bytes (expected 16)", bytes.size()));
    }
    ArenaId id;
    std::memcpy(id.bytes.data(), bytes.data(), 16);
    return id;
}

namespace {

// The compact record's optional u64 fields, in the order they follow the
// fixed part; bit i of the mask at byte 2 says field i is there.
enum CompactField : std::uint8_t { c_pts, c_dts, c_duration, c_sequence, c_byte_offset, c_field_count };

std::array<std::uint64_t, c_field_count> compact_values(const Metadata& m) noexcept {
    return {m.pts().ns(), m.dts().ns(), m.duration().ns(), m.sequence(), m.byte_offset()};
}

// A field is left out when it holds what a new Metadata holds.
constexpr std::array<std::uint64_t, c_field_count> compact_absent{ClockTime::none().ns(), ClockTime::none().ns(),
                                                                  ClockTime::none().ns(), 0, Metadata::no_byte_offset};

} // namespace

std::size_t compact_buffer_size(const Buffer& buffer, std::size_t arena_index) noexcept {
    const Metadata& m = buffer.meta();
    constexpr std::uint64_t limit = std::uint64_t{1} << 32;
    if (buffer.arena() == nullptr || m.has_entries() || m.rtp().present || buffer.offset() >= limit ||
        buffer.size() >= limit || arena_index > 0xFFFF) {
        return 0;
    }
    const auto values = compact_values(m);
    std::size_t size = IpcCompactBuffer::fixed_size;
    for (std::size_t i = 0; i < values.size(); ++i) {
        size += values[i] != compact_absent[i] ? 8 : 0;
    }
    return size;
}

void encode_compact_buffer(const Buffer& buffer, std::uint16_t arena_index, std::span<std::byte> out) noexcept {
    const Metadata& m = buffer.meta();
    const auto values = compact_values(m);
    std::uint8_t mask = 0;
    std::byte* at = out.data() + IpcCompactBuffer::fixed_size;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] != compact_absent[i]) {
            mask = static_cast<std::uint8_t>(mask | (1U << i));
            std::memcpy(at, &values[i], 8);
            at += 8;
        }
    }
    const auto slot = static_cast<std::uint32_t>(buffer.slot());
    const auto offset = static_cast<std::uint32_t>(buffer.offset());
    const auto size = static_cast<std::uint32_t>(buffer.size());
    const auto flags = static_cast<std::uint32_t>(m.flags());
    const std::uint32_t stream = m.stream_id();
    std::memcpy(out.data(), &arena_index, 2);
    std::memcpy(out.data() + 2, &mask, 1);
    std::memset(out.data() + 3, 0, 1);
    std::memcpy(out.data() + 4, &slot, 4);
    std::memcpy(out.data() + 8, &offset, 4);
    std::memcpy(out.data() + 12, &size, 4);
    std::memcpy(out.data() + 16, &flags, 4);
    std::memcpy(out.data() + 20, &stream, 4);
}

Result<IpcCompactBuffer> decode_compact_buffer(std::span<const std::byte> bytes) {
    if (bytes.size() < IpcCompactBuffer::fixed_size) {
        return fail(Errc::corrupt,
                    fmt::format("ipc compact buffer record: {} bytes, shorter than its {}-byte fixed part",
                                bytes.size(), IpcCompactBuffer::fixed_size));
    }
    const auto mask = get<std::uint8_t>(bytes, 2);
    if ((mask >> c_field_count) != 0 || get<std::uint8_t>(bytes, 3) != 0) {
        return fail(Errc::corrupt,
                    fmt::format("ipc compact buffer record: reserved bits set in bytes 2-3 ({:#04x} {:#04x})", mask,
                                get<std::uint8_t>(bytes, 3)));
    }
    const std::size_t expected = IpcCompactBuffer::fixed_size + 8 * static_cast<std::size_t>(std::popcount(mask));
    if (bytes.size() != expected) {
        return fail(Errc::corrupt, fmt::format("ipc compact buffer record: {} bytes, but the field mask {:#04x} at "
                                               "byte 2 makes it {}",
                                               bytes.size(), mask, expected));
    }
    const auto flags = get<std::uint32_t>(bytes, 16);
    if ((flags & ~static_cast<std::uint32_t>(all_buffer_flags)) != 0) {
        return fail(Errc::corrupt, fmt::format("ipc compact buffer record: unknown flag bits {:#x} at byte 16",
                                               flags & ~static_cast<std::uint32_t>(all_buffer_flags)));
    }
    IpcCompactBuffer r;
    r.arena_index = get<std::uint16_t>(bytes, 0);
    r.slot = get<std::uint32_t>(bytes, 4);
    r.offset = get<std::uint32_t>(bytes, 8);
    r.size = get<std::uint32_t>(bytes, 12);
    auto values = compact_absent;
    std::size_t at = IpcCompactBuffer::fixed_size;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if ((mask & (1U << i)) != 0) {
            values[i] = get<std::uint64_t>(bytes, at);
            at += 8;
        }
    }
    Metadata& m = r.meta;
    m.set_pts(ClockTime(values[c_pts]));
    m.set_dts(ClockTime(values[c_dts]));
    m.set_duration(ClockTime(values[c_duration]));
    m.set_sequence(values[c_sequence]);
    m.set_byte_offset(values[c_byte_offset]);
    m.set_stream_id(get<std::uint32_t>(bytes, 20));
    m.set_flags(static_cast<BufferFlags>(flags));
    return r;
}

Result<Buffer> adopt_buffer_record(std::span<const std::byte> bytes,
                                   const std::function<Arena*(const ArenaId&)>& find) {
    auto ref = decode_buffer_ref(bytes);
    if (!ref) {
        return fail(ref.error());
    }
    auto meta = Metadata::deserialize(bytes.subspan(IpcBufferRef::encoded_size));
    if (!meta) {
        return fail(Error(meta.error().code(), fmt::format("buffer metadata: {}", meta.error().message())));
    }
    if (ref->arena == ArenaId{}) {
        if (ref->size != 0) {
            return fail(Errc::corrupt, fmt::format("a buffer of {} bytes without an arena", ref->size));
        }
        Buffer b;
        b.meta() = std::move(*meta);
        return b;
    }
    Arena* arena = find(ref->arena);
    if (arena == nullptr) {
        return fail(Errc::corrupt,
                    fmt::format("a buffer in arena {}, which was never offered", ref->arena.to_string()));
    }
    auto adopted = Buffer::adopt(*arena, ref->slot, ref->offset, ref->size, std::move(*meta));
    if (!adopted) {
        return fail(Error(adopted.error().code(), fmt::format("buffer reference: {}", adopted.error().message())));
    }
    return adopted;
}

void StickyEvents::apply(EventType type, const std::vector<std::byte>& bytes) {
    switch (type) {
    case EventType::stream_start:
        events_[0] = bytes;
        events_[3].clear();
        events_[4].clear();
        break;
    case EventType::caps:
        events_[1] = bytes;
        break;
    case EventType::segment:
        events_[2] = bytes;
        break;
    case EventType::tags:
        events_[3] = bytes;
        break;
    case EventType::eos:
        events_[4] = bytes;
        break;
    case EventType::flush_stop:
        events_[4].clear();
        break;
    default:
        break;
    }
}

std::vector<std::vector<std::byte>> StickyEvents::in_order() const {
    std::vector<std::vector<std::byte>> out;
    for (const auto& e : events_) {
        if (!e.empty()) {
            out.push_back(e);
        }
    }
    return out;
}

} // namespace parallax
