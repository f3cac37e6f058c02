// Image decoding (data/image.h, stb_image): the full decode and the
// header-only size check the readers use.
#include "data/image.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = fuzz::as_string(data, size);
  fuzz::expect_only_project_errors([&] { data::decode_image_size(bytes, "fuzz.img"); });
  fuzz::expect_only_project_errors([&] { data::decode_image(bytes, "fuzz.img"); });
  return 0;
}
