#pragma once

// The drawing half of videotestsrc: GStreamer's test patterns, drawn
// straight into a frame of any VideoFormat with colours computed from the
// frame's colorimetry. Private to elements/video (videotestsrc.cpp and its
// tests).
//
// How a frame is drawn: a pattern paints one row at a time into a line of
// pixels already converted to the output's code values (Y, U, V, A or R, G,
// B, A; 16 bits each so that 10- and 16-bit formats need no second path);
// the line is then packed into the frame's planes, chroma filtered down
// where the format subsamples it. Rows that a pattern says repeat the row
// above are copied with memcpy instead of painted and packed again, so a bar
// pattern costs a few painted rows and a frame's worth of memcpy.

#include <parallax/video/video_info.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace parallax::detail {

/// videotestsrc's patterns, with GStreamer's numbers (GstVideoTestSrcPattern).
enum class VtsPattern : int {
    smpte = 0,
    snow = 1,
    black = 2,
    white = 3,
    red = 4,
    green = 5,
    blue = 6,
    checkers_1 = 7,
    checkers_2 = 8,
    checkers_4 = 9,
    checkers_8 = 10,
    circular = 11,
    blink = 12,
    smpte75 = 13,
    zone_plate = 14,
    gamut = 15,
    chroma_zone_plate = 16,
    solid_color = 17,
    ball = 18,
    smpte100 = 19,
    bar = 20,
    pinwheel = 21,
    spokes = 22,
    gradient = 23,
    colors = 24,
    smpte_rp_219 = 25,
};

/// False for the GStreamer patterns libparallax does not draw.
[[nodiscard]] bool vts_pattern_implemented(VtsPattern pattern) noexcept;

/// How the ball moves (GstVideoTestSrcMotionType).
enum class VtsMotion : int { wavy = 0, sweep = 1, hsweep = 2 };

/// The zone plate's phase coefficients (GStreamer's k0 ... kt2, xoffset,
/// yoffset properties), in 1/256 of a cycle.
struct VtsZonePlate {
    std::int32_t k0 = 0;
    std::int32_t kx = 0;
    std::int32_t ky = 0;
    std::int32_t kt = 0;
    std::int32_t kxt = 0;
    std::int32_t kyt = 0;
    std::int32_t kxy = 0;
    std::int32_t kx2 = 0;
    std::int32_t ky2 = 0;
    std::int32_t kt2 = 0;
    std::int32_t xoffset = 0;
    std::int32_t yoffset = 0;
};

/// What one frame shows.
struct VtsFrameParams {
    VtsPattern pattern = VtsPattern::smpte;
    std::uint32_t foreground = 0xffffffff; ///< ARGB, alpha in the top byte.
    std::uint32_t background = 0xff000000; ///< ARGB.
    std::uint64_t frame = 0;               ///< Frame number since the stream started (snow, blink, zone plate).
    double seconds = 0;                    ///< Animation time of the ball.
    VtsMotion motion = VtsMotion::wavy;
    bool flip = false;       ///< Ball: swap the colours every other second.
    std::int64_t scroll = 0; ///< Pixels the picture is scrolled to the left (any value; taken modulo the width).
    VtsZonePlate zone_plate;
};

/// One pixel as the output codes it: components in VideoFormat's component
/// order (Y, U, V, A or R, G, B, A; a gray format uses [0] and [3]), each at
/// the format's depth (0..255, 0..1023, 0..65535), not yet shifted.
struct VtsPixel {
    std::array<std::uint16_t, 4> c{};
    friend bool operator==(const VtsPixel&, const VtsPixel&) = default;
};

/// A colour to draw: non-linear R'G'B' from 0 to 1 (values below 0 stand for
/// "blacker than black" and reach YUV limited range below 16), alpha from 0
/// to 1. SMPTE's -I and +Q are chroma phases rather than colours; they carry
/// their Y'PbPr for YUV and gray outputs and GStreamer's RGB stand-ins.
struct VtsColour {
    double r = 0;
    double g = 0;
    double b = 0;
    double a = 1;
    bool has_ypbpr = false;
    double y = 0;
    double pb = 0;
    double pr = 0;
};

/// Converts colours to a format's codes, per its colorimetry: the matrix
/// (BT.601, BT.709, BT.2020, SMPTE 240M, FCC; RGB formats take R'G'B' as
/// they are) and the range (limited: 16-235 luma and RGB, 16-240 chroma at 8
/// bits, scaled by 4 at 10 bits and 256 at 16 bits; full: 0 to 2^depth - 1,
/// chroma centred on 2^(depth-1)). Values are rounded to nearest and
/// clamped to what the depth holds.
class VtsColourSpace {
public:
    explicit VtsColourSpace(const VideoInfo& info);
    [[nodiscard]] VtsPixel convert(const VtsColour& colour) const noexcept;
    /// Kr and Kb of the matrix in use.
    [[nodiscard]] double kr() const noexcept { return kr_; }
    [[nodiscard]] double kb() const noexcept { return kb_; }

private:
    VideoColorFamily family_;
    bool full_range_;
    int depth_;
    double kr_ = 0.299;
    double kb_ = 0.114;
};

/// Draws patterns into frames of one VideoInfo. Keeps its line buffers
/// between frames: make one per stream, call paint() per frame. Not thread
/// safe (one streaming thread).
class VtsPainter {
public:
    explicit VtsPainter(const VideoInfo& info);

    [[nodiscard]] const VideoInfo& info() const noexcept { return info_; }

    /// Draws the frame `params` describes into `frame` (at least
    /// info().size() bytes): every byte of the frame is written, row
    /// padding and the spare luma row of odd-height 4:2:0 frames as zeros.
    void paint(std::span<std::byte> frame, const VtsFrameParams& params);

    /// The snow generator: a 64-bit xorshift* stream seeded from the frame
    /// number with splitmix64, one byte of gray per pixel, row by row.
    /// Exposed for the tests.
    [[nodiscard]] static std::uint64_t snow_seed(std::uint64_t frame) noexcept;

private:
    struct Prepared;
    void prepare(const VtsFrameParams& params);
    [[nodiscard]] bool row_repeats(std::uint32_t y) const noexcept;
    void paint_row(std::uint32_t y, VtsPixel* line);
    void scroll_line(VtsPixel* line);
    void pack_row(std::span<std::byte> frame, std::uint32_t y, const VtsPixel* line, bool with_subsampled);
    void pack_chroma_420(std::span<std::byte> frame, std::uint32_t cy, const VtsPixel* a, const VtsPixel* b);
    void copy_row(std::span<std::byte> frame, std::size_t plane, std::size_t to, std::size_t from);
    void clear_padding(std::span<std::byte> frame);

    void fill(VtsPixel* line, std::uint32_t x0, std::uint32_t x1, const VtsPixel& p) const noexcept;
    void paint_smpte(std::uint32_t y, VtsPixel* line);
    void paint_bars(VtsPixel* line, std::span<const VtsPixel> colours) const;
    void paint_snow(VtsPixel* line, std::uint32_t x0, std::uint32_t x1);
    [[nodiscard]] bool ball_row_empty(std::uint32_t y) const noexcept;
    void paint_ball(std::uint32_t y, VtsPixel* line) const;
    void paint_circular(std::uint32_t y, VtsPixel* line) const;
    void paint_zone_plate(std::uint32_t y, VtsPixel* line) const;

    VideoInfo info_;
    VtsColourSpace colours_;
    bool chroma_cosited_h_ = false; // mpeg2-sited chroma: [1 2 1] instead of [1 1] horizontally
    std::uint32_t w_;
    std::uint32_t h_;

    // Per frame.
    VtsFrameParams params_;
    std::uint32_t scroll_ = 0;
    VtsPixel fg_{};
    VtsPixel bg_{};
    std::array<VtsPixel, 256> gray_{}; // gray levels 0..255, converted
    std::uint64_t rng_ = 0;
    // Ball geometry.
    double ball_x_ = 0;
    double ball_y_ = 0;
    double ball_r_ = 0;

    // Converted palettes (per stream).
    std::array<VtsPixel, 8> bars100_{};
    std::array<VtsPixel, 8> bars75_{};
    std::array<VtsPixel, 7> smpte_middle_{};
    std::array<VtsPixel, 7> smpte_bottom_{};

    std::vector<VtsPixel> line_a_;
    std::vector<VtsPixel> line_b_;
    std::vector<std::uint16_t> scratch_; // one component of a row
};

} // namespace parallax::detail
