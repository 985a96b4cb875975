// A process on one side of ipcsink -> ipcsrc, for tests/integration/ipc_process_test.cpp.
//
//   ipc_peer_child produce <socket> <buffers>   fakesrc (64-byte buffers; -1: forever) ! ipcsink
//   ipc_peer_child consume <socket> <buffers>   ipcsrc ! fakesink; <buffers>: how many must arrive (-1: any)
//
// Exit codes: 0 done, 1 pipeline error, 2 usage, 3 timeout, 4 wrong count.
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

int main(int argc, char** argv) {
    using namespace parallax;
    if (argc != 4) {
        return 2;
    }
    const std::string_view mode = argv[1];
    const std::string socket = argv[2];
    const long buffers = std::strtol(argv[3], nullptr, 10);
    std::string description;
    if (mode == "produce") {
        description = fmt::format("fakesrc num-buffers={} sizetype=fixed sizemax=64 ! ipcsink socket-path={}", buffers,
                                  socket);
    } else if (mode == "consume") {
        description = fmt::format("ipcsrc socket-path={} ! fakesink", socket);
    } else {
        return 2;
    }
    auto pipeline = Pipeline::parse(description);
    if (!pipeline) {
        std::fprintf(stderr, "%s\n", pipeline.error().to_string().c_str());
        return 2;
    }
    // The consumer may start before the producer listens: retry the start.
    Result<void> ran;
    for (int attempt = 0; attempt < 200; ++attempt) {
        ran = (*pipeline)->run(std::chrono::seconds(30));
        if (ran || mode != "consume" || ran.error().message().find("cannot connect") == std::string::npos) {
            break;
        }
        (*pipeline)->set_state(State::suspended);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!ran) {
        std::fprintf(stderr, "%s\n", ran.error().to_string().c_str());
        return ran.error().is(Errc::timeout) ? 3 : 1;
    }
    if (mode == "consume" && buffers >= 0 &&
        (*pipeline)->progress().buffers != static_cast<std::uint64_t>(buffers)) {
        std::fprintf(stderr, "received %llu buffers, expected %ld\n",
                     static_cast<unsigned long long>((*pipeline)->progress().buffers), buffers);
        return 4;
    }
    return 0;
}
