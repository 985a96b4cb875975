#include <parallax/base/error.hpp>

#include <fmt/format.h>

namespace parallax {
namespace {

class Category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "parallax"; }
    [[nodiscard]] std::string message(int code) const override {
        switch (static_cast<Errc>(code)) {
        case Errc::invalid_argument:
            return "invalid argument";
        case Errc::out_of_range:
            return "out of range";
        case Errc::corrupt:
            return "corrupt data";
        case Errc::version_mismatch:
            return "version mismatch";
        case Errc::exhausted:
            return "resource exhausted";
        case Errc::timeout:
            return "timed out";
        case Errc::closed:
            return "closed";
        case Errc::would_block:
            return "would block";
        case Errc::unsupported:
            return "unsupported";
        case Errc::system:
            return "system error";
        case Errc::state:
            return "wrong state";
        case Errc::not_found:
            return "not found";
        case Errc::exception:
            return "exception in element code";
        case Errc::not_linked:
            return "not linked";
        case Errc::not_negotiated:
            return "not negotiated";
        case Errc::failed:
            return "failed";
        }
        return fmt::format("unknown parallax error {}", code);
    }
};

} // namespace

const std::error_category& parallax_category() noexcept {
    static const Category category;
    return category;
}

Error Error::from_errno(int err, std::string_view what) {
    std::error_code code(err, std::system_category());
    return {code, fmt::format("{}: {}", what, code.message())};
}

std::string Error::to_string() const {
    std::string out;
    if (!element_.empty()) {
        out += element_;
        if (!pad_.empty()) {
            out += ':';
            out += pad_;
        }
        out += ": ";
    }
    out += message_;
    if (position_ != no_position) {
        out += fmt::format(" (at character {})", position_);
    }
    return out;
}

} // namespace parallax
