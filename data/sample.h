// A training sample on its way through the augmentations: the pixels and
// the boxes that travel with them. Every transform takes and returns one, so
// a box can never be left behind by a geometric step.
#pragma once

#include <vector>

#include "data/dataset.h"
#include "data/image.h"

namespace data {

struct Target {
  Box box;           // pixels of the sample's current image
  int label = 0;
  float score = 1;   // mixup weight of the image the box came from (gt_score)
};

struct Sample {
  Image image;
  std::vector<Target> targets;
};

// Clips every box to the image and drops those narrower or shorter than
// min_size pixels afterwards, so each kept box has positive size and its
// centre strictly inside the image.
void clip_and_filter(Sample& sample, float min_size);

// IoU of two corner boxes (0 when either is empty).
float box_iou(const Box& a, const Box& b);

}  // namespace data
