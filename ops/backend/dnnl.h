// The oneDNN seam, public side: what code outside ops/ may ask of the
// backend. No oneDNN type crosses this header.
//
// Every float32 CNN kernel of the project runs on oneDNN. Each op's kernels
// live beside the op (ops/conv2d_dnnl.cpp next to ops/conv2d.cpp), declared
// in the op's header under namespace ops::backend. What they share lives in
// ops/backend/, the only other place that includes dnnl.hpp:
//   context.h         DnnlContext: engine, stream, the primitive cache
//                     (and what oneDNN refused to create), the scratchpad
//   scratchpad.h      pooled temporary buffers and the shared scratchpad
//   layout.h          memory descriptors and the layouts activations keep
//   blocked_values.h  activations kept in a blocked layout between ops
//   exec.h            one primitive run: binding, reorders, execution
//   kept_weights.h    weights converted once per optimizer update
//   errors.h          dnnl::error -> core::BackendError with op and shapes
//
// Outputs of the activation ops (conv, batch norm, leaky ReLU, add, concat,
// upsample, pool, and their input gradients) keep the layout the convolution
// chose, usually blocked nChw16c, inside the tensor's storage; an input in
// such a layout is used as it is. The tensor still is a logical NCHW tensor:
// the first read of its bytes outside this seam writes them row-major
// (core/physical_layout.h), so callers never see the difference.
//
// What this is not: a validator. The op entry points in ops/ check shapes and
// attributes; the kernels trust their inputs (float32, contiguous NCHW).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/tensor.h"

namespace ops::backend {

using core::Tensor;

// Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or
// newer); where it does not, bf16 is refused rather than emulated.
bool bf16_supported();
// Whether it has AMX tiles too (and oneDNN uses them for bfloat16).
bool amx_supported();

// C [M,N] = A [M,K] * B [K,N], row-major float32, through dnnl_sgemm: the
// machine's practical float32 peak for the benchmarks and `yolo bench`.
// Throws core::BackendError when oneDNN reports a failure.
void sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b, float* c);

// How many primitives the seam's cache holds (tests check reuse with it).
std::size_t cached_primitive_count();

// Plan-only mode. While a PlanOnly lives, the seam does its work but the
// arithmetic: ops create (and cache) their primitives and reorders and take
// their outputs, scratch and scratchpad from the buffer cache with the pages
// of large ones mapped in (core::BufferCache::set_prefault), but run no
// oneDNN primitive and skip the project's batch-norm loops, so their outputs
// hold unspecified values. Small host loops (the loss, synchronised batch
// norm's statistics) still run, on those values; float64 ops compute as
// always; weights prepared for inference and host reads of blocked tensors
// are still computed, since they outlive the pass. One training pass under
// it readies the shapes of that pass: the first real step at a new
// multi-scale size then finds its kernels compiled and its buffers mapped
// (models/size_preparation.h). Process-wide, like the seam's cache: every
// thread's ops plan while any guard lives; the mode ends with the last one.
// Nothing a planned op wrote may be kept beyond the pass.
class PlanOnly {
 public:
  PlanOnly();
  ~PlanOnly();
  PlanOnly(const PlanOnly&) = delete;
  PlanOnly& operator=(const PlanOnly&) = delete;
};

// Whether a PlanOnly lives.
bool plan_only();

// While one lives, each bf16 convolution's weights, converted into the
// layout and type its primitive reads (bfloat16 blocks, under mixed
// precision), are kept and reused for as long as the weight tensor's
// storage is unchanged (its version), instead of converted anew on every
// pass. The trainer holds one across the passes it accumulates into one
// optimizer update (train.subdivisions): the weights are then converted
// once per update, the copies held meanwhile (a bf16 copy each for forward
// and backward data: about the float32 weights' size) and freed when the
// last guard ends. Float32 layout copies are not kept (kept_weights.h says
// why); nothing is kept while planning. Process-wide, like PlanOnly; the
// values computed are the same either way.
class KeepConvertedWeights {
 public:
  KeepConvertedWeights();
  ~KeepConvertedWeights();
  KeepConvertedWeights(const KeepConvertedWeights&) = delete;
  KeepConvertedWeights& operator=(const KeepConvertedWeights&) = delete;
};

// The layout t's values sit in inside the seam without reading them:
// "plain" (row-major bytes current), or a oneDNN tag such as "nChw16c"
// (tests check that a chain of ops keeps the convolution's layout).
const char* layout_name(const Tensor& t);
// Whether t's values are held as bfloat16 inside the seam (batch_norm_leaky's
// output under mixed precision); readers outside it see float32 either way.
bool holds_bfloat16(const Tensor& t);

}  // namespace ops::backend
