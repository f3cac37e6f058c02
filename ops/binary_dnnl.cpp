// add's float32 kernel on oneDNN (declared in binary.h, namespace
// ops::backend): a + b for two tensors of one shape, seen flat in a common
// layout.
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/blocked_values.h"
#include "ops/backend/dnnl.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/binary.h"

namespace ops::backend {

namespace {

// a + b held as bfloat16 when both operands are, in one layout: under mixed
// precision a residual block's output and the stream it adds to, which the
// next convolution reads as bfloat16 anyway (no conversion of the sum, half
// its memory). Undefined where they are not.
Tensor add_bf16(Exec& ex, const Tensor& a, const Tensor& b) {
  if (!holds_bfloat16(a) || !holds_bfloat16(b)) return {};
  const Source s0 = ex.read_as_stored(a), s1 = ex.read_as_stored(b);
  if (!all_bfloat16({s0, s1})) return {};
  const Tensor y = ex.output_in(DNNL_ARG_DST, a.shape(), s0.layout, dt::bf16);
  ex.bind(DNNL_ARG_SRC_0, flat(s0.mem));
  ex.bind(DNNL_ARG_SRC_1, flat(s1.mem));
  ex.bind(DNNL_ARG_DST, flat(ex.arg(DNNL_ARG_DST)));
  ex.run(add_entry(a.numel(), dt::bf16, dt::bf16));
  return y;
}

}  // namespace

Tensor add_forward(const Tensor& a, const Tensor& b) {
  return guarded("add", [&] {
    Exec ex;
    if (Tensor y = add_bf16(ex, a, b); y.defined()) return y;
    // A bfloat16 operand (batch_norm_leaky's output under mixed precision)
    // goes second, where oneDNN's JIT add reads it as it is: a + b and b + a
    // are the same float. When both are bfloat16 (in different layouts) the
    // first is converted.
    const bool swap = holds_bfloat16(a) && !holds_bfloat16(b);
    const Tensor& first = swap ? b : a;
    const Source s0 = ex.read(first), s1 = ex.read_as_stored(swap ? a : b);
    // Flat elementwise in one common layout: a's, unless only b is blocked.
    const Source& sa = swap ? s1 : s0;
    const Source& sb = swap ? s0 : s1;
    const Layout l = sa.layout != Layout::plain ? sa.layout : sb.layout;
    const dt second = s1.mem.get_desc().data_type();
    const memory m0 = ex.convert(s0, layout_md(a.shape(), l)), m1 = ex.convert(s1, layout_md(a.shape(), l, second));
    const Tensor y = ex.output_in(DNNL_ARG_DST, a.shape(), l);
    ex.bind(DNNL_ARG_SRC_0, flat(m0));
    ex.bind(DNNL_ARG_SRC_1, flat(m1));
    ex.bind(DNNL_ARG_DST, flat(ex.arg(DNNL_ARG_DST)));
    ex.run(add_entry(a.numel(), second));
    return y;
  }, a, b);
}

}  // namespace ops::backend
