// Ops that move data without arithmetic: reshape, permute/transpose, slice
// and concat. Views are only reshapes of contiguous storage; permute, slice
// and concat copy.
#pragma once

#include <vector>

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

// Same storage, new shape; one dimension may be -1 (inferred). Throws
// ShapeError when the element count differs.
Tensor reshape(Tape& tape, const Tensor& x, const core::Shape& shape);

// y.shape[i] = x.shape[dims[i]]; dims must be a permutation of the axes.
Tensor permute(Tape& tape, const Tensor& x, const std::vector<std::int64_t>& dims);
// Swaps two axes (negative axes count from the end).
Tensor transpose(Tape& tape, const Tensor& x, std::int64_t dim0, std::int64_t dim1);

struct SliceParams {
  std::int64_t axis = 0;
  std::int64_t start = 0;  // negative counts from the end
  std::int64_t end = 0;    // exclusive; negative counts from the end
};
// Elements [start, end) along axis; throws ShapeError unless
// 0 <= start <= end <= size after resolving negative values.
Tensor slice(Tape& tape, const Tensor& x, const SliceParams& p);

// Joins tensors along axis; all other dimensions and the dtype must agree.
Tensor concat(Tape& tape, const std::vector<Tensor>& xs, std::int64_t axis = 1);

}  // namespace ops

// concat's float32 kernels on oneDNN (ops/shape_ops_dnnl.cpp).
namespace ops::backend {

// Joins 4-D NCHW tensors along `axis`.
Tensor concat_forward(const std::vector<Tensor>& xs, int axis);
// The slices of dy along `axis` that concat_forward joined from inputs of
// `shapes`, each kept in dy's layout (no trip through plain memory).
std::vector<Tensor> concat_backward(const Tensor& dy, const std::vector<core::Shape>& shapes, int axis);

}  // namespace ops::backend
