// leaky_relu's float32 kernels on oneDNN (declared in unary.h, namespace
// ops::backend): forward, and backward from the input or from the output.
// Elementwise ops see tensors as 1-D, so one primitive serves every rank and
// every layout.
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/context.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/unary.h"

namespace ops::backend {

namespace {

const CacheEntry& leaky_forward_entry(std::int64_t n, double slope, bool training) {
  return context().get<dnnl::eltwise_forward>(
      {PrimKind::eltwise, training ? Prop::fwd_training : Prop::fwd_inference, {{n}}, {}, core::DType::f32, 0, slope},
      [&] {
        dnnl::eltwise_forward::desc d(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::eltwise_relu, flat_md(n), static_cast<float>(slope), 0.0f);
        return dnnl::eltwise_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

}  // namespace

Tensor leaky_relu_forward(const Tensor& x, double slope) {
  return guarded("leaky_relu", [&] { return run_flat_eltwise_forward(leaky_forward_entry(x.numel(), slope, true), x); }, x);
}

namespace {

// dx from dy and either x (relu) or y (relu_use_dst_for_bwd), flat, in the
// layout of the tensor read.
Tensor leaky_backward(const Tensor& t, const Tensor& dy, double slope, bool from_output) {
  const std::int64_t n = t.numel();
  const auto algo = from_output ? dnnl::algorithm::eltwise_relu_use_dst_for_bwd : dnnl::algorithm::eltwise_relu;
  const auto& e = context().get<dnnl::eltwise_backward>(
      {PrimKind::eltwise, Prop::bwd, {{n}}, {}, core::DType::f32, from_output ? 1u : 0u, slope}, [&] {
        // The hint must use the same algorithm; relu_use_dst_for_bwd's
        // forward computes the same values as relu's.
        dnnl::eltwise_forward::primitive_desc hint(
            {dnnl::prop_kind::forward_training, algo, flat_md(n), static_cast<float>(slope), 0.0f},
            context().engine());
        dnnl::eltwise_backward::desc d(algo, flat_md(n), flat_md(n), static_cast<float>(slope), 0.0f);
        return dnnl::eltwise_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
      });
  return run_flat_eltwise_backward(e, t, from_output ? DNNL_ARG_DST : DNNL_ARG_SRC, dy);
}

}  // namespace

Tensor leaky_relu_backward(const Tensor& x, const Tensor& dy, double slope) {
  return guarded("leaky_relu backward", [&] { return leaky_backward(x, dy, slope, false); }, x, dy);
}

Tensor leaky_relu_backward_from_output(const Tensor& y, const Tensor& dy, double slope) {
  return guarded("leaky_relu backward", [&] { return leaky_backward(y, dy, slope, true); }, y, dy);
}

}  // namespace ops::backend
