// Image decoding and encoding: round trips and errors that name the file.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/image.h"
#include "tests/data/fixture.h"

namespace {

using data_test::expect_error;
using data_test::TempDir;

TEST(Image, PngRoundTripKeepsPixelsAndSize) {
  TempDir dir;
  data::Image im(5, 3);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<float>((i * 37) % 256);
  data::write_bytes(dir / "a.png", data::encode_png(im));
  const data::Image back = data::load_image(dir / "a.png");
  ASSERT_EQ(back.width, 5);
  ASSERT_EQ(back.height, 3);
  EXPECT_EQ(back.pixels, im.pixels);
  const auto size = data::read_image_size(dir / "a.png");
  EXPECT_EQ(size.width, 5);
  EXPECT_EQ(size.height, 3);
}

TEST(Image, JpegDecodesCloseToTheOriginal) {
  TempDir dir;
  data::Image im(16, 8, 120.0f);
  data::write_bytes(dir / "a.jpg", data::encode_jpeg(im, 95));
  const data::Image back = data::load_image(dir / "a.jpg");
  ASSERT_EQ(back.width, 16);
  for (float v : back.pixels) EXPECT_NEAR(v, 120.0f, 3.0f);
}

TEST(Image, EncodingIsDeterministic) {
  data::Image im(7, 7, 10.0f);
  im.pixels[4] = 200;
  EXPECT_EQ(data::encode_jpeg(im, 90), data::encode_jpeg(im, 90));
  EXPECT_EQ(data::encode_png(im), data::encode_png(im));
}

TEST(Image, MissingEmptyCorruptAndTruncatedFilesAreErrorsNamingTheFile) {
  TempDir dir;
  expect_error<core::IoError>([&] { data::load_image(dir / "none.jpg"); }, {"none.jpg", "does not exist"});
  data_test::write_text(dir / "empty.png", "");
  expect_error<core::IoError>([&] { data::load_image(dir / "empty.png"); }, {"empty.png", "empty"});
  expect_error<core::IoError>([&] { data::read_image_size(dir / "empty.png"); }, {"empty.png", "empty"});
  data_test::write_text(dir / "junk.jpg", "this is not an image at all");
  expect_error<core::IoError>([&] { data::load_image(dir / "junk.jpg"); }, {"junk.jpg", "cannot decode"});
  expect_error<core::IoError>([&] { data::read_image_size(dir / "junk.jpg"); }, {"junk.jpg"});
  data::Image im(32, 32, 50.0f);
  const std::string png = data::encode_png(im);
  data_test::write_text(dir / "cut.png", png.substr(0, png.size() / 2));
  expect_error<core::IoError>([&] { data::load_image(dir / "cut.png"); }, {"cut.png", "cannot decode"});
}

}  // namespace

// A header may declare any size, and stb allocates it
// before noticing the pixel data is missing.
TEST(Image, HugeDeclaredSizeIsRejectedBeforeDecoding) {
  const std::string header_only = "P6\n10000 10000\n255\n" + std::string(30, '\x10');
  expect_error<core::IoError>([&] { data::decode_image(header_only, "huge.ppm"); },
                              {"huge.ppm", "10000x10000", "more than the 67108864 pixels"});
  expect_error<core::IoError>([&] { data::decode_image_size(header_only, "huge.ppm"); }, {"huge.ppm", "10000x10000"});
  const data::Image small = data::decode_image("P6\n2 1\n255\n" + std::string(6, '\x20'), "small.ppm");
  EXPECT_EQ(small.width, 2);
  EXPECT_EQ(small.pixels[0], 32.0f);
}

// Found by fuzz_image: a Huffman table declaring more than 256 codes made
// Debian's stb_image write past its tables (UBSan: index 257 out of bounds).
TEST(Image, JpegHuffmanTableWithTooManyCodesIsRejected) {
  std::string jpeg = "\xFF\xD8\xFF\xC4";
  const std::size_t length = 2 + 17 + 16;
  jpeg += static_cast<char>(length >> 8);
  jpeg += static_cast<char>(length & 0xFF);
  jpeg += '\x00';                           // DC table 0
  jpeg += std::string(16, '\xFF');          // 16 x 255 = 4080 codes
  jpeg += std::string(16, '\x01');          // a few symbols; the file ends early
  expect_error<core::IoError>([&] { data::decode_image(jpeg, "dht.jpg"); },
                              {"dht.jpg: cannot decode image (Huffman table at byte 6 declares 4080 codes (at most 256))"});
  expect_error<core::IoError>([&] { data::decode_image_size(jpeg, "dht.jpg"); }, {"dht.jpg", "4080 codes"});
  // Found next: the segment declares more bytes than the file has, and the
  // last table's counts are cut off by the end of the file; stb reads on
  // (zeros past the end), so the counts that are there still add up.
  std::string cut = "\xFF\xD8\xFF\xC4\x01\xA2";
  cut += '\x00';                    // table 0: 2 codes
  cut += std::string("\x02") + std::string(15, '\x00') + "\x05\x06";
  cut += '\x10';                    // table 1: counts end with the file
  cut += std::string(9, '\xF0');   // 9 x 240 codes
  expect_error<core::IoError>([&] { data::decode_image(cut, "cut.jpg"); }, {"cut.jpg", "declares 2160 codes"});
  // And then: fill bytes (0xFF) before the start marker, which stb skips.
  expect_error<core::IoError>([&] { data::decode_image_size(std::string(8, '\xFF') + jpeg, "fill.jpg"); },
                              {"fill.jpg", "declares 4080 codes"});
}

// Found by fuzz_image: stb allocated an IDAT buffer of the chunk's declared
// length (1.5 GB here) before reading it; chunks must fit in the file.
TEST(Image, PngChunkLongerThanTheFileIsRejected) {
  data::Image im(5, 3, 20.0f);
  const std::string png = data::encode_png(im);
  const std::size_t idat = png.find("IDAT") - 4;
  std::string forged = png;
  forged.replace(idat, 4, std::string("\x5e\x78\x00\x00", 4));
  expect_error<core::IoError>([&] { data::decode_image(forged, "big.png"); },
                              {"big.png: cannot decode image (PNG chunk 'IDAT' at byte 33 declares 1584922624 bytes"});
  expect_error<core::IoError>([&] { data::decode_image_size(forged, "big.png"); }, {"big.png", "IDAT"});
  EXPECT_EQ(data::decode_image(png, "ok.png").width, 5);
}

// Found by fuzz_image: Debian's stb decodes a 16-bit PNM (maxval 256 here)
// with its 8-bit conversion and reads past the buffer (ASan heap overflow).
TEST(Image, SixteenBitPnmAndOverlongHeaderNumbersAreRejected) {
  const std::string sixteen = "P5\n2 2\n256\n" + std::string(8, '\x7f');
  expect_error<core::IoError>([&] { data::decode_image(sixteen, "deep.pgm"); },
                              {"deep.pgm: cannot decode image (16-bit PNM (maxval 256) is not supported; convert it to 8 bits)"});
  expect_error<core::IoError>([&] { data::decode_image_size(sixteen, "deep.pgm"); }, {"deep.pgm", "16-bit PNM"});
  expect_error<core::IoError>([&] { data::decode_image("P6 # size follows\n99999999999 1\n255\n", "long.ppm"); },
                              {"long.ppm", "PNM width has more than 9 digits"});
  const data::Image gray = data::decode_image("P5 # comment\n2 1\n255\n\x10\x20", "gray.pgm");
  EXPECT_EQ(gray.width, 2);
  EXPECT_EQ(gray.pixels[3], 32.0f);  // second pixel, red channel
}
