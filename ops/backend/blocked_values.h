// Activations kept in a non-plain layout between ops. An op's output is a
// tensor whose values live in a BlockedValues buffer, and the next op builds
// its primitive for that layout. The row-major bytes are written only when
// code outside the seam reads the tensor (core::Storage calls
// BlockedValues::materialize). Internal to the seam (includes dnnl.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>
#include <oneapi/dnnl/dnnl.hpp>

#include "core/physical_layout.h"
#include "ops/backend/context.h"
#include "ops/backend/layout.h"
#include "ops/backend/scratchpad.h"

namespace ops::backend {

// The values of one activation in a non-plain layout, in a pooled buffer.
// core::Storage calls materialize() when code outside the seam first touches
// the tensor's bytes; until then only the seam reads this buffer.
//
// The values are float32, or bfloat16 where a producer writes what bf16
// convolutions read next, or a float32 Winograd layer under mixed precision
// converts back (under mixed precision batch_norm_leaky's output,
// which the next convolution and its weight gradient take as they are, the
// saved activation at half the memory; and its input gradient, which the
// backward of the convolution before takes as it is; and a bf16
// convolution's float32 input as it converted it, which its weight gradient
// takes as it is; in inference, a bf16 convolution's output fused with
// batch norm and leaky ReLU, which the next convolution takes as it is; and
// the sum, concatenation, upsampling or max pooling of such values, all in
// one layout, which these ops write as bfloat16 too). A primitive that
// declares the input it wants (Exec::input, or Exec::read_as_stored then
// Exec::convert, as convolution backward reads dy) converts them as it
// would any layout; Exec::read and materialize give float32 to everything
// else, but for the readers that take bfloat16 as stored (add, concat,
// upsample, maxpool, batch_norm_leaky's backward reading y).
class BlockedValues final : public core::PhysicalLayout {
 public:
  BlockedValues(Shape shape, Layout layout, dt type = dt::f32);
  ~BlockedValues() override;

  void materialize(void* plain) const override;

  // Adds in place of the plain bytes when other is a copy of the same
  // shape and layout (with the add primitive, add_entry).
  std::shared_ptr<const core::PhysicalLayout> sum_with(const core::PhysicalLayout& other,
                                                       const Shape& shape) const override;

  const Shape& shape() const { return shape_; }
  Layout layout() const { return layout_; }
  dt type() const { return type_; }
  memory mem() const;

 private:
  Shape shape_;
  Layout layout_;
  dt type_;
  ScratchPool::Buffer buffer_;
};

// A tensor's values where they are now: plain, or in a BlockedValues buffer.
struct Source {
  memory mem;
  Layout layout = Layout::plain;
};

// Whether every source holds bfloat16 values (BlockedValues, so never plain),
// all in one layout: what add and concat need to keep their output bf16.
bool all_bfloat16(const std::vector<Source>& sources);

// The same bytes seen as one flat vector: elementwise ops run on any layout
// that way, since our layouts carry no padding.
memory flat(const memory& m);

// Plain bytes of t (materializing a blocked copy first: weights, statistics).
void* ptr(const Tensor& t);

// a + b on n floats: any of our layouts, seen flat. Shared by the add op
// (ops/binary_dnnl.cpp) and the gradient sum of BlockedValues. b may be
// bfloat16 (oneDNN 2.6 runs its JIT kernel for a bfloat16 second operand,
// a reference loop for a bfloat16 first one with a float32 sum); a and the
// sum are float32, or both bfloat16 (then b is too: mixed precision's
// residual sums, summed in float32 and rounded once).
const CacheEntry& add_entry(std::int64_t n, dt second = dt::f32, dt first_and_sum = dt::f32);

}  // namespace ops::backend
