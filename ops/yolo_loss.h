// yolo_loss: PaddlePaddle's YOLOv3 loss (`paddle.vision.ops.yolo_loss`, the
// `yolov3_loss` operator), forward and backward, reproduced exactly, quirks
// included; docs/yolo_loss.md says what it computes and where it departs.
//
// It is one fused op with an explicit backward, not a composition of
// differentiable primitives: the original's backward is not the gradient of
// its forward in two places (docs/yolo_loss.md), and matching it means
// writing that backward out. Float32 and float64; the float32 path evaluates
// the same sub-expressions in double that the original does.
//
// Departures from the original, both deliberate:
// - A valid gt row (w and h >= 1e-6) whose centre lies outside [0, 1) is
//   rejected with an error naming the image and row. The original reads and
//   writes out of place for such a row; the data pipeline keeps centres
//   inside the image, so training never sees one.
// - Inputs the original does not check but mishandles are rejected too:
//   gt_box batch != x batch, negative anchor_mask entries, anchors <= 0 and
//   downsample_ratio <= 0.
// Label smoothing uses min(1/class_num, 1/40), as the original's kernels do;
// Paddle's docstring still says 1/class_num.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

// Attributes in the order of the Paddle API. Fields without a spec default
// must be set: the zero class_num and downsample_ratio and the empty anchors
// below are rejected by validation.
struct YoloLossParams {
  std::vector<std::int64_t> anchors;      // (w, h) pairs of ALL anchors, input pixels
  std::vector<std::int64_t> anchor_mask;  // anchors this head predicts, one per slot
  std::int64_t class_num = 0;
  double ignore_thresh = 0.7;             // rounded to float32 before use, as in Paddle
  std::int64_t downsample_ratio = 0;      // stride of the head: 32, 16 or 8
  bool use_label_smooth = true;
  double scale_x_y = 1.0;                 // rounded to float32 before use, as in Paddle
};

// Columns of YoloLossOutputs::parts: each image's loss split into its terms.
enum YoloLossPart : int { kYoloLossXY = 0, kYoloLossWH = 1, kYoloLossObjectness = 2, kYoloLossClass = 3 };
inline constexpr int kYoloLossNumParts = 4;

struct YoloLossOutputs {
  Tensor loss;             // [N], x's dtype: per-image sum of every term
  Tensor objectness_mask;  // [N,S,H,W], x's dtype: 0 negative, -1 ignored, else the gt's score
  Tensor gt_match_mask;    // [N,B] int32: matched slot, or -1
  // [N,4], x's dtype, only when requested: the x/y, w/h, objectness and class
  // terms of each image, summed separately for logging. Their sum equals loss
  // up to rounding; loss itself is accumulated exactly as in the original.
  Tensor parts;
};

// The loss of one YOLOv3 head, mirroring Paddle's argument names and order.
//   x        [N, S*(5+class_num), H, W] float32/float64, raw head logits (H == W)
//   gt_box   [N, B, 4] x's dtype, (cx, cy, w, h) normalised to 0..1; rows with
//            w or h < 1e-6 are padding and may appear anywhere
//   gt_label [N, B] int32; labels outside [0, class_num) get all-negative targets
//   gt_score [N, B] x's dtype, or an undefined tensor for all ones
// Only x receives a gradient. Throws ShapeError or ValueError, in the
// original's order of checks followed by this project's rejections listed
// above, naming the argument, the expected and the
// actual shape or value.
YoloLossOutputs yolo_loss(Tape& tape, const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                          const std::vector<std::int64_t>& anchors, const std::vector<std::int64_t>& anchor_mask,
                          std::int64_t class_num, double ignore_thresh, std::int64_t downsample_ratio,
                          const Tensor& gt_score = Tensor(), bool use_label_smooth = true, double scale_x_y = 1.0);

// The same with the attributes in a struct; with_parts also fills `parts`.
YoloLossOutputs yolo_loss(Tape& tape, const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                          const YoloLossParams& params, const Tensor& gt_score = Tensor(), bool with_parts = false);

// Tape-free kernels. The forward validates (same errors as yolo_loss); the
// backward trusts a forward's outputs and returns dx [N,C,H,W] for the
// upstream gradient dloss [N].
YoloLossOutputs yolo_loss_forward(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label,
                                  const Tensor& gt_score, const YoloLossParams& params, bool with_parts = false);
Tensor yolo_loss_backward(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label, const Tensor& gt_score,
                          const Tensor& objectness_mask, const Tensor& gt_match_mask, const Tensor& dloss,
                          const YoloLossParams& params);

// The validation alone (the original's checks, then this project's rejections).
void check_yolo_loss_inputs(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label, const Tensor& gt_score,
                            const YoloLossParams& params);

}  // namespace ops
