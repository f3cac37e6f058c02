// 2-D convolution (cross-correlation, as PyTorch's conv2d) with stride,
// symmetric zero padding, dilation and groups.
//
// float32 runs through the oneDNN seam (ops/backend/dnnl.h); float64 runs
// through the plain loop kernels in conv2d.cpp, which are also the oracle the
// tests hold the oneDNN path to. `pad` is explicit zero padding in pixels on
// every side; Darknet's `pad=1` flag is resolved by the .cfg reader.
#pragma once

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
