// The one DnnlContext (see context.h) and the public queries on it.
#include "ops/backend/context.h"

#include "ops/backend/dnnl.h"

namespace ops::backend {

std::size_t DnnlContext::size() {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

DnnlContext& context() {
  static DnnlContext ctx;
  return ctx;
}

std::size_t cached_primitive_count() { return context().size(); }

bool bf16_supported() { return dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core_bf16; }

}  // namespace ops::backend
