#include <parallax/base/log.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fnmatch.h>
#include <mutex>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <vector>

namespace parallax {
namespace {

struct SpecEntry {
    std::string pattern;
    std::uint8_t level;
};

// Process-wide: the categories that exist and the spec that sets their
// levels. Never destroyed, so that categories with static storage may
// unregister during exit in any order.
struct LoggerRegistry {
    std::mutex mutex;
    std::vector<LogCategory*> categories;
    std::vector<SpecEntry> spec;
    LogSink sink;
    // Made when the first line goes to stderr, not when the first category
    // appears (every program start): spdlog's sink and pattern set up
    // locales and formatters.
    std::once_flag stderr_once;
    std::shared_ptr<spdlog::logger> stderr_logger;

    spdlog::logger& stderr_log() {
        std::call_once(stderr_once, [this] {
            // Not registered with spdlog's global registry, so that an
            // application's own logger named "parallax" cannot clash with it.
            stderr_logger =
                std::make_shared<spdlog::logger>("parallax", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
            stderr_logger->set_level(spdlog::level::trace);
            stderr_logger->set_pattern("%H:%M:%S.%f %P %t %v");
        });
        return *stderr_logger;
    }
};

LoggerRegistry& logger_registry();

std::uint8_t level_for(const std::vector<SpecEntry>& spec, const std::string& name) {
    std::uint8_t level = 0;
    for (const auto& entry : spec) {
        if (::fnmatch(entry.pattern.c_str(), name.c_str(), 0) == 0) {
            level = entry.level; // later entries win
        }
    }
    return level;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

Result<std::uint8_t> parse_level(std::string_view text) {
    int number = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size()) {
        if (number < 0 || number > 9) {
            return fail(Errc::out_of_range, fmt::format("level {} is outside 0-9", number));
        }
        return static_cast<std::uint8_t>(number);
    }
    static constexpr std::pair<std::string_view, LogLevel> names[] = {
        {"none", LogLevel::none},       {"error", LogLevel::error}, {"warning", LogLevel::warning},
        {"warn", LogLevel::warning},    {"fixme", LogLevel::fixme}, {"info", LogLevel::info},
        {"debug", LogLevel::debug},     {"log", LogLevel::log},     {"trace", LogLevel::trace},
        {"memdump", LogLevel::memdump},
    };
    const std::string name = lower(text);
    for (const auto& [candidate, level] : names) {
        if (name == candidate) {
            return static_cast<std::uint8_t>(level);
        }
    }
    return fail(Errc::invalid_argument, fmt::format("'{}' is not a level (0-9, or none, error, warning, fixme, "
                                                    "info, debug, log, trace, memdump)",
                                                    text));
}

Result<std::vector<SpecEntry>> parse_spec(std::string_view spec) {
    std::vector<SpecEntry> entries;
    std::size_t start = 0;
    while (start <= spec.size()) {
        const std::size_t comma = std::min(spec.find(',', start), spec.size());
        const std::string_view entry = spec.substr(start, comma - start);
        if (!entry.empty()) {
            const std::size_t colon = entry.rfind(':');
            const std::string_view pattern = colon == std::string_view::npos ? "*" : entry.substr(0, colon);
            const std::string_view level_text = colon == std::string_view::npos ? entry : entry.substr(colon + 1);
            if (pattern.empty()) {
                return fail(
                    Error(Errc::invalid_argument, fmt::format("log spec entry '{}' has no category before ':'", entry))
                        .at_position(start));
            }
            auto level = parse_level(level_text);
            if (!level) {
                return fail(
                    Error(level.error().code(), fmt::format("log spec entry '{}': {}", entry, level.error().message()))
                        .at_position(start + (colon == std::string_view::npos ? 0 : colon + 1)));
            }
            entries.push_back({std::string(pattern), *level});
        }
        start = comma + 1;
    }
    return entries;
}

void default_write(const LogRecord& record) {
    static constexpr spdlog::level::level_enum levels[] = {
        spdlog::level::off,   spdlog::level::err,   spdlog::level::warn,  spdlog::level::warn,  spdlog::level::info,
        spdlog::level::debug, spdlog::level::trace, spdlog::level::trace, spdlog::level::trace, spdlog::level::trace,
    };
    logger_registry().stderr_log().log(levels[static_cast<std::size_t>(record.level)], "{:<7} {:<12} {}:{}: {}",
                                       to_string(record.level), record.category->name(), record.file, record.line,
                                       record.message);
}

LoggerRegistry& logger_registry() {
    static LoggerRegistry* instance = [] {
        auto* r = new LoggerRegistry;
        // PARALLAX_DEBUG is read once, here, when the first category appears.
        if (const char* env = std::getenv("PARALLAX_DEBUG"); env != nullptr) {
            if (auto spec = parse_spec(env)) {
                r->spec = std::move(*spec);
            } else {
                r->stderr_log().warn("PARALLAX_DEBUG ignored: {}", spec.error().to_string());
            }
        }
        return r;
    }();
    return *instance;
}

} // namespace

const char* to_string(LogLevel level) noexcept {
    switch (level) {
    case LogLevel::none:
        return "NONE";
    case LogLevel::error:
        return "ERROR";
    case LogLevel::warning:
        return "WARN";
    case LogLevel::fixme:
        return "FIXME";
    case LogLevel::info:
        return "INFO";
    case LogLevel::debug:
        return "DEBUG";
    case LogLevel::log:
        return "LOG";
    case LogLevel::trace:
        return "TRACE";
    case LogLevel::memdump:
        return "MEMDUMP";
    }
    return "?";
}

LogCategory::LogCategory(std::string_view name, std::string_view description) : name_(name), description_(description) {
    LoggerRegistry& r = logger_registry();
    std::lock_guard lock(r.mutex);
    threshold_.store(level_for(r.spec, name_), std::memory_order_relaxed);
    r.categories.push_back(this);
}

LogCategory::~LogCategory() {
    LoggerRegistry& r = logger_registry();
    std::lock_guard lock(r.mutex);
    std::erase(r.categories, this);
}

Result<void> set_log_spec(std::string_view spec) {
    auto entries = parse_spec(spec);
    if (!entries) {
        return fail(std::move(entries.error()));
    }
    LoggerRegistry& r = logger_registry();
    std::lock_guard lock(r.mutex);
    r.spec = std::move(*entries);
    for (LogCategory* category : r.categories) {
        category->set_level(static_cast<LogLevel>(level_for(r.spec, category->name())));
    }
    return {};
}

void set_log_sink(LogSink sink) {
    LoggerRegistry& r = logger_registry();
    std::lock_guard lock(r.mutex);
    r.sink = std::move(sink);
}

namespace detail {

void log_write(const LogCategory& category, LogLevel level, const char* file, int line, fmt::string_view format,
               fmt::format_args args) {
    const std::string message = fmt::vformat(format, args);
    // Paths as the build saw them are long; the file name says enough.
    std::string_view path(file);
    if (const auto slash = path.rfind('/'); slash != std::string_view::npos) {
        path.remove_prefix(slash + 1);
    }
    const std::string short_file(path);
    const LogRecord record{&category, level, short_file.c_str(), line, message};
    LoggerRegistry& r = logger_registry();
    LogSink sink;
    {
        std::lock_guard lock(r.mutex);
        sink = r.sink;
    }
    if (sink) {
        sink(record);
    } else {
        default_write(record);
    }
}

} // namespace detail
} // namespace parallax
