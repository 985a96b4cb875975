// oggdemux: reads an Ogg byte stream (cut into buffers anywhere, as filesrc
// gives it) with libogg and pushes the packets of each Opus logical stream
// out of a pad of its own, src_<serial in 8 hex digits>.
//
// Timing follows the convention of parallax/codec/opus.hpp: the packets of a
// page end at the page's granule position; the first audio page tells where
// the stream starts (its granule minus the samples completed on it, RFC 7845
// section 4); a last page whose granule is short of its samples trims the
// last packet. Times are those of the audio left after pre-skip.

#include <parallax/base/log.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/element.hpp>

#include "container/demux_streams.hpp"
#include "container/ogg_library.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory oggdemux_log("oggdemux", "oggdemux: Ogg demuxer");

// Warnings of one kind past this many are only logged.
constexpr unsigned max_warnings = 8;

ClockTime samples_to_time(std::uint64_t samples) {
    __extension__ using Wide = unsigned __int128;
    return ClockTime::from_ns(
        static_cast<std::uint64_t>(static_cast<Wide>(samples) * ClockTime::ns_per_s / opus::sample_rate));
}

std::string printable_prefix(std::span<const std::uint8_t> bytes) {
    std::string out;
    for (std::size_t i = 0; i < bytes.size() && i < 8; ++i) {
        const auto c = static_cast<char>(bytes[i]);
        out += (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    return out;
}

class OggDemux final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "oggdemux",
        .klass = "Codec/Demuxer",
        .summary = "Demuxes Ogg streams into their Opus packets",
        .description = "Reads an Ogg stream (RFC 3533) and adds a pad src_<serial> for every Opus logical stream "
                       "(RFC 7845), with caps from its OpusHead. Pushes one buffer per packet, timed from the "
                       "granule positions (pre-skip and end trimming applied to pts and duration). Pages with a "
                       "bad CRC and bytes between pages are skipped with a warning; other codecs are ignored "
                       "with a warning.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always,
                 Caps::parse_static("application/ogg; audio/ogg; video/ogg")},
                {"src_%s", PadDirection::src, PadPresence::sometimes, Caps::parse_static("audio/x-opus")}};
    }

    ~OggDemux() override { clear(); }

protected:
    Result<void> start() override {
        auto loaded = detail::ogg_library();
        if (!loaded) {
            return fail(loaded.error());
        }
        lib_ = *loaded;
        reset();
        return {};
    }

    Result<void> stop() override {
        reset();
        return {};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::stream_start:
        case EventType::caps:
        case EventType::segment:
            // Each stream gets its own, made from the pages.
            return true;
        case EventType::eos:
            finish();
            return forward_event(pad, event);
        case EventType::flush_stop: {
            const bool ok = forward_event(pad, event);
            reset();
            return ok;
        }
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (failed_) {
            return Flow::error;
        }
        const auto bytes = buffer.data();
        received_ += bytes.size();
        if (!bytes.empty()) {
            char* dst = lib_->ogg_sync_buffer(&sync_, static_cast<long>(bytes.size()));
            if (dst == nullptr) {
                return context().error(Error(Errc::exhausted, "libogg could not grow its read buffer"));
            }
            std::memcpy(dst, bytes.data(), bytes.size());
            lib_->ogg_sync_wrote(&sync_, static_cast<long>(bytes.size()));
        }
        while (true) {
            const std::uint64_t at = consumed_;
            const bool looks_like_page =
                sync_.fill - sync_.returned >= 4 && std::memcmp(sync_.data + sync_.returned, "OggS", 4) == 0;
            ogg_page page{};
            const long n = lib_->ogg_sync_pageseek(&sync_, &page);
            if (n == 0) {
                return combined_flow();
            }
            if (n < 0) {
                consumed_ += static_cast<std::uint64_t>(-n);
                skipped(at, static_cast<std::uint64_t>(-n), looks_like_page);
                continue;
            }
            consumed_ += static_cast<std::uint64_t>(n);
            if (const Flow f = take_page(page, at); f != Flow::ok && f != Flow::not_linked && f != Flow::eos) {
                return f;
            }
        }
    }

private:
    struct Stream {
        std::uint32_t serial = 0;
        ogg_stream_state state{};
        const detail::OggLibrary* ogg = nullptr; // set once `state` is initialised
        bool ignored = false;                    // not Opus
        unsigned headers = 0;                    // header packets seen: 0 OpusHead, 1 OpusTags, 2 audio follows
        opus::Header head;
        Pad* pad = nullptr;
        bool started = false;                      // stream-start, caps and segment went out on the current pad
        std::optional<std::uint64_t> next_granule; // where the next packet starts
        bool eos_page = false;
        bool discont = true;
        ClockTime offset = ClockTime::zero(); // time of the chain it belongs to
        ClockTime end = ClockTime::zero();    // end of the last packet pushed
        Flow last = Flow::ok;
        unsigned warnings = 0;

        Stream() = default;
        Stream(const Stream&) = delete;
        Stream& operator=(const Stream&) = delete;
        ~Stream() {
            if (ogg != nullptr) {
                ogg->ogg_stream_clear(&state);
            }
        }
    };

    struct Packet {
        std::vector<std::uint8_t> bytes;
    };

    void clear() {
        streams_.clear();
        if (lib_ != nullptr) {
            lib_->ogg_sync_clear(&sync_);
        }
    }

    void reset() {
        streams_.clear();
        if (lib_ != nullptr) {
            lib_->ogg_sync_reset(&sync_);
        }
        consumed_ = 0;
        received_ = 0;
        chain_base_ = ClockTime::zero();
        failed_ = false;
        skip_warnings_ = 0;
        unknown_warnings_ = 0;
    }

    void warn(unsigned& count, std::string text) {
        if (count < max_warnings) {
            context().warning(std::move(text));
        } else {
            PARALLAX_INFO(oggdemux_log, "{}: {}", name(), text);
        }
        ++count;
    }

    void skipped(std::uint64_t at, std::uint64_t n, bool looks_like_page) {
        if (looks_like_page) {
            warn(skip_warnings_, fmt::format("Ogg page at byte {} is damaged (its CRC does not match or its header "
                                             "is invalid): skipped {} bytes up to the next page",
                                             at, n));
        } else {
            warn(skip_warnings_, fmt::format("{} bytes at byte {} are not an Ogg page: skipped", n, at));
        }
        for (auto& s : streams_) {
            s->discont = true;
        }
    }

    Stream* find(std::uint32_t serial) {
        for (auto& s : streams_) {
            if (s->serial == serial) {
                return s.get();
            }
        }
        return nullptr;
    }

    Flow take_page(ogg_page& page, std::uint64_t at) {
        const auto serial = static_cast<std::uint32_t>(lib_->ogg_page_serialno(&page));
        Stream* s = find(serial);
        if (lib_->ogg_page_bos(&page) != 0) {
            const bool new_chain =
                !streams_.empty() &&
                std::all_of(streams_.begin(), streams_.end(), [](const auto& x) { return x->eos_page || x->ignored; });
            if (new_chain) {
                for (const auto& x : streams_) {
                    chain_base_ = std::max(chain_base_, x->end);
                }
            }
            if (s == nullptr) {
                streams_.push_back(std::make_unique<Stream>());
                s = streams_.back().get();
                s->serial = serial;
                lib_->ogg_stream_init(&s->state, static_cast<int>(serial));
                s->ogg = lib_;
            } else {
                // A chained stream that reuses the serial number: start over.
                Pad* keep = s->pad;
                lib_->ogg_stream_reset_serialno(&s->state, static_cast<int>(serial));
                s->ignored = false;
                s->headers = 0;
                s->next_granule.reset();
                s->eos_page = false;
                s->discont = true;
                s->started = false;
                s->pad = keep;
            }
            s->offset = chain_base_;
            s->end = chain_base_;
        } else if (s == nullptr) {
            warn(unknown_warnings_,
                 fmt::format("Ogg page at byte {} belongs to stream {:08x}, which had no beginning-of-stream page: "
                             "ignored",
                             at, serial));
            return Flow::ok;
        }
        if (s->ignored) {
            return Flow::ok;
        }
        if (lib_->ogg_stream_pagein(&s->state, &page) != 0) {
            warn(s->warnings,
                 fmt::format("Ogg page at byte {} (stream {:08x}) could not be added to its stream", at, serial));
            return Flow::ok;
        }
        if (lib_->ogg_page_eos(&page) != 0) {
            s->eos_page = true;
        }
        std::vector<Packet> audio;
        ogg_packet op{};
        while (true) {
            const int r = lib_->ogg_stream_packetout(&s->state, &op);
            if (r == 0) {
                break;
            }
            if (r < 0) {
                warn(s->warnings, fmt::format("stream {:08x}: data lost before the page at byte {} (page sequence "
                                              "skips)",
                                              serial, at));
                s->discont = true;
                continue;
            }
            const std::span<const std::uint8_t> bytes(op.packet, static_cast<std::size_t>(op.bytes));
            if (s->headers == 0) {
                if (const Flow f = take_head(*s, bytes, at); f != Flow::ok) {
                    return f;
                }
                if (s->ignored) {
                    return Flow::ok;
                }
                continue;
            }
            if (s->headers == 1) {
                if (auto tags = opus::parse_tags(bytes); !tags) {
                    warn(s->warnings, fmt::format("stream {:08x}: OpusTags on the page at byte {}: {}", serial, at,
                                                  tags.error().message()));
                }
                s->headers = 2;
                continue;
            }
            audio.push_back(Packet{{bytes.begin(), bytes.end()}});
        }
        if (audio.empty()) {
            return Flow::ok;
        }
        return push_packets(*s, audio, lib_->ogg_page_granulepos(&page), at);
    }

    Flow take_head(Stream& s, std::span<const std::uint8_t> bytes, std::uint64_t at) {
        constexpr std::string_view magic = "OpusHead";
        const bool is_opus = bytes.size() >= magic.size() && std::equal(magic.begin(), magic.end(), bytes.begin());
        if (!is_opus) {
            s.ignored = true;
            warn(unknown_warnings_, fmt::format("stream {:08x} (beginning at byte {}) is not Opus (its first packet "
                                                "starts with \"{}\"): ignored",
                                                s.serial, at, printable_prefix(bytes)));
            return Flow::ok;
        }
        auto head = opus::parse_head(bytes);
        if (!head) {
            failed_ = true;
            return context().error(Error(Errc::corrupt, fmt::format("stream {:08x}: OpusHead on the page at byte "
                                                                    "{}: {}",
                                                                    s.serial, at, head.error().message())));
        }
        s.head = *head;
        s.headers = 1;
        if (s.pad == nullptr) {
            const std::string pad_name = fmt::format("src_{:08x}", s.serial);
            if (Pad* existing = pad(pad_name)) {
                s.pad = existing; // from an earlier run
            } else {
                auto added = add_sometimes_pad("src_%s", pad_name);
                if (!added) {
                    failed_ = true;
                    return context().error(added.error());
                }
                s.pad = *added;
            }
        }
        // Caps now, so that a muxer downstream can write every stream's
        // beginning before any audio.
        start_pad(s);
        return Flow::ok;
    }

    // Gives the packets completed on one page their times and pushes them.
    Flow push_packets(Stream& s, std::vector<Packet>& packets, std::int64_t page_granule, std::uint64_t at) {
        std::vector<std::uint64_t> samples(packets.size());
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < packets.size(); ++i) {
            auto n = opus::packet_samples(packets[i].bytes);
            if (!n) {
                warn(s.warnings, fmt::format("stream {:08x}: packet on the page at byte {}: {}", s.serial, at,
                                             n.error().message()));
            }
            samples[i] = n ? *n : 0;
            total += samples[i];
        }
        const bool has_granule = page_granule >= 0;
        const auto granule = static_cast<std::uint64_t>(std::max<std::int64_t>(page_granule, 0));
        std::uint64_t start = 0;
        if (!s.next_granule) {
            // RFC 7845 section 4: the first audio page's granule minus what
            // ends on it is where the stream starts; on a page that is also
            // the last, a granule short of the samples means end trimming.
            start = has_granule && granule > total ? granule - total : 0;
        } else {
            start = *s.next_granule;
            if (has_granule && granule > start + total) {
                warn(s.warnings, fmt::format("stream {:08x}: the granule position {} of the page at byte {} leaves "
                                             "a gap of {} samples: timestamps follow it",
                                             s.serial, granule, at, granule - start - total));
                start = granule - total;
                s.discont = true;
            } else if (has_granule && granule < start + total && !s.eos_page) {
                warn(s.warnings, fmt::format("stream {:08x}: the granule position {} of the page at byte {} is "
                                             "{} samples short of its packets (allowed on the last page only)",
                                             s.serial, granule, at, start + total - granule));
            }
        }
        if (!s.started) {
            start_pad(s);
        }
        const std::uint64_t pre_skip = s.head.pre_skip;
        std::uint64_t begin = start;
        for (std::size_t i = 0; i < packets.size(); ++i) {
            std::uint64_t finish = begin + samples[i];
            if (s.eos_page && has_granule && finish > granule) {
                finish = std::max(begin, granule); // end trimming
            }
            const std::uint64_t kept_begin = std::max(begin, pre_skip);
            const std::uint64_t kept_end = std::max(finish, pre_skip);
            auto out = context().allocate(packets[i].bytes.size());
            if (!out) {
                return context().error(out.error());
            }
            if (!packets[i].bytes.empty()) {
                auto w = out->map_writable();
                if (!w) {
                    return context().error(w.error());
                }
                std::memcpy(w->data(), packets[i].bytes.data(), packets[i].bytes.size());
            }
            const ClockTime pts = s.offset + samples_to_time(kept_begin - pre_skip);
            const ClockTime end = s.offset + samples_to_time(kept_end - pre_skip);
            Metadata& m = out->meta();
            m.set_pts(pts);
            m.set_duration(ClockTime::from_ns(end.ns() - pts.ns()));
            m.set_byte_offset(at);
            if (s.discont) {
                m.set_flag(BufferFlags::discont);
                s.discont = false;
            }
            s.end = end;
            begin = finish;
            if (s.pad->is_linked()) {
                s.last = s.pad->push(std::move(*out));
            } else {
                s.last = Flow::not_linked;
            }
            if (s.last != Flow::ok && s.last != Flow::not_linked && s.last != Flow::eos) {
                return s.last;
            }
        }
        s.next_granule = begin;
        return Flow::ok;
    }

    void start_pad(Stream& s) {
        detail::start_stream(*s.pad, fmt::format("{}/{:08x}", name(), s.serial), opus::caps_for(s.head));
        s.started = true;
    }

    // GStreamer's flow combination: ok while any stream takes data;
    // not-linked or eos only when every stream says so.
    Flow combined_flow() const {
        detail::FlowCombiner flows;
        for (const auto& s : streams_) {
            if (s->pad != nullptr) {
                flows.add(s->last);
            }
        }
        return flows.result();
    }

    // End of the input: report what was cut off, and make sure every pad
    // (or, with none, the pipeline) hears of the end.
    void finish() {
        if (failed_) {
            return;
        }
        const long left = sync_.fill - sync_.returned;
        if (left > 0) {
            context().warning(fmt::format("the Ogg stream is truncated: the last {} bytes, from byte {}, are not a "
                                          "whole page",
                                          left, consumed_));
        }
        bool any_pad = false;
        for (auto& s : streams_) {
            if (s->pad == nullptr) {
                continue;
            }
            any_pad = true;
            if (!s->eos_page) {
                context().warning(
                    fmt::format("stream {:08x} ends without its end-of-stream page (truncated file?)", s->serial));
            }
            if (!s->started && s->pad->is_linked()) {
                // Headers only: downstream still gets its caps before eos.
                start_pad(*s);
            }
        }
        if (!any_pad) {
            if (received_ > 0) {
                context().error(Error(Errc::corrupt, fmt::format("no Opus stream found in the {} bytes of the Ogg "
                                                                 "input ({} logical streams of other codecs)",
                                                                 received_, streams_.size())));
            } else {
                // Nothing came in: no pad will ever carry eos; say it here.
                context().host().sink_eos(*this);
            }
        }
    }

    const detail::OggLibrary* lib_ = nullptr; // from start()
    ogg_sync_state sync_{};                   // zeroed: what ogg_sync_init() makes
    std::vector<std::unique_ptr<Stream>> streams_;
    std::uint64_t consumed_ = 0; // stream offset of the next byte libogg looks at
    std::uint64_t received_ = 0;
    ClockTime chain_base_ = ClockTime::zero();
    bool failed_ = false;
    unsigned skip_warnings_ = 0;
    unsigned unknown_warnings_ = 0;
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OggDemux);
