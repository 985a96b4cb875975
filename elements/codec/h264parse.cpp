// h264parse: gathers an H.264 stream, Annex B cut into buffers anywhere or
// length-prefixed access units (avc), into one buffer per access unit (or
// per NAL unit with alignment=nal), in the form downstream asked for:
// byte-stream with start codes, or avc with 4-byte lengths and the avcC
// record as codec_data. Caps come from the SPS; IDR access units are key
// units, the others carry the delta-unit flag.
//
// The output form is what negotiation fixed on the src pad; without a
// choice there, byte-stream and au, as GStreamer's h264parse prefers.

#include <parallax/base/log.hpp>
#include <parallax/caps/caps_ops.hpp>
#include <parallax/codec/h264.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace parallax {
namespace {

LogCategory h264parse_log("h264parse", "h264parse: access units and parameter sets");

using NalBytes = std::vector<std::uint8_t>;

std::span<const std::uint8_t> nal_bytes(std::span<const std::byte> b) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

// A NAL unit larger than this is taken for broken data rather than waited for.
constexpr std::size_t max_nal_size = 64U << 20;

constexpr std::string_view sink_caps = "video/x-h264";
constexpr std::string_view src_caps = "video/x-h264, parsed=(boolean)true, "
                                      "stream-format=(string){ byte-stream, avc }, alignment=(string){ au, nal }";

class H264Parse final : public Element {
public:
    static constexpr ElementInfo info{
        .factory = "h264parse",
        .klass = "Codec/Parser/Converter/Video",
        .summary = "Parses H.264 streams",
        .description =
            "Gathers an H.264 stream (Annex B byte-stream cut anywhere, or avc access units with avcC codec_data) "
            "into access units, one buffer each (or one per NAL unit with alignment=nal), converting between "
            "byte-stream and avc as downstream asks (byte-stream and au when it does not). Caps come from the SPS: "
            "size after cropping, frame rate (VUI timing, else the input caps), profile, level, chroma format and "
            "bit depths, with the avcC record as codec_data for avc. IDR access units are key units, the others "
            "carry the delta-unit flag. config-interval repeats SPS and PPS before IDR pictures in byte-stream "
            "output.",
        .rank = rank_primary};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::parse_static(sink_caps)},
                {"src", PadDirection::src, PadPresence::always, Caps::parse_static(src_caps)}};
    }

    // Any H.264 in, any form out: the parser converts.
    [[nodiscard]] Caps transform_caps(const Pad& from, const Pad& to, const Caps&) const override {
        static_cast<void>(from);
        return to.pad_template().caps;
    }

    // byte-stream and au unless downstream wants otherwise.
    [[nodiscard]] Caps fixate_caps(const Pad& pad, const Caps& caps, const Caps& reference) const override {
        static_cast<void>(reference);
        Caps narrowed = caps;
        for (const std::string_view preferred : {std::string_view("video/x-h264, stream-format=(string)byte-stream"),
                                                 std::string_view("video/x-h264, alignment=(string)au")}) {
            if (Caps both = intersect(narrowed, Caps::parse_static(preferred)); !both.is_empty()) {
                narrowed = std::move(both);
            }
        }
        return Element::fixate_caps(pad, narrowed, Caps::empty());
    }

protected:
    void init() override { src_ = pad("src"); }

    Result<void> start() override {
        reset_stream();
        splitter_ = h264::AccessUnitSplitter(); // and the parameter sets it keeps
        sps_ = {};
        pps_ = {};
        active_sps_.reset();
        input_avc_ = false;
        input_length_size_ = 4;
        input_aligned_ = false;
        input_au_aligned_ = false;
        input_framerate_.reset();
        input_par_.reset();
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        switch (event.type()) {
        case EventType::caps:
            return take_input_caps(*event.caps_value());
        case EventType::segment:
        case EventType::tags:
        case EventType::gap:
            if (!caps_sent_) {
                held_.push_back(std::move(event)); // after our caps, as downstream expects
                return true;
            }
            return src_->push_event(std::move(event));
        case EventType::eos: {
            // Whatever is left is complete: the stream ends here. An error
            // is on the bus already; eos still goes on so the pipeline ends.
            static_cast<void>(drain_byte_stream(true));
            if (!au_.empty()) {
                static_cast<void>(finish_au());
            }
            splitter_.reset();
            push_held();
            return src_->push_event(std::move(event));
        }
        case EventType::flush_stop:
            reset_stream();
            return src_->push_event(std::move(event));
        default:
            return Element::sink_event(pad, std::move(event));
        }
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        const auto bytes = nal_bytes(buffer.data());
        marks_.push_back(Mark{stream_offset_ + pending_.size(), buffer.meta().pts(), buffer.meta().duration()});
        if (input_avc_) {
            return take_avc(bytes);
        }
        pending_.insert(pending_.end(), bytes.begin(), bytes.end());
        Flow f = drain_byte_stream(input_aligned_);
        if (f == Flow::ok && input_au_aligned_ && !au_.empty() && splitter_.has_picture()) {
            splitter_.reset(); // the buffer ended the access unit
            f = finish_au();
        }
        return f;
    }

private:
    struct Mark {
        std::size_t offset;
        ClockTime pts;
        ClockTime duration;
    };

    bool take_input_caps(const Caps& caps) {
        if (caps.size() == 0) {
            return true;
        }
        const Structure& s = caps.structure(0);
        const auto format = s.get_string("stream-format");
        const auto alignment = s.get_string("alignment");
        input_avc_ = format && (*format == "avc" || *format == "avc3");
        if (format && !input_avc_ && *format != "byte-stream") {
            context().error(Error(Errc::unsupported, fmt::format("{}: stream-format {} is not supported (byte-stream, "
                                                                 "avc and avc3 are)",
                                                                 name(), *format)));
            return false;
        }
        input_aligned_ = alignment && (*alignment == "au" || *alignment == "nal");
        input_au_aligned_ = alignment && *alignment == "au";
        if (auto fr = s.get_fraction("framerate"); fr && fr->num() > 0) {
            input_framerate_ = *fr;
        } else {
            input_framerate_.reset();
        }
        if (auto par = s.get_fraction("pixel-aspect-ratio"); par && par->num() > 0) {
            input_par_ = *par;
        } else {
            input_par_.reset();
        }
        if (const CapsValue* cd = s.get("codec_data"); cd != nullptr && input_avc_) {
            const parallax::Bytes* b = cd->get_if<parallax::Bytes>();
            if (b == nullptr) {
                context().error(Error(Errc::not_negotiated, fmt::format("{}: codec_data of the input caps is not a "
                                                                        "buffer",
                                                                        name())));
                return false;
            }
            auto config = h264::parse_avcc(b->data);
            if (!config) {
                context().error(Error(Errc::corrupt, fmt::format("{}: codec_data of the input caps: {}", name(),
                                                                 config.error().message())));
                return false;
            }
            input_length_size_ = config->length_size;
            // The splitter needs them to tell pictures apart (7.4.1.2.4).
            for (const auto& nal : config->sps) {
                store_sps(nal, "codec_data");
                splitter_.add_parameter_set(nal);
            }
            for (const auto& nal : config->pps) {
                store_pps(nal, "codec_data");
                splitter_.add_parameter_set(nal);
            }
        } else if (input_avc_) {
            context().error(Error(Errc::not_negotiated,
                                  fmt::format("{}: stream-format avc needs codec_data (the avcC record)", name())));
            return false;
        }
        caps_dirty_ = true;
        return true;
    }

    void reset_stream() {
        pending_.clear();
        marks_.clear();
        au_.clear();
        held_.clear();
        splitter_.reset();
        stream_offset_ = 0;
        nal_index_ = 0;
        caps_sent_ = false;
        caps_dirty_ = true;
        warned_no_sps_ = false;
        warned_no_start_code_ = false;
        au_pts_ = ClockTime();
        au_duration_ = ClockTime();
        next_pts_ = ClockTime();
        last_config_pts_ = ClockTime();
        used_mark_offset_.reset();
    }

    // Cuts the complete NAL units out of pending_. `at_boundary`: the
    // producer handed over whole NAL units (or the stream ended), so the
    // bytes after the last start code are one.
    Flow drain_byte_stream(bool at_boundary) {
        std::size_t consumed = 0;
        Flow result = Flow::ok;
        const std::span<const std::uint8_t> data(pending_);
        auto sc = h264::find_start_code(data, 0);
        if (!sc) {
            // Keep what may begin a start code, unless the data ends here.
            consumed = at_boundary ? data.size() : data.size() - std::min<std::size_t>(data.size(), 3);
            const auto dropped = data.first(consumed);
            if (!warned_no_start_code_ &&
                std::any_of(dropped.begin(), dropped.end(), [](std::uint8_t b) { return b != 0; })) {
                warned_no_start_code_ = true;
                context().warning("dropping H.264 data without a start code",
                                  fmt::format("{} bytes at byte {} of the stream", consumed, stream_offset_));
            }
        } else if (sc->offset > 0) {
            const auto dropped = data.first(sc->offset);
            if (!warned_no_start_code_ &&
                std::any_of(dropped.begin(), dropped.end(), [](std::uint8_t b) { return b != 0; })) {
                warned_no_start_code_ = true;
                context().warning("dropping H.264 data without a start code",
                                  fmt::format("{} bytes at byte {} of the stream", sc->offset, stream_offset_));
            }
            consumed = sc->offset;
        }
        while (sc) {
            const std::size_t start = sc->offset + sc->length;
            auto next = h264::find_start_code(data, start);
            std::size_t end = 0;
            if (next) {
                end = next->offset;
            } else if (at_boundary) {
                end = data.size();
            } else {
                if (data.size() - start > max_nal_size) {
                    pending_.clear();
                    return context().error(Error(
                        Errc::corrupt, fmt::format("{}: NAL unit {} at byte {} of the stream is longer than {} bytes",
                                                   name(), nal_index_, stream_offset_ + start, max_nal_size)));
                }
                break;
            }
            std::size_t trimmed = end;
            while (trimmed > start && data[trimmed - 1] == 0) {
                --trimmed; // trailing_zero_8bits
            }
            consumed = end;
            sc = next;
            if (trimmed == start) {
                continue; // two start codes in a row: nothing between them
            }
            if (const Flow f = take_nal(data.subspan(start, trimmed - start), stream_offset_ + start); f != Flow::ok) {
                result = f;
                break;
            }
        }
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(consumed));
        stream_offset_ += consumed;
        while (marks_.size() > 1 && marks_[1].offset <= stream_offset_) {
            marks_.pop_front();
        }
        return result;
    }

    // One avc access unit (or part of one, with alignment=nal).
    Flow take_avc(std::span<const std::uint8_t> bytes) {
        auto nals = h264::split_length_prefixed(bytes, input_length_size_);
        const std::size_t base = stream_offset_;
        stream_offset_ += bytes.size();
        if (!nals) {
            context().warning("dropping a damaged avc buffer",
                              fmt::format("buffer at byte {} of the stream, after NAL unit {}: {}", base, nal_index_,
                                          nals.error().message()));
            marks_.clear();
            return Flow::ok;
        }
        Flow f = Flow::ok;
        for (const h264::Nal& n : *nals) {
            f = take_nal(n.bytes, base + n.offset);
            if (f != Flow::ok) {
                break;
            }
        }
        marks_.clear();
        if (f == Flow::ok && input_au_aligned_ && !au_.empty() && splitter_.has_picture()) {
            splitter_.reset(); // the buffer ended the access unit
            f = finish_au();
        }
        return f;
    }

    Flow take_nal(std::span<const std::uint8_t> bytes, std::size_t stream_offset) {
        const std::uint64_t index = nal_index_++;
        auto nal = h264::parse_nal(bytes, stream_offset);
        if (!nal) {
            context().warning(fmt::format("dropping H.264 NAL unit {}", index), nal.error().message());
            return Flow::ok;
        }
        // The access unit before this NAL unit ends first: a new SPS or PPS
        // belongs to the next one, and so do the caps it makes.
        auto starts = splitter_.starts_access_unit(*nal);
        if (!starts) {
            context().warning(fmt::format("dropping H.264 NAL unit {}", index), starts.error().message());
            return Flow::ok;
        }
        if (*starts && !au_.empty()) {
            if (const Flow f = finish_au(); f != Flow::ok) {
                return f;
            }
        }
        if (nal->type == h264::NalType::sps) {
            if (!store_sps(bytes, fmt::format("NAL unit {} (byte {} of the stream)", index, stream_offset))) {
                return Flow::ok;
            }
        } else if (nal->type == h264::NalType::pps) {
            if (!store_pps(bytes, fmt::format("NAL unit {} (byte {} of the stream)", index, stream_offset))) {
                return Flow::ok;
            }
        }
        if (au_.empty()) {
            start_au_times(stream_offset);
            au_offset_ = stream_offset;
        }
        au_.emplace_back(bytes.begin(), bytes.end());
        return Flow::ok;
    }

    // An access unit takes the times of the buffer that brought its first
    // byte; later units starting in the same buffer count on by the frame
    // duration, when the rate is known.
    void start_au_times(std::size_t stream_offset) {
        const Mark* mark = nullptr;
        for (const Mark& m : marks_) {
            if (m.offset > stream_offset) {
                break;
            }
            mark = &m;
        }
        const ClockTime frame = frame_duration();
        if (mark != nullptr && mark->pts.is_valid() && used_mark_offset_ != mark->offset) {
            au_pts_ = mark->pts;
            used_mark_offset_ = mark->offset;
        } else if (next_pts_.is_valid() && frame.is_valid()) {
            au_pts_ = next_pts_;
        } else {
            au_pts_ = ClockTime();
        }
        au_duration_ = mark != nullptr && mark->duration.is_valid() ? mark->duration : frame;
    }

    [[nodiscard]] ClockTime frame_duration() const {
        std::optional<Fraction> rate = active_sps_ ? active_sps_->framerate() : std::nullopt;
        if (!rate) {
            rate = input_framerate_;
        }
        if (!rate || rate->num() <= 0) {
            return ClockTime();
        }
        return ClockTime::from_ns(static_cast<std::uint64_t>(rate->den()) * ClockTime::ns_per_s /
                                  static_cast<std::uint64_t>(rate->num()));
    }

    bool store_sps(std::span<const std::uint8_t> nal, const std::string& where) {
        auto sps = h264::parse_sps(nal);
        if (!sps) {
            context().warning(fmt::format("{}: dropping a bad SPS", name()),
                              fmt::format("{}: {}", where, sps.error().message()));
            return false;
        }
        NalBytes& slot = sps_[sps->sps_id];
        if (!std::ranges::equal(slot, nal)) {
            slot.assign(nal.begin(), nal.end());
            caps_dirty_ = true;
        }
        if (!active_sps_ || !(*active_sps_ == *sps)) {
            active_sps_ = *sps;
            caps_dirty_ = true;
        }
        return true;
    }

    bool store_pps(std::span<const std::uint8_t> nal, const std::string& where) {
        auto pps = h264::parse_pps(nal);
        if (!pps) {
            context().warning(fmt::format("{}: dropping a bad PPS", name()),
                              fmt::format("{}: {}", where, pps.error().message()));
            return false;
        }
        NalBytes& slot = pps_[pps->pps_id];
        if (!std::ranges::equal(slot, nal)) {
            slot.assign(nal.begin(), nal.end());
            caps_dirty_ = true;
        }
        return true;
    }

    std::vector<NalBytes> stored(std::span<const NalBytes> sets) const {
        std::vector<NalBytes> out;
        for (const NalBytes& n : sets) {
            if (!n.empty()) {
                out.push_back(n);
            }
        }
        return out;
    }

    // The output form: what negotiation fixed on the src pad, else
    // byte-stream and au.
    void choose_output_form() {
        output_avc_ = false;
        output_nal_ = false;
        const Caps negotiated = src_->negotiated_caps();
        if (negotiated.is_any() || negotiated.is_empty() || negotiated.size() == 0) {
            return;
        }
        const Structure& s = negotiated.structure(0);
        output_avc_ = s.get_string("stream-format") == std::optional<std::string_view>("avc");
        output_nal_ = s.get_string("alignment") == std::optional<std::string_view>("nal");
    }

    Result<void> send_caps() {
        if (!caps_sent_) {
            choose_output_form();
        }
        std::vector<std::uint8_t> avcc;
        if (output_avc_) {
            auto record = h264::make_avcc(stored(sps_), stored(pps_));
            if (!record) {
                return fail(
                    Error(Errc::corrupt, fmt::format("{}: cannot build avcC: {}", name(), record.error().message())));
            }
            avcc = std::move(*record);
        }
        Caps caps = h264::caps_for(*active_sps_, output_avc_ ? "avc" : "byte-stream", output_nal_ ? "nal" : "au", avcc);
        // What the SPS leaves unsaid, the input caps may say.
        const bool add_rate = !active_sps_->framerate() && input_framerate_;
        const bool add_par = active_sps_->sar_width == 0 && input_par_;
        if (add_rate || add_par) {
            Structure s = caps.structure(0);
            if (add_rate) {
                s.set("framerate", *input_framerate_);
            }
            if (add_par) {
                s.set("pixel-aspect-ratio", *input_par_);
            }
            caps = Caps();
            caps.append(std::move(s));
        }
        if (!caps_sent_ || caps != src_->current_caps()) {
            PARALLAX_INFO(h264parse_log, "{}: caps {}", name(), caps.to_string());
            if (!src_->push_event(Event::caps(caps))) {
                return fail(
                    Error(Errc::not_negotiated, fmt::format("{}: downstream refused {}", name(), caps.to_string()))
                        .at_pad("src"));
            }
        }
        caps_sent_ = true;
        caps_dirty_ = false;
        push_held();
        return {};
    }

    static bool has_type(const std::vector<NalBytes>& nals, h264::NalType type) {
        return std::any_of(nals.begin(), nals.end(),
                           [type](const NalBytes& n) { return static_cast<h264::NalType>(n[0] & 0x1FU) == type; });
    }

    Flow finish_au() {
        std::vector<NalBytes> au;
        au.swap(au_);
        if (!active_sps_) {
            if (!warned_no_sps_) {
                warned_no_sps_ = true;
                context().warning("dropping H.264 data before the first SPS",
                                  fmt::format("access unit at byte {} of the stream", au_offset_));
            }
            return Flow::ok;
        }
        if (caps_dirty_ || !caps_sent_) {
            if (auto ok = send_caps(); !ok) {
                return context().error(std::move(ok.error()));
            }
        }
        const bool key = has_type(au, h264::NalType::slice_idr);
        if (!output_avc_ && key) {
            insert_config(au);
        }
        const ClockTime pts = au_pts_;
        const ClockTime duration = au_duration_;
        if (pts.is_valid() && duration.is_valid()) {
            next_pts_ = ClockTime::from_ns(pts.ns() + duration.ns());
        }
        au_pts_ = ClockTime();
        if (output_nal_) {
            for (std::size_t i = 0; i < au.size(); ++i) {
                std::vector<NalBytes> one{std::move(au[i])};
                if (const Flow f = push_out(one, key, i == 0 ? pts : ClockTime(), duration); f != Flow::ok) {
                    return f;
                }
            }
            return Flow::ok;
        }
        return push_out(au, key, pts, duration);
    }

    // config-interval: SPS and PPS before an IDR picture, after an access
    // unit delimiter if there is one.
    void insert_config(std::vector<NalBytes>& au) {
        const std::int32_t interval = config_interval_.get();
        if (interval == 0) {
            return;
        }
        if (has_type(au, h264::NalType::sps) && has_type(au, h264::NalType::pps)) {
            last_config_pts_ = au_pts_;
            return;
        }
        if (interval > 0 && last_config_pts_.is_valid() && au_pts_.is_valid() &&
            au_pts_.ns() >= last_config_pts_.ns() &&
            au_pts_.ns() - last_config_pts_.ns() < static_cast<std::uint64_t>(interval) * ClockTime::ns_per_s) {
            return;
        }
        std::vector<NalBytes> params = stored(sps_);
        for (NalBytes& p : stored(pps_)) {
            params.push_back(std::move(p));
        }
        const auto at = !au.empty() && static_cast<h264::NalType>(au[0][0] & 0x1FU) == h264::NalType::aud
                            ? au.begin() + 1
                            : au.begin();
        au.insert(at, params.begin(), params.end());
        last_config_pts_ = au_pts_;
        PARALLAX_DEBUG(h264parse_log, "{}: inserted {} parameter sets", name(), params.size());
    }

    Flow push_out(const std::vector<NalBytes>& nals, bool key, ClockTime pts, ClockTime duration) {
        std::size_t size = 0;
        for (const NalBytes& n : nals) {
            size += 4 + n.size();
        }
        auto out = context().allocate(size);
        if (!out) {
            return context().error(out.error());
        }
        auto bytes = out->map_writable();
        if (!bytes) {
            return context().error(bytes.error());
        }
        auto* dst = reinterpret_cast<std::uint8_t*>(bytes->data());
        for (const NalBytes& n : nals) {
            if (output_avc_) {
                const auto length = static_cast<std::uint32_t>(n.size());
                dst[0] = static_cast<std::uint8_t>(length >> 24);
                dst[1] = static_cast<std::uint8_t>(length >> 16);
                dst[2] = static_cast<std::uint8_t>(length >> 8);
                dst[3] = static_cast<std::uint8_t>(length);
            } else {
                dst[0] = 0;
                dst[1] = 0;
                dst[2] = 0;
                dst[3] = 1;
            }
            std::memcpy(dst + 4, n.data(), n.size());
            dst += 4 + n.size();
        }
        Metadata& m = out->meta();
        m.set_pts(pts);
        m.set_duration(duration);
        m.set_byte_offset(au_offset_);
        if (key) {
            m.set_flag(BufferFlags::keyframe);
        } else {
            m.set_flag(BufferFlags::delta);
        }
        return src_->push(std::move(*out));
    }

    void push_held() {
        for (Event& e : held_) {
            src_->push_event(std::move(e));
        }
        held_.clear();
    }

    Pad* src_ = nullptr;
    std::vector<std::uint8_t> pending_; // Annex B bytes not yet cut into NAL units
    std::deque<Mark> marks_;            // of the buffers pending_ holds bytes of
    std::size_t stream_offset_ = 0;     // of pending_[0] in the stream
    std::optional<std::size_t> used_mark_offset_;
    std::vector<NalBytes> au_; // the access unit being gathered
    std::size_t au_offset_ = 0;
    ClockTime au_pts_;
    ClockTime au_duration_;
    ClockTime next_pts_;
    ClockTime last_config_pts_;
    h264::AccessUnitSplitter splitter_;
    std::uint64_t nal_index_ = 0;
    std::array<NalBytes, 32> sps_;  // by seq_parameter_set_id
    std::array<NalBytes, 256> pps_; // by pic_parameter_set_id
    std::optional<h264::Sps> active_sps_;
    std::optional<Fraction> input_framerate_;
    std::optional<Fraction> input_par_;
    std::vector<Event> held_; // serialized events waiting for our first caps
    bool input_avc_ = false;
    unsigned input_length_size_ = 4;
    bool input_aligned_ = false;
    bool input_au_aligned_ = false;
    bool output_avc_ = false;
    bool output_nal_ = false;
    bool caps_sent_ = false;
    bool caps_dirty_ = true;
    bool warned_no_sps_ = false;
    bool warned_no_start_code_ = false;

    Property<std::int32_t> config_interval_{this,
                                            "config-interval",
                                            0,
                                            "Send SPS and PPS before IDR pictures in byte-stream output: every N "
                                            "seconds at most (-1 = before every IDR picture, 0 = never, only where "
                                            "the stream has them)",
                                            {-1, 3600}};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::H264Parse);
