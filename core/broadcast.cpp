#include "core/broadcast.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace core {

namespace {

// Strides of `from` laid against the larger shape `to`: 0 where from has a
// size-1 (or missing) dimension that `to` stretches.
std::vector<std::int64_t> broadcast_strides(const Shape& from, const Shape& to) {
  const auto st = contiguous_strides(from);
  std::vector<std::int64_t> out(to.size(), 0);
  const std::size_t lead = to.size() - from.size();
  for (std::size_t i = 0; i < from.size(); ++i) out[lead + i] = from[i] == 1 ? 0 : st[i];
  return out;
}

template <class T>
void expand(const T* src, T* dst, const Shape& to, const std::vector<std::int64_t>& src_strides) {
  const std::int64_t n = shape_numel(to);
  const int rank = static_cast<int>(to.size());
  if (rank == 0) {
    if (n) dst[0] = src[0];
    return;
  }
  std::vector<std::int64_t> idx(rank, 0);
  const std::int64_t inner = to[rank - 1];
  const std::int64_t inner_stride = src_strides[rank - 1];
  std::int64_t src_off = 0;
  for (std::int64_t o = 0; o < n; o += inner) {
    for (std::int64_t j = 0; j < inner; ++j) dst[o + j] = src[src_off + j * inner_stride];
    for (int d = rank - 2; d >= 0; --d) {
      src_off += src_strides[d];
      if (++idx[d] < to[d]) break;
      src_off -= src_strides[d] * to[d];
      idx[d] = 0;
    }
  }
}

template <class T>
void reduce(const T* src, T* dst, const Shape& from, const std::vector<std::int64_t>& dst_strides,
            std::int64_t dst_numel) {
  std::vector<double> acc(static_cast<std::size_t>(dst_numel), 0.0);
  const std::int64_t n = shape_numel(from);
  const int rank = static_cast<int>(from.size());
  if (rank == 0) {
    if (n) dst[0] = src[0];
    return;
  }
  std::vector<std::int64_t> idx(rank, 0);
  const std::int64_t inner = from[rank - 1];
  const std::int64_t inner_stride = dst_strides[rank - 1];
  std::int64_t dst_off = 0;
  for (std::int64_t o = 0; o < n; o += inner) {
    for (std::int64_t j = 0; j < inner; ++j) acc[dst_off + j * inner_stride] += src[o + j];
    for (int d = rank - 2; d >= 0; --d) {
      dst_off += dst_strides[d];
      if (++idx[d] < from[d]) break;
      dst_off -= dst_strides[d] * from[d];
      idx[d] = 0;
    }
  }
  for (std::int64_t i = 0; i < dst_numel; ++i) dst[i] = static_cast<T>(acc[i]);
}

template <class Fn>
void dispatch_all(DType t, Fn&& fn) {
  if (t == DType::i32) fn.template operator()<std::int32_t>();
  else dispatch_floating(t, fn);
}

}  // namespace

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (broadcast_shapes("broadcast_to", x.shape(), shape) != shape) {
    throw ShapeError(fmt::format("broadcast_to: {} cannot be expanded to {}", x.describe(), shape_str(shape)));
  }
  if (x.shape() == shape) return x;
  Tensor out = Tensor::empty(shape, x.dtype());
  const auto strides = broadcast_strides(x.shape(), shape);
  dispatch_all(x.dtype(), [&]<class T>() { expand(x.data<T>(), out.mutable_data<T>(), shape, strides); });
  return out;
}

Tensor sum_to_shape(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  if (broadcast_shapes("sum_to_shape", shape, g.shape()) != g.shape()) {
    throw ShapeError(fmt::format("sum_to_shape: gradient {} cannot be reduced to shape {}", g.describe(),
                                 shape_str(shape)));
  }
  Tensor out = Tensor::empty(shape, g.dtype());
  const auto strides = broadcast_strides(shape, g.shape());
  dispatch_all(g.dtype(), [&]<class T>() {
    reduce(g.data<T>(), out.mutable_data<T>(), g.shape(), strides, out.numel());
  });
  return out;
}

Tensor sum_axes(const Tensor& x, std::span<const int> axes, bool keepdim) {
  Shape kept = x.shape();
  for (int a : axes) kept[a] = 1;
  Tensor out = sum_to_shape(x, kept);
  if (keepdim) return out;
  Shape squeezed;
  for (int i = 0; i < x.dim(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) squeezed.push_back(x.shape()[i]);
  }
  return out.shares_storage(x) ? out.clone().view(squeezed) : out.view(squeezed);
}

Tensor add_same_shape(const Tensor& a, const Tensor& b) {
  check_same_shape("add_same_shape", a, b);
  check_same_dtype("add_same_shape", a, b);
  // Both still in a backend's layout (gradients at a fan-out): let it add there.
  if (const auto pa = a.physical_layout(), pb = b.physical_layout(); pa && pb) {
    if (auto sum = pa->sum_with(*pb, a.shape())) return Tensor::from_physical(a.shape(), a.dtype(), std::move(sum));
  }
  Tensor out = a.clone();
  add_inplace(out, b);
  return out;
}

void add_inplace(const Tensor& a, const Tensor& b) {
  check_same_shape("add_inplace", a, b);
  check_same_dtype("add_inplace", a, b);
  dispatch_all(a.dtype(), [&]<class T>() {
    const T* src = b.data<T>();
    T* dst = a.mutable_data<T>();
    for (std::int64_t i = 0, n = a.numel(); i < n; ++i) dst[i] += src[i];
  });
}

}  // namespace core
