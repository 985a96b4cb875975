#pragma once

/// \file
/// Metadata: what travels with every buffer (timestamps, sequence, stream,
/// flags, RTP fields and typed custom entries such as KLV), and its compact
/// serialized form for crossing process and network boundaries.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>
#include <parallax/buffer/clock_time.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace parallax {

/// Buffer flags, with GStreamer's meaning where GStreamer has the flag
/// (GST_BUFFER_FLAG_*). The bit values are part of the serialized form and
/// never change.
enum class BufferFlags : std::uint32_t {
    none = 0,
    /// A sync point: decoding can start here (an intra frame). GStreamer
    /// expresses this as the absence of DELTA_UNIT; here a producer that knows
    /// says so explicitly.
    keyframe = 1U << 0,
    /// Cannot be decoded on its own: needs earlier buffers (DELTA_UNIT).
    delta = 1U << 1,
    /// The first buffer after a discontinuity in the stream (DISCONT).
    discont = 1U << 2,
    /// The last buffer of the stream; end-of-stream follows. (GStreamer has
    /// only the EOS event; the flag lets a sink finish without waiting.)
    eos = 1U << 3,
    /// The data may be damaged, e.g. a packet was lost inside it (CORRUPTED).
    corrupted = 1U << 4,
    /// Stream headers (codec setup data) rather than media (HEADER).
    header = 1U << 5,
    /// Decode, but do not render: needed only to decode what follows
    /// (DECODE_ONLY).
    decode_only = 1U << 6,
    /// No data: a gap in the stream, to be rendered as silence or a repeat
    /// (GAP).
    gap = 1U << 7,
    /// May be dropped without harming what follows, e.g. a non-reference
    /// frame (DROPPABLE).
    droppable = 1U << 8,
    /// Produced by a live source, in real time (LIVE).
    live = 1U << 9,
};

/// Every flag this build knows. Serialized metadata with other bits is
/// rejected.
inline constexpr BufferFlags all_buffer_flags = static_cast<BufferFlags>((1U << 10) - 1);

constexpr BufferFlags operator|(BufferFlags a, BufferFlags b) noexcept {
    return static_cast<BufferFlags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr BufferFlags operator&(BufferFlags a, BufferFlags b) noexcept {
    return static_cast<BufferFlags>(static_cast<std::uint32_t>(a) & static_cast<std::uint32_t>(b));
}
constexpr BufferFlags operator^(BufferFlags a, BufferFlags b) noexcept {
    return static_cast<BufferFlags>(static_cast<std::uint32_t>(a) ^ static_cast<std::uint32_t>(b));
}
/// The complement within the known flags (`all_buffer_flags`).
constexpr BufferFlags operator~(BufferFlags a) noexcept {
    return static_cast<BufferFlags>(~static_cast<std::uint32_t>(a)) & all_buffer_flags;
}
constexpr BufferFlags& operator|=(BufferFlags& a, BufferFlags b) noexcept {
    return a = a | b;
}
constexpr BufferFlags& operator&=(BufferFlags& a, BufferFlags b) noexcept {
    return a = a & b;
}
constexpr BufferFlags& operator^=(BufferFlags& a, BufferFlags b) noexcept {
    return a = a ^ b;
}

/// True when every flag of `wanted` is set in `flags` (and `wanted` is not none).
constexpr bool has_flags(BufferFlags flags, BufferFlags wanted) noexcept {
    return wanted != BufferFlags::none && (flags & wanted) == wanted;
}

/// The RTP header fields of the packet a buffer came from or goes to.
/// When `present` is false every other field is zero.
struct RtpInfo {
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
    std::uint16_t sequence = 0;
    std::uint8_t payload_type = 0; ///< 0-127 (seven bits on the wire).
    bool marker = false;
    bool present = false;

    friend constexpr bool operator==(const RtpInfo&, const RtpInfo&) noexcept = default;
};

static_assert(std::is_trivially_copyable_v<RtpInfo>);

/// KLV (key-length-value, SMPTE 336M) bytes carried with a buffer, e.g. MISB
/// ST 0601 telemetry. Stored under the key `klv_metadata_key`; its codec is
/// built in (the payload is the bytes themselves).
struct KlvBytes {
    std::vector<std::uint8_t> bytes;

    friend bool operator==(const KlvBytes&, const KlvBytes&) = default;
};

/// The key of the KLV entry.
inline constexpr std::string_view klv_metadata_key = "klv";

namespace detail {

/// A custom entry's value, type-erased. Values are immutable once stored, so
/// copies of a Metadata share them.
class PARALLAX_API MetadataValue {
public:
    virtual ~MetadataValue();
    MetadataValue(const MetadataValue&) = delete;
    MetadataValue& operator=(const MetadataValue&) = delete;

    [[nodiscard]] virtual const std::type_info& type() const noexcept = 0;
    /// Values of the same type compare with the type's operator== when it has
    /// one; otherwise only a value equals itself.
    [[nodiscard]] virtual bool equals(const MetadataValue& other) const = 0;

protected:
    MetadataValue() = default;
};

template <typename T>
class MetadataValueOf final : public MetadataValue {
public:
    explicit MetadataValueOf(T v) : value(std::move(v)) {}

    [[nodiscard]] const std::type_info& type() const noexcept override { return typeid(T); }
    [[nodiscard]] bool equals(const MetadataValue& other) const override {
        if (other.type() != typeid(T)) {
            return false;
        }
        if constexpr (std::equality_comparable<T>) {
            return value == static_cast<const MetadataValueOf&>(other).value;
        } else {
            return this == &other;
        }
    }

    T value;
};

struct MetadataEntries;

} // namespace detail

/// Everything that travels with a buffer besides its bytes.
///
/// The fixed fields are plain values, and the custom entries hide behind one
/// copy-on-write pointer that is null while there are none: copying a
/// Metadata without custom entries is a plain copy of about 80 bytes (no
/// allocation, no atomic operation); copying one with entries adds one atomic
/// increment. Changing the entries of a Metadata whose entries are shared
/// first copies the entry list (keys and value references, not the values).
///
/// Custom entries are typed values under string keys, kept sorted by key.
/// They cross process boundaries through `serialize()` / `deserialize()`,
/// which use the codec registered for each key (see MetadataCodecs).
///
/// A Metadata is a value: one object is not safe to change from two threads at
/// once, but copies are independent and may be used on different threads.
class PARALLAX_API Metadata {
public:
    /// The byte offset that means "not known" (GST_BUFFER_OFFSET_NONE).
    static constexpr std::uint64_t no_byte_offset = ~std::uint64_t{0};
    /// The serialized size of a Metadata without custom entries.
    static constexpr std::size_t fixed_serialized_size = 68;
    /// The most custom entries a serialized Metadata may hold.
    static constexpr std::size_t max_serialized_entries = 1024;
    /// The longest key that serializes, in bytes.
    static constexpr std::size_t max_serialized_key = 255;
    /// The largest serialized payload of one entry, in bytes.
    static constexpr std::size_t max_serialized_payload = std::size_t{16} << 20;
    /// The serialization format version this build writes and reads.
    static constexpr std::uint16_t serialized_version = 1;

    /// Every time none, sequence and stream id zero, byte offset none, no
    /// flags, no RTP fields, no entries.
    Metadata() noexcept = default;

    // --- Fixed fields -----------------------------------------------------

    /// Presentation timestamp.
    [[nodiscard]] ClockTime pts() const noexcept { return pts_; }
    void set_pts(ClockTime t) noexcept { pts_ = t; }
    /// Decoding timestamp.
    [[nodiscard]] ClockTime dts() const noexcept { return dts_; }
    void set_dts(ClockTime t) noexcept { dts_ = t; }
    /// How long the buffer's content lasts.
    [[nodiscard]] ClockTime duration() const noexcept { return duration_; }
    void set_duration(ClockTime t) noexcept { duration_ = t; }

    /// A counter set by the producer, one per buffer of a stream.
    [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }
    void set_sequence(std::uint64_t sequence) noexcept { sequence_ = sequence; }
    /// Which stream of a multi-stream source the buffer belongs to.
    [[nodiscard]] std::uint32_t stream_id() const noexcept { return stream_id_; }
    void set_stream_id(std::uint32_t id) noexcept { stream_id_ = id; }

    /// Position of the buffer's first byte in its source (a file, a
    /// stream), or `no_byte_offset`.
    [[nodiscard]] std::uint64_t byte_offset() const noexcept { return byte_offset_; }
    [[nodiscard]] bool has_byte_offset() const noexcept { return byte_offset_ != no_byte_offset; }
    void set_byte_offset(std::uint64_t offset) noexcept { byte_offset_ = offset; }

    [[nodiscard]] BufferFlags flags() const noexcept { return flags_; }
    void set_flags(BufferFlags flags) noexcept { flags_ = flags; }
    /// True when every flag of `wanted` is set.
    [[nodiscard]] bool has_flag(BufferFlags wanted) const noexcept { return has_flags(flags_, wanted); }
    /// Sets the flags of `flags`, leaving the others.
    void set_flag(BufferFlags flags) noexcept { flags_ |= flags; }
    /// Clears the flags of `flags`, leaving the others.
    void unset_flag(BufferFlags flags) noexcept { flags_ = flags_ & ~flags; }

    /// The RTP fields; `rtp().present` says whether there are any.
    [[nodiscard]] const RtpInfo& rtp() const noexcept { return rtp_; }
    /// Stores `info` and marks it present (whatever `info.present` says).
    void set_rtp(const RtpInfo& info) noexcept {
        rtp_ = info;
        rtp_.present = true;
    }
    /// Removes the RTP fields (all zero, not present).
    void clear_rtp() noexcept { rtp_ = RtpInfo{}; }

    // --- Custom entries ---------------------------------------------------

    /// Stores `value` under `key`, replacing whatever was there (of any type).
    /// The value is immutable from then on and shared by copies of this
    /// Metadata. T must not be a pointer: store an owning value (std::string,
    /// not const char*). To cross process boundaries, `key` needs a codec for
    /// T (see register_metadata_codec).
    template <typename T>
    void set(std::string_view key, T value) {
        static_assert(!std::is_pointer_v<T>, "store an owning value, not a pointer");
        set_value(key, std::make_shared<const detail::MetadataValueOf<T>>(std::move(value)));
    }

    /// The value under `key`, or nullptr when there is none or it is not a T.
    /// The pointer is valid until this Metadata's entries are next changed
    /// (set, erase, clear, assignment) or it is destroyed.
    template <typename T>
    [[nodiscard]] const T* get(std::string_view key) const {
        const detail::MetadataValue* value = find_value(key);
        if (value == nullptr || value->type() != typeid(T)) {
            return nullptr;
        }
        return &static_cast<const detail::MetadataValueOf<T>*>(value)->value;
    }

    /// True when there is an entry under `key` (of any type).
    [[nodiscard]] bool has(std::string_view key) const { return find_value(key) != nullptr; }
    /// Removes the entry under `key`; false when there was none.
    bool erase(std::string_view key);
    /// Removes every custom entry.
    void clear_entries() noexcept { entries_.reset(); }
    /// How many custom entries there are.
    [[nodiscard]] std::size_t entry_count() const noexcept;
    [[nodiscard]] bool has_entries() const noexcept { return entries_ != nullptr; }

    /// The keys of the custom entries, in ascending order. The range refers to
    /// this Metadata; its iterators are invalidated like `get()` pointers.
    class KeyRange;
    [[nodiscard]] KeyRange keys() const noexcept;

    /// Stores KLV bytes under `klv_metadata_key`.
    void set_klv(std::vector<std::uint8_t> bytes) { set(klv_metadata_key, KlvBytes{std::move(bytes)}); }
    /// The KLV bytes, or an empty span when there are none. Valid like `get()`.
    [[nodiscard]] std::span<const std::uint8_t> klv() const {
        const KlvBytes* klv_bytes = get<KlvBytes>(klv_metadata_key);
        return klv_bytes == nullptr ? std::span<const std::uint8_t>() : std::span<const std::uint8_t>(klv_bytes->bytes);
    }

    /// Equal fixed fields and equal entries (same keys, values of the same
    /// type that compare equal).
    [[nodiscard]] bool operator==(const Metadata& other) const;

    // --- Serialization ----------------------------------------------------

    /// The serialized form (layout in docs/design/metadata.md). Fails when an
    /// entry's key has no codec or its value is not the codec's type, a key is
    /// empty or longer than `max_serialized_key`, a payload is larger than
    /// `max_serialized_payload`, there are more than `max_serialized_entries`
    /// entries, or the RTP payload type does not fit seven bits. The error
    /// names the key.
    [[nodiscard]] Result<std::vector<std::byte>> serialize() const;

    /// Writes the serialized form into `out` and returns how many bytes it
    /// took. Fails as `serialize()` does, and with Errc::out_of_range (saying
    /// how many bytes are needed) when `out` is too small. Without custom
    /// entries it does not allocate.
    [[nodiscard]] Result<std::size_t> serialize(std::span<std::byte> out) const;

    /// Reads a serialized Metadata that fills `bytes` exactly. Every malformed
    /// input is an Error that says what is wrong and at which byte offset:
    /// Errc::corrupt for bad magic, truncation, bad lengths or counts,
    /// unknown flag bits, keys out of order, failed codecs and trailing bytes;
    /// Errc::version_mismatch for a version other than `serialized_version`;
    /// Errc::unsupported for a key without a registered codec.
    [[nodiscard]] static Result<Metadata> deserialize(std::span<const std::byte> bytes);

private:
    void set_value(std::string_view key, std::shared_ptr<const detail::MetadataValue> value);
    [[nodiscard]] const detail::MetadataValue* find_value(std::string_view key) const noexcept;
    [[nodiscard]] std::string_view key_at(std::size_t index) const noexcept;
    detail::MetadataEntries& writable_entries();

    ClockTime pts_;
    ClockTime dts_;
    ClockTime duration_;
    std::uint64_t sequence_ = 0;
    std::uint64_t byte_offset_ = no_byte_offset;
    std::uint32_t stream_id_ = 0;
    BufferFlags flags_ = BufferFlags::none;
    RtpInfo rtp_;
    // Null while there are no custom entries; shared between copies and
    // copied before a change while shared.
    std::shared_ptr<detail::MetadataEntries> entries_;
};

/// The keys of a Metadata's custom entries, in ascending order.
class Metadata::KeyRange {
public:
    class iterator { // NOLINT(readability-identifier-naming): the standard name for a range's iterator
    public:
        // Dereferencing yields a string_view by value: a C++20 forward
        // iterator, but only a legacy input iterator.
        using iterator_concept = std::forward_iterator_tag;
        using iterator_category = std::input_iterator_tag;
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = std::string_view;

        iterator() noexcept = default;
        [[nodiscard]] std::string_view operator*() const noexcept { return metadata_->key_at(index_); }
        iterator& operator++() noexcept {
            ++index_;
            return *this;
        }
        iterator operator++(int) noexcept {
            iterator old = *this;
            ++index_;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

    private:
        friend class KeyRange;
        iterator(const Metadata* metadata, std::size_t index) noexcept : metadata_(metadata), index_(index) {}

        const Metadata* metadata_ = nullptr;
        std::size_t index_ = 0;
    };

    [[nodiscard]] iterator begin() const noexcept { return {metadata_, 0}; }
    [[nodiscard]] iterator end() const noexcept { return {metadata_, metadata_->entry_count()}; }
    [[nodiscard]] std::size_t size() const noexcept { return metadata_->entry_count(); }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }

private:
    friend class Metadata;
    explicit KeyRange(const Metadata* metadata) noexcept : metadata_(metadata) {}

    const Metadata* metadata_;
};

inline Metadata::KeyRange Metadata::keys() const noexcept {
    return KeyRange(this);
}

/// How the custom entries under one key become bytes and back, type-erased.
/// Built by `register_metadata_codec<T>()`.
struct MetadataCodec {
    /// The payload format of the key, written before each payload and checked
    /// on reading, so that a key's format can change without misreading old
    /// bytes.
    std::uint16_t tag = 1;
    /// The value type the codec reads and writes.
    const std::type_info* type = nullptr;
    /// Appends the payload of `value` (whose type is `*type`) to `out`.
    std::function<void(const detail::MetadataValue& value, std::vector<std::byte>& out)> encode;
    /// Reads a payload back into a value of type `*type`.
    std::function<Result<std::shared_ptr<const detail::MetadataValue>>(std::span<const std::byte> payload)> decode;
};

/// The process-wide registry of metadata codecs, one per key. The codec of
/// `klv_metadata_key` is built in. Safe to use from any thread.
class PARALLAX_API MetadataCodecs {
public:
    /// Registers `codec` for `key`. Fails when the key is empty or longer
    /// than Metadata::max_serialized_key, already has a codec, or the codec
    /// lacks its type or a function.
    static Result<void> add(std::string_view key, MetadataCodec codec);
    /// Removes the codec of `key`; false when there is none or it is built in.
    static bool remove(std::string_view key);
    /// The codec of `key`, or null.
    /// **Ownership:** shared; the codec stays alive while the caller holds it,
    /// even if it is removed meanwhile.
    [[nodiscard]] static std::shared_ptr<const MetadataCodec> find(std::string_view key);
    /// True when `key` has a codec.
    [[nodiscard]] static bool contains(std::string_view key) { return find(key) != nullptr; }
};

/// Registers the codec of the entries under `key`, which hold values of type
/// T. `encode(const T&, std::vector<std::byte>& out)` appends the payload;
/// `decode(std::span<const std::byte>)` returns Result<T> and must reject any
/// payload it does not fully understand (exceptions it throws become errors).
/// Both may be called from several threads at once, so they must not change
/// shared state. `tag` is the payload format (see MetadataCodec::tag).
/// **Ownership:** the registry keeps copies of both functions for the rest of
/// the process or until `unregister_metadata_codec(key)`.
template <typename T, typename Encode, typename Decode>
requires std::invocable < const Encode&, const T&, std::vector<std::byte>
& > &&std::is_invocable_r_v<Result<T>, const Decode&, std::span<const std::byte>> Result<void>
    register_metadata_codec(std::string_view key, Encode encode, Decode decode, std::uint16_t tag = 1) {
    MetadataCodec codec;
    codec.tag = tag;
    codec.type = &typeid(T);
    codec.encode = [encode = std::move(encode)](const detail::MetadataValue& value, std::vector<std::byte>& out) {
        encode(static_cast<const detail::MetadataValueOf<T>&>(value).value, out);
    };
    codec.decode = [decode = std::move(decode)](
                       std::span<const std::byte> payload) -> Result<std::shared_ptr<const detail::MetadataValue>> {
        Result<T> value = decode(payload);
        if (!value) {
            return fail(std::move(value).error());
        }
        return std::make_shared<const detail::MetadataValueOf<T>>(std::move(*value));
    };
    return MetadataCodecs::add(key, std::move(codec));
}

/// Removes the codec of `key`; false when there is none or it is built in.
inline bool unregister_metadata_codec(std::string_view key) {
    return MetadataCodecs::remove(key);
}

} // namespace parallax
