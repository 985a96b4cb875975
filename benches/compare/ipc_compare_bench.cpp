// ipcsink -> ipcsrc against GStreamer's shmsink -> shmsrc, each as two
// processes (the producer is this program started again with --produce):
//
//   small      64-byte buffers, as fast as they go: buffers/s at the consumer
//   latency    one live 64-byte buffer per millisecond: median one-way latency
//              (the producer's streaming thread sleeps 1 ms, writes
//              CLOCK_MONOTONIC into the payload and pushes: fakesrc's handoff
//              in GStreamer, a source element of this program in
//              libparallax; the consumer reads the stamp on arrival).
//              latency-predict and latency-spin: the same with ipcsrc
//              wait-mode=predict / spin (GStreamer has no such mode: its
//              column repeats the plain case)
//   1080p      1920x1080 RGBA frames (8 MiB): fps when the producer writes
//              every frame (filltype=zero), and fps when it does not touch
//              them (filltype=nothing)
//
// Time runs from the consumer reaching PLAYING/running to its eos. Run from
// benches/compare/run_ipc.sh, or directly: ipc_compare_bench [repetitions].
// shmsink/shmsrc come with gstreamer1.0-plugins-bad.
#include <parallax/element.hpp>
#include <parallax/elements/flow/fakesink.hpp>
#include <parallax/parallax.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <gst/gst.h>
#include <mutex>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

constexpr std::size_t frame_bytes = 1920 * 1080 * 4;
constexpr int latency_buffers = 1000;

std::int64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string self_path() {
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

pid_t spawn_producer(const std::vector<std::string>& args) {
    std::string self = self_path();
    std::vector<char*> argv{self.data()};
    std::vector<std::string> copy = args;
    for (auto& a : copy) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = -1;
    posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ);
    return pid;
}

// Waits up to `grace` for the producer to exit, then kills it: a GStreamer
// pair that deadlocked (shmsink / shmsrc, see benches/RESULTS.md) must not
// hold the bench up beyond its time-outs.
void reap_producer(pid_t child, std::chrono::seconds grace) {
    const auto until = std::chrono::steady_clock::now() + grace;
    while (::waitpid(child, nullptr, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
            std::fprintf(stderr, "producer %d did not finish: killed\n", static_cast<int>(child));
            ::kill(child, SIGKILL);
            ::waitpid(child, nullptr, 0);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

bool is_latency(const std::string& kind) {
    return kind.starts_with("latency");
}

// --- producers (child processes) -------------------------------------------

// What fakesrc with a handoff that sleeps 1 ms and stamps the buffer does in
// the GStreamer producer: the stamp is taken on the streaming thread that
// pushes the buffer into the sink.
class StampSrc final : public parallax::SimpleSource {
public:
    static constexpr parallax::ElementInfo info{
        .factory = "benchstampsrc", .klass = "Source", .summary = "64-byte buffers stamped with CLOCK_MONOTONIC"};

protected:
    parallax::Flow create(parallax::Buffer& out, parallax::SourceContext& ctx) override {
        if (sent_++ >= num_buffers_.get()) {
            return parallax::Flow::eos;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        auto b = ctx.allocate(64);
        if (!b) {
            return ctx.error(b.error());
        }
        auto bytes = b->map_writable();
        const std::int64_t now = mono_ns();
        std::memcpy(bytes->data(), &now, 8);
        out = std::move(*b);
        return parallax::Flow::ok;
    }

private:
    std::int32_t sent_ = 0;
    parallax::Property<std::int32_t> num_buffers_{this, "num-buffers", 1000, "Buffers to send"};
};
PARALLAX_REGISTER_ELEMENT(StampSrc);

int produce_parallax(const std::string& kind, const std::string& socket, long n) {
    using namespace parallax;
    if (is_latency(kind)) {
        auto p = Pipeline::parse(fmt::format("benchstampsrc num-buffers={} ! ipcsink socket-path={}", n, socket));
        return p && (*p)->run(std::chrono::seconds(120)) ? 0 : 1;
    }
    const std::string fill = kind == "frames-written" ? "zero" : "nothing";
    const std::size_t size = kind == "small" ? 64 : frame_bytes;
    auto p = Pipeline::parse(fmt::format("fakesrc num-buffers={} sizetype=fixed sizemax={} filltype={} ! ipcsink "
                                         "socket-path={}",
                                         n, size, fill, socket));
    if (!p) {
        return 1;
    }
    return (*p)->run(std::chrono::seconds(120)) ? 0 : 1;
}

void gst_stamp(GstElement*, GstBuffer* buffer, GstPad*, gpointer) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
        const std::int64_t now = mono_ns();
        std::memcpy(map.data, &now, 8);
        gst_buffer_unmap(buffer, &map);
    }
}

int produce_gstreamer(const std::string& kind, const std::string& socket, long n) {
    gst_init(nullptr, nullptr);
    const std::size_t size = (kind == "small" || is_latency(kind)) ? 64 : frame_bytes;
    const std::string fill = kind == "frames-written" ? "zero" : "nothing";
    // Room for 64 buffers in the shared area (shmsink copies into it).
    const std::string desc =
        fmt::format("fakesrc name=src num-buffers={} sizetype=fixed sizemax={} filltype={} {} ! shmsink socket-path={} "
                    "wait-for-connection=true sync=false shm-size={}",
                    n, size, fill, is_latency(kind) ? "signal-handoffs=true" : "", socket,
                    std::max<std::size_t>(size * 64, 1 << 20));
    GError* err = nullptr;
    GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
    if (pipeline == nullptr) {
        return 1;
    }
    if (is_latency(kind)) {
        GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
        g_signal_connect(src, "handoff", G_CALLBACK(gst_stamp), nullptr);
        gst_object_unref(src);
    }
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstBus* bus = gst_element_get_bus(pipeline);
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, 120 * GST_SECOND,
                                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    // Give the consumer time to take the last buffers before the area goes.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (msg != nullptr) {
        gst_message_unref(msg);
    }
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    return 0;
}

// --- consumers (this process) -----------------------------------------------

struct Outcome {
    double seconds = 0;
    std::uint64_t buffers = 0;
    std::vector<double> latencies_us;
};

Outcome consume_parallax(const std::string& kind, const std::string& socket, long n) {
    using namespace parallax;
    Outcome out;
    const pid_t child = spawn_producer({"--produce", "parallax", kind, socket, std::to_string(n)});
    const char* wait = kind == "latency-predict" ? "predict" : kind == "latency-spin" ? "spin" : "sleep";
    auto p = Pipeline::parse(fmt::format("ipcsrc socket-path={} wait-mode={} ! fakesink name=sink signal-handoffs={}",
                                         socket, wait, is_latency(kind) ? "true" : "false"));
    std::mutex m;
    if (is_latency(kind)) {
        auto sink = (*p)->get<FakeSink>("sink");
        (*sink)->set_handoff([&](const Buffer& b, Pad&) {
            std::int64_t sent = 0;
            std::memcpy(&sent, b.data().data(), 8);
            const double us = static_cast<double>(mono_ns() - sent) / 1000.0;
            std::lock_guard lock(m);
            out.latencies_us.push_back(us);
        });
    }
    Result<void> started;
    for (int i = 0; i < 500; ++i) {
        started = (*p)->set_state(State::running);
        if (started) {
            break;
        }
        (*p)->set_state(State::suspended);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto t0 = std::chrono::steady_clock::now();
    (*p)->bus().pop({MessageType::eos, MessageType::error}, std::chrono::seconds(120));
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.buffers = (*p)->progress().buffers;
    (*p)->set_state(State::suspended);
    reap_producer(child, std::chrono::seconds(10));
    return out;
}

void gst_sample(GstElement*, GstBuffer* buffer, GstPad*, gpointer data) {
    auto* out = static_cast<Outcome*>(data);
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
        std::int64_t sent = 0;
        std::memcpy(&sent, map.data, 8);
        gst_buffer_unmap(buffer, &map);
        out->latencies_us.push_back(static_cast<double>(mono_ns() - sent) / 1000.0);
    }
}

Outcome consume_gstreamer(const std::string& kind, const std::string& socket, long n) {
    Outcome out;
    ::unlink(socket.c_str());
    const pid_t child = spawn_producer({"--produce", "gstreamer", kind, socket, std::to_string(n)});
    for (int i = 0; i < 500 && ::access(socket.c_str(), F_OK) != 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::string desc =
        fmt::format("shmsrc socket-path={} is-live={} ! fakesink name=sink sync=false num-buffers={} {}", socket,
                    is_latency(kind) ? "true" : "false", n, is_latency(kind) ? "signal-handoffs=true" : "");
    GstElement* pipeline = gst_parse_launch(desc.c_str(), nullptr);
    if (is_latency(kind)) {
        GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
        g_signal_connect(sink, "handoff", G_CALLBACK(gst_sample), &out);
        gst_object_unref(sink);
    }
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    const auto t0 = std::chrono::steady_clock::now();
    GstBus* bus = gst_element_get_bus(pipeline);
    // GStreamer's pair moves 300 000 small buffers in about 2 s when it does
    // not deadlock: a minute is ample for every case.
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (msg != nullptr) {
        if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
            out.buffers = static_cast<std::uint64_t>(n);
        }
        gst_message_unref(msg);
    }
    const bool stalled = out.buffers == 0;
    if (stalled) {
        // The producer goes first: shmsrc of a stalled pair leaves its
        // state change only once the socket closes.
        std::fprintf(stderr, "%s GStreamer: no end of stream within the time-out (stalled)\n", kind.c_str());
        reap_producer(child, std::chrono::seconds(1));
    }
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
    if (!stalled) {
        // shmsink's own shutdown waits for this consumer to leave.
        reap_producer(child, std::chrono::seconds(10));
    }
    return out;
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// "p10 / p50 / p90 / p99" of the samples.
std::string percentiles(std::vector<double> v) {
    if (v.empty()) {
        return "no samples";
    }
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) { return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
    return fmt::format("p10 {:.1f} / p50 {:.1f} / p90 {:.1f} / p99 {:.1f}", at(0.1), at(0.5), at(0.9), at(0.99));
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 6 && std::strcmp(argv[1], "--produce") == 0) {
        const long n = std::strtol(argv[5], nullptr, 10);
        return std::strcmp(argv[2], "parallax") == 0 ? produce_parallax(argv[3], argv[4], n)
                                                     : produce_gstreamer(argv[3], argv[4], n);
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    gst_init(&argc, &argv);
    const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
    const std::string plx_socket = fmt::format("@plx-ipc-bench-{}", ::getpid());
    const std::string gst_socket = fmt::format("/tmp/gst-ipc-bench-{}", ::getpid());
    struct Case {
        const char* name;
        const char* kind;
        long plx_n;
        long gst_n;
        const char* unit;
    };
    const Case cases[] = {
        {"64-byte buffers", "small", 1'000'000, 300'000, "buffers/s"},
        {"live 64-byte, one-way", "latency", latency_buffers, latency_buffers, "us (median)"},
        {"  ipcsrc wait-mode=predict", "latency-predict", latency_buffers, latency_buffers, "us (median)"},
        {"  ipcsrc wait-mode=spin", "latency-spin", latency_buffers, latency_buffers, "us (median)"},
        {"1080p RGBA, written", "frames-written", 300, 300, "fps"},
        {"1080p RGBA, untouched", "frames-untouched", 20'000, 300, "fps"},
    };
    std::printf("%-24s%20s%20s   %s\n", "case", "libparallax", "GStreamer", "unit (median of runs)");
    const std::string only = argc > 2 ? argv[2] : "";
    for (const Case& c : cases) {
        if (!only.empty() && !std::string(c.kind).starts_with(only)) {
            continue;
        }
        std::vector<double> plx;
        std::vector<double> gst;
        for (int r = 0; r < reps; ++r) {
            const Outcome a = consume_parallax(c.kind, plx_socket + std::to_string(r) + c.kind, c.plx_n);
            std::fprintf(stderr, "%s libparallax: %llu buffers in %.3f s\n", c.kind,
                         static_cast<unsigned long long>(a.buffers), a.seconds);
            const Outcome b = consume_gstreamer(c.kind, gst_socket + std::to_string(r) + c.kind, c.gst_n);
            std::fprintf(stderr, "%s GStreamer: %llu buffers in %.3f s\n", c.kind,
                         static_cast<unsigned long long>(b.buffers), b.seconds);
            if (is_latency(c.kind)) {
                std::fprintf(stderr, "%s one-way us: libparallax %s, GStreamer %s\n", c.kind,
                             percentiles(a.latencies_us).c_str(), percentiles(b.latencies_us).c_str());
                plx.push_back(median(a.latencies_us));
                gst.push_back(median(b.latencies_us));
            } else {
                plx.push_back(a.seconds > 0 ? static_cast<double>(a.buffers) / a.seconds : 0);
                gst.push_back(b.seconds > 0 ? static_cast<double>(b.buffers) / b.seconds : 0);
            }
        }
        std::printf("%-24s%20.1f%20.1f   %s\n", c.name, median(plx), median(gst), c.unit);
        std::fflush(stdout);
    }
    return 0;
}
