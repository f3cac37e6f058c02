// Reductions: sum and mean over all axes or a list of axes.
#pragma once

#include <vector>

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

struct ReduceParams {
  std::vector<std::int64_t> axes;  // empty = all axes; negative counts from the end
  bool keepdim = false;
};

// Throws ShapeError naming the op for out-of-range or repeated axes.
Tensor sum(Tape& tape, const Tensor& x, const ReduceParams& p = {});
Tensor mean(Tape& tape, const Tensor& x, const ReduceParams& p = {});

}  // namespace ops
