// Darknet's convolutional block: conv2d (usually without bias), batch norm
// and leaky ReLU.
//
// On a tape that does not record and with batch norm in inference mode, the
// block runs as one fused convolution: batch norm is folded into the weights
// and bias (w' = w * s, b' = beta + (b - mean) * s with s = gamma / std) and
// leaky ReLU is a oneDNN post-op, so the activation is written once. In every
// other case it is conv2d then batch_norm_leaky (batch norm and leaky ReLU in
// one op, whose backward reads only its output), with the same results as
// the three ops in sequence up to float rounding.
//
// Training under bf16 (conv.bf16) holds the block's output as bfloat16 for
// the next convolution and, behind a bf16 convolution, the gradient of its
// output too (ops/batch_norm_leaky.h). A layer that oneDNN runs faster as
// float32 Winograd than as bf16
// (backend::conv2d_bf16_training_prefers_float32_winograd: wide 3x3 layers
// with mid-sized outputs) trains in float32 instead, with a float32 output
// gradient.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ops/batch_norm2d.h"
#include "ops/conv2d.h"
#include "ops/unary.h"

namespace ops {

// The fused path's folded weights, kept by the caller between calls and
// recomputed only when a source tensor (w, b, gamma, beta, running mean and
// variance) changed storage or version, and prepared again when an input of
// another size reads another weights layout (conv2d_prepared_weights_fit: a
// layer that runs direct at one size and on Winograd at another): a model
// run many times in evaluation folds once instead of once per forward.
//
// A fold whose prepared layout no longer fits a new input size is prepared
// again from its own values, read back (every layout the inference forward
// asks for can be: conv2d_prepare_inference_weights), without reading the
// sources; so once a fold exists (w defined) its unfolded sources may be
// released.
struct FoldedWeights {
  Tensor w, b;
  std::vector<std::pair<const void*, std::uint64_t>> sources;
  // The input shape w was last known to fit: the layout check runs only
  // when the input shape changes, not on every forward.
  core::Shape fits_input;
};

struct ConvBnLeakyParams {
  Conv2dParams conv;
  BatchNorm2dParams bn;
  double slope = 0.1;
  FoldedWeights* folded = nullptr;  // optional cache of the fused inference path (float32)
};

// x (N,C,H,W), w (OC,C/g,KH,KW), b (OC) or undefined; bn_* and running_*
// (OC). Running statistics come back updated in training mode only, as
// batch_norm2d returns them.
BatchNorm2dResult conv_bn_leaky(Tape& tape, const Tensor& x, const Tensor& w, const Tensor& b,
                                const Tensor& bn_weight, const Tensor& bn_bias, const Tensor& running_mean,
                                const Tensor& running_var, const ConvBnLeakyParams& p = {});

}  // namespace ops
