// Kernels of batch_norm_leaky (ops/batch_norm_leaky.h): training batch norm
// and leaky ReLU in one pass over the values, forward and backward, on raw
// buffers in any of the layouts activations live in. Float32 runs them on
// the oneDNN seam's buffers (no reorder); float64 on plain NCHW buffers, as
// the reference the tests compare against.
//
// Work splits into contiguous ranges across OpenMP threads; per-channel sums
// are accumulated in double per thread and added in thread order, so a
// result depends only on the thread count, as oneDNN's own reductions do.
#pragma once

#include <cstdint>

#include "core/shape.h"

namespace ops::kernels {

// A 4-D activation [N,C,H,W] as stored: [outer][blocks][inner][lanes],
// channel = block * lanes + lane. Plain NCHW is lanes 1; nChw16c is lanes 16
// with inner H*W; channels-last (nhwc) is one item of N*H*W rows of C lanes.
struct ChannelView {
  std::int64_t outer = 0, blocks = 0, inner = 0, lanes = 0;

  static ChannelView nchw(const core::Shape& s) { return {s[0], s[1], s[2] * s[3], 1}; }
  static ChannelView blocked(const core::Shape& s, std::int64_t block) { return {s[0], s[1] / block, s[2] * s[3], block}; }
  static ChannelView nhwc(const core::Shape& s) { return {1, 1, s[0] * s[2] * s[3], s[1]}; }

  std::int64_t channels() const { return blocks * lanes; }
  std::int64_t per_channel() const { return outer * inner; }
};

// Largest |beta / gamma| for which backward recovers the normalised input
// from the output, and the smallest |gamma| and slope it divides by (see
// bn_leaky_output_invertible).
inline constexpr double kMaxShiftOverScale = 32.0;
inline constexpr double kMinDivisor = 1e-6;

// Whether backward may read only the output y: z = y / slope where y < 0
// undoes leaky ReLU, and xhat = (z - beta) / gamma undoes the affine step.
// The second costs an absolute error of about (|xhat| + 2 |beta / gamma|)
// units of float rounding in xhat, so it needs |beta| <= kMaxShiftOverScale
// * |gamma|, and |gamma| and the slope at least kMinDivisor (no overflowing
// reciprocals, no underflowing products); otherwise the caller keeps the
// input x for backward.
template <class T>
bool bn_leaky_output_invertible(const T* gamma, const T* beta, std::int64_t channels, double slope);

// y = leaky(gamma * (x - mean) / sqrt(var + eps) + beta) with the batch mean
// and biased variance of each channel, which are written to mean and var.
template <class T>
void bn_leaky_forward(const ChannelView& v, const T* x, const T* gamma, const T* beta, double eps, double slope,
                      T* y, T* mean, T* var);

// dx, dgamma, dbeta from dy and the forward's output y. x is the forward's
// input, or null when the output is invertible (bn_leaky_output_invertible).
template <class T>
void bn_leaky_backward(const ChannelView& v, const T* dy, const T* y, const T* x, const T* gamma, const T* beta,
                       const T* mean, const T* var, double eps, double slope, T* dx, T* dgamma, T* dbeta);

}  // namespace ops::kernels
