// maxpool2d's float32 kernels on oneDNN (declared in maxpool2d.h, namespace
// ops::backend), in the input's layout (and, forward, its bfloat16 values
// under mixed precision); the workspace records the winners.
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/blocked_values.h"
#include "ops/backend/context.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/maxpool2d.h"

namespace ops::backend {

namespace {

// Set in the workspace's last word when the forward pooled bfloat16 values.
constexpr std::int32_t kBf16Workspace = 1 << 8;

Shape pool_out_shape(const Shape& x, const MaxPool2dParams& s) {
  auto out = [&](std::int64_t in) { return (in + s.pad_begin + s.pad_end - s.kernel) / s.stride + 1; };
  return {x[0], x[1], out(x[2]), out(x[3])};
}

const CacheEntry& pool_forward_entry(const Shape& x, const MaxPool2dParams& s, bool training, Layout l,
                                     dt type = dt::f32) {
  return context().get<dnnl::pooling_forward>(
      {PrimKind::pool, training ? Prop::fwd_training : Prop::fwd_inference, {x}, {s.stride, s.pad_begin, s.pad_end, 0,
       s.kernel}, core::DType::f32, 0, 0.0, l, type},
      [&] {
        // pooling_max never selects padding: oneDNN skips out-of-range taps.
        dnnl::pooling_forward::desc d(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::pooling_max, layout_md(x, l, type),
                                      layout_md(pool_out_shape(x, s), l, type),
                                      {s.stride, s.stride}, {s.kernel, s.kernel}, {s.pad_begin, s.pad_begin},
                                      {s.pad_end, s.pad_end});
        return dnnl::pooling_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

}  // namespace

MaxPool2dForward maxpool_forward(const Tensor& x, const MaxPool2dParams& spec, bool training) {
  return guarded("maxpool2d", [&] {
    Exec ex;
    // bfloat16 values in a blocked layout (mixed precision's block outputs)
    // are pooled as they are: the maximum of bfloat16 values is one of them.
    const Source src = ex.read_as_stored(x);
    const dt type = src.mem.get_desc().data_type();
    const auto& e = pool_forward_entry(x.shape(), spec, training, src.layout, type);
    const auto& pd = pd_of<dnnl::pooling_forward>(e);
    MaxPool2dForward r;
    ex.bind(DNNL_ARG_SRC, src.mem);
    r.y = ex.output_in(DNNL_ARG_DST, pool_out_shape(x.shape(), spec), src.layout, type);
    if (training) {
      // The workspace indexes dst in its layout and type, so backward must
      // be built for the same ones: its last word records which.
      const memory::desc ws = pd.workspace_desc();
      const auto words = static_cast<std::int64_t>((ws.get_size() + 3) / 4);
      r.indices = Tensor::empty({words + 1}, core::DType::i32);
      auto* p = r.indices.mutable_data<std::int32_t>();
      p[words] = static_cast<std::int32_t>(src.layout) | (type == dt::bf16 ? kBf16Workspace : 0);
      ex.raw(DNNL_ARG_WORKSPACE, ws, p);
    }
    ex.run(e);
    return r;
  }, x);
}

Tensor maxpool_backward(const Tensor& dy, const Tensor& workspace, const Shape& x_shape,
                        const MaxPool2dParams& spec) {
  return guarded("maxpool2d backward", [&] {
    const std::int32_t recorded = workspace.data<std::int32_t>()[workspace.numel() - 1];
    const auto l = static_cast<Layout>(recorded & ~kBf16Workspace);
    const dt forward_type = (recorded & kBf16Workspace) != 0 ? dt::bf16 : dt::f32;
    const auto& e = context().get<dnnl::pooling_backward>(
        {PrimKind::pool, Prop::bwd, {x_shape}, {spec.stride, spec.pad_begin, spec.pad_end, 0, spec.kernel},
         core::DType::f32, 0, 0.0, l, forward_type},
        [&] {
          const auto& hint =
              pd_of<dnnl::pooling_forward>(pool_forward_entry(x_shape, spec, true, l, forward_type));
          dnnl::pooling_backward::desc d(dnnl::algorithm::pooling_max, layout_md(x_shape, l),
                                         layout_md(dy.shape(), l), {spec.stride, spec.stride},
                                         {spec.kernel, spec.kernel}, {spec.pad_begin, spec.pad_begin},
                                         {spec.pad_end, spec.pad_end});
          return dnnl::pooling_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    const auto& pd = pd_of<dnnl::pooling_backward>(e);
    Exec ex;
    ex.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), dy);
    ex.raw(DNNL_ARG_WORKSPACE, pd.workspace_desc(), ptr(workspace));
    Tensor dx = ex.output_in(DNNL_ARG_DIFF_SRC, x_shape, l);
    ex.run(e);
    return dx;
  }, dy);
}

}  // namespace ops::backend
