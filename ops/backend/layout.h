// Memory descriptors and the layouts an activation may stay in between ops.
// Internal to the seam: only ops/backend/ and the ops' *_dnnl.cpp files
// include this header (it includes dnnl.hpp).
//
// Layout is a performance decision made once here: the convolution chooses
// (format_tag::any, usually nChw16c on AVX-512) and the ops after it build
// their primitives for that layout, so a chain runs without reorders.
#pragma once

#include <cstdint>
#include <optional>
#include <oneapi/dnnl/dnnl.hpp>

#include "core/tensor.h"

namespace ops::backend {

using core::Shape;
using core::Tensor;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The layouts an activation may stay in between ops. Each is a format tag, so
// any primitive can be built for it with any dims; plain is row-major.
enum class Layout : std::uint8_t { plain, nChw16c, nChw8c, nhwc };

memory::dims to_dims(const Shape& s);
// Row-major tag of a rank (1 to 5).
tag plain_tag(std::size_t rank);

// float32 descriptors: row-major, the primitive's choice; and n values in a
// row (float32 unless told).
memory::desc plain_md(const Shape& s);
memory::desc any_md(const Shape& s);
memory::desc flat_md(std::int64_t n, dt type = dt::f32);
// Descriptor of s in layout l, float32 unless told (bf16 activations, see
// BlockedValues).
memory::desc layout_md(const Shape& s, Layout l, dt type = dt::f32);

// Which of our layouts md is, if any: float32, or bfloat16 in a non-plain
// layout (BlockedValues holds both). A blocked layout counts only when the
// channels fill whole blocks: padded lanes would have to stay zero through
// every elementwise op (they feed the next convolution), so such tensors
// (the 255-channel heads, the 3-channel input) go back to plain instead.
std::optional<Layout> layout_of(const memory::desc& md, const Shape& s);

// Grouped weights are 5-D in oneDNN: [G, OC/G, C/G, KH, KW], the same bytes
// as our [OC, C/G, KH, KW].
Shape conv_weight_dims(const Shape& w, std::int64_t groups);

}  // namespace ops::backend
