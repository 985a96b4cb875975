// Fuzz target of the MPEG-TS demuxer tsdemux is built on. The input is fed
// in two pieces, cut where its first byte says, and then whole to a second
// demuxer: never a crash, no PES larger than the input or the limit, and
// the same events either way (the demuxer's answer does not depend on
// where its input was cut). Then every PES goes through the payload
// readers tsdemux uses: Opus control headers, AV1 start codes and
// metadata cells.
#include <parallax/container/mpegts.hpp>
#include <parallax/container/mpegts_demux.hpp>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace {

namespace mpegts = parallax::mpegts;

std::string summary(const mpegts::DemuxEvent& e) {
    std::string s(1, static_cast<char>('0' + static_cast<int>(e.type)));
    if (e.type == mpegts::DemuxEvent::Type::pes) {
        s += std::to_string(e.pes.pid) + "/" + std::to_string(e.pes.pts.value_or(-1)) + "/" +
             std::to_string(e.pes.payload.size()) + "/" + std::to_string(e.pes.offset) +
             (e.pes.discontinuity ? "d" : "");
    } else if (e.type == mpegts::DemuxEvent::Type::program) {
        s += std::to_string(e.program.streams.size()) + "/" + std::to_string(e.program.added.size());
    } else if (e.problem) {
        s += e.problem->message();
    }
    return s;
}

void read_payload(const mpegts::PesPacket& pes) {
    std::span<const std::uint8_t> rest(pes.payload);
    while (!rest.empty()) {
        auto h = mpegts::parse_opus_control_header(rest);
        if (!h || h->header_size + h->au_size > rest.size()) {
            break;
        }
        rest = rest.subspan(h->header_size + h->au_size);
    }
    static_cast<void>(mpegts::av1_from_start_code(pes.payload));
    static_cast<void>(mpegts::parse_metadata_cells(pes.payload));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const std::size_t cut = size == 0 ? 0 : (static_cast<std::size_t>(data[0]) * 997) % (size + 1);
    mpegts::Demuxer::Options options;
    options.max_pes_size = 1 << 16;

    std::vector<std::string> pieces;
    auto take = [&](const std::vector<mpegts::DemuxEvent>& events) {
        for (const auto& e : events) {
            if (e.type == mpegts::DemuxEvent::Type::pes) {
                if (e.pes.payload.size() > size || e.pes.payload.size() > options.max_pes_size) {
                    std::abort();
                }
                read_payload(e.pes);
            }
            pieces.push_back(summary(e));
        }
    };
    mpegts::Demuxer a(options);
    take(a.push(input.first(cut)));
    take(a.push(input.subspan(cut)));
    take(a.finish());
    if (a.bytes_in() != size || a.bytes_skipped() > size) {
        std::abort();
    }

    std::vector<std::string> whole;
    mpegts::Demuxer b(options);
    for (const auto& e : b.push(input)) {
        whole.push_back(summary(e));
    }
    for (const auto& e : b.finish()) {
        whole.push_back(summary(e));
    }
    if (whole != pieces) {
        std::abort();
    }
    return 0;
}
