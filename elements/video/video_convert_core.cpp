// The conversion paths of video_convert_core.hpp. Correct first: every path
// rounds to nearest against the exact colour equations; the fast ones
// (libyuv repacking, the YUV to RGB kernel) are used only where they give
// those same results. libyuv's own YUV<->RGB matrices are not used: its
// fixed-point constants clamp the U->B coefficient at 2.0 (so limited-range
// BT.709 blue comes out about 9 levels low) and its RGB->YUV truncates.

#include "video/video_convert_core.hpp"

#include <libyuv.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#ifdef PARALLAX_VIDEO_X86 // video/video_convert_core.hpp
#include <immintrin.h>
#endif

namespace parallax::detail {

std::string_view to_string(VideoConvertPath path) noexcept {
    switch (path) {
    case VideoConvertPath::copy:
        return "copy";
    case VideoConvertPath::repack_yuv:
        return "repack-yuv";
    case VideoConvertPath::repack_rgb:
        return "repack-rgb";
    case VideoConvertPath::repack_10bit:
        return "repack-10bit";
    case VideoConvertPath::repack_depth:
        return "repack-depth";
    case VideoConvertPath::yuv_to_rgb:
        return "yuv-to-rgb";
    case VideoConvertPath::generic:
        return "generic";
    }
    return "generic";
}

VideoColourModel colour_model(const VideoInfo& info) noexcept {
    const VideoFormatInfo& f = info.format_info();
    const VideoColorimetry& c = info.colorimetry();
    VideoColourModel m;
    m.ycbcr = !f.is_rgb();
    m.depth = f.depth;
    m.full = c.range == VideoColorRange::unknown ? !f.is_yuv() : c.range == VideoColorRange::full;
    switch (c.matrix) {
    case VideoColorMatrix::bt709:
        m.kr = 0.2126;
        m.kb = 0.0722;
        break;
    case VideoColorMatrix::bt2020:
        m.kr = 0.2627;
        m.kb = 0.0593;
        break;
    case VideoColorMatrix::smpte240m:
        m.kr = 0.212;
        m.kb = 0.087;
        break;
    case VideoColorMatrix::fcc:
        m.kr = 0.30;
        m.kb = 0.11;
        break;
    default: // bt601, and what VideoInfo leaves unknown
        m.kr = 0.299;
        m.kb = 0.114;
        break;
    }
    return m;
}

std::array<std::uint32_t, 4> black_values(const VideoInfo& info) noexcept {
    const VideoColourModel m = colour_model(info);
    const std::uint32_t scale = 1U << (m.depth - 8);
    const std::uint32_t low = m.full ? 0 : 16 * scale;
    const std::uint32_t opaque = (1U << m.depth) - 1;
    if (m.ycbcr) {
        const std::uint32_t mid = 1U << (m.depth - 1);
        return {low, mid, mid, opaque};
    }
    return {low, low, low, opaque};
}

namespace {

using u8 = std::uint8_t;

// --- colour equations --------------------------------------------------------

// out = m * (in0, in1, in2) + m[.][3], in code values of each side.
struct Affine {
    std::array<std::array<double, 4>, 3> m{};
};

// b first, then a.
Affine compose(const Affine& a, const Affine& b) {
    Affine r;
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 4; ++j) {
            double v = j == 3 ? a.m[i][3] : 0.0;
            for (int k = 0; k < 3; ++k) {
                v += a.m[i][k] * b.m[k][j];
            }
            r.m[i][j] = v;
        }
    }
    return r;
}

struct Levels {
    double y_off, y_range, c_off, c_range;
};

// Where black, white and neutral chroma sit. Depths above 8 bits scale the
// 8-bit levels by shifting (as BT.2100 and GStreamer do).
Levels levels(const VideoColourModel& c) {
    const double scale = std::ldexp(1.0, static_cast<int>(c.depth) - 8);
    const double max = std::ldexp(1.0, static_cast<int>(c.depth)) - 1.0;
    if (c.full) {
        return {0.0, max, std::ldexp(1.0, static_cast<int>(c.depth) - 1), max};
    }
    return {16.0 * scale, 219.0 * scale, 128.0 * scale, 224.0 * scale};
}

// Code values to R'G'B' in [0, 1].
Affine to_rgb(const VideoColourModel& c) {
    const Levels l = levels(c);
    Affine a;
    if (!c.ycbcr) {
        for (int i = 0; i < 3; ++i) {
            a.m[i][i] = 1.0 / l.y_range;
            a.m[i][3] = -l.y_off / l.y_range;
        }
        return a;
    }
    const double kg = 1.0 - c.kr - c.kb;
    // Y'PbPr from codes, then R'G'B' from Y'PbPr.
    Affine n;
    n.m[0][0] = 1.0 / l.y_range;
    n.m[0][3] = -l.y_off / l.y_range;
    n.m[1][1] = 1.0 / l.c_range;
    n.m[1][3] = -l.c_off / l.c_range;
    n.m[2][2] = 1.0 / l.c_range;
    n.m[2][3] = -l.c_off / l.c_range;
    Affine t;
    t.m[0] = {1.0, 0.0, 2.0 * (1.0 - c.kr), 0.0};
    t.m[1] = {1.0, -2.0 * (1.0 - c.kb) * c.kb / kg, -2.0 * (1.0 - c.kr) * c.kr / kg, 0.0};
    t.m[2] = {1.0, 2.0 * (1.0 - c.kb), 0.0, 0.0};
    return compose(t, n);
}

// R'G'B' in [0, 1] to code values.
Affine from_rgb(const VideoColourModel& c) {
    const Levels l = levels(c);
    Affine a;
    if (!c.ycbcr) {
        for (int i = 0; i < 3; ++i) {
            a.m[i][i] = l.y_range;
            a.m[i][3] = l.y_off;
        }
        return a;
    }
    const double kg = 1.0 - c.kr - c.kb;
    Affine t; // Y'PbPr from R'G'B'
    t.m[0] = {c.kr, kg, c.kb, 0.0};
    t.m[1] = {-c.kr / (2.0 * (1.0 - c.kb)), -kg / (2.0 * (1.0 - c.kb)), 0.5, 0.0};
    t.m[2] = {0.5, -kg / (2.0 * (1.0 - c.kr)), -c.kb / (2.0 * (1.0 - c.kr)), 0.0};
    Affine n;
    n.m[0][0] = l.y_range;
    n.m[0][3] = l.y_off;
    n.m[1][1] = l.c_range;
    n.m[1][3] = l.c_off;
    n.m[2][2] = l.c_range;
    n.m[2][3] = l.c_off;
    return compose(n, t);
}

Affine code_to_code(const VideoColourModel& in, const VideoColourModel& out) {
    return compose(from_rgb(out), to_rgb(in));
}

bool same_colours(const VideoInfo& in, const VideoInfo& out) {
    const VideoColourModel a = colour_model(in);
    const VideoColourModel b = colour_model(out);
    if (a.full != b.full || a.ycbcr != b.ycbcr) {
        return false;
    }
    // The matrix matters only when chroma is there on both sides.
    const bool chroma = in.format_info().is_yuv() && out.format_info().is_yuv();
    return !a.ycbcr || !chroma || (a.kr == b.kr && a.kb == b.kb);
}

// --- frame access ----------------------------------------------------------

struct SrcPlanes {
    std::array<const u8*, 4> data{};
    std::array<std::size_t, 4> stride{};
};
struct DstPlanes {
    std::array<u8*, 4> data{};
    std::array<std::size_t, 4> stride{};
};

SrcPlanes planes_of(const VideoFrame& f) {
    SrcPlanes p;
    for (std::size_t i = 0; i < f.n_planes(); ++i) {
        p.data[i] = reinterpret_cast<const u8*>(f.plane(i).data());
        p.stride[i] = f.stride(i);
    }
    return p;
}

DstPlanes planes_of(const WritableVideoFrame& f) {
    DstPlanes p;
    for (std::size_t i = 0; i < f.n_planes(); ++i) {
        p.data[i] = reinterpret_cast<u8*>(f.plane(i).data());
        p.stride[i] = f.stride(i);
    }
    return p;
}

// One sample of `Bytes` bytes, little-endian.
template <unsigned Bytes>
inline std::int32_t load(const u8* p) {
    if constexpr (Bytes == 1) {
        return p[0];
    } else {
        return static_cast<std::int32_t>(p[0] | (p[1] << 8));
    }
}

template <unsigned Bytes>
inline void store(u8* p, std::int32_t v) {
    if constexpr (Bytes == 1) {
        p[0] = static_cast<u8>(v);
    } else {
        p[0] = static_cast<u8>(v & 0xff);
        p[1] = static_cast<u8>((v >> 8) & 0xff);
    }
}

int as_int(std::size_t v) {
    return static_cast<int>(v); // strides and sizes fit: VideoInfo keeps them below 2^31
}

// --- copy ------------------------------------------------------------------

class CopyConverter final : public VideoConverter {
public:
    explicit CopyConverter(const VideoInfo& info) : VideoConverter(VideoConvertPath::copy), info_(info) {}

    void convert(const VideoFrame& in, const WritableVideoFrame& out) override {
        const SrcPlanes s = planes_of(in);
        const DstPlanes d = planes_of(out);
        for (std::size_t p = 0; p < info_.n_planes(); ++p) {
            libyuv::CopyPlane(s.data[p], as_int(s.stride[p]), d.data[p], as_int(d.stride[p]),
                              as_int(info_.row_size(p)), as_int(info_.plane_rows(p)));
        }
    }

private:
    VideoInfo info_;
};

// --- 8-bit YUV and gray repacking --------------------------------------------

// A planar view of 8-bit YUV: Y, U and V planes with their sizes.
struct PlanarView {
    const u8* y = nullptr;
    int y_stride = 0;
    const u8* u = nullptr; // null: no chroma (gray)
    const u8* v = nullptr;
    int u_stride = 0;
    int v_stride = 0;
    int cw = 0; // chroma samples per row
    int ch = 0; // chroma rows
};

// Where the samples of one component lie: `step` bytes apart in a row,
// each stored `shift` bits up in its word, `width` x `height` of them,
// subsampled by 2^x_sub and 2^y_sub.
struct SampleGrid {
    std::size_t offset = 0; // bytes from the start of a row to the first sample
    std::size_t step = 1;
    unsigned shift = 0;
    int width = 0;
    int height = 0;
    unsigned x_sub = 0;
    unsigned y_sub = 0;
};

// Component `c` of frames of `info`.
SampleGrid sample_grid(const VideoInfo& info, std::size_t c) {
    const VideoComponentInfo& ci = info.format_info().components[c];
    return {ci.offset,
            ci.pixel_stride,
            ci.shift,
            static_cast<int>(info.component_width(c)),
            static_cast<int>(info.component_height(c)),
            ci.x_sub,
            ci.y_sub};
}

// The samples of one component in one subsampling made into another and
// from one depth into another (`depth_change` bits more, or fewer when
// negative): repeated when upsampled, the mean of the covered samples when
// downsampled, then scaled by 2^depth_change; one rounding to nearest
// (halves up), clamped to `max`. Each output sample sums four input samples,
// the same one counted again where fewer are covered, so that one formula
// serves every case.
template <unsigned InBytes, unsigned OutBytes>
void resample_samples(const u8* src, std::size_t src_stride, const SampleGrid& from, u8* dst, std::size_t dst_stride,
                      const SampleGrid& to, int depth_change, std::int32_t max) {
    const unsigned up = depth_change > 0 ? static_cast<unsigned>(depth_change) : 0U;
    const unsigned down = 2 + (depth_change < 0 ? static_cast<unsigned>(-depth_change) : 0U);
    const std::int32_t half = 1 << (down - 1);
    for (int j = 0; j < to.height; ++j) {
        int r0 = j;
        int r1 = j;
        if (from.y_sub > to.y_sub) { // up: one source row for two
            r0 = r1 = std::min(j >> 1, from.height - 1);
        } else if (from.y_sub < to.y_sub) { // down: two rows into one
            r0 = std::min(2 * j, from.height - 1);
            r1 = std::min(2 * j + 1, from.height - 1);
        }
        const u8* a = src + static_cast<std::size_t>(r0) * src_stride + from.offset;
        const u8* b = src + static_cast<std::size_t>(r1) * src_stride + from.offset;
        u8* o = dst + static_cast<std::size_t>(j) * dst_stride + to.offset;
        for (int i = 0; i < to.width; ++i) {
            int c0 = i;
            int c1 = i;
            if (from.x_sub > to.x_sub) {
                c0 = c1 = std::min(i >> 1, from.width - 1);
            } else if (from.x_sub < to.x_sub) {
                c0 = std::min(2 * i, from.width - 1);
                c1 = std::min(2 * i + 1, from.width - 1);
            }
            const std::size_t p0 = static_cast<std::size_t>(c0) * from.step;
            const std::size_t p1 = static_cast<std::size_t>(c1) * from.step;
            const std::int32_t sum = (load<InBytes>(a + p0) >> from.shift) + (load<InBytes>(a + p1) >> from.shift) +
                                     (load<InBytes>(b + p0) >> from.shift) + (load<InBytes>(b + p1) >> from.shift);
            const std::int32_t v = std::min(((sum << up) + half) >> down, max);
            store<OutBytes>(o + static_cast<std::size_t>(i) * to.step, v << to.shift);
        }
    }
}

// 8-bit chroma of one subsampling made into another (resample_samples).
void resample_chroma(const u8* src, int src_stride, int sw, int sh, int sxs, int sys, u8* dst, int dst_stride, int dw,
                     int dh, int dxs, int dys) {
    const SampleGrid from{0, 1, 0, sw, sh, static_cast<unsigned>(sxs), static_cast<unsigned>(sys)};
    const SampleGrid to{0, 1, 0, dw, dh, static_cast<unsigned>(dxs), static_cast<unsigned>(dys)};
    resample_samples<1, 1>(src, static_cast<std::size_t>(src_stride), from, dst, static_cast<std::size_t>(dst_stride),
                           to, 0, 255);
}

class RepackYuvConverter final : public VideoConverter {
public:
    RepackYuvConverter(const VideoInfo& in, const VideoInfo& out)
        : VideoConverter(VideoConvertPath::repack_yuv), in_(in), out_(out) {
        const VideoFormatInfo& fi = in.format_info();
        const VideoFormatInfo& fo = out.format_info();
        const int w = static_cast<int>(in.width());
        const int h = static_cast<int>(in.height());
        in_cw_ = fi.is_yuv() ? static_cast<int>(in.component_width(1)) : 0;
        in_ch_ = fi.is_yuv() ? static_cast<int>(in.component_height(1)) : 0;
        out_cw_ = fo.is_yuv() ? static_cast<int>(out.component_width(1)) : 0;
        out_ch_ = fo.is_yuv() ? static_cast<int>(out.component_height(1)) : 0;
        const VideoFormat f = in.format();
        if (f == VideoFormat::yuy2 || f == VideoFormat::uyvy) {
            scratch_y_.resize(static_cast<std::size_t>(w) * h);
        }
        if (f == VideoFormat::yuy2 || f == VideoFormat::uyvy || f == VideoFormat::nv12 || f == VideoFormat::nv21) {
            scratch_u_.resize(static_cast<std::size_t>(in_cw_) * in_ch_);
            scratch_v_.resize(scratch_u_.size());
        }
        if (fo.is_yuv() && (!fi.is_yuv() || fi.x_chroma_shift != fo.x_chroma_shift ||
                            fi.y_chroma_shift != fo.y_chroma_shift)) {
            resampled_u_.resize(static_cast<std::size_t>(out_cw_) * out_ch_);
            resampled_v_.resize(resampled_u_.size());
        }
    }

    void convert(const VideoFrame& in, const WritableVideoFrame& out) override {
        PlanarView v = view(in);
        const VideoFormatInfo& fi = in_.format_info();
        const VideoFormatInfo& fo = out_.format_info();
        if (!resampled_u_.empty()) {
            if (v.u == nullptr) {
                std::fill(resampled_u_.begin(), resampled_u_.end(), u8{128});
                std::fill(resampled_v_.begin(), resampled_v_.end(), u8{128});
            } else {
                resample_chroma(v.u, v.u_stride, v.cw, v.ch, fi.x_chroma_shift, fi.y_chroma_shift, resampled_u_.data(),
                                out_cw_, out_cw_, out_ch_, fo.x_chroma_shift, fo.y_chroma_shift);
                resample_chroma(v.v, v.v_stride, v.cw, v.ch, fi.x_chroma_shift, fi.y_chroma_shift, resampled_v_.data(),
                                out_cw_, out_cw_, out_ch_, fo.x_chroma_shift, fo.y_chroma_shift);
            }
            v.u = resampled_u_.data();
            v.v = resampled_v_.data();
            v.u_stride = v.v_stride = out_cw_;
            v.cw = out_cw_;
            v.ch = out_ch_;
        }
        write(v, out);
    }

private:
    PlanarView view(const VideoFrame& in) {
        const SrcPlanes s = planes_of(in);
        const VideoFormatInfo& fi = in_.format_info();
        const int w = static_cast<int>(in_.width());
        const int h = static_cast<int>(in_.height());
        PlanarView v;
        v.cw = in_cw_;
        v.ch = in_ch_;
        switch (in_.format()) {
        case VideoFormat::yuy2:
        case VideoFormat::uyvy: {
            auto unpack = in_.format() == VideoFormat::yuy2 ? libyuv::YUY2ToI422 : libyuv::UYVYToI422;
            unpack(s.data[0], as_int(s.stride[0]), scratch_y_.data(), w, scratch_u_.data(), in_cw_, scratch_v_.data(),
                   in_cw_, w, h);
            v.y = scratch_y_.data();
            v.y_stride = w;
            v.u = scratch_u_.data();
            v.v = scratch_v_.data();
            v.u_stride = v.v_stride = in_cw_;
            return v;
        }
        case VideoFormat::nv12:
        case VideoFormat::nv21: {
            const bool nv12 = in_.format() == VideoFormat::nv12;
            libyuv::SplitUVPlane(s.data[1], as_int(s.stride[1]), nv12 ? scratch_u_.data() : scratch_v_.data(), in_cw_,
                                 nv12 ? scratch_v_.data() : scratch_u_.data(), in_cw_, in_cw_, in_ch_);
            v.y = s.data[0];
            v.y_stride = as_int(s.stride[0]);
            v.u = scratch_u_.data();
            v.v = scratch_v_.data();
            v.u_stride = v.v_stride = in_cw_;
            return v;
        }
        default:
            v.y = s.data[0];
            v.y_stride = as_int(s.stride[0]);
            if (fi.is_yuv()) {
                const std::size_t pu = fi.components[1].plane;
                const std::size_t pv = fi.components[2].plane;
                v.u = s.data[pu];
                v.v = s.data[pv];
                v.u_stride = as_int(s.stride[pu]);
                v.v_stride = as_int(s.stride[pv]);
            }
            return v;
        }
    }

    void write(const PlanarView& v, const WritableVideoFrame& out) {
        const DstPlanes d = planes_of(out);
        const VideoFormatInfo& fo = out_.format_info();
        const int w = static_cast<int>(out_.width());
        const int h = static_cast<int>(out_.height());
        switch (out_.format()) {
        case VideoFormat::yuy2:
            libyuv::I422ToYUY2(v.y, v.y_stride, v.u, v.u_stride, v.v, v.v_stride, d.data[0], as_int(d.stride[0]), w, h);
            return;
        case VideoFormat::uyvy:
            libyuv::I422ToUYVY(v.y, v.y_stride, v.u, v.u_stride, v.v, v.v_stride, d.data[0], as_int(d.stride[0]), w, h);
            return;
        case VideoFormat::nv12:
        case VideoFormat::nv21: {
            libyuv::CopyPlane(v.y, v.y_stride, d.data[0], as_int(d.stride[0]), w, h);
            const bool nv12 = out_.format() == VideoFormat::nv12;
            libyuv::MergeUVPlane(nv12 ? v.u : v.v, nv12 ? v.u_stride : v.v_stride, nv12 ? v.v : v.u,
                                 nv12 ? v.v_stride : v.u_stride, d.data[1], as_int(d.stride[1]), out_cw_, out_ch_);
            return;
        }
        default:
            libyuv::CopyPlane(v.y, v.y_stride, d.data[0], as_int(d.stride[0]), w, h);
            if (fo.is_yuv()) {
                const std::size_t pu = fo.components[1].plane;
                const std::size_t pv = fo.components[2].plane;
                libyuv::CopyPlane(v.u, v.u_stride, d.data[pu], as_int(d.stride[pu]), out_cw_, out_ch_);
                libyuv::CopyPlane(v.v, v.v_stride, d.data[pv], as_int(d.stride[pv]), out_cw_, out_ch_);
            }
            return;
        }
    }

    VideoInfo in_;
    VideoInfo out_;
    int in_cw_ = 0;
    int in_ch_ = 0;
    int out_cw_ = 0;
    int out_ch_ = 0;
    std::vector<u8> scratch_y_;
    std::vector<u8> scratch_u_;
    std::vector<u8> scratch_v_;
    std::vector<u8> resampled_u_;
    std::vector<u8> resampled_v_;
};

// --- 8-bit RGB reordering ----------------------------------------------------

// Byte offsets of R, G, B and the fourth byte (alpha or unused) in a pixel;
// the fourth is -1 in 3-byte formats.
struct RgbLayout {
    int bytes = 4;
    std::array<int, 4> offset{};
    bool alpha = false;
};

RgbLayout rgb_layout(const VideoFormatInfo& f) {
    RgbLayout l;
    l.bytes = f.planes[0].pixel_stride;
    l.alpha = f.has_alpha;
    for (int c = 0; c < 3; ++c) {
        l.offset[c] = f.components[c].offset;
    }
    if (l.bytes == 4) {
        // The byte R, G and B do not use.
        l.offset[3] = 6 - l.offset[0] - l.offset[1] - l.offset[2];
    } else {
        l.offset[3] = -1;
    }
    return l;
}

// libyuv's "ARGB" is GStreamer's BGRA: bytes B, G, R, A.
constexpr RgbLayout bgra_layout{4, {2, 1, 0, 3}, true};

// A 16-byte ARGBShuffle table taking pixels of `from` to pixels of `to`
// (both 4 bytes per pixel).
std::array<u8, 16> shuffle_table(const RgbLayout& from, const RgbLayout& to) {
    std::array<u8, 16> t{};
    for (int px = 0; px < 4; ++px) {
        for (int c = 0; c < 4; ++c) {
            t[static_cast<std::size_t>(4 * px + to.offset[c])] = static_cast<u8>(4 * px + from.offset[c]);
        }
    }
    return t;
}

void fill_byte(u8* row, int width, int offset, int pixel_stride, u8 value) {
    for (int x = 0; x < width; ++x) {
        row[x * pixel_stride + offset] = value;
    }
}

class RepackRgbConverter final : public VideoConverter {
public:
    RepackRgbConverter(const VideoInfo& in, const VideoInfo& out)
        : VideoConverter(VideoConvertPath::repack_rgb), in_(in), from_(rgb_layout(in.format_info())),
          to_(rgb_layout(out.format_info())) {
        // Through a BGRA row when one side has 3 bytes and the other is not BGRA.
        scratch_.resize(static_cast<std::size_t>(in.width()) * 4);
    }

    void convert(const VideoFrame& in, const WritableVideoFrame& out) override {
        const SrcPlanes s = planes_of(in);
        const DstPlanes d = planes_of(out);
        const int w = static_cast<int>(in_.width());
        const int h = static_cast<int>(in_.height());
        const int ss = as_int(s.stride[0]);
        const int ds = as_int(d.stride[0]);
        if (from_.bytes == 4 && to_.bytes == 4) {
            const auto table = shuffle_table(from_, to_);
            libyuv::ARGBShuffle(s.data[0], ss, d.data[0], ds, table.data(), w, h);
            if (!(from_.alpha && to_.alpha)) {
                // No alpha to carry: opaque alpha, and 0xff in unused bytes.
                for (int y = 0; y < h; ++y) {
                    fill_byte(d.data[0] + static_cast<std::ptrdiff_t>(y) * ds, w, to_.offset[3], 4, 0xff);
                }
            }
            return;
        }
        if (from_.bytes == 3 && to_.bytes == 3) { // RGB <-> BGR (the same format is a copy)
            libyuv::RAWToRGB24(s.data[0], ss, d.data[0], ds, w, h);
            return;
        }
        const bool from_rgb = from_.offset[0] == 0; // 3 bytes: RGB (libyuv RAW) or BGR (libyuv RGB24)
        if (from_.bytes == 3) {
            auto expand = from_rgb ? libyuv::RAWToARGB : libyuv::RGB24ToARGB;
            if (to_.offset == bgra_layout.offset) {
                expand(s.data[0], ss, d.data[0], ds, w, h);
                return;
            }
            const auto table = shuffle_table(bgra_layout, to_);
            for (int y = 0; y < h; ++y) {
                expand(s.data[0] + static_cast<std::ptrdiff_t>(y) * ss, 0, scratch_.data(), 0, w, 1);
                libyuv::ARGBShuffle(scratch_.data(), 0, d.data[0] + static_cast<std::ptrdiff_t>(y) * ds, 0,
                                    table.data(), w, 1);
            }
            return;
        }
        const bool to_rgb = to_.offset[0] == 0;
        auto narrow = to_rgb ? libyuv::ARGBToRAW : libyuv::ARGBToRGB24;
        if (from_.offset == bgra_layout.offset) {
            narrow(s.data[0], ss, d.data[0], ds, w, h);
            return;
        }
        const auto table = shuffle_table(from_, bgra_layout);
        for (int y = 0; y < h; ++y) {
            libyuv::ARGBShuffle(s.data[0] + static_cast<std::ptrdiff_t>(y) * ss, 0, scratch_.data(), 0, table.data(),
                                w, 1);
            narrow(scratch_.data(), 0, d.data[0] + static_cast<std::ptrdiff_t>(y) * ds, 0, w, 1);
        }
    }

private:
    VideoInfo in_;
    RgbLayout from_;
    RgbLayout to_;
    std::vector<u8> scratch_;
};

// --- 10-bit repacking --------------------------------------------------------

class Repack10Converter final : public VideoConverter {
public:
    explicit Repack10Converter(const VideoInfo& in) : VideoConverter(VideoConvertPath::repack_10bit), in_(in) {}

    void convert(const VideoFrame& in, const WritableVideoFrame& out) override {
        const SrcPlanes s = planes_of(in);
        const DstPlanes d = planes_of(out);
        const int w = static_cast<int>(in_.width());
        const int h = static_cast<int>(in_.height());
        // libyuv counts 16-bit strides in samples.
        const auto st = [](std::size_t bytes) { return static_cast<int>(bytes / 2); };
        const auto s16 = [&](std::size_t p) { return reinterpret_cast<const std::uint16_t*>(s.data[p]); };
        const auto d16 = [&](std::size_t p) { return reinterpret_cast<std::uint16_t*>(d.data[p]); };
        if (in_.format() == VideoFormat::i420_10le) {
            libyuv::I010ToP010(s16(0), st(s.stride[0]), s16(1), st(s.stride[1]), s16(2), st(s.stride[2]), d16(0),
                               st(d.stride[0]), d16(1), st(d.stride[1]), w, h);
        } else {
            libyuv::P010ToI010(s16(0), st(s.stride[0]), s16(1), st(s.stride[1]), d16(0), st(d.stride[0]), d16(1),
                               st(d.stride[1]), d16(2), st(d.stride[2]), w, h);
        }
    }

private:
    VideoInfo in_;
};

// --- YUV depth changes ---------------------------------------------------------

// Limited range is the 8-bit levels shifted up (BT.2100, GStreamer's
// levels), so between depths each sample is shifted: exactly the generic
// path's result, one rounding. libyuv's own depth changes are not used
// for the rest: Convert16To8Plane (I010ToI420, I410ToI444, I012ToI420...)
// truncates, Convert8To16Plane (I420ToI010) replicates bits, which puts
// neutral chroma at 514 rather than 512, and its chroma upsampling
// (I010ToI410) interpolates where the other paths repeat.
class RepackDepthConverter final : public VideoConverter {
public:
    RepackDepthConverter(const VideoInfo& in, const VideoInfo& out)
        : VideoConverter(VideoConvertPath::repack_depth), in_(in), out_(out) {}

    void convert(const VideoFrame& in, const WritableVideoFrame& out) override {
        const SrcPlanes s = planes_of(in);
        const DstPlanes d = planes_of(out);
        const VideoFormatInfo& fi = in_.format_info();
        const VideoFormatInfo& fo = out_.format_info();
        const int change = static_cast<int>(fo.depth) - static_cast<int>(fi.depth);
        const std::int32_t max = (1 << fo.depth) - 1;
        const unsigned in_bytes = fi.bits / 8U;
        const unsigned out_bytes = fo.bits / 8U;
        for (std::size_t c = 0; c < 3; ++c) {
            const SampleGrid from = sample_grid(in_, c);
            const SampleGrid to = sample_grid(out_, c);
            const std::size_t pi = fi.components[c].plane;
            const std::size_t po = fo.components[c].plane;
            const bool planar = from.step == in_bytes && to.step == out_bytes;
            const bool same_grid = from.x_sub == to.x_sub && from.y_sub == to.y_sub;
            if (planar && same_grid && in_bytes == out_bytes && from.shift == 0 && to.shift == 0) {
                if (change == 0) {
                    libyuv::CopyPlane(s.data[pi], as_int(s.stride[pi]), d.data[po], as_int(d.stride[po]),
                                      to.width * static_cast<int>(out_bytes), to.height);
                    continue;
                }
                if (change > 0 && in_bytes == 2) {
                    // Multiplies by 2^(16 - depth): a shift up by `change`, exact.
                    libyuv::ConvertToMSBPlane_16(reinterpret_cast<const std::uint16_t*>(s.data[pi]),
                                                 as_int(s.stride[pi] / 2), reinterpret_cast<std::uint16_t*>(d.data[po]),
                                                 as_int(d.stride[po] / 2), to.width, to.height, 16 - change);
                    continue;
                }
            }
            const auto run = in_bytes == 1 ? (out_bytes == 1 ? resample_samples<1, 1> : resample_samples<1, 2>)
                                           : (out_bytes == 1 ? resample_samples<2, 1> : resample_samples<2, 2>);
            run(s.data[pi], s.stride[pi], from, d.data[po], d.stride[po], to, change, max);
        }
    }

private:
    VideoInfo in_;
    VideoInfo out_;
};

// --- 8-bit YUV to 8-bit RGB kernel -------------------------------------------

// R = (yr*Y + rv*(V-128) + br) >> 13, G = (yg*Y + gu*(U-128) + gv*(V-128) + bg) >> 13,
// B = (yb*Y + bu*(U-128) + bb) >> 13; the biases hold the rounding.
struct YuvRgbCoefs {
    std::int16_t yr = 0, yg = 0, yb = 0, rv = 0, gu = 0, gv = 0, bu = 0;
    std::int32_t br = 0, bg = 0, bb = 0;
};

constexpr int yuv_rgb_bits = 13;

// The kernel's coefficients for `m` (8-bit codes to 8-bit codes), or nullopt
// when a coefficient does not fit its 16 bits or the matrix is not of the
// shape the kernel assumes (R without U, B without V).
std::optional<YuvRgbCoefs> yuv_rgb_coefs(const Affine& m) {
    if (std::abs(m.m[0][1]) > 1e-9 || std::abs(m.m[2][2]) > 1e-9) {
        return std::nullopt;
    }
    const double one = std::ldexp(1.0, yuv_rgb_bits);
    bool fits = true;
    const auto q16 = [&](double v) {
        const long q = std::lround(v * one);
        fits = fits && q >= -32768 && q <= 32767;
        return static_cast<std::int16_t>(std::clamp<long>(q, -32768, 32767));
    };
    const auto bias = [&](int row) {
        // Centred chroma: fold 128 * (U and V coefficients) into the bias.
        const double b = m.m[row][3] + 128.0 * (m.m[row][1] + m.m[row][2]);
        return static_cast<std::int32_t>(std::lround(b * one)) + (1 << (yuv_rgb_bits - 1));
    };
    YuvRgbCoefs k;
    k.yr = q16(m.m[0][0]);
    k.yg = q16(m.m[1][0]);
    k.yb = q16(m.m[2][0]);
    k.rv = q16(m.m[0][2]);
    k.gu = q16(m.m[1][1]);
    k.gv = q16(m.m[1][2]);
    k.bu = q16(m.m[2][1]);
    k.br = bias(0);
    k.bg = bias(1);
    k.bb = bias(2);
    if (!fits) {
        return std::nullopt;
    }
    return k;
}

inline u8 clamp_u8(std::int32_t v) {
    return static_cast<u8>(std::clamp(v, 0, 255));
}

// Pixels [x0, w) of a row, in plain C++; `pos` gives the bytes of R, G, B, A.
void yuv_rgb_row_scalar(const u8* y, const u8* u, const u8* v, unsigned xs, u8* out, std::uint32_t x0, std::uint32_t w,
                        const YuvRgbCoefs& k, const std::array<u8, 4>& pos) {
    for (std::uint32_t x = x0; x < w; ++x) {
        const std::uint32_t j = x >> xs;
        const std::int32_t yy = y[x];
        const std::int32_t cu = u[j] - 128;
        const std::int32_t cv = v[j] - 128;
        u8* p = out + 4 * static_cast<std::size_t>(x);
        p[pos[0]] = clamp_u8((k.yr * yy + k.rv * cv + k.br) >> yuv_rgb_bits);
        p[pos[1]] = clamp_u8((k.yg * yy + k.gu * cu + k.gv * cv + k.bg) >> yuv_rgb_bits);
        p[pos[2]] = clamp_u8((k.yb * yy + k.bu * cu + k.bb) >> yuv_rgb_bits);
        p[pos[3]] = 0xff;
    }
}

#ifdef PARALLAX_VIDEO_X86
std::int32_t coef_pair(std::int16_t lo, std::int16_t hi) {
    return static_cast<std::int32_t>((static_cast<std::uint32_t>(static_cast<std::uint16_t>(hi)) << 16) |
                                     static_cast<std::uint16_t>(lo));
}

// Two halves of 32-bit sums to 16 lanes of 0..255 (packs keeps pixel order
// within each 128-bit lane).
__attribute__((target("avx2"))) inline __m256i to_channel(__m256i lo, __m256i hi) {
    const __m256i p =
        _mm256_packs_epi32(_mm256_srai_epi32(lo, yuv_rgb_bits), _mm256_srai_epi32(hi, yuv_rgb_bits));
    return _mm256_min_epi16(_mm256_max_epi16(p, _mm256_setzero_si256()), _mm256_set1_epi16(255));
}

// 16 pixels per step with the same arithmetic as yuv_rgb_row_scalar: each
// channel is one or two pmaddwd of (Y, chroma) pairs by (coefficient,
// coefficient) pairs, plus the bias.
__attribute__((target("avx2"))) void yuv_rgb_row_avx2(const u8* y, const u8* u, const u8* v, unsigned xs, u8* out,
                                                      std::uint32_t w, const YuvRgbCoefs& k,
                                                      const std::array<u8, 4>& pos,
                                                      const std::array<u8, 16>& shuffle) {
    const __m256i c_r = _mm256_set1_epi32(coef_pair(k.yr, k.rv));
    const __m256i c_g = _mm256_set1_epi32(coef_pair(k.yg, k.gu));
    const __m256i c_gv = _mm256_set1_epi32(coef_pair(k.gv, 0));
    const __m256i c_b = _mm256_set1_epi32(coef_pair(k.yb, k.bu));
    const __m256i b_r = _mm256_set1_epi32(k.br);
    const __m256i b_g = _mm256_set1_epi32(k.bg);
    const __m256i b_b = _mm256_set1_epi32(k.bb);
    const __m256i k128 = _mm256_set1_epi16(128);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i alpha_hi = _mm256_set1_epi16(static_cast<std::int16_t>(0xff00));
    const __m256i shuf =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(shuffle.data())));
    std::uint32_t x = 0;
    for (; x + 16 <= w; x += 16) {
        const __m256i yv = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + x)));
        __m256i uv16;
        __m256i vv16;
        if (xs == 1) {
            const __m128i u8x8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + x / 2)));
            const __m128i v8x8 = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(v + x / 2)));
            uv16 = _mm256_set_m128i(_mm_unpackhi_epi16(u8x8, u8x8), _mm_unpacklo_epi16(u8x8, u8x8));
            vv16 = _mm256_set_m128i(_mm_unpackhi_epi16(v8x8, v8x8), _mm_unpacklo_epi16(v8x8, v8x8));
        } else {
            uv16 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u + x)));
            vv16 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + x)));
        }
        uv16 = _mm256_sub_epi16(uv16, k128);
        vv16 = _mm256_sub_epi16(vv16, k128);
        // Lanes hold pixels 0-3 and 8-11 (lo), 4-7 and 12-15 (hi).
        const __m256i yu_lo = _mm256_unpacklo_epi16(yv, uv16);
        const __m256i yu_hi = _mm256_unpackhi_epi16(yv, uv16);
        const __m256i yv_lo = _mm256_unpacklo_epi16(yv, vv16);
        const __m256i yv_hi = _mm256_unpackhi_epi16(yv, vv16);
        const __m256i v0_lo = _mm256_unpacklo_epi16(vv16, zero);
        const __m256i v0_hi = _mm256_unpackhi_epi16(vv16, zero);
        const __m256i r = to_channel(_mm256_add_epi32(_mm256_madd_epi16(yv_lo, c_r), b_r),
                                     _mm256_add_epi32(_mm256_madd_epi16(yv_hi, c_r), b_r));
        const __m256i g = to_channel(
            _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(yu_lo, c_g), _mm256_madd_epi16(v0_lo, c_gv)), b_g),
            _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(yu_hi, c_g), _mm256_madd_epi16(v0_hi, c_gv)), b_g));
        const __m256i b = to_channel(_mm256_add_epi32(_mm256_madd_epi16(yu_lo, c_b), b_b),
                                     _mm256_add_epi32(_mm256_madd_epi16(yu_hi, c_b), b_b));
        // Bytes R, G, B, A per pixel, then into the format's order.
        const __m256i rg = _mm256_or_si256(r, _mm256_slli_epi16(g, 8));
        const __m256i ba = _mm256_or_si256(b, alpha_hi);
        const __m256i lo = _mm256_unpacklo_epi16(rg, ba); // pixels 0-3 | 8-11
        const __m256i hi = _mm256_unpackhi_epi16(rg, ba); // pixels 4-7 | 12-15
        const __m256i p0 = _mm256_shuffle_epi8(_mm256_permute2x128_si256(lo, hi, 0x20), shuf);
        const __m256i p1 = _mm256_shuffle_epi8(_mm256_permute2x128_si256(lo, hi, 0x31), shuf);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * static_cast<std::size_t>(x)), p0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * static_cast<std::size_t>(x) + 32), p1);
    }
    yuv_rgb_row_scalar(y, u, v, xs, out, x, w, k, pos);
}

#endif

class YuvToRgbConverter final : public VideoConverter {
public:
    YuvToRgbConverter(const VideoInfo& in, const VideoInfo& out, const YuvRgbCoefs& k)
        : VideoConverter(VideoConvertPath::yuv_to_rgb), in_(in), out_(out), k_(k) {
        const RgbLayout to = rgb_layout(out.format_info());
        out_bytes_ = to.bytes;
        // Three-byte formats: BGRA rows, then libyuv packs them.
        const RgbLayout& target = to.bytes == 4 ? to : bgra_layout;
        for (int c = 0; c < 4; ++c) {
            pos_[static_cast<std::size_t>(c)] = static_cast<u8>(target.offset[c]);
        }
        for (int px = 0; px < 4; ++px) {
            for (int c = 0; c < 4; ++c) {
                shuffle_[static_cast<std::size_t>(4 * px + pos_[static_cast<std::size_t>(c)])] =
                    static_cast<u8>(4 * px + c);
            }
        }
        const std::size_t w = in.width();
        const VideoFormatInfo& fi = in.format_info();
        xs_ = fi.is_yuv() ? fi.x_chroma_shift : 1;
        const std::size_t cw = fi.is_yuv() ? in.component_width(1) : (w + 1) / 2;
        switch (in.format()) {
        case VideoFormat::yuy2:
        case VideoFormat::uyvy:
            row_y_.resize(w);
            [[fallthrough]];
        case VideoFormat::nv12:
        case VideoFormat::nv21:
            row_u_.resize(cw);
            row_v_.resize(cw);
            break;
        case VideoFormat::gray8:
            row_u_.assign(cw, 128);
            row_v_.assign(cw, 128);
            break;
        default:
            break;
        }
        if (out_bytes_ == 3) {
            row_out_.resize(4 * w);
        }
    }

    void convert(const VideoFrame& in, const WritableVideoFrame& out) override {
        const SrcPlanes s = planes_of(in);
        const DstPlanes d = planes_of(out);
        const VideoFormatInfo& fi = in_.format_info();
        const std::uint32_t w = in_.width();
        const std::uint32_t h = in_.height();
        const int cw = static_cast<int>(row_u_.size());
        const bool to_rgb_bytes = out_.format() == VideoFormat::rgb;
        std::ptrdiff_t last_chroma_row = -1;
        for (std::uint32_t row = 0; row < h; ++row) {
            const u8* y = s.data[0] + row * s.stride[0];
            const u8* u = nullptr;
            const u8* v = nullptr;
            switch (in_.format()) {
            case VideoFormat::yuy2:
            case VideoFormat::uyvy:
                (in_.format() == VideoFormat::yuy2 ? libyuv::YUY2ToI422 : libyuv::UYVYToI422)(
                    y, 0, row_y_.data(), 0, row_u_.data(), 0, row_v_.data(), 0, static_cast<int>(w), 1);
                y = row_y_.data();
                u = row_u_.data();
                v = row_v_.data();
                break;
            case VideoFormat::nv12:
            case VideoFormat::nv21: {
                const std::ptrdiff_t cr = row >> 1;
                if (cr != last_chroma_row) {
                    const bool nv12 = in_.format() == VideoFormat::nv12;
                    libyuv::SplitUVPlane(s.data[1] + static_cast<std::size_t>(cr) * s.stride[1], 0,
                                         nv12 ? row_u_.data() : row_v_.data(), 0, nv12 ? row_v_.data() : row_u_.data(),
                                         0, cw, 1);
                    last_chroma_row = cr;
                }
                u = row_u_.data();
                v = row_v_.data();
                break;
            }
            case VideoFormat::gray8:
                u = row_u_.data();
                v = row_v_.data();
                break;
            default: {
                const VideoComponentInfo& cu = fi.components[1];
                const VideoComponentInfo& cv = fi.components[2];
                u = s.data[cu.plane] + static_cast<std::size_t>(row >> cu.y_sub) * s.stride[cu.plane];
                v = s.data[cv.plane] + static_cast<std::size_t>(row >> cv.y_sub) * s.stride[cv.plane];
                break;
            }
            }
            u8* o = out_bytes_ == 4 ? d.data[0] + row * d.stride[0] : row_out_.data();
            run_row(y, u, v, o, w);
            if (out_bytes_ == 3) {
                (to_rgb_bytes ? libyuv::ARGBToRAW : libyuv::ARGBToRGB24)(row_out_.data(), 0, d.data[0] + row * d.stride[0],
                                                                         0, static_cast<int>(w), 1);
            }
        }
    }

private:
    void run_row(const u8* y, const u8* u, const u8* v, u8* o, std::uint32_t w) const {
#ifdef PARALLAX_VIDEO_X86
        if (have_avx2()) {
            yuv_rgb_row_avx2(y, u, v, xs_, o, w, k_, pos_, shuffle_);
            return;
        }
#endif
        yuv_rgb_row_scalar(y, u, v, xs_, o, 0, w, k_, pos_);
    }

    VideoInfo in_;
    VideoInfo out_;
    YuvRgbCoefs k_;
    int out_bytes_ = 4;
    unsigned xs_ = 1;
    std::array<u8, 4> pos_{};
    std::array<u8, 16> shuffle_{};
    std::vector<u8> row_y_;
    std::vector<u8> row_u_;
    std::vector<u8> row_v_;
    std::vector<u8> row_out_;
};

// --- the generic path ---------------------------------------------------------
//
// Row by row: each component is unpacked into a full-width int32 row of its
// code values (subsampled chroma repeated), a fixed-point affine matrix makes
// output code values with `frac_bits` fractional bits (floored), and each
// output component is packed: rounded to nearest, chroma averaged over the
// pixels it covers (two rows at a time for 4:2:0 output).

constexpr int frac_bits = 4;

using UnpackFn = void (*)(const u8* row, std::int32_t* dst, std::uint32_t w, unsigned shift);
using PackFn = void (*)(u8* row, const std::int32_t* a, const std::int32_t* b, std::uint32_t w, unsigned shift);

template <unsigned Bytes, unsigned PS, unsigned XS>
void unpack(const u8* row, std::int32_t* dst, std::uint32_t w, unsigned shift) {
    for (std::uint32_t x = 0; x < w; ++x) {
        dst[x] = load<Bytes>(row + static_cast<std::size_t>(x >> XS) * PS) >> shift;
    }
}

template <unsigned Bytes, unsigned PS, unsigned XS, unsigned YS>
void pack(u8* row, const std::int32_t* a, const std::int32_t* b, std::uint32_t w, unsigned shift) {
    if constexpr (XS == 0) {
        for (std::uint32_t x = 0; x < w; ++x) {
            store<Bytes>(row + static_cast<std::size_t>(x) * PS,
                         ((a[x] + (1 << (frac_bits - 1))) >> frac_bits) << shift);
        }
    } else {
        constexpr int full = frac_bits + 1 + YS;
        const std::uint32_t n = w / 2;
        for (std::uint32_t j = 0; j < n; ++j) {
            std::int32_t s = a[2 * j] + a[2 * j + 1];
            if constexpr (YS == 1) {
                s += b[2 * j] + b[2 * j + 1];
            }
            store<Bytes>(row + static_cast<std::size_t>(j) * PS, ((s + (1 << (full - 1))) >> full) << shift);
        }
        if (w % 2 != 0) { // the last chroma sample covers one column
            constexpr int half = frac_bits + YS;
            std::int32_t s = a[w - 1];
            if constexpr (YS == 1) {
                s += b[w - 1];
            }
            store<Bytes>(row + static_cast<std::size_t>(n) * PS, ((s + (1 << (half - 1))) >> half) << shift);
        }
    }
}

UnpackFn pick_unpack(unsigned bytes, unsigned ps, unsigned xs) {
    const unsigned key = bytes * 100 + ps * 10 + xs;
    switch (key) {
    case 110:
        return unpack<1, 1, 0>;
    case 111:
        return unpack<1, 1, 1>;
    case 120:
        return unpack<1, 2, 0>;
    case 121:
        return unpack<1, 2, 1>;
    case 130:
        return unpack<1, 3, 0>;
    case 140:
        return unpack<1, 4, 0>;
    case 141:
        return unpack<1, 4, 1>;
    case 220:
        return unpack<2, 2, 0>;
    case 221:
        return unpack<2, 2, 1>;
    case 241:
        return unpack<2, 4, 1>;
    default:
        return nullptr;
    }
}

PackFn pick_pack(unsigned bytes, unsigned ps, unsigned xs, unsigned ys) {
    const unsigned key = bytes * 1000 + ps * 100 + xs * 10 + ys;
    switch (key) {
    case 1100:
        return pack<1, 1, 0, 0>;
    case 1110:
        return pack<1, 1, 1, 0>;
    case 1111:
        return pack<1, 1, 1, 1>;
    case 1200:
        return pack<1, 2, 0, 0>;
    case 1211:
        return pack<1, 2, 1, 1>;
    case 1300:
        return pack<1, 3, 0, 0>;
    case 1400:
        return pack<1, 4, 0, 0>;
    case 1410:
        return pack<1, 4, 1, 0>;
    case 2200:
        return pack<2, 2, 0, 0>;
    case 2210:
        return pack<2, 2, 1, 0>;
    case 2211:
        return pack<2, 2, 1, 1>;
    case 2411:
        return pack<2, 4, 1, 1>;
    default:
        return nullptr;
    }
}

template <class Acc>
struct FixedMatrix {
    std::array<std::array<Acc, 3>, 3> m{};
    std::array<Acc, 3> o{};
    unsigned shift = 0;
    std::int32_t hi = 0; // the largest output value (code << frac_bits)
};

template <class Acc>
[[gnu::always_inline]] inline void matrix_body(const std::int32_t* __restrict c0, const std::int32_t* __restrict c1,
                                               const std::int32_t* __restrict c2, std::int32_t* __restrict d0,
                                               std::int32_t* __restrict d1, std::int32_t* __restrict d2,
                                               std::uint32_t n, const FixedMatrix<Acc>& k) {
    const auto m = k.m;
    const auto o = k.o;
    const unsigned s = k.shift;
    const std::int32_t hi = k.hi;
    for (std::uint32_t x = 0; x < n; ++x) {
        const Acc a = c0[x];
        const Acc b = c1[x];
        const Acc c = c2[x];
        d0[x] = static_cast<std::int32_t>(std::clamp<Acc>((m[0][0] * a + m[0][1] * b + m[0][2] * c + o[0]) >> s, 0, hi));
        d1[x] = static_cast<std::int32_t>(std::clamp<Acc>((m[1][0] * a + m[1][1] * b + m[1][2] * c + o[1]) >> s, 0, hi));
        d2[x] = static_cast<std::int32_t>(std::clamp<Acc>((m[2][0] * a + m[2][1] * b + m[2][2] * c + o[2]) >> s, 0, hi));
    }
}

template <class Acc>
void matrix_rows(const std::int32_t* c0, const std::int32_t* c1, const std::int32_t* c2, std::int32_t* d0,
                 std::int32_t* d1, std::int32_t* d2, std::uint32_t n, const FixedMatrix<Acc>& k) {
    matrix_body(c0, c1, c2, d0, d1, d2, n, k);
}

#ifdef PARALLAX_VIDEO_X86
__attribute__((target("avx2"))) void matrix_rows_avx2(const std::int32_t* c0, const std::int32_t* c1,
                                                      const std::int32_t* c2, std::int32_t* d0, std::int32_t* d1,
                                                      std::int32_t* d2, std::uint32_t n,
                                                      const FixedMatrix<std::int32_t>& k) {
    matrix_body(c0, c1, c2, d0, d1, d2, n, k);
}
#endif

struct ComponentIo {
    UnpackFn unpack = nullptr; // null: filled with `fill`
    PackFn pack = nullptr;
    unsigned plane = 0;
    unsigned offset = 0;
    unsigned y_sub = 0;
    unsigned shift = 0;
    std::int32_t fill = 0;
};

class GenericConverter final : public VideoConverter {
public:
    static Result<std::unique_ptr<VideoConverter>> make(const VideoInfo& in, const VideoInfo& out) {
        auto c = std::unique_ptr<GenericConverter>(new GenericConverter(in, out));
        if (auto ok = c->plan(); !ok) {
            return fail(std::move(ok.error()));
        }
        return std::unique_ptr<VideoConverter>(std::move(c));
    }

    void convert(const VideoFrame& in, const WritableVideoFrame& out) override {
        const SrcPlanes s = planes_of(in);
        const DstPlanes d = planes_of(out);
        const std::uint32_t h = in_.height();
        const unsigned rows = out_.format_info().y_chroma_shift == 1 ? 2 : 1;
        for (std::uint32_t y = 0; y < h; y += rows) {
            convert_row(s, y, 0);
            const bool second = rows == 2 && y + 1 < h;
            if (second) {
                convert_row(s, y + 1, 1);
            }
            pack_rows(d, y, second);
        }
    }

private:
    GenericConverter(const VideoInfo& in, const VideoInfo& out)
        : VideoConverter(VideoConvertPath::generic), in_(in), out_(out) {}

    Result<void> plan() {
        const VideoFormatInfo& fi = in_.format_info();
        const VideoFormatInfo& fo = out_.format_info();
        const std::uint32_t w = in_.width();
        const VideoColourModel mi = colour_model(in_);
        const VideoColourModel mo = colour_model(out_);
        // Inputs.
        for (unsigned c = 0; c < 4; ++c) {
            ComponentIo& io = inputs_[c];
            if (c < fi.n_components) {
                const VideoComponentInfo& ci = fi.components[c];
                io.unpack = pick_unpack(fi.bits / 8, ci.pixel_stride, ci.x_sub);
                io.plane = ci.plane;
                io.offset = ci.offset;
                io.y_sub = ci.y_sub;
                io.shift = ci.shift;
                if (io.unpack == nullptr) {
                    return fail(Errc::unsupported, fmt::format("videoconvert cannot read {} samples", fi.name));
                }
            } else if (c < 3) {
                io.fill = static_cast<std::int32_t>(levels(mi).c_off); // gray: neutral chroma
            } else {
                io.fill = (1 << fi.depth) - 1; // no alpha: opaque
            }
        }
        // Outputs.
        for (unsigned c = 0; c < fo.n_components; ++c) {
            ComponentIo& io = outputs_[c];
            const VideoComponentInfo& co = fo.components[c];
            io.pack = pick_pack(fo.bits / 8, co.pixel_stride, co.x_sub, co.y_sub);
            io.plane = co.plane;
            io.offset = co.offset;
            io.y_sub = co.y_sub;
            io.shift = co.shift;
            if (io.pack == nullptr) {
                return fail(Errc::unsupported, fmt::format("videoconvert cannot write {} samples", fo.name));
            }
        }
        for (auto& row : c_) {
            row.assign(w, 0);
        }
        for (auto& pair : d_) {
            for (auto& row : pair) {
                row.assign(w, 0);
            }
        }
        // Alpha (only 8-bit formats carry it): code values, scaled like the rest.
        opaque_ = ((1 << fo.depth) - 1) << frac_bits;
        alpha_scale_ = opaque_ / ((1 << fi.depth) - 1);
        // The matrix, in fixed point: 32-bit when it cannot overflow.
        const Affine m = code_to_code(mi, mo);
        const double out_scale = std::ldexp(1.0, frac_bits);
        double bound = 0.0;
        for (const auto& row : m.m) {
            double b = std::abs(row[3]) * out_scale;
            for (int j = 0; j < 3; ++j) {
                b += std::abs(row[static_cast<std::size_t>(j)]) * out_scale * (std::ldexp(1.0, fi.depth) - 1.0);
            }
            bound = std::max(bound, b + out_scale);
        }
        const std::int32_t hi = ((1 << fo.depth) - 1) << frac_bits;
        int shift = 16;
        while (shift > 12 && bound * std::ldexp(1.0, shift) >= std::ldexp(1.0, 30)) {
            --shift;
        }
        if (bound * std::ldexp(1.0, shift) < std::ldexp(1.0, 30)) {
            m32_ = fixed<std::int32_t>(m, shift, hi);
        } else {
            m64_ = fixed<std::int64_t>(m, 28, hi);
        }
        return {};
    }

    template <class Acc>
    static FixedMatrix<Acc> fixed(const Affine& m, int shift, std::int32_t hi) {
        FixedMatrix<Acc> k;
        const double one = std::ldexp(1.0, shift + frac_bits);
        for (std::size_t i = 0; i < 3; ++i) {
            for (std::size_t j = 0; j < 3; ++j) {
                k.m[i][j] = static_cast<Acc>(std::llround(m.m[i][j] * one));
            }
            k.o[i] = static_cast<Acc>(std::llround(m.m[i][3] * one));
        }
        k.shift = static_cast<unsigned>(shift);
        k.hi = hi;
        return k;
    }

    void convert_row(const SrcPlanes& s, std::uint32_t y, unsigned slot) {
        const std::uint32_t w = in_.width();
        for (unsigned c = 0; c < 4; ++c) {
            const ComponentIo& io = inputs_[c];
            std::int32_t* dst = c_[c].data();
            if (io.unpack == nullptr) {
                std::fill_n(dst, w, io.fill);
                continue;
            }
            const u8* row = s.data[io.plane] + static_cast<std::size_t>(y >> io.y_sub) * s.stride[io.plane] + io.offset;
            io.unpack(row, dst, w, io.shift);
        }
        auto& d = d_[slot];
        if (m32_) {
#ifdef PARALLAX_VIDEO_X86
            if (have_avx2()) {
                matrix_rows_avx2(c_[0].data(), c_[1].data(), c_[2].data(), d[0].data(), d[1].data(), d[2].data(), w,
                                 *m32_);
            } else
#endif
            {
                matrix_rows(c_[0].data(), c_[1].data(), c_[2].data(), d[0].data(), d[1].data(), d[2].data(), w, *m32_);
            }
        } else {
            matrix_rows(c_[0].data(), c_[1].data(), c_[2].data(), d[0].data(), d[1].data(), d[2].data(), w, *m64_);
        }
        if (out_.format_info().has_alpha) {
            std::int32_t* o = d[3].data();
            if (inputs_[3].unpack == nullptr) {
                std::fill_n(o, w, opaque_);
            } else {
                const std::int32_t* a = c_[3].data();
                for (std::uint32_t x = 0; x < w; ++x) {
                    o[x] = a[x] * alpha_scale_;
                }
            }
        }
    }

    void pack_rows(const DstPlanes& d, std::uint32_t y, bool second) {
        const VideoFormatInfo& fo = out_.format_info();
        const std::uint32_t w = out_.width();
        for (unsigned c = 0; c < fo.n_components; ++c) {
            const ComponentIo& io = outputs_[c];
            const std::size_t plane = io.plane;
            if (io.y_sub == 1) {
                u8* row = d.data[plane] + static_cast<std::size_t>(y >> 1) * d.stride[plane] + io.offset;
                io.pack(row, d_[0][c].data(), second ? d_[1][c].data() : d_[0][c].data(), w, io.shift);
                continue;
            }
            for (unsigned r = 0; r < (second ? 2U : 1U); ++r) {
                u8* row = d.data[plane] + static_cast<std::size_t>(y + r) * d.stride[plane] + io.offset;
                io.pack(row, d_[r][c].data(), nullptr, w, io.shift);
            }
        }
        // A packed 4:2:2 row of odd width ends with a Y sample no pixel uses:
        // repeat the last one there.
        if ((out_.format() == VideoFormat::yuy2 || out_.format() == VideoFormat::uyvy) && w % 2 != 0) {
            const unsigned yo = outputs_[0].offset;
            for (unsigned r = 0; r < (second ? 2U : 1U); ++r) {
                u8* row = d.data[0] + static_cast<std::size_t>(y + r) * d.stride[0];
                row[2 * static_cast<std::size_t>(w) + yo] = row[2 * static_cast<std::size_t>(w - 1) + yo];
            }
        }
    }

    VideoInfo in_;
    VideoInfo out_;
    std::array<ComponentIo, 4> inputs_{};
    std::array<ComponentIo, 4> outputs_{};
    std::optional<FixedMatrix<std::int32_t>> m32_;
    std::optional<FixedMatrix<std::int64_t>> m64_;
    std::int32_t alpha_scale_ = 1 << frac_bits;
    std::int32_t opaque_ = 0;
    std::array<std::vector<std::int32_t>, 4> c_;
    std::array<std::array<std::vector<std::int32_t>, 4>, 2> d_;
};

bool is_8bit_yuv_or_gray(const VideoFormatInfo& f) {
    return !f.is_rgb() && f.depth == 8;
}

// YUV to YUV with the same colours, deeper than 8 bits on one side or both,
// neither packed 4:2:2: what RepackDepthConverter does. Full range only at
// one depth (between depths its levels are not a shift).
bool depth_shift_applies(const VideoInfo& in, const VideoInfo& out) {
    const VideoFormatInfo& fi = in.format_info();
    const VideoFormatInfo& fo = out.format_info();
    return fi.is_yuv() && fo.is_yuv() && !fi.packed && !fo.packed && (fi.depth > 8 || fo.depth > 8) &&
           (fi.depth == fo.depth || !colour_model(in).full);
}

} // namespace

Result<std::unique_ptr<VideoConverter>> VideoConverter::make(const VideoInfo& in, const VideoInfo& out) {
    if (in.width() != out.width() || in.height() != out.height()) {
        return fail(Errc::invalid_argument,
                    fmt::format("videoconvert does not scale: input {}x{}, output {}x{} (use videoscale)", in.width(),
                                in.height(), out.width(), out.height()));
    }
    const VideoFormatInfo& fi = in.format_info();
    const VideoFormatInfo& fo = out.format_info();
    const bool same = same_colours(in, out);
    if (in.format() == out.format() && same) {
        return std::unique_ptr<VideoConverter>(new CopyConverter(in));
    }
    if (same && is_8bit_yuv_or_gray(fi) && is_8bit_yuv_or_gray(fo)) {
        return std::unique_ptr<VideoConverter>(new RepackYuvConverter(in, out));
    }
    if (fi.is_rgb() && fo.is_rgb() && colour_model(in).full == colour_model(out).full) {
        return std::unique_ptr<VideoConverter>(new RepackRgbConverter(in, out));
    }
    const auto ten = [](VideoFormat f) { return f == VideoFormat::i420_10le || f == VideoFormat::p010_10le; };
    if (same && ten(in.format()) && ten(out.format())) {
        return std::unique_ptr<VideoConverter>(new Repack10Converter(in));
    }
    if (same && depth_shift_applies(in, out)) {
        return std::unique_ptr<VideoConverter>(new RepackDepthConverter(in, out));
    }
    if (is_8bit_yuv_or_gray(fi) && fo.is_rgb()) {
        if (auto k = yuv_rgb_coefs(code_to_code(colour_model(in), colour_model(out)))) {
            return std::unique_ptr<VideoConverter>(new YuvToRgbConverter(in, out, *k));
        }
    }
    return GenericConverter::make(in, out);
}

} // namespace parallax::detail
