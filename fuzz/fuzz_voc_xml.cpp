// One PASCAL VOC annotation file (data/voc_reader.h) with the 20 VOC classes.
#include "data/voc_reader.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> classes = data::voc_class_names("/nonexistent");
  const std::string path = fuzz::scratch_file(fuzz::as_string(data, size), ".xml");
  fuzz::expect_only_project_errors([&] { data::read_voc_annotation(path, "JPEGImages", classes); });
  return 0;
}
