#include "core/shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "core/error.h"

namespace core {

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

std::int64_t shape_numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::optional<std::uint64_t> shape_bytes_within(const Shape& s, std::size_t element_size, std::uint64_t limit) {
  bool empty = false;
  for (auto d : s) {
    if (d < 0) return std::nullopt;
    if (d == 0) empty = true;
  }
  // An empty tensor takes no bytes, but its other dimensions still feed the
  // strides, so they are bounded too (by 4 GiB when the file has less left).
  const std::uint64_t cap = empty ? std::max<std::uint64_t>(limit, std::uint64_t(1) << 32) : limit;
  std::uint64_t bytes = element_size;
  if (bytes > cap) return std::nullopt;
  for (auto d : s) {
    const auto n = static_cast<std::uint64_t>(d == 0 ? 1 : d);
    if (n > cap / bytes) return std::nullopt;  // bytes * n > cap, without overflowing
    bytes *= n;
  }
  return empty ? 0 : bytes;
}

std::vector<std::int64_t> contiguous_strides(const Shape& s) {
  std::vector<std::int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

int normalize_axis(std::string_view op, std::int64_t axis, int rank, const Shape& s) {
  const std::int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    throw ShapeError(fmt::format("{}: axis {} is out of range for a tensor of rank {} (shape {})",
                                 op, axis, rank, shape_str(s)));
  }
  return static_cast<int>(a);
}

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw ShapeError(fmt::format("{}: shapes {} and {} cannot be broadcast together (dimension {} is {} vs {})",
                                   op, shape_str(a), shape_str(b), i, da, db));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void check_rank(std::string_view op, std::string_view what, const Shape& s, int rank) {
  if (static_cast<int>(s.size()) != rank) {
    throw ShapeError(fmt::format("{}: {} must have rank {}, got shape {}", op, what, rank, shape_str(s)));
  }
}

}  // namespace core
