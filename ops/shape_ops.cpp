#include "ops/shape_ops.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

using core::Shape;
using core::ShapeError;

namespace {

// Copies an [outer, inner] block layout: for each of `outer` rows, `count`
// bytes from src (row pitch src_pitch) to dst (row pitch dst_pitch).
void copy_rows(const char* src, std::size_t src_pitch, char* dst, std::size_t dst_pitch, std::int64_t outer,
               std::size_t count) {
  for (std::int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * dst_pitch, src + o * src_pitch, count);
}

std::int64_t outer_size(const Shape& s, int axis) {
  std::int64_t n = 1;
  for (int i = 0; i < axis; ++i) n *= s[i];
  return n;
}

std::int64_t inner_size(const Shape& s, int axis) {
  std::int64_t n = 1;
  for (std::size_t i = axis + 1; i < s.size(); ++i) n *= s[i];
  return n;
}

Tensor permute_kernel(const Tensor& x, const std::vector<int>& dims) {
  const int rank = x.dim();
  Shape out_shape(rank);
  const auto in_strides = core::contiguous_strides(x.shape());
  std::vector<std::int64_t> strides(rank);
  for (int i = 0; i < rank; ++i) {
    out_shape[i] = x.shape()[dims[i]];
    strides[i] = in_strides[dims[i]];
  }
  Tensor y = Tensor::empty(out_shape, x.dtype());
  const std::size_t es = core::dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(y.mutable_raw_data());
  std::vector<std::int64_t> idx(rank, 0);
  std::int64_t off = 0;
  for (std::int64_t o = 0, n = y.numel(); o < n; ++o) {
    std::memcpy(dst + o * es, src + off * es, es);
    for (int d = rank - 1; d >= 0; --d) {
      off += strides[d];
      if (++idx[d] < out_shape[d]) break;
      off -= strides[d] * out_shape[d];
      idx[d] = 0;
    }
  }
  return y;
}

}  // namespace

Tensor reshape(Tape& tape, const Tensor& x, const Shape& shape) {
  Shape target = shape;
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (infer >= 0) throw ShapeError(fmt::format("reshape: more than one -1 in {}", core::shape_str(shape)));
      infer = static_cast<int>(i);
    } else if (target[i] < 0) {
      throw ShapeError(fmt::format("reshape: negative dimension in {}", core::shape_str(shape)));
    } else {
      known *= target[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0) {
      throw ShapeError(fmt::format("reshape: cannot reshape {} into {}", x.describe(), core::shape_str(shape)));
    }
    target[infer] = x.numel() / known;
  }
  if (core::shape_numel(target) != x.numel()) {
    throw ShapeError(fmt::format("reshape: cannot reshape {} ({} elements) into {} ({} elements)", x.describe(),
                                 x.numel(), core::shape_str(shape), core::shape_numel(target)));
  }
  Tensor y = x.view(target);
  tape.record("reshape", {x}, {y}, {}, [xs = x.shape()](const core::BackwardContext& ctx) {
    return std::vector<Tensor>{ctx.grad_outputs[0].view(xs)};
  });
  return y;
}

Tensor permute(Tape& tape, const Tensor& x, const std::vector<std::int64_t>& dims) {
  if (static_cast<int>(dims.size()) != x.dim()) {
    throw ShapeError(fmt::format("permute: {} axes given for a tensor of rank {} ({})", dims.size(), x.dim(),
                                 x.describe()));
  }
  std::vector<int> d(dims.size());
  std::vector<int> inverse(dims.size(), -1);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    d[i] = core::normalize_axis("permute", dims[i], x.dim(), x.shape());
    if (inverse[d[i]] >= 0) {
      throw ShapeError(fmt::format("permute: [{}] is not a permutation of the axes of {}", fmt::join(dims, ","),
                                   x.describe()));
    }
    inverse[d[i]] = static_cast<int>(i);
  }
  Tensor y = permute_kernel(x, d);
  tape.record("permute", {x}, {y}, {}, [inverse](const core::BackwardContext& ctx) {
    return std::vector<Tensor>{permute_kernel(ctx.grad_outputs[0], inverse)};
  });
  return y;
}

Tensor transpose(Tape& tape, const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
  const int a = core::normalize_axis("transpose", dim0, x.dim(), x.shape());
  const int b = core::normalize_axis("transpose", dim1, x.dim(), x.shape());
  std::vector<std::int64_t> dims(x.dim());
  for (int i = 0; i < x.dim(); ++i) dims[i] = i;
  std::swap(dims[a], dims[b]);
  return permute(tape, x, dims);
}

Tensor slice(Tape& tape, const Tensor& x, const SliceParams& p) {
  const int axis = core::normalize_axis("slice", p.axis, x.dim(), x.shape());
  const std::int64_t size = x.shape()[axis];
  const std::int64_t start = p.start < 0 ? p.start + size : p.start;
  const std::int64_t end = p.end < 0 ? p.end + size : p.end;
  if (start < 0 || end > size || start > end) {
    throw ShapeError(fmt::format("slice: range [{}, {}) is out of bounds for axis {} of size {} ({})", p.start, p.end,
                                 p.axis, size, x.describe()));
  }
  Shape ys = x.shape();
  ys[axis] = end - start;
  Tensor y = Tensor::empty(ys, x.dtype());
  const std::size_t row = static_cast<std::size_t>(inner_size(x.shape(), axis)) * core::dtype_size(x.dtype());
  const std::int64_t outer = outer_size(x.shape(), axis);
  copy_rows(static_cast<const char*>(x.raw_data()) + start * row, size * row, static_cast<char*>(y.mutable_raw_data()),
            ys[axis] * row, outer, ys[axis] * row);
  tape.record("slice", {x}, {y}, {}, [xs = x.shape(), axis, start, row, outer](const core::BackwardContext& ctx) {
    const Tensor& g = ctx.grad_outputs[0];
    Tensor dx = Tensor::zeros(xs, g.dtype());
    const std::int64_t n = g.shape()[axis];
    copy_rows(static_cast<const char*>(g.raw_data()), n * row, static_cast<char*>(dx.mutable_raw_data()) + start * row,
              xs[axis] * row, outer, n * row);
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor concat(Tape& tape, const std::vector<Tensor>& xs, std::int64_t axis_in) {
  if (xs.empty()) throw ShapeError("concat: no inputs");
  const Tensor& first = xs[0];
  const int axis = core::normalize_axis("concat", axis_in, first.dim(), first.shape());
  Shape ys = first.shape();
  ys[axis] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    core::check_same_dtype("concat", first, xs[i]);
    bool ok = xs[i].dim() == first.dim();
    for (int d = 0; ok && d < first.dim(); ++d) ok = d == axis || xs[i].shape()[d] == first.shape()[d];
    if (!ok) {
      throw ShapeError(fmt::format("concat: input x{} {} does not match x0 {} outside axis {}", i, xs[i].describe(),
                                   first.describe(), axis_in));
    }
    ys[axis] += xs[i].shape()[axis];
  }
  // The network's route layers join float32 NCHW tensors on channels: oneDNN.
  const bool dnnl_path = first.dtype() == core::DType::f32 && first.dim() == 4 && axis == 1;
  Tensor y = dnnl_path ? backend::concat_forward(xs, axis) : Tensor::empty(ys, first.dtype());
  const std::size_t unit = static_cast<std::size_t>(inner_size(ys, axis)) * core::dtype_size(first.dtype());
  const std::int64_t outer = outer_size(ys, axis);
  std::vector<std::int64_t> offsets;
  std::int64_t at = 0;
  for (const auto& x : xs) {
    offsets.push_back(at);
    const std::int64_t n = x.shape()[axis];
    if (!dnnl_path) {
      copy_rows(static_cast<const char*>(x.raw_data()), n * unit, static_cast<char*>(y.mutable_raw_data()) + at * unit,
                ys[axis] * unit, outer, n * unit);
    }
    at += n;
  }
  std::vector<Shape> shapes;
  for (const auto& x : xs) shapes.push_back(x.shape());
  tape.record("concat", xs, {y}, {},
              [shapes, offsets, axis, unit, outer, total = ys[axis], dnnl_path](const core::BackwardContext& ctx) {
                const Tensor& g = ctx.grad_outputs[0];
                if (dnnl_path) {
                  std::vector<Tensor> grads = backend::concat_backward(g, shapes, axis);
                  for (std::size_t i = 0; i < grads.size(); ++i) {
                    if (!ctx.needs_grad[i]) grads[i] = Tensor();
                  }
                  return grads;
                }
                std::vector<Tensor> grads(shapes.size());
                for (std::size_t i = 0; i < shapes.size(); ++i) {
                  if (!ctx.needs_grad[i]) continue;
                  grads[i] = Tensor::empty(shapes[i], g.dtype());
                  const std::int64_t n = shapes[i][axis];
                  copy_rows(static_cast<const char*>(g.raw_data()) + offsets[i] * unit, total * unit,
                            static_cast<char*>(grads[i].mutable_raw_data()), n * unit, outer, n * unit);
                }
                return grads;
              });
  return y;
}

void register_shape_ops(OpRegistry& r) {
  r.add(unary_with_attrs("reshape", "same data, new shape (one -1 allowed)",
                         {{"shape", AttrType::int_list, std::nullopt, "target shape"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) { return reshape(t, x, a.get_ints("shape")); }));
  r.add(unary_with_attrs("permute", "reorder axes: y.shape[i] = x.shape[dims[i]]",
                         {{"dims", AttrType::int_list, std::nullopt, "a permutation of the axes"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) { return permute(t, x, a.get_ints("dims")); }));
  r.add(unary_with_attrs("transpose", "swap two axes",
                         {{"dim0", AttrType::integer, std::nullopt, "first axis"},
                          {"dim1", AttrType::integer, std::nullopt, "second axis"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) {
                           return transpose(t, x, a.get_int("dim0"), a.get_int("dim1"));
                         }));
  r.add(unary_with_attrs("slice", "elements [start, end) along axis (negative values count from the end)",
                         {{"axis", AttrType::integer, AttrValue(std::int64_t{0}), "axis to slice"},
                          {"start", AttrType::integer, AttrValue(std::int64_t{0}), "first index"},
                          {"end", AttrType::integer, std::nullopt, "one past the last index"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) {
                           return slice(t, x, {a.get_int("axis"), a.get_int("start"), a.get_int("end")});
                         }));
  r.add({"concat", "join x0, x1, ... along axis", {{"x"}}, true, {"y"},
         {{"axis", AttrType::integer, AttrValue(std::int64_t{1}), "axis to join along"}},
         [](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", concat(t, c.variadic, c.attrs.get_int("axis"))}}; }});
}

}  // namespace ops
