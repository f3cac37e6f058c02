// concat's float32 kernels on oneDNN (declared in shape_ops.h, namespace
// ops::backend): joining 4-D tensors in their common layout (as bfloat16
// when they all are), and slicing the gradient back into the inputs' shapes
// in its layout.
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include "ops/backend/context.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/shape_ops.h"

namespace ops::backend {

Tensor concat_forward(const std::vector<Tensor>& xs, int axis) {
  std::string shapes;
  for (const auto& x : xs) shapes += (shapes.empty() ? "" : ", ") + core::shape_str(x.shape());
  try {
    std::vector<Shape> in_shapes;
    Shape ys = xs[0].shape();
    ys[axis] = 0;
    for (const auto& x : xs) {
      in_shapes.push_back(x.shape());
      ys[axis] += x.shape()[axis];
    }
    Exec ex;
    std::vector<Source> srcs;
    for (const auto& x : xs) srcs.push_back(ex.read_as_stored(x));
    // One layout for all: the inputs' common one, else plain. Our layouts
    // have whole channel blocks, so every input starts on a block boundary.
    Layout l = srcs[0].layout;
    for (const auto& src : srcs) l = src.layout == l ? l : Layout::plain;
    // bfloat16 when every input is (mixed precision's block outputs and
    // residual sums, in one blocked layout): the next convolution reads
    // that as it is. Otherwise float32, converting the bfloat16 ones.
    const bool all_bf16 = all_bfloat16(srcs);
    if (!all_bf16) {
      for (std::size_t i = 0; i < xs.size(); ++i) {
        if (srcs[i].mem.get_desc().data_type() != dt::f32) srcs[i] = ex.read(xs[i]);
      }
    }
    const dt type = all_bf16 ? dt::bf16 : dt::f32;
    const auto& e = context().get<dnnl::concat>(
        {PrimKind::concat, Prop::fwd_inference, in_shapes, {0, 0, 0, 0, axis}, core::DType::f32, 0, 0.0, l, type},
        [&] {
          std::vector<memory::desc> mds;
          for (const auto& s : in_shapes) mds.push_back(layout_md(s, l, type));
          return dnnl::concat::primitive_desc(layout_md(ys, l, type), axis, mds, context().engine(),
                                              user_scratchpad());
        });
    for (std::size_t i = 0; i < xs.size(); ++i) {
      ex.bind(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), ex.convert(srcs[i], layout_md(in_shapes[i], l, type)));
    }
    Tensor y = ex.output_in(DNNL_ARG_DST, ys, l, type);
    ex.run(e);
    return y;
  } catch (const dnnl::error& e) {
    throw backend_error("concat", e, shapes);
  }
}

std::vector<Tensor> concat_backward(const Tensor& dy, const std::vector<Shape>& shapes, int axis) {
  return guarded("concat backward", [&] {
    Exec ex;
    Source g = ex.read(dy);
    // Each slice is a sub-memory of dy that one reorder copies into a tensor
    // of its own in the same layout. A slice must start and end on a channel
    // block boundary; when one does not (an 8-channel input joined into a
    // blocked 16-channel gradient), dy goes channels-last first.
    const std::int64_t block = g.layout == Layout::nChw16c ? 16 : g.layout == Layout::nChw8c ? 8 : 1;
    bool aligned = true;
    for (const Shape& s : shapes) aligned = aligned && s[axis] % block == 0;
    if (!aligned) g = {ex.convert(g, layout_md(dy.shape(), Layout::nhwc)), Layout::nhwc};
    std::vector<Tensor> grads;
    memory::dims offsets(dy.dim(), 0);
    for (const Shape& s : shapes) {
      const memory::desc part = g.mem.get_desc().submemory_desc(to_dims(s), offsets);
      memory from(part, context().engine(), g.mem.get_data_handle());
      Tensor dx = ex.output_in(DNNL_ARG_DST, s, g.layout);
      memory to = ex.arg(DNNL_ARG_DST);
      reorder(from, to);
      grads.push_back(std::move(dx));
      offsets[axis] += s[axis];
    }
    context().stream().wait();
    return grads;
  }, dy);
}

}  // namespace ops::backend
