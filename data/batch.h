// A batch in exactly the layout yolo_loss reads (docs/yolo_loss.md):
//   images   float32 [N, 3, S, S]  RGB, scaled to [0,1] (then mean/std if asked)
//   gt_box   float32 [N, B, 4]     (cx, cy, w, h) / S
//   gt_label int32   [N, B]
//   gt_score float32 [N, B]        mixup weight, 1 without mixup
// Rows past an image's boxes are all zero (yolo_loss treats w, h < 1e-6 as
// padding); boxes beyond B are dropped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "data/pipeline.h"

namespace data {

struct Batch {
  core::Tensor images, gt_box, gt_label, gt_score;
  std::vector<std::size_t> indices;  // data set index of each row (to name images in warnings)
  int size = 0;                      // S
  std::int64_t epoch = 0;
  std::int64_t index = 0;            // global batch number within the epoch
  int truncated_boxes = 0;           // boxes dropped because an image had more than B
};

// Samples must all be size x size.
Batch collate(const std::vector<Sample>& samples, int size, int max_boxes, const NormalizeParams& normalize);

// Writes one image as CHW floats at dst (3*H*W values).
void write_chw(const Image& image, const NormalizeParams& normalize, float* dst);

}  // namespace data
