// Image decoding (data/image.h, stb_image): the full decode and the
// header-only size check the readers use.
#include "data/image.h"
#include "fuzz/fuzz_support.h"

// Images up to the library's 64 Mpixel limit are legitimate, but decoding a
// large one under ASan takes seconds and reads as a timeout; above this size
// only the header is checked (the limit itself has a unit test).
constexpr std::int64_t kMaxFuzzPixels = 1 << 20;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = fuzz::as_string(data, size);
  bool small = true;
  fuzz::expect_only_project_errors([&] {
    const data::ImageSize header = data::decode_image_size(bytes, "fuzz.img");
    small = std::int64_t(header.width) * header.height <= kMaxFuzzPixels;
  });
  if (small) fuzz::expect_only_project_errors([&] { data::decode_image(bytes, "fuzz.img"); });
  return 0;
}
