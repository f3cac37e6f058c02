// batch_norm_leaky's float32 kernels (declared in batch_norm_leaky.h,
// namespace ops::backend): the loops of ops/batch_norm_leaky_kernels.h run
// directly on the activation's oneDNN layout, so no reorder precedes them.
#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/context.h"
#include "ops/backend/dnnl.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/batch_norm_leaky.h"
#include "ops/batch_norm_leaky_kernels.h"

namespace ops::backend {

namespace {

kernels::ChannelView channel_view(const Shape& s, Layout l) {
  switch (l) {
    case Layout::nChw16c: return kernels::ChannelView::blocked(s, 16);
    case Layout::nChw8c: return kernels::ChannelView::blocked(s, 8);
    case Layout::nhwc: return kernels::ChannelView::nhwc(s);
    case Layout::plain: break;
  }
  return kernels::ChannelView::nchw(s);
}

float* floats(const memory& m) { return static_cast<float*>(m.get_data_handle()); }

}  // namespace

BnLeakyForward bn_leaky_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                                         double slope, bool bf16_output) {
  return guarded("batch_norm_leaky", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const std::int64_t c = x.shape()[1];
    // bfloat16 only in 16-channel blocks, where the loops convert whole
    // vectors: in the narrow channels-last layers of the quick config's
    // model the bf16 loops tripled batch norm's time (23 against 6.5 ms a
    // step forward, 37 against 13 backward), more than the conversions they
    // saved the convolutions.
    // oneDNN's add reads a bfloat16 operand only where bf16 is supported.
    const bool bf16 = bf16_output && src.layout == Layout::nChw16c && bf16_supported();
    BnLeakyForward r{ex.output_in(DNNL_ARG_DST, x.shape(), src.layout, bf16 ? dt::bf16 : dt::f32),
                     Tensor::empty({c}, core::DType::f32), Tensor::empty({c}, core::DType::f32)};
    if (context().plan_only()) return r;
    const kernels::ChannelView view = channel_view(x.shape(), src.layout);
    void* y = ex.arg(DNNL_ARG_DST).get_data_handle();
    const auto run = [&]<class Y>(Y* out) {
      kernels::bn_leaky_forward<float, Y>(view, floats(src.mem), weight.data<float>(), bias.data<float>(), eps, slope,
                                          out, r.mean.mutable_data<float>(), r.var.mutable_data<float>());
    };
    if (bf16) {
      run(static_cast<kernels::Bf16Bits*>(y));
    } else {
      run(static_cast<float*>(y));
    }
    return r;
  }, x, weight, bias);
}

BatchNormGrads bn_leaky_backward(const Tensor& dy, const Tensor& y, const Tensor& x, const Tensor& weight,
                                 const Tensor& bias, const Tensor& mean, const Tensor& var, double eps, double slope,
                                 bool bf16_dx) {
  return guarded("batch_norm_leaky backward", [&] {
    Exec ex;
    // Everything in y's layout: dy (and x) are reordered only if they differ.
    // y itself is read as stored, float32 or bfloat16 (the kernel reads both).
    const Source ys = ex.read_as_stored(y);
    const memory::desc want = layout_md(y.shape(), ys.layout);
    const memory diff = ex.convert(ex.read(dy), want);
    const memory input = x.defined() ? ex.convert(ex.read(x), want) : memory();
    context().stream().wait();
    const std::int64_t c = y.shape()[1];
    // As for the forward's y: 16-channel blocks only, where bf16 is supported.
    const bool dx_bf16 = bf16_dx && ys.layout == Layout::nChw16c && bf16_supported();
    BatchNormGrads g{ex.output_in(DNNL_ARG_DIFF_SRC, y.shape(), ys.layout, dx_bf16 ? dt::bf16 : dt::f32),
                     Tensor::empty({c}, core::DType::f32), Tensor::empty({c}, core::DType::f32)};
    if (context().plan_only()) return g;
    const auto run = [&]<class Y, class D>(const Y* stored, D* dx) {
      kernels::bn_leaky_backward<float, Y, D>(channel_view(y.shape(), ys.layout), floats(diff), stored,
                                              x.defined() ? floats(input) : nullptr, weight.data<float>(),
                                              bias.data<float>(), mean.data<float>(), var.data<float>(), eps, slope,
                                              dx, g.dweight.mutable_data<float>(), g.dbias.mutable_data<float>());
    };
    const void* stored = ys.mem.get_data_handle();
    void* dx = ex.arg(DNNL_ARG_DIFF_SRC).get_data_handle();
    const auto with_dx = [&]<class Y>(const Y* stored_y) {
      if (dx_bf16) {
        run(stored_y, static_cast<kernels::Bf16Bits*>(dx));
      } else {
        run(stored_y, static_cast<float*>(dx));
      }
    };
    if (ys.mem.get_desc().data_type() == dt::bf16) {
      with_dx(static_cast<const kernels::Bf16Bits*>(stored));
    } else {
      with_dx(static_cast<const float*>(stored));
    }
    return g;
  }, dy, y, x, weight);
}

}  // namespace ops::backend
