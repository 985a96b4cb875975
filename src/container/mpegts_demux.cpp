#include <parallax/container/mpegts_demux.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>

namespace parallax::mpegts {

std::string_view to_string(CodecKind kind) noexcept {
    switch (kind) {
    case CodecKind::h264:
        return "h264";
    case CodecKind::opus:
        return "opus";
    case CodecKind::av1:
        return "av1";
    case CodecKind::klv:
        return "klv";
    case CodecKind::unknown:
        break;
    }
    return "unknown";
}

StreamInfo classify_stream(const PmtStream& stream, std::span<const Descriptor> program_descriptors) {
    StreamInfo info;
    info.pid = stream.pid;
    info.stream_type = stream.stream_type;
    info.descriptors = stream.descriptors;
    std::string reg = find_registration(stream.descriptors);
    if (reg.empty()) {
        reg = find_registration(program_descriptors);
    }
    switch (stream.stream_type) {
    case stream_type::h264:
        info.codec = CodecKind::h264;
        break;
    case stream_type::private_pes:
        if (reg == "Opus") {
            info.codec = CodecKind::opus;
        } else if (reg == "AV01") {
            info.codec = CodecKind::av1;
        } else if (reg == "KLVA") {
            info.codec = CodecKind::klv;
        }
        break;
    case stream_type::metadata_pes:
        if (reg == "KLVA" || std::any_of(stream.descriptors.begin(), stream.descriptors.end(),
                                         [](const Descriptor& d) { return is_klv_metadata_descriptor(d); })) {
            info.codec = CodecKind::klv;
            info.klv_cells = true;
        }
        break;
    default:
        break;
    }
    return info;
}

namespace {

// Confirmation of a sync position: this many packets in a row.
constexpr unsigned sync_confirm = 3;
constexpr std::size_t confirm_span = (sync_confirm - 1) * packet_size + 1;

struct PesState {
    StreamInfo info;
    std::vector<std::uint8_t> data;
    bool open = false;
    std::optional<std::uint8_t> last_cc;
    bool discont = true; // the first packet of a stream is a discontinuity
    bool random_access = false;
    std::uint64_t offset = 0;
    bool scrambled_reported = false;
    // Room reserved for the next PES: a little more than the last one, so
    // that joining packets rarely grows the vector.
    std::size_t size_hint = 0;
};

} // namespace

struct Demuxer::Impl {
    Options options;

    std::vector<std::uint8_t> buf;
    std::size_t head = 0;         // buf[head] is the byte at input offset buf_offset
    std::uint64_t buf_offset = 0; // input offset of buf[head]
    std::uint64_t received = 0;
    std::uint64_t skipped = 0;
    std::uint64_t packet_count = 0;
    bool synced = false;
    std::optional<std::uint64_t> garbage_from; // garbage being skipped since
    std::uint64_t garbage_count = 0;

    SectionAssembler pat_assembler;
    std::optional<Pat> pat;
    std::optional<std::uint16_t> program_number; // the chosen one
    std::optional<std::uint16_t> pmt_pid;
    SectionAssembler pmt_assembler;
    std::optional<ProgramInfo> program;
    std::vector<std::uint8_t> last_pmt_section;
    std::map<std::uint16_t, PesState> streams; // known codecs only
    std::set<std::uint16_t> unknown_reported;
    std::optional<std::uint16_t> missing_program_reported;
    TimestampUnwrapper unwrapper;

    std::vector<DemuxEvent>* out = nullptr;

    explicit Impl(Options o) : options(o) {}

    void problem(std::string text) {
        DemuxEvent e;
        e.type = DemuxEvent::Type::problem;
        e.problem = Error(Errc::corrupt, std::move(text));
        out->push_back(std::move(e));
    }

    void report_garbage() {
        if (garbage_from && garbage_count > 0) {
            problem(
                fmt::format("{} bytes at byte {} are not transport packets: skipped", garbage_count, *garbage_from));
            for (auto& [pid, s] : streams) {
                s.discont = true;
            }
        }
        garbage_from.reset();
        garbage_count = 0;
    }

    void skip_bytes(std::uint64_t at, std::uint64_t n) {
        if (n == 0) {
            return;
        }
        if (!garbage_from) {
            garbage_from = at;
        }
        garbage_count += n;
        skipped += n;
    }

    void take(std::span<const std::uint8_t> bytes, bool at_end) {
        if (!bytes.empty()) {
            if (synced && head < buf.size() && buf.size() - head < packet_size) {
                // The rest of a packet cut by the last input: complete it
                // first, so that what follows can be read in place.
                const std::size_t need = std::min(packet_size - (buf.size() - head), bytes.size());
                buf.insert(buf.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(need));
                received += need;
                bytes = bytes.subspan(need);
                scan(false);
            }
            if (head > 0 && head == buf.size()) {
                buf.clear();
                head = 0;
            }
            if (synced && buf.empty()) {
                // In sync with nothing held: whole packets are read where
                // they are, only what follows them is kept.
                std::size_t used = 0;
                while (bytes.size() - used >= packet_size && bytes[used] == sync_byte) {
                    const std::uint64_t at = buf_offset;
                    buf_offset += packet_size;
                    received += packet_size;
                    ++packet_count;
                    handle_packet(bytes.subspan(used, packet_size), at);
                    used += packet_size;
                }
                bytes = bytes.subspan(used);
            }
            buf.insert(buf.end(), bytes.begin(), bytes.end());
            received += bytes.size();
        }
        scan(at_end);
    }

    // Reads the packets held in `buf`, finding the sync first when lost.
    void scan(bool at_end) {
        for (;;) {
            const std::span<const std::uint8_t> data = std::span<const std::uint8_t>(buf).subspan(head);
            if (data.empty()) {
                break;
            }
            if (!synced || data[0] != sync_byte) {
                if (synced) {
                    synced = false;
                }
                std::size_t at = data.size();
                bool sure = false;
                if (buf_offset == 0 && data[0] == sync_byte) {
                    // The input's first byte: the next packet start confirms
                    // it (packets just before garbage are not lost).
                    if (data.size() <= packet_size && !at_end) {
                        break;
                    }
                    if (data.size() <= packet_size || data[packet_size] == sync_byte) {
                        at = 0;
                        sure = true;
                    }
                }
                if (!sure) {
                    // find_sync confirms with as many packets as the data
                    // holds: a candidate near the end is only sure once more
                    // bytes came.
                    at = find_sync(data, 0, sync_confirm);
                    sure = at < data.size() && (at + confirm_span <= data.size() || at_end);
                }
                if (!sure) {
                    // Keep a possible beginning; skip what cannot be one.
                    const std::size_t keep_from = at < data.size() ? at : data.size();
                    skip_bytes(buf_offset, keep_from);
                    consume(keep_from);
                    break;
                }
                skip_bytes(buf_offset, at);
                consume(at);
                synced = true;
                report_garbage();
                continue;
            }
            if (data.size() < packet_size) {
                break;
            }
            const std::uint64_t at = buf_offset;
            // A copy: handlers may not keep spans into buf across consume().
            std::array<std::uint8_t, packet_size> packet{};
            std::copy_n(data.begin(), packet_size, packet.begin());
            consume(packet_size);
            ++packet_count;
            handle_packet(packet, at);
        }
        if (head > (std::size_t{1} << 16) && head * 2 > buf.size()) {
            buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(head));
            head = 0;
        }
    }

    void consume(std::size_t n) {
        head += n;
        buf_offset += n;
    }

    void handle_packet(std::span<const std::uint8_t> bytes, std::uint64_t at) {
        auto parsed = parse_packet(bytes, at);
        if (!parsed) {
            problem(parsed.error().message() + ": packet skipped");
            return;
        }
        const PacketView& p = *parsed;
        if (p.transport_error) {
            // Its header may be wrong too: only the continuity check of the
            // next packet of its PID notices the loss.
            return;
        }
        if (p.pid == null_pid) {
            return;
        }
        if (p.pid == pat_pid) {
            for (auto& section : pat_assembler.push(p)) {
                take_pat(section, at);
            }
            return;
        }
        if (pmt_pid && p.pid == *pmt_pid) {
            for (auto& section : pmt_assembler.push(p)) {
                take_pmt(section, at);
            }
            // A PMT PID may also carry an elementary stream (rare); fall through.
        }
        auto it = streams.find(p.pid);
        if (it != streams.end()) {
            take_pes_packet(it->second, p, at);
        }
    }

    void take_pat(const std::vector<std::uint8_t>& section, std::uint64_t at) {
        auto parsed = parse_pat(section);
        if (!parsed) {
            problem(
                fmt::format("PAT in the packet at byte {} (PID 0x0000): {}: ignored", at, parsed.error().message()));
            return;
        }
        if (pat && pat->version == parsed->version && pat->programs == parsed->programs) {
            return; // the same table again
        }
        pat = std::move(*parsed);
        // Default: the first program, but the one being read while the PAT
        // still lists it.
        std::optional<PatProgram> chosen;
        for (const PatProgram& prog : pat->programs) {
            if (prog.program_number == 0) {
                continue;
            }
            if (options.program_number >= 0) {
                if (prog.program_number == options.program_number) {
                    chosen = prog;
                    break;
                }
            } else if (program_number && prog.program_number == *program_number) {
                chosen = prog;
                break;
            } else if (!chosen) {
                chosen = prog;
            }
        }
        if (!chosen) {
            const auto wanted = static_cast<std::uint16_t>(std::max(options.program_number, 0));
            if (!missing_program_reported || *missing_program_reported != pat->version) {
                missing_program_reported = pat->version;
                std::string list;
                for (const PatProgram& prog : pat->programs) {
                    if (prog.program_number != 0) {
                        list += fmt::format("{}{}", list.empty() ? "" : ", ", prog.program_number);
                    }
                }
                problem(options.program_number < 0
                            ? fmt::format("PAT version {} in the packet at byte {} lists no program", pat->version, at)
                            : fmt::format("PAT version {} in the packet at byte {} has no program {} (it has: {})",
                                          pat->version, at, wanted, list.empty() ? "none" : list));
            }
            return;
        }
        if (!program_number || *program_number != chosen->program_number || !pmt_pid || *pmt_pid != chosen->pid) {
            program_number = chosen->program_number;
            pmt_pid = chosen->pid;
            pmt_assembler = SectionAssembler{};
            last_pmt_section.clear();
        }
    }

    void take_pmt(const std::vector<std::uint8_t>& section, std::uint64_t at) {
        if (section.empty() || section[0] != 0x02) {
            return; // another table on the PMT PID (e.g. a private section)
        }
        if (section == last_pmt_section) {
            return; // repeated as it should be
        }
        auto parsed = parse_pmt(section);
        if (!parsed) {
            problem(fmt::format("PMT in the packet at byte {} (PID 0x{:04x}): {}: ignored", at, *pmt_pid,
                                parsed.error().message()));
            return;
        }
        if (parsed->program_number != *program_number) {
            return; // the PMT of another program sharing the PID
        }
        last_pmt_section = section;
        ProgramInfo info;
        info.program_number = parsed->program_number;
        info.pmt_pid = *pmt_pid;
        info.version = parsed->version;
        info.pcr_pid = parsed->pcr_pid;
        std::set<std::uint16_t> seen;
        for (const PmtStream& st : parsed->streams) {
            if (st.pid == pat_pid || st.pid > max_pid || !seen.insert(st.pid).second) {
                problem(fmt::format("PMT version {} in the packet at byte {} (PID 0x{:04x}): stream PID 0x{:04x} "
                                    "is reserved or listed twice: skipped",
                                    parsed->version, at, *pmt_pid, st.pid));
                continue;
            }
            info.streams.push_back(classify_stream(st, parsed->program_descriptors));
        }
        const std::vector<StreamInfo> before = program ? program->streams : std::vector<StreamInfo>{};
        auto find_in = [](const std::vector<StreamInfo>& v, std::uint16_t pid) -> const StreamInfo* {
            for (const StreamInfo& s : v) {
                if (s.pid == pid) {
                    return &s;
                }
            }
            return nullptr;
        };
        for (const StreamInfo& s : before) {
            const StreamInfo* now = find_in(info.streams, s.pid);
            if (now == nullptr || !(*now == s)) {
                info.removed.push_back(s.pid);
                streams.erase(s.pid);
            }
        }
        for (const StreamInfo& s : info.streams) {
            const StreamInfo* old = find_in(before, s.pid);
            if (old != nullptr && *old == s) {
                continue;
            }
            info.added.push_back(s.pid);
            if (s.codec == CodecKind::unknown) {
                continue;
            }
            PesState state;
            state.info = s;
            streams[s.pid] = std::move(state);
        }
        if (program && info.added.empty() && info.removed.empty() && info.pcr_pid == program->pcr_pid) {
            program->version = info.version;
            return;
        }
        program = info;
        DemuxEvent e;
        e.type = DemuxEvent::Type::program;
        e.program = std::move(info);
        out->push_back(std::move(e));
        for (const StreamInfo& s : program->streams) {
            if (s.codec != CodecKind::unknown || !unknown_reported.insert(s.pid).second) {
                continue;
            }
            const std::string reg = find_registration(s.descriptors);
            problem(fmt::format("PMT in the packet at byte {}: stream PID 0x{:04x} of stream_type 0x{:02x}{} is not "
                                "H.264, Opus, AV1 or KLV: skipped",
                                at, s.pid, s.stream_type,
                                reg.empty() ? std::string() : fmt::format(" (registration '{}')", reg)));
        }
    }

    void drop_partial(PesState& s, std::string why) {
        if (s.open) {
            problem(fmt::format("PID 0x{:04x}: {}: the PES packet begun at byte {} ({} bytes so far) is dropped",
                                s.info.pid, why, s.offset, s.data.size()));
        } else {
            problem(fmt::format("PID 0x{:04x}: {}: packets were lost", s.info.pid, why));
        }
        s.data.clear();
        s.open = false;
        s.discont = true;
    }

    void take_pes_packet(PesState& s, const PacketView& p, std::uint64_t at) {
        const bool af_discont = p.adaptation && p.adaptation->discontinuity;
        if (!p.has_payload) {
            if (af_discont) {
                s.last_cc.reset();
            }
            return;
        }
        if (s.last_cc && !af_discont) {
            if (p.continuity_counter == *s.last_cc) {
                return; // a duplicate
            }
            const auto expected = static_cast<std::uint8_t>((*s.last_cc + 1) & 0x0F);
            if (p.continuity_counter != expected) {
                drop_partial(s, fmt::format("continuity counter {} in the packet at byte {} ({} expected)",
                                            p.continuity_counter, at, expected));
                s.discont = true;
            }
        }
        s.last_cc = p.continuity_counter;
        if (p.scrambling != 0) {
            if (!s.scrambled_reported) {
                s.scrambled_reported = true;
                problem(fmt::format("PID 0x{:04x}: the packet at byte {} is scrambled: its packets are skipped",
                                    s.info.pid, at));
            }
            s.data.clear();
            s.open = false;
            return;
        }
        if (p.payload_unit_start) {
            if (s.open) {
                complete(s, false);
            }
            s.data.clear();
            s.data.reserve(std::min(std::max(s.size_hint, p.payload.size()), options.max_pes_size));
            s.data.insert(s.data.end(), p.payload.begin(), p.payload.end());
            s.open = true;
            s.offset = at;
            s.random_access = p.adaptation && p.adaptation->random_access;
        } else if (s.open) {
            if (s.data.size() + p.payload.size() > options.max_pes_size) {
                drop_partial(s, fmt::format("the PES packet grows past the limit of {} bytes at byte {}",
                                            options.max_pes_size, at));
                return;
            }
            s.data.insert(s.data.end(), p.payload.begin(), p.payload.end());
        } else {
            return; // waiting for the start of a PES
        }
        // A bounded PES is complete once its length is in.
        if (s.data.size() >= 6) {
            const std::size_t length = static_cast<std::size_t>(s.data[4]) << 8 | s.data[5];
            if (length != 0 && s.data.size() >= 6 + length) {
                s.data.resize(6 + length);
                complete(s, false);
            }
        }
    }

    // Hands out the PES joined in `s` (bounded ones only when whole).
    void complete(PesState& s, bool at_end) {
        std::vector<std::uint8_t> data = std::move(s.data);
        s.data.clear();
        s.open = false;
        s.size_hint = data.size() + data.size() / 4;
        auto header = parse_pes_header(data);
        if (!header) {
            problem(fmt::format("PID 0x{:04x}: PES packet at byte {}: {}: dropped", s.info.pid, s.offset,
                                header.error().message()));
            s.discont = true;
            return;
        }
        if (header->packet_length != 0 && data.size() < 6U + header->packet_length) {
            problem(fmt::format("PID 0x{:04x}: the PES packet at byte {} is cut short{}: {} of its {} bytes are "
                                "here: dropped",
                                s.info.pid, s.offset, at_end ? " by the end of the input" : "", data.size(),
                                6U + header->packet_length));
            s.discont = true;
            return;
        }
        PesPacket pes;
        pes.pid = s.info.pid;
        pes.stream_id = header->stream_id;
        if (header->pts) {
            pes.pts = unwrapper.unwrap(*header->pts);
        }
        if (header->dts) {
            pes.dts = unwrapper.unwrap(*header->dts);
        }
        pes.discontinuity = s.discont;
        s.discont = false;
        pes.random_access = s.random_access;
        pes.data_alignment = header->data_alignment;
        pes.offset = s.offset;
        data.erase(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(header->header_size));
        pes.payload = std::move(data);
        DemuxEvent e;
        e.type = DemuxEvent::Type::pes;
        e.pes = std::move(pes);
        out->push_back(std::move(e));
    }

    void finish() {
        take({}, true);
        const std::size_t left = buf.size() - head;
        if (left > 0) {
            problem(fmt::format("the input ends with {} bytes at byte {} that are not a whole transport packet "
                                "(truncated)",
                                left, buf_offset));
            consume(left);
        }
        report_garbage();
        for (auto& [pid, s] : streams) {
            if (s.open) {
                complete(s, true);
            }
        }
    }

    void reset() {
        Impl fresh(options);
        *this = std::move(fresh);
    }
};

Demuxer::Demuxer() : Demuxer(Options{}) {}
Demuxer::Demuxer(Options options) : impl_(std::make_unique<Impl>(options)) {}
Demuxer::~Demuxer() = default;
Demuxer::Demuxer(Demuxer&&) noexcept = default;
Demuxer& Demuxer::operator=(Demuxer&&) noexcept = default;

std::vector<DemuxEvent> Demuxer::push(std::span<const std::uint8_t> bytes) {
    std::vector<DemuxEvent> events;
    impl_->out = &events;
    impl_->take(bytes, false);
    impl_->out = nullptr;
    return events;
}

std::vector<DemuxEvent> Demuxer::finish() {
    std::vector<DemuxEvent> events;
    impl_->out = &events;
    impl_->finish();
    impl_->out = nullptr;
    return events;
}

void Demuxer::reset() {
    impl_->reset();
}

std::uint64_t Demuxer::bytes_in() const noexcept {
    return impl_->received;
}

std::uint64_t Demuxer::bytes_skipped() const noexcept {
    return impl_->skipped;
}

std::uint64_t Demuxer::packets() const noexcept {
    return impl_->packet_count;
}

bool Demuxer::has_program() const noexcept {
    return impl_->program.has_value();
}

} // namespace parallax::mpegts
