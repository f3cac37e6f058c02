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

#include <bit>
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

// bfloat16 values as stored: the upper 16 bits of a float32. Under mixed
// precision batch_norm_leaky writes its output this way (y of type
// Bf16Bits) for the bf16 convolutions that read it next.
using Bf16Bits = std::uint16_t;

// float32 to bfloat16 as oneDNN converts (its reorders and AVX512-BF16's
// vcvtneps2bf16), so a convolution multiplies the same values whether it
// converts its input itself or reads ours: round to nearest, ties to even;
// a NaN stays a quiet NaN; zeros and subnormals become a zero of their sign.
inline Bf16Bits to_bf16(float value) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t magnitude = u & 0x7FFFFFFFu;
  // Adding just under half a unit of the kept bits, plus one when the lowest
  // kept bit is odd, rounds ties to even; a carry into the exponent is right.
  const std::uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const std::uint32_t quiet_nan = (u >> 16) | 0x40u;
  const std::uint32_t signed_zero = (u >> 16) & 0x8000u;
  return static_cast<Bf16Bits>(magnitude > 0x7F800000u   ? quiet_nan
                               : magnitude < 0x00800000u ? signed_zero
                                                         : rounded);
}

inline float from_bf16(Bf16Bits bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

// Largest |beta / gamma| for which backward recovers the normalised input
// from the output, and the smallest |gamma| and slope it divides by (see
// bn_leaky_output_invertible).
inline constexpr double kMaxShiftOverScale = 32.0;
inline constexpr double kMinDivisor = 1e-6;
// The same bound when y is held as bfloat16 (relative rounding 2^-9 instead
// of 2^-24): the error in xhat is then about (|xhat| + |beta / gamma|) / 512,
// which this bound keeps under 1% for |xhat| up to 1.
inline constexpr double kMaxShiftOverScaleBf16 = 4.0;

// Whether backward may read only the output y: z = y / slope where y < 0
// undoes leaky ReLU, and xhat = (z - beta) / gamma undoes the affine step.
// The second costs an absolute error of about (|xhat| + 2 |beta / gamma|)
// units of float rounding in xhat, so it needs |beta| <= kMaxShiftOverScale
// * |gamma| (max_shift_over_scale: kMaxShiftOverScaleBf16 for a bfloat16
// y), and |gamma| and the slope at least kMinDivisor (no overflowing
// reciprocals, no underflowing products); otherwise the caller keeps the
// input x for backward.
template <class T>
bool bn_leaky_output_invertible(const T* gamma, const T* beta, std::int64_t channels, double slope,
                                double max_shift_over_scale = kMaxShiftOverScale);

// y = leaky(gamma * (x - mean) / sqrt(var + eps) + beta) with the batch mean
// and biased variance of each channel, which are written to mean and var.
// Y is T, or Bf16Bits for T float: y rounded by to_bf16, everything else
// computed in float32 as for a float32 y.
template <class T, class Y = T>
void bn_leaky_forward(const ChannelView& v, const T* x, const T* gamma, const T* beta, double eps, double slope,
                      Y* y, T* mean, T* var);

// dx, dgamma, dbeta from dy and the forward's output y (of the forward's
// type Y). x is the forward's input, or null when the output is invertible
// (bn_leaky_output_invertible). D is T, or Bf16Bits for T float: dx rounded
// by to_bf16 from the float32 values it would otherwise hold, for the bf16
// convolution whose backward reads it.
template <class T, class Y = T, class D = T>
void bn_leaky_backward(const ChannelView& v, const T* dy, const Y* y, const T* x, const T* gamma, const T* beta,
                       const T* mean, const T* var, double eps, double slope, D* dx, T* dgamma, T* dbeta);

}  // namespace ops::kernels
