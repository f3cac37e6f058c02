// Weights in the convolution's own layout (see prepared_weights.h).
#include "ops/backend/prepared_weights.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/shape.h"
#include "ops/backend/context.h"
#include "ops/backend/errors.h"

namespace ops::backend {

namespace {

// Runs even in plan-only mode: prepared weights are kept (an inference
// fold is reused while its sources' versions hold), so they must be real.
void reorder_now(memory from, memory to, const char* what) {
  try {
    DnnlContext& ctx = context();
    dnnl::reorder(from, to).execute(ctx.stream(), from, to);
    ctx.stream().wait();
  } catch (const dnnl::error& e) {
    throw backend_error(what, e, core::shape_str(from.get_desc().dims()));
  }
}

}  // namespace

memory PreparedWeights::mem() const { return {want_, context().engine(), buffer_.data}; }

PreparedWeights::PreparedWeights(const memory& plain, const memory::desc& want)
    : plain_(plain.get_desc()), want_(want) {
  // oneDNN reorders into Winograd's transformed weights, never out of them.
  if (want_.data.format_kind == dnnl_format_kind_wino) {
    throw core::BackendError(fmt::format(
        "prepare convolution weights {}: the primitive reads Winograd's transformed weights, which cannot be read "
        "back as plain values; inference primitives on Winograd are expected to read blocked weights",
        core::shape_str(plain_.dims())));
  }
  buffer_ = ScratchPool::acquire(want.get_size());
  try {
    reorder_now(plain, mem(), "prepare convolution weights");
  } catch (...) {
    ScratchPool::release(buffer_);  // the destructor of an unfinished object does not run
    throw;
  }
}

PreparedWeights::~PreparedWeights() { ScratchPool::release(buffer_); }

void PreparedWeights::materialize(void* plain) const {
  reorder_now(mem(), memory(plain_, context().engine(), plain), "prepared weights to plain");
}

}  // namespace ops::backend
