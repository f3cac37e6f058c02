// sum and mean share one implementation: mean is sum scaled by 1/count, and
// both backward passes broadcast the (scaled) gradient back over the axes.
#include "ops/reduce.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/broadcast.h"
#include "core/error.h"
#include "ops/binary.h"
#include "ops/registrations.h"

namespace ops {

namespace {

std::vector<int> resolve_axes(const char* op, const Tensor& x, const std::vector<std::int64_t>& axes) {
  std::vector<int> out;
  if (axes.empty()) {
    for (int i = 0; i < x.dim(); ++i) out.push_back(i);
    return out;
  }
  for (auto a : axes) {
    const int n = core::normalize_axis(op, a, x.dim(), x.shape());
    if (std::find(out.begin(), out.end(), n) != out.end()) {
      throw core::ShapeError(fmt::format("{}: axis {} is repeated (shape {})", op, a, core::shape_str(x.shape())));
    }
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Tensor reduce(Tape& tape, const char* op, const Tensor& x, const ReduceParams& p, bool average) {
  core::check_floating(op, "x", x);
  const std::vector<int> axes = resolve_axes(op, x, p.axes);
  std::int64_t count = 1;
  core::Shape kept = x.shape();
  for (int a : axes) {
    count *= x.shape()[a];
    kept[a] = 1;
  }
  const double scale = average ? 1.0 / static_cast<double>(count) : 1.0;
  Tensor y = core::sum_axes(x, axes, p.keepdim);
  if (y.shares_storage(x)) y = y.clone();
  if (average) y = binary_forward(BinaryKind::mul, y, Tensor::scalar(scale, x.dtype()));
  tape.record(op, {x}, {y}, {}, [scale, kept, xs = x.shape(), average](const core::BackwardContext& ctx) {
    Tensor g = ctx.grad_outputs[0].view(kept);
    if (average) g = binary_forward(BinaryKind::mul, g, Tensor::scalar(scale, g.dtype()));
    return std::vector<Tensor>{core::broadcast_to(g, xs).clone()};
  });
  return y;
}

}  // namespace

Tensor sum(Tape& tape, const Tensor& x, const ReduceParams& p) { return reduce(tape, "sum", x, p, false); }
Tensor mean(Tape& tape, const Tensor& x, const ReduceParams& p) { return reduce(tape, "mean", x, p, true); }

namespace {

std::vector<AttrSpec> reduce_attrs() {
  return {{"axes", AttrType::int_list, AttrValue(std::vector<std::int64_t>{}), "axes to reduce; empty = all"},
          {"keepdim", AttrType::boolean, AttrValue(false), "keep reduced axes with size 1"}};
}

ReduceParams reduce_params(const Attrs& a) { return {a.get_ints("axes"), a.get_bool("keepdim")}; }

}  // namespace

void register_reduce(OpRegistry& r) {
  r.add(unary_with_attrs("sum", "sum over axes", reduce_attrs(),
                         [](Tape& t, const Tensor& x, const Attrs& a) { return sum(t, x, reduce_params(a)); }));
  r.add(unary_with_attrs("mean", "mean over axes", reduce_attrs(),
                         [](Tape& t, const Tensor& x, const Attrs& a) { return mean(t, x, reduce_params(a)); }));
}

}  // namespace ops
