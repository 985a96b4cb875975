// Snapshots: five frames of test video, each written to a PNG file of its
// own. The pipeline is built in C++; in gst-launch text it reads
//
//   videotestsrc num-buffers=5 pattern=ball ! videoconvert ! pngenc
//       ! multifilesink location=<dir>/frame%05d.png
//
// The program prints the files it wrote and their sizes, then removes them.
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace {

int report(const parallax::Error& e) {
    fmt::print(stderr, "error: {}\n", e.to_string());
    return EXIT_FAILURE;
}

} // namespace

int main() {
    using namespace std::chrono_literals;
    namespace fs = std::filesystem;

    // A directory of our own (the process id keeps concurrent runs apart).
    const fs::path dir = fs::temp_directory_path() / fmt::format("plx-snapshot-{}", ::getpid());
    fs::create_directories(dir);

    // videoconvert turns videotestsrc's output into a format pngenc takes
    // (RGBA, RGB, GRAY8 or GRAY16_LE); negotiation picks which. The %05d of
    // the location is replaced by each file's index: frame00000.png, ...
    auto pipeline = parallax::Pipeline::create("snapshot");
    auto chain = pipeline->chain()
                     .then("videotestsrc", {{"num-buffers", 5}, {"pattern", "ball"}})
                     .then("videoconvert")
                     .then("pngenc", {{"compression-level", 6}})
                     .then("multifilesink", {{"location", (dir / "frame%05d.png").string()}})
                     .done();
    if (!chain) {
        return report(chain.error());
    }
    // run() plays the pipeline until end of stream (or the timeout).
    if (auto ok = pipeline->run(30s); !ok) {
        return report(ok.error());
    }

    int files = 0;
    for (int i = 0; i < 5; ++i) {
        const fs::path file = dir / fmt::format("frame{:05}.png", i);
        std::error_code ec;
        const auto size = fs::file_size(file, ec);
        if (ec) {
            fmt::print(stderr, "error: {} is missing: {}\n", file.string(), ec.message());
            continue;
        }
        fmt::print("{} ({} bytes)\n", file.string(), size);
        ++files;
    }

    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return files == 5 ? EXIT_SUCCESS : EXIT_FAILURE;
}
