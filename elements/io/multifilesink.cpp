// multifilesink: writes buffers to a sequence of files named by a printf
// pattern with the file's index (GStreamer's multifilesink). next-file says
// when a new file starts: buffer (one file per buffer, each written whole at
// once), or, holding a file open and appending, discont, key-frame,
// key-unit-event (at each downstream force-key-unit event, which an encoder
// sends ahead of a key unit made on request), max-size and max-duration.
//
// The pattern is checked when it is set and again at start: it must hold
// exactly one integer conversion (%d, %i, %u, %o, %x or %X, with flags, width
// and precision, no length modifier and no `*`), and any other `%` must be
// `%%`. Only then is it handed to snprintf with the index, so no pattern can
// make snprintf read an argument that is not there (%s, %n, a second %d).
//
// Files are written with plain POSIX writes: per buffer the sink writes once
// to one file, so io_uring would add nothing.

#include <parallax/base/log.hpp>
#include <parallax/base/unique_fd.hpp>
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

LogCategory multifilesink_log("multifilesink", "multifilesink: a sequence of numbered files");

// GStreamer's GstMultiFileSinkNext, same nicks and numbers.
enum class NextFile : int {
    buffer = 0,
    discont = 1,
    key_frame = 2,
    key_unit_event = 3,
    max_size = 4,
    max_duration = 5
};
constexpr EnumValue next_file_values[] = {
    {0, "buffer", "New file for each buffer"},
    {1, "discont", "New file after each discontinuity"},
    {2, "key-frame", "New file at each key frame"},
    {3, "key-unit-event", "New file after a force key unit event"},
    {4, "max-size", "New file when the configured maximum file size would be exceeded with the next buffer"},
    {5, "max-duration", "New file when the configured maximum file duration would be exceeded with the next buffer"},
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

// `what` failed with errno `e`.
Error errno_error(int e, const std::string& what) {
    return Error(std::error_code(e, std::generic_category()), fmt::format("{}: {}", what, std::strerror(e)));
}

// Creates (or truncates) the file at `path` for writing.
Result<UniqueFd> open_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        return fail(errno_error(errno, fmt::format("could not open {} for writing", path)));
    }
    return UniqueFd(fd);
}

// Writes all of `bytes` to `fd`, the file at `path`.
Result<void> write_all(int fd, const std::string& path, std::span<const std::byte> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(errno_error(errno, fmt::format("could not write {}", path)));
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

// Closes `fd`, the file at `path`. close() reports delayed write errors (NFS,
// full disks on some file systems): a file that did not make it is an error,
// not a silent loss.
Result<void> close_file(UniqueFd fd, const std::string& path) {
    if (::close(fd.release()) != 0 && errno != EINTR) {
        return fail(errno_error(errno, fmt::format("could not write {}", path)));
    }
    return {};
}

// Writes `bytes` to a new (or truncated) file at `path`.
Result<void> write_file(const std::string& path, std::span<const std::byte> bytes) {
    auto fd = open_file(path);
    if (!fd) {
        return fail(fd.error());
    }
    if (auto ok = write_all(fd->get(), path, bytes); !ok) {
        return ok;
    }
    return close_file(std::move(*fd), path);
}

// What a file's message tells: the first buffer's pts, the time from it to
// the end of the last buffer, and the bytes of the stream the file holds.
struct FileSpan {
    ClockTime pts;
    ClockTime duration;
    bool has_offset = false;
    std::uint64_t offset = 0;
    std::uint64_t offset_end = 0;

    static FileSpan of(const Buffer& buffer) {
        const Metadata& m = buffer.meta();
        return FileSpan{m.pts(), m.duration(), m.has_byte_offset(), m.byte_offset(), m.byte_offset() + buffer.size()};
    }

    // Extends the span over `buffer`, appended to the file.
    void extend(const Buffer& buffer) {
        const Metadata& m = buffer.meta();
        const ClockTime end = buffer_end(m);
        if (pts.is_valid() && end.is_valid() && end.ns() >= pts.ns() &&
            (!duration.is_valid() || end.ns() - pts.ns() > duration.ns())) {
            duration = ClockTime::from_ns(end.ns() - pts.ns());
        }
        if (m.has_byte_offset()) {
            offset_end = m.byte_offset() + buffer.size();
        }
    }

    // The pts plus the duration when there is one; none without a pts.
    static ClockTime buffer_end(const Metadata& m) {
        if (!m.pts().is_valid()) {
            return ClockTime::none();
        }
        const std::uint64_t d = m.duration().is_valid() ? m.duration().ns() : 0;
        return ClockTime::from_ns(m.pts().ns() + std::min(d, ClockTime::max().ns() - m.pts().ns()));
    }
};

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
            "Writes buffers to files named by location, a printf pattern with exactly one integer conversion (%d, "
            "%i, %u, %o, %x or %X with flags, width and precision, e.g. frame%05d.png) that gets the index: index "
            "at the start, one more for each file. next-file says when a file ends: buffer (the default) writes "
            "each buffer to a file of its own; the other modes append buffers to the open file and start the next "
            "one before a buffer with the DISCONT flag (discont), before each key frame, a buffer without the "
            "delta-unit flag, after the first (key-frame: one file per GOP; GStreamer instead waits 10 s of "
            "timestamps between splits), at each downstream force-key-unit event, which an encoder sends just ahead "
            "of a key unit it made on request (key-unit-event; an event with the count of the one before is the "
            "same request seen twice and ignored; the new file is created with the buffer that follows), before a "
            "buffer that would take the file over max-file-size bytes (max-size; a larger buffer gets a file of "
            "its own), or before a buffer whose pts plus duration would lie more than max-file-duration ns after "
            "the pts of the file's first buffer (max-duration). max-files > 0 keeps only that "
            "many of the newest files, deleting the oldest. With post-messages=true each file is announced by an "
            "element message GstMultiFileSink with filename (string), index (int), and timestamp, stream-time, "
            "running-time, duration, offset and offset-end as doubles (nanoseconds or bytes, -1 when unknown: caps "
            "values have no 64-bit integer); in the appending modes the message comes when the file is complete "
            "(at the next file, end of stream or stop) and describes it from its first buffer to its last."};
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
        last_key_unit_count_.reset();
        return {};
    }

    Result<void> stop() override {
        if (file_) {
            if (auto ok = finish_file(); !ok) {
                return fail(element_error(ok.error()));
            }
        }
        return {};
    }

    bool sink_event(Pad& pad, Event&& event) override {
        bool ends_file = event.type() == EventType::eos;
        if (const auto* k = event.downstream_force_key_unit_value();
            k != nullptr && next_file_.get() == NextFile::key_unit_event) {
            // As GStreamer: the same count again is the same key unit, seen
            // through another branch, not a new one.
            ends_file = last_key_unit_count_ != k->count;
            last_key_unit_count_ = k->count;
        }
        if (ends_file && file_) {
            if (auto ok = finish_file(); !ok) {
                context().error(element_error(ok.error()));
                return false;
            }
        }
        return SimpleSink::sink_event(pad, std::move(event));
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
        if (next_file_.get() != NextFile::buffer) {
            return append(buffer, ctx);
        }
        const std::string path = format_location(location_.get(), pattern_, next_index_);
        if (auto ok = write_file(path, buffer.data()); !ok) {
            return ctx.error(element_error(ok.error()));
        }
        PARALLAX_DEBUG(multifilesink_log, "{}: wrote {} bytes to {}", name(), buffer.size(), path);
        if (post_messages_.get()) {
            post_file_message(FileSpan::of(buffer), path, next_index_, ctx);
        }
        written_.push_back(path);
        delete_old_files(ctx);
        ++next_index_;
        return Flow::ok;
    }

private:
    // The appending modes: the file open since an earlier buffer takes this
    // one too, unless next-file says a new file starts here.
    Flow append(Buffer& buffer, SinkContext& ctx) {
        if (file_ && starts_new_file(buffer)) {
            if (auto ok = finish_file(); !ok) {
                return ctx.error(element_error(ok.error()));
            }
        }
        if (!file_) {
            const std::string path = format_location(location_.get(), pattern_, next_index_);
            auto fd = open_file(path);
            if (!fd) {
                return ctx.error(element_error(fd.error()));
            }
            file_ = std::move(*fd);
            file_path_ = path;
            file_index_ = next_index_++;
            file_size_ = 0;
            file_span_ = FileSpan::of(buffer);
            written_.push_back(path);
            delete_old_files(ctx);
        } else {
            file_span_.extend(buffer);
        }
        if (auto ok = write_all(file_.get(), file_path_, buffer.data()); !ok) {
            return ctx.error(element_error(ok.error()));
        }
        file_size_ += buffer.size();
        PARALLAX_DEBUG(multifilesink_log, "{}: appended {} bytes to {}", name(), buffer.size(), file_path_);
        return Flow::ok;
    }

    // Whether `buffer` goes to a new file rather than the open one.
    [[nodiscard]] bool starts_new_file(const Buffer& buffer) const {
        const Metadata& m = buffer.meta();
        switch (next_file_.get()) {
        case NextFile::discont:
            return m.has_flag(BufferFlags::discont);
        case NextFile::key_frame:
            return !m.has_flag(BufferFlags::delta);
        case NextFile::max_size:
            return file_size_ + buffer.size() > max_file_size_.get();
        case NextFile::max_duration: {
            // As GStreamer: measured from the pts of the file's first buffer;
            // without pts on either side the file goes on.
            const ClockTime end = FileSpan::buffer_end(m);
            return file_span_.pts.is_valid() && end.is_valid() && end.ns() > file_span_.pts.ns() &&
                   end.ns() - file_span_.pts.ns() > max_file_duration_.get();
        }
        case NextFile::key_unit_event:
            return false; // the event closed the file already
        case NextFile::buffer:
            break;
        }
        return true;
    }

    // Closes the open file and announces it.
    Result<void> finish_file() {
        auto ok = close_file(std::move(file_), file_path_);
        file_ = UniqueFd();
        if (!ok) {
            return ok;
        }
        PARALLAX_DEBUG(multifilesink_log, "{}: closed {} after {} bytes", name(), file_path_, file_size_);
        if (post_messages_.get()) {
            post_file_message(file_span_, file_path_, file_index_, context());
        }
        return {};
    }

    // max-files: deletes the oldest files until only that many are left.
    void delete_old_files(ElementContext& ctx) {
        const std::uint32_t keep = max_files_.get();
        while (keep > 0 && written_.size() > keep) {
            // A file that is gone already is not worth stopping the stream
            // for: the aim, fewer files, holds.
            if (::unlink(written_.front().c_str()) != 0 && errno != ENOENT) {
                ctx.warning(fmt::format("{}: could not delete {}: {}", name(), written_.front(), std::strerror(errno)));
            }
            written_.pop_front();
        }
    }

    // `e`, a file system error, as this element's.
    Error element_error(const Error& e) const {
        return Error(e.code(), fmt::format("{}: {}", name(), e.message())).at_element(name());
    }

    Error location_error(const Error& e) const {
        return Error(Errc::invalid_argument,
                     fmt::format("{}: invalid location \"{}\": {}", name(), location_.get(), e.message()))
            .at_element(name());
    }

    void post_file_message(const FileSpan& span, const std::string& path, int index, ElementContext& ctx) {
        const ClockTime pts = span.pts;
        const StreamSegment& seg = segment();
        const ClockTime running = seg.to_running_time(pts);
        const bool in_segment = pts.is_valid() && pts.ns() >= seg.start;
        Structure s("GstMultiFileSink");
        s.set("filename", path);
        s.set("index", index);
        s.set("timestamp", message_number(pts.ns(), pts.is_valid()));
        s.set("stream-time", message_number(in_segment ? pts.ns() - seg.start + seg.time : 0, in_segment));
        s.set("running-time", message_number(running.ns(), running.is_valid()));
        s.set("duration", message_number(span.duration.ns(), span.duration.is_valid()));
        s.set("offset", message_number(span.offset, span.has_offset));
        s.set("offset-end", message_number(span.offset_end, span.has_offset));
        ctx.post_element_message(std::move(s));
    }

    LocationPattern pattern_;
    int next_index_ = 0;
    std::deque<std::string> written_; // oldest first, for max-files
    // The open file of the appending modes.
    UniqueFd file_;
    std::string file_path_;
    int file_index_ = 0;
    std::uint64_t file_size_ = 0;
    FileSpan file_span_;
    std::optional<std::uint32_t> last_key_unit_count_; // key-unit-event

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
    Property<NextFile> next_file_{this, "next-file", NextFile::buffer, "When to start a new file", next_file_values};
    Property<std::uint64_t> max_file_size_{this, "max-file-size", std::uint64_t{2147483648},
                                           "Maximum file size before starting a new file in max-size mode (bytes)"};
    Property<std::uint64_t> max_file_duration_{
        this, "max-file-duration", std::numeric_limits<std::uint64_t>::max(),
        "Maximum file duration before starting a new file in max-duration mode (in nanoseconds)"};
    Property<bool> post_messages_{this, "post-messages", false,
                                  "Post a message for each file with information of "
                                  "the buffer"};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::MultiFileSink);
