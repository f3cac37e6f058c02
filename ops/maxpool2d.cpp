// maxpool2d: float64 loops (the oracle), float32 through oneDNN.
#include "ops/maxpool2d.h"

#include <fmt/format.h>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

namespace {

std::int64_t out_size(std::int64_t in, const MaxPool2dParams& p) {
  return (in + p.pad_begin + p.pad_end - p.kernel) / p.stride + 1;
}

}  // namespace

MaxPool2dForward maxpool2d_forward(const Tensor& x, const MaxPool2dParams& p, bool training) {
  if (x.dtype() == core::DType::f32) {
    return backend::maxpool_forward(x, p, training);
  }
  const core::Shape& s = x.shape();
  const std::int64_t H = s[2], W = s[3], OH = out_size(H, p), OW = out_size(W, p);
  MaxPool2dForward r{Tensor::empty({s[0], s[1], OH, OW}, x.dtype()), Tensor::empty({s[0], s[1], OH, OW}, core::DType::i32)};
  const double* px = x.data<double>();
  double* py = r.y.mutable_data<double>();
  std::int32_t* pi = r.indices.mutable_data<std::int32_t>();
  for (std::int64_t nc = 0; nc < s[0] * s[1]; ++nc)
    for (std::int64_t oh = 0; oh < OH; ++oh)
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        std::int64_t best = -1;
        for (std::int64_t kh = 0; kh < p.kernel; ++kh) {
          const std::int64_t ih = oh * p.stride - p.pad_begin + kh;
          if (ih < 0 || ih >= H) continue;
          for (std::int64_t kw = 0; kw < p.kernel; ++kw) {
            const std::int64_t iw = ow * p.stride - p.pad_begin + kw;
            if (iw < 0 || iw >= W) continue;
            const std::int64_t at = ih * W + iw;
            // Strict > keeps the first of equal values.
            if (best < 0 || px[nc * H * W + at] > px[nc * H * W + best]) best = at;
          }
        }
        const std::int64_t o = (nc * OH + oh) * OW + ow;
        py[o] = px[nc * H * W + best];
        pi[o] = static_cast<std::int32_t>(best);
      }
  return r;
}

Tensor maxpool2d_backward(const Tensor& dy, const Tensor& indices, const core::Shape& x_shape,
                          const MaxPool2dParams& p) {
  if (dy.dtype() == core::DType::f32) return backend::maxpool_backward(dy, indices, x_shape, p);
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  const std::int64_t plane_in = x_shape[2] * x_shape[3];
  const std::int64_t plane_out = dy.shape()[2] * dy.shape()[3];
  const double* pdy = dy.data<double>();
  const std::int32_t* pi = indices.data<std::int32_t>();
  double* pdx = dx.mutable_data<double>();
  for (std::int64_t nc = 0; nc < x_shape[0] * x_shape[1]; ++nc)
    for (std::int64_t o = 0; o < plane_out; ++o) pdx[nc * plane_in + pi[nc * plane_out + o]] += pdy[nc * plane_out + o];
  return dx;
}

Tensor maxpool2d(Tape& tape, const Tensor& x, const MaxPool2dParams& p) {
  core::check_floating("maxpool2d", "x", x);
  core::check_rank("maxpool2d", "x", x.shape(), 4);
  const auto fail = [&](const std::string& why) {
    return core::ValueError(fmt::format("maxpool2d: {} (kernel={} stride={} pad_begin={} pad_end={}, x {})", why,
                                        p.kernel, p.stride, p.pad_begin, p.pad_end, x.describe()));
  };
  if (p.kernel < 1) throw fail("kernel must be >= 1");
  if (p.stride < 1) throw fail("stride must be >= 1");
  if (p.pad_begin < 0 || p.pad_end < 0) throw fail("padding must be >= 0");
  if (p.pad_begin >= p.kernel || p.pad_end >= p.kernel) throw fail("padding must be smaller than the kernel");
  for (int axis = 2; axis < 4; ++axis) {
    if (x.shape()[axis] + p.pad_begin + p.pad_end < p.kernel) {
      throw core::ShapeError(fmt::format("maxpool2d: kernel {} is larger than the padded input {} on {} (x {})",
                                         p.kernel, x.shape()[axis] + p.pad_begin + p.pad_end, axis == 2 ? "H" : "W",
                                         x.describe()));
    }
  }
  const bool training = tape.should_record({x});
  MaxPool2dForward f = maxpool2d_forward(x, p, training);
  tape.record("maxpool2d", {x}, {f.y}, {f.indices}, [p, xs = x.shape()](const core::BackwardContext& ctx) {
    return std::vector<Tensor>{maxpool2d_backward(ctx.grad_outputs[0], ctx.saved[0], xs, p)};
  });
  return f.y;
}

void register_maxpool2d(OpRegistry& r) {
  r.add({"maxpool2d",
         "max pooling of x [N,C,H,W] on H and W; padding is never selected; ties go to the first index",
         {{"x"}},
         false,
         {"y"},
         {{"kernel", AttrType::integer, std::nullopt, "window size on H and W"},
          {"stride", AttrType::integer, std::nullopt, "step on H and W"},
          {"pad_begin", AttrType::integer, AttrValue(std::int64_t{0}), "padding before the first row/column"},
          {"pad_end", AttrType::integer, AttrValue(std::int64_t{0}), "padding after the last row/column"}},
         [](Tape& t, const OpCall& c) -> NamedTensors {
           const MaxPool2dParams p{c.attrs.get_int("kernel"), c.attrs.get_int("stride"), c.attrs.get_int("pad_begin"),
                                   c.attrs.get_int("pad_end")};
           return {{"y", maxpool2d(t, c.inputs.at("x"), p)}};
         }});
}

}  // namespace ops
