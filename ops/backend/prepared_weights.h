// Convolution weights kept in the layout and type the convolution reads, so
// a model run many times in inference reorders (and, under bf16, converts)
// its weights once instead of on every forward. The tensor holding them has
// no plain bytes until code outside the seam reads it; then the prepared
// copy is reordered back to row-major float32 (core::Storage's physical
// layout protocol). A caller may therefore keep them as its only copy
// (ops::FoldedWeights), so a layout oneDNN cannot reorder back, Winograd's
// transformed weights, is refused when they are made: the inference
// forward asks for ordinary blocked weights on Winograd too.
// Internal to the seam (includes dnnl.hpp).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "core/physical_layout.h"
#include "ops/backend/layout.h"
#include "ops/backend/scratchpad.h"

namespace ops::backend {

class PreparedWeights final : public core::PhysicalLayout {
 public:
  // A copy of the plain float32 bytes seen through `plain` (the weights'
  // oneDNN dims, 5-D when grouped), reordered into `want`.
  PreparedWeights(const memory& plain, const memory::desc& want);
  ~PreparedWeights() override;
  void materialize(void* plain) const override;
  memory mem() const;

 private:
  memory::desc plain_;
  memory::desc want_;
  ScratchPool::Buffer buffer_{nullptr, 0};
};

}  // namespace ops::backend
