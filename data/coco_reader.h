// COCO instances JSON into a training Dataset. The parsing itself is
// data/coco_json.h (shared with the evaluator's ground truth); this file
// decides what training keeps.
#pragma once

#include <string>

#include "data/dataset.h"

namespace data {

// Categories sorted by id become labels 0..C-1; Dataset::category_ids keeps
// label -> id for writing results. Crowd boxes are kept with crowd = true
// (evaluation needs them; training drops them). An annotation that names an
// unknown image or category, or whose box has negative size or lies outside
// its image, is skipped and recorded in Dataset::skipped. A file that is not
// JSON, or holds a field of the wrong type, throws core::IoError naming the
// file, the element (e.g. "annotations[3].bbox") and the problem.
Dataset read_coco(const std::string& json_path, const std::string& image_dir, const ReadOptions& options);

}  // namespace data
