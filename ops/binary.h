// Elementwise binary arithmetic with NumPy broadcasting: add, sub, mul, div.
#pragma once

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

enum class BinaryKind { add, sub, mul, div };

// Tape-free kernel: a (op) b broadcast to a common shape. Same dtype required.
Tensor binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b);

// Differentiable entry points. a and b broadcast (NumPy rules); the result has
// the broadcast shape. Throw ShapeError on incompatible shapes and ValueError
// on mixed dtypes. Gradients are summed back to each input's shape.
Tensor add(Tape& tape, const Tensor& a, const Tensor& b);
Tensor sub(Tape& tape, const Tensor& a, const Tensor& b);
Tensor mul(Tape& tape, const Tensor& a, const Tensor& b);
Tensor div(Tape& tape, const Tensor& a, const Tensor& b);

// x * s and x + s for a scalar s (constants, no gradient to s).
Tensor mul_scalar(Tape& tape, const Tensor& x, double s);
Tensor add_scalar(Tape& tape, const Tensor& x, double s);

}  // namespace ops

// add's float32 kernel on oneDNN (ops/binary_dnnl.cpp).
namespace ops::backend {

// a + b for two float32 tensors of one shape.
Tensor add_forward(const Tensor& a, const Tensor& b);

}  // namespace ops::backend
