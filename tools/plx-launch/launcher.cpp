#include "launcher.hpp"

#include <parallax/pipeline/pipeline.hpp>

#include "console.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <string>

namespace plx_launch {
namespace {

using namespace std::chrono_literals;
using parallax::Error;
using parallax::Message;
using parallax::MessageType;
using parallax::Pipeline;
using parallax::State;
using SteadyClock = std::chrono::steady_clock;

// ffmpeg refreshes its status line about this often.
constexpr auto refresh_interval = 250ms;

enum class Outcome { none, eos, error, interrupted };

class Launcher {
public:
    explicit Launcher(const Options& options)
        : options_(options), console_(options.quiet), signals_(io_, SIGINT, SIGTERM), timer_(io_) {}

    int run();

private:
    int print_plan();
    bool change_state(State target, std::string_view verb);
    int finish_run();
    int teardown(int status);

    void drain();
    void handle(const Message& m);
    void finish(Outcome outcome);
    void wait_for_signal();
    void on_signal(int signal_number);
    void schedule_tick();
    void tick();

    void print_error(const std::string& source, const Error& error, const std::string& detail);
    void print_property(const Message& m);
    void print_caps();
    [[nodiscard]] std::string element_path(std::string_view element) const;

    Options options_;
    Console console_;
    // The io_context runs on the main thread: bus messages, signals and the
    // progress timer all arrive there, so none of them needs a lock. It is
    // declared before the pipeline, which therefore goes first: a streaming
    // thread may still post to the bus (and so to io_) until then.
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer timer_;
    std::unique_ptr<Pipeline> pipeline_;

    Outcome outcome_ = Outcome::none;
    unsigned message_count_ = 0;
    unsigned interrupts_ = 0;
    bool waiting_for_eos_ = false;
    SteadyClock::time_point started_;
    std::map<const parallax::Pad*, std::string> printed_caps_;
};

int Launcher::run() {
    if (options_.description.find_first_not_of(" \t\r\n") == std::string::npos) {
        console_.err("ERROR: pipeline could not be constructed: empty pipeline not allowed.");
        return 1;
    }
    auto parsed = Pipeline::parse(options_.description);
    if (!parsed) {
        console_.err("ERROR: erroneous pipeline:");
        console_.err(parallax::format_pipeline_error(options_.description, parsed.error()));
        return 1;
    }
    pipeline_ = std::move(*parsed);
    if (options_.no_auto_convert) {
        pipeline_->set_converter_policy(parallax::ConverterPolicy::deny);
    }
    parallax::SchedulingOptions& scheduling = pipeline_->scheduling();
    scheduling.strategies.isolate.insert(scheduling.strategies.isolate.end(), options_.isolate.begin(),
                                         options_.isolate.end());
    scheduling.strategies.never_isolate = scheduling.strategies.never_isolate || options_.no_isolate;
    if (options_.sandbox) {
        scheduling.isolation.sandbox = *options_.sandbox;
    }
    if (options_.max_restarts) {
        scheduling.isolation.restart.max_restarts = *options_.max_restarts;
    }
    if (options_.worker_timeout) {
        scheduling.isolation.hang_timeout = *options_.worker_timeout;
    }
    scheduling.isolation.wait = options_.isolate_wait;
    if (options_.isolate_each) {
        scheduling.isolation.group_adjacent = false;
    }
    if (options_.plan) {
        return print_plan();
    }

    // Messages go from the posting thread to the main thread's io_context.
    pipeline_->bus().set_notify([this] { boost::asio::post(io_, [this] { drain(); }); });

    console_.status("Setting pipeline to PAUSED ...");
    if (!change_state(State::paused, "pause")) {
        return teardown(1);
    }
    drain();
    if (outcome_ == Outcome::none) {
        console_.status("Setting pipeline to RUNNING ...");
        if (!change_state(State::running, "run")) {
            return teardown(1);
        }
        started_ = SteadyClock::now();
    }
    return finish_run();
}

int Launcher::print_plan() {
    // The plan exists from idle on (thread boundaries are placed then).
    if (auto ok = pipeline_->set_state(State::idle); !ok) {
        print_error(ok.error().element().empty() ? pipeline_->name() : ok.error().element(), ok.error(), {});
        console_.err("ERROR: pipeline doesn't want to get ready.");
        return teardown(1);
    }
    std::string plan = pipeline_->plan();
    if (!plan.empty() && plan.back() == '\n') {
        plan.pop_back();
    }
    console_.out(plan);
    static_cast<void>(pipeline_->set_state(State::suspended));
    return 0;
}

bool Launcher::change_state(State target, std::string_view verb) {
    auto ok = pipeline_->set_state(target);
    if (ok) {
        return true;
    }
    // An element that failed usually posted the error too, with more detail:
    // show that one, and the returned error only when nothing was posted.
    drain();
    if (outcome_ != Outcome::error) {
        print_error(ok.error().element().empty() ? pipeline_->name() : ok.error().element(), ok.error(), {});
    }
    console_.err(fmt::format("ERROR: pipeline doesn't want to {}.", verb));
    return false;
}

int Launcher::finish_run() {
    if (outcome_ == Outcome::none) {
        drain();
    }
    if (outcome_ == Outcome::none) {
        wait_for_signal();
        if (console_.shows_progress() || options_.verbose) {
            schedule_tick();
        }
        io_.run();
    }
    const auto elapsed = SteadyClock::now() - started_;
    console_.clear_progress();
    if (options_.verbose) {
        print_caps();
    }
    if (started_ != SteadyClock::time_point{}) {
        console_.status(fmt::format(
            "Execution ended after {}",
            parallax::ClockTime::from_ns(static_cast<parallax::ClockTime::rep>(
                                             std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()))
                .to_string()));
    }
    return teardown(outcome_ == Outcome::error ? 1 : 0);
}

int Launcher::teardown(int status) {
    // Ctrl-C kills again from here on, should stopping hang.
    boost::system::error_code ignored;
    signals_.clear(ignored);
    timer_.cancel();
    pipeline_->bus().set_notify({});
    console_.status("Setting pipeline to SUSPENDED ...");
    if (auto ok = pipeline_->set_state(State::suspended); !ok) {
        console_.err(fmt::format("WARNING: could not suspend the pipeline: {}", ok.error().to_string()));
    }
    console_.status("Freeing pipeline ...");
    pipeline_.reset();
    return status;
}

void Launcher::drain() {
    while (outcome_ == Outcome::none) {
        auto m = pipeline_->bus().pop(std::chrono::nanoseconds(0));
        if (!m) {
            break;
        }
        handle(*m);
    }
}

std::string message_details(const Message& m) {
    switch (m.type) {
    case MessageType::error:
    case MessageType::warning:
    case MessageType::info: {
        std::string text = m.error ? m.error->message() : std::string();
        if (!m.detail.empty()) {
            text += fmt::format(" ({})", m.detail);
        }
        return text;
    }
    case MessageType::state_changed:
        return fmt::format("old-state={}, new-state={}", parallax::to_string(m.old_state),
                           parallax::to_string(m.new_state));
    default:
        return m.structure ? m.structure->to_string() : std::string("no message details");
    }
}

void Launcher::handle(const Message& m) {
    ++message_count_;
    if (options_.verbose) {
        // Caps travel with the data, ahead of what it causes: a new message
        // (eos, an error) is a good time to look.
        print_caps();
    }
    if (options_.messages) {
        console_.out(fmt::format("Got message #{} from element \"{}\" ({}): {}", message_count_, m.source,
                                 parallax::to_string(m.type), message_details(m)));
    }
    switch (m.type) {
    case MessageType::error:
        print_error(m.source, m.error ? *m.error : Error(parallax::Errc::failed, "unknown error"), m.detail);
        finish(Outcome::error);
        break;
    case MessageType::warning:
    case MessageType::info: {
        const bool warning = m.type == MessageType::warning;
        console_.err(fmt::format("{}: from element {}: {}", warning ? "WARNING" : "INFO", element_path(m.source),
                                 m.error ? m.error->message() : std::string()));
        if (!m.detail.empty()) {
            console_.err("Additional debug info:");
            console_.err(m.detail);
        }
        break;
    }
    case MessageType::eos:
        console_.status(fmt::format("Got EOS from element \"{}\".", m.source));
        if (waiting_for_eos_) {
            console_.status("EOS received - stopping pipeline...");
        }
        finish(Outcome::eos);
        break;
    case MessageType::latency:
        console_.status("Redistribute latency...");
        break;
    case MessageType::property_notify:
        if (options_.verbose) {
            print_property(m);
        }
        break;
    default:
        break;
    }
}

void Launcher::finish(Outcome outcome) {
    if (outcome_ != Outcome::none) {
        return;
    }
    outcome_ = outcome;
    io_.stop();
}

void Launcher::wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
        if (!ec) {
            on_signal(signal_number);
        }
    });
}

void Launcher::on_signal(int signal_number) {
    if (signal_number == SIGTERM) {
        console_.status("Caught SIGTERM: stopping pipeline ...");
        finish(Outcome::interrupted);
        return;
    }
    ++interrupts_;
    if (interrupts_ > 1) {
        console_.status("Interrupt while waiting for EOS - stopping pipeline ...");
        finish(Outcome::interrupted);
        return;
    }
    console_.status("handling interrupt.");
    console_.status("Interrupt: Stopping pipeline ...");
    if (!options_.eos_on_shutdown) {
        finish(Outcome::interrupted);
        return;
    }
    console_.status("EOS on shutdown enabled -- Forcing EOS on the pipeline");
    pipeline_->send_eos();
    console_.status("Waiting for EOS...");
    waiting_for_eos_ = true;
    wait_for_signal();
}

void Launcher::schedule_tick() {
    timer_.expires_after(refresh_interval);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            tick();
        }
    });
}

void Launcher::tick() {
    if (outcome_ != Outcome::none) {
        return;
    }
    if (options_.verbose) {
        print_caps();
    }
    console_.progress(pipeline_->progress(), SteadyClock::now() - started_);
    schedule_tick();
}

void Launcher::print_error(const std::string& source, const Error& error, const std::string& detail) {
    console_.err(fmt::format("ERROR: from element {}: {}", element_path(source), error.message()));
    console_.err("Additional debug info:");
    if (!detail.empty()) {
        console_.err(detail);
        return;
    }
    // No detail from the element: say where and what kind of error it is
    // (in words: the message above already says what to do).
    std::string where = error.element().empty() ? source : error.element();
    if (!error.pad().empty()) {
        where += ":" + error.pad();
    }
    console_.err(fmt::format("{}: {}", where, error.code().message()));
}

void Launcher::print_property(const Message& m) {
    if (!m.structure) {
        return;
    }
    // The structure is named after the property; its "value" field holds
    // the new value.
    std::string value;
    if (auto text = m.structure->get_string("value")) {
        value = std::string(*text);
    } else if (const auto* v = m.structure->get("value")) {
        value = v->to_string();
    } else {
        value = m.structure->to_string();
    }
    console_.out(fmt::format("{}: {} = {}", element_path(m.source), m.structure->name(), value));
}

void Launcher::print_caps() {
    for (parallax::Element* e : pipeline_->elements()) {
        for (const parallax::Pad* pad : e->pads()) {
            if (!pad->is_linked()) {
                continue;
            }
            const parallax::Caps caps = pad->current_caps();
            if (caps.is_empty()) {
                continue;
            }
            std::string text = caps.to_string();
            std::string& printed = printed_caps_[pad];
            if (printed == text) {
                continue;
            }
            console_.out(fmt::format("{}.GstPad:{}: caps = {}", element_path(e->name()), pad->name(), text));
            printed = std::move(text);
        }
    }
}

std::string Launcher::element_path(std::string_view element) const {
    if (element.empty() || element == pipeline_->name()) {
        return fmt::format("/{}", pipeline_->name());
    }
    return fmt::format("/{}/{}", pipeline_->name(), element);
}

} // namespace

int launch(const Options& options) {
    Launcher launcher(options);
    return launcher.run();
}

} // namespace plx_launch
