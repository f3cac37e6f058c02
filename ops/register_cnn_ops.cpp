// Registers the CNN ops with `yolo op`: conv2d, batch_norm2d,
// batch_norm_leaky, upsample_nearest2d and maxpool2d. (leaky_relu, add and concat are
// registered with the basic ops; their float32 4-D path is oneDNN too.)
#include "ops/batch_norm2d.h"
#include "ops/batch_norm_leaky.h"
#include "ops/conv2d.h"
#include "ops/maxpool2d.h"
#include "ops/registrations.h"
#include "ops/upsample_nearest2d.h"

namespace ops {

namespace {

AttrValue int_attr(std::int64_t v) { return AttrValue(v); }

OpSpec conv2d_spec() {
  return {"conv2d",
          "2-D cross-correlation of x [N,C,H,W] with w [OC,C/groups,KH,KW] plus optional b [OC]; "
          "pad is zero padding on every side",
          {{"x"}, {"w"}, {"b", InputKind::differentiable, true, "bias [OC]"}},
          false,
          {"y"},
          {{"stride", AttrType::integer, int_attr(1), "step on H and W"},
           {"pad", AttrType::integer, int_attr(0), "zero padding in pixels on every side"},
           {"dilation", AttrType::integer, int_attr(1), "spacing of kernel taps"},
           {"groups", AttrType::integer, int_attr(1), "channel groups; must divide C and OC"}},
          [](Tape& t, const OpCall& c) -> NamedTensors {
            const auto b = c.inputs.find("b");
            const Conv2dParams p{c.attrs.get_int("stride"), c.attrs.get_int("pad"), c.attrs.get_int("dilation"),
                                 c.attrs.get_int("groups")};
            return {{"y", conv2d(t, c.inputs.at("x"), c.inputs.at("w"), b == c.inputs.end() ? Tensor() : b->second,
                                 p)}};
          }};
}

// What batch_norm2d and batch_norm_leaky share: inputs, outputs, the
// training/momentum/eps attributes, and outputs named from the result.
std::vector<InputSpec> batch_norm_inputs() {
  return {{"x"},
          {"weight"},
          {"bias"},
          {"running_mean", InputKind::constant, false, "[C]"},
          {"running_var", InputKind::constant, false, "[C]"}};
}

std::vector<AttrSpec> batch_norm_attrs(AttrSpec last) {
  return {{"training", AttrType::boolean, AttrValue(true), "batch statistics (true) or running statistics"},
          {"momentum", AttrType::real, AttrValue(0.1), "running = (1 - momentum) * running + momentum * batch"},
          {"eps", AttrType::real, AttrValue(1e-5), "added to the variance under the square root"},
          std::move(last)};
}

BatchNorm2dParams batch_norm_params(const OpCall& c, bool darknet) {
  return {c.attrs.get_bool("training"), c.attrs.get_float("momentum"), c.attrs.get_float("eps"), darknet};
}

NamedTensors batch_norm_outputs(const BatchNorm2dResult& r, bool training) {
  if (!training) return {{"y", r.y}};
  return {{"y", r.y}, {"running_mean_out", r.running_mean}, {"running_var_out", r.running_var}};
}

OpSpec batch_norm2d_spec() {
  return {"batch_norm2d",
          "per-channel batch norm of x [N,C,H,W]; training uses batch statistics and returns updated running "
          "statistics (unbiased variance); darknet=true uses (x - mean) / (sqrt(var) + 1e-6) at inference",
          batch_norm_inputs(),
          false,
          {"y", "running_mean_out", "running_var_out"},
          batch_norm_attrs({"darknet", AttrType::boolean, AttrValue(false),
                            "Darknet's inference formula, epsilon 1e-6 outside the root"}),
          [](Tape& t, const OpCall& c) -> NamedTensors {
            const BatchNorm2dParams p = batch_norm_params(c, c.attrs.get_bool("darknet"));
            return batch_norm_outputs(batch_norm2d(t, c.inputs.at("x"), c.inputs.at("weight"), c.inputs.at("bias"),
                                                   c.inputs.at("running_mean"), c.inputs.at("running_var"), p),
                                      p.training);
          }};
}

OpSpec batch_norm_leaky_spec() {
  return {"batch_norm_leaky",
          "training batch norm of x [N,C,H,W] followed by leaky ReLU, as one op (backward reads the output); "
          "returns updated running statistics; training=false runs batch_norm2d then leaky_relu",
          batch_norm_inputs(),
          false,
          {"y", "running_mean_out", "running_var_out"},
          batch_norm_attrs({"slope", AttrType::real, AttrValue(0.1), "leaky ReLU's slope for negative inputs"}),
          [](Tape& t, const OpCall& c) -> NamedTensors {
            const BatchNormLeakyParams p{batch_norm_params(c, false), c.attrs.get_float("slope")};
            return batch_norm_outputs(batch_norm_leaky(t, c.inputs.at("x"), c.inputs.at("weight"),
                                                       c.inputs.at("bias"), c.inputs.at("running_mean"),
                                                       c.inputs.at("running_var"), p),
                                      p.bn.training);
          }};
}

OpSpec upsample_spec() {
  return {"upsample_nearest2d",
          "nearest-neighbour upsampling of x [N,C,H,W] by an integer factor on H and W",
          {{"x"}},
          false,
          {"y"},
          {{"factor", AttrType::integer, int_attr(2), "integer scale on H and W"}},
          [](Tape& t, const OpCall& c) -> NamedTensors {
            return {{"y", upsample_nearest2d(t, c.inputs.at("x"), {c.attrs.get_int("factor")})}};
          }};
}

OpSpec maxpool_spec() {
  return {"maxpool2d",
          "max pooling of x [N,C,H,W] on H and W; padding is never selected; ties go to the first index",
          {{"x"}},
          false,
          {"y"},
          {{"kernel", AttrType::integer, std::nullopt, "window size on H and W"},
           {"stride", AttrType::integer, std::nullopt, "step on H and W"},
           {"pad_begin", AttrType::integer, int_attr(0), "padding before the first row/column"},
           {"pad_end", AttrType::integer, int_attr(0), "padding after the last row/column"}},
          [](Tape& t, const OpCall& c) -> NamedTensors {
            const MaxPool2dParams p{c.attrs.get_int("kernel"), c.attrs.get_int("stride"), c.attrs.get_int("pad_begin"),
                                    c.attrs.get_int("pad_end")};
            return {{"y", maxpool2d(t, c.inputs.at("x"), p)}};
          }};
}

}  // namespace

void register_cnn_ops(OpRegistry& r) {
  r.add(conv2d_spec());
  r.add(batch_norm2d_spec());
  r.add(batch_norm_leaky_spec());
  r.add(upsample_spec());
  r.add(maxpool_spec());
}

}  // namespace ops
