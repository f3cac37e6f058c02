// Reads a COCO instances file into the evaluator's ground truth, keeping
// what cocoapi keeps: double-precision boxes, every annotation in file order
// (tiny or out-of-image boxes included, which the training reader drops),
// the `area` field and `iscrowd`. The training-side data::read_coco stores
// float boxes and skips boxes it cannot train on, so scores computed from it
// could drift from the official numbers; this reader exists for that reason.
// Both parse with data/coco_json.h, this one under its cocoapi rules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "train/eval/coco_eval.h"

namespace train {

struct CocoGroundTruthFile {
  CocoGroundTruth gt;
  // Annotations cocoapi would never look at (unknown image or category id),
  // one line each; they are left out.
  std::vector<std::string> skipped;
  std::size_t num_missing_area = 0;  // annotations without `area`: w*h used instead
};

// Throws core::IoError naming the file, the element ("annotations[3].bbox")
// and the problem for a file that is not JSON, lacks one of the three
// arrays, holds a field of the wrong type, or repeats an image or category id.
CocoGroundTruthFile read_coco_ground_truth(const std::string& path);

// The same from JSON text; `name` stands for the file in messages.
CocoGroundTruthFile parse_coco_ground_truth(std::string_view json, const std::string& name);

}  // namespace train
