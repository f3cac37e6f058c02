// The one DnnlContext (see context.h) and the public queries on it.
#include "ops/backend/context.h"

#include "core/buffer_cache.h"
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

// A depth, not a saved flag: guards that end out of order (on different
// threads) still leave plan-only mode once the last one is gone.
PlanOnly::PlanOnly() {
  if (context().enter_plan() == 0) core::buffer_cache().set_prefault(true);
}

PlanOnly::~PlanOnly() {
  if (context().leave_plan() == 1) core::buffer_cache().set_prefault(false);
}

bool plan_only() { return context().plan_only(); }

bool bf16_supported() { return dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core_bf16; }

bool amx_supported() {
  // cpu_isa values are bit sets, each ISA's bits holding those of the ones it extends.
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto amx = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_amx);
  return (isa & amx) == amx;
}

}  // namespace ops::backend
