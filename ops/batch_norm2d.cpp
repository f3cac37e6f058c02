// batch_norm2d: validation, float64 reference kernels, float32 dispatch to
// oneDNN, the running-statistics update and the tape entry.
#include "ops/batch_norm2d.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

using core::DType;
using core::Shape;

namespace {

// Per-channel view of x (N,C,H,W): f(channel, index) over every element.
template <class F>
void for_channel(const Shape& s, std::int64_t c, F&& f) {
  const std::int64_t plane = s[2] * s[3];
  for (std::int64_t n = 0; n < s[0]; ++n) {
    const std::int64_t base = (n * s[1] + c) * plane;
    for (std::int64_t i = 0; i < plane; ++i) f(base + i);
  }
}

// 1 / the denominator of the normalisation, per formula.
double inv_std(double var, double eps, bool darknet) {
  return darknet ? 1.0 / (std::sqrt(var) + kDarknetBnEpsilon) : 1.0 / std::sqrt(var + eps);
}

template <class T>
Tensor reference_normalize(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                           const Tensor& var, double eps, bool darknet) {
  const Shape& s = x.shape();
  Tensor y = Tensor::empty(s, x.dtype());
  const T* px = x.data<T>();
  T* py = y.mutable_data<T>();
  for (std::int64_t c = 0; c < s[1]; ++c) {
    const double m = mean.data<T>()[c];
    const double scale = weight.data<T>()[c] * inv_std(var.data<T>()[c], eps, darknet);
    const double shift = bias.data<T>()[c];
    for_channel(s, c, [&](std::int64_t i) { py[i] = static_cast<T>((px[i] - m) * scale + shift); });
  }
  return y;
}

template <class T>
BatchNorm2dStats reference_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const Shape& s = x.shape();
  const std::int64_t count = s[0] * s[2] * s[3];
  BatchNorm2dStats r{Tensor(), Tensor::empty({s[1]}, x.dtype()), Tensor::empty({s[1]}, x.dtype())};
  const T* px = x.data<T>();
  for (std::int64_t c = 0; c < s[1]; ++c) {
    double sum = 0.0;
    for_channel(s, c, [&](std::int64_t i) { sum += px[i]; });
    const double m = sum / static_cast<double>(count);
    double sq = 0.0;  // two passes: no cancellation in E[x^2] - E[x]^2
    for_channel(s, c, [&](std::int64_t i) { sq += (px[i] - m) * (px[i] - m); });
    r.mean.mutable_data<T>()[c] = static_cast<T>(m);
    r.var.mutable_data<T>()[c] = static_cast<T>(sq / static_cast<double>(count));
  }
  r.y = reference_normalize<T>(x, weight, bias, r.mean, r.var, eps, false);
  return r;
}

// Shared by both backward kernels: dweight = sum(dy * xhat), dbias = sum(dy);
// training subtracts the mean of dy and the projection on xhat, because the
// batch statistics depend on x.
template <class T>
BatchNorm2dGrads reference_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                    const Tensor& var, double eps, bool darknet, bool training) {
  const Shape& s = x.shape();
  const double count = static_cast<double>(s[0] * s[2] * s[3]);
  BatchNorm2dGrads g{Tensor::empty(s, x.dtype()), Tensor::empty({s[1]}, x.dtype()), Tensor::empty({s[1]}, x.dtype())};
  const T* px = x.data<T>();
  const T* pdy = dy.data<T>();
  T* pdx = g.dx.mutable_data<T>();
  for (std::int64_t c = 0; c < s[1]; ++c) {
    const double m = mean.data<T>()[c];
    const double istd = inv_std(var.data<T>()[c], eps, darknet);
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for_channel(s, c, [&](std::int64_t i) {
      sum_dy += pdy[i];
      sum_dy_xhat += pdy[i] * (px[i] - m) * istd;
    });
    const double w = weight.data<T>()[c];
    g.dweight.mutable_data<T>()[c] = static_cast<T>(sum_dy_xhat);
    g.dbias.mutable_data<T>()[c] = static_cast<T>(sum_dy);
    if (training) {
      const double mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;
      for_channel(s, c, [&](std::int64_t i) {
        const double xhat = (px[i] - m) * istd;
        pdx[i] = static_cast<T>(w * istd * (pdy[i] - mean_dy - xhat * mean_dy_xhat));
      });
    } else {
      for_channel(s, c, [&](std::int64_t i) { pdx[i] = static_cast<T>(w * istd * pdy[i]); });
    }
  }
  return g;
}

// oneDNN only knows sqrt(var + eps). Darknet's sqrt(var) + 1e-6 is the same
// expression with var' = (sqrt(var) + 1e-6)^2 and eps' = 0.
Tensor darknet_variance(const Tensor& var) {
  Tensor out = Tensor::empty(var.shape(), DType::f32);
  const float* v = var.data<float>();
  float* o = out.mutable_data<float>();
  for (std::int64_t c = 0; c < var.numel(); ++c) {
    const double sd = std::sqrt(static_cast<double>(v[c])) + kDarknetBnEpsilon;
    o[c] = static_cast<float>(sd * sd);
  }
  return out;
}

void check_vector(const char* what, const Tensor& t, const Tensor& x) {
  core::check_floating("batch_norm2d", what, t);
  if (t.dtype() != x.dtype()) {
    throw core::ValueError(fmt::format("batch_norm2d: {} is {} but x is {} (mixed float dtypes)", what, t.describe(),
                                       x.describe()));
  }
  if (t.dim() != 1 || t.shape()[0] != x.shape()[1]) {
    throw core::ShapeError(fmt::format("batch_norm2d: {} must have shape [{}] for x {}, got {}", what, x.shape()[1],
                                       core::shape_str(x.shape()), core::shape_str(t.shape())));
  }
}

// Synchronised training forward: statistics over every process's batch.
// Sums run in double; var = E[x^2] - mean^2 is safe there for float data.
template <class T>
BatchNorm2dStats sync_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                                       const SumAcrossReplicas& sync, double& global_count) {
  const Shape& s = x.shape();
  const std::int64_t channels = s[1];
  std::vector<double> sums(static_cast<std::size_t>(2 * channels + 1), 0.0);
  const T* px = x.data<T>();
  for (std::int64_t c = 0; c < channels; ++c) {
    double sum = 0.0, sq = 0.0;
    for_channel(s, c, [&](std::int64_t i) {
      sum += px[i];
      sq += static_cast<double>(px[i]) * px[i];
    });
    sums[c] = sum;
    sums[channels + c] = sq;
  }
  sums[2 * channels] = static_cast<double>(s[0] * s[2] * s[3]);
  sync(sums.data(), sums.size());
  global_count = sums[2 * channels];
  BatchNorm2dStats r{Tensor(), Tensor::empty({channels}, x.dtype()), Tensor::empty({channels}, x.dtype())};
  for (std::int64_t c = 0; c < channels; ++c) {
    const double m = sums[c] / global_count;
    r.mean.mutable_data<T>()[c] = static_cast<T>(m);
    r.var.mutable_data<T>()[c] = static_cast<T>(std::max(0.0, sums[channels + c] / global_count - m * m));
  }
  r.y = reference_normalize<T>(x, weight, bias, r.mean, r.var, eps, false);
  return r;
}

// Synchronised training backward: dx needs the means of dy and dy * xhat
// over every process's batch; dweight and dbias are this process's share.
template <class T>
BatchNorm2dGrads sync_backward_training(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                        const Tensor& var, double eps, double global_count,
                                        const SumAcrossReplicas& sync) {
  const Shape& s = x.shape();
  const std::int64_t channels = s[1];
  BatchNorm2dGrads g{Tensor::empty(s, x.dtype()), Tensor::empty({channels}, x.dtype()),
                     Tensor::empty({channels}, x.dtype())};
  const T* px = x.data<T>();
  const T* pdy = dy.data<T>();
  T* pdx = g.dx.mutable_data<T>();
  std::vector<double> sums(static_cast<std::size_t>(2 * channels), 0.0);
  for (std::int64_t c = 0; c < channels; ++c) {
    const double m = mean.data<T>()[c];
    const double istd = inv_std(var.data<T>()[c], eps, false);
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for_channel(s, c, [&](std::int64_t i) {
      sum_dy += pdy[i];
      sum_dy_xhat += pdy[i] * (px[i] - m) * istd;
    });
    g.dweight.mutable_data<T>()[c] = static_cast<T>(sum_dy_xhat);
    g.dbias.mutable_data<T>()[c] = static_cast<T>(sum_dy);
    sums[c] = sum_dy;
    sums[channels + c] = sum_dy_xhat;
  }
  sync(sums.data(), sums.size());
  for (std::int64_t c = 0; c < channels; ++c) {
    const double m = mean.data<T>()[c];
    const double istd = inv_std(var.data<T>()[c], eps, false);
    const double w = weight.data<T>()[c];
    const double mean_dy = sums[c] / global_count, mean_dy_xhat = sums[channels + c] / global_count;
    for_channel(s, c, [&](std::int64_t i) {
      const double xhat = (px[i] - m) * istd;
      pdx[i] = static_cast<T>(w * istd * (pdy[i] - mean_dy - xhat * mean_dy_xhat));
    });
  }
  return g;
}

}  // namespace

void batch_norm2d_check(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                        const Tensor& running_var, const BatchNorm2dParams& p) {
  core::check_floating("batch_norm2d", "x", x);
  core::check_rank("batch_norm2d", "x", x.shape(), 4);
  check_vector("weight", weight, x);
  check_vector("bias", bias, x);
  check_vector("running_mean", running_mean, x);
  check_vector("running_var", running_var, x);
  if (!(p.momentum >= 0.0 && p.momentum <= 1.0)) {
    throw core::ValueError(fmt::format("batch_norm2d: momentum must be in [0, 1], got {}", p.momentum));
  }
  if (!(p.eps >= 0.0)) throw core::ValueError(fmt::format("batch_norm2d: eps must be >= 0, got {}", p.eps));
  const Shape& s = x.shape();
  if (p.training && s[0] * s[2] * s[3] < 2) {
    throw core::ShapeError(fmt::format("batch_norm2d: training needs more than one value per channel, x is {}",
                                       x.describe()));
  }
}

BatchNorm2dStats batch_norm2d_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  if (x.dtype() == DType::f32) {
    auto s = backend::batch_norm_forward_training(x, weight, bias, eps);
    return {s.y, s.mean, s.var};
  }
  return reference_forward_training<double>(x, weight, bias, eps);
}

Tensor batch_norm2d_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                                      const Tensor& var, double eps, bool darknet) {
  if (x.dtype() == DType::f32) {
    if (darknet) return backend::batch_norm_forward_inference(x, weight, bias, mean, darknet_variance(var), 0.0);
    return backend::batch_norm_forward_inference(x, weight, bias, mean, var, eps);
  }
  return reference_normalize<double>(x, weight, bias, mean, var, eps, darknet);
}

BatchNorm2dGrads batch_norm2d_backward_training(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                                const Tensor& mean, const Tensor& var, double eps) {
  if (x.dtype() == DType::f32) {
    auto g = backend::batch_norm_backward(dy, x, weight, mean, var, eps, false);
    return {g.dx, g.dweight, g.dbias};
  }
  return reference_backward<double>(dy, x, weight, mean, var, eps, false, true);
}

BatchNorm2dGrads batch_norm2d_backward_inference(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                                 const Tensor& mean, const Tensor& var, double eps, bool darknet) {
  if (x.dtype() == DType::f32) {
    auto g = darknet ? backend::batch_norm_backward(dy, x, weight, mean, darknet_variance(var), 0.0, true)
                     : backend::batch_norm_backward(dy, x, weight, mean, var, eps, true);
    return {g.dx, g.dweight, g.dbias};
  }
  return reference_backward<double>(dy, x, weight, mean, var, eps, darknet, false);
}

void batch_norm2d_update_running(const Tensor& running_mean, const Tensor& running_var, const Tensor& mean,
                                 const Tensor& var, std::int64_t count, double momentum, Tensor& mean_out,
                                 Tensor& var_out) {
  mean_out = Tensor::empty(running_mean.shape(), running_mean.dtype());
  var_out = Tensor::empty(running_var.shape(), running_var.dtype());
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  core::dispatch_floating(mean.dtype(), [&]<class T>() {
    for (std::int64_t c = 0; c < mean.numel(); ++c) {
      mean_out.mutable_data<T>()[c] =
          static_cast<T>((1.0 - momentum) * running_mean.data<T>()[c] + momentum * mean.data<T>()[c]);
      var_out.mutable_data<T>()[c] =
          static_cast<T>((1.0 - momentum) * running_var.data<T>()[c] + momentum * unbias * var.data<T>()[c]);
    }
  });
}

BatchNorm2dResult batch_norm2d(Tape& tape, const Tensor& x, const Tensor& weight, const Tensor& bias,
                               const Tensor& running_mean, const Tensor& running_var, const BatchNorm2dParams& p) {
  batch_norm2d_check(x, weight, bias, running_mean, running_var, p);
  BatchNorm2dResult r;
  if (p.training && p.sync) {
    double count = 0;
    BatchNorm2dStats s;
    core::dispatch_floating(x.dtype(), [&]<class T>() {
      s = sync_forward_training<T>(x, weight, bias, p.eps, p.sync, count);
    });
    batch_norm2d_update_running(running_mean, running_var, s.mean, s.var, static_cast<std::int64_t>(count),
                                p.momentum, r.running_mean, r.running_var);
    r.y = s.y;
    tape.record("batch_norm2d", {x, weight, bias}, {r.y}, {x, weight, s.mean, s.var},
                [eps = p.eps, count, sync = p.sync](const core::BackwardContext& ctx) {
                  const auto& sv = ctx.saved;
                  BatchNorm2dGrads g;
                  core::dispatch_floating(sv[0].dtype(), [&]<class T>() {
                    g = sync_backward_training<T>(ctx.grad_outputs[0], sv[0], sv[1], sv[2], sv[3], eps, count, sync);
                  });
                  return std::vector<Tensor>{g.dx, g.dweight, g.dbias};
                });
  } else if (p.training) {
    BatchNorm2dStats s = batch_norm2d_forward_training(x, weight, bias, p.eps);
    const Shape& xs = x.shape();
    batch_norm2d_update_running(running_mean, running_var, s.mean, s.var, xs[0] * xs[2] * xs[3], p.momentum,
                                r.running_mean, r.running_var);
    r.y = s.y;
    tape.record("batch_norm2d", {x, weight, bias}, {r.y}, {x, weight, s.mean, s.var},
                [eps = p.eps](const core::BackwardContext& ctx) {
                  const auto& sv = ctx.saved;
                  auto g = batch_norm2d_backward_training(ctx.grad_outputs[0], sv[0], sv[1], sv[2], sv[3], eps);
                  return std::vector<Tensor>{g.dx, g.dweight, g.dbias};
                });
  } else {
    r.y = batch_norm2d_forward_inference(x, weight, bias, running_mean, running_var, p.eps, p.darknet);
    tape.record("batch_norm2d", {x, weight, bias}, {r.y}, {x, weight, running_mean, running_var},
                [eps = p.eps, darknet = p.darknet](const core::BackwardContext& ctx) {
                  const auto& sv = ctx.saved;
                  auto g = batch_norm2d_backward_inference(ctx.grad_outputs[0], sv[0], sv[1], sv[2], sv[3], eps,
                                                           darknet);
                  return std::vector<Tensor>{g.dx, g.dweight, g.dbias};
                });
  }
  return r;
}

std::vector<InputSpec> batch_norm_op_inputs() {
  return {{"x"},
          {"weight"},
          {"bias"},
          {"running_mean", InputKind::constant, false, "[C]"},
          {"running_var", InputKind::constant, false, "[C]"}};
}

std::vector<AttrSpec> batch_norm_op_attrs(AttrSpec last) {
  return {{"training", AttrType::boolean, AttrValue(true), "batch statistics (true) or running statistics"},
          {"momentum", AttrType::real, AttrValue(0.1), "running = (1 - momentum) * running + momentum * batch"},
          {"eps", AttrType::real, AttrValue(1e-5), "added to the variance under the square root"},
          std::move(last)};
}

BatchNorm2dParams batch_norm_op_params(const OpCall& c, bool darknet) {
  return {c.attrs.get_bool("training"), c.attrs.get_float("momentum"), c.attrs.get_float("eps"), darknet};
}

NamedTensors batch_norm_op_outputs(const BatchNorm2dResult& r, bool training) {
  if (!training) return {{"y", r.y}};
  return {{"y", r.y}, {"running_mean_out", r.running_mean}, {"running_var_out", r.running_var}};
}

void register_batch_norm2d(OpRegistry& r) {
  r.add({"batch_norm2d",
         "per-channel batch norm of x [N,C,H,W]; training uses batch statistics and returns updated running "
         "statistics (unbiased variance); darknet=true uses (x - mean) / (sqrt(var) + 1e-6) at inference",
         batch_norm_op_inputs(),
         false,
         {"y", "running_mean_out", "running_var_out"},
         batch_norm_op_attrs({"darknet", AttrType::boolean, AttrValue(false),
                              "Darknet's inference formula, epsilon 1e-6 outside the root"}),
         [](Tape& t, const OpCall& c) -> NamedTensors {
           const BatchNorm2dParams p = batch_norm_op_params(c, c.attrs.get_bool("darknet"));
           return batch_norm_op_outputs(batch_norm2d(t, c.inputs.at("x"), c.inputs.at("weight"), c.inputs.at("bias"),
                                                     c.inputs.at("running_mean"), c.inputs.at("running_var"), p),
                                        p.training);
         }});
}

}  // namespace ops
