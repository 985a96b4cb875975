// IVF headers: the header of a real aomenc file, round trips, and every
// error of the file and frame headers.

#include <parallax/container/ivf.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parallax {
namespace {

using Bytes8 = std::vector<std::uint8_t>;

// The file header of `aomenc --limit=3 --ivf` at 25 fps, 64x64.
const Bytes8 aomenc_header = {0x44, 0x4b, 0x49, 0x46, 0x00, 0x00, 0x20, 0x00, 0x41, 0x56, 0x30,
                              0x31, 0x40, 0x00, 0x40, 0x00, 0x19, 0x00, 0x00, 0x00, 0x01, 0x00,
                              0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

std::string error_of(const Bytes8& bytes) {
    auto h = ivf::parse_file_header(bytes);
    return h ? std::string("no error") : h.error().message();
}

TEST(IvfTest, ParsesTheHeaderOfAnAomencFile) {
    auto h = ivf::parse_file_header(aomenc_header).value();
    EXPECT_EQ(std::string(h.fourcc.begin(), h.fourcc.end()), "AV01");
    EXPECT_EQ(h.width, 64);
    EXPECT_EQ(h.height, 64);
    EXPECT_EQ(h.framerate, Fraction::make(25, 1).value());
    EXPECT_EQ(h.frame_count, 3U);
}

TEST(IvfTest, FileHeaderRoundTrips) {
    ivf::FileHeader h;
    h.fourcc = {'V', 'P', '9', '0'};
    h.width = 1920;
    h.height = 1080;
    h.framerate = Fraction::make(30000, 1001).value();
    h.frame_count = 123456;
    const auto bytes = ivf::write_file_header(h);
    EXPECT_EQ(bytes[16], 0x30); // rate 30000 = 0x7530, little-endian
    EXPECT_EQ(bytes[17], 0x75);
    EXPECT_EQ(bytes[20], 0xe9); // scale 1001 = 0x3e9
    EXPECT_EQ(bytes[21], 0x03);
    EXPECT_EQ(bytes[28], 0); // unused
    EXPECT_EQ(ivf::parse_file_header(Bytes8(bytes.begin(), bytes.end())).value(), h);
    const auto again = ivf::write_file_header(ivf::parse_file_header(aomenc_header).value());
    EXPECT_EQ(Bytes8(again.begin(), again.end()), aomenc_header);
}

TEST(IvfTest, AnUnsetFramerateIsWrittenAsOne) {
    ivf::FileHeader h;
    h.fourcc = {'A', 'V', '0', '1'};
    h.framerate = Fraction::make(0, 1).value();
    const auto written = ivf::write_file_header(h);
    auto back = ivf::parse_file_header(Bytes8(written.begin(), written.end()));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->framerate, Fraction::make(1, 1).value());
}

TEST(IvfTest, FileHeaderErrorsNameTheField) {
    EXPECT_EQ(error_of(Bytes8(aomenc_header.begin(), aomenc_header.begin() + 31)),
              "IVF file header: 31 bytes, 32 needed (truncated at byte 31)");
    Bytes8 b = aomenc_header;
    b[0] = 'R';
    b[3] = 0x01;
    EXPECT_EQ(error_of(b), "IVF file header: magic at byte 0 is \"RKI\\x01\", not \"DKIF\"");
    b = aomenc_header;
    b[4] = 1;
    EXPECT_EQ(error_of(b), "IVF file header: version 1 at byte 4 is not supported (only 0)");
    EXPECT_TRUE(ivf::parse_file_header(b).error().is(Errc::version_mismatch));
    b = aomenc_header;
    b[6] = 64;
    EXPECT_EQ(error_of(b), "IVF file header: header size 64 at byte 6 is not 32");
    b = aomenc_header;
    b[16] = 0;
    EXPECT_EQ(error_of(b), "IVF file header: timebase denominator (rate, byte 16) is 0");
    b = aomenc_header;
    b[20] = 0;
    EXPECT_EQ(error_of(b), "IVF file header: timebase numerator (scale, byte 20) is 0");
    b = aomenc_header;
    b[16] = 0xff;
    b[17] = 0xff;
    b[18] = 0xff;
    b[19] = 0xff; // rate 2^32 - 1 does not fit a fraction
    EXPECT_NE(error_of(b).find("bytes 16-23"), std::string::npos) << error_of(b);
}

TEST(IvfTest, FrameHeaderRoundTripsAndNamesItsOffset) {
    const ivf::FrameHeader f{0x01020304, 0x1122334455667788ULL};
    const auto bytes = ivf::write_frame_header(f);
    EXPECT_EQ(bytes[0], 0x04);
    EXPECT_EQ(bytes[4], 0x88);
    EXPECT_EQ(bytes[11], 0x11);
    EXPECT_EQ(ivf::parse_frame_header(Bytes8(bytes.begin(), bytes.end()), 0).value(), f);
    auto cut = ivf::parse_frame_header(Bytes8(bytes.begin(), bytes.begin() + 5), 1234);
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.error().message(), "IVF frame header at byte 1234: 5 bytes, 12 needed");
    EXPECT_TRUE(cut.error().is(Errc::corrupt));
}

} // namespace
} // namespace parallax
