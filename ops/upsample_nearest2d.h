// Nearest-neighbour upsampling of x [N,C,H,W] by an integer factor on H and
// W: y[n,c,h,w] = x[n,c,h/f,w/f]. Darknet's [upsample] `stride` key is this
// factor; its `scale` key multiplies values and is not part of this op.
// float32 through oneDNN (upsample_nearest2d_dnnl.cpp), float64 loops.
#pragma once

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

struct UpsampleNearest2dParams {
  std::int64_t factor = 2;
};

// Kernels: y (N,C,H*f,W*f) from x (N,C,H,W); dx sums each f x f block of dy.
Tensor upsample_nearest2d_forward(const Tensor& x, std::int64_t factor);
Tensor upsample_nearest2d_backward(const Tensor& dy, std::int64_t factor);

// Throws ShapeError for a rank other than 4 and ValueError for factor < 1.
Tensor upsample_nearest2d(Tape& tape, const Tensor& x, const UpsampleNearest2dParams& p = {});

}  // namespace ops

// The float32 kernels on oneDNN (ops/upsample_nearest2d_dnnl.cpp).
namespace ops::backend {

// Nearest-neighbour upsampling by an integer factor on H and W.
Tensor upsample_nearest_forward(const Tensor& x, std::int64_t factor);
// Sums each factor x factor block of dy [N,C,H*f,W*f] into dx [N,C,H,W].
Tensor upsample_nearest_backward(const Tensor& dy, std::int64_t factor);

}  // namespace ops::backend
