#include <parallax/container/mp4.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>

namespace parallax::mp4 {

namespace {

constexpr std::uint32_t u32_max = std::numeric_limits<std::uint32_t>::max();

// The unity matrix of mvhd and tkhd (16.16 and 2.30 fixed point).
constexpr std::array<std::uint32_t, 9> unity_matrix = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};

std::uint64_t rescale(std::uint64_t v, std::uint32_t from, std::uint32_t to) noexcept {
    if (from == 0) {
        return 0;
    }
    __extension__ using Wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<Wide>(v) * to + from / 2) / from);
}

// Times of 0 for creation and modification: the files are reproducible, and
// players ignore these fields.
void write_times(BoxWriter& w, bool wide, std::uint32_t timescale, std::uint64_t duration, std::uint32_t id_field,
                 bool with_id) {
    if (wide) {
        w.u64(0);
        w.u64(0);
    } else {
        w.u32(0);
        w.u32(0);
    }
    if (with_id) {
        w.u32(id_field);
        w.u32(0); // reserved
    } else {
        w.u32(timescale);
    }
    if (wide) {
        w.u64(duration);
    } else {
        w.u32(static_cast<std::uint32_t>(duration));
    }
}

void write_mvhd(BoxWriter& w, const Movie& m) {
    std::uint64_t duration = 0;
    std::uint32_t next_id = 1;
    for (const Track& t : m.tracks) {
        duration = std::max(duration, track_duration(t, m.timescale));
        next_id = std::max(next_id, t.id + 1);
    }
    const bool wide = duration > u32_max;
    const auto box = w.begin_full("mvhd", wide ? 1 : 0, 0);
    write_times(w, wide, m.timescale, duration, 0, false);
    w.u32(0x00010000); // rate 1.0
    w.u16(0x0100);     // volume 1.0
    w.zeros(2 + 8);    // reserved
    for (const std::uint32_t v : unity_matrix) {
        w.u32(v);
    }
    w.zeros(6 * 4); // pre_defined
    w.u32(next_id);
    w.end(box);
}

void write_tkhd(BoxWriter& w, const Track& t, std::uint32_t movie_timescale) {
    const std::uint64_t duration = track_duration(t, movie_timescale);
    const bool wide = duration > u32_max;
    // Flags: track_enabled | track_in_movie.
    const auto box = w.begin_full("tkhd", wide ? 1 : 0, 0x000003);
    write_times(w, wide, 0, duration, t.id, true);
    w.zeros(8);                                     // reserved
    w.u16(0);                                       // layer
    w.u16(t.kind == TrackKind::audio ? 1 : 0);      // alternate_group
    w.u16(t.kind == TrackKind::audio ? 0x0100 : 0); // volume
    w.u16(0);                                       // reserved
    for (const std::uint32_t v : unity_matrix) {
        w.u32(v);
    }
    w.u32(static_cast<std::uint32_t>(t.width) << 16);
    w.u32(static_cast<std::uint32_t>(t.height) << 16);
    w.end(box);
}

void write_edts(BoxWriter& w, const Track& t) {
    if (t.edits.empty()) {
        return;
    }
    bool wide = false;
    for (const Edit& e : t.edits) {
        wide = wide || e.segment_duration > u32_max || e.media_time > std::numeric_limits<std::int32_t>::max();
    }
    const auto edts = w.begin("edts");
    const auto elst = w.begin_full("elst", wide ? 1 : 0, 0);
    w.u32(static_cast<std::uint32_t>(t.edits.size()));
    for (const Edit& e : t.edits) {
        if (wide) {
            w.u64(e.segment_duration);
            w.u64(static_cast<std::uint64_t>(e.media_time));
        } else {
            w.u32(static_cast<std::uint32_t>(e.segment_duration));
            w.u32(static_cast<std::uint32_t>(static_cast<std::int32_t>(e.media_time)));
        }
        w.u16(1); // media_rate 1.0
        w.u16(0);
    }
    w.end(elst);
    w.end(edts);
}

void write_mdhd(BoxWriter& w, const Track& t) {
    const std::uint64_t duration = media_duration(t);
    const bool wide = duration > u32_max;
    const auto box = w.begin_full("mdhd", wide ? 1 : 0, 0);
    write_times(w, wide, t.timescale, duration, 0, false);
    // "und": three 5-bit letters, each minus 0x60.
    w.u16(static_cast<std::uint16_t>((('u' - 0x60) << 10) | (('n' - 0x60) << 5) | ('d' - 0x60)));
    w.u16(0); // pre_defined
    w.end(box);
}

void write_hdlr(BoxWriter& w, const Track& t) {
    const auto box = w.begin_full("hdlr", 0, 0);
    w.u32(0); // pre_defined
    w.fourcc(t.kind == TrackKind::video ? "vide" : "soun");
    w.zeros(12); // reserved
    const std::string_view name = t.kind == TrackKind::video ? "VideoHandler" : "SoundHandler";
    w.bytes({reinterpret_cast<const std::uint8_t*>(name.data()), name.size()});
    w.u8(0);
    w.end(box);
}

// Chunks: runs of samples whose bytes follow each other in the file.
struct Chunk {
    std::uint64_t offset = 0;
    std::uint32_t samples = 0;
};

std::vector<Chunk> chunks_of(const std::vector<Sample>& samples) {
    std::vector<Chunk> chunks;
    std::uint64_t next = 0;
    for (const Sample& s : samples) {
        if (chunks.empty() || s.offset != next) {
            chunks.push_back({s.offset, 0});
        }
        ++chunks.back().samples;
        next = s.offset + s.size;
    }
    return chunks;
}

void write_stbl(BoxWriter& w, const Track& t, bool fragmented) {
    const auto stbl = w.begin("stbl");
    {
        const auto stsd = w.begin_full("stsd", 0, 0);
        w.u32(1);
        w.bytes(t.sample_entry);
        w.end(stsd);
    }
    const std::vector<Sample>& s = t.samples;
    {
        // Runs of equal durations.
        std::vector<std::pair<std::uint32_t, std::uint32_t>> runs;
        for (const Sample& x : s) {
            if (!runs.empty() && runs.back().second == x.duration) {
                ++runs.back().first;
            } else {
                runs.emplace_back(1, x.duration);
            }
        }
        const auto stts = w.begin_full("stts", 0, 0);
        w.u32(static_cast<std::uint32_t>(runs.size()));
        for (const auto& [count, delta] : runs) {
            w.u32(count);
            w.u32(delta);
        }
        w.end(stts);
    }
    const bool any_offset = std::any_of(s.begin(), s.end(), [](const Sample& x) { return x.composition_offset != 0; });
    if (any_offset) {
        const bool negative = std::any_of(s.begin(), s.end(), [](const Sample& x) { return x.composition_offset < 0; });
        std::vector<std::pair<std::uint32_t, std::int32_t>> runs;
        for (const Sample& x : s) {
            if (!runs.empty() && runs.back().second == x.composition_offset) {
                ++runs.back().first;
            } else {
                runs.emplace_back(1, x.composition_offset);
            }
        }
        // Version 1 holds signed offsets.
        const auto ctts = w.begin_full("ctts", negative ? 1 : 0, 0);
        w.u32(static_cast<std::uint32_t>(runs.size()));
        for (const auto& [count, offset] : runs) {
            w.u32(count);
            w.u32(static_cast<std::uint32_t>(offset));
        }
        w.end(ctts);
    }
    const bool all_sync = std::all_of(s.begin(), s.end(), [](const Sample& x) { return x.sync; });
    if (!all_sync) {
        std::vector<std::uint32_t> sync;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i].sync) {
                sync.push_back(static_cast<std::uint32_t>(i + 1));
            }
        }
        const auto stss = w.begin_full("stss", 0, 0);
        w.u32(static_cast<std::uint32_t>(sync.size()));
        for (const std::uint32_t n : sync) {
            w.u32(n);
        }
        w.end(stss);
    }
    const std::vector<Chunk> chunks = fragmented ? std::vector<Chunk>{} : chunks_of(s);
    {
        std::vector<std::pair<std::uint32_t, std::uint32_t>> runs; // first chunk (1-based), samples per chunk
        for (std::size_t i = 0; i < chunks.size(); ++i) {
            if (runs.empty() || runs.back().second != chunks[i].samples) {
                runs.emplace_back(static_cast<std::uint32_t>(i + 1), chunks[i].samples);
            }
        }
        const auto stsc = w.begin_full("stsc", 0, 0);
        w.u32(static_cast<std::uint32_t>(runs.size()));
        for (const auto& [first, count] : runs) {
            w.u32(first);
            w.u32(count);
            w.u32(1); // sample_description_index
        }
        w.end(stsc);
    }
    {
        const auto stsz = w.begin_full("stsz", 0, 0);
        w.u32(0); // sizes differ: one entry each
        w.u32(static_cast<std::uint32_t>(s.size()));
        for (const Sample& x : s) {
            w.u32(x.size);
        }
        w.end(stsz);
    }
    const bool wide = std::any_of(chunks.begin(), chunks.end(), [](const Chunk& c) { return c.offset > u32_max; });
    const auto stco = w.begin_full(wide ? "co64" : "stco", 0, 0);
    w.u32(static_cast<std::uint32_t>(chunks.size()));
    for (const Chunk& c : chunks) {
        if (wide) {
            w.u64(c.offset);
        } else {
            w.u32(static_cast<std::uint32_t>(c.offset));
        }
    }
    w.end(stco);
    w.end(stbl);
}

void write_trak(BoxWriter& w, const Track& t, const Movie& m) {
    const auto trak = w.begin("trak");
    write_tkhd(w, t, m.timescale);
    write_edts(w, t);
    const auto mdia = w.begin("mdia");
    write_mdhd(w, t);
    write_hdlr(w, t);
    const auto minf = w.begin("minf");
    if (t.kind == TrackKind::video) {
        const auto vmhd = w.begin_full("vmhd", 0, 1);
        w.zeros(8); // graphicsmode, opcolor
        w.end(vmhd);
    } else {
        const auto smhd = w.begin_full("smhd", 0, 0);
        w.zeros(4); // balance, reserved
        w.end(smhd);
    }
    const auto dinf = w.begin("dinf");
    const auto dref = w.begin_full("dref", 0, 0);
    w.u32(1);
    // Flag 1: the media data is in this file.
    const auto url = w.begin_full("url ", 0, 1);
    w.end(url);
    w.end(dref);
    w.end(dinf);
    write_stbl(w, t, m.fragmented);
    w.end(minf);
    w.end(mdia);
    w.end(trak);
}

void write_sample_entry_start(BoxWriter& w) {
    w.zeros(6); // reserved
    w.u16(1);   // data_reference_index
}

} // namespace

std::size_t BoxWriter::begin(std::string_view type) {
    const std::size_t at = bytes_.size();
    u32(0);
    fourcc(type);
    return at;
}

std::size_t BoxWriter::begin_full(std::string_view type, std::uint8_t version, std::uint32_t flags) {
    const std::size_t at = begin(type);
    u8(version);
    u24(flags);
    return at;
}

void BoxWriter::end(std::size_t handle) {
    assert(handle + 8 <= bytes_.size());
    const std::uint64_t size = bytes_.size() - handle;
    if (size <= u32_max) {
        for (std::size_t i = 0; i < 4; ++i) {
            bytes_[handle + i] = static_cast<std::uint8_t>(size >> (8 * (3 - i)));
        }
        return;
    }
    // size 1: a 64-bit largesize follows the type.
    const std::uint64_t large = size + 8;
    std::array<std::uint8_t, 8> field{};
    for (std::size_t i = 0; i < 8; ++i) {
        field[i] = static_cast<std::uint8_t>(large >> (8 * (7 - i)));
    }
    bytes_.insert(bytes_.begin() + static_cast<std::ptrdiff_t>(handle + 8), field.begin(), field.end());
    bytes_[handle] = 0;
    bytes_[handle + 1] = 0;
    bytes_[handle + 2] = 0;
    bytes_[handle + 3] = 1;
}

void BoxWriter::u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
}

void BoxWriter::u24(std::uint32_t v) {
    u8(static_cast<std::uint8_t>(v >> 16));
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
}

void BoxWriter::u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
}

void BoxWriter::u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
}

void BoxWriter::fourcc(std::string_view type) {
    assert(type.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        u8(i < type.size() ? static_cast<std::uint8_t>(type[i]) : ' ');
    }
}

std::vector<std::uint8_t> mdat_header(std::uint64_t payload) {
    BoxWriter w;
    if (payload + 8 <= u32_max) {
        w.u32(static_cast<std::uint32_t>(payload + 8));
        w.fourcc("mdat");
    } else {
        w.u32(1);
        w.fourcc("mdat");
        w.u64(payload + 16);
    }
    return w.take();
}

std::vector<std::uint8_t> make_ftyp(std::string_view major, std::span<const std::string_view> compatible) {
    BoxWriter w;
    const auto box = w.begin("ftyp");
    w.fourcc(major);
    w.u32(0);
    for (const std::string_view b : compatible) {
        w.fourcc(b);
    }
    w.end(box);
    return w.take();
}

std::vector<std::uint8_t> make_dops(const opus::Header& h) {
    BoxWriter w;
    const auto box = w.begin("dOps");
    w.u8(0); // Version
    w.u8(h.channels);
    w.u16(h.pre_skip);
    w.u32(h.input_sample_rate);
    w.u16(static_cast<std::uint16_t>(h.output_gain));
    w.u8(h.mapping_family);
    if (h.mapping_family != 0) {
        w.u8(h.stream_count);
        w.u8(h.coupled_count);
        for (std::size_t i = 0; i < h.channels; ++i) {
            w.u8(i < h.mapping.size() ? h.mapping[i] : 255);
        }
    }
    w.end(box);
    return w.take();
}

Result<std::vector<std::uint8_t>> make_dops(std::span<const std::uint8_t> opus_head) {
    auto h = opus::parse_head(opus_head);
    if (!h) {
        return fail(h.error());
    }
    return make_dops(*h);
}

std::vector<std::uint8_t> make_visual_entry(std::string_view format, std::uint16_t width, std::uint16_t height,
                                            std::string_view config_type, std::span<const std::uint8_t> config) {
    BoxWriter w;
    const auto box = w.begin(format);
    write_sample_entry_start(w);
    w.zeros(2 + 2 + 12); // pre_defined, reserved, pre_defined[3]
    w.u16(width);
    w.u16(height);
    w.u32(0x00480000); // 72 dpi
    w.u32(0x00480000);
    w.u32(0);    // reserved
    w.u16(1);    // frame_count
    w.zeros(32); // compressorname: empty
    w.u16(0x0018);
    w.u16(0xFFFF); // pre_defined -1
    const auto cfg = w.begin(config_type);
    w.bytes(config);
    w.end(cfg);
    w.end(box);
    return w.take();
}

std::vector<std::uint8_t> make_opus_entry(const opus::Header& h) {
    BoxWriter w;
    const auto box = w.begin("Opus");
    write_sample_entry_start(w);
    w.zeros(8); // reserved
    w.u16(h.channels);
    w.u16(16); // samplesize
    w.u16(0);  // pre_defined
    w.u16(0);  // reserved
    w.u32(opus::sample_rate << 16);
    w.bytes(make_dops(h));
    w.end(box);
    return w.take();
}

std::uint64_t media_duration(const Track& t) noexcept {
    std::uint64_t d = 0;
    for (const Sample& s : t.samples) {
        d += s.duration;
    }
    return d;
}

std::uint64_t track_duration(const Track& t, std::uint32_t movie_timescale) noexcept {
    if (!t.edits.empty()) {
        std::uint64_t d = 0;
        for (const Edit& e : t.edits) {
            d += e.segment_duration;
        }
        return d;
    }
    return rescale(media_duration(t), t.timescale, movie_timescale);
}

std::vector<std::uint8_t> make_moov(const Movie& m) {
    BoxWriter w;
    const auto moov = w.begin("moov");
    write_mvhd(w, m);
    for (const Track& t : m.tracks) {
        write_trak(w, t, m);
    }
    if (m.fragmented) {
        const auto mvex = w.begin("mvex");
        const auto mehd = w.begin_full("mehd", 1, 0);
        w.u64(m.fragment_duration);
        w.end(mehd);
        for (const Track& t : m.tracks) {
            const auto trex = w.begin_full("trex", 0, 0);
            w.u32(t.id);
            w.u32(1); // default_sample_description_index
            w.u32(0); // default_sample_duration
            w.u32(0); // default_sample_size
            w.u32(0); // default_sample_flags
            w.end(trex);
        }
        w.end(mvex);
    }
    w.end(moov);
    return w.take();
}

std::uint32_t sample_flags(bool sync) noexcept {
    // sample_depends_on (bits 25-24): 2 = depends on no other, 1 = on
    // others; sample_is_non_sync_sample is bit 16.
    return sync ? 0x02000000U : 0x01010000U;
}

std::vector<std::uint8_t> make_moof(std::uint32_t sequence, const std::vector<FragmentTrack>& tracks) {
    // trun data offsets count from the moof's first byte
    // (default-base-is-moof), so the moof's own size must be known: it does
    // not depend on the offsets' values, so build it twice.
    std::vector<std::uint8_t> out;
    std::uint64_t moof_size = 0;
    for (int pass = 0; pass < 2; ++pass) {
        BoxWriter w;
        const auto moof = w.begin("moof");
        const auto mfhd = w.begin_full("mfhd", 0, 0);
        w.u32(sequence);
        w.end(mfhd);
        std::uint64_t data = moof_size + 8; // after the mdat header
        for (const FragmentTrack& t : tracks) {
            const auto traf = w.begin("traf");
            const auto tfhd = w.begin_full("tfhd", 0, 0x020000); // default-base-is-moof
            w.u32(t.track_id);
            w.end(tfhd);
            const auto tfdt = w.begin_full("tfdt", 1, 0);
            w.u64(t.base_decode_time);
            w.end(tfdt);
            const bool any_offset = std::any_of(t.samples.begin(), t.samples.end(),
                                                [](const Sample& x) { return x.composition_offset != 0; });
            // data-offset, sample duration, size, flags, composition offsets.
            const std::uint32_t flags = 0x000001 | 0x000100 | 0x000200 | 0x000400 | (any_offset ? 0x000800 : 0);
            // Version 1: signed composition offsets.
            const auto trun = w.begin_full("trun", any_offset ? 1 : 0, flags);
            w.u32(static_cast<std::uint32_t>(t.samples.size()));
            w.u32(static_cast<std::uint32_t>(data));
            for (const Sample& s : t.samples) {
                w.u32(s.duration);
                w.u32(s.size);
                w.u32(sample_flags(s.sync));
                if (any_offset) {
                    w.u32(static_cast<std::uint32_t>(s.composition_offset));
                }
                data += s.size;
            }
            w.end(trun);
            w.end(traf);
        }
        w.end(moof);
        moof_size = w.size();
        out = w.take();
    }
    return out;
}

} // namespace parallax::mp4
