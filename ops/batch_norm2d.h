// 2-D batch normalisation over N, H and W for each channel of x [N,C,H,W].
//
// Training mode normalises with the batch mean and the biased batch
// variance, (x - mean) / sqrt(var + eps), and returns updated running
// statistics using the unbiased variance:
//   running = (1 - momentum) * running + momentum * batch
// (PyTorch's meaning of momentum; Paddle's 0.9 is 1 - 0.1). Inference mode
// uses the running statistics. darknet=true switches inference to Darknet's
// CPU formula (x - mean) / (sqrt(var) + 1e-6), epsilon outside the root, for
// models loaded from Darknet; it does not change training mode.
//
// float32 runs through oneDNN (batch_norm2d_dnnl.cpp), float64 through the
// loops in batch_norm2d.cpp.
//
// Synchronised batch norm (data-parallel training): with params.sync set,
// training mode computes the batch statistics over the union of every
// process's batch. Forward sums each channel's count, sum and sum of squares
// across processes; backward sums the two per-channel reductions of dy. The
// parameters' gradients stay local (the trainer averages them like any
// other). This path runs on the plain loops for both dtypes.
#pragma once

#include <cstddef>
#include <functional>

#include <vector>

#include "core/tape.h"
#include "ops/registry.h"

namespace ops {

using core::Tape;
using core::Tensor;

// Sums `count` values in place over the processes of a data-parallel run.
using SumAcrossReplicas = std::function<void(double* values, std::size_t count)>;

struct BatchNorm2dParams {
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
  bool darknet = false;
  SumAcrossReplicas sync;  // set: synchronised statistics in training mode
};

// Darknet adds this to the standard deviation at inference.
inline constexpr double kDarknetBnEpsilon = 1e-6;

struct BatchNorm2dResult {
  Tensor y;
  // Training mode only: the updated running statistics (new tensors; the
  // inputs are not modified).
  Tensor running_mean;
  Tensor running_var;
};

// Checks x rank 4, every [C] vector, one float dtype, momentum in [0, 1],
// eps >= 0 and, in training, more than one value per channel.
void batch_norm2d_check(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                        const Tensor& running_var, const BatchNorm2dParams& p);

// Kernels. x, y, dy, dx (N,C,H,W); weight, bias, mean, var (C).
struct BatchNorm2dStats {
  Tensor y;
  Tensor mean;  // batch mean
  Tensor var;   // biased batch variance
};
BatchNorm2dStats batch_norm2d_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
// With darknet, y = weight * (x - mean) / (sqrt(var) + 1e-6) + bias; else
// the usual sqrt(var + eps).
Tensor batch_norm2d_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                                      const Tensor& var, double eps, bool darknet);
struct BatchNorm2dGrads {
  Tensor dx;
  Tensor dweight;
  Tensor dbias;
};
// Backward of the training forward: mean and var are the batch statistics
// and depend on x.
BatchNorm2dGrads batch_norm2d_backward_training(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                                const Tensor& mean, const Tensor& var, double eps);
// Backward of the inference forward: the statistics are constants.
BatchNorm2dGrads batch_norm2d_backward_inference(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                                 const Tensor& mean, const Tensor& var, double eps, bool darknet);
// (1 - momentum) * running + momentum * batch, with the batch variance made
// unbiased by count / (count - 1); count = N*H*W.
void batch_norm2d_update_running(const Tensor& running_mean, const Tensor& running_var, const Tensor& mean,
                                 const Tensor& var, std::int64_t count, double momentum, Tensor& mean_out,
                                 Tensor& var_out);

// Differentiable batch norm; gradients to x, weight and bias (the running
// statistics are constants).
BatchNorm2dResult batch_norm2d(Tape& tape, const Tensor& x, const Tensor& weight, const Tensor& bias,
                               const Tensor& running_mean, const Tensor& running_var, const BatchNorm2dParams& p = {});

// For `yolo op`, what batch_norm2d and batch_norm_leaky share: the inputs,
// the training/momentum/eps attributes followed by `last`, the params read
// from a call, and the outputs named from the result.
std::vector<InputSpec> batch_norm_op_inputs();
std::vector<AttrSpec> batch_norm_op_attrs(AttrSpec last);
BatchNorm2dParams batch_norm_op_params(const OpCall& c, bool darknet);
NamedTensors batch_norm_op_outputs(const BatchNorm2dResult& r, bool training);

}  // namespace ops

// The float32 kernels on oneDNN (ops/batch_norm2d_dnnl.cpp), in the input's
// layout. Batch norm over N,H,W per channel of x [N,C,H,W]; weight, bias,
// mean, var [C]. They trust their inputs and throw core::BackendError.
namespace ops::backend {

struct BatchNormStats {
  Tensor y;
  Tensor mean;  // batch mean [C]
  Tensor var;   // biased batch variance [C]
};
BatchNormStats batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
// y = weight * (x - mean) / sqrt(var + eps) + bias with the given statistics.
Tensor batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                                    const Tensor& var, double eps);
struct BatchNormGrads {
  Tensor dx;
  Tensor dweight;
  Tensor dbias;
};
// Backward of the training forward (statistics depend on x) or, with
// global_stats, of the inference forward (statistics are constants).
BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                   const Tensor& var, double eps, bool global_stats);

}  // namespace ops::backend
