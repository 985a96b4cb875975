#include <parallax/audio/audio_samples.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace parallax {
namespace {

std::shared_ptr<Arena> make_arena() {
    ArenaConfig config;
    config.slot_count = 4;
    config.slot_size = 4096;
    auto arena = Arena::create(config);
    EXPECT_TRUE(arena) << arena.error().to_string();
    return *arena;
}

Buffer allocate(Arena& arena, std::size_t size) {
    auto buffer = Buffer::allocate(arena, size);
    EXPECT_TRUE(buffer) << buffer.error().to_string();
    return buffer ? std::move(*buffer) : Buffer();
}

TEST(AudioSamplesTest, InterleavedAudioIsOnePlane) {
    auto arena = make_arena();
    const AudioInfo info = AudioInfo::make(AudioFormat::s16le, 48000, 2).value();
    Buffer buffer = allocate(*arena, 40);
    auto samples = AudioSamples::map(info, buffer);
    ASSERT_TRUE(samples) << samples.error().to_string();
    EXPECT_EQ(samples->frames(), 10U);
    EXPECT_EQ(samples->channels(), 2U);
    EXPECT_EQ(samples->n_planes(), 1U);
    EXPECT_EQ(samples->plane(0).data(), buffer.data().data());
    EXPECT_EQ(samples->plane(0).size(), 40U);
    EXPECT_TRUE(samples->plane(1).empty());
}

TEST(AudioSamplesTest, NonInterleavedAudioHasAPlanePerChannel) {
    auto arena = make_arena();
    const AudioInfo info = AudioInfo::make(AudioFormat::f32le, 48000, 3, AudioLayout::non_interleaved).value();
    Buffer buffer = allocate(*arena, std::size_t{3} * 4 * 5);
    {
        auto samples = WritableAudioSamples::map(info, buffer);
        ASSERT_TRUE(samples) << samples.error().to_string();
        EXPECT_EQ(samples->frames(), 5U);
        ASSERT_EQ(samples->n_planes(), 3U);
        for (std::size_t c = 0; c < 3; ++c) {
            auto plane = samples->plane(c);
            ASSERT_EQ(plane.size(), 20U);
            for (std::size_t i = 0; i < 5; ++i) {
                const float value = static_cast<float>(c) + 0.25f * static_cast<float>(i);
                std::memcpy(plane.data() + i * sizeof(float), &value, sizeof value);
            }
        }
        EXPECT_TRUE(samples->plane(3).empty());
    }
    // Channel 1's samples follow all of channel 0's.
    float value = 0;
    std::memcpy(&value, buffer.data().data() + 20 + 2 * sizeof(float), sizeof value);
    EXPECT_EQ(value, 1.5f);
}

TEST(AudioSamplesTest, PartialFramesAreAnError) {
    auto arena = make_arena();
    const AudioInfo info = AudioInfo::make(AudioFormat::s32le, 8000, 2, AudioLayout::non_interleaved).value();
    Buffer buffer = allocate(*arena, 20);
    auto samples = AudioSamples::map(info, buffer);
    ASSERT_FALSE(samples);
    EXPECT_TRUE(samples.error().is(Errc::out_of_range));
    EXPECT_NE(samples.error().message().find("buffer of 20 bytes is not a whole number"), std::string::npos);
    EXPECT_FALSE(WritableAudioSamples::map(info, buffer));

    Buffer empty;
    auto none = AudioSamples::map(info, empty);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->frames(), 0U);
    EXPECT_TRUE(none->plane(0).empty());
}

TEST(AudioSamplesTest, WritableMapOfASharedBufferCopiesFirst) {
    auto arena = make_arena();
    const AudioInfo info = AudioInfo::make(AudioFormat::u8, 8000, 1).value();
    Buffer original = allocate(*arena, 16);
    fill_silence(AudioFormat::u8, original.map_writable().value());
    Buffer shared = original;
    auto samples = WritableAudioSamples::map(info, shared);
    ASSERT_TRUE(samples);
    samples->plane(0)[0] = std::byte{1};
    EXPECT_EQ(original.data()[0], std::byte{0x80});
    EXPECT_EQ(shared.data()[0], std::byte{1});
}

TEST(AudioSamplesTest, MapBytesMapsPlainMemory) {
    const AudioInfo info = AudioInfo::make(AudioFormat::f64le, 8000, 2, AudioLayout::non_interleaved).value();
    std::vector<std::byte> memory(64);
    auto samples = AudioSamples::map_bytes(info, std::span<const std::byte>(memory));
    ASSERT_TRUE(samples);
    EXPECT_EQ(samples->frames(), 4U);
    EXPECT_EQ(samples->plane(1).data(), memory.data() + 32);
}

} // namespace
} // namespace parallax
