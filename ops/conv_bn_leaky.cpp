// conv_bn_leaky: the fused inference path and its unfused equivalent.
#include "ops/conv_bn_leaky.h"

#include <bit>
#include <cmath>
#include <tuple>

#include "core/buffer_cache.h"
#include "ops/batch_norm_leaky.h"

namespace ops {

namespace {

// Folds inference batch norm into the convolution's weights and bias.
template <class T>
std::pair<Tensor, Tensor> fold(const Tensor& w, const Tensor& b, const Tensor& gamma, const Tensor& beta,
                               const Tensor& mean, const Tensor& var, const BatchNorm2dParams& bn) {
  const std::int64_t oc = w.shape()[0], per = w.numel() / oc;
  Tensor wf = Tensor::empty(w.shape(), w.dtype());
  Tensor bf = Tensor::empty({oc}, w.dtype());
  for (std::int64_t o = 0; o < oc; ++o) {
    const double v = var.data<T>()[o];
    const double sd = bn.darknet ? std::sqrt(v) + kDarknetBnEpsilon : std::sqrt(v + bn.eps);
    const double s = gamma.data<T>()[o] / sd;
    for (std::int64_t i = 0; i < per; ++i) wf.mutable_data<T>()[o * per + i] = static_cast<T>(w.data<T>()[o * per + i] * s);
    const double bias = b.defined() ? static_cast<double>(b.data<T>()[o]) : 0.0;
    bf.mutable_data<T>()[o] = static_cast<T>(beta.data<T>()[o] + (bias - mean.data<T>()[o]) * s);
  }
  return {wf, bf};
}

}  // namespace

BatchNorm2dResult conv_bn_leaky(Tape& tape, const Tensor& x, const Tensor& w, const Tensor& b,
                                const Tensor& bn_weight, const Tensor& bn_bias, const Tensor& running_mean,
                                const Tensor& running_var, const ConvBnLeakyParams& p) {
  if (tape.recording() || p.bn.training) {
    // Under bf16 the output is held as bfloat16 for the next convolution,
    // and the gradient of the convolution's output for its backward; but a
    // layer that is faster as float32 Winograd runs in float32, and its
    // output gradient stays float32 for it.
    Conv2dParams conv = p.conv;
    if (conv.bf16 && x.dtype() == core::DType::f32) {
      conv2d_check("conv_bn_leaky", x, w, b, conv);  // the shapes the choice reads
      conv.bf16 = !backend::conv2d_bf16_training_prefers_float32_winograd(x.shape(), w.shape(), conv2d_spec(conv));
    }
    return batch_norm_leaky(tape, conv2d(tape, x, w, b, conv), bn_weight, bn_bias, running_mean, running_var,
                            {.bn = p.bn, .slope = p.slope, .bf16_output = p.conv.bf16,
                             .bf16_input_grad = conv.bf16});
  }
  const core::Shape ys = conv2d_check("conv_bn_leaky", x, w, b, p.conv);
  // Inference batch norm checks only the channel count and dtype of its input.
  batch_norm2d_check(Tensor::empty({1, ys[1], 1, 1}, x.dtype()), bn_weight, bn_bias, running_mean, running_var, p.bn);
  BatchNorm2dResult r;
  if (x.dtype() == core::DType::f32) {
    std::vector<std::pair<const void*, std::uint64_t>> sources;
    for (const Tensor* t : {&w, &b, &bn_weight, &bn_bias, &running_mean, &running_var}) {
      sources.emplace_back(t->defined() ? t->storage().get() : nullptr, t->defined() ? t->version() : 0);
    }
    sources.emplace_back(nullptr, p.bn.darknet ? 1 : 0);
    sources.emplace_back(nullptr, std::bit_cast<std::uint64_t>(p.bn.eps));
    sources.emplace_back(nullptr, p.conv.bf16 ? 1 : 0);  // the prepared weights' type
    FoldedWeights local;
    FoldedWeights& f = p.folded ? *p.folded : local;
    const backend::ConvSpec spec = conv2d_spec(p.conv);
    // Under bf16 the output is held as bfloat16: the next convolution reads
    // it as it is, instead of converting it (about 70 conversions a
    // YOLOv3 forward).
    const backend::ConvPostOp leaky{.leaky = true, .slope = p.slope, .bf16_output = p.conv.bf16};
    const bool sources_changed = !f.w.defined() || f.sources != sources;
    // A fold prepared for another input size may be held in a layout this
    // size's primitive does not read (conv2d_prepared_weights_fit): prepare
    // it again.
    const bool layout_stale = !sources_changed && f.fits_input != x.shape() &&
                              !backend::conv2d_prepared_weights_fit(f.w, x.shape(), true, spec, leaky);
    if (sources_changed || layout_stale) {
      // The plain fold is a temporary, free to take an idle activation's
      // buffer; of the weights, only the prepared copy below is kept.
      Tensor folded_w;
      if (layout_stale) {
        folded_w = f.w;
        (void)folded_w.raw_data();  // reorders the prepared copy back to plain values, in place
      } else {
        std::tie(folded_w, f.b) = fold<float>(w, b, bn_weight, bn_bias, running_mean, running_var, p.bn);
      }
      // A kept fold is read on every forward: hold it only in the layout
      // (and type) the convolution reads, reordered once here, in buffers
      // of about its size since it lives as long as the model.
      if (p.folded) {
        const core::LongLivedBuffers prepared_copy;
        f.w = backend::conv2d_prepare_inference_weights(folded_w, x.shape(), true, spec, leaky);
      } else {
        f.w = folded_w;
      }
      f.sources = std::move(sources);
    }
    f.fits_input = x.shape();
    r.y = backend::conv2d_forward(x, f.w, f.b, spec, false, leaky);
    return r;
  }
  auto [wf, bf] = fold<double>(w, b, bn_weight, bn_bias, running_mean, running_var, p.bn);
  r.y = conv2d_forward(x, wf, bf, p.conv);
  double* py = r.y.mutable_data<double>();
  for (std::int64_t i = 0; i < r.y.numel(); ++i) py[i] = py[i] > 0 ? py[i] : p.slope * py[i];
  return r;
}

}  // namespace ops
