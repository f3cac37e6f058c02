// One Darknet label file (data/darknet_reader.h) for a 640x480 image and 20
// classes.
#include "data/darknet_reader.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::scratch_file(fuzz::as_string(data, size), ".txt");
  fuzz::expect_only_project_errors([&] { data::read_darknet_labels(path, 640, 480, 20); });
  return 0;
}
