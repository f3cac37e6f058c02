// The one translation unit that compiles stb_image and stb_image_write.
// Debian's libstb-dev also ships libstb.a; we do not link it, so exactly one
// copy of each implementation exists in the program.
#include "data/image.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/image_checks.h"

#define STBI_NO_STDIO           // we read files ourselves, so errors can name them
// The formats data sets and `yolo detect` use; PSD, HDR and PIC are left out
// (less decoder code exposed to untrusted files).
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_ONLY_PNM
// stb allocates its decoder state uninitialised; a corrupt JPEG that uses a
// Huffman table it never defined then reads garbage indices (out of bounds
// in Debian's stb, fixed upstream in 2.28; found by fuzz_image). Zeroed
// allocations make such a table empty, which stb rejects as a bad code.
#define STBI_MALLOC(size) std::calloc(1, size)
#define STBI_REALLOC(p, size) std::realloc(p, size)
#define STBI_FREE(p) std::free(p)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace data {

using core::IoError;

namespace {

// Whole file in memory; missing and empty files get their own messages
// because they are the common failures in a data set.
std::string read_image_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(fmt::format("{}: image file does not exist", path));
  std::string bytes = core::read_file(path);
  if (bytes.empty()) throw IoError(fmt::format("{}: image file is empty (0 bytes)", path));
  return bytes;
}

const stbi_uc* as_uc(const std::string& s) { return reinterpret_cast<const stbi_uc*>(s.data()); }

std::vector<unsigned char> to_bytes(const Image& image) {
  std::vector<unsigned char> out(image.pixels.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<unsigned char>(std::clamp(std::lround(image.pixels[i]), 0L, 255L));
  }
  return out;
}

void append_to_string(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

// Rejects a declared size above kMaxImagePixels; stb would otherwise
// allocate whatever the header declares before finding the data short.
void check_pixel_count(int w, int h, const std::string& name) {
  if (std::int64_t(w) * h > kMaxImagePixels) {
    throw IoError(fmt::format("{}: image is {}x{}, more than the {} pixels this program accepts", name, w, h,
                              kMaxImagePixels));
  }
}

// stb's JPEG header parser already builds Huffman tables, so both the full
// decode and the size check must see this first.
void reject_bad_structure(const std::string& bytes, const std::string& name) {
  if (auto problem = find_image_structure_problem(bytes)) {
    throw IoError(fmt::format("{}: cannot decode image ({})", name, *problem));
  }
}

bool fits_in_int(const std::string& bytes) { return bytes.size() <= std::size_t(std::numeric_limits<int>::max()); }

}  // namespace

ImageSize decode_image_size(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) throw IoError(fmt::format("{}: image file is empty (0 bytes)", name));
  reject_bad_structure(bytes, name);
  int w = 0, h = 0, channels = 0;
  if (!fits_in_int(bytes) || !stbi_info_from_memory(as_uc(bytes), static_cast<int>(bytes.size()), &w, &h, &channels)) {
    throw IoError(fmt::format("{}: not a readable image ({}, {} bytes)", name, stbi_failure_reason(), bytes.size()));
  }
  check_pixel_count(w, h, name);
  return {w, h};
}

Image decode_image(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) throw IoError(fmt::format("{}: image file is empty (0 bytes)", name));
  if (!fits_in_int(bytes)) throw IoError(fmt::format("{}: cannot decode image ({} bytes is too large)", name, bytes.size()));
  reject_bad_structure(bytes, name);
  int header_w = 0, header_h = 0, header_channels = 0;
  if (stbi_info_from_memory(as_uc(bytes), static_cast<int>(bytes.size()), &header_w, &header_h, &header_channels)) {
    check_pixel_count(header_w, header_h, name);
  }
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> decoded(
      stbi_load_from_memory(as_uc(bytes), static_cast<int>(bytes.size()), &w, &h, &channels, 3), stbi_image_free);
  if (!decoded) {
    throw IoError(fmt::format("{}: cannot decode image ({}, {} bytes)", name, stbi_failure_reason(), bytes.size()));
  }
  Image image(w, h);
  const stbi_uc* src = decoded.get();
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = src[i];
  return image;
}

Image load_image(const std::string& path) { return decode_image(read_image_bytes(path), path); }

ImageSize read_image_size(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(fmt::format("{}: image file does not exist", path));
  // A prefix is enough for the header (JPEG's SOF follows at most a 64 KiB
  // EXIF block); reading whole files would make checking COCO's 118k images slow.
  constexpr std::size_t kPrefix = 256 * 1024;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open image: {}", path, std::strerror(errno)));
  std::string bytes(kPrefix, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(kPrefix));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return decode_image_size(bytes, path);
}

std::string encode_png(const Image& image) {
  const auto bytes = to_bytes(image);
  std::string out;
  if (!stbi_write_png_to_func(append_to_string, &out, image.width, image.height, 3, bytes.data(), image.width * 3)) {
    throw IoError(fmt::format("cannot encode a {}x{} PNG", image.width, image.height));
  }
  return out;
}

std::string encode_jpeg(const Image& image, int quality) {
  const auto bytes = to_bytes(image);
  std::string out;
  if (!stbi_write_jpg_to_func(append_to_string, &out, image.width, image.height, 3, bytes.data(), quality)) {
    throw IoError(fmt::format("cannot encode a {}x{} JPEG", image.width, image.height));
  }
  return out;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw IoError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

}  // namespace data
