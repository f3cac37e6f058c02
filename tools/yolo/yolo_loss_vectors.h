// Reader for yolo_loss conformance vectors, format "yolo_loss_vectors/1"
// (docs/yolo_loss.md, 'Conformance files'). Unknown keys are ignored; tensors are read as float64
// (inputs are float32-representable, so each case can also drive float32).
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/yolo_loss.h"

namespace yolo {

struct YoloLossCase {
  std::string name;
  ops::YoloLossParams params;
  core::Tensor x, gt_box, gt_label, gt_score;  // gt_score undefined when null or absent
  core::Tensor dloss;
  core::Tensor want_loss, want_objectness_mask, want_gt_match_mask, want_dx;
  bool float32_safe = false;
};

struct YoloLossVectorFile {
  std::vector<YoloLossCase> cases;
  // Cases that could not be read: "name: reason". They count as failures.
  std::vector<std::string> unreadable;
};

// Throws IoError naming the path when the file is missing, is not JSON, or
// is not a "yolo_loss_vectors/1" file with a `cases` list.
YoloLossVectorFile read_yolo_loss_vectors(const std::string& path);

}  // namespace yolo
