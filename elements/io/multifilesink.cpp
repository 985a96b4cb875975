// multifilesink: writes each buffer to a file of its own, named by a printf
// pattern with the file's index (GStreamer's multifilesink, next-file=buffer).
//
// The pattern is checked when it is set and again at start: it must hold
// exactly one integer conversion (%d, %i, %u, %o, %x or %X, with flags, width
// and precision, no length modifier and no `*`), and any other `%` must be
// `%%`. Only then is it handed to snprintf with the index, so no pattern can
// make snprintf read an argument that is not there (%s, %n, a second %d).
//
// Files are written with plain POSIX writes: each is small and written once,
// so io_uring would add nothing.

#include <parallax/base/log.hpp>
#include <parallax/element.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <unistd.h>

namespace parallax {
namespace {

LogCategory multifilesink_log("multifilesink", "multifilesink: one file per buffer");

// GStreamer's GstMultiFileSinkNext. Only "buffer" is offered: the other
// modes (discont, key-frame, key-unit-event, max-size, max-duration) are not
// implemented, and an enum that accepted them would pretend they were.
enum class NextFile : int { buffer = 0 };
constexpr EnumValue next_file_values[] = {
    {0, "buffer", "New file for each buffer"},
};

// What a checked location pattern needs for formatting: its conversion
// character (signed for d and i, unsigned for the others).
struct LocationPattern {
    char conversion = 'd';
};

// The largest width or precision a conversion may ask for.
constexpr unsigned max_digits = 64;

// Checks `pattern`; the error text says what is wrong and where.
Result<LocationPattern> parse_pattern(std::string_view pattern) {
    if (pattern.empty()) {
        return fail(Error(Errc::invalid_argument, "the pattern is empty"));
    }
    std::optional<LocationPattern> found;
    std::size_t i = 0;
    while (i < pattern.size()) {
        if (pattern[i] != '%') {
            ++i;
            continue;
        }
        const std::size_t start = i++;
        if (i < pattern.size() && pattern[i] == '%') {
            ++i;
            continue;
        }
        while (i < pattern.size() && std::strchr("-+ #0", pattern[i]) != nullptr) {
            ++i;
        }
        // Width and precision: a file name needs no more than a few digits,
        // and a huge one would make every name a huge allocation.
        for (const bool precision : {false, true}) {
            if (precision) {
                if (i >= pattern.size() || pattern[i] != '.') {
                    break;
                }
                ++i;
            }
            unsigned value = 0;
            while (i < pattern.size() && pattern[i] >= '0' && pattern[i] <= '9') {
                value = std::min(value * 10 + static_cast<unsigned>(pattern[i] - '0'), 100000U);
                ++i;
            }
            if (value > max_digits) {
                return fail(Error(Errc::invalid_argument,
                                  fmt::format("the {} of the conversion at character {} is over {}",
                                              precision ? "precision" : "width", start + 1, max_digits)));
            }
        }
        if (i >= pattern.size()) {
            return fail(
                Error(Errc::invalid_argument, fmt::format("the conversion at character {} is incomplete", start + 1)));
        }
        const char c = pattern[i];
        if (std::strchr("diuoxX", c) == nullptr) {
            if (std::strchr("hlLqjzt", c) != nullptr) {
                return fail(Error(Errc::invalid_argument,
                                  fmt::format("the conversion at character {} has a length modifier ('{}'); the "
                                              "index is a plain int: use %d, %i, %u, %o, %x or %X",
                                              start + 1, c)));
            }
            return fail(Error(Errc::invalid_argument,
                              fmt::format("'%{}' at character {} is not an integer conversion; the pattern takes "
                                          "exactly one of %d, %i, %u, %o, %x or %X (write %% for a literal %)",
                                          pattern.substr(start + 1, i - start), start + 1)));
        }
        if (found) {
            return fail(
                Error(Errc::invalid_argument,
                      fmt::format("a second conversion at character {}; the pattern takes exactly one", start + 1)));
        }
        found = LocationPattern{c};
        ++i;
    }
    if (!found) {
        return fail(
            Error(Errc::invalid_argument, "the pattern has no integer conversion for the index (such as %05d)"));
    }
    return *found;
}

// The file name for `index`; `pattern` was accepted by parse_pattern().
std::string format_location(const std::string& pattern, const LocationPattern& p, int index) {
    const bool is_signed = p.conversion == 'd' || p.conversion == 'i';
    const int needed = is_signed ? std::snprintf(nullptr, 0, pattern.c_str(), index)
                                 : std::snprintf(nullptr, 0, pattern.c_str(), static_cast<unsigned>(index));
    std::string out(static_cast<std::size_t>(std::max(needed, 0)) + 1, '\0');
    if (is_signed) {
        std::snprintf(out.data(), out.size(), pattern.c_str(), index);
    } else {
        std::snprintf(out.data(), out.size(), pattern.c_str(), static_cast<unsigned>(index));
    }
    out.resize(static_cast<std::size_t>(std::max(needed, 0)));
    return out;
}

// Writes `bytes` to a new (or truncated) file at `path`.
Result<void> write_file(const std::string& path, std::span<const std::byte> bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        const int e = errno;
        return fail(Error(std::error_code(e, std::generic_category()),
                          fmt::format("could not open {} for writing: {}", path, std::strerror(e))));
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int e = errno;
            ::close(fd);
            return fail(Error(std::error_code(e, std::generic_category()),
                              fmt::format("could not write {}: {}", path, std::strerror(e))));
        }
        done += static_cast<std::size_t>(n);
    }
    // close() reports delayed write errors (NFS, full disks on some file
    // systems): a file that did not make it is an error, not a silent loss.
    if (::close(fd) != 0 && errno != EINTR) {
        const int e = errno;
        return fail(Error(std::error_code(e, std::generic_category()),
                          fmt::format("could not write {}: {}", path, std::strerror(e))));
    }
    return {};
}

// Caps values have no 64-bit integer: times and offsets go into element
// messages as doubles, exact up to 2^53 (104 days in nanoseconds); -1 when
// there is none.
double message_number(std::uint64_t v, bool valid) {
    return valid ? static_cast<double>(v) : -1.0;
}

class MultiFileSink final : public SimpleSink {
public:
    static constexpr ElementInfo info{
        .factory = "multifilesink",
        .klass = "Sink/File",
        .summary = "Write buffers to a sequentially named set of files",
        .description =
            "Writes each buffer to a file of its own (next-file=buffer, the only mode offered), named by "
            "location, a printf pattern with exactly one integer conversion (%d, %i, %u, %o, %x or %X with flags, "
            "width and precision, e.g. frame%05d.png) that gets the index: index at the start, one more for each "
            "file. max-files > 0 keeps only that many of the newest files, deleting the oldest. With "
            "post-messages=true each file is announced by an element message GstMultiFileSink with filename "
            "(string), index (int), and timestamp, stream-time, running-time, duration, offset and offset-end as "
            "doubles (nanoseconds or bytes, -1 when unknown: caps values have no 64-bit integer)."};
    static constexpr ExecutionHints hints = ExecutionHints::io_bound();

protected:
    Result<void> start() override {
        auto pattern = parse_pattern(location_.get());
        if (!pattern) {
            return fail(location_error(pattern.error()));
        }
        pattern_ = *pattern;
        next_index_ = index_.get();
        written_.clear();
        return {};
    }

    Result<void> check_property(const PropertyBase& property) override {
        if (&property == &location_) {
            if (auto ok = parse_pattern(location_.get()); !ok) {
                return fail(location_error(ok.error()));
            }
        }
        return {};
    }

    Flow render(Buffer& buffer, SinkContext& ctx) override {
        const std::string path = format_location(location_.get(), pattern_, next_index_);
        if (auto ok = write_file(path, buffer.data()); !ok) {
            return ctx.error(
                Error(ok.error().code(), fmt::format("{}: {}", name(), ok.error().message())).at_element(name()));
        }
        PARALLAX_DEBUG(multifilesink_log, "{}: wrote {} bytes to {}", name(), buffer.size(), path);
        if (post_messages_.get()) {
            post_file_message(buffer, path, ctx);
        }
        written_.push_back(path);
        const std::uint32_t keep = max_files_.get();
        while (keep > 0 && written_.size() > keep) {
            // A file that is gone already is not worth stopping the stream
            // for: the aim, fewer files, holds.
            if (::unlink(written_.front().c_str()) != 0 && errno != ENOENT) {
                ctx.warning(fmt::format("{}: could not delete {}: {}", name(), written_.front(), std::strerror(errno)));
            }
            written_.pop_front();
        }
        ++next_index_;
        return Flow::ok;
    }

private:
    Error location_error(const Error& e) const {
        return Error(Errc::invalid_argument,
                     fmt::format("{}: invalid location \"{}\": {}", name(), location_.get(), e.message()))
            .at_element(name());
    }

    void post_file_message(const Buffer& buffer, const std::string& path, SinkContext& ctx) {
        const Metadata& m = buffer.meta();
        const ClockTime pts = m.pts();
        const StreamSegment& seg = segment();
        const ClockTime running = seg.to_running_time(pts);
        const bool in_segment = pts.is_valid() && pts.ns() >= seg.start;
        Structure s("GstMultiFileSink");
        s.set("filename", path);
        s.set("index", next_index_);
        s.set("timestamp", message_number(pts.ns(), pts.is_valid()));
        s.set("stream-time", message_number(in_segment ? pts.ns() - seg.start + seg.time : 0, in_segment));
        s.set("running-time", message_number(running.ns(), running.is_valid()));
        s.set("duration", message_number(m.duration().ns(), m.duration().is_valid()));
        s.set("offset", message_number(m.byte_offset(), m.has_byte_offset()));
        s.set("offset-end", message_number(m.byte_offset() + buffer.size(), m.has_byte_offset()));
        ctx.post_element_message(std::move(s));
    }

    LocationPattern pattern_;
    int next_index_ = 0;
    std::deque<std::string> written_; // oldest first, for max-files

    Property<std::string> location_{this, "location", "%05d",
                                    "Location of the file to write, a printf pattern with one integer conversion "
                                    "for the index (e.g. frame%05d.png)"};
    Property<int> index_{this,
                         "index",
                         0,
                         "Index to use with location property to create file names",
                         {0, std::numeric_limits<int>::max()}};
    Property<std::uint32_t> max_files_{this, "max-files", 0,
                                       "Maximum number of files to keep on disk. Once the maximum is reached, old "
                                       "files start to be deleted to make room for new ones (0 = unlimited)"};
    Property<NextFile> next_file_{this, "next-file", NextFile::buffer,
                                  "When to start a new file (only buffer: one file per buffer)", next_file_values};
    Property<bool> post_messages_{this, "post-messages", false,
                                  "Post a message for each file with information of "
                                  "the buffer"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::MultiFileSink);
