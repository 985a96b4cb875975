#pragma once

/// \file
/// Logging: named categories whose levels come from `PARALLAX_DEBUG`, in the
/// style of GST_DEBUG (`arena:5,queue*:4,*:2`). Off by default; a disabled
/// log statement costs one relaxed load and a compare, and its arguments are
/// not evaluated. The library writes to stderr (never stdout), or to the sink
/// the application installs.

#include <parallax/base/export.hpp>
#include <parallax/base/result.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace parallax {

/// Levels, numbered as GStreamer numbers them.
enum class LogLevel : std::uint8_t {
    none = 0,
    error = 1,
    warning = 2,
    fixme = 3,
    info = 4,
    debug = 5,
    log = 6,
    trace = 7,
    memdump = 9,
};

/// "ERROR", "WARN", "FIXME", "INFO", "DEBUG", "LOG", "TRACE", "MEMDUMP", "NONE".
PARALLAX_API const char* to_string(LogLevel level) noexcept;

/// A named category of log messages ("arena", "queue"). Declare one per
/// layer or element family, at namespace scope, and log through the macros
/// below. Its level follows the current spec (set_log_spec(), or
/// `PARALLAX_DEBUG` read once when the first category is created).
class PARALLAX_API LogCategory {
public:
    LogCategory(std::string_view name, std::string_view description);
    LogCategory(const LogCategory&) = delete;
    LogCategory& operator=(const LogCategory&) = delete;
    ~LogCategory();

    /// True when messages of `level` are written. Called from: any thread.
    [[nodiscard]] bool enabled(LogLevel level) const noexcept {
        return level != LogLevel::none &&
               static_cast<std::uint8_t>(level) <= threshold_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& description() const noexcept { return description_; }
    [[nodiscard]] LogLevel level() const noexcept {
        return static_cast<LogLevel>(threshold_.load(std::memory_order_relaxed));
    }
    /// Overrides the spec for this category until the next set_log_spec().
    void set_level(LogLevel level) noexcept { threshold_.store(static_cast<std::uint8_t>(level)); }

private:
    std::string name_;
    std::string description_;
    std::atomic<std::uint8_t> threshold_{0};
};

/// Applies a spec in GST_DEBUG syntax: comma-separated `pattern:level`
/// entries, where the pattern is a category name with `*` and `?` wildcards
/// and the level a number 0-9 or a name (`warning`, `WARN`, …); a bare level
/// means `*:level`. Later entries win over earlier ones. A malformed spec is
/// an Error naming the entry and its position; nothing is changed then.
PARALLAX_API Result<void> set_log_spec(std::string_view spec);

/// One message, as a sink receives it.
struct LogRecord {
    const LogCategory* category = nullptr;
    LogLevel level = LogLevel::none;
    const char* file = "";
    int line = 0;
    std::string_view message;
};

/// Receives every message written. Called from: the thread that logs; the
/// sink must be thread-safe. **Ownership:** the library keeps a copy.
using LogSink = std::function<void(const LogRecord&)>;

/// Replaces where messages go; an empty sink restores the default (stderr).
PARALLAX_API void set_log_sink(LogSink sink);

namespace detail {

PARALLAX_API void log_write(const LogCategory& category, LogLevel level, const char* file, int line,
                            fmt::string_view format, fmt::format_args args);

template <typename... Args>
void log_format(const LogCategory& category, LogLevel level, const char* file, int line,
                fmt::format_string<Args...> format, Args&&... args) {
    log_write(category, level, file, line, format, fmt::make_format_args(args...));
}

} // namespace detail
} // namespace parallax

/// Logs a fmt-formatted message in `category` at `level` (a LogLevel
/// enumerator name: error, warning, fixme, info, debug, log, trace). The
/// arguments are evaluated only when the level is enabled.
#define PARALLAX_LOG(category, level, ...)                                                                             \
    do {                                                                                                               \
        if ((category).enabled(::parallax::LogLevel::level)) {                                                         \
            ::parallax::detail::log_format((category), ::parallax::LogLevel::level, __FILE__, __LINE__, __VA_ARGS__);  \
        }                                                                                                              \
    } while (false)

#define PARALLAX_ERROR(category, ...) PARALLAX_LOG(category, error, __VA_ARGS__)
#define PARALLAX_WARNING(category, ...) PARALLAX_LOG(category, warning, __VA_ARGS__)
#define PARALLAX_FIXME(category, ...) PARALLAX_LOG(category, fixme, __VA_ARGS__)
#define PARALLAX_INFO(category, ...) PARALLAX_LOG(category, info, __VA_ARGS__)
#define PARALLAX_DEBUG(category, ...) PARALLAX_LOG(category, debug, __VA_ARGS__)
#define PARALLAX_TRACE(category, ...) PARALLAX_LOG(category, trace, __VA_ARGS__)
