// COCO results JSON (train/eval/detections_io.h), read against COCO-style
// keys (numeric image and category ids) and VOC-style keys (file ids and
// class names).
#include "fuzz/fuzz_support.h"
#include "train/eval/detections_io.h"

namespace {

train::DetectionKeys coco_keys() {
  train::DetectionKeys keys;
  keys.naming = train::ResultsNaming::coco;
  keys.image_ids = {1, 2, 42, 139};
  keys.classes = {"person", "bicycle", "car"};
  keys.category_ids = {1, 2, 3};
  return keys;
}

train::DetectionKeys voc_keys() {
  train::DetectionKeys keys;
  keys.naming = train::ResultsNaming::voc;
  keys.image_names = {"000005", "000007", "2008_000001"};
  keys.classes = {"aeroplane", "bicycle", "bird", "dog"};
  keys.unreadable_images = {"000009"};
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const train::DetectionKeys coco = coco_keys();
  static const train::DetectionKeys voc = voc_keys();
  const std::string json = fuzz::as_string(data, size);
  fuzz::expect_only_project_errors([&] { train::parse_detections(json, "fuzz.json", coco); });
  fuzz::expect_only_project_errors([&] { train::parse_detections(json, "fuzz.json", voc); });
  return 0;
}
