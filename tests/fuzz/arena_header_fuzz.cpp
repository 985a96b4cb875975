// Arena::attach reads a memfd that another, possibly hostile, process wrote.
// The input becomes such a memfd (sealed, as attach demands); whatever it
// holds, attach must either refuse it with an Error or map it so that
// acquire, retain, release, reclaim and stats stay within the mapping.
#include <parallax/memory/arena.hpp>

#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    parallax::UniqueFd fd(::memfd_create("fuzz-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) {
        return 0;
    }
    if (size > 0 && ::write(fd.get(), data, size) != static_cast<ssize_t>(size)) {
        return 0;
    }
    ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
    auto arena = parallax::Arena::attach(std::move(fd));
    if (!arena) {
        if (arena.error().message().empty()) {
            std::abort(); // every refusal must say why
        }
        return 0;
    }
    parallax::Arena& a = **arena;
    for (int i = 0; i < 4; ++i) {
        if (auto slot = a.try_acquire()) {
            if (*slot >= a.slot_count()) {
                std::abort();
            }
            a.slot_data(*slot)[0] = std::byte{1};
            a.slot_data(*slot)[a.slot_size() - 1] = std::byte{1};
            a.retain(*slot);
            a.release(*slot);
            a.release(*slot);
        }
    }
    (void)a.stats();
    (void)a.participants();
    (void)a.reclaim_dead();
    return 0;
}
