// upsample_nearest2d's float32 kernels on oneDNN (declared in
// upsample_nearest2d.h, namespace ops::backend), in the input's layout (and,
// forward, its bfloat16 values under mixed precision).
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/context.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/upsample_nearest2d.h"

namespace ops::backend {

namespace {

Shape upsampled(const Shape& x, std::int64_t f) { return {x[0], x[1], x[2] * f, x[3] * f}; }

const CacheEntry& resample_forward_entry(const Shape& x, std::int64_t f, bool training, Layout l,
                                         dt type = dt::f32) {
  return context().get<dnnl::resampling_forward>(
      {PrimKind::resample, training ? Prop::fwd_training : Prop::fwd_inference, {x}, {0, 0, 0, 0, f}, core::DType::f32,
       0, 0.0, l, type},
      [&] {
        dnnl::resampling_forward::desc d(
            training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
            dnnl::algorithm::resampling_nearest, layout_md(x, l, type), layout_md(upsampled(x, f), l, type));
        return dnnl::resampling_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

}  // namespace

Tensor upsample_nearest_forward(const Tensor& x, std::int64_t factor) {
  return guarded("upsample_nearest2d", [&] {
    Exec ex;
    // bfloat16 values in a blocked layout (mixed precision's block outputs)
    // are copied as they are; nearest neighbour only copies.
    const Source src = ex.read_as_stored(x);
    const dt type = src.mem.get_desc().data_type();
    const auto& e = resample_forward_entry(x.shape(), factor, true, src.layout, type);
    ex.bind(DNNL_ARG_SRC, src.mem);
    Tensor y = ex.output_in(DNNL_ARG_DST, upsampled(x.shape(), factor), src.layout, type);
    ex.run(e);
    return y;
  }, x);
}

Tensor upsample_nearest_backward(const Tensor& dy, std::int64_t factor) {
  return guarded("upsample_nearest2d backward", [&] {
    const Shape& ds = dy.shape();
    const Shape xs = {ds[0], ds[1], ds[2] / factor, ds[3] / factor};
    Exec ex;
    const Source diff = ex.read(dy);
    const Layout l = diff.layout;
    const auto& e = context().get<dnnl::resampling_backward>(
        {PrimKind::resample, Prop::bwd, {xs}, {0, 0, 0, 0, factor}, core::DType::f32, 0, 0.0, l}, [&] {
          const auto& hint = pd_of<dnnl::resampling_forward>(resample_forward_entry(xs, factor, true, l));
          dnnl::resampling_backward::desc d(dnnl::algorithm::resampling_nearest, layout_md(xs, l), layout_md(ds, l));
          return dnnl::resampling_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    ex.bind(DNNL_ARG_DIFF_DST, diff.mem);
    Tensor dx = ex.output_in(DNNL_ARG_DIFF_SRC, xs, l);
    ex.run(e);
    return dx;
  }, dy);
}

}  // namespace ops::backend
