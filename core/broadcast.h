// The two kernels broadcasting needs, shared by every op: expanding a tensor
// to a larger shape and summing a gradient back down to an input's shape
// (the reduction a broadcast forward implies in backward).
#pragma once

#include <span>

#include "core/tensor.h"

namespace core {

// Returns x expanded to `shape` by NumPy rules (x's shape must broadcast to it).
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// Sums g over the axes that broadcasting added or stretched so the result has
// `shape`; returns g itself when the shapes already agree. Throws ShapeError
// when `shape` does not broadcast to g's shape.
Tensor sum_to_shape(const Tensor& g, const Shape& shape);

// Sums x over `axes` (each in [0, rank), no repeats). With keepdim the
// reduced axes stay with size 1. Accumulates in double.
Tensor sum_axes(const Tensor& x, std::span<const int> axes, bool keepdim);

// a + b for equal shapes and dtypes, into a new tensor. When both carry the
// same backend layout (core/physical_layout.h) the sum stays in it.
Tensor add_same_shape(const Tensor& a, const Tensor& b);
// a += b in place for equal shapes and dtypes.
void add_inplace(const Tensor& a, const Tensor& b);

}  // namespace core
