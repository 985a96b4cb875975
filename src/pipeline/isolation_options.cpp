#include <parallax/pipeline/isolation.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <string>

namespace parallax {

std::string_view to_string(SandboxKind kind) noexcept {
    switch (kind) {
    case SandboxKind::compute_only:
        return "compute-only";
    case SandboxKind::with_network:
        return "with-network";
    case SandboxKind::with_filesystem:
        return "with-filesystem";
    case SandboxKind::none:
        return "none";
    }
    return "unknown";
}

Result<SandboxSettings> parse_sandbox_settings(std::string_view text) {
    const auto bad = [text](std::string_view what) {
        return fail(Errc::invalid_argument, fmt::format("sandbox \"{}\": {}", text, what));
    };
    const std::size_t colon = text.find(':');
    const std::string_view kind_text = text.substr(0, colon);
    SandboxSettings settings;
    bool known = false;
    for (auto kind :
         {SandboxKind::compute_only, SandboxKind::with_network, SandboxKind::with_filesystem, SandboxKind::none}) {
        if (kind_text == to_string(kind)) {
            settings.kind = kind;
            known = true;
            break;
        }
    }
    if (!known) {
        return bad(kind_text.empty()
                       ? std::string("no kind (compute-only, with-network, with-filesystem, none)")
                       : fmt::format("\"{}\" is not a sandbox kind (compute-only, with-network, with-filesystem, "
                                     "none)",
                                     kind_text));
    }
    if (colon == std::string_view::npos) {
        if (settings.kind == SandboxKind::with_filesystem) {
            return bad("with-filesystem needs at least one path (with-filesystem:/PATH[:/PATH...])");
        }
        return settings;
    }
    if (settings.kind != SandboxKind::with_filesystem) {
        return bad("only with-filesystem takes paths");
    }
    std::string_view rest = text.substr(colon + 1);
    for (std::size_t n = 1;; ++n) {
        const std::size_t next = rest.find(':');
        const std::string_view path = rest.substr(0, next);
        if (path.empty()) {
            return bad(fmt::format("path {} is empty", n));
        }
        if (path.front() != '/') {
            return bad(fmt::format("path \"{}\" is not absolute", path));
        }
        settings.allowed_paths.emplace_back(path);
        if (next == std::string_view::npos) {
            break;
        }
        rest = rest.substr(next + 1);
    }
    return settings;
}

} // namespace parallax
