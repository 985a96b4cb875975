#include <parallax/buffer/metadata.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <shared_mutex>

// Serialized form of a Metadata, version 1. All integers are little-endian;
// offsets are in bytes.
//
//   off size  field
//     0    4  magic "PXMD" (50 58 4D 44)
//     4    2  version = 1
//     6    2  entry count N (at most Metadata::max_serialized_entries)
//     8    8  pts       (nanoseconds; all ones = none)
//    16    8  dts       (idem)
//    24    8  duration  (idem)
//    32    8  sequence
//    40    8  byte offset (all ones = none)
//    48    4  stream id
//    52    4  flags (BufferFlags bits; bits this build does not know are an error)
//    56    4  rtp timestamp
//    60    4  rtp ssrc
//    64    2  rtp sequence
//    66    1  rtp payload type (0-127)
//    67    1  rtp bits: bit 0 present, bit 1 marker, the others zero. When
//             "present" is clear, every rtp field (56-67) is zero.
//    68       N entries, keys unique and in ascending byte order:
//             +0      1  key length K (1-255)
//             +1      K  key bytes
//             +1+K    2  codec tag (the key's payload format)
//             +3+K    4  payload length L (at most Metadata::max_serialized_payload)
//             +7+K    L  payload, as written by the key's codec
//
// Nothing may follow the last entry. The form is canonical: a Metadata has
// exactly one serialization (given canonical codecs), so that deserializing
// and serializing again gives back the same bytes.

namespace parallax {

namespace detail {

MetadataValue::~MetadataValue() = default;

struct MetadataEntry {
    std::string key;
    std::shared_ptr<const MetadataValue> value;
};

struct MetadataEntries {
    // Sorted by key, keys unique.
    std::vector<MetadataEntry> items;
};

} // namespace detail

namespace {

using detail::MetadataEntries;
using detail::MetadataEntry;

constexpr std::array<std::byte, 4> magic = {std::byte{'P'}, std::byte{'X'}, std::byte{'M'}, std::byte{'D'}};
constexpr std::size_t min_entry_size = 1 + 1 + 2 + 4;
constexpr std::uint8_t rtp_present_bit = 1U << 0;
constexpr std::uint8_t rtp_marker_bit = 1U << 1;

struct FixedField {
    std::size_t offset;
    std::size_t size;
    std::string_view name;
};

// The fixed part, for naming the field in which a truncated input ends.
constexpr std::array<FixedField, 15> fixed_fields = {{
    {0, 4, "magic"},
    {4, 2, "version"},
    {6, 2, "entry count"},
    {8, 8, "pts"},
    {16, 8, "dts"},
    {24, 8, "duration"},
    {32, 8, "sequence"},
    {40, 8, "byte offset"},
    {48, 4, "stream id"},
    {52, 4, "flags"},
    {56, 4, "rtp timestamp"},
    {60, 4, "rtp ssrc"},
    {64, 2, "rtp sequence"},
    {66, 1, "rtp payload type"},
    {67, 1, "rtp bits"},
}};
static_assert(fixed_fields.back().offset + fixed_fields.back().size == Metadata::fixed_serialized_size);

// The first entry whose key is not less than `key` (const or not).
template <typename Entries>
auto find_entry(Entries& entries, std::string_view key) {
    return std::lower_bound(
        entries.items.begin(), entries.items.end(), key,
        [](const MetadataEntry& entry, std::string_view k) { return std::string_view(entry.key) < k; });
}

// Keys come from outside when deserializing: show them printable.
std::string quote_key(std::string_view key) {
    std::string out = "'";
    for (char c : key) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f || c == '\'' || c == '\\') {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += c;
        }
    }
    out += '\'';
    return out;
}

// Little-endian fields. On a little-endian machine (every one this builds
// for) a field is one plain load or store; the loops compile to several
// byte moves each, and a buffer's metadata has a dozen fields.
template <typename U>
void put(std::byte* out, U value) {
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(out, &value, sizeof(U));
    } else {
        for (std::size_t i = 0; i < sizeof(U); ++i) {
            out[i] = static_cast<std::byte>(static_cast<std::uint64_t>(value) >> (8 * i));
        }
    }
}

template <typename U>
U get_le(const std::byte* in) {
    if constexpr (std::endian::native == std::endian::little) {
        U value;
        std::memcpy(&value, in, sizeof(U));
        return value;
    } else {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < sizeof(U); ++i) {
            value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
        }
        return static_cast<U>(value);
    }
}

// ---------------------------------------------------------------------------
// Codec registry

class CodecRegistry {
public:
    CodecRegistry() {
        // KLV: the payload is the bytes themselves.
        MetadataCodec klv;
        klv.tag = 1;
        klv.type = &typeid(KlvBytes);
        klv.encode = [](const detail::MetadataValue& value, std::vector<std::byte>& out) {
            const auto& bytes = static_cast<const detail::MetadataValueOf<KlvBytes>&>(value).value.bytes;
            const auto* first = reinterpret_cast<const std::byte*>(bytes.data());
            out.insert(out.end(), first, first + bytes.size());
        };
        klv.decode = [](std::span<const std::byte> payload) -> Result<std::shared_ptr<const detail::MetadataValue>> {
            const auto* first = reinterpret_cast<const std::uint8_t*>(payload.data());
            return std::make_shared<const detail::MetadataValueOf<KlvBytes>>(
                KlvBytes{std::vector<std::uint8_t>(first, first + payload.size())});
        };
        codecs_.emplace(std::string(klv_metadata_key), std::make_shared<const MetadataCodec>(std::move(klv)));
    }

    Result<void> add(std::string_view key, MetadataCodec codec) {
        if (key.empty() || key.size() > Metadata::max_serialized_key) {
            return fail(Errc::invalid_argument, fmt::format("metadata codec key {} must be 1 to {} bytes long, not {}",
                                                            quote_key(key), Metadata::max_serialized_key, key.size()));
        }
        if (codec.type == nullptr || !codec.encode || !codec.decode) {
            return fail(Errc::invalid_argument,
                        fmt::format("metadata codec for key {} lacks its type, encode or decode", quote_key(key)));
        }
        std::unique_lock lock(mutex_);
        if (codecs_.find(key) != codecs_.end()) {
            return fail(Errc::state, fmt::format("metadata key {} already has a codec", quote_key(key)));
        }
        codecs_.emplace(std::string(key), std::make_shared<const MetadataCodec>(std::move(codec)));
        return {};
    }

    bool remove(std::string_view key) {
        if (key == klv_metadata_key) {
            return false;
        }
        std::unique_lock lock(mutex_);
        auto it = codecs_.find(key);
        if (it == codecs_.end()) {
            return false;
        }
        codecs_.erase(it);
        return true;
    }

    std::shared_ptr<const MetadataCodec> find(std::string_view key) const {
        std::shared_lock lock(mutex_);
        auto it = codecs_.find(key);
        return it == codecs_.end() ? nullptr : it->second;
    }

private:
    mutable std::shared_mutex mutex_;
    std::map<std::string, std::shared_ptr<const MetadataCodec>, std::less<>> codecs_;
};

CodecRegistry& registry() {
    static CodecRegistry instance;
    return instance;
}

// ---------------------------------------------------------------------------
// Serialization

struct EncodedEntry {
    std::string_view key;
    std::uint16_t tag;
    std::size_t payload_begin;
    std::size_t payload_size;
};

Error serialize_error(Errc code, std::string message) {
    return Error(code, "metadata: cannot serialize: " + std::move(message));
}

// Checks the fixed fields that the API lets a caller set to values the
// serialized form cannot hold.
Result<void> check_fixed(const Metadata& metadata) {
    const auto flags = static_cast<std::uint32_t>(metadata.flags());
    if ((flags & ~static_cast<std::uint32_t>(all_buffer_flags)) != 0) {
        return fail(serialize_error(
            Errc::invalid_argument,
            fmt::format("unknown flag bits {:#x}", flags & ~static_cast<std::uint32_t>(all_buffer_flags))));
    }
    if (metadata.rtp().payload_type > 127) {
        return fail(serialize_error(Errc::invalid_argument, fmt::format("rtp payload type {} does not fit seven bits",
                                                                        metadata.rtp().payload_type)));
    }
    return {};
}

// Encodes every entry's payload into `payloads`; returns the total size.
Result<std::size_t> encode_entries(const MetadataEntries& entries, std::vector<EncodedEntry>& encoded,
                                   std::vector<std::byte>& payloads) {
    if (entries.items.size() > Metadata::max_serialized_entries) {
        return fail(
            serialize_error(Errc::out_of_range, fmt::format("{} entries, more than the limit of {}",
                                                            entries.items.size(), Metadata::max_serialized_entries)));
    }
    encoded.reserve(entries.items.size());
    std::size_t total = Metadata::fixed_serialized_size;
    for (const MetadataEntry& entry : entries.items) {
        if (entry.key.empty() || entry.key.size() > Metadata::max_serialized_key) {
            return fail(serialize_error(Errc::invalid_argument,
                                        fmt::format("key {} must be 1 to {} bytes long, not {}", quote_key(entry.key),
                                                    Metadata::max_serialized_key, entry.key.size())));
        }
        std::shared_ptr<const MetadataCodec> codec = registry().find(entry.key);
        if (codec == nullptr) {
            return fail(serialize_error(Errc::unsupported,
                                        fmt::format("no codec registered for key {}", quote_key(entry.key))));
        }
        if (entry.value->type() != *codec->type) {
            return fail(
                serialize_error(Errc::invalid_argument,
                                fmt::format("entry {} holds a {}, but its codec encodes a {}", quote_key(entry.key),
                                            entry.value->type().name(), codec->type->name())));
        }
        const std::size_t begin = payloads.size();
        try {
            codec->encode(*entry.value, payloads);
        } catch (const std::exception& e) {
            return fail(serialize_error(Errc::invalid_argument,
                                        fmt::format("codec of key {} threw: {}", quote_key(entry.key), e.what())));
        } catch (...) {
            return fail(
                serialize_error(Errc::invalid_argument, fmt::format("codec of key {} threw", quote_key(entry.key))));
        }
        const std::size_t size = payloads.size() - begin;
        if (size > Metadata::max_serialized_payload) {
            return fail(serialize_error(Errc::out_of_range,
                                        fmt::format("payload of key {} is {} bytes, more than the limit of {}",
                                                    quote_key(entry.key), size, Metadata::max_serialized_payload)));
        }
        encoded.push_back({entry.key, codec->tag, begin, size});
        total += 1 + entry.key.size() + 2 + 4 + size;
    }
    return total;
}

void write_fixed(const Metadata& metadata, std::size_t entry_count, std::byte* out) {
    std::copy(magic.begin(), magic.end(), out);
    put<std::uint16_t>(out + 4, Metadata::serialized_version);
    put<std::uint16_t>(out + 6, static_cast<std::uint16_t>(entry_count));
    put<std::uint64_t>(out + 8, metadata.pts().ns());
    put<std::uint64_t>(out + 16, metadata.dts().ns());
    put<std::uint64_t>(out + 24, metadata.duration().ns());
    put<std::uint64_t>(out + 32, metadata.sequence());
    put<std::uint64_t>(out + 40, metadata.byte_offset());
    put<std::uint32_t>(out + 48, metadata.stream_id());
    put<std::uint32_t>(out + 52, static_cast<std::uint32_t>(metadata.flags()));
    const RtpInfo& rtp = metadata.rtp();
    put<std::uint32_t>(out + 56, rtp.timestamp);
    put<std::uint32_t>(out + 60, rtp.ssrc);
    put<std::uint16_t>(out + 64, rtp.sequence);
    put<std::uint8_t>(out + 66, rtp.payload_type);
    put<std::uint8_t>(
        out + 67, static_cast<std::uint8_t>((rtp.present ? rtp_present_bit : 0U) | (rtp.marker ? rtp_marker_bit : 0U)));
}

void write_entries(const std::vector<EncodedEntry>& encoded, const std::vector<std::byte>& payloads, std::byte* out) {
    for (const EncodedEntry& entry : encoded) {
        put<std::uint8_t>(out, static_cast<std::uint8_t>(entry.key.size()));
        out += 1;
        out = std::copy_n(reinterpret_cast<const std::byte*>(entry.key.data()), entry.key.size(), out);
        put<std::uint16_t>(out, entry.tag);
        out += 2;
        put<std::uint32_t>(out, static_cast<std::uint32_t>(entry.payload_size));
        out += 4;
        out = std::copy_n(payloads.data() + entry.payload_begin, entry.payload_size, out);
    }
}

// ---------------------------------------------------------------------------
// Deserialization

Error corrupt(std::string message) {
    return Error(Errc::corrupt, "metadata: " + std::move(message));
}

Error truncated_fixed(std::size_t size) {
    for (const FixedField& field : fixed_fields) {
        if (size < field.offset + field.size) {
            return corrupt(fmt::format("truncated at byte {}: the input ends inside the {} (bytes {}-{}); the fixed "
                                       "part is {} bytes",
                                       size, field.name, field.offset, field.offset + field.size - 1,
                                       Metadata::fixed_serialized_size));
        }
    }
    return corrupt(fmt::format("truncated at byte {}", size)); // not reached: size < fixed size
}

// Reads entries after the fixed part; `pos` is the offset of the next byte.
class EntryReader {
public:
    explicit EntryReader(std::span<const std::byte> bytes) : bytes_(bytes) {}

    [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return bytes_.size() - pos_; }

    // Takes `n` bytes, or fails naming `what()` when fewer remain. `what` is
    // a callable so that the message is built only on failure.
    template <typename What>
    Result<std::span<const std::byte>> take(std::size_t n, const What& what) {
        if (remaining() < n) {
            return fail(corrupt(
                fmt::format("truncated at byte {}: {} needs {} bytes, only {} remain", pos_, what(), n, remaining())));
        }
        std::span<const std::byte> out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }

    template <typename U, typename What>
    Result<U> read(const What& what) {
        return take(sizeof(U), what).map([](std::span<const std::byte> b) { return get_le<U>(b.data()); });
    }

private:
    std::span<const std::byte> bytes_;
    std::size_t pos_ = Metadata::fixed_serialized_size;
};

} // namespace

// ---------------------------------------------------------------------------
// Metadata

std::size_t Metadata::entry_count() const noexcept {
    return entries_ == nullptr ? 0 : entries_->items.size();
}

std::string_view Metadata::key_at(std::size_t index) const noexcept {
    return entries_->items[index].key;
}

const detail::MetadataValue* Metadata::find_value(std::string_view key) const noexcept {
    if (entries_ == nullptr) {
        return nullptr;
    }
    auto it = find_entry(*entries_, key);
    if (it == entries_->items.end() || it->key != key) {
        return nullptr;
    }
    return it->value.get();
}

detail::MetadataEntries& Metadata::writable_entries() {
    if (entries_ == nullptr) {
        entries_ = std::make_shared<MetadataEntries>();
    } else if (entries_.use_count() > 1) {
        // Shared with a copy: copy the list (keys and value references); the
        // values themselves are immutable and stay shared.
        entries_ = std::make_shared<MetadataEntries>(*entries_);
    }
    return *entries_;
}

void Metadata::set_value(std::string_view key, std::shared_ptr<const detail::MetadataValue> value) {
    MetadataEntries& entries = writable_entries();
    auto it = find_entry(entries, key);
    if (it != entries.items.end() && it->key == key) {
        it->value = std::move(value);
    } else {
        entries.items.insert(it, MetadataEntry{std::string(key), std::move(value)});
    }
}

bool Metadata::erase(std::string_view key) {
    if (!has(key)) {
        return false;
    }
    if (entry_count() == 1) {
        // Back to no entries: copies are plain copies again.
        entries_.reset();
        return true;
    }
    MetadataEntries& entries = writable_entries();
    entries.items.erase(find_entry(entries, key));
    return true;
}

bool Metadata::operator==(const Metadata& other) const {
    if (pts_ != other.pts_ || dts_ != other.dts_ || duration_ != other.duration_ || sequence_ != other.sequence_ ||
        byte_offset_ != other.byte_offset_ || stream_id_ != other.stream_id_ || flags_ != other.flags_ ||
        rtp_ != other.rtp_) {
        return false;
    }
    if (entries_ == other.entries_) {
        return true;
    }
    if (entry_count() != other.entry_count()) {
        return false;
    }
    if (entries_ == nullptr || other.entries_ == nullptr) {
        return false; // not reached: a non-null list is never empty
    }
    return std::equal(entries_->items.begin(), entries_->items.end(), other.entries_->items.begin(),
                      [](const MetadataEntry& a, const MetadataEntry& b) {
                          return a.key == b.key && (a.value == b.value || a.value->equals(*b.value));
                      });
}

namespace {

// The entries' payloads, encoded ahead of writing so that the total size is
// known first.
struct Encoded {
    std::vector<EncodedEntry> entries;
    std::vector<std::byte> payloads;
    std::size_t total = Metadata::fixed_serialized_size;
};

Result<void> encode(const Metadata& metadata, const MetadataEntries* entries, Encoded& encoded) {
    if (auto ok = check_fixed(metadata); !ok) {
        return ok;
    }
    if (entries != nullptr) {
        auto size = encode_entries(*entries, encoded.entries, encoded.payloads);
        if (!size) {
            return fail(std::move(size).error());
        }
        encoded.total = *size;
    }
    return {};
}

void write(const Metadata& metadata, const Encoded& encoded, std::byte* out) {
    write_fixed(metadata, encoded.entries.size(), out);
    write_entries(encoded.entries, encoded.payloads, out + Metadata::fixed_serialized_size);
}

} // namespace

Result<std::vector<std::byte>> Metadata::serialize() const {
    Encoded encoded;
    if (auto ok = encode(*this, entries_.get(), encoded); !ok) {
        return fail(std::move(ok).error());
    }
    std::vector<std::byte> out(encoded.total);
    write(*this, encoded, out.data());
    return out;
}

Result<std::size_t> Metadata::serialize(std::span<std::byte> out) const {
    Encoded encoded;
    if (auto ok = encode(*this, entries_.get(), encoded); !ok) {
        return fail(std::move(ok).error());
    }
    if (out.size() < encoded.total) {
        return fail(serialize_error(Errc::out_of_range,
                                    fmt::format("needs {} bytes, the output has {}", encoded.total, out.size())));
    }
    write(*this, encoded, out.data());
    return encoded.total;
}

Result<Metadata> Metadata::deserialize(std::span<const std::byte> bytes) {
    // Magic and version first, so that a short input of another format is
    // reported as such rather than as truncated.
    const std::size_t magic_checked = std::min(bytes.size(), magic.size());
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(magic_checked), magic.begin())) {
        std::string found;
        for (std::size_t i = 0; i < magic_checked; ++i) {
            found += fmt::format("{:02x}", static_cast<unsigned>(bytes[i]));
        }
        return fail(corrupt(fmt::format("bad magic at byte 0: expected 50584d44 (\"PXMD\"), found {}", found)));
    }
    if (bytes.size() >= 6) {
        const auto version = get_le<std::uint16_t>(bytes.data() + 4);
        if (version != serialized_version) {
            return fail(Errc::version_mismatch,
                        fmt::format("metadata: version {} at byte 4 is not supported (this build reads version {})",
                                    version, serialized_version));
        }
    }
    if (bytes.size() < fixed_serialized_size) {
        return fail(truncated_fixed(bytes.size()));
    }

    const std::byte* in = bytes.data();
    const auto count = get_le<std::uint16_t>(in + 6);
    const auto flags = get_le<std::uint32_t>(in + 52);
    const auto rtp_bits = get_le<std::uint8_t>(in + 67);
    RtpInfo rtp;
    rtp.timestamp = get_le<std::uint32_t>(in + 56);
    rtp.ssrc = get_le<std::uint32_t>(in + 60);
    rtp.sequence = get_le<std::uint16_t>(in + 64);
    rtp.payload_type = get_le<std::uint8_t>(in + 66);
    rtp.present = (rtp_bits & rtp_present_bit) != 0;
    rtp.marker = (rtp_bits & rtp_marker_bit) != 0;

    if (count > max_serialized_entries) {
        return fail(corrupt(
            fmt::format("entry count {} at byte 6 is more than the limit of {}", count, max_serialized_entries)));
    }
    if ((flags & ~static_cast<std::uint32_t>(all_buffer_flags)) != 0) {
        return fail(corrupt(
            fmt::format("unknown flag bits {:#x} at byte 52", flags & ~static_cast<std::uint32_t>(all_buffer_flags))));
    }
    if (rtp.payload_type > 127) {
        return fail(corrupt(fmt::format("rtp payload type {} at byte 66 does not fit seven bits", rtp.payload_type)));
    }
    if ((rtp_bits & ~(rtp_present_bit | rtp_marker_bit)) != 0) {
        return fail(corrupt(
            fmt::format("reserved rtp bits {:#04x} set at byte 67", rtp_bits & ~(rtp_present_bit | rtp_marker_bit))));
    }
    if (!rtp.present && rtp != RtpInfo{}) {
        return fail(corrupt("rtp fields at bytes 56-67 are set, but the rtp-present bit at byte 67 is clear"));
    }

    Metadata metadata;
    metadata.pts_ = ClockTime(get_le<std::uint64_t>(in + 8));
    metadata.dts_ = ClockTime(get_le<std::uint64_t>(in + 16));
    metadata.duration_ = ClockTime(get_le<std::uint64_t>(in + 24));
    metadata.sequence_ = get_le<std::uint64_t>(in + 32);
    metadata.byte_offset_ = get_le<std::uint64_t>(in + 40);
    metadata.stream_id_ = get_le<std::uint32_t>(in + 48);
    metadata.flags_ = static_cast<BufferFlags>(flags);
    metadata.rtp_ = rtp;

    EntryReader reader(bytes);
    if (count > 0) {
        // Bounds the allocation below by the input's size.
        if (reader.remaining() / min_entry_size < count) {
            return fail(
                corrupt(fmt::format("truncated at byte {}: {} entries need at least {} bytes, only {} remain",
                                    reader.pos(), count, std::size_t{count} * min_entry_size, reader.remaining())));
        }
        auto entries = std::make_shared<MetadataEntries>();
        entries->items.reserve(count);
        for (std::size_t index = 0; index < count; ++index) {
            const std::size_t entry_pos = reader.pos();
            auto key_size = reader.read<std::uint8_t>([&] { return fmt::format("the key length of entry {}", index); });
            if (!key_size) {
                return fail(std::move(key_size).error());
            }
            if (*key_size == 0) {
                return fail(corrupt(fmt::format("entry {} at byte {} has an empty key", index, entry_pos)));
            }
            auto key_bytes = reader.take(*key_size, [&] { return fmt::format("the key of entry {}", index); });
            if (!key_bytes) {
                return fail(std::move(key_bytes).error());
            }
            const std::string_view key(reinterpret_cast<const char*>(key_bytes->data()), key_bytes->size());
            if (!entries->items.empty() && !(std::string_view(entries->items.back().key) < key)) {
                return fail(
                    corrupt(fmt::format("key {} of entry {} at byte {} does not come after key {}: keys must be "
                                        "unique and in ascending order",
                                        quote_key(key), index, entry_pos + 1, quote_key(entries->items.back().key))));
            }
            const std::size_t tag_pos = reader.pos();
            auto tag =
                reader.read<std::uint16_t>([&] { return fmt::format("the codec tag of entry {}", quote_key(key)); });
            if (!tag) {
                return fail(std::move(tag).error());
            }
            const std::size_t length_pos = reader.pos();
            auto length = reader.read<std::uint32_t>(
                [&] { return fmt::format("the payload length of entry {}", quote_key(key)); });
            if (!length) {
                return fail(std::move(length).error());
            }
            if (*length > max_serialized_payload) {
                return fail(corrupt(fmt::format("payload length {} of entry {} at byte {} is more than the limit of {}",
                                                *length, quote_key(key), length_pos, max_serialized_payload)));
            }
            const std::size_t payload_pos = reader.pos();
            auto payload = reader.take(*length, [&] { return fmt::format("the payload of entry {}", quote_key(key)); });
            if (!payload) {
                return fail(std::move(payload).error());
            }
            std::shared_ptr<const MetadataCodec> codec = registry().find(key);
            if (codec == nullptr) {
                return fail(Errc::unsupported, fmt::format("metadata: no codec registered for key {} of entry {} at "
                                                           "byte {}",
                                                           quote_key(key), index, entry_pos + 1));
            }
            if (*tag != codec->tag) {
                return fail(
                    Errc::version_mismatch,
                    fmt::format("metadata: entry {} has codec tag {} at byte {}, but the codec of the key reads "
                                "tag {}",
                                quote_key(key), *tag, tag_pos, codec->tag));
            }
            Result<std::shared_ptr<const detail::MetadataValue>> value = fail(Errc::corrupt, "codec did not run");
            try {
                value = codec->decode(*payload);
            } catch (const std::exception& e) {
                value = fail(Errc::corrupt, fmt::format("threw: {}", e.what()));
            } catch (...) {
                value = fail(Errc::corrupt, "threw");
            }
            if (!value) {
                return fail(corrupt(fmt::format("the codec of key {} rejected the {}-byte payload at byte {}: {}",
                                                quote_key(key), *length, payload_pos, value.error().message())));
            }
            if (*value == nullptr || (*value)->type() != *codec->type) {
                return fail(corrupt(fmt::format("the codec of key {} returned no value or one of another type for "
                                                "the payload at byte {}",
                                                quote_key(key), payload_pos)));
            }
            entries->items.push_back(MetadataEntry{std::string(key), std::move(*value)});
        }
        metadata.entries_ = std::move(entries);
    }
    if (reader.remaining() != 0) {
        return fail(corrupt(
            fmt::format("{} trailing bytes at byte {} after the last entry", reader.remaining(), reader.pos())));
    }
    return metadata;
}

// ---------------------------------------------------------------------------
// MetadataCodecs

Result<void> MetadataCodecs::add(std::string_view key, MetadataCodec codec) {
    return registry().add(key, std::move(codec));
}

bool MetadataCodecs::remove(std::string_view key) {
    return registry().remove(key);
}

std::shared_ptr<const MetadataCodec> MetadataCodecs::find(std::string_view key) {
    return registry().find(key);
}

} // namespace parallax
