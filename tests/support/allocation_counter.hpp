#pragma once

// Counts heap allocations made by the current thread, for tests that prove a
// path allocates nothing. Every test program links allocation_counter.cpp,
// which replaces the global operator new/delete with plain forwarding to
// malloc/free that counts only while an AllocationCounter lives on the
// calling thread.

#include <cstddef>

namespace parallax::check {

class AllocationCounter {
public:
    AllocationCounter();
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;
    ~AllocationCounter();

    /// Allocations on this thread since construction.
    [[nodiscard]] std::size_t count() const;
};

} // namespace parallax::check
