// COCO instances JSON through both of its readers: the training reader
// (data/coco_reader.h, from a file) and the evaluator's ground truth
// (train/eval/coco_ground_truth.h, from text).
#include "data/coco_reader.h"
#include "fuzz/fuzz_support.h"
#include "train/eval/coco_ground_truth.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string json = fuzz::as_string(data, size);
  const std::string path = fuzz::scratch_file(json, ".json");
  fuzz::expect_only_project_errors([&] {
    data::read_coco(path, "images", {.keep_empty_images = true, .check_images = false});
  });
  fuzz::expect_only_project_errors([&] { train::parse_coco_ground_truth(json, "fuzz.json"); });
  return 0;
}
