// The built-in YOLOv3: Darknet-53 backbone, the three-level neck and heads at
// downsample ratios 32, 16 and 8, generated as a NetworkDef layer for layer
// identical to Darknet's yolov3.cfg (same order, so the same .weights files
// load), with stable role-based parameter names and a width multiplier for
// narrow test models.
#pragma once

#include <string>
#include <vector>

#include "models/network_def.h"

namespace models {

struct YoloV3Options {
  int num_classes = 80;
  // YOLOv3's COCO anchors, (w, h) pairs in input pixels.
  std::vector<int> anchors = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};
  // Anchors per head, from the coarsest grid (stride 32) to the finest (8).
  std::vector<std::vector<int>> masks = {{6, 7, 8}, {3, 4, 5}, {0, 1, 2}};
  int input_size = 416;      // any multiple of 32
  double width = 1.0;        // channel multiplier; the topology is unchanged
  float ignore_thresh = 0.7f;
};

// Throws core::ValueError for a non-positive class count or width, an input
// size that is not a positive multiple of 32, an odd anchor list, three masks
// not given, or a mask index outside the anchors.
void validate(const YoloV3Options& o);

struct GeneratedNetwork {
  NetworkDef def;
  std::vector<std::string> names;  // per layer; empty for layers without parameters
};

// Darknet-53's 75 layers (52 convolutions, 23 shortcuts), as in yolov3.cfg.
GeneratedNetwork darknet53_backbone(double width, int input_size);
// The full 107-layer YOLOv3.
GeneratedNetwork yolov3(const YoloV3Options& options);

}  // namespace models
