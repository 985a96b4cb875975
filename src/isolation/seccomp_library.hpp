#pragma once

// libseccomp, opened when an isolated element's worker builds its filter or
// the parent names a denied call (parallax/base/runtime_library.hpp says
// why). The worker opens it before the sandbox forbids opening files.

#include <parallax/base/runtime_library.hpp>

#include <seccomp.h>

namespace parallax {

#define PARALLAX_SECCOMP_ENTRIES(X)                                                                                    \
    X(seccomp_init)                                                                                                    \
    X(seccomp_release)                                                                                                 \
    X(seccomp_attr_set)                                                                                                \
    X(seccomp_rule_add_array)                                                                                          \
    X(seccomp_load)                                                                                                    \
    X(seccomp_syscall_resolve_name)                                                                                    \
    X(seccomp_syscall_resolve_num_arch)

PARALLAX_DECLARE_RUNTIME_LIBRARY(seccomp_library, SeccompLibrary, PARALLAX_SECCOMP_ENTRIES)

} // namespace parallax
