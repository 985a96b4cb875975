#include <parallax/caps/caps.hpp>

#include "caps/caps_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace parallax {

Caps Caps::any() {
    Caps caps;
    caps.any_ = true;
    return caps;
}

Caps Caps::empty() {
    return Caps();
}

Caps Caps::parse_static(std::string_view text) {
    auto caps = parse(text);
    if (!caps) {
        fmt::print(stderr, "parallax: invalid static caps \"{}\" at byte {}: {}\n", text, caps.error().position(),
                   caps.error().message());
        std::abort();
    }
    return std::move(*caps);
}

bool Caps::is_fixed() const noexcept {
    return !any_ && entries_.size() == 1 && entries_.front().structure.is_fixed();
}

const Structure& Caps::structure(std::size_t i) const {
    assert(i < entries_.size());
    return entries_[i].structure;
}

const CapsFeatures& Caps::features(std::size_t i) const {
    assert(i < entries_.size());
    return entries_[i].features;
}

void Caps::append(Structure structure, CapsFeatures features) {
    for (const std::string& feature : features) {
        if (!detail::is_simple_string(feature)) {
            fmt::print(stderr, "parallax: invalid caps feature '{}'\n", feature);
            std::abort();
        }
    }
    if (any_) {
        return;
    }
    entries_.push_back(Entry{std::move(structure), std::move(features)});
}

std::string Caps::to_string() const {
    if (any_) {
        return "ANY";
    }
    if (entries_.empty()) {
        return "EMPTY";
    }
    std::string out;
    for (const Entry& entry : entries_) {
        if (!out.empty()) {
            out += "; ";
        }
        const std::string& name = entry.structure.name();
        out += name;
        if (!entry.features.empty()) {
            fmt::format_to(std::back_inserter(out), "({})", fmt::join(entry.features, ", "));
        }
        out += std::string_view(entry.structure.to_string()).substr(name.size());
    }
    return out;
}

} // namespace parallax
