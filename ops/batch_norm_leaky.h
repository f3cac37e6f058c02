// batch_norm_leaky: training-mode batch norm followed by leaky ReLU as one
// op, y = leaky(gamma * (x - mean) / sqrt(var + eps) + beta), with the same
// results as batch_norm2d then leaky_relu up to float rounding.
//
// Why one op: Darknet's block runs these two after every convolution, and
// apart, they read and write the activation six times forward and eight
// times backward. Fused, forward is one reading pass for the statistics and
// one pass that writes y; backward is two passes. And backward reads only y,
// which the next convolution keeps anyway, so the convolution's output x is
// freed at once (as in-place activated batch norm does): about half of a
// training step's activation memory. y gives x back exactly enough when every
// |beta| <= 32 |gamma| and the slope is positive; a layer outside that keeps
// x for its backward instead (ops/batch_norm_leaky_kernels.h).
//
// Inference statistics, synchronised batch norm and negative slopes run as
// batch_norm2d then leaky_relu. float32 runs on the activation's oneDNN
// layout without a reorder; float64 on plain loops, the same kernels.
#pragma once

#include "ops/batch_norm2d.h"

namespace ops {

struct BatchNormLeakyParams {
  BatchNorm2dParams bn;
  double slope = 0.1;
  // float32 training under mixed precision (conv_bn_leaky under bf16,
  // whichever precision its own convolution ran in): y is held as bfloat16,
  // rounded as the next convolution would round it, where its layout is
  // 16-channel blocks (nChw16c; other layouts stay float32). A bf16
  // convolution and its weight gradient then read it without a conversion
  // (one that runs as float32 Winograd converts it back, exactly) and the
  // saved activation takes half the memory; add, concat, upsample and
  // maxpool keep it bfloat16 when all their inputs are (the residual
  // stream, routes); every other reader sees float32 values of bf16
  // precision.
  // Backward recovers its normalised input from this y only under the
  // tighter kMaxShiftOverScaleBf16, else keeps x.
  bool bf16_output = false;
  // x is the output of a bf16 convolution and read by nothing else
  // (conv_bn_leaky under mixed precision): backward's dx is held as
  // bfloat16 where its layout is nChw16c, rounded as that convolution's
  // backward would round it, so it reads dx without a conversion. Elsewhere
  // the flag would cost gradients their float32 precision: other readers
  // see float32 values of bf16 precision.
  bool bf16_input_grad = false;
};

// x [N,C,H,W]; weight, bias, running_mean, running_var [C]. Returns y and,
// in training mode, the updated running statistics (as batch_norm2d).
BatchNorm2dResult batch_norm_leaky(Tape& tape, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                   const Tensor& running_mean, const Tensor& running_var,
                                   const BatchNormLeakyParams& p = {});

}  // namespace ops

// The float32 kernels (ops/batch_norm_leaky_dnnl.cpp): the loops of
// ops/batch_norm_leaky_kernels.h on the activation's oneDNN layout; y keeps
// that layout.
namespace ops::backend {

struct BnLeakyForward {
  Tensor y;
  Tensor mean;  // batch mean [C]
  Tensor var;   // biased batch variance [C]
};
// bf16_output: y as bfloat16 where its layout (x's) is nChw16c.
BnLeakyForward bn_leaky_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                                         double slope, bool bf16_output = false);
// Its backward from the output y (float32 or bfloat16, as the forward wrote
// it), and from the input x too when x is defined. dx is held in y's
// layout; bf16_dx: as bfloat16 where that is nChw16c.
BatchNormGrads bn_leaky_backward(const Tensor& dy, const Tensor& y, const Tensor& x, const Tensor& weight,
                                 const Tensor& bias, const Tensor& mean, const Tensor& var, double eps, double slope,
                                 bool bf16_dx = false);

}  // namespace ops::backend
