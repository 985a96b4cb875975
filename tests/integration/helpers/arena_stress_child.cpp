// A participant that the multi-process test starts and kills at random
// moments. It maps the arena given as fd 3, then forever acquires slots,
// stamps them with its pid and a nonce, clones and drops references, hands
// references to the parent through the report's mailbox, and checks that the
// stamp of every slot it holds is still its own. Counters go to the report
// segment given as fd 4 (see arena_kill_test.cpp).
#include <parallax/memory/arena.hpp>

#include "../arena_stress_report.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

using parallax::stress::Report;
using parallax::stress::Stamp;
namespace stress = parallax::stress;

struct Held {
    parallax::SlotIndex slot;
    std::uint32_t refs;
    Stamp stamp;
};

} // namespace

int main() {
    void* raw = ::mmap(nullptr, sizeof(Report), PROT_READ | PROT_WRITE, MAP_SHARED, 4, 0);
    if (raw == MAP_FAILED) {
        std::perror("mapping the report segment");
        return 2;
    }
    auto* report = static_cast<Report*>(raw);
    auto arena = parallax::Arena::attach(parallax::UniqueFd(3));
    if (!arena) {
        std::fprintf(stderr, "attach: %s\n", arena.error().to_string().c_str());
        return 3;
    }
    report->started.fetch_add(1);
    auto& a = **arena;
    const auto pid = static_cast<std::uint32_t>(::getpid());
    std::mt19937_64 rng(pid);
    std::vector<Held> held;
    std::uint64_t nonce = 0;

    auto verify = [&](const Held& h) {
        if (std::memcmp(a.slot_data(h.slot), &h.stamp, sizeof(Stamp)) != 0) {
            Stamp found{};
            std::memcpy(&found, a.slot_data(h.slot), sizeof(Stamp));
            std::fprintf(stderr, "slot %u: stamped by %u, now holds %u's stamp: two owners at once\n", h.slot, pid,
                         found.pid);
            report->violations.fetch_add(1);
        }
    };

    for (;;) {
        const auto op = rng() % 10;
        if (op < 4 && held.size() < 8) {
            auto slot = a.try_acquire();
            if (!slot) {
                // acquire() reclaims from the dead when the arena is full.
                auto reclaimed = a.acquire();
                if (!reclaimed) {
                    continue;
                }
                slot = *reclaimed;
            }
            Held h{*slot, 1, Stamp{pid, 0, ++nonce}};
            std::memcpy(a.slot_data(h.slot), &h.stamp, sizeof(Stamp));
            report->acquisitions.fetch_add(1);
            held.push_back(h);
        } else if (op < 6 && !held.empty()) {
            Held& h = held[rng() % held.size()];
            a.retain(h.slot);
            ++h.refs;
        } else if (!held.empty()) {
            const std::size_t i = rng() % held.size();
            Held& h = held[i];
            verify(h);
            a.release(h.slot);
            if (--h.refs == 0) {
                held[i] = held.back();
                held.pop_back();
            }
        }
        if (op == 9 && rng() % 4 == 0 && !held.empty() && report->parent_handle.load() != 0) {
            // Hand one reference to the parent: claim a mailbox entry, credit
            // the reference, then mark the entry ready. A kill in between
            // leaves a pending entry the parent resolves.
            const Held& h = held[rng() % held.size()];
            const std::uint32_t e = static_cast<std::uint32_t>(rng() % stress::mailbox_entries);
            std::uint64_t empty = 0;
            if (report->mailbox[e].compare_exchange_strong(empty,
                                                           stress::make_entry(stress::entry_pending, h.slot, pid))) {
                report->mailbox_nonce[e].store(h.stamp.nonce);
                const std::uint64_t word = report->parent_handle.load();
                const parallax::ParticipantHandle parent{static_cast<std::uint32_t>(word & 0xFFFFFFFFU),
                                                         static_cast<std::uint32_t>(word >> 32U)};
                if ((*arena)->share(h.slot, parent)) {
                    report->mailbox[e].store(stress::make_entry(stress::entry_ready, h.slot, pid));
                    report->shared.fetch_add(1);
                } else {
                    report->mailbox[e].store(0);
                }
            }
        }
        if (!held.empty()) {
            verify(held[rng() % held.size()]);
        }
    }
}
