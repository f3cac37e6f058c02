// Anchor boxes from a data set: k-means over box shapes (w, h) with the
// distance 1 - IoU of two boxes sharing a centre (YOLOv2's choice, so large
// boxes do not dominate as they would under Euclidean distance).
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.h"

namespace data {

struct Anchor {
  float w = 0, h = 0;
};

struct AnchorResult {
  std::vector<Anchor> anchors;  // sorted by area, ascending
  double mean_best_iou = 0;     // over all boxes, against their best anchor
  int iterations = 0;
};

// IoU of two boxes of the given shapes sharing a centre.
float shape_iou(const Anchor& a, const Anchor& b);

// Box shapes of the training targets (no crowd / difficult) in the pixels of
// a size x size input, as the stretch resize produces them.
std::vector<Anchor> box_shapes(const Dataset& dataset, int size);

// k-means++ seeding then Lloyd iterations (cluster centre = median shape,
// robust to outliers) until assignments stop changing. Throws
// core::ValueError when there are fewer distinct shapes than k.
AnchorResult kmeans_anchors(const std::vector<Anchor>& shapes, int k, std::uint64_t seed, int max_iterations = 300);

double mean_best_iou(const std::vector<Anchor>& shapes, const std::vector<Anchor>& anchors);

}  // namespace data
