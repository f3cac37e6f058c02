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
