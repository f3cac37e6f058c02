#include "ops/batch_norm_leaky.h"

#include <utility>
#include <vector>

#include "ops/backend/dnnl.h"
#include "ops/batch_norm_leaky_kernels.h"
#include "ops/registrations.h"
#include "ops/unary.h"

namespace ops {

namespace {

using core::DType;

struct Forward {
  Tensor y, mean, var;
};

Forward forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, double slope,
                bool bf16_output) {
  if (x.dtype() == DType::f32) {
    auto f = backend::bn_leaky_forward_training(x, weight, bias, eps, slope, bf16_output);
    return {f.y, f.mean, f.var};
  }
  const std::int64_t c = x.shape()[1];
  Forward f{Tensor::empty(x.shape(), DType::f64), Tensor::empty({c}, DType::f64), Tensor::empty({c}, DType::f64)};
  kernels::bn_leaky_forward<double>(kernels::ChannelView::nchw(x.shape()), x.data<double>(), weight.data<double>(),
                                    bias.data<double>(), eps, slope, f.y.mutable_data<double>(),
                                    f.mean.mutable_data<double>(), f.var.mutable_data<double>());
  return f;
}

// x is undefined when backward reads y alone.
std::vector<Tensor> backward(const Tensor& dy, const Tensor& y, const Tensor& x, const Tensor& weight,
                             const Tensor& bias, const Tensor& mean, const Tensor& var, double eps, double slope,
                             bool bf16_dx) {
  if (y.dtype() == DType::f32) {
    auto g = backend::bn_leaky_backward(dy, y, x, weight, bias, mean, var, eps, slope, bf16_dx);
    return {g.dx, g.dweight, g.dbias};
  }
  const std::int64_t c = y.shape()[1];
  std::vector<Tensor> g{Tensor::empty(y.shape(), DType::f64), Tensor::empty({c}, DType::f64),
                        Tensor::empty({c}, DType::f64)};
  kernels::bn_leaky_backward<double>(kernels::ChannelView::nchw(y.shape()), dy.data<double>(), y.data<double>(),
                                     x.defined() ? x.data<double>() : nullptr, weight.data<double>(),
                                     bias.data<double>(), mean.data<double>(), var.data<double>(), eps, slope,
                                     g[0].mutable_data<double>(), g[1].mutable_data<double>(),
                                     g[2].mutable_data<double>());
  return g;
}

}  // namespace

BatchNorm2dResult batch_norm_leaky(Tape& tape, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const BatchNormLeakyParams& p) {
  if (!p.bn.training || p.bn.sync || !(p.slope >= 0)) {
    BatchNorm2dResult r = batch_norm2d(tape, x, weight, bias, running_mean, running_var, p.bn);
    r.y = leaky_relu(tape, r.y, {p.slope});
    return r;
  }
  batch_norm2d_check(x, weight, bias, running_mean, running_var, p.bn);
  const core::Shape& s = x.shape();
  const Forward f = forward(x, weight, bias, p.bn.eps, p.slope, p.bf16_output);
  BatchNorm2dResult r;
  r.y = f.y;
  batch_norm2d_update_running(running_mean, running_var, f.mean, f.var, s[0] * s[2] * s[3], p.bn.momentum,
                              r.running_mean, r.running_var);
  bool invertible = false;
  core::dispatch_floating(x.dtype(), [&]<class T>() {
    invertible = kernels::bn_leaky_output_invertible(
        weight.data<T>(), bias.data<T>(), s[1], p.slope,
        backend::holds_bfloat16(f.y) ? kernels::kMaxShiftOverScaleBf16 : kernels::kMaxShiftOverScale);
  });
  std::vector<Tensor> saved{f.y, weight, bias, f.mean, f.var};
  if (!invertible) saved.push_back(x);
  tape.record("batch_norm_leaky", {x, weight, bias}, {f.y}, std::move(saved),
              [eps = p.bn.eps, slope = p.slope, bf16_dx = p.bf16_input_grad](const core::BackwardContext& ctx) {
                const auto& sv = ctx.saved;
                return backward(ctx.grad_outputs[0], sv[0], sv.size() > 5 ? sv[5] : Tensor(), sv[1], sv[2], sv[3],
                                sv[4], eps, slope, bf16_dx);
              });
  return r;
}

void register_batch_norm_leaky(OpRegistry& r) {
  r.add({"batch_norm_leaky",
         "training batch norm of x [N,C,H,W] followed by leaky ReLU, as one op (backward reads the output); "
         "returns updated running statistics; training=false runs batch_norm2d then leaky_relu",
         batch_norm_op_inputs(),
         false,
         {"y", "running_mean_out", "running_var_out"},
         batch_norm_op_attrs({"slope", AttrType::real, AttrValue(0.1), "leaky ReLU's slope for negative inputs"}),
         [](Tape& t, const OpCall& c) -> NamedTensors {
           const BatchNormLeakyParams p{batch_norm_op_params(c, false), c.attrs.get_float("slope")};
           return batch_norm_op_outputs(batch_norm_leaky(t, c.inputs.at("x"), c.inputs.at("weight"),
                                                         c.inputs.at("bias"), c.inputs.at("running_mean"),
                                                         c.inputs.at("running_var"), p),
                                        p.bn.training);
         }});
}

}  // namespace ops
