// 2-D convolution (cross-correlation, as PyTorch's conv2d) with stride,
// symmetric zero padding, dilation and groups.
//
// float32 runs on oneDNN (ops/conv2d_dnnl.cpp, through the seam in
// ops/backend/); float64 runs through the plain loop kernels in conv2d.cpp, which are also the oracle the
// tests hold the oneDNN path to. `pad` is explicit zero padding in pixels on
// every side; Darknet's `pad=1` flag is resolved by the .cfg reader.
#pragma once

#include <cstdint>
#include <memory>

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

struct Conv2dParams {
  std::int64_t stride = 1;
  std::int64_t pad = 0;
  std::int64_t dilation = 1;
  std::int64_t groups = 1;
  // float32 tensors only: multiply in bfloat16 with float32 accumulation and
  // float32 outputs and gradients (mixed precision); needs AVX512-BF16.
  bool bf16 = false;
};

// Output shape [N,OC,OH,OW] of x [N,C,H,W] and w [OC,C/groups,KH,KW], after
// checking ranks, channels, groups, attribute domains, dtypes and that the
// dilated kernel fits the padded input. b [OC] may be undefined. Throws
// ShapeError or ValueError naming "conv2d" (or `op`) and the shapes.
core::Shape conv2d_check(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p);

// Kernels (no tape, no validation). x (N,C,H,W), w (OC,C/g,KH,KW), b (OC) or
// undefined, y (N,OC,OH,OW).
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p);
// dx (N,C,H,W) from dy (N,OC,OH,OW) and w.
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const core::Shape& x_shape, const Conv2dParams& p);
struct Conv2dWeightGrads {
  Tensor dw;  // (OC,C/g,KH,KW)
  Tensor db;  // (OC), defined when asked for
};
Conv2dWeightGrads conv2d_backward_weights(const Tensor& dy, const Tensor& x, const core::Shape& w_shape,
                                          const Conv2dParams& p, bool with_bias);

// Differentiable convolution; b may be undefined (no bias). Gradients to x,
// w and b.
Tensor conv2d(Tape& tape, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p = {});

}  // namespace ops

// The float32 kernels on oneDNN (ops/conv2d_dnnl.cpp), behind the kernels
// above. They trust their inputs (float32, contiguous NCHW) and throw
// core::BackendError naming the op, the shapes and oneDNN's status.
namespace ops::backend {

// Convolution geometry in oneDNN's terms, resolved by the caller.
struct ConvSpec {
  std::int64_t stride = 1;
  std::int64_t pad = 0;  // zero padding on every side
  std::int64_t dilation = 1;  // 1 = dense kernel (oneDNN itself counts from 0)
  std::int64_t groups = 1;
  // Multiply in bfloat16 (inputs and weights rounded to bf16, float32
  // accumulation and float32 outputs and gradients): mixed precision. An
  // inference output may be held as bf16 too (ConvPostOp::bf16_output).
  bool bf16 = false;
};

// An activation fused into the convolution as a post-op, and the type its
// output is held in.
struct ConvPostOp {
  bool leaky = false;
  double slope = 0.1;
  // Inference under ConvSpec::bf16 only: y is written as bfloat16, rounded
  // as the next bf16 convolution would round it when converting its input,
  // so that convolution reads it with no conversion. Other readers see the
  // rounded values as float32 (ops/backend/exec.h). Where oneDNN picks a
  // layout the seam does not hold (channel blocks with padding), y comes
  // back as plain float32 holding the rounded values.
  bool bf16_output = false;
};

// y [N,OC,OH,OW] from x [N,C,H,W], w [OC,C/groups,KH,KW], b [OC] (may be
// undefined). `training` selects forward_training (backward will follow).
// x_as_read, when given, under spec.bf16: set to x as the convolution reads
// it, converted to bfloat16 in 16-channel blocks, for backward's weight
// gradient to read without converting x again (and to save in place of a
// float32 x, at half the memory); left undefined where x is bfloat16
// already or the layout the convolution wants is not 16-channel blocks.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvSpec& spec, bool training,
                      const ConvPostOp& post = {}, Tensor* x_as_read = nullptr);
// w [OC,C/groups,KH,KW] as a tensor whose values are held in the layout (and,
// under spec.bf16, the type) the inference forward for inputs of x_shape
// reads, with no plain copy: conv2d_forward then binds them without a
// reorder. Reading its bytes from outside the seam reorders them back (under
// bf16 they then hold the bf16-rounded values the convolution multiplies),
// so a caller may keep them as its only copy. (A primitive reading a layout
// oneDNN cannot reorder back, Winograd's transformed weights, is refused
// with core::BackendError; the inference forward on Winograd reads blocked
// weights.)
// For weights that stay fixed across many forwards (folded inference weights).
Tensor conv2d_prepare_inference_weights(const Tensor& w, const core::Shape& x_shape, bool with_bias,
                                        const ConvSpec& spec, const ConvPostOp& post);
// Whether w (from conv2d_prepare_inference_weights, or plain) is held in a
// layout the inference forward for inputs of x_shape can read. A prepared
// layout belongs to the primitive of one input size; another size may read
// another layout (a layer that runs direct at one size and on Winograd at
// another), and then the caller prepares them again.
bool conv2d_prepared_weights_fit(const Tensor& w, const core::Shape& x_shape, bool with_bias, const ConvSpec& spec,
                                 const ConvPostOp& post);
// Whether a training convolution of inputs x [N,C,H,W] and weights w runs
// on oneDNN's Winograd kernels (float32 3x3 stride-1 layers of at least 32
// channels and 16x16 outputs, or 256 input channels and 8x8 outputs, where
// the CPU has them) rather than the direct ones.
bool conv2d_trains_on_winograd(const core::Shape& x, const core::Shape& w, const ConvSpec& spec);
// Whether such a convolution's weight gradient runs on Winograd too: not
// where Winograd's would need a scratchpad over 128 MiB (it grows with the
// thread count), as on YOLOv3's 512->1024 layers, whose weight gradient
// then runs on the direct kernel.
bool conv2d_weight_gradient_on_winograd(const core::Shape& x, const core::Shape& w, const ConvSpec& spec);
// Under spec.bf16, whether a training convolution of inputs x [N,C,H,W]
// and weights w runs faster in float32 on Winograd than in bf16 on the
// direct kernel (the only bf16 kernel oneDNN 2.6 has): wide 3x3 stride-1
// layers with mid-sized outputs, on AVX512-BF16 CPUs without AMX. A caller
// may then run it in float32, which is the more precise of the two
// (conv_bn_leaky does). False where bf16 is not supported: the bf16
// convolution then refuses as before.
bool conv2d_bf16_training_prefers_float32_winograd(const core::Shape& x, const core::Shape& w,
                                                   const ConvSpec& spec);
// dx [N,C,H,W] from dy [N,OC,OH,OW] and w.
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const core::Shape& x_shape, const ConvSpec& spec);
// dw [OC,C/groups,KH,KW] and, when with_bias, db [OC] from x and dy.
struct ConvWeightGrads {
  Tensor dw;
  Tensor db;
};
ConvWeightGrads conv2d_backward_weights(const Tensor& x, const Tensor& dy, const core::Shape& w_shape,
                                        const ConvSpec& spec, bool with_bias);
// Both of the above from one dy: dx, dw and (when with_bias) db. Under bf16
// dy is converted once, where the two calls above convert it each (and not
// at all where it is held as bfloat16 already: batch_norm_leaky's dx).
struct ConvGrads : ConvWeightGrads {
  Tensor dx;
};
ConvGrads conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const ConvSpec& spec, bool with_bias);

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

}  // namespace ops::backend

namespace ops {

// p in the kernels' terms.
backend::ConvSpec conv2d_spec(const Conv2dParams& p);

}  // namespace ops
