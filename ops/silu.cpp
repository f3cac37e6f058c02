#include "ops/silu.h"

#include <cmath>

#include "core/error.h"
#include "ops/registry.h"

namespace ops {

namespace {

// The float64 reference: plain loops, also the float32 path's test oracle.
Tensor silu_reference(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  core::dispatch_floating(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    for (std::int64_t i = 0; i < x.numel(); ++i) py[i] = px[i] / (1 + std::exp(-px[i]));
  });
  return y;
}

Tensor silu_reference_backward(const Tensor& x, const Tensor& dy) {
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  core::dispatch_floating(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    const T* pg = dy.data<T>();
    T* pd = dx.mutable_data<T>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const T s = 1 / (1 + std::exp(-px[i]));
      pd[i] = pg[i] * s * (1 + px[i] * (1 - s));
    }
  });
  return dx;
}

}  // namespace

Tensor silu(Tape& tape, const Tensor& x) {
  core::check_floating("silu", "x", x);
  const bool on_dnnl = x.dtype() == core::DType::f32;
  Tensor y = on_dnnl ? backend::silu_forward(x) : silu_reference(x);
  tape.record("silu", {x}, {y}, {x}, [on_dnnl](const core::BackwardContext& ctx) {
    const Tensor& saved_x = ctx.saved[0];
    const Tensor& dy = ctx.grad_outputs[0];
    return std::vector<Tensor>{on_dnnl ? backend::silu_backward(saved_x, dy) : silu_reference_backward(saved_x, dy)};
  });
  return y;
}

void register_silu(OpRegistry& r) {
  r.add({"silu", "x * sigmoid(x)", {{"x"}}, false, {"y"}, {},
         [](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", silu(t, c.inputs.at("x"))}}; }});
}

}  // namespace ops
