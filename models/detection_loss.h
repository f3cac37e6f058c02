// The YOLOv3 training loss: one yolo_loss per [yolo] head (each with its own
// anchors mask and downsample ratio), summed per image over the heads, then
// averaged over the batch, as PaddleDetection's YOLOv3 does.
#pragma once

#include <vector>

#include "core/tape.h"
#include "models/darknet_network.h"

namespace models {

struct DetectionTargets {
  core::Tensor gt_box;    // [N, B, 4] centre x, centre y, w, h as fractions of the input
  core::Tensor gt_label;  // [N, B] int32
  core::Tensor gt_score;  // [N, B] or undefined (all ones); mixup weights
};

struct DetectionLossOptions {
  bool use_label_smooth = true;
  double scale_x_y = 1.0;
};

struct DetectionLoss {
  core::Tensor loss;                     // scalar: mean over images of the summed heads
  // Per head [N, ops::kYoloLossNumParts], columns indexed by ops::YoloLossPart
  // (x/y, w/h, objectness, class), for logs.
  std::vector<core::Tensor> head_parts;
};

// heads are DarknetNetwork::forward's heads for an input of height x width.
// Throws core::ShapeError when the heads do not match the network's [yolo]
// layers or the targets are malformed (messages from yolo_loss).
DetectionLoss detection_loss(core::Tape& tape, const DarknetNetwork& network, const std::vector<core::Tensor>& heads,
                             int height, int width, const DetectionTargets& targets,
                             const DetectionLossOptions& options = {});

}  // namespace models
