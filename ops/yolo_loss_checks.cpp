// Argument validation of yolo_loss, in the order docs/yolo_loss.md gives: first
// the original's own checks, then dtypes, then the rejections this project
// adds for inputs the original silently mishandles. Each message names the
// argument and shows the expected and the actual shape or value.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "core/error.h"
#include "ops/yolo_loss.h"

namespace ops {

using core::ShapeError;
using core::ValueError;

namespace {

constexpr const char* kOp = "yolo_loss";

std::string shape_of(const Tensor& t) { return t.defined() ? core::shape_str(t.shape()) : "undefined"; }

// len(anchor_mask) * (5 + class_num) without overflow; false when it overflows.
bool expected_channels(std::int64_t slots, std::int64_t class_num, std::int64_t& out) {
  std::int64_t per_slot = 0;
  if (__builtin_add_overflow(class_num, std::int64_t{5}, &per_slot)) return false;
  return !__builtin_mul_overflow(slots, per_slot, &out);
}

void check_shapes(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label, const Tensor& gt_score,
                  const YoloLossParams& p) {
  const auto slots = static_cast<std::int64_t>(p.anchor_mask.size());
  if (x.dim() != 4) {
    throw ShapeError(fmt::format("{}: x must be 4-D [N, S*(5+class_num), H, W], got shape {}", kOp, shape_of(x)));
  }
  if (x.size(2) != x.size(3)) {
    throw ShapeError(fmt::format("{}: x must have a square grid (H == W), got H = {} and W = {} (x {})", kOp,
                                 x.size(2), x.size(3), shape_of(x)));
  }
  std::int64_t want = 0;
  if (!expected_channels(slots, p.class_num, want) || x.size(1) != want) {
    throw ShapeError(fmt::format("{}: x dim 1 must be len(anchor_mask) * (5 + class_num) = {} * (5 + {}), got {} (x {})",
                                 kOp, slots, p.class_num, x.size(1), shape_of(x)));
  }
  if (gt_box.dim() != 3) {
    throw ShapeError(fmt::format("{}: gt_box must be 3-D [N, B, 4], got shape {}", kOp, shape_of(gt_box)));
  }
  if (gt_box.size(2) != 4) {
    throw ShapeError(fmt::format("{}: gt_box dim 2 must be 4 (cx, cy, w, h), got {} (gt_box {})", kOp,
                                 gt_box.size(2), shape_of(gt_box)));
  }
  if (gt_label.dim() != 2) {
    throw ShapeError(fmt::format("{}: gt_label must be 2-D [N, B], got shape {}", kOp, shape_of(gt_label)));
  }
  if (gt_label.size(0) != gt_box.size(0)) {
    throw ShapeError(fmt::format("{}: gt_label dim 0 must equal gt_box dim 0 = {}, got {} (gt_label {}, gt_box {})",
                                 kOp, gt_box.size(0), gt_label.size(0), shape_of(gt_label), shape_of(gt_box)));
  }
  if (gt_label.size(1) != gt_box.size(1)) {
    throw ShapeError(fmt::format("{}: gt_label dim 1 must equal gt_box dim 1 = {}, got {} (gt_label {}, gt_box {})",
                                 kOp, gt_box.size(1), gt_label.size(1), shape_of(gt_label), shape_of(gt_box)));
  }
  if (p.anchors.empty()) throw ValueError(fmt::format("{}: anchors must not be empty", kOp));
  if (p.anchors.size() % 2 != 0) {
    throw ValueError(fmt::format("{}: anchors must hold (w, h) pairs, an even count, got {} values [{}]", kOp,
                                 p.anchors.size(), fmt::join(p.anchors, ", ")));
  }
  const auto num_anchors = static_cast<std::int64_t>(p.anchors.size() / 2);
  for (std::size_t s = 0; s < p.anchor_mask.size(); ++s) {
    if (p.anchor_mask[s] >= num_anchors) {
      throw ValueError(fmt::format("{}: anchor_mask[{}] must be < the number of anchors {}, got {} (anchor_mask [{}])",
                                   kOp, s, num_anchors, p.anchor_mask[s], fmt::join(p.anchor_mask, ", ")));
    }
  }
  if (p.class_num <= 0) throw ValueError(fmt::format("{}: class_num must be > 0, got {}", kOp, p.class_num));
  if (gt_score.defined()) {
    if (gt_score.dim() != 2 || gt_score.size(0) != gt_box.size(0) || gt_score.size(1) != gt_box.size(1)) {
      throw ShapeError(fmt::format("{}: gt_score must be [N, B] = [{},{}] like gt_box's first two dims, got shape {}",
                                   kOp, gt_box.size(0), gt_box.size(1), shape_of(gt_score)));
    }
  }
}

void check_dtypes(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label, const Tensor& gt_score) {
  core::check_floating(kOp, "x", x);
  if (gt_box.dtype() != x.dtype()) {
    throw ValueError(fmt::format("{}: gt_box must have x's dtype {}, got {}", kOp, core::dtype_name(x.dtype()),
                                 gt_box.describe()));
  }
  if (gt_label.dtype() != core::DType::i32) {
    throw ValueError(fmt::format("{}: gt_label must be int32, got {}", kOp, gt_label.describe()));
  }
  if (gt_score.defined() && gt_score.dtype() != x.dtype()) {
    throw ValueError(fmt::format("{}: gt_score must have x's dtype {}, got {}", kOp, core::dtype_name(x.dtype()),
                                 gt_score.describe()));
  }
}

// Centres of valid rows must lie in [0, 1): the original's cell index would
// alias another row, plane, slot or image. NaN centres fail too.
template <class T>
void check_centres(const Tensor& gt_box) {
  const T* box = gt_box.data<T>();
  const std::int64_t rows = gt_box.size(1);
  for (std::int64_t i = 0; i < gt_box.size(0); ++i) {
    for (std::int64_t t = 0; t < rows; ++t) {
      const T* b = box + (i * rows + t) * 4;
      // Padding rows (the original's validity test) are never read.
      if (static_cast<double>(b[2]) < 1e-6 || static_cast<double>(b[3]) < 1e-6) continue;
      const bool inside = b[0] >= 0 && b[0] < 1 && b[1] >= 0 && b[1] < 1;
      if (!inside) {
        throw ValueError(fmt::format(
            "{}: gt_box[{}, {}] is a valid box (w = {}, h = {}) whose centre ({}, {}) lies outside the image; "
            "centres must be in [0, 1) (the original would index outside the grid there)",
            kOp, i, t, b[2], b[3], b[0], b[1]));
      }
    }
  }
}

void check_project_rules(const Tensor& x, const Tensor& gt_box, const YoloLossParams& p) {
  if (gt_box.size(0) != x.size(0)) {
    throw ShapeError(fmt::format("{}: gt_box dim 0 (batch) must equal x dim 0 = {}, got {} (gt_box {}, x {})", kOp,
                                 x.size(0), gt_box.size(0), shape_of(gt_box), shape_of(x)));
  }
  for (std::size_t s = 0; s < p.anchor_mask.size(); ++s) {
    if (p.anchor_mask[s] < 0) {
      throw ValueError(fmt::format("{}: anchor_mask[{}] must be >= 0, got {} (anchor_mask [{}])", kOp, s,
                                   p.anchor_mask[s], fmt::join(p.anchor_mask, ", ")));
    }
  }
  for (std::size_t a = 0; a < p.anchors.size(); ++a) {
    if (p.anchors[a] <= 0) {
      throw ValueError(fmt::format("{}: anchors must be > 0 pixels, got anchors[{}] = {} (anchors [{}])", kOp, a,
                                   p.anchors[a], fmt::join(p.anchors, ", ")));
    }
  }
  if (p.downsample_ratio <= 0) {
    throw ValueError(fmt::format("{}: downsample_ratio must be > 0, got {}", kOp, p.downsample_ratio));
  }
  core::dispatch_floating(x.dtype(), [&]<class T>() { check_centres<T>(gt_box); });
}

}  // namespace

void check_yolo_loss_inputs(const Tensor& x, const Tensor& gt_box, const Tensor& gt_label, const Tensor& gt_score,
                            const YoloLossParams& params) {
  check_shapes(x, gt_box, gt_label, gt_score, params);
  check_dtypes(x, gt_box, gt_label, gt_score);
  check_project_rules(x, gt_box, params);
}

}  // namespace ops
