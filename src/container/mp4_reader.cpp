#include <parallax/codec/opus.hpp>
#include <parallax/container/mp4_reader.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <utility>

namespace parallax::mp4 {

namespace {

// A box found inside bytes in memory: its path for messages ("moov/trak[1]
// /mdia"), where it starts in the file and its payload.
struct Box {
    std::string type;
    std::string path;
    std::uint64_t offset = 0;
    std::uint64_t payload_at = 0; // file offset of the payload
    std::span<const std::uint8_t> payload;
};

tl::unexpected<Error> corrupt(const Box& b, std::string_view what) {
    return fail(Errc::corrupt, fmt::format("{} at byte {}: {}", b.path, b.offset, what));
}

// Reads big-endian fields of one box's payload; every read is checked and
// a failed one names the box and the field.
class Fields {
public:
    explicit Fields(const Box& box, std::size_t at = 0) : box_(box), at_(at) {}

    [[nodiscard]] std::size_t left() const noexcept {
        return at_ <= box_.payload.size() ? box_.payload.size() - at_ : 0;
    }
    [[nodiscard]] std::size_t position() const noexcept { return at_; }

    Result<std::uint64_t> uint(std::size_t n, std::string_view field) {
        if (left() < n) {
            return corrupt(box_, fmt::format("cut in its {} ({} bytes left, {} needed)", field, left(), n));
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = v << 8 | box_.payload[at_ + i];
        }
        at_ += n;
        return v;
    }
    Result<std::uint32_t> u32(std::string_view field) {
        auto v = uint(4, field);
        if (!v) {
            return fail(v.error());
        }
        return static_cast<std::uint32_t>(*v);
    }
    Result<void> skip(std::size_t n, std::string_view field) {
        if (left() < n) {
            return corrupt(box_, fmt::format("cut in its {} ({} bytes left, {} needed)", field, left(), n));
        }
        at_ += n;
        return {};
    }

private:
    const Box& box_;
    std::size_t at_;
};

// Reads into `var` or leaves the enclosing function with the error.
#define PARALLAX_MP4_READ(var, expr)                                                                                   \
    auto var##_r = (expr);                                                                                             \
    if (!var##_r) {                                                                                                    \
        return fail(var##_r.error());                                                                                  \
    }                                                                                                                  \
    const auto var = *var##_r

// The boxes inside `payload` (at file offset `offset`) of the box at
// `parent_path`. A child whose size goes past the parent is an error.
Result<std::vector<Box>> children(std::span<const std::uint8_t> payload, std::uint64_t offset,
                                  const std::string& parent_path) {
    std::vector<Box> out;
    std::size_t at = 0;
    std::vector<std::pair<std::string, unsigned>> seen;
    while (at < payload.size()) {
        auto h = read_box_header(payload.subspan(at), offset + at, parent_path);
        if (!h) {
            return fail(h.error());
        }
        if (!*h) {
            // Fewer than 8 bytes: padding some writers leave; nothing to read.
            break;
        }
        const BoxHeader& bh = **h;
        const std::uint64_t size = bh.size == 0 ? payload.size() - at : bh.size;
        const std::string path = parent_path.empty() ? bh.type : parent_path + "/" + bh.type;
        if (size > payload.size() - at) {
            return fail(Errc::corrupt,
                        fmt::format("{} at byte {}: its size {} goes past its parent{} ({} bytes left)", path,
                                    bh.offset, size, parent_path.empty() ? "" : fmt::format(" {}", parent_path),
                                    payload.size() - at));
        }
        Box b;
        b.type = bh.type;
        b.offset = bh.offset;
        b.payload_at = bh.offset + bh.header_size;
        b.payload = payload.subspan(at + bh.header_size, static_cast<std::size_t>(size) - bh.header_size);
        unsigned index = 0;
        auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == bh.type; });
        if (it == seen.end()) {
            seen.emplace_back(bh.type, 1);
        } else {
            index = it->second++;
        }
        b.path = path;
        if (bh.type == "trak" || bh.type == "traf") {
            b.path += fmt::format("[{}]", index);
        }
        out.push_back(std::move(b));
        at += static_cast<std::size_t>(size);
    }
    return out;
}

Result<std::vector<Box>> children(const Box& b, std::size_t skip = 0) {
    if (skip > b.payload.size()) {
        return corrupt(b, fmt::format("{} bytes, fewer than its {} bytes of fields", b.payload.size(), skip));
    }
    return children(b.payload.subspan(skip), b.payload_at + skip, b.path);
}

const Box* find(const std::vector<Box>& boxes, std::string_view type) {
    for (const Box& b : boxes) {
        if (b.type == type) {
            return &b;
        }
    }
    return nullptr;
}

struct FullBox {
    std::uint8_t version = 0;
    std::uint32_t flags = 0;
};

Result<FullBox> full_box(Fields& f) {
    PARALLAX_MP4_READ(vf, f.u32("version and flags"));
    return FullBox{static_cast<std::uint8_t>(vf >> 24), vf & 0xFFFFFF};
}

// The sample tables of one stbl, before expansion.
struct Tables {
    std::vector<std::uint32_t> sizes;
    std::uint32_t constant_size = 0;
    std::uint32_t count = 0;
    std::vector<std::uint64_t> chunk_offsets;
    struct Stsc {
        std::uint32_t first_chunk, samples_per_chunk;
    };
    std::vector<Stsc> stsc;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> stts;
    std::vector<std::pair<std::uint32_t, std::int32_t>> ctts;
    std::optional<std::vector<std::uint32_t>> stss;
};

// Checks that `count` entries of `entry` bytes fit what is left of `b`.
Result<void> fits(const Box& b, Fields& f, std::uint64_t count, std::size_t entry, std::string_view what) {
    if (count > f.left() / entry) {
        return corrupt(
            b, fmt::format("{} {} exceeds the box ({} bytes left, {} per entry)", what, count, f.left(), entry));
    }
    return {};
}

// Reads the version and flags of a full box holding a table, then its
// entry_count, checked to fit what is left of `b` at `entry` bytes each.
Result<std::uint32_t> table_entries(const Box& b, Fields& f, std::size_t entry, std::string_view what) {
    PARALLAX_MP4_READ(fb, full_box(f));
    static_cast<void>(fb);
    PARALLAX_MP4_READ(count, f.u32("entry_count"));
    if (auto ok = fits(b, f, count, entry, what); !ok) {
        return fail(ok.error());
    }
    return count;
}

Result<void> read_stsz(const Box& b, Tables& t) {
    Fields f(b);
    PARALLAX_MP4_READ(fb, full_box(f));
    static_cast<void>(fb);
    PARALLAX_MP4_READ(constant, f.u32("sample_size"));
    PARALLAX_MP4_READ(count, f.u32("sample_count"));
    if (count > max_samples) {
        return corrupt(b, fmt::format("sample count {} exceeds the limit of {} samples per track", count, max_samples));
    }
    t.constant_size = constant;
    t.count = count;
    if (constant == 0) {
        if (auto ok = fits(b, f, count, 4, "sample count"); !ok) {
            return ok;
        }
        t.sizes.resize(count);
        for (auto& s : t.sizes) {
            s = *f.u32("entry_size");
        }
    }
    return {};
}

Result<void> read_stz2(const Box& b, Tables& t) {
    Fields f(b);
    PARALLAX_MP4_READ(fb, full_box(f));
    static_cast<void>(fb);
    PARALLAX_MP4_READ(field, f.u32("field_size"));
    const std::uint32_t bits = field & 0xFF;
    PARALLAX_MP4_READ(count, f.u32("sample_count"));
    if (bits != 4 && bits != 8 && bits != 16) {
        return corrupt(b, fmt::format("field_size {} is not 4, 8 or 16", bits));
    }
    if (count > max_samples) {
        return corrupt(b, fmt::format("sample count {} exceeds the limit of {} samples per track", count, max_samples));
    }
    const std::uint64_t bytes = (std::uint64_t{count} * bits + 7) / 8;
    if (bytes > f.left()) {
        return corrupt(b, fmt::format("sample count {} exceeds the box ({} bytes left)", count, f.left()));
    }
    t.count = count;
    t.sizes.resize(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        if (bits == 4) {
            const std::uint8_t byte = b.payload[f.position() + i / 2];
            t.sizes[i] = (i % 2 == 0) ? byte >> 4 : byte & 0xF;
        } else if (bits == 8) {
            t.sizes[i] = b.payload[f.position() + i];
        } else {
            t.sizes[i] = static_cast<std::uint32_t>(b.payload[f.position() + 2 * std::size_t{i}]) << 8 |
                         b.payload[f.position() + 2 * std::size_t{i} + 1];
        }
    }
    return {};
}

Result<void> read_chunk_offsets(const Box& b, Tables& t, bool wide) {
    Fields f(b);
    const std::size_t entry = wide ? 8 : 4;
    PARALLAX_MP4_READ(count, table_entries(b, f, entry, "chunk count"));
    t.chunk_offsets.resize(count);
    for (auto& o : t.chunk_offsets) {
        o = *f.uint(entry, "chunk_offset");
    }
    return {};
}

Result<void> read_stsc(const Box& b, Tables& t) {
    Fields f(b);
    PARALLAX_MP4_READ(count, table_entries(b, f, 12, "entry count"));
    t.stsc.resize(count);
    std::uint32_t previous = 0;
    for (auto& e : t.stsc) {
        e.first_chunk = *f.u32("first_chunk");
        e.samples_per_chunk = *f.u32("samples_per_chunk");
        static_cast<void>(f.u32("sample_description_index"));
        if (e.first_chunk <= previous) {
            return corrupt(b, fmt::format("first_chunk {} does not follow {} (chunks count from 1, increasing)",
                                          e.first_chunk, previous));
        }
        previous = e.first_chunk;
    }
    return {};
}

Result<void> read_stts(const Box& b, Tables& t) {
    Fields f(b);
    PARALLAX_MP4_READ(count, table_entries(b, f, 8, "entry count"));
    t.stts.resize(count);
    for (auto& e : t.stts) {
        e.first = *f.u32("sample_count");
        e.second = *f.u32("sample_delta");
    }
    return {};
}

Result<void> read_ctts(const Box& b, Tables& t) {
    Fields f(b);
    PARALLAX_MP4_READ(count, table_entries(b, f, 8, "entry count"));
    t.ctts.resize(count);
    for (auto& e : t.ctts) {
        e.first = *f.u32("sample_count");
        // Version 0 is unsigned, yet writers put negative offsets there too;
        // offsets past 2^31 are not plausible either way.
        e.second = static_cast<std::int32_t>(*f.u32("sample_offset"));
    }
    return {};
}

Result<void> read_stss(const Box& b, Tables& t) {
    Fields f(b);
    PARALLAX_MP4_READ(count, table_entries(b, f, 4, "entry count"));
    std::vector<std::uint32_t> v(count);
    for (auto& e : v) {
        e = *f.u32("sample_number");
    }
    t.stss = std::move(v);
    return {};
}

// One sample per stsz entry, placed in chunks by stsc and stco, timed by
// stts and ctts, marked by stss.
Result<std::vector<SampleRef>> expand(const Box& stbl, const Tables& t) {
    std::vector<SampleRef> out(t.count);
    for (std::uint32_t i = 0; i < t.count; ++i) {
        out[i].size = t.constant_size != 0 ? t.constant_size : t.sizes[i];
    }
    // Chunks.
    std::uint32_t sample = 0;
    for (std::size_t e = 0; e < t.stsc.size() && sample < t.count; ++e) {
        const std::uint64_t first = t.stsc[e].first_chunk;
        const std::uint64_t last =
            e + 1 < t.stsc.size() ? std::uint64_t{t.stsc[e + 1].first_chunk} - 1 : t.chunk_offsets.size();
        for (std::uint64_t chunk = first; chunk <= last && sample < t.count; ++chunk) {
            if (chunk > t.chunk_offsets.size()) {
                return corrupt(stbl, fmt::format("stsc refers to chunk {}, but stco/co64 has {} chunks", chunk,
                                                 t.chunk_offsets.size()));
            }
            std::uint64_t at = t.chunk_offsets[chunk - 1];
            for (std::uint32_t k = 0; k < t.stsc[e].samples_per_chunk && sample < t.count; ++k) {
                out[sample].offset = at;
                at += out[sample].size;
                ++sample;
            }
        }
    }
    if (sample < t.count) {
        return corrupt(stbl, fmt::format("stsc and stco/co64 place {} of the {} samples of stsz", sample, t.count));
    }
    // Decode times; samples past stts's end keep its last delta.
    std::int64_t dts = 0;
    std::uint32_t delta = 0;
    sample = 0;
    for (const auto& [n, d] : t.stts) {
        for (std::uint32_t k = 0; k < n && sample < t.count; ++k) {
            out[sample].dts = dts;
            out[sample].duration = d;
            dts += d;
            ++sample;
        }
        delta = d;
        if (sample == t.count) {
            break;
        }
    }
    for (; sample < t.count; ++sample) {
        out[sample].dts = dts;
        out[sample].duration = delta;
        dts += delta;
    }
    sample = 0;
    for (const auto& [n, o] : t.ctts) {
        for (std::uint32_t k = 0; k < n && sample < t.count; ++k) {
            out[sample++].pts = o;
        }
        if (sample == t.count) {
            break;
        }
    }
    for (auto& s : out) {
        s.pts = static_cast<std::int64_t>(static_cast<std::uint64_t>(s.pts) + static_cast<std::uint64_t>(s.dts));
    }
    if (t.stss) {
        for (auto& s : out) {
            s.keyframe = false;
        }
        for (const std::uint32_t n : *t.stss) {
            if (n >= 1 && n <= t.count) {
                out[n - 1].keyframe = true;
            }
        }
    }
    return out;
}

Result<void> read_stbl(const Box& stbl, TrackInfo& track) {
    auto kids = children(stbl);
    if (!kids) {
        return fail(kids.error());
    }
    Tables t;
    const Box* stsz = find(*kids, "stsz");
    const Box* stz2 = find(*kids, "stz2");
    if (stsz != nullptr) {
        if (auto ok = read_stsz(*stsz, t); !ok) {
            return ok;
        }
    } else if (stz2 != nullptr) {
        if (auto ok = read_stz2(*stz2, t); !ok) {
            return ok;
        }
    }
    if (const Box* b = find(*kids, "stco")) {
        if (auto ok = read_chunk_offsets(*b, t, false); !ok) {
            return ok;
        }
    } else if (const Box* b64 = find(*kids, "co64")) {
        if (auto ok = read_chunk_offsets(*b64, t, true); !ok) {
            return ok;
        }
    }
    using TableReader = Result<void> (*)(const Box&, Tables&);
    for (const auto& [type, read] : {std::pair<std::string_view, TableReader>{"stsc", read_stsc},
                                     {"stts", read_stts},
                                     {"ctts", read_ctts},
                                     {"stss", read_stss}}) {
        if (const Box* b = find(*kids, type)) {
            if (auto ok = read(*b, t); !ok) {
                return ok;
            }
        }
    }
    if (t.count > 0 && stsz == nullptr && stz2 == nullptr) {
        return corrupt(stbl, "no stsz or stz2");
    }
    auto samples = expand(stbl, t);
    if (!samples) {
        return fail(samples.error());
    }
    track.samples = std::move(*samples);

    // The sample entry.
    const Box* stsd = find(*kids, "stsd");
    if (stsd == nullptr) {
        return corrupt(stbl, "no stsd (sample descriptions)");
    }
    auto entries = children(*stsd, 8);
    if (!entries) {
        return fail(entries.error());
    }
    if (entries->empty()) {
        return corrupt(*stsd, "no sample entry");
    }
    const Box& entry = entries->front();
    track.format = entry.type;
    const bool visual = entry.type == "av01" || entry.type == "avc1" || entry.type == "avc3";
    const bool opus = entry.type == "Opus";
    if (!visual && !opus) {
        return {};
    }
    Fields f(entry);
    std::size_t fixed = 0;
    if (visual) {
        // SampleEntry (8) + VisualSampleEntry fields up to the config boxes.
        if (auto ok = f.skip(24, "reserved fields"); !ok) {
            return ok;
        }
        PARALLAX_MP4_READ(wh, f.u32("width and height"));
        track.width = static_cast<std::uint16_t>(wh >> 16);
        track.height = static_cast<std::uint16_t>(wh & 0xFFFF);
        fixed = 78;
    } else {
        if (auto ok = f.skip(8, "reserved fields"); !ok) {
            return ok;
        }
        PARALLAX_MP4_READ(version, f.uint(2, "version"));
        if (auto ok = f.skip(6, "reserved fields"); !ok) {
            return ok;
        }
        PARALLAX_MP4_READ(channels, f.uint(2, "channelcount"));
        if (auto ok = f.skip(6, "samplesize and reserved fields"); !ok) {
            return ok;
        }
        PARALLAX_MP4_READ(rate, f.u32("samplerate"));
        track.channels = static_cast<std::uint16_t>(channels);
        track.rate = rate >> 16;
        // QuickTime sound description versions 1 and 2 add fields.
        fixed = version == 1 ? 44 : version == 2 ? 64 : 28;
    }
    auto boxes = children(entry, fixed);
    if (!boxes) {
        return fail(boxes.error());
    }
    const std::string_view config_type = entry.type == "av01" ? "av1C" : opus ? "dOps" : "avcC";
    const Box* config = find(*boxes, config_type);
    if (config == nullptr) {
        return corrupt(entry, fmt::format("no {} box in the sample entry", config_type));
    }
    if (!opus) {
        track.codec = entry.type == "av01" ? Codec::av1 : Codec::h264;
        track.config.assign(config->payload.begin(), config->payload.end());
        return {};
    }
    Fields d(*config);
    opus::Header h;
    PARALLAX_MP4_READ(version, d.uint(1, "Version"));
    if (version != 0) {
        return corrupt(*config, fmt::format("Version {} (only 0 is defined)", version));
    }
    PARALLAX_MP4_READ(channels, d.uint(1, "OutputChannelCount"));
    PARALLAX_MP4_READ(pre_skip, d.uint(2, "PreSkip"));
    PARALLAX_MP4_READ(input_rate, d.u32("InputSampleRate"));
    PARALLAX_MP4_READ(gain, d.uint(2, "OutputGain"));
    PARALLAX_MP4_READ(family, d.uint(1, "ChannelMappingFamily"));
    h.channels = static_cast<std::uint8_t>(channels);
    h.pre_skip = static_cast<std::uint16_t>(pre_skip);
    h.input_sample_rate = input_rate;
    h.output_gain = static_cast<std::int16_t>(static_cast<std::uint16_t>(gain));
    h.mapping_family = static_cast<std::uint8_t>(family);
    if (family != 0) {
        PARALLAX_MP4_READ(streams, d.uint(1, "StreamCount"));
        PARALLAX_MP4_READ(coupled, d.uint(1, "CoupledCount"));
        h.stream_count = static_cast<std::uint8_t>(streams);
        h.coupled_count = static_cast<std::uint8_t>(coupled);
        for (unsigned c = 0; c < channels; ++c) {
            PARALLAX_MP4_READ(m, d.uint(1, "ChannelMapping"));
            h.mapping.push_back(static_cast<std::uint8_t>(m));
        }
    } else {
        h.coupled_count = channels > 1 ? 1 : 0;
    }
    const auto head = opus::write_head(h);
    if (auto parsed = opus::parse_head(head); !parsed) {
        return corrupt(*config, parsed.error().message());
    }
    track.codec = Codec::opus;
    track.config = head;
    return {};
}

Result<void> read_time_header(const Box& b, std::uint32_t& timescale, std::uint64_t& duration) {
    Fields f(b);
    PARALLAX_MP4_READ(fb, full_box(f));
    const std::size_t wide = fb.version == 1 ? 8 : 4;
    if (auto ok = f.skip(2 * wide, "creation and modification times"); !ok) {
        return ok;
    }
    PARALLAX_MP4_READ(ts, f.u32("timescale"));
    PARALLAX_MP4_READ(d, f.uint(wide, "duration"));
    timescale = ts;
    duration = d;
    return {};
}

Result<TrackInfo> read_trak(const Box& trak) {
    TrackInfo track;
    auto kids = children(trak);
    if (!kids) {
        return fail(kids.error());
    }
    const Box* tkhd = find(*kids, "tkhd");
    if (tkhd == nullptr) {
        return corrupt(trak, "no tkhd");
    }
    {
        Fields f(*tkhd);
        PARALLAX_MP4_READ(fb, full_box(f));
        if (auto ok = f.skip(fb.version == 1 ? 16 : 8, "times"); !ok) {
            return fail(ok.error());
        }
        PARALLAX_MP4_READ(id, f.u32("track_ID"));
        track.id = id;
    }
    if (const Box* edts = find(*kids, "edts")) {
        auto e = children(*edts);
        if (!e) {
            return fail(e.error());
        }
        if (const Box* elst = find(*e, "elst")) {
            Fields f(*elst);
            PARALLAX_MP4_READ(fb, full_box(f));
            PARALLAX_MP4_READ(count, f.u32("entry_count"));
            const std::size_t wide = fb.version == 1 ? 8 : 4;
            if (auto ok = fits(*elst, f, count, 2 * wide + 4, "entry count"); !ok) {
                return fail(ok.error());
            }
            for (std::uint32_t i = 0; i < count; ++i) {
                Edit edit;
                edit.segment_duration = *f.uint(wide, "segment_duration");
                const std::uint64_t mt = *f.uint(wide, "media_time");
                edit.media_time = wide == 8 ? static_cast<std::int64_t>(mt)
                                            : static_cast<std::int64_t>(static_cast<std::int32_t>(mt));
                static_cast<void>(f.u32("media_rate"));
                track.edits.push_back(edit);
            }
        }
    }
    const Box* mdia = find(*kids, "mdia");
    if (mdia == nullptr) {
        return corrupt(trak, "no mdia");
    }
    auto m = children(*mdia);
    if (!m) {
        return fail(m.error());
    }
    const Box* mdhd = find(*m, "mdhd");
    if (mdhd == nullptr) {
        return corrupt(*mdia, "no mdhd");
    }
    if (auto ok = read_time_header(*mdhd, track.timescale, track.duration); !ok) {
        return fail(ok.error());
    }
    if (track.timescale == 0) {
        return corrupt(*mdhd, "timescale 0");
    }
    if (const Box* hdlr = find(*m, "hdlr")) {
        Fields f(*hdlr);
        if (auto ok = f.skip(8, "pre_defined"); !ok) {
            return fail(ok.error());
        }
        if (f.left() < 4) {
            return corrupt(*hdlr, "cut in its handler_type");
        }
        track.handler.assign(reinterpret_cast<const char*>(hdlr->payload.data() + 8), 4);
    }
    const Box* minf = find(*m, "minf");
    if (minf == nullptr) {
        return corrupt(*mdia, "no minf");
    }
    auto mi = children(*minf);
    if (!mi) {
        return fail(mi.error());
    }
    const Box* stbl = find(*mi, "stbl");
    if (stbl == nullptr) {
        return corrupt(*minf, "no stbl");
    }
    if (auto ok = read_stbl(*stbl, track); !ok) {
        return fail(ok.error());
    }
    return track;
}

// The box `box` (header included) at `offset` as a Box named `type`.
Result<Box> whole_box(std::span<const std::uint8_t> box, std::uint64_t offset, std::string_view type) {
    auto h = read_box_header(box, offset);
    if (!h) {
        return fail(h.error());
    }
    if (!*h) {
        return fail(Errc::corrupt,
                    fmt::format("{} at byte {}: cut in its header ({} bytes)", type, offset, box.size()));
    }
    const BoxHeader& bh = **h;
    if (bh.type != type) {
        return fail(Errc::corrupt, fmt::format("box at byte {} is {}, not {}", offset, bh.type, type));
    }
    const std::uint64_t size = bh.size == 0 ? box.size() : bh.size;
    if (size > box.size()) {
        return fail(Errc::corrupt,
                    fmt::format("{} at byte {}: size {} goes past the {} bytes given", type, offset, size, box.size()));
    }
    Box b;
    b.type = bh.type;
    b.path = bh.type;
    b.offset = offset;
    b.payload_at = offset + bh.header_size;
    b.payload = box.subspan(bh.header_size, static_cast<std::size_t>(size) - bh.header_size);
    return b;
}

} // namespace

Result<std::optional<BoxHeader>> read_box_header(std::span<const std::uint8_t> bytes, std::uint64_t offset,
                                                 std::string_view parent) {
    if (bytes.size() < 8) {
        return std::optional<BoxHeader>{};
    }
    auto be = [&](std::size_t at, std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            v = v << 8 | bytes[at + i];
        }
        return v;
    };
    BoxHeader h;
    h.offset = offset;
    for (std::size_t i = 4; i < 8; ++i) {
        const auto c = static_cast<char>(bytes[i]);
        h.type += (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    h.size = be(0, 4);
    if (h.size == 1) {
        if (bytes.size() < 16) {
            return std::optional<BoxHeader>{};
        }
        h.size = be(8, 8);
        h.header_size = 16;
    }
    if (h.size != 0 && h.size < h.header_size) {
        const std::string path = parent.empty() ? h.type : fmt::format("{}/{}", parent, h.type);
        return fail(Errc::corrupt, fmt::format("{} at byte {}: size {} is smaller than its {}-byte header", path,
                                               offset, h.size, h.header_size));
    }
    return std::optional<BoxHeader>{std::move(h)};
}

TrackInfo* MovieInfo::track(std::uint32_t id) noexcept {
    for (auto& t : tracks) {
        if (t.id == id) {
            return &t;
        }
    }
    return nullptr;
}

Result<MovieInfo> read_moov(std::span<const std::uint8_t> box, std::uint64_t offset) {
    auto moov = whole_box(box, offset, "moov");
    if (!moov) {
        return fail(moov.error());
    }
    auto kids = children(*moov);
    if (!kids) {
        return fail(kids.error());
    }
    MovieInfo movie;
    const Box* mvhd = find(*kids, "mvhd");
    if (mvhd == nullptr) {
        return corrupt(*moov, "no mvhd");
    }
    if (auto ok = read_time_header(*mvhd, movie.timescale, movie.duration); !ok) {
        return fail(ok.error());
    }
    if (movie.timescale == 0) {
        return corrupt(*mvhd, "timescale 0");
    }
    for (const Box& b : *kids) {
        if (b.type != "trak") {
            continue;
        }
        auto t = read_trak(b);
        if (!t) {
            return fail(t.error());
        }
        if (movie.track(t->id) != nullptr) {
            return corrupt(b, fmt::format("track_ID {} is used twice", t->id));
        }
        movie.tracks.push_back(std::move(*t));
    }
    if (const Box* mvex = find(*kids, "mvex")) {
        movie.fragmented = true;
        auto m = children(*mvex);
        if (!m) {
            return fail(m.error());
        }
        for (const Box& trex : *m) {
            if (trex.type != "trex") {
                continue;
            }
            Fields f(trex);
            PARALLAX_MP4_READ(fb, full_box(f));
            static_cast<void>(fb);
            PARALLAX_MP4_READ(id, f.u32("track_ID"));
            PARALLAX_MP4_READ(sdi, f.u32("default_sample_description_index"));
            PARALLAX_MP4_READ(dur, f.u32("default_sample_duration"));
            PARALLAX_MP4_READ(size, f.u32("default_sample_size"));
            PARALLAX_MP4_READ(flags, f.u32("default_sample_flags"));
            if (TrackInfo* t = movie.track(id)) {
                t->trex_description_index = sdi;
                t->trex_duration = dur;
                t->trex_size = size;
                t->trex_flags = flags;
            }
        }
    }
    for (auto& t : movie.tracks) {
        t.next_decode_time =
            t.samples.empty() ? 0 : static_cast<std::uint64_t>(t.samples.back().dts) + t.samples.back().duration;
    }
    return movie;
}

bool is_sync_sample(std::uint32_t flags) noexcept {
    const bool non_sync = (flags & 0x10000) != 0;
    const std::uint32_t depends_on = (flags >> 24) & 0x3;
    return !non_sync && depends_on != 1;
}

Result<FragmentInfo> read_moof(std::span<const std::uint8_t> box, std::uint64_t offset, MovieInfo& movie) {
    auto moof = whole_box(box, offset, "moof");
    if (!moof) {
        return fail(moof.error());
    }
    auto kids = children(*moof);
    if (!kids) {
        return fail(kids.error());
    }
    FragmentInfo frag;
    if (const Box* mfhd = find(*kids, "mfhd")) {
        Fields f(*mfhd);
        PARALLAX_MP4_READ(fb, full_box(f));
        static_cast<void>(fb);
        PARALLAX_MP4_READ(seq, f.u32("sequence_number"));
        frag.sequence = seq;
    }
    std::uint64_t total = 0;
    // Without base-data-offset or default-base-is-moof, a traf's data
    // starts where the previous traf's ended (the first at the moof).
    std::uint64_t previous_end = offset;
    for (const Box& traf : *kids) {
        if (traf.type != "traf") {
            continue;
        }
        auto t = children(traf);
        if (!t) {
            return fail(t.error());
        }
        const Box* tfhd = find(*t, "tfhd");
        if (tfhd == nullptr) {
            return corrupt(traf, "no tfhd");
        }
        Fields f(*tfhd);
        PARALLAX_MP4_READ(fb, full_box(f));
        PARALLAX_MP4_READ(id, f.u32("track_ID"));
        TrackInfo* track = movie.track(id);
        if (track == nullptr) {
            return corrupt(*tfhd, fmt::format("track_ID {} is not a track of the moov", id));
        }
        std::uint64_t base = previous_end;
        std::uint32_t def_duration = track->trex_duration;
        std::uint32_t def_size = track->trex_size;
        std::uint32_t def_flags = track->trex_flags;
        if ((fb.flags & 0x1) != 0) {
            PARALLAX_MP4_READ(v, f.uint(8, "base_data_offset"));
            base = v;
        } else if ((fb.flags & 0x20000) != 0) {
            base = offset;
        }
        if ((fb.flags & 0x2) != 0) {
            PARALLAX_MP4_READ(v, f.u32("sample_description_index"));
            static_cast<void>(v);
        }
        if ((fb.flags & 0x8) != 0) {
            PARALLAX_MP4_READ(v, f.u32("default_sample_duration"));
            def_duration = v;
        }
        if ((fb.flags & 0x10) != 0) {
            PARALLAX_MP4_READ(v, f.u32("default_sample_size"));
            def_size = v;
        }
        if ((fb.flags & 0x20) != 0) {
            PARALLAX_MP4_READ(v, f.u32("default_sample_flags"));
            def_flags = v;
        }
        std::uint64_t dts = track->next_decode_time;
        if (const Box* tfdt = find(*t, "tfdt")) {
            Fields d(*tfdt);
            PARALLAX_MP4_READ(dfb, full_box(d));
            PARALLAX_MP4_READ(v, d.uint(dfb.version == 1 ? 8 : 4, "baseMediaDecodeTime"));
            dts = v;
        }
        FragmentRun run;
        run.track_id = id;
        std::uint64_t data = base;
        for (const Box& trun : *t) {
            if (trun.type != "trun") {
                continue;
            }
            Fields r(trun);
            PARALLAX_MP4_READ(rfb, full_box(r));
            PARALLAX_MP4_READ(count, r.u32("sample_count"));
            if ((rfb.flags & 0x1) != 0) {
                PARALLAX_MP4_READ(v, r.u32("data_offset"));
                const auto rel = static_cast<std::int64_t>(static_cast<std::int32_t>(v));
                if (rel < 0 && static_cast<std::uint64_t>(-rel) > base) {
                    return corrupt(trun, fmt::format("data_offset {} points before the file", rel));
                }
                data = static_cast<std::uint64_t>(static_cast<std::int64_t>(base) + rel);
            }
            std::optional<std::uint32_t> first_flags;
            if ((rfb.flags & 0x4) != 0) {
                PARALLAX_MP4_READ(v, r.u32("first_sample_flags"));
                first_flags = v;
            }
            const std::size_t per_sample = 4 * (((rfb.flags & 0x100) != 0) + ((rfb.flags & 0x200) != 0) +
                                                ((rfb.flags & 0x400) != 0) + ((rfb.flags & 0x800) != 0));
            if (per_sample > 0) {
                if (auto ok = fits(trun, r, count, per_sample, "sample count"); !ok) {
                    return fail(ok.error());
                }
            }
            total += count;
            if (total > max_samples) {
                return corrupt(trun, fmt::format("sample count {} exceeds the limit of {} samples per fragment", count,
                                                 max_samples));
            }
            run.samples.reserve(run.samples.size() + count);
            for (std::uint32_t i = 0; i < count; ++i) {
                SampleRef s;
                s.duration = (rfb.flags & 0x100) != 0 ? *r.u32("sample_duration") : def_duration;
                s.size = (rfb.flags & 0x200) != 0 ? *r.u32("sample_size") : def_size;
                std::uint32_t flags = (i == 0 && first_flags) ? *first_flags : def_flags;
                if ((rfb.flags & 0x400) != 0) {
                    flags = *r.u32("sample_flags");
                }
                std::int64_t cto = 0;
                if ((rfb.flags & 0x800) != 0) {
                    cto = static_cast<std::int32_t>(*r.u32("sample_composition_time_offset"));
                }
                s.offset = data;
                s.dts = static_cast<std::int64_t>(dts);
                // Wrapping, not overflowing, on absurd decode times.
                s.pts = static_cast<std::int64_t>(static_cast<std::uint64_t>(s.dts) + static_cast<std::uint64_t>(cto));
                s.keyframe = is_sync_sample(flags);
                data += s.size;
                dts += s.duration;
                run.samples.push_back(s);
            }
        }
        track->next_decode_time = dts;
        previous_end = data;
        frag.runs.push_back(std::move(run));
    }
    return frag;
}

#undef PARALLAX_MP4_READ

} // namespace parallax::mp4
