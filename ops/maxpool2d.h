// Max pooling of x [N,C,H,W] with one kernel, stride and padding applied to
// both H and W. Padding is never selected as a maximum: out-of-range taps
// are skipped (as -inf), which is Darknet's rule. Output size per axis is
// (in + pad_begin + pad_end - kernel) / stride + 1. Darknet's size-2
// stride-1 pool is kernel=2 stride=1 pad_begin=0 pad_end=1 (Darknet pads
// only after the last row and column).
//
// Ties: the first maximal tap in row-major window order wins and receives
// the whole gradient (oneDNN keeps the first of equal values too).
// float32 through oneDNN (its workspace records the winners), float64 loops.
#pragma once

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

struct MaxPool2dParams {
  std::int64_t kernel = 2;
  std::int64_t stride = 2;
  std::int64_t pad_begin = 0;
  std::int64_t pad_end = 0;
};

// Kernels. y (N,C,OH,OW) from x (N,C,H,W). `indices` (int32, the shape of
// y, flat H*W position of the winner) is filled for float64; for float32 it
// is oneDNN's opaque workspace. dx scatters dy to the winners.
struct MaxPool2dForward {
  Tensor y;
  Tensor indices;
};
MaxPool2dForward maxpool2d_forward(const Tensor& x, const MaxPool2dParams& p, bool training);
Tensor maxpool2d_backward(const Tensor& dy, const Tensor& indices, const core::Shape& x_shape,
                          const MaxPool2dParams& p);

// Throws for rank != 4, kernel or stride < 1, negative padding, padding not
// smaller than the kernel (a window of padding only) or a kernel larger than
// the padded input.
Tensor maxpool2d(Tape& tape, const Tensor& x, const MaxPool2dParams& p);

}  // namespace ops

// The float32 kernels on oneDNN (ops/maxpool2d_dnnl.cpp). The forward's
// `indices` is oneDNN's record of the selected taps, opaque bytes held in an
// int32 tensor (its last word names the layout they index), defined only
// when training; the backward reads it back.
namespace ops::backend {

MaxPool2dForward maxpool_forward(const Tensor& x, const MaxPool2dParams& spec, bool training);
Tensor maxpool_backward(const Tensor& dy, const Tensor& workspace, const core::Shape& x_shape,
                        const MaxPool2dParams& spec);

}  // namespace ops::backend
