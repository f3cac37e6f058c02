// silu's float32 kernels on oneDNN: the eltwise swish primitive (alpha 1),
// on the tensor seen as 1-D, so any rank and layout.
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/context.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/silu.h"

namespace ops::backend {

namespace {
// The eltwise cache entries of leaky_relu use flags 0 and 1; swish's differ.
constexpr std::uint32_t kSwishFlag = 2;
}  // namespace

Tensor silu_forward(const Tensor& x) {
  return guarded("silu", [&] {
    const std::int64_t n = x.numel();
    const auto& e = context().get<dnnl::eltwise_forward>(
        {PrimKind::eltwise, Prop::fwd_training, {{n}}, {}, core::DType::f32, kSwishFlag, 1.0}, [&] {
          dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_swish, flat_md(n),
                                        1.0f, 0.0f);
          return dnnl::eltwise_forward::primitive_desc(d, user_scratchpad(), context().engine());
        });
    return run_flat_eltwise_forward(e, x);
  }, x);
}

Tensor silu_backward(const Tensor& x, const Tensor& dy) {
  return guarded("silu backward", [&] {
    const std::int64_t n = x.numel();
    const auto& e = context().get<dnnl::eltwise_backward>(
        {PrimKind::eltwise, Prop::bwd, {{n}}, {}, core::DType::f32, kSwishFlag, 1.0}, [&] {
          dnnl::eltwise_forward::primitive_desc hint(
              {dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_swish, flat_md(n), 1.0f, 0.0f},
              context().engine());
          dnnl::eltwise_backward::desc d(dnnl::algorithm::eltwise_swish, flat_md(n), flat_md(n), 1.0f, 0.0f);
          return dnnl::eltwise_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    return run_flat_eltwise_backward(e, x, DNNL_ARG_SRC, dy);
  }, x, dy);
}

}  // namespace ops::backend
