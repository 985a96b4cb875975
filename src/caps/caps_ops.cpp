#include <parallax/caps/caps_ops.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace parallax {

namespace {

// ---------------------------------------------------------------------------
// Values

void append_unique(CapsValue::List& out, const CapsValue& v) {
    if (std::find(out.begin(), out.end(), v) == out.end()) {
        out.push_back(v);
    }
}

std::optional<CapsValue> from_items(CapsValue::List items) {
    if (items.empty()) {
        return std::nullopt;
    }
    if (items.size() == 1) {
        return std::move(items.front());
    }
    // Items are fixed values intersected with one value, hence of one type.
    auto list = CapsValue::list(std::move(items));
    return std::move(*list);
}

std::optional<CapsValue> intersect_list(std::span<const CapsValue> items, const CapsValue& other) {
    CapsValue::List out;
    for (const CapsValue& item : items) {
        auto r = intersect(item, other);
        if (!r) {
            continue;
        }
        // A bitmask item against a list of bitmasks can give several values.
        if (r->holds<CapsValue::List>()) {
            for (const CapsValue& v : r->list_items()) {
                append_unique(out, v);
            }
        } else {
            append_unique(out, *r);
        }
    }
    return from_items(std::move(out));
}

template <typename T>
std::optional<CapsValue> fixed_in_range(const CapsValue& fixed, const CapsValue& range) {
    const T* v = fixed.get_if<T>();
    const Range<T>* r = range.get_if<Range<T>>();
    if (v == nullptr || r == nullptr) {
        return std::nullopt;
    }
    if (*v < r->min() || r->max() < *v) {
        return std::nullopt;
    }
    return fixed;
}

std::optional<CapsValue> intersect_fixed_range(const CapsValue& fixed, const CapsValue& range) {
    if (fixed.holds<std::int32_t>()) {
        return fixed_in_range<std::int32_t>(fixed, range);
    }
    if (fixed.holds<double>()) {
        return fixed_in_range<double>(fixed, range);
    }
    if (fixed.holds<Fraction>()) {
        return fixed_in_range<Fraction>(fixed, range);
    }
    return std::nullopt;
}

template <typename T>
std::optional<CapsValue> overlap(const CapsValue& a, const CapsValue& b) {
    const Range<T>* ra = a.get_if<Range<T>>();
    const Range<T>* rb = b.get_if<Range<T>>();
    if (ra == nullptr || rb == nullptr) {
        return std::nullopt;
    }
    const T lo = std::max(ra->min(), rb->min());
    const T hi = std::min(ra->max(), rb->max());
    if (hi < lo) {
        return std::nullopt;
    }
    if (lo == hi) {
        return CapsValue(lo);
    }
    return CapsValue(*Range<T>::make(lo, hi));
}

template <typename T>
bool range_within(const CapsValue& a, const CapsValue& b) {
    const Range<T>* ra = a.get_if<Range<T>>();
    const Range<T>* rb = b.get_if<Range<T>>();
    return ra != nullptr && rb != nullptr && !(ra->min() < rb->min()) && !(rb->max() < ra->max());
}

bool range_in_list(const CapsValue& range, std::span<const CapsValue> items) {
    // Only an int range holds finitely many values.
    const auto* r = range.get_if<IntRange>();
    if (r == nullptr) {
        return false;
    }
    const std::int64_t count = std::int64_t{r->max()} - r->min() + 1;
    if (count > static_cast<std::int64_t>(items.size())) {
        return false;
    }
    for (std::int64_t i = r->min(); i <= r->max(); ++i) {
        const CapsValue v(static_cast<std::int32_t>(i));
        if (std::find(items.begin(), items.end(), v) == items.end()) {
            return false;
        }
    }
    return true;
}

std::int64_t distance(std::int32_t a, std::int32_t b) {
    const std::int64_t d = std::int64_t{a} - b;
    return d < 0 ? -d : d;
}

// |a - b| as an unreduced fraction num/den, exact in 64 bits.
struct FractionDistance {
    std::uint64_t num;
    std::uint64_t den;
};

FractionDistance distance(Fraction a, Fraction b) {
    const std::int64_t n = std::int64_t{a.num()} * b.den() - std::int64_t{b.num()} * a.den();
    return {static_cast<std::uint64_t>(n < 0 ? -n : n), static_cast<std::uint64_t>(std::int64_t{a.den()} * b.den())};
}

bool closer(FractionDistance a, FractionDistance b) {
    // Cross products reach 2^126: beyond 64 bits, within 128.
    __extension__ using Wide = unsigned __int128;
    return static_cast<Wide>(a.num) * b.den < static_cast<Wide>(b.num) * a.den;
}

// ---------------------------------------------------------------------------
// Caps

CapsFeatures canonical(const CapsFeatures& features) {
    if (features.empty()) {
        return {"memory:SystemMemory"};
    }
    CapsFeatures sorted = features;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    return sorted;
}

bool features_equal(const CapsFeatures& a, const CapsFeatures& b) {
    return a == b || canonical(a) == canonical(b);
}

// True when structure `s` with `features` is a subset of a structure of `caps`.
bool covered(const Caps& caps, const Structure& s, const CapsFeatures& features) {
    for (std::size_t i = 0; i < caps.size(); ++i) {
        if (features_equal(features, caps.features(i)) && is_subset(s, caps.structure(i))) {
            return true;
        }
    }
    return false;
}

void expand(const Structure& s, const CapsFeatures& features, std::size_t field, Caps& out) {
    const auto fields = s.fields();
    while (field < fields.size() && !fields[field].value.holds<CapsValue::List>()) {
        ++field;
    }
    if (field == fields.size()) {
        out.append(s, features);
        return;
    }
    for (const CapsValue& item : fields[field].value.list_items()) {
        Structure one = s;
        one.set(fields[field].name, item);
        expand(one, features, field + 1, out);
    }
}

} // namespace

std::optional<CapsValue> intersect(const CapsValue& a, const CapsValue& b) {
    if (a.holds<CapsValue::List>()) {
        return intersect_list(a.list_items(), b);
    }
    if (b.holds<CapsValue::List>()) {
        return intersect_list(b.list_items(), a);
    }
    if (a.is_fixed() && b.is_fixed()) {
        const auto* ma = a.get_if<Bitmask>();
        const auto* mb = b.get_if<Bitmask>();
        if (ma != nullptr && mb != nullptr) {
            return CapsValue(Bitmask{ma->bits & mb->bits});
        }
        if (a == b) {
            return a;
        }
        return std::nullopt;
    }
    if (a.is_fixed()) {
        return intersect_fixed_range(a, b);
    }
    if (b.is_fixed()) {
        return intersect_fixed_range(b, a);
    }
    if (a.holds<IntRange>()) {
        return overlap<std::int32_t>(a, b);
    }
    if (a.holds<DoubleRange>()) {
        return overlap<double>(a, b);
    }
    return overlap<Fraction>(a, b);
}

bool is_subset(const CapsValue& a, const CapsValue& b) {
    if (a.holds<CapsValue::List>()) {
        const auto items = a.list_items();
        return std::all_of(items.begin(), items.end(), [&](const CapsValue& item) { return is_subset(item, b); });
    }
    if (b.holds<CapsValue::List>()) {
        const auto items = b.list_items();
        if (a.is_fixed()) {
            return std::any_of(items.begin(), items.end(), [&](const CapsValue& item) { return is_subset(a, item); });
        }
        return range_in_list(a, items);
    }
    const auto* ma = a.get_if<Bitmask>();
    const auto* mb = b.get_if<Bitmask>();
    if (ma != nullptr && mb != nullptr) {
        return (ma->bits & ~mb->bits) == 0;
    }
    if (a.is_fixed()) {
        // Neither is a list nor a bitmask pair: the intersection is `a` or nothing.
        return intersect(a, b).has_value();
    }
    return range_within<std::int32_t>(a, b) || range_within<double>(a, b) || range_within<Fraction>(a, b);
}

CapsValue fixate(const CapsValue& value) {
    if (const auto* r = value.get_if<IntRange>()) {
        return r->min();
    }
    if (const auto* r = value.get_if<DoubleRange>()) {
        return r->min();
    }
    if (const auto* r = value.get_if<FractionRange>()) {
        return r->min();
    }
    if (value.holds<CapsValue::List>()) {
        return value.list_items().front();
    }
    return value;
}

std::optional<Structure> intersect(const Structure& a, const Structure& b) {
    if (a.name() != b.name()) {
        return std::nullopt;
    }
    Structure out(a.name());
    for (const StructureField& f : a) {
        const CapsValue* other = b.get(f.name);
        if (other == nullptr) {
            out.set(f.name, f.value);
            continue;
        }
        auto v = intersect(f.value, *other);
        if (!v) {
            return std::nullopt;
        }
        out.set(f.name, std::move(*v));
    }
    for (const StructureField& f : b) {
        if (!a.has(f.name)) {
            out.set(f.name, f.value);
        }
    }
    return out;
}

bool is_subset(const Structure& a, const Structure& b) {
    if (a.name() != b.name()) {
        return false;
    }
    return std::all_of(b.begin(), b.end(), [&](const StructureField& f) {
        const CapsValue* mine = a.get(f.name);
        return mine != nullptr && is_subset(*mine, f.value);
    });
}

Structure fixate(const Structure& structure) {
    Structure out(structure.name());
    for (const StructureField& f : structure) {
        out.set(f.name, fixate(f.value));
    }
    return out;
}

bool fixate_field_nearest_int(Structure& structure, std::string_view field, std::int32_t target) {
    const CapsValue* value = structure.get(field);
    if (value == nullptr) {
        return false;
    }
    if (const auto* r = value->get_if<IntRange>()) {
        structure.set(field, std::clamp(target, r->min(), r->max()));
        return true;
    }
    const std::int32_t* best = nullptr;
    for (const CapsValue& item : value->list_items()) {
        const auto* v = item.get_if<std::int32_t>();
        if (v != nullptr && (best == nullptr || distance(*v, target) < distance(*best, target))) {
            best = v;
        }
    }
    if (best == nullptr) {
        return false;
    }
    structure.set(field, *best);
    return true;
}

bool fixate_field_nearest_fraction(Structure& structure, std::string_view field, Fraction target) {
    const CapsValue* value = structure.get(field);
    if (value == nullptr) {
        return false;
    }
    if (const auto* r = value->get_if<FractionRange>()) {
        structure.set(field, std::clamp(target, r->min(), r->max()));
        return true;
    }
    const Fraction* best = nullptr;
    for (const CapsValue& item : value->list_items()) {
        const auto* v = item.get_if<Fraction>();
        if (v != nullptr && (best == nullptr || closer(distance(*v, target), distance(*best, target)))) {
            best = v;
        }
    }
    if (best == nullptr) {
        return false;
    }
    structure.set(field, *best);
    return true;
}

bool fixate_field_string(Structure& structure, std::string_view field, std::string_view target) {
    const CapsValue* value = structure.get(field);
    if (value == nullptr) {
        return false;
    }
    const std::string* chosen = nullptr;
    for (const CapsValue& item : value->list_items()) {
        const auto* s = item.get_if<std::string>();
        if (s != nullptr && (chosen == nullptr || *s == target)) {
            chosen = s;
            if (*s == target) {
                break;
            }
        }
    }
    if (chosen == nullptr) {
        return false;
    }
    // Copy first: set() replaces the list that `chosen` points into.
    std::string result = *chosen;
    structure.set(field, std::move(result));
    return true;
}

Caps intersect(const Caps& a, const Caps& b) {
    if (a.is_empty() || b.is_empty()) {
        return Caps::empty();
    }
    if (a.is_any()) {
        return b;
    }
    if (b.is_any()) {
        return a;
    }
    Caps out;
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = 0; j < b.size(); ++j) {
            if (!features_equal(a.features(i), b.features(j))) {
                continue;
            }
            auto s = intersect(a.structure(i), b.structure(j));
            if (s && !covered(out, *s, a.features(i))) {
                out.append(std::move(*s), a.features(i));
            }
        }
    }
    return out;
}

bool can_intersect(const Caps& a, const Caps& b) {
    if (a.is_empty() || b.is_empty()) {
        return false;
    }
    if (a.is_any() || b.is_any()) {
        return true;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = 0; j < b.size(); ++j) {
            if (features_equal(a.features(i), b.features(j)) && intersect(a.structure(i), b.structure(j))) {
                return true;
            }
        }
    }
    return false;
}

bool is_subset(const Caps& a, const Caps& b) {
    if (b.is_any() || a.is_empty()) {
        return true;
    }
    if (a.is_any() || b.is_empty()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!covered(b, a.structure(i), a.features(i))) {
            return false;
        }
    }
    return true;
}

bool is_equal(const Caps& a, const Caps& b) {
    return is_subset(a, b) && is_subset(b, a);
}

Result<Caps> fixate(const Caps& caps) {
    if (caps.is_any()) {
        return fail(Errc::state, "cannot fixate ANY caps: there is no structure to choose");
    }
    if (caps.is_empty()) {
        return fail(Errc::state, "cannot fixate EMPTY caps: there is no structure to choose");
    }
    Caps out;
    out.append(fixate(caps.structure(0)), caps.features(0));
    return out;
}

Caps normalize(const Caps& caps) {
    if (caps.is_any() || caps.is_empty()) {
        return caps;
    }
    Caps out;
    for (std::size_t i = 0; i < caps.size(); ++i) {
        expand(caps.structure(i), caps.features(i), 0, out);
    }
    return out;
}

Caps simplify(const Caps& caps) {
    if (caps.is_any() || caps.is_empty()) {
        return caps;
    }
    Caps out;
    for (std::size_t i = 0; i < caps.size(); ++i) {
        const Structure& s = caps.structure(i);
        const CapsFeatures& f = caps.features(i);
        bool redundant = false;
        for (std::size_t j = 0; j < caps.size() && !redundant; ++j) {
            if (j == i || !features_equal(f, caps.features(j)) || !is_subset(s, caps.structure(j))) {
                continue;
            }
            // Of two equal structures, the later one goes. Subsets are
            // transitive, so whatever covers a dropped structure j also
            // covers i, and something that stays covers both.
            redundant = j < i || !is_subset(caps.structure(j), s);
        }
        if (!redundant) {
            out.append(s, f);
        }
    }
    return out;
}

Caps without_fields(const Caps& caps, std::initializer_list<std::string_view> fields) {
    if (caps.is_any() || caps.is_empty()) {
        return caps;
    }
    Caps out;
    for (std::size_t i = 0; i < caps.size(); ++i) {
        Structure s = caps.structure(i);
        for (std::string_view f : fields) {
            s.remove(f);
        }
        bool seen = false;
        for (std::size_t j = 0; j < out.size() && !seen; ++j) {
            seen = out.structure(j) == s && out.features(j) == caps.features(i);
        }
        if (!seen) {
            out.append(std::move(s), caps.features(i));
        }
    }
    return out;
}

} // namespace parallax
