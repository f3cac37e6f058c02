// NumPy .npy bytes (core/npy.h): magic, version, header dict, data.
#include "core/npy.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = fuzz::as_string(data, size);
  fuzz::expect_only_project_errors([&] { core::parse_npy(bytes, "fuzz.npy"); });
  return 0;
}
