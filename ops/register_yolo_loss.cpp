// Registers yolo_loss with `yolo op`. gt_box and gt_score are constant inputs
// (no gradient file), gt_label an index input; --grad-out is the cotangent
// of `loss` and yields grad_x.npy only.
#include "ops/registrations.h"
#include "ops/yolo_loss.h"

namespace ops {

namespace {

YoloLossParams yolo_loss_params(const Attrs& a) {
  return {a.get_ints("anchors"),    a.get_ints("anchor_mask"),     a.get_int("class_num"),
          a.get_float("ignore_thresh"), a.get_int("downsample_ratio"), a.get_bool("use_label_smooth"),
          a.get_float("scale_x_y")};
}

NamedTensors run_yolo_loss(Tape& tape, const OpCall& call) {
  const auto score = call.inputs.find("gt_score");
  const YoloLossOutputs out =
      yolo_loss(tape, call.inputs.at("x"), call.inputs.at("gt_box"), call.inputs.at("gt_label"),
                yolo_loss_params(call.attrs), score != call.inputs.end() ? score->second : Tensor());
  return {{"loss", out.loss}, {"objectness_mask", out.objectness_mask}, {"gt_match_mask", out.gt_match_mask}};
}

}  // namespace

void register_yolo_loss_op(OpRegistry& r) {
  r.add({"yolo_loss",
         "PaddlePaddle's YOLOv3 loss of one head: per-image loss [N], objectness_mask [N,S,H,W], "
         "gt_match_mask [N,B] (see docs/yolo_loss.md)",
         {{"x", InputKind::differentiable, false, "[N, S*(5+class_num), H, W] head logits"},
          {"gt_box", InputKind::constant, false, "[N, B, 4] (cx, cy, w, h) normalised to 0..1"},
          {"gt_label", InputKind::index, false, "[N, B] class ids"},
          {"gt_score", InputKind::constant, true, "[N, B] per-gt weight; default all ones"}},
         false,
         {"loss", "objectness_mask", "gt_match_mask"},
         {{"anchors", AttrType::int_list, std::nullopt, "(w, h) pairs of all anchors, input pixels"},
          {"anchor_mask", AttrType::int_list, std::nullopt, "anchors predicted by this head"},
          {"class_num", AttrType::integer, std::nullopt, "number of classes"},
          {"ignore_thresh", AttrType::real, std::nullopt, "IoU above which a negative's objectness is ignored"},
          {"downsample_ratio", AttrType::integer, std::nullopt, "stride of the head (32, 16, 8)"},
          {"use_label_smooth", AttrType::boolean, AttrValue(true), "class targets min(1/C, 1/40) / 1 - that"},
          {"scale_x_y", AttrType::real, AttrValue(1.0), "centre scaling of the decoded boxes (ignore rule only)"}},
         run_yolo_loss});
}

}  // namespace ops
