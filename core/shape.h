// Shapes and the small checks every op repeats: rank, axis normalisation,
// broadcasting. Errors name the op and print the shapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

using Shape = std::vector<std::int64_t>;

// "[2,3,5]"; a scalar (rank 0) prints as "[]".
std::string shape_str(const Shape& s);

// Product of the dimensions (1 for a scalar).
std::int64_t shape_numel(const Shape& s);
// The same for a shape read from a file: the byte count of its elements
// (numel x element_size), or nothing when a dimension is negative or the
// product exceeds `limit` (the bytes the file has left), so a header cannot
// overflow the product or make the reader allocate what the file lacks.
std::optional<std::uint64_t> shape_bytes_within(const Shape& s, std::size_t element_size, std::uint64_t limit);

// Row-major strides in elements.
std::vector<std::int64_t> contiguous_strides(const Shape& s);

// Maps a possibly negative axis into [0, rank); throws ShapeError naming op.
int normalize_axis(std::string_view op, std::int64_t axis, int rank, const Shape& s);

// NumPy broadcasting of two shapes; throws ShapeError naming op when the
// shapes are incompatible.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// Throws ShapeError naming op unless the rank of s is `rank`.
void check_rank(std::string_view op, std::string_view what, const Shape& s, int rank);

}  // namespace core
