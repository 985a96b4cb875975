#pragma once

// Reads a transport stream back in tests with the packet, section and PES
// functions of parallax/container/mpegts.hpp: the PAT and PMT, each PID's
// PES packets with their header fields, the PCRs, and every continuity
// counter gap. It expects a clean stream (what a muxer wrote) and reports
// what it cannot read as a test failure.

#include <parallax/container/mpegts.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace parallax::check {

struct TsPes {
    std::uint8_t stream_id = 0;
    std::optional<std::uint64_t> pts;
    std::optional<std::uint64_t> dts;
    bool random_access = false;
    bool has_pcr = false;
    std::size_t first_packet = 0; // index in the file
    std::vector<std::uint8_t> payload;
};

struct TsFile {
    std::vector<mpegts::Pat> pats;
    std::vector<mpegts::Pmt> pmts;
    std::map<std::uint16_t, std::vector<TsPes>> pes;
    std::vector<std::pair<std::size_t, std::uint64_t>> pcrs; // packet index, 27 MHz value
    std::size_t packets = 0;
    std::size_t cc_gaps = 0;
    std::size_t null_packets = 0;

    [[nodiscard]] const mpegts::PmtStream* stream(std::uint16_t pid) const {
        if (pmts.empty()) {
            return nullptr;
        }
        for (const auto& s : pmts.back().streams) {
            if (s.pid == pid) {
                return &s;
            }
        }
        return nullptr;
    }
};

inline TsFile read_ts(std::span<const std::uint8_t> bytes) {
    TsFile f;
    EXPECT_EQ(bytes.size() % mpegts::packet_size, 0U) << "not a whole number of packets";
    std::map<std::uint16_t, mpegts::SectionAssembler> sections;
    std::map<std::uint16_t, std::uint8_t> last_cc;
    std::optional<std::uint16_t> pmt_pid;
    std::map<std::uint16_t, TsPes> open;
    auto close = [&](std::uint16_t pid) {
        auto it = open.find(pid);
        if (it == open.end()) {
            return;
        }
        auto h = mpegts::parse_pes_header(it->second.payload);
        EXPECT_TRUE(h) << "PID " << pid << ": " << h.error().to_string();
        if (h) {
            TsPes p = std::move(it->second);
            p.stream_id = h->stream_id;
            p.pts = h->pts;
            p.dts = h->dts;
            if (h->packet_length != 0) {
                EXPECT_EQ(p.payload.size(), 6U + h->packet_length) << "PES_packet_length of PID " << pid;
            }
            p.payload.erase(p.payload.begin(), p.payload.begin() + static_cast<std::ptrdiff_t>(h->header_size));
            f.pes[pid].push_back(std::move(p));
        }
        open.erase(it);
    };
    for (std::size_t at = 0; at + mpegts::packet_size <= bytes.size(); at += mpegts::packet_size) {
        auto pkt = mpegts::parse_packet(bytes.subspan(at, mpegts::packet_size), at);
        EXPECT_TRUE(pkt) << pkt.error().to_string();
        if (!pkt) {
            return f;
        }
        const std::size_t index = f.packets++;
        if (pkt->pid == mpegts::null_pid) {
            ++f.null_packets;
            continue;
        }
        if (pkt->adaptation && pkt->adaptation->pcr) {
            f.pcrs.emplace_back(index, *pkt->adaptation->pcr);
        }
        if (pkt->has_payload) {
            if (auto it = last_cc.find(pkt->pid);
                it != last_cc.end() && pkt->continuity_counter != ((it->second + 1) & 0xF)) {
                ++f.cc_gaps;
            }
            last_cc[pkt->pid] = pkt->continuity_counter;
        }
        if (pkt->pid == mpegts::pat_pid || (pmt_pid && pkt->pid == *pmt_pid)) {
            for (const auto& s : sections[pkt->pid].push(*pkt)) {
                if (pkt->pid == mpegts::pat_pid) {
                    auto pat = mpegts::parse_pat(s);
                    EXPECT_TRUE(pat) << pat.error().to_string();
                    if (pat && !pat->programs.empty()) {
                        pmt_pid = pat->programs.front().pid;
                        f.pats.push_back(*pat);
                    }
                } else {
                    auto pmt = mpegts::parse_pmt(s);
                    EXPECT_TRUE(pmt) << pmt.error().to_string();
                    if (pmt) {
                        f.pmts.push_back(*pmt);
                    }
                }
            }
            continue;
        }
        if (!pkt->has_payload) {
            continue;
        }
        if (pkt->payload_unit_start) {
            close(pkt->pid);
            TsPes p;
            p.first_packet = index;
            p.random_access = pkt->adaptation && pkt->adaptation->random_access;
            p.has_pcr = pkt->adaptation && pkt->adaptation->pcr.has_value();
            open[pkt->pid] = std::move(p);
        }
        if (auto it = open.find(pkt->pid); it != open.end()) {
            it->second.payload.insert(it->second.payload.end(), pkt->payload.begin(), pkt->payload.end());
        }
    }
    while (!open.empty()) {
        close(open.begin()->first);
    }
    return f;
}

} // namespace parallax::check
