#include <parallax/element/query.hpp>

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

} // namespace parallax
