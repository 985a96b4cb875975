// oggmux: writes Opus streams into Ogg (RFC 3533, RFC 7845) with libogg.
//
// Each sink pad is one logical stream: its OpusHead alone on the first page
// (beginning of stream, granule 0), then its OpusTags on page(s) of their
// own, then the audio. A packet's granule position is the end of its audio,
// pre_skip + (pts + duration - first pts) * 48 kHz for the last packet (end
// trimming) and the running sum of packet samples before it (Opus is
// continuous: a granule may not jump mid-stream). The newest packet of each
// stream is held back until the next one or eos arrives, so that the last
// page can carry the end-of-stream flag.
//
// Pages of several streams leave in time order: a page goes out once every
// other stream has a page waiting too, or when it is more than max-delay
// behind the newest page waiting. A stream that has sent nothing for
// max-delay of wall-clock time (a live source that starves) is no longer
// waited for: a timer sends the others' pages then, even when nothing else
// arrives. Its OpusTags page goes out first (readers such as ffmpeg want
// every stream's headers before any audio), and its audio follows when it
// resumes, later in the file than the others' pages of the same time,
// which Ogg allows. Its beginning-of-stream page went out with its caps:
// audio never goes before every stream's beginning-of-stream page (a
// stream without caps is waited for). A stream that ends without ever
// sending audio after that ends on an empty end-of-stream page.

#include <parallax/base/log.hpp>
#include <parallax/codec/opus.hpp>
#include <parallax/container/ogg.hpp>
#include <parallax/element.hpp>

#include "container/ogg_library.hpp"
#include "mux_timer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory oggmux_log("oggmux", "oggmux: Ogg muxer");

constexpr std::uint64_t default_delay = 500'000'000;

class OggMux final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "oggmux",
        .klass = "Codec/Muxer",
        .summary = "Muxes Opus streams into Ogg",
        .description = "Writes one Ogg logical stream per audio_%u pad (RFC 7845 Ogg Opus): the OpusHead page, "
                       "the OpusTags page(s) (vendor \"libparallax\"), then audio pages with granule positions "
                       "from the packets' timestamps (pre-skip and end trimming kept), a page at least every "
                       "max-page-delay, and the end-of-stream flag on each stream's last page. Streams are "
                       "interleaved by time: a page waits for the other streams' pages for at most max-delay of "
                       "stream time, and a stream silent for max-delay of wall-clock time (a starving live "
                       "source) is no longer waited for.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"src", PadDirection::src, PadPresence::always, Caps::parse_static("application/ogg")},
                {"audio_%u", PadDirection::sink, PadPresence::request, Caps::parse_static("audio/x-opus")}};
    }

    ~OggMux() override { timer_.retire(); }

protected:
    void init() override { src_ = pad("src"); }

    // Caps may arrive before start(): they are kept until stop().
    Result<void> start() override {
        std::lock_guard lock(mutex_);
        if (auto loaded = load_ogg(); !loaded) {
            return loaded;
        }
        timer_.start(inputs_);
        return {};
    }

    Result<void> stop() override {
        timer_.retire();
        std::lock_guard lock(mutex_);
        reset();
        return {};
    }

    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    void pad_requested(Pad& pad) override {
        std::lock_guard lock(mutex_);
        inputs_.push_back(std::make_unique<Input>());
        inputs_.back()->pad = &pad;
        inputs_.back()->last_arrival = std::chrono::steady_clock::now();
    }

    void pad_releasing(Pad& pad) override {
        std::lock_guard lock(mutex_);
        std::erase_if(inputs_, [&](const auto& in) { return in->pad == &pad; });
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::stream_start:
        case EventType::segment:
        case EventType::tags:
            return true; // ours are made for the Ogg byte stream
        case EventType::caps: {
            std::lock_guard lock(mutex_);
            return take_caps(pad, *event.caps_value());
        }
        case EventType::eos: {
            std::lock_guard lock(mutex_);
            return end_input(pad);
        }
        case EventType::flush_start:
            return forward_event(pad, event);
        case EventType::flush_stop: {
            std::lock_guard lock(mutex_);
            // A new physical stream: the known streams start over with
            // their headers.
            std::vector<std::pair<Input*, opus::Header>> heads;
            for (auto& in : inputs_) {
                if (in->head) {
                    heads.emplace_back(in.get(), *in->head);
                }
            }
            reset();
            const bool ok = src_->push_event(std::move(event));
            for (auto& [in, head] : heads) {
                begin_stream(*in, head);
            }
            return ok;
        }
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad& pad, Buffer&& buffer) override {
        std::lock_guard lock(mutex_);
        Input* in = find(pad);
        if (in == nullptr || !in->head) {
            return context().error(
                Error(Errc::not_negotiated, fmt::format("a buffer arrived on {} before its caps: the stream's "
                                                        "OpusHead is unknown",
                                                        pad.name())));
        }
        if (in->finished) {
            return Flow::eos;
        }
        const auto data = buffer.data();
        Held packet;
        packet.bytes.assign(reinterpret_cast<const std::uint8_t*>(data.data()),
                            reinterpret_cast<const std::uint8_t*>(data.data()) + data.size());
        auto samples = opus::packet_samples(packet.bytes);
        if (!samples) {
            return context().error(Error(
                Errc::corrupt, fmt::format("packet {} on {}: {}", in->packets, pad.name(), samples.error().message())));
        }
        ++in->packets;
        in->last_arrival = std::chrono::steady_clock::now();
        packet.samples = *samples;
        packet.pts = buffer.meta().pts();
        packet.duration = buffer.meta().duration();
        if (!in->first_pts && !packet.pts.is_none()) {
            in->first_pts = packet.pts;
        }
        write_tags(*in, false);
        if (in->held) {
            give(*in, std::move(*in->held), false);
        }
        in->held = std::move(packet);
        return drain(false);
    }

private:
    struct Held {
        std::vector<std::uint8_t> bytes;
        std::uint32_t samples = 0;
        ClockTime pts;
        ClockTime duration;
    };
    struct Page {
        std::vector<std::uint8_t> bytes;
        int stage = 2;          // 0 OpusHead, 1 OpusTags, 2 audio
        std::uint64_t time = 0; // ns at the page's granule position
    };
    struct Input {
        Pad* pad = nullptr;
        std::uint32_t serial = 0;
        ogg_stream_state state{};
        const detail::OggLibrary* ogg = nullptr; // set once `state` is initialised
        std::optional<opus::Header> head;
        bool tags_written = false;
        std::optional<Held> held;
        std::int64_t packetno = 0;
        std::uint64_t granule = 0;      // end of the last packet given to libogg
        std::uint64_t page_granule = 0; // granule of the last page out of libogg
        std::optional<ClockTime> first_pts;
        std::uint64_t packets = 0;
        std::deque<Page> pages;
        bool finished = false;
        std::chrono::steady_clock::time_point last_arrival; // of its last packet (or start)

        Input() = default;
        Input(const Input&) = delete;
        Input& operator=(const Input&) = delete;
        ~Input() { clear(); }
        void clear() {
            if (ogg != nullptr) {
                ogg->ogg_stream_clear(&state);
                ogg = nullptr;
            }
        }
    };

    Input* find(const Pad& pad) {
        for (auto& in : inputs_) {
            if (in->pad == &pad) {
                return in.get();
            }
        }
        return nullptr;
    }

    void reset() {
        for (auto& in : inputs_) {
            in->clear();
            in->head.reset();
            in->tags_written = false;
            in->held.reset();
            in->packetno = 0;
            in->granule = 0;
            in->page_granule = 0;
            in->first_pts.reset();
            in->packets = 0;
            in->pages.clear();
            in->finished = false;
            in->last_arrival = std::chrono::steady_clock::now(); // a flush starts the wait over
        }
        src_started_ = false;
        eos_sent_ = false;
        offset_ = 0;
        serials_used_.clear();
        serial_ready_ = false;
    }

    std::uint32_t new_serial() {
        if (!serial_ready_) {
            const std::uint32_t seed = serial_.get();
            next_serial_ = seed != 0 ? seed : std::random_device{}();
            serial_ready_ = true;
        }
        // Serial numbers must differ within one physical stream.
        std::uint32_t s = next_serial_;
        while (std::find(serials_used_.begin(), serials_used_.end(), s) != serials_used_.end()) {
            ++s;
        }
        serials_used_.push_back(s);
        next_serial_ = s + 1;
        return s;
    }

    // libogg, if not loaded yet: by start(), or by caps that came first.
    Result<void> load_ogg() {
        if (lib_ == nullptr) {
            auto loaded = detail::ogg_library();
            if (!loaded) {
                return fail(loaded.error());
            }
            lib_ = *loaded;
        }
        return {};
    }

    bool take_caps(Pad& pad, const Caps& caps) {
        Input* in = find(pad);
        if (in == nullptr) {
            return false;
        }
        if (auto loaded = load_ogg(); !loaded) {
            context().error(loaded.error());
            return false;
        }
        if (caps.size() == 0 || caps.structure(0).name() != "audio/x-opus") {
            context().error(Error(Errc::not_negotiated,
                                  fmt::format("{}: caps {} are not supported: oggmux writes Opus (audio/x-opus) "
                                              "only",
                                              pad.name(), caps.to_string())));
            return false;
        }
        auto head = opus::header_from_caps(caps);
        if (!head) {
            context().error(Error(Errc::not_negotiated, fmt::format("{}: caps {}: {}", pad.name(), caps.to_string(),
                                                                    head.error().message())));
            return false;
        }
        if (in->head) {
            if (*in->head != *head) {
                context().warning(fmt::format("{}: the Opus header changed after it was written: the new caps {} "
                                              "are ignored",
                                              pad.name(), caps.to_string()));
            }
            return true;
        }
        begin_stream(*in, *head);
        if (std::any_of(inputs_.begin(), inputs_.end(), [](const auto& i) { return i->packets > 0; })) {
            // Audio of the others may have waited for this stream's
            // beginning-of-stream page.
            const Flow f = drain(false);
            return f == Flow::ok || f == Flow::eos;
        }
        return true;
    }

    // Starts the logical stream of `in`: its OpusHead page.
    void begin_stream(Input& in_ref, const opus::Header& head_ref) {
        Input* in = &in_ref;
        const opus::Header* head = &head_ref;
        in->head = *head;
        in->serial = new_serial();
        lib_->ogg_stream_init(&in->state, static_cast<int>(in->serial));
        in->ogg = lib_;
        std::vector<std::uint8_t> bytes = opus::write_head(*head);
        packet_in(*in, bytes, 0, true, false);
        flush_pages(*in, 0);
        PARALLAX_DEBUG(oggmux_log, "{}: {} is stream {:08x}, pre-skip {}", name(), in->pad->name(), in->serial,
                       head->pre_skip);
    }

    void packet_in(Input& in, std::vector<std::uint8_t>& bytes, std::uint64_t granule, bool bos, bool eos) {
        ogg_packet op{};
        op.packet = bytes.data();
        op.bytes = static_cast<long>(bytes.size());
        op.b_o_s = bos ? 1 : 0;
        op.e_o_s = eos ? 1 : 0;
        op.granulepos = static_cast<ogg_int64_t>(granule);
        op.packetno = in.packetno++;
        lib_->ogg_stream_packetin(&in.state, &op);
    }

    // Moves libogg's pages to the queue: all of them (flush) or those libogg
    // finds full.
    void take_pages(Input& in, int stage, bool flush) {
        ogg_page og{};
        while ((flush ? lib_->ogg_stream_flush(&in.state, &og) : lib_->ogg_stream_pageout(&in.state, &og)) != 0) {
            Page p;
            p.stage = stage;
            p.bytes.resize(static_cast<std::size_t>(og.header_len + og.body_len));
            std::memcpy(p.bytes.data(), og.header, static_cast<std::size_t>(og.header_len));
            std::memcpy(p.bytes.data() + og.header_len, og.body, static_cast<std::size_t>(og.body_len));
            const std::int64_t g = lib_->ogg_page_granulepos(&og);
            if (g >= 0) {
                in.page_granule = static_cast<std::uint64_t>(g);
            }
            p.time = time_of(in, in.page_granule);
            in.pages.push_back(std::move(p));
        }
    }

    void flush_pages(Input& in, int stage) { take_pages(in, stage, true); }

    [[nodiscard]] std::uint64_t time_of(const Input& in, std::uint64_t granule) const {
        const std::uint64_t pre_skip = in.head ? in.head->pre_skip : 0;
        const std::uint64_t kept = granule > pre_skip ? granule - pre_skip : 0;
        __extension__ using Wide = unsigned __int128;
        const std::uint64_t base = in.first_pts ? in.first_pts->ns() : 0;
        return base + static_cast<std::uint64_t>(static_cast<Wide>(kept) * ClockTime::ns_per_s / opus::sample_rate);
    }

    // The OpusTags packet, on page(s) of its own. With `eos` (a stream
    // without audio) its page ends the stream.
    void write_tags(Input& in, bool eos) {
        if (in.tags_written || !in.head) {
            return;
        }
        opus::Tags tags;
        tags.vendor = "libparallax";
        std::vector<std::uint8_t> bytes = opus::write_tags(tags);
        packet_in(in, bytes, 0, false, eos);
        flush_pages(in, 1);
        in.tags_written = true;
    }

    // Hands one audio packet to libogg with the granule of its end.
    void give(Input& in, Held packet, bool last) {
        __extension__ using Wide = unsigned __int128;
        std::uint64_t granule = in.granule + packet.samples;
        if (last && in.first_pts && !packet.pts.is_none() && !packet.duration.is_none() &&
            packet.pts.ns() + packet.duration.ns() >= in.first_pts->ns()) {
            const std::uint64_t span = packet.pts.ns() + packet.duration.ns() - in.first_pts->ns();
            const auto by_time = static_cast<std::uint64_t>(
                in.head->pre_skip +
                (static_cast<Wide>(span) * opus::sample_rate + ClockTime::ns_per_s / 2) / ClockTime::ns_per_s);
            // End trimming only: the granule stays within this packet.
            granule = std::clamp(by_time, in.granule, in.granule + packet.samples);
        }
        packet_in(in, packet.bytes, granule, false, last);
        in.granule = granule;
        take_pages(in, 2, false);
        const auto max_delay_samples = static_cast<std::uint64_t>(
            (static_cast<Wide>(max_page_delay_.get()) * opus::sample_rate) / ClockTime::ns_per_s);
        if (last || granule - std::min(granule, in.page_granule) >= std::max<std::uint64_t>(max_delay_samples, 1)) {
            flush_pages(in, 2);
        }
    }

    bool end_input(Pad& pad) {
        Input* in = find(pad);
        if (in == nullptr) {
            return false;
        }
        if (!in->finished) {
            in->finished = true;
            if (in->held) {
                write_tags(*in, false);
                Held last = std::move(*in->held);
                in->held.reset();
                give(*in, std::move(last), true);
            } else if (!in->tags_written) {
                write_tags(*in, true);
            } else if (in->ogg != nullptr) {
                end_empty(*in);
            }
        }
        const bool all = std::all_of(inputs_.begin(), inputs_.end(),
                                     [](const auto& i) { return i->finished || !i->pad->is_linked(); });
        const Flow f = drain(all);
        if (!all || eos_sent_) {
            return f == Flow::ok || f == Flow::eos;
        }
        eos_sent_ = true;
        start_src();
        return src_->push_event(Event::eos());
    }

    // Ends the stream of `in`, whose headers went out early (it starved) and
    // that never had audio: a page without packets, flagged end-of-stream.
    void end_empty(Input& in) {
        std::vector<std::uint8_t> page(27, 0);
        std::memcpy(page.data(), "OggS", 4);
        page[5] = ogg::flag_eos;
        const auto put = [&](std::size_t at, std::uint64_t v, int bytes) {
            for (int i = 0; i < bytes; ++i) {
                page[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
            }
        };
        put(6, ~std::uint64_t{0}, 8); // no packet ends here
        put(14, in.serial, 4);
        put(18, static_cast<std::uint64_t>(in.state.pageno++), 4);
        ogg::set_crc(page);
        Page p;
        p.bytes = std::move(page);
        p.time = time_of(in, in.granule);
        in.pages.push_back(std::move(p));
    }

    void start_src() {
        if (src_started_) {
            return;
        }
        src_started_ = true;
        src_->push_event(Event::stream_start(fmt::format("{}/ogg", name())));
        src_->push_event(Event::caps(Caps::parse_static("application/ogg")));
        StreamSegment bytes;
        bytes.format = Format::bytes;
        src_->push_event(Event::segment(bytes));
    }

    // Sends the pages that may go: the earliest (headers first) once every
    // active stream has a page waiting (or has been silent for max-delay of
    // wall-clock time) or it lags max-delay behind the newest; with `all`,
    // everything. While a stream is waited for, the timer calls again when
    // its wait runs out.
    Flow drain(bool all) {
        const auto now = std::chrono::steady_clock::now();
        const auto wait = std::chrono::nanoseconds(max_delay_.get());
        for (auto& in : inputs_) {
            if (in->head && !in->tags_written && !in->finished && now - in->last_arrival >= wait) {
                write_tags(*in, false); // it starved: its headers go before the others' audio
            }
        }
        while (true) {
            Input* best = nullptr;
            std::uint64_t newest = 0;
            bool someone_waits = false;
            std::chrono::steady_clock::time_point wait_ends = now + wait;
            bool all_started = true; // every stream's OpusHead is known
            for (auto& in : inputs_) {
                if (!in->pages.empty()) {
                    const Page& p = in->pages.front();
                    newest = std::max(newest, in->pages.back().time);
                    if (best == nullptr || p.stage < best->pages.front().stage ||
                        (p.stage == best->pages.front().stage && p.time < best->pages.front().time)) {
                        best = in.get();
                    }
                } else if (!in->finished && in->pad->is_linked() && (!in->head || now - in->last_arrival < wait)) {
                    someone_waits = true;
                    wait_ends = std::min(wait_ends, in->last_arrival + wait);
                }
                all_started = all_started && (in->head.has_value() || in->finished || !in->pad->is_linked());
            }
            if (best == nullptr) {
                return Flow::ok;
            }
            const Page& front = best->pages.front();
            // Audio never goes before a stream's beginning-of-stream page.
            const bool late = all_started && front.stage == 2 && newest - front.time > max_delay_.get();
            if (someone_waits && !all && !late) {
                if (all_started) {
                    timer_.arm(context(), std::chrono::duration_cast<std::chrono::nanoseconds>(wait_ends - now), mutex_,
                               [this] { static_cast<void>(drain(false)); });
                }
                return Flow::ok;
            }
            Page p = std::move(best->pages.front());
            best->pages.pop_front();
            if (const Flow f = push_page(p); f != Flow::ok) {
                return f;
            }
        }
    }

    Flow push_page(const Page& p) {
        start_src();
        auto out = context().allocate(p.bytes.size());
        if (!out) {
            return context().error(out.error());
        }
        auto w = out->map_writable();
        if (!w) {
            return context().error(w.error());
        }
        std::memcpy(w->data(), p.bytes.data(), p.bytes.size());
        Metadata& m = out->meta();
        m.set_byte_offset(offset_);
        if (p.stage < 2) {
            m.set_flag(BufferFlags::header);
        } else {
            m.set_pts(ClockTime::from_ns(p.time));
        }
        offset_ += p.bytes.size();
        return src_->push(std::move(*out));
    }

    Pad* src_ = nullptr;
    std::mutex mutex_;                        // serializes every input and what leaves src_
    const detail::OggLibrary* lib_ = nullptr; // libogg: by start() or the first caps, under mutex_
    std::vector<std::unique_ptr<Input>> inputs_;
    detail::MuxTimer timer_; // ends the wait for a silent stream
    bool src_started_ = false;
    bool eos_sent_ = false;
    std::uint64_t offset_ = 0;
    std::uint32_t next_serial_ = 0;
    bool serial_ready_ = false;
    std::vector<std::uint32_t> serials_used_;

    Property<std::uint64_t> max_delay_{this, "max-delay", default_delay,
                                       "Maximum delay in multiplexing streams (ns): a page this far behind the "
                                       "newest waiting page goes out without waiting for the other streams, and a "
                                       "stream that has sent nothing for this long of wall-clock time (a starving "
                                       "live source) is no longer waited for (GStreamer's oggmux has no latency "
                                       "property: this bounds the live wait too)",
                                       PropertyRange<std::uint64_t>{0, 3'600'000'000'000}};
    Property<std::uint64_t> max_page_delay_{this, "max-page-delay", default_delay,
                                            "Maximum delay for sending out a page (ns of audio on one page)"};
    Property<std::uint32_t> serial_{this, "serial", 0,
                                    "Serial number of the first stream (the next ones count up from it); 0 "
                                    "picks a random one"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::OggMux);
