// upsample_nearest2d: float64 loops (the oracle), float32 through oneDNN.
#include "ops/upsample_nearest2d.h"

#include <fmt/format.h>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

namespace {

// Visits every output element with the index of its source: f(x index, y index).
template <class F>
void for_each_pixel(const core::Shape& xs, std::int64_t f, F&& fn) {
  const std::int64_t H = xs[2], W = xs[3], OH = H * f, OW = W * f;
  for (std::int64_t nc = 0; nc < xs[0] * xs[1]; ++nc)
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow) fn((nc * H + oh / f) * W + ow / f, (nc * OH + oh) * OW + ow);
}

}  // namespace

Tensor upsample_nearest2d_forward(const Tensor& x, std::int64_t factor) {
  if (x.dtype() == core::DType::f32) return backend::upsample_nearest_forward(x, factor);
  const core::Shape& s = x.shape();
  Tensor y = Tensor::empty({s[0], s[1], s[2] * factor, s[3] * factor}, x.dtype());
  const double* px = x.data<double>();
  double* py = y.mutable_data<double>();
  for_each_pixel(s, factor, [&](std::int64_t xi, std::int64_t yi) { py[yi] = px[xi]; });
  return y;
}

Tensor upsample_nearest2d_backward(const Tensor& dy, std::int64_t factor) {
  if (dy.dtype() == core::DType::f32) return backend::upsample_nearest_backward(dy, factor);
  const core::Shape& s = dy.shape();
  const core::Shape xs = {s[0], s[1], s[2] / factor, s[3] / factor};
  Tensor dx = Tensor::zeros(xs, dy.dtype());
  const double* pdy = dy.data<double>();
  double* pdx = dx.mutable_data<double>();
  for_each_pixel(xs, factor, [&](std::int64_t xi, std::int64_t yi) { pdx[xi] += pdy[yi]; });
  return dx;
}

Tensor upsample_nearest2d(Tape& tape, const Tensor& x, const UpsampleNearest2dParams& p) {
  core::check_floating("upsample_nearest2d", "x", x);
  core::check_rank("upsample_nearest2d", "x", x.shape(), 4);
  if (p.factor < 1) {
    throw core::ValueError(fmt::format("upsample_nearest2d: factor must be >= 1, got {} (x {})", p.factor,
                                       x.describe()));
  }
  Tensor y = upsample_nearest2d_forward(x, p.factor);
  tape.record("upsample_nearest2d", {x}, {y}, {}, [f = p.factor](const core::BackwardContext& ctx) {
    return std::vector<Tensor>{upsample_nearest2d_backward(ctx.grad_outputs[0], f)};
  });
  return y;
}

void register_upsample_nearest2d(OpRegistry& r) {
  r.add({"upsample_nearest2d",
         "nearest-neighbour upsampling of x [N,C,H,W] by an integer factor on H and W",
         {{"x"}},
         false,
         {"y"},
         {{"factor", AttrType::integer, AttrValue(std::int64_t{2}), "integer scale on H and W"}},
         [](Tape& t, const OpCall& c) -> NamedTensors {
           return {{"y", upsample_nearest2d(t, c.inputs.at("x"), {c.attrs.get_int("factor")})}};
         }});
}

}  // namespace ops
