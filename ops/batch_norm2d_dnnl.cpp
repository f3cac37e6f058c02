// batch_norm2d's float32 kernels on oneDNN (declared in batch_norm2d.h,
// namespace ops::backend): training and inference forward and their
// backward, in the layout of the input activation.
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/context.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/batch_norm2d.h"

namespace ops::backend {

namespace {

constexpr std::uint32_t kGlobalStats = 1;

dnnl::normalization_flags bn_flags(bool global_stats) {
  auto f = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  return global_stats ? f | dnnl::normalization_flags::use_global_stats : f;
}

const CacheEntry& bn_forward_entry(const Shape& x, double eps, bool global_stats, Layout l) {
  // The training forward doubles as the hint for backward; inference with
  // given statistics uses forward_inference.
  const Prop prop = global_stats ? Prop::fwd_inference : Prop::fwd_training;
  return context().get<dnnl::batch_normalization_forward>(
      {PrimKind::batch_norm, prop, {x}, {}, core::DType::f32, global_stats ? kGlobalStats : 0u, eps, l}, [&] {
        dnnl::batch_normalization_forward::desc d(
            global_stats ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training, layout_md(x, l),
            static_cast<float>(eps), bn_flags(global_stats));
        return dnnl::batch_normalization_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

}  // namespace

BatchNormStats batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  return guarded("batch_norm2d", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const auto& e = bn_forward_entry(x.shape(), eps, false, src.layout);
    const auto& pd = pd_of<dnnl::batch_normalization_forward>(e);
    const std::int64_t c = x.shape()[1];
    BatchNormStats s{Tensor(), Tensor::empty({c}, core::DType::f32), Tensor::empty({c}, core::DType::f32)};
    ex.bind(DNNL_ARG_SRC, src.mem);
    ex.input(DNNL_ARG_SCALE, plain_md({c}), weight);
    ex.input(DNNL_ARG_SHIFT, plain_md({c}), bias);
    s.y = ex.output_in(DNNL_ARG_DST, x.shape(), src.layout);
    ex.output(DNNL_ARG_MEAN, pd.mean_desc(), s.mean);
    ex.output(DNNL_ARG_VARIANCE, pd.variance_desc(), s.var);
    ex.run(e);
    return s;
  }, x, weight, bias);
}

Tensor batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                                    const Tensor& var, double eps) {
  return guarded("batch_norm2d", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const auto& e = bn_forward_entry(x.shape(), eps, true, src.layout);
    const auto& pd = pd_of<dnnl::batch_normalization_forward>(e);
    const std::int64_t c = x.shape()[1];
    ex.bind(DNNL_ARG_SRC, src.mem);
    ex.input(DNNL_ARG_SCALE, plain_md({c}), weight);
    ex.input(DNNL_ARG_SHIFT, plain_md({c}), bias);
    ex.input(DNNL_ARG_MEAN, pd.mean_desc(), mean);
    ex.input(DNNL_ARG_VARIANCE, pd.variance_desc(), var);
    Tensor y = ex.output_in(DNNL_ARG_DST, x.shape(), src.layout);
    ex.run(e);
    return y;
  }, x, weight, bias);
}

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                   const Tensor& var, double eps, bool global_stats) {
  return guarded("batch_norm2d backward", [&] {
    const Shape& xs = x.shape();
    Exec ex;
    // dy follows x's layout: the primitive is built for one of them.
    const Source src = ex.read(x);
    const Layout l = src.layout;
    const auto& e = context().get<dnnl::batch_normalization_backward>(
        {PrimKind::batch_norm, Prop::bwd, {xs}, {}, core::DType::f32, global_stats ? kGlobalStats : 0u, eps, l}, [&] {
          const auto& hint = pd_of<dnnl::batch_normalization_forward>(bn_forward_entry(xs, eps, global_stats, l));
          dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, layout_md(xs, l), layout_md(xs, l),
                                                     static_cast<float>(eps), bn_flags(global_stats));
          return dnnl::batch_normalization_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    const auto& pd = pd_of<dnnl::batch_normalization_backward>(e);
    const std::int64_t c = xs[1];
    BatchNormGrads g{Tensor(), Tensor::empty({c}, core::DType::f32), Tensor::empty({c}, core::DType::f32)};
    ex.bind(DNNL_ARG_SRC, src.mem);
    ex.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), dy);
    ex.input(DNNL_ARG_MEAN, pd.mean_desc(), mean);
    ex.input(DNNL_ARG_VARIANCE, pd.variance_desc(), var);
    ex.input(DNNL_ARG_SCALE, plain_md({c}), weight);
    // oneDNN 2.6 checks that a use_shift backward is given the shift too,
    // although no gradient depends on it; the weight stands in.
    ex.input(DNNL_ARG_SHIFT, plain_md({c}), weight);
    g.dx = ex.output_in(DNNL_ARG_DIFF_SRC, xs, l);
    ex.output(DNNL_ARG_DIFF_SCALE, plain_md({c}), g.dweight);
    ex.output(DNNL_ARG_DIFF_SHIFT, plain_md({c}), g.dbias);
    ex.run(e);
    return g;
  }, dy, x, weight);
}

}  // namespace ops::backend
