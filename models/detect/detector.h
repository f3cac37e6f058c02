// The whole inference path for a batch of decoded images: preprocessing per
// the model's metadata, one forward pass in eval mode on a non-recording
// tape, decoding of every head, the letterbox correction (or none for
// stretched inputs), class-wise NMS, and boxes in original-image pixels.
// `yolo detect` and model-mode evaluation both go through here, so the
// pictures and the mAP see the same detections.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "models/detect/nms.h"
#include "models/model_file.h"

namespace models {

struct DetectOptions {
  int net_width = 416, net_height = 416;  // network input; multiples of 32
  float thresh = 0.5f;   // objectness and class-probability threshold (Darknet's -thresh)
  float nms_iou = 0.45f; // boxes overlapping more than this lose the class; <= 0 turns NMS off
  NmsMethod nms = NmsMethod::bounded;  // bounded_nms, or Darknet's do_nms_sort for comparisons
  int pre_nms_top_k = 1000;  // bounded: candidates per class into NMS; 0 = all
  int max_dets = 100;        // per image, best scores first; 0 keeps all
};

// The network input size a model was made for: meta.input_size when set,
// else the [net] width/height of its definition.
DetectOptions default_detect_options(const Model& model);

// Detections of each image (float32 [3, H, W] in [0, 1], original size), in
// input order; boxes in that image's pixels. The network runs in eval mode
// (running batch-norm statistics); its previous mode is restored afterwards.
// Throws what prepare_batch and the network's forward throw (core::ValueError,
// core::ShapeError), and core::ValueError for a model without [yolo] layers.
std::vector<std::vector<ImageDetection>> detect_batch(const Model& model, const std::vector<core::Tensor>& images,
                                                      const DetectOptions& options);

// detect_batch in its two stages, for timing them apart (`yolo bench
// detect`): preprocessing and the forward pass give the raw heads; decoding,
// the letterbox correction and NMS turn them into each image's detections.
std::vector<core::Tensor> forward_heads(const Model& model, const std::vector<core::Tensor>& images,
                                        const DetectOptions& options);
std::vector<std::vector<ImageDetection>> detections_from_heads(const Model& model, const std::vector<core::Tensor>& heads,
                                                               const std::vector<core::Tensor>& images,
                                                               const DetectOptions& options);

}  // namespace models
