// The one parser of COCO instances JSON (`images`, `annotations`,
// `categories`), shared by the training reader (data/coco_reader.h) and the
// evaluator's ground truth (train/eval/coco_ground_truth.h). simdjson's
// on-demand API: one pass, no DOM, so train2017's 450 MB file costs about its
// own size in memory. It returns the three arrays as written, plus the id
// lookups both callers build; what to keep, and in which precision, is the
// callers' business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace data {

// How strictly ids and flags are read. `training`: ids and `iscrowd` must be
// JSON integers, an annotation's `id` is optional, and images' `file_name`,
// `width` and `height` are read (and type-checked). `cocoapi`: as cocoapi's
// Python sees the file: an id may be a float with an integral value,
// `iscrowd` may be a bool or any number, numbers must be finite, every
// annotation needs an `id`, and of an image only its `id` is read.
enum class CocoJsonRules { training, cocoapi };

struct CocoJsonImage {
  std::int64_t id = 0;
  std::string file_name;
  int width = 0, height = 0;
};

struct CocoJsonAnnotation {
  std::int64_t id = 0, image_id = 0, category_id = 0;
  double bbox[4] = {0, 0, 0, 0};  // x, y, w, h as written
  double area = 0;
  bool has_area = false;
  bool crowd = false;
};

struct CocoJsonCategory {
  std::int64_t id = 0;
  std::string name;
};

struct CocoJson {
  std::vector<CocoJsonImage> images;             // file order
  std::vector<CocoJsonAnnotation> annotations;   // file order
  std::vector<CocoJsonCategory> categories;      // sorted by id
  std::vector<std::int64_t> category_ids;        // label -> category id, ascending
  std::unordered_map<std::int64_t, int> label_of;            // category id -> label
  std::unordered_map<std::int64_t, std::size_t> image_of;    // image id -> index into images
};

// Parses JSON text; `name` stands for the file in messages. Throws
// core::IoError naming it, the element ("annotations[3].bbox") and the
// problem for text that is not JSON, lacks one of the three arrays, holds a
// field of the wrong type or misses a required one, or repeats a category or
// image id.
CocoJson parse_coco_json(std::string_view json, const std::string& name, CocoJsonRules rules);

// The same from a file; an unreadable file throws "PATH: cannot read: ...".
CocoJson read_coco_json(const std::string& path, CocoJsonRules rules);

// Why an annotation cannot be placed ("NAME: annotation id 5: image_id 4 is
// not in \"images\"", likewise for category_id), or "" when both ids are known.
std::string unknown_reference(const CocoJson& json, const CocoJsonAnnotation& a, const std::string& name);

}  // namespace data
