#include "video/videotestsrc_paint.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace parallax::detail {

namespace {

constexpr double pi = std::numbers::pi;

VtsColour rgb(double r, double g, double b) {
    return VtsColour{.r = r, .g = g, .b = b};
}

// An ARGB property value as a colour.
VtsColour argb(std::uint32_t v) {
    return VtsColour{.r = static_cast<double>((v >> 16) & 0xff) / 255.0,
                     .g = static_cast<double>((v >> 8) & 0xff) / 255.0,
                     .b = static_cast<double>(v & 0xff) / 255.0,
                     .a = static_cast<double>(v >> 24) / 255.0};
}

// The colour a fraction `t` of the way from `from` to `to`, alpha included.
VtsColour mix(const VtsColour& from, const VtsColour& to, double t) {
    return VtsColour{.r = from.r + (to.r - from.r) * t,
                     .g = from.g + (to.g - from.g) * t,
                     .b = from.b + (to.b - from.b) * t,
                     .a = from.a + (to.a - from.a) * t};
}

// The ARGB colour num/den of the way from `from` to `to` in 8-bit steps,
// each channel rounded toward its start value (GStreamer's gradient steps,
// so that both draw the same rows).
std::uint32_t mix8(std::uint32_t from, std::uint32_t to, std::int64_t num, std::int64_t den) {
    std::uint32_t out = 0;
    for (int shift = 0; shift < 32; shift += 8) {
        const auto a = static_cast<std::int64_t>((from >> shift) & 0xff);
        const auto b = static_cast<std::int64_t>((to >> shift) & 0xff);
        const std::int64_t v = a + (b - a) * num / den; // C++ division truncates toward zero
        out |= static_cast<std::uint32_t>(v) << shift;
    }
    return out;
}

// SMPTE colours (RP 219 / EG 1 bars as GStreamer draws them).
const VtsColour white = rgb(1, 1, 1);
const VtsColour yellow = rgb(1, 1, 0);
const VtsColour cyan = rgb(0, 1, 1);
const VtsColour green = rgb(0, 1, 0);
const VtsColour magenta = rgb(1, 0, 1);
const VtsColour red = rgb(1, 0, 0);
const VtsColour blue = rgb(0, 0, 1);
const VtsColour black = rgb(0, 0, 0);
// 4 steps of 8-bit limited-range luma below and above black: the PLUGE.
const VtsColour super_black = rgb(-16.0 / 219.0, -16.0 / 219.0, -16.0 / 219.0);
const VtsColour dark_grey = rgb(16.0 / 219.0, 16.0 / 219.0, 16.0 / 219.0);
// -I and +Q are chroma phases of the composite signal, not RGB colours:
// YUV outputs get their Pb/Pr (GStreamer's values, 8-bit 198/21 and
// 235/198 at any matrix), RGB outputs GStreamer's stand-ins (0, 0, 128) and
// (0, 128, 255).
const VtsColour minus_i{
    .r = 0, .g = 0, .b = 128.0 / 255.0, .has_ypbpr = true, .y = 0, .pb = 70.0 / 224.0, .pr = -107.0 / 224.0};
const VtsColour plus_q{
    .r = 0, .g = 128.0 / 255.0, .b = 1, .has_ypbpr = true, .y = 0, .pb = 107.0 / 224.0, .pr = 70.0 / 224.0};

VtsColour scaled(const VtsColour& c, double k) {
    return rgb(c.r * k, c.g * k, c.b * k);
}

// SplitMix64 (Steele, Lea, Flood 2014): spreads a frame number into a seed.
std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// xorshift64* (Vigna 2016).
std::uint64_t next_random(std::uint64_t& state) noexcept {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dULL;
}

// One period of a sine in 256 steps, from 0 to 255 (128 at phase 0). Made
// on first use, not while every program starts.
const std::array<std::uint8_t, 256>& sine_table() {
    static const std::array<std::uint8_t, 256> table = [] {
        std::array<std::uint8_t, 256> t{};
        for (std::size_t i = 0; i < t.size(); ++i) {
            t[i] = static_cast<std::uint8_t>(
                std::floor(127.5 + 127.5 * std::sin(2.0 * pi * static_cast<double>(i) / 256.0) + 0.5));
        }
        return t;
    }();
    return table;
}

// The chroma sample at luma column `x` (even) of a row halved horizontally:
// co-sited chroma (mpeg2 and the other h-cosited sites) is filtered
// [1 2 1] / 4 around column x, centred chroma (jpeg, or unknown) averages
// columns x and x + 1; the row's ends repeat its first and last sample.
// `get(i)` reads column i.
template <class Get>
std::uint32_t half_sample(const Get& get, std::uint32_t x, std::uint32_t w, bool cosited) {
    const std::uint32_t here = get(x);
    const std::uint32_t next = x + 1 < w ? get(x + 1) : here;
    if (cosited) {
        const std::uint32_t prev = x > 0 ? get(x - 1) : here;
        return (prev + 2 * here + next + 2) >> 2;
    }
    return (here + next + 1) >> 1;
}

void put8(std::byte* p, std::uint16_t v) noexcept {
    *p = static_cast<std::byte>(v);
}
void put16(std::byte* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::byte>(v & 0xff);
    p[1] = static_cast<std::byte>(v >> 8);
}

} // namespace

bool vts_pattern_implemented(VtsPattern pattern) noexcept {
    switch (pattern) {
    case VtsPattern::gamut:
    case VtsPattern::chroma_zone_plate:
    case VtsPattern::pinwheel:
    case VtsPattern::spokes:
    case VtsPattern::colors:
    case VtsPattern::smpte_rp_219:
        return false;
    default:
        return true;
    }
}

// --- colours ----------------------------------------------------------------

VtsColourSpace::VtsColourSpace(const VideoInfo& info)
    : family_(info.format_info().family), full_range_(false), depth_(info.format_info().depth) {
    const VideoColorimetry& c = info.colorimetry();
    // Unknown range: what the family usually has.
    full_range_ =
        c.range == VideoColorRange::full || (c.range == VideoColorRange::unknown && family_ == VideoColorFamily::rgb);
    switch (c.matrix) {
    case VideoColorMatrix::bt709:
        kr_ = 0.2126;
        kb_ = 0.0722;
        break;
    case VideoColorMatrix::bt2020:
        kr_ = 0.2627;
        kb_ = 0.0593;
        break;
    case VideoColorMatrix::smpte240m:
        kr_ = 0.212;
        kb_ = 0.087;
        break;
    case VideoColorMatrix::fcc:
        kr_ = 0.30;
        kb_ = 0.11;
        break;
    default: // BT.601, and what VideoInfo leaves unknown
        kr_ = 0.299;
        kb_ = 0.114;
        break;
    }
}

VtsPixel VtsColourSpace::convert(const VtsColour& colour) const noexcept {
    const double max = static_cast<double>((1U << depth_) - 1U);
    const double step = static_cast<double>(1U << (depth_ - 8)); // 8-bit code 1 at this depth
    auto code = [max](double v) { return static_cast<std::uint16_t>(std::clamp(std::floor(v + 0.5), 0.0, max)); };
    VtsPixel p;
    p.c[3] = code(std::clamp(colour.a, 0.0, 1.0) * max);
    if (family_ == VideoColorFamily::rgb) {
        const double rgb[3] = {colour.r, colour.g, colour.b};
        for (std::size_t i = 0; i < 3; ++i) {
            p.c[i] = full_range_ ? code(rgb[i] * max) : code((16.0 + 219.0 * rgb[i]) * step);
        }
        return p;
    }
    double y = colour.y;
    double pb = colour.pb;
    double pr = colour.pr;
    if (!colour.has_ypbpr) {
        y = kr_ * colour.r + (1.0 - kr_ - kb_) * colour.g + kb_ * colour.b;
        pb = (colour.b - y) / (2.0 * (1.0 - kb_));
        pr = (colour.r - y) / (2.0 * (1.0 - kr_));
    }
    if (full_range_) {
        const double mid = static_cast<double>(1U << (depth_ - 1));
        p.c[0] = code(y * max);
        p.c[1] = code(mid + pb * max);
        p.c[2] = code(mid + pr * max);
    } else {
        p.c[0] = code((16.0 + 219.0 * y) * step);
        p.c[1] = code((128.0 + 224.0 * pb) * step);
        p.c[2] = code((128.0 + 224.0 * pr) * step);
    }
    if (family_ == VideoColorFamily::gray) {
        p.c[1] = 0;
        p.c[2] = 0;
    }
    return p;
}

// --- the painter ------------------------------------------------------------

VtsPainter::VtsPainter(const VideoInfo& info) : info_(info), colours_(info), w_(info.width()), h_(info.height()) {
    // Horizontally co-sited chroma (mpeg2, cosited, dv...) is filtered
    // [1 2 1] / 4 around its luma sample; centred chroma (jpeg, or unknown)
    // averages the two luma samples it sits between.
    if (auto site = info.chroma_site()) {
        chroma_cosited_h_ = (static_cast<unsigned>(*site) & 2U) != 0;
    }
    const std::array<VtsColour, 8> bars = {white, yellow, cyan, green, magenta, red, blue, black};
    for (std::size_t i = 0; i < bars.size(); ++i) {
        bars100_[i] = colours_.convert(bars[i]);
        bars75_[i] = colours_.convert(scaled(bars[i], 0.75));
    }
    const std::array<VtsColour, 7> middle = {blue, black, magenta, black, cyan, black, white};
    for (std::size_t i = 0; i < middle.size(); ++i) {
        smpte_middle_[i] = colours_.convert(middle[i]);
    }
    const std::array<VtsColour, 7> bottom = {minus_i, white, plus_q, super_black, black, dark_grey, black};
    for (std::size_t i = 0; i < bottom.size(); ++i) {
        smpte_bottom_[i] = colours_.convert(bottom[i]);
    }
    // One spare pixel on each side for the chroma filters.
    line_a_.resize(static_cast<std::size_t>(w_) + 2);
    line_b_.resize(static_cast<std::size_t>(w_) + 2);
    scratch_.resize(static_cast<std::size_t>(w_));
}

std::uint64_t VtsPainter::snow_seed(std::uint64_t frame) noexcept {
    const std::uint64_t s = splitmix64(frame);
    return s != 0 ? s : 1; // xorshift never leaves 0
}

void VtsPainter::prepare(const VtsFrameParams& params) {
    params_ = params;
    const auto w = static_cast<std::int64_t>(w_);
    scroll_ = static_cast<std::uint32_t>(((params.scroll % w) + w) % w);
    VtsColour fg = argb(params.foreground);
    VtsColour bg = argb(params.background);
    if (params.pattern == VtsPattern::ball && params.flip &&
        std::fmod(std::floor(std::abs(params.seconds)), 2.0) != 0.0) {
        std::swap(fg, bg);
    }
    fg_ = colours_.convert(fg);
    bg_ = colours_.convert(bg);
    switch (params.pattern) {
    case VtsPattern::snow:
    case VtsPattern::circular:
    case VtsPattern::zone_plate:
        // Levels from the background (0) to the foreground (255).
        for (std::size_t i = 0; i < gray_.size(); ++i) {
            gray_[i] = colours_.convert(mix(bg, fg, static_cast<double>(i) / 255.0));
        }
        break;
    case VtsPattern::smpte:
        // The snow in the corner of the SMPTE bars is gray, whatever the
        // foreground and background.
        for (std::size_t i = 0; i < gray_.size(); ++i) {
            const double v = static_cast<double>(i) / 255.0;
            gray_[i] = colours_.convert(rgb(v, v, v));
        }
        break;
    default:
        break;
    }
    rng_ = snow_seed(params.frame);
    if (params.pattern == VtsPattern::ball) {
        const double w_d = static_cast<double>(w_);
        const double h_d = static_cast<double>(h_);
        ball_r_ = std::max(1.0, std::min(w_d, h_d) / 12.0);
        const double rx = std::max(0.0, w_d / 2.0 - ball_r_);
        const double ry = std::max(0.0, h_d / 2.0 - ball_r_);
        const double t = params.seconds;
        double angle = 0;
        switch (params.motion) {
        case VtsMotion::wavy:
            ball_x_ = w_d / 2.0 + rx * std::sin(2.0 * pi * t / 3.0);
            ball_y_ = h_d / 2.0 + ry * std::sin(2.0 * pi * t / 2.0);
            break;
        case VtsMotion::sweep:
            angle = 2.0 * pi * t;
            ball_x_ = w_d / 2.0 + rx * std::sin(angle);
            ball_y_ = h_d / 2.0 - ry * std::cos(angle);
            break;
        case VtsMotion::hsweep:
            angle = pi * (t - std::floor(t));
            ball_x_ = w_d / 2.0 + rx * std::sin(angle);
            ball_y_ = h_d / 2.0 - ry * std::cos(angle);
            break;
        }
    }
}

bool VtsPainter::row_repeats(std::uint32_t y) const noexcept {
    if (y == 0) {
        return false;
    }
    switch (params_.pattern) {
    case VtsPattern::black:
    case VtsPattern::white:
    case VtsPattern::red:
    case VtsPattern::green:
    case VtsPattern::blue:
    case VtsPattern::solid_color:
    case VtsPattern::blink:
    case VtsPattern::smpte75:
    case VtsPattern::smpte100:
    case VtsPattern::bar:
        return true;
    case VtsPattern::smpte: {
        const auto y1 = static_cast<std::uint32_t>(std::uint64_t{h_} * 2 / 3);
        const auto y2 = static_cast<std::uint32_t>(std::uint64_t{h_} * 3 / 4);
        return y != y1 && y < y2;
    }
    case VtsPattern::checkers_1:
    case VtsPattern::checkers_2:
    case VtsPattern::checkers_4:
    case VtsPattern::checkers_8: {
        const unsigned shift = static_cast<unsigned>(params_.pattern) - static_cast<unsigned>(VtsPattern::checkers_1);
        return (y >> shift) == ((y - 1) >> shift);
    }
    case VtsPattern::gradient:
        return mix8(params_.background, params_.foreground, y, h_) ==
               mix8(params_.background, params_.foreground, y - 1, h_);
    case VtsPattern::ball:
        return ball_row_empty(y) && ball_row_empty(y - 1);
    case VtsPattern::zone_plate: {
        const VtsZonePlate& z = params_.zone_plate;
        return z.ky == 0 && z.ky2 == 0 && z.kyt == 0 && z.kxy == 0;
    }
    default:
        return false;
    }
}

void VtsPainter::fill(VtsPixel* line, std::uint32_t x0, std::uint32_t x1, const VtsPixel& p) const noexcept {
    x1 = std::min(x1, w_);
    if (x0 < x1) {
        std::fill(line + x0, line + x1, p);
    }
}

void VtsPainter::paint_bars(VtsPixel* line, std::span<const VtsPixel> colours) const {
    // Seven bars; bar i covers [i * w / 7, (i + 1) * w / 7).
    for (std::uint32_t i = 0; i < 7; ++i) {
        fill(line, static_cast<std::uint32_t>(std::uint64_t{w_} * i / 7),
             static_cast<std::uint32_t>(std::uint64_t{w_} * (i + 1) / 7), colours[i]);
    }
}

void VtsPainter::paint_snow(VtsPixel* line, std::uint32_t x0, std::uint32_t x1) {
    std::uint64_t r = 0;
    unsigned left = 0;
    for (std::uint32_t x = x0; x < x1; ++x) {
        if (left == 0) {
            r = next_random(rng_);
            left = 8;
        }
        line[x] = gray_[r & 0xff];
        r >>= 8;
        --left;
    }
}

void VtsPainter::paint_smpte(std::uint32_t y, VtsPixel* line) {
    const std::uint64_t w = w_;
    if (std::uint64_t{y} < std::uint64_t{h_} * 2 / 3) {
        paint_bars(line, bars100_);
    } else if (std::uint64_t{y} < std::uint64_t{h_} * 3 / 4) {
        paint_bars(line, smpte_middle_);
    } else {
        // -I, white, +Q in sixths of the width up to the middle, then the
        // PLUGE (super black, black, dark grey) in twelfths from the middle,
        // then snow: GStreamer's edges, rounded down.
        const std::uint64_t mid = w / 2;
        const std::uint64_t edges[] = {0, w / 6, w * 2 / 6, mid, mid + w / 12, mid + w * 2 / 12, mid + w * 3 / 12};
        for (std::size_t i = 0; i + 1 < std::size(edges); ++i) {
            fill(line, static_cast<std::uint32_t>(edges[i]), static_cast<std::uint32_t>(edges[i + 1]),
                 smpte_bottom_[i]);
        }
        paint_snow(line, static_cast<std::uint32_t>(edges[6]), w_);
    }
}

bool VtsPainter::ball_row_empty(std::uint32_t y) const noexcept {
    return std::abs(static_cast<double>(y) + 0.5 - ball_y_) > ball_r_ + 1.0;
}

void VtsPainter::paint_ball(std::uint32_t y, VtsPixel* line) const {
    fill(line, 0, w_, bg_);
    if (ball_row_empty(y)) {
        return;
    }
    const double dy = static_cast<double>(y) + 0.5 - ball_y_;
    const double half = std::sqrt(std::max(0.0, (ball_r_ + 1.0) * (ball_r_ + 1.0) - dy * dy));
    const auto x0 = static_cast<std::int64_t>(std::floor(ball_x_ - half));
    const auto x1 = static_cast<std::int64_t>(std::ceil(ball_x_ + half));
    for (std::int64_t x = std::max<std::int64_t>(x0, 0); x < std::min<std::int64_t>(x1, w_); ++x) {
        const double dx = static_cast<double>(x) + 0.5 - ball_x_;
        // Coverage of the pixel by the disc, from the distance of its centre
        // to the edge: a one-pixel soft edge.
        const double cover = std::clamp(ball_r_ + 0.5 - std::sqrt(dx * dx + dy * dy), 0.0, 1.0);
        if (cover <= 0.0) {
            continue;
        }
        const auto k = static_cast<std::int32_t>(std::lround(cover * 256.0));
        VtsPixel& p = line[x];
        for (std::size_t c = 0; c < 4; ++c) {
            const std::int32_t b = bg_.c[c];
            const std::int32_t f = fg_.c[c];
            p.c[c] = static_cast<std::uint16_t>(b + ((f - b) * k + 128) / 256);
        }
    }
}

void VtsPainter::paint_circular(std::uint32_t y, VtsPixel* line) const {
    const auto& sine = sine_table();
    // Rings around the centre whose frequency grows with the radius: the
    // level is the cosine of r^2 / 4R cycles (in 256 steps), 1 in the middle
    // and a quarter cycle per pixel at the edge of the circle of radius R =
    // half the larger side; the background outside the circle.
    const double radius = static_cast<double>(std::max(w_, h_)) / 2.0;
    const double steps_per_r2 = 64.0 / radius; // 256 steps per cycle, r^2 / 4R cycles
    const double cy = static_cast<double>(h_) / 2.0;
    const double cx = static_cast<double>(w_) / 2.0;
    const double dy = static_cast<double>(y) + 0.5 - cy;
    for (std::uint32_t x = 0; x < w_; ++x) {
        const double dx = static_cast<double>(x) + 0.5 - cx;
        const double r2 = dx * dx + dy * dy;
        if (r2 > radius * radius) {
            line[x] = bg_;
            continue;
        }
        // cos(a) = sin(a + quarter cycle).
        const auto step = static_cast<std::uint64_t>(r2 * steps_per_r2) + 64;
        line[x] = gray_[sine[step & 0xff]];
    }
}

void VtsPainter::paint_zone_plate(std::uint32_t y, VtsPixel* line) const {
    const auto& sine = sine_table();
    // phase (1/256 cycle) = k0 + kx x + ky y + kt t + kt2 t^2 / 256
    //   + kx2 xc^2 / w + ky2 yc^2 / h + kxy xc yc / w + kxt xc t / w + kyt yc t / h,
    // where x, y count pixels from the top left, xc, yc from the point
    // (w / 2 + xoffset, h / 2 + yoffset), and t frames modulo 65536: kx2 is
    // then kx2/256 cycles per pixel at w/2 from that point, as GStreamer
    // describes it. 128-bit products: any coefficient at any size is
    // defined (only the phase modulo 256 matters).
    __extension__ using Wide = __int128;
    const VtsZonePlate& z = params_.zone_plate;
    const auto t = static_cast<Wide>(params_.frame % 65536);
    const auto w = static_cast<Wide>(w_);
    const auto h = static_cast<Wide>(h_);
    const Wide yc = static_cast<Wide>(y) - h / 2 - z.yoffset;
    const Wide row = Wide{z.k0} + Wide{z.ky} * y + Wide{z.kt} * t + Wide{z.kt2} * t * t / 256 +
                     Wide{z.ky2} * yc * yc / h + Wide{z.kyt} * yc * t / h;
    for (std::uint32_t x = 0; x < w_; ++x) {
        const Wide xc = static_cast<Wide>(x) - w / 2 - z.xoffset;
        const Wide phase =
            row + Wide{z.kx} * x + Wide{z.kx2} * xc * xc / w + Wide{z.kxy} * xc * yc / w + Wide{z.kxt} * xc * t / w;
        line[x] = gray_[sine[static_cast<std::size_t>(static_cast<std::uint64_t>(phase) & 0xff)]];
    }
}

void VtsPainter::paint_row(std::uint32_t y, VtsPixel* line) {
    switch (params_.pattern) {
    case VtsPattern::smpte:
        paint_smpte(y, line);
        break;
    case VtsPattern::smpte75:
        paint_bars(line, bars75_);
        break;
    case VtsPattern::smpte100:
        paint_bars(line, bars100_);
        break;
    case VtsPattern::snow:
        paint_snow(line, 0, w_);
        break;
    case VtsPattern::black:
        fill(line, 0, w_, bars100_[7]);
        break;
    case VtsPattern::white:
        fill(line, 0, w_, bars100_[0]);
        break;
    case VtsPattern::red:
        fill(line, 0, w_, bars100_[5]);
        break;
    case VtsPattern::green:
        fill(line, 0, w_, bars100_[3]);
        break;
    case VtsPattern::blue:
        fill(line, 0, w_, bars100_[6]);
        break;
    case VtsPattern::solid_color:
        fill(line, 0, w_, fg_);
        break;
    case VtsPattern::checkers_1:
    case VtsPattern::checkers_2:
    case VtsPattern::checkers_4:
    case VtsPattern::checkers_8: {
        // Red and green squares of 1, 2, 4 or 8 pixels, red at the top left.
        const unsigned shift = static_cast<unsigned>(params_.pattern) - static_cast<unsigned>(VtsPattern::checkers_1);
        const std::uint32_t size = 1U << shift;
        bool odd = ((y >> shift) & 1U) != 0;
        for (std::uint32_t x = 0; x < w_; x += size) {
            fill(line, x, x + size, odd ? bars100_[3] : bars100_[5]);
            odd = !odd;
        }
        break;
    }
    case VtsPattern::blink:
        fill(line, 0, w_, params_.frame % 2 == 0 ? bg_ : fg_);
        break;
    case VtsPattern::bar:
        // A vertical bar a seventh of the width wide, at the left (moved by
        // horizontal-speed like any pattern).
        fill(line, 0, w_ / 7, fg_);
        fill(line, w_ / 7, w_, bg_);
        break;
    case VtsPattern::gradient:
        fill(line, 0, w_, colours_.convert(argb(mix8(params_.background, params_.foreground, y, h_))));
        break;
    case VtsPattern::ball:
        paint_ball(y, line);
        break;
    case VtsPattern::circular:
        paint_circular(y, line);
        break;
    case VtsPattern::zone_plate:
        paint_zone_plate(y, line);
        break;
    default:
        // Refused when the property is set; black if one slips through.
        fill(line, 0, w_, bars100_[7]);
        break;
    }
}

void VtsPainter::scroll_line(VtsPixel* line) {
    if (scroll_ == 0) {
        return;
    }
    std::rotate(line, line + scroll_, line + w_);
}

// --- packing ----------------------------------------------------------------

void VtsPainter::pack_row(std::span<std::byte> frame, std::uint32_t y, const VtsPixel* line, bool with_subsampled) {
    const VideoFormatInfo& fi = info_.format_info();
    std::byte* const base = frame.data();
    const bool wide = fi.bits > 8;
    for (std::size_t c = 0; c < fi.n_components; ++c) {
        const VideoComponentInfo& comp = fi.components[c];
        if (comp.y_sub != 0 && !with_subsampled) {
            continue;
        }
        std::byte* dst = base + info_.offset(comp.plane) + std::size_t{y} * info_.stride(comp.plane) + comp.offset;
        const std::size_t ps = comp.pixel_stride;
        const unsigned shift = comp.shift;
        if (comp.x_sub == 0) {
            if (wide) {
                for (std::uint32_t x = 0; x < w_; ++x) {
                    put16(dst + x * ps, static_cast<std::uint16_t>(line[x].c[c] << shift));
                }
            } else {
                for (std::uint32_t x = 0; x < w_; ++x) {
                    put8(dst + x * ps, line[x].c[c]);
                }
            }
            continue;
        }
        // Horizontally halved chroma.
        const std::uint32_t n = info_.component_width(c);
        const auto get = [line, c](std::uint32_t x) -> std::uint32_t { return line[x].c[c]; };
        for (std::uint32_t i = 0; i < n; ++i) {
            const std::uint32_t v = half_sample(get, 2 * i, w_, chroma_cosited_h_);
            if (wide) {
                put16(dst + i * ps, static_cast<std::uint16_t>(v << shift));
            } else {
                put8(dst + i * ps, static_cast<std::uint16_t>(v));
            }
        }
    }
    if ((fi.format == VideoFormat::yuy2 || fi.format == VideoFormat::uyvy) && w_ % 2 == 1) {
        // The second luma of the last pair lies outside the picture: 0.
        const VideoComponentInfo& luma = fi.components[0];
        base[std::size_t{y} * info_.stride(0) + luma.offset + std::size_t{w_} * luma.pixel_stride] = std::byte{0};
    }
    if (fi.format == VideoFormat::rgbx || fi.format == VideoFormat::bgrx) {
        // The unused byte: 0xff, as GStreamer writes it (opaque if read as alpha).
        std::byte* dst = base + std::size_t{y} * info_.stride(0) + 3;
        for (std::uint32_t x = 0; x < w_; ++x) {
            dst[std::size_t{x} * 4] = std::byte{0xff};
        }
    }
}

void VtsPainter::pack_chroma_420(std::span<std::byte> frame, std::uint32_t cy, const VtsPixel* a, const VtsPixel* b) {
    // The chroma of a 4:2:0 row pair sits between its two rows: average the
    // rows, then halve the result horizontally (GStreamer's order, whose
    // rounding this follows).
    const VideoFormatInfo& fi = info_.format_info();
    std::byte* const base = frame.data();
    const bool wide = fi.bits > 8;
    std::uint16_t* const column = scratch_.data();
    for (std::size_t c = 1; c < 3; ++c) {
        for (std::uint32_t x = 0; x < w_; ++x) {
            column[x] = static_cast<std::uint16_t>((a[x].c[c] + b[x].c[c] + 1U) >> 1);
        }
        const VideoComponentInfo& comp = fi.components[c];
        std::byte* dst = base + info_.offset(comp.plane) + std::size_t{cy} * info_.stride(comp.plane) + comp.offset;
        const std::size_t ps = comp.pixel_stride;
        const std::uint32_t n = info_.component_width(c);
        const auto get = [column](std::uint32_t x) -> std::uint32_t { return column[x]; };
        for (std::uint32_t i = 0; i < n; ++i) {
            const std::uint32_t v = half_sample(get, 2 * i, w_, chroma_cosited_h_);
            if (wide) {
                put16(dst + i * ps, static_cast<std::uint16_t>(v << comp.shift));
            } else {
                put8(dst + i * ps, static_cast<std::uint16_t>(v));
            }
        }
    }
}

void VtsPainter::copy_row(std::span<std::byte> frame, std::size_t plane, std::size_t to, std::size_t from) {
    std::byte* base = frame.data() + info_.offset(plane);
    const std::size_t stride = info_.stride(plane);
    std::memcpy(base + to * stride, base + from * stride, info_.row_size(plane));
}

void VtsPainter::clear_padding(std::span<std::byte> frame) {
    for (std::size_t p = 0; p < info_.n_planes(); ++p) {
        const std::size_t stride = info_.stride(p);
        const std::size_t used = info_.row_size(p);
        std::byte* base = frame.data() + info_.offset(p);
        if (stride > used) {
            for (std::size_t r = 0; r < info_.plane_rows(p); ++r) {
                std::memset(base + r * stride + used, 0, stride - used);
            }
        }
    }
    // Spare rows past the picture: the luma row that gives an odd-height
    // 4:2:0 frame whole chroma rows, the even row count of I422_10LE/12LE.
    const VideoFormatInfo& fi = info_.format_info();
    for (std::size_t p = 0; p < info_.n_planes(); ++p) {
        const std::size_t painted =
            (std::size_t{h_} + (std::size_t{1} << fi.planes[p].y_sub) - 1) >> fi.planes[p].y_sub;
        const std::size_t rows = info_.plane_rows(p);
        if (rows > painted) {
            std::memset(frame.data() + info_.offset(p) + painted * info_.stride(p), 0,
                        (rows - painted) * info_.stride(p));
        }
    }
}

void VtsPainter::paint(std::span<std::byte> frame, const VtsFrameParams& params) {
    prepare(params);
    const VideoFormatInfo& fi = info_.format_info();
    clear_padding(frame);
    VtsPixel* const buf_a = line_a_.data();
    VtsPixel* const buf_b = line_b_.data();
    auto paint_into = [&](std::uint32_t y, VtsPixel* line) {
        paint_row(y, line);
        scroll_line(line);
    };
    // Planes whose rows follow the picture's rows one to one.
    std::array<bool, VideoInfo::max_planes> full_rows{};
    for (std::size_t p = 0; p < info_.n_planes(); ++p) {
        full_rows[p] = fi.planes[p].y_sub == 0;
    }
    auto copy_full_rows = [&](std::uint32_t y) {
        for (std::size_t p = 0; p < info_.n_planes(); ++p) {
            if (full_rows[p]) {
                copy_row(frame, p, y, y - 1);
            }
        }
    };

    if (fi.y_chroma_shift == 0) {
        for (std::uint32_t y = 0; y < h_; ++y) {
            if (row_repeats(y)) {
                copy_full_rows(y);
            } else {
                paint_into(y, buf_a);
                pack_row(frame, y, buf_a, true);
            }
        }
        return;
    }

    // 4:2:0: rows in pairs, so that each chroma row sees both its rows.
    const VtsPixel* current = nullptr; // the content of the last row handled
    for (std::uint32_t ya = 0; ya < h_; ya += 2) {
        const std::uint32_t yb = std::min(ya + 1, h_ - 1);
        const std::uint32_t cy = ya / 2;
        const bool repeat_a = row_repeats(ya);
        const bool repeat_b = yb == ya || row_repeats(yb);
        const VtsPixel* line_a = current;
        if (repeat_a) {
            copy_full_rows(ya);
        } else {
            paint_into(ya, buf_a);
            pack_row(frame, ya, buf_a, false);
            line_a = buf_a;
        }
        const VtsPixel* line_b = line_a;
        if (yb != ya) {
            if (repeat_b) {
                copy_full_rows(yb);
            } else {
                VtsPixel* other = line_a == buf_a ? buf_b : buf_a;
                paint_into(yb, other);
                pack_row(frame, yb, other, false);
                line_b = other;
            }
        }
        if (cy > 0 && repeat_a && repeat_b && row_repeats(ya - 1)) {
            for (std::size_t p = 0; p < info_.n_planes(); ++p) {
                if (!full_rows[p]) {
                    copy_row(frame, p, cy, cy - 1);
                }
            }
        } else {
            pack_chroma_420(frame, cy, line_a, line_b);
        }
        current = line_b;
    }
}

} // namespace parallax::detail
