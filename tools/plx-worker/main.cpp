// plx-worker: the process an isolated element runs in. Started by the
// pipeline (never by hand) with its control socket as fd 3; see
// docs/design/isolation.md.

#include <parallax/element/registry.hpp>

#include "isolation/worker.hpp"

#include <cstdio>
#include <cstring>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::puts("plx-worker: runs one isolated element for a libparallax pipeline.\n"
                  "It is started by the pipeline with its control socket as fd 3; it is not meant to be run by hand.");
        return 0;
    }
    // Elements of plugins run isolated too: load them as plx-launch does.
    static_cast<void>(parallax::Registry::global().load_plugins());
    const int status = parallax::detail::run_worker(3);
    // Straight out: the sandbox is still in place, and exit-time work of
    // runtimes (a leak checker that stops the world with ptrace, static
    // destructors of elements) has nothing left to do here and may be refused.
    std::fflush(nullptr);
    ::_exit(status);
}
