// Matrix product: a [M,K] x b [K,N] -> [M,N], and the batched form
// a [B,M,K] x b [B,K,N] -> [B,M,N] (b may also be a shared [K,N]).
#pragma once

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

// Tape-free kernel; trans_a/trans_b use the transposed operand.
Tensor matmul_forward(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// Throws ShapeError when the inner dimensions or the batch sizes disagree.
Tensor matmul(Tape& tape, const Tensor& a, const Tensor& b);

}  // namespace ops
