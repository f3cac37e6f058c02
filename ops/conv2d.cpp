// conv2d: validation, the float64 reference kernels (plain loops, short and
// obviously right), the dispatch to oneDNN for float32, and the tape entry.
#include "ops/conv2d.h"

#include <fmt/format.h>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

using core::DType;
using core::Shape;

namespace {

// One indexing helper for the reference loops: geometry of a call.
struct Geometry {
  std::int64_t N, C, H, W, OC, KH, KW, OH, OW, G, Cg, OCg;
  Conv2dParams p;
  Geometry(const Shape& x, const Shape& w, const Conv2dParams& params) : p(params) {
    N = x[0], C = x[1], H = x[2], W = x[3];
    OC = w[0], KH = w[2], KW = w[3];
    G = p.groups, Cg = C / G, OCg = OC / G;
    OH = (H + 2 * p.pad - ((KH - 1) * p.dilation + 1)) / p.stride + 1;
    OW = (W + 2 * p.pad - ((KW - 1) * p.dilation + 1)) / p.stride + 1;
  }
  // Visits every (output pixel, kernel tap) pair whose input pixel is inside
  // the image: f(x index, w index, y index). Padding contributes zero, so
  // skipping it is the zero padding.
  template <class F>
  void for_each_tap(F&& f) const {
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t oc = 0; oc < OC; ++oc) {
        const std::int64_t g = oc / OCg;
        for (std::int64_t ic = 0; ic < Cg; ++ic)
          for (std::int64_t kh = 0; kh < KH; ++kh)
            for (std::int64_t kw = 0; kw < KW; ++kw) {
              const std::int64_t wi = ((oc * Cg + ic) * KH + kh) * KW + kw;
              const std::int64_t xc = (n * C + g * Cg + ic) * H;
              for (std::int64_t oh = 0; oh < OH; ++oh) {
                const std::int64_t ih = oh * p.stride - p.pad + kh * p.dilation;
                if (ih < 0 || ih >= H) continue;
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                  const std::int64_t iw = ow * p.stride - p.pad + kw * p.dilation;
                  if (iw < 0 || iw >= W) continue;
                  f((xc + ih) * W + iw, wi, ((n * OC + oc) * OH + oh) * OW + ow);
                }
              }
            }
      }
  }
};

template <class T>
Tensor reference_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  const Geometry g(x.shape(), w.shape(), p);
  Tensor y = Tensor::empty({g.N, g.OC, g.OH, g.OW}, x.dtype());
  T* py = y.mutable_data<T>();
  const std::int64_t plane = g.OH * g.OW;
  for (std::int64_t n = 0; n < g.N; ++n)
    for (std::int64_t oc = 0; oc < g.OC; ++oc)
      for (std::int64_t i = 0; i < plane; ++i) py[(n * g.OC + oc) * plane + i] = b.defined() ? b.data<T>()[oc] : T(0);
  const T* px = x.data<T>();
  const T* pw = w.data<T>();
  g.for_each_tap([&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { py[yi] += px[xi] * pw[wi]; });
  return y;
}

template <class T>
Tensor reference_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Conv2dParams& p) {
  const Geometry g(x_shape, w.shape(), p);
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  T* pdx = dx.mutable_data<T>();
  const T* pdy = dy.data<T>();
  const T* pw = w.data<T>();
  g.for_each_tap([&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { pdx[xi] += pw[wi] * pdy[yi]; });
  return dx;
}

template <class T>
Conv2dWeightGrads reference_backward_weights(const Tensor& dy, const Tensor& x, const Shape& w_shape,
                                             const Conv2dParams& p, bool with_bias) {
  const Geometry g(x.shape(), w_shape, p);
  Conv2dWeightGrads r;
  r.dw = Tensor::zeros(w_shape, dy.dtype());
  T* pdw = r.dw.mutable_data<T>();
  const T* pdy = dy.data<T>();
  const T* px = x.data<T>();
  g.for_each_tap([&](std::int64_t xi, std::int64_t wi, std::int64_t yi) { pdw[wi] += px[xi] * pdy[yi]; });
  if (with_bias) {
    r.db = Tensor::zeros({g.OC}, dy.dtype());
    T* pdb = r.db.mutable_data<T>();
    const std::int64_t plane = g.OH * g.OW;
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t oc = 0; oc < g.OC; ++oc)
        for (std::int64_t i = 0; i < plane; ++i) pdb[oc] += pdy[(n * g.OC + oc) * plane + i];
  }
  return r;
}

}  // namespace

backend::ConvSpec conv2d_spec(const Conv2dParams& p) { return {p.stride, p.pad, p.dilation, p.groups, p.bf16}; }

Shape conv2d_check(const char* op, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  core::check_floating(op, "x", x);
  core::check_floating(op, "w", w);
  core::check_same_dtype(op, x, w);
  core::check_rank(op, "x", x.shape(), 4);
  core::check_rank(op, "w", w.shape(), 4);
  const auto shapes = [&] {
    return fmt::format("x {}, w {}{}", core::shape_str(x.shape()), core::shape_str(w.shape()),
                       b.defined() ? ", b " + core::shape_str(b.shape()) : "");
  };
  if (p.stride < 1) throw core::ValueError(fmt::format("{}: stride must be >= 1, got {} ({})", op, p.stride, shapes()));
  if (p.pad < 0) throw core::ValueError(fmt::format("{}: pad must be >= 0, got {} ({})", op, p.pad, shapes()));
  if (p.dilation < 1) {
    throw core::ValueError(fmt::format("{}: dilation must be >= 1, got {} ({})", op, p.dilation, shapes()));
  }
  if (p.groups < 1) throw core::ValueError(fmt::format("{}: groups must be >= 1, got {} ({})", op, p.groups, shapes()));
  const std::int64_t C = x.shape()[1], OC = w.shape()[0];
  if (C % p.groups != 0 || OC % p.groups != 0) {
    throw core::ShapeError(fmt::format("{}: groups={} must divide the input channels {} and the output channels {} ({})",
                                       op, p.groups, C, OC, shapes()));
  }
  if (w.shape()[1] * p.groups != C) {
    throw core::ShapeError(fmt::format("{}: input has {} channels, weight expects {} (x {} channels / groups {} = {} per "
                                       "group, w has {}; {})",
                                       op, C, w.shape()[1] * p.groups, C, p.groups, C / p.groups, w.shape()[1],
                                       shapes()));
  }
  if (b.defined()) {
    core::check_same_dtype(op, x, b);
    if (b.dim() != 1 || b.shape()[0] != OC) {
      throw core::ShapeError(fmt::format("{}: bias must have shape [{}] ({})", op, OC, shapes()));
    }
  }
  for (int axis = 2; axis < 4; ++axis) {
    const std::int64_t extent = (w.shape()[axis] - 1) * p.dilation + 1;
    const std::int64_t padded = x.shape()[axis] + 2 * p.pad;
    if (w.shape()[axis] < 1 || extent > padded) {
      throw core::ShapeError(fmt::format("{}: kernel extent {} (dilation {}) is larger than the padded input {} on {} "
                                         "({})",
                                         op, extent, p.dilation, padded, axis == 2 ? "H" : "W", shapes()));
    }
  }
  const Geometry g(x.shape(), w.shape(), p);
  return {g.N, g.OC, g.OH, g.OW};
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  if (x.dtype() == DType::f32) return backend::conv2d_forward(x, w, b, conv2d_spec(p), true);
  return reference_forward<double>(x, w, b, p);
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape, const Conv2dParams& p) {
  if (dy.dtype() == DType::f32) return backend::conv2d_backward_data(dy, w, x_shape, conv2d_spec(p));
  return reference_backward_data<double>(dy, w, x_shape, p);
}

Conv2dWeightGrads conv2d_backward_weights(const Tensor& dy, const Tensor& x, const Shape& w_shape,
                                          const Conv2dParams& p, bool with_bias) {
  if (dy.dtype() == DType::f32) {
    auto g = backend::conv2d_backward_weights(x, dy, w_shape, conv2d_spec(p), with_bias);
    return {g.dw, g.db};
  }
  return reference_backward_weights<double>(dy, x, w_shape, p, with_bias);
}

namespace {

// The tape's backward of conv2d: gradients to x, w and b, as asked. saved
// holds x (when w or b want a gradient; under bf16 possibly x as the forward
// converted it) and w (when x does).
std::vector<Tensor> conv2d_grads(const core::BackwardContext& ctx, const Conv2dParams& p, const Shape& xs,
                                 const Shape& ws) {
  const Tensor& dy = ctx.grad_outputs[0];
  const bool wants_dx = ctx.needs_grad[0], wants_dwb = ctx.needs_grad[1] || ctx.needs_grad[2];
  std::vector<Tensor> grads(3);
  if (wants_dx && wants_dwb && dy.dtype() == DType::f32) {
    auto g = backend::conv2d_backward(dy, ctx.saved[0], ctx.saved[1], conv2d_spec(p), ctx.needs_grad[2]);
    grads[0] = std::move(g.dx);
    if (ctx.needs_grad[1]) grads[1] = std::move(g.dw);
    grads[2] = std::move(g.db);
    return grads;
  }
  if (wants_dx) grads[0] = conv2d_backward_data(dy, ctx.saved[1], xs, p);
  if (wants_dwb) {
    auto g = conv2d_backward_weights(dy, ctx.saved[0], ws, p, ctx.needs_grad[2]);
    if (ctx.needs_grad[1]) grads[1] = g.dw;
    grads[2] = g.db;
  }
  return grads;
}

}  // namespace

Tensor conv2d(Tape& tape, const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  conv2d_check("conv2d", x, w, b, p);
  // backward_data reads only w, backward_weights only x: save what is needed.
  const bool wants_x = x.requires_grad();
  const bool wants_wb = w.requires_grad() || (b.defined() && b.requires_grad());
  // Under bf16, where the convolution reads 16-channel blocks, the weight
  // gradient reads x as the forward converted it (backend::conv2d_forward's
  // x_as_read): saved so, it is not converted twice, and a float32 x read by
  // nothing else later (a shortcut's sum) is freed after the forward.
  Tensor x_as_read;
  const bool keep_converted = wants_wb && p.bf16 && x.dtype() == DType::f32 && tape.should_record({x, w, b});
  Tensor y = keep_converted ? backend::conv2d_forward(x, w, b, conv2d_spec(p), true, {}, &x_as_read)
                            : conv2d_forward(x, w, b, p);
  const Tensor& x_saved = x_as_read.defined() ? x_as_read : x;
  tape.record("conv2d", {x, w, b}, {y}, {wants_wb ? x_saved : Tensor(), wants_x ? w : Tensor()},
              [p, xs = x.shape(), ws = w.shape()](const core::BackwardContext& ctx) {
                return conv2d_grads(ctx, p, xs, ws);
              });
  return y;
}

void register_conv2d(OpRegistry& r) {
  r.add({"conv2d",
         "2-D cross-correlation of x [N,C,H,W] with w [OC,C/groups,KH,KW] plus optional b [OC]; "
         "pad is zero padding on every side",
         {{"x"}, {"w"}, {"b", InputKind::differentiable, true, "bias [OC]"}},
         false,
         {"y"},
         {{"stride", AttrType::integer, AttrValue(std::int64_t{1}), "step on H and W"},
          {"pad", AttrType::integer, AttrValue(std::int64_t{0}), "zero padding in pixels on every side"},
          {"dilation", AttrType::integer, AttrValue(std::int64_t{1}), "spacing of kernel taps"},
          {"groups", AttrType::integer, AttrValue(std::int64_t{1}), "channel groups; must divide C and OC"}},
         [](Tape& t, const OpCall& c) -> NamedTensors {
           const auto b = c.inputs.find("b");
           const Conv2dParams p{c.attrs.get_int("stride"), c.attrs.get_int("pad"), c.attrs.get_int("dilation"),
                                c.attrs.get_int("groups")};
           return {{"y", conv2d(t, c.inputs.at("x"), c.inputs.at("w"), b == c.inputs.end() ? Tensor() : b->second,
                                p)}};
         }});
}

}  // namespace ops
