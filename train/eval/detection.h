// One scored box as the evaluators and results files see it. Boxes are in
// original-image pixels in COCO's (x, y, w, h) form, exactly as a results
// file stores them; each evaluator applies its own pixel convention.
#pragma once

#include <cstddef>

namespace train {

struct Detection {
  std::size_t image = 0;              // index into the ground truth's image list
  int label = 0;                      // contiguous class index
  double x = 0, y = 0, w = 0, h = 0;  // top-left corner and size, pixels
  double score = 0;
};

}  // namespace train
