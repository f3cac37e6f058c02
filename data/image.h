// RGB images in memory and their files. Decoding (JPEG, PNG, BMP, GIF, TGA,
// PNM) and encoding (PNG for previews, JPEG for the synthetic data set) go
// through stb, compiled in image.cpp only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace data {

// Interleaved RGB, row-major (H, W, 3), values on the 0..255 scale as floats
// so augmentations can blend and shift without rounding at every step.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<float> pixels;

  Image() = default;
  Image(int w, int h, float fill = 0.0f) : width(w), height(h), pixels(std::size_t(w) * h * 3, fill) {}
  float* at(int x, int y) { return pixels.data() + (std::size_t(y) * width + x) * 3; }
  const float* at(int x, int y) const { return pixels.data() + (std::size_t(y) * width + x) * 3; }
};

struct ImageSize {
  int width = 0;
  int height = 0;
};

// Images with more pixels than this are rejected before decoding: a header
// can declare any size, and a data set image never needs gigabytes.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t(1) << 26;  // 8192 x 8192

// Decodes an image file to RGB. Throws core::IoError naming the path and the
// problem for a missing, empty, truncated, undecodable or too large file.
Image load_image(const std::string& path);
// The same from the file's bytes; `name` stands for the file in messages.
Image decode_image(const std::string& bytes, const std::string& name);

// Reads only the header. Same errors as load_image, except that damage past
// the header goes unnoticed.
ImageSize read_image_size(const std::string& path);
ImageSize decode_image_size(const std::string& bytes, const std::string& name);

// Encodes to PNG or JPEG bytes (values rounded and clamped to 0..255).
// Deterministic: the same image gives the same bytes.
std::string encode_png(const Image& image);
std::string encode_jpeg(const Image& image, int quality);

// Writes bytes to a file; throws core::IoError naming the path.
void write_bytes(const std::string& path, const std::string& bytes);

}  // namespace data
