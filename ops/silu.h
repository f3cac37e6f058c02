// SiLU (swish): y = x * sigmoid(x); dy/dx = s * (1 + x * (1 - s)) with
// s = sigmoid(x). float32 through oneDNN (silu_dnnl.cpp), float64 loops.
#pragma once

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

// Any shape. Throws core::ValueError for an integer x.
Tensor silu(Tape& tape, const Tensor& x);

}  // namespace ops

// The float32 kernels on oneDNN (ops/silu_dnnl.cpp).
namespace ops::backend {

Tensor silu_forward(const Tensor& x);
Tensor silu_backward(const Tensor& x, const Tensor& dy);

}  // namespace ops::backend
