// The oneDNN seam: every float32 CNN kernel of the project runs through the
// functions declared here, and ops/backend/dnnl.cpp is the only file that
// includes dnnl.hpp. Callers pass logical NCHW float32 tensors and plain
// parameter structs; no oneDNN type crosses this header.
//
// Inside, one DnnlContext owns the engine, the stream and a primitive cache
// keyed by op kind, propagation kind, shapes and attributes, so a training
// step reuses primitives instead of recreating them. Every function catches
// dnnl::error and rethrows core::BackendError naming the op, the shapes and
// the oneDNN status.
//
// Outputs of the activation ops (conv, batch norm, leaky ReLU, add, concat,
// upsample, pool, and their input gradients) keep the layout the convolution
// chose, usually blocked nChw16c, inside the tensor's storage; an input in
// such a layout is used as it is. The tensor still is a logical NCHW tensor:
// the first read of its bytes outside this seam writes them row-major
// (core/physical_layout.h), so callers never see the difference.
//
// What this is not: a validator. The op entry points in ops/ check shapes and
// attributes; these functions trust their inputs (float32, contiguous NCHW).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace ops::backend {

using core::Tensor;

// Convolution geometry in oneDNN's terms, resolved by the caller.
struct ConvSpec {
  std::int64_t stride = 1;
  std::int64_t pad = 0;  // zero padding on every side
  std::int64_t dilation = 1;  // 1 = dense kernel (oneDNN itself counts from 0)
  std::int64_t groups = 1;
  // Multiply in bfloat16 (inputs and weights rounded to bf16, float32
  // accumulation and float32 outputs and gradients): mixed precision.
  bool bf16 = false;
};

// Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or
// newer); where it does not, bf16 is refused rather than emulated.
bool bf16_supported();

// An activation fused into the convolution as a post-op.
struct ConvPostOp {
  bool leaky = false;
  double slope = 0.1;
};

// y [N,OC,OH,OW] from x [N,C,H,W], w [OC,C/groups,KH,KW], b [OC] (may be
// undefined). `training` selects forward_training (backward will follow).
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvSpec& spec, bool training,
                      const ConvPostOp& post = {});
// dx [N,C,H,W] from dy [N,OC,OH,OW] and w.
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const core::Shape& x_shape, const ConvSpec& spec);
// dw [OC,C/groups,KH,KW] and, when with_bias, db [OC] from x and dy.
struct ConvWeightGrads {
  Tensor dw;
  Tensor db;
};
ConvWeightGrads conv2d_backward_weights(const Tensor& x, const Tensor& dy, const core::Shape& w_shape,
                                        const ConvSpec& spec, bool with_bias);

// Batch norm over N,H,W per channel of x [N,C,H,W]; weight, bias, mean, var [C].
struct BatchNormStats {
  Tensor y;
  Tensor mean;  // batch mean [C]
  Tensor var;   // biased batch variance [C]
};
BatchNormStats batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
// y = weight * (x - mean) / sqrt(var + eps) + bias with the given statistics.
Tensor batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                                    const Tensor& var, double eps);
struct BatchNormGrads {
  Tensor dx;
  Tensor dweight;
  Tensor dbias;
};
// Backward of the training forward (statistics depend on x) or, with
// global_stats, of the inference forward (statistics are constants).
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                   const Tensor& var, double eps, bool global_stats);

// Training batch norm then leaky ReLU (ops/batch_norm_leaky.h), computed
// in x's layout by ops/backend/bn_leaky_kernels.h; y keeps that layout.
struct BnLeakyForward {
  Tensor y;
  Tensor mean;  // batch mean [C]
  Tensor var;   // biased batch variance [C]
};
BnLeakyForward bn_leaky_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                                         double slope);
// Its backward from the output y, and from the input x too when x is defined.
BatchNormGrads bn_leaky_backward(const Tensor& dy, const Tensor& y, const Tensor& x, const Tensor& weight,
                                 const Tensor& bias, const Tensor& mean, const Tensor& var, double eps, double slope);

// Leaky ReLU, x > 0 ? x : slope * x, on any float32 tensor (viewed as 1-D).
Tensor leaky_relu_forward(const Tensor& x, double slope);
// dx = dy where x > 0, slope * dy elsewhere (slope at 0, as ops/unary.h says).
Tensor leaky_relu_backward(const Tensor& x, const Tensor& dy, double slope);
// The same from the output y (slope >= 0, so y > 0 exactly where x > 0).
Tensor leaky_relu_backward_from_output(const Tensor& y, const Tensor& dy, double slope);

// a + b for two float32 tensors of one shape.
Tensor add_forward(const Tensor& a, const Tensor& b);

// Joins 4-D NCHW tensors along `axis`.
Tensor concat_forward(const std::vector<Tensor>& xs, int axis);
// The slices of dy along `axis` that concat_forward joined from inputs of
// `shapes`, each kept in dy's layout (no trip through plain memory).
std::vector<Tensor> concat_backward(const Tensor& dy, const std::vector<core::Shape>& shapes, int axis);

// Nearest-neighbour upsampling by an integer factor on H and W.
Tensor upsample_nearest_forward(const Tensor& x, std::int64_t factor);
// Sums each factor x factor block of dy [N,C,H*f,W*f] into dx [N,C,H,W].
Tensor upsample_nearest_backward(const Tensor& dy, std::int64_t factor);

// Max pooling over H and W with the same kernel, stride and padding on both.
struct PoolSpec {
  std::int64_t kernel = 2;
  std::int64_t stride = 2;
  std::int64_t pad_begin = 0;
  std::int64_t pad_end = 0;
};
struct PoolResult {
  Tensor y;
  // oneDNN's record of the selected indices, opaque bytes held in an int32
  // tensor (its last word names the layout they index); defined only when
  // training.
  Tensor workspace;
};
PoolResult maxpool_forward(const Tensor& x, const PoolSpec& spec, bool training);
Tensor maxpool_backward(const Tensor& dy, const Tensor& workspace, const core::Shape& x_shape, const PoolSpec& spec);

// C [M,N] = A [M,K] * B [K,N], row-major float32, through dnnl_sgemm: the
// machine's practical float32 peak for the benchmarks.
void sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b, float* c);

// A convolution run the way oneDNN's own examples run one: every tensor
// already in the layout the primitive chose, no reorders, no cache lookup.
// The benchmarks time it beside conv2d_forward/backward on the same shape to
// report which share of oneDNN's own speed the seam reaches.
class PlainConvBench {
 public:
  PlainConvBench(const core::Shape& x_shape, const core::Shape& w_shape, const ConvSpec& spec);
  ~PlainConvBench();
  PlainConvBench(const PlainConvBench&) = delete;
  PlainConvBench& operator=(const PlainConvBench&) = delete;
  void forward();
  void backward();  // backward data, then backward weights (with bias)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How many primitives the seam's cache holds (tests check reuse with it).
std::size_t cached_primitive_count();

// The layout t's values sit in inside the seam without reading them:
// "plain" (row-major bytes current), or a oneDNN tag such as "nChw16c"
// (tests check that a chain of ops keeps the convolution's layout).
const char* layout_name(const Tensor& t);

}  // namespace ops::backend
