#include <parallax/element/query.hpp>

#include <algorithm>

namespace parallax {

std::string_view to_string(QueryType t) noexcept {
    switch (t) {
    case QueryType::caps:
        return "caps";
    case QueryType::accept_caps:
        return "accept-caps";
    case QueryType::latency:
        return "latency";
    case QueryType::position:
        return "position";
    case QueryType::duration:
        return "duration";
    case QueryType::seeking:
        return "seeking";
    case QueryType::allocation:
        return "allocation";
    }
    return "unknown";
}

Query Query::caps(Caps filter) {
    Query q(QueryType::caps);
    q.argument_ = std::move(filter);
    return q;
}

Query Query::accept_caps(Caps caps) {
    Query q(QueryType::accept_caps);
    q.argument_ = std::move(caps);
    return q;
}

Query Query::latency() {
    return Query(QueryType::latency);
}

Query Query::position(Format format) {
    Query q(QueryType::position);
    q.format_ = format;
    return q;
}

Query Query::duration(Format format) {
    Query q(QueryType::duration);
    q.format_ = format;
    return q;
}

Query Query::seeking(Format format) {
    Query q(QueryType::seeking);
    q.format_ = format;
    return q;
}

Query Query::allocation(Caps caps) {
    Query q(QueryType::allocation);
    q.argument_ = std::move(caps);
    return q;
}

bool Query::has_meta(std::string_view api) const noexcept {
    return std::find(metas_.begin(), metas_.end(), api) != metas_.end();
}

void Query::add_meta(std::string_view api) {
    if (!has_meta(api)) {
        metas_.emplace_back(api);
    }
}

void Query::intersect_metas(const Query& other) {
    std::erase_if(metas_, [&](const std::string& api) { return !other.has_meta(api); });
}

} // namespace parallax
