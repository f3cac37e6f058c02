// Elementwise unary ops and activations.
//
// Gradient conventions at kinks: relu'(0) = 0 and leaky_relu'(0) = slope,
// i.e. the "x > 0" branch is strict, as in PyTorch and Darknet.
#pragma once

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

Tensor neg(Tape& tape, const Tensor& x);
Tensor exp(Tape& tape, const Tensor& x);
// Natural log; values <= 0 give -inf/NaN as in IEEE arithmetic.
Tensor log(Tape& tape, const Tensor& x);
Tensor sqrt(Tape& tape, const Tensor& x);
// x ** exponent for a constant exponent.
Tensor pow(Tape& tape, const Tensor& x, double exponent);
Tensor sigmoid(Tape& tape, const Tensor& x);
Tensor relu(Tape& tape, const Tensor& x);

struct LeakyReluParams {
  double slope = 0.1;  // Darknet's leaky activation
};
Tensor leaky_relu(Tape& tape, const Tensor& x, const LeakyReluParams& p = {});

}  // namespace ops

// leaky_relu's float32 kernels on oneDNN (ops/unary_dnnl.cpp), on any
// float32 tensor viewed as 1-D, in the layout of the tensor read.
namespace ops::backend {

// x > 0 ? x : slope * x.
Tensor leaky_relu_forward(const Tensor& x, double slope);
// dx = dy where x > 0, slope * dy elsewhere (slope at 0, as said above).
Tensor leaky_relu_backward(const Tensor& x, const Tensor& dy, double slope);
// The same from the output y (slope >= 0, so y > 0 exactly where x > 0).
Tensor leaky_relu_backward_from_output(const Tensor& y, const Tensor& dy, double slope);

}  // namespace ops::backend
