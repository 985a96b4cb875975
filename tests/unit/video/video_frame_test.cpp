#include <parallax/video/video_frame.hpp>
#include <parallax/video/video_meta.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace parallax::video_frame_test {
namespace {

std::shared_ptr<Arena> make_arena(std::size_t slot_size = 1 << 18, std::uint32_t slots = 4) {
    ArenaConfig config;
    config.slot_count = slots;
    config.slot_size = slot_size;
    auto arena = Arena::create(config);
    EXPECT_TRUE(arena) << arena.error().to_string();
    return *arena;
}

Buffer allocate(Arena& arena, std::size_t size) {
    auto buffer = Buffer::allocate(arena, size);
    EXPECT_TRUE(buffer) << buffer.error().to_string();
    return buffer ? std::move(*buffer) : Buffer();
}

VideoInfo make_info(VideoFormat format, std::uint32_t width, std::uint32_t height) {
    return VideoInfo::make(format, width, height).value();
}

TEST(VideoFrameTest, PlanesAndRowsFollowTheLayout) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::i420, 321, 241);
    Buffer buffer = allocate(*arena, info.size());
    auto frame = VideoFrame::map(info, buffer);
    ASSERT_TRUE(frame) << frame.error().to_string();
    EXPECT_EQ(frame->n_planes(), 3U);
    EXPECT_EQ(frame->width(), 321U);
    EXPECT_EQ(frame->height(), 241U);
    EXPECT_EQ(frame->data().data(), buffer.data().data());
    EXPECT_EQ(frame->data().size(), info.size());
    for (std::size_t p = 0; p < 3; ++p) {
        EXPECT_EQ(frame->plane(p).data(), buffer.data().data() + info.offset(p));
        EXPECT_EQ(frame->plane(p).size(), info.stride(p) * info.plane_rows(p));
        EXPECT_EQ(frame->stride(p), info.stride(p));
    }
    EXPECT_EQ(frame->row(0, 1).data(), buffer.data().data() + 324);
    EXPECT_EQ(frame->row(0, 1).size(), 321U);
    EXPECT_EQ(frame->row(2, 120).data(), buffer.data().data() + 98252 + std::size_t{120} * 164);
    EXPECT_EQ(frame->row(2, 120).size(), 161U);
    // The padding row of the luma plane exists in memory.
    EXPECT_EQ(frame->row(0, 241).size(), 321U);
}

TEST(VideoFrameTest, OutOfRangeAccessGivesEmptySpans) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::nv12, 16, 16);
    Buffer buffer = allocate(*arena, info.size());
    auto frame = VideoFrame::map(info, buffer);
    ASSERT_TRUE(frame);
    EXPECT_TRUE(frame->plane(2).empty());
    EXPECT_TRUE(frame->row(0, 16).empty());
    EXPECT_TRUE(frame->row(1, 8).empty());
    EXPECT_TRUE(frame->row(5, 0).empty());
    EXPECT_TRUE(frame->component_row(3, 0).empty());
    EXPECT_TRUE(frame->component_row(1, 8).empty());
    EXPECT_EQ(frame->stride(2), 0U);
    EXPECT_EQ(frame->component_pixel_stride(3), 0U);
}

TEST(VideoFrameTest, TooSmallBufferIsAnErrorNamingBothSizes) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::i420, 320, 240);
    Buffer buffer = allocate(*arena, 1000);
    auto frame = VideoFrame::map(info, buffer);
    ASSERT_FALSE(frame);
    EXPECT_TRUE(frame.error().is(Errc::out_of_range));
    EXPECT_EQ(frame.error().message(),
              "buffer of 1000 bytes is too small for a I420 320x240 frame: expected at least 115200 bytes");
    auto writable = WritableVideoFrame::map(info, buffer);
    ASSERT_FALSE(writable);
    EXPECT_TRUE(writable.error().is(Errc::out_of_range));

    Buffer empty;
    EXPECT_FALSE(VideoFrame::map(info, empty));
    EXPECT_FALSE(WritableVideoFrame::map(info, empty));
}

TEST(VideoFrameTest, LargerBufferIsFine) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::gray8, 8, 8);
    Buffer buffer = allocate(*arena, info.size() + 100);
    auto frame = VideoFrame::map(info, buffer);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->data().size(), info.size());
}

TEST(VideoFrameTest, WritableFrameWritesIntoTheBuffer) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::nv12, 6, 4);
    Buffer buffer = allocate(*arena, info.size());
    {
        auto frame = WritableVideoFrame::map(info, buffer);
        ASSERT_TRUE(frame) << frame.error().to_string();
        std::fill(frame->data().begin(), frame->data().end(), std::byte{0});
        for (std::size_t y = 0; y < frame->component_height(video_comp::u); ++y) {
            auto u = frame->component_row(video_comp::u, y);
            auto v = frame->component_row(video_comp::v, y);
            for (std::size_t x = 0; x < frame->component_width(video_comp::u); ++x) {
                u[x * frame->component_pixel_stride(video_comp::u)] = std::byte{0x55};
                v[x * frame->component_pixel_stride(video_comp::v)] = std::byte{0xaa};
            }
        }
    }
    auto frame = VideoFrame::map(info, buffer);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->component_plane(video_comp::v), 1U);
    EXPECT_EQ(frame->component_stride(video_comp::v), 8U);
    for (std::size_t y = 0; y < 2; ++y) {
        auto row = frame->row(1, y);
        ASSERT_EQ(row.size(), 6U);
        for (std::size_t x = 0; x < 6; ++x) {
            EXPECT_EQ(row[x], x % 2 == 0 ? std::byte{0x55} : std::byte{0xaa}) << x << "," << y;
        }
    }
    EXPECT_EQ(frame->plane(0)[0], std::byte{0});
}

TEST(VideoFrameTest, ComponentRowsOfPackedFormats) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::yuy2, 5, 2);
    Buffer buffer = allocate(*arena, info.size());
    auto frame = WritableVideoFrame::map(info, buffer);
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->stride(0), 12U);
    EXPECT_EQ(frame->component_width(video_comp::y), 5U);
    EXPECT_EQ(frame->component_width(video_comp::u), 3U);
    auto y_row = frame->component_row(video_comp::y, 1);
    EXPECT_EQ(y_row.data(), frame->data().data() + 12);
    EXPECT_EQ(y_row.size(), 9U); // samples at 0, 2, 4, 6, 8
    auto v_row = frame->component_row(video_comp::v, 0);
    EXPECT_EQ(v_row.data(), frame->data().data() + 3);
    EXPECT_EQ(v_row.size(), 9U); // samples at 3, 7, 11

    const VideoInfo argb_info = make_info(VideoFormat::argb, 2, 1);
    Buffer argb_buffer = allocate(*arena, argb_info.size());
    auto argb = WritableVideoFrame::map(argb_info, argb_buffer);
    ASSERT_TRUE(argb);
    argb->component_row(video_comp::a, 0)[4] = std::byte{0xff};
    argb->component_row(video_comp::b, 0)[4] = std::byte{0x11};
    EXPECT_EQ(argb->data()[4], std::byte{0xff});
    EXPECT_EQ(argb->data()[7], std::byte{0x11});
}

TEST(VideoFrameTest, SixteenBitComponentRowsCoverWholeWords) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::p010_10le, 5, 3);
    Buffer buffer = allocate(*arena, info.size());
    auto frame = VideoFrame::map(info, buffer);
    ASSERT_TRUE(frame);
    auto v = frame->component_row(video_comp::v, 1);
    EXPECT_EQ(v.data(), frame->plane(1).data() + frame->stride(1) + 2);
    EXPECT_EQ(v.size(), 2U * 4 + 2); // 3 samples 4 bytes apart, 2 bytes each
    EXPECT_LE(v.data() + v.size(), frame->plane(1).data() + frame->plane(1).size());
}

TEST(VideoFrameTest, WritableMapOfASharedBufferCopiesFirst) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::gray8, 4, 4);
    Buffer original = allocate(*arena, info.size());
    {
        auto bytes = original.map_writable();
        ASSERT_TRUE(bytes);
        std::fill(bytes->begin(), bytes->end(), std::byte{7});
    }
    Buffer shared = original;
    ASSERT_EQ(original.ref_count(), 2U);
    auto frame = WritableVideoFrame::map(info, shared);
    ASSERT_TRUE(frame) << frame.error().to_string();
    EXPECT_NE(frame->data().data(), original.data().data());
    EXPECT_EQ(frame->data()[0], std::byte{7}); // the copy has the same bytes
    frame->row(0, 0)[0] = std::byte{9};
    EXPECT_EQ(original.data()[0], std::byte{7});
    EXPECT_EQ(shared.data()[0], std::byte{9});
    EXPECT_EQ(original.ref_count(), 1U);
}

TEST(VideoFrameTest, MapBytesMapsPlainMemory) {
    const VideoInfo info = make_info(VideoFormat::rgb, 3, 2);
    std::vector<std::byte> memory(info.size());
    auto frame = WritableVideoFrame::map_bytes(info, memory);
    ASSERT_TRUE(frame);
    frame->row(0, 1)[2] = std::byte{1};
    EXPECT_EQ(memory[12 + 2], std::byte{1});
    std::vector<std::byte> small(info.size() - 1);
    EXPECT_FALSE(VideoFrame::map_bytes(info, std::span<const std::byte>(small)));
}

// A buffer with a VideoMeta: planes where the meta says, in any order, with
// strides wider than the caps' layout.
TEST(VideoFrameTest, AVideoMetaPlacesThePlanes) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::i420, 30, 21);
    VideoMeta meta;
    meta.format = VideoFormat::i420;
    meta.width = 30;
    meta.height = 21;
    // V first, then U, then Y; every row 64 bytes apart.
    meta.strides = {64, 64, 64, 0};
    meta.offsets = {2 * 64 * 11, 64 * 11, 0, 0};
    Buffer buffer = allocate(*arena, 64 * 11 * 2 + 64 * 22);
    set_video_meta(buffer.meta(), meta);
    {
        auto frame = WritableVideoFrame::map(info, buffer);
        ASSERT_TRUE(frame) << frame.error().to_string();
        EXPECT_EQ(frame->stride(0), 64U);
        EXPECT_EQ(frame->plane(0).size(), 64U * 22); // 22 rows: 4:2:0 of an odd height
        EXPECT_EQ(frame->row(1, 10).size(), 15U);
        std::fill_n(frame->row(0, 21).data(), 30, std::byte{7});
        std::fill_n(frame->row(2, 0).data(), 15, std::byte{9});
    }
    const auto bytes = buffer.data();
    EXPECT_EQ(bytes[2 * 64 * 11 + 21 * 64], std::byte{7});
    EXPECT_EQ(bytes[0], std::byte{9});
    EXPECT_EQ(bytes[64 * 11], std::byte{0});
}

TEST(VideoFrameTest, AVideoMetaThatDoesNotFitIsAnErrorSayingWhy) {
    auto arena = make_arena();
    const VideoInfo info = make_info(VideoFormat::gray8, 32, 8);
    Buffer buffer = allocate(*arena, 256);
    VideoMeta meta;
    meta.format = VideoFormat::gray8;
    meta.width = 32;
    meta.height = 8;
    meta.strides = {16, 0, 0, 0};
    set_video_meta(buffer.meta(), meta);
    auto narrow = VideoFrame::map(info, buffer);
    ASSERT_FALSE(narrow);
    EXPECT_EQ(narrow.error().code(), Errc::invalid_argument);
    EXPECT_NE(narrow.error().message().find("plane 0 has a stride of 16 bytes; its rows need 32"), std::string::npos)
        << narrow.error().message();

    meta.strides = {32, 0, 0, 0};
    meta.offsets = {8, 0, 0, 0};
    set_video_meta(buffer.meta(), meta);
    auto past = VideoFrame::map(info, buffer);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code(), Errc::out_of_range);
    EXPECT_NE(past.error().message().find("plane 0 (8 rows of 32 bytes at offset 8) ends past the buffer's 256 bytes"),
              std::string::npos)
        << past.error().message();

    meta.offsets = {0, 0, 0, 0};
    meta.width = 16;
    set_video_meta(buffer.meta(), meta);
    auto other = VideoFrame::map(info, buffer);
    ASSERT_FALSE(other);
    EXPECT_NE(other.error().message().find("video meta describes a GRAY8 16x8 frame, the stream is GRAY8 32x8"),
              std::string::npos)
        << other.error().message();

    // Fixed, then removed: the caps' layout again.
    meta.width = 32;
    set_video_meta(buffer.meta(), meta);
    EXPECT_TRUE(VideoFrame::map(info, buffer));
    clear_video_meta(buffer.meta());
    EXPECT_EQ(video_meta(buffer.meta()), nullptr);
    EXPECT_TRUE(VideoFrame::map(info, buffer));
}

} // namespace
} // namespace parallax::video_frame_test
