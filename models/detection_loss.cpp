#include "models/detection_loss.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "ops/yolo_loss.h"

namespace models {

DetectionLoss detection_loss(core::Tape& tape, const DarknetNetwork& network, const std::vector<core::Tensor>& heads,
                             int height, int width, const DetectionTargets& targets,
                             const DetectionLossOptions& options) {
  const auto yolos = network.yolo_layers();
  if (heads.size() != yolos.size()) {
    throw core::ShapeError(fmt::format("detection_loss: {} heads for a network with {} [yolo] layers", heads.size(),
                                       yolos.size()));
  }
  const auto strides = network.yolo_strides(height, width);
  DetectionLoss out;
  core::Tensor per_image;
  for (std::size_t h = 0; h < heads.size(); ++h) {
    const YoloLayer& y = yolos[h];
    ops::YoloLossParams p;
    for (float a : y.anchors) p.anchors.push_back(static_cast<std::int64_t>(std::lround(a)));
    p.anchor_mask.assign(y.mask.begin(), y.mask.end());
    p.class_num = y.classes;
    p.ignore_thresh = y.ignore_thresh;
    p.downsample_ratio = strides[h];
    p.use_label_smooth = options.use_label_smooth;
    p.scale_x_y = options.scale_x_y;
    const ops::YoloLossOutputs r = ops::yolo_loss(tape, heads[h], targets.gt_box, targets.gt_label, p,
                                                  targets.gt_score, /*with_parts=*/true);
    per_image = per_image.defined() ? ops::add(tape, per_image, r.loss) : r.loss;
    out.head_parts.push_back(r.parts);
  }
  out.loss = ops::mean(tape, per_image);
  return out;
}

}  // namespace models
