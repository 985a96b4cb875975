#pragma once

// PARALLAX_TEST_SANITIZER is 1 in builds with ASan, TSan or MSan: their
// runtimes reserve terabytes of address space and make system calls of
// their own, so tests of address-space limits skip there (saying why).

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define PARALLAX_TEST_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PARALLAX_TEST_SANITIZER 1
#endif
