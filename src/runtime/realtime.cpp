#include "runtime/realtime.hpp"

#include <parallax/base/log.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sched.h>
#include <set>
#include <sys/resource.h>
#include <system_error>

namespace parallax {
namespace {

// Set once on a real-time task thread before its first step; read by test
// hooks from inside operator new, so it must stay a plain thread_local.
thread_local bool real_time_thread = false;

LogCategory realtime_log("realtime", "real-time streaming threads");

} // namespace

bool on_real_time_thread() noexcept {
    return real_time_thread;
}

namespace detail {

void mark_real_time_thread() noexcept {
    real_time_thread = true;
}

void name_thread(pthread_t thread, std::string_view name) noexcept {
    char buf[16] = {};
    const std::size_t n = std::min(name.size(), sizeof buf - 1);
    std::memcpy(buf, name.data(), n);
    static_cast<void>(pthread_setname_np(thread, buf));
}

RealTimeOutcome make_real_time(pthread_t thread, int priority) {
    const int lo = sched_get_priority_min(SCHED_FIFO);
    const int hi = sched_get_priority_max(SCHED_FIFO);
    const int wanted = std::clamp(priority, lo, hi);
    sched_param param{};
    param.sched_priority = wanted;
    int err = pthread_setschedparam(thread, SCHED_FIFO, &param);
    rlimit limit{};
    const bool have_limit = getrlimit(RLIMIT_RTPRIO, &limit) == 0;
    const auto rtprio = have_limit ? limit.rlim_cur : RLIM_INFINITY;
    if (err == EPERM && have_limit && rtprio != RLIM_INFINITY && rtprio >= static_cast<rlim_t>(lo) &&
        rtprio < static_cast<rlim_t>(wanted)) {
        // Without CAP_SYS_NICE a thread may go up to RLIMIT_RTPRIO: take that.
        param.sched_priority = static_cast<int>(rtprio);
        err = pthread_setschedparam(thread, SCHED_FIFO, &param);
    }
    RealTimeOutcome out;
    if (err == 0) {
        out.granted = true;
        out.priority = param.sched_priority;
        out.text = param.sched_priority == wanted
                       ? fmt::format("real-time (SCHED_FIFO {})", wanted)
                       : fmt::format("real-time (SCHED_FIFO {}, lowered from {} by RLIMIT_RTPRIO)",
                                     param.sched_priority, wanted);
        return out;
    }
    const std::string limit_text =
        !have_limit || rtprio == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rtprio);
    if (err == EPERM) {
        out.why = rtprio == 0 || !have_limit
                      ? fmt::format("SCHED_FIFO {} is not permitted: RLIMIT_RTPRIO is {} and the process lacks "
                                    "CAP_SYS_NICE (raise rtprio in /etc/security/limits.conf, or grant the "
                                    "capability)",
                                    wanted, limit_text)
                      : fmt::format("SCHED_FIFO {} is not permitted (RLIMIT_RTPRIO is {}): the cgroup may grant no "
                                    "real-time runtime (cpu.rt_runtime_us)",
                                    param.sched_priority, limit_text);
    } else {
        out.why = fmt::format("SCHED_FIFO {} failed: {}", wanted, std::generic_category().message(err));
    }
    out.text = "real-time refused: " + out.why + "; runs at normal priority";
    return out;
}

RealTimeThreads::Drivers RealTimeThreads::drivers(const std::vector<Element*>& elements,
                                                  const SchedulingOptions& options,
                                                  const std::function<bool(const Element&)>& is_real_time) {
    Drivers out;
    if (!options.real_time) {
        return out;
    }
    for (const Element* e : elements) {
        if (!is_real_time(*e)) {
            continue;
        }
        if (e->drives_src_pads()) {
            out.emplace(e, e);
            continue;
        }
        // Up the links to the element(s) whose thread calls chain() here.
        std::vector<const Element*> todo{e};
        std::set<const Element*> seen;
        while (!todo.empty()) {
            const Element* x = todo.back();
            todo.pop_back();
            if (!seen.insert(x).second) {
                continue;
            }
            for (const Pad* p : x->sink_pads()) {
                if (const Pad* up = p->peer()) {
                    const Element& u = up->element();
                    if (u.drives_src_pads()) {
                        out.emplace(&u, e);
                    } else {
                        todo.push_back(&u);
                    }
                }
            }
        }
    }
    return out;
}

void RealTimeThreads::prepare(Drivers drivers) {
    std::lock_guard lock(mutex_);
    drivers_ = std::move(drivers);
    outcomes_.clear();
}

const Element* RealTimeThreads::fed_by(const Element& driver) const {
    std::lock_guard lock(mutex_);
    auto it = drivers_.find(&driver);
    return it != drivers_.end() ? it->second : nullptr;
}

std::optional<Message> RealTimeThreads::start(const Element& driver, pthread_t thread, std::string_view task_name,
                                              const SchedulingOptions& options) {
    const Element* rt = fed_by(driver);
    if (rt == nullptr) {
        name_thread(thread, task_name);
        return std::nullopt;
    }
    name_thread(thread, "plx-rt:" + rt->name());
    RealTimeOutcome outcome = make_real_time(thread, options.real_time_priority);
    std::lock_guard lock(mutex_);
    std::optional<Message> warning;
    if (!outcome.granted && !refusal_warned_) {
        refusal_warned_ = true;
        std::string text =
            fmt::format("{} runs at normal priority, not on a real-time thread: {}", rt->name(), outcome.why);
        PARALLAX_WARNING(realtime_log, "{}", text);
        warning = Message::make_warning(rt->name(), std::move(text));
    } else if (outcome.granted) {
        PARALLAX_INFO(realtime_log, "{}: thread of {} is {}", rt->name(), driver.name(), outcome.text);
    }
    outcomes_[&driver] = std::move(outcome);
    return warning;
}

std::string RealTimeThreads::describe(const Element& driver, const Drivers& rt,
                                      const SchedulingOptions& options) const {
    auto it = rt.find(&driver);
    if (it == rt.end()) {
        return {};
    }
    std::lock_guard lock(mutex_);
    if (auto o = outcomes_.find(&driver); o != outcomes_.end() && drivers_.contains(&driver)) {
        return fmt::format(", {} for {}", o->second.text, it->second->name());
    }
    return fmt::format(", real-time for {} (SCHED_FIFO {} asked when its thread starts)", it->second->name(),
                       options.real_time_priority);
}

} // namespace detail
} // namespace parallax
