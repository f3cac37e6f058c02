// add's float32 kernel on oneDNN (declared in binary.h, namespace
// ops::backend): a + b for two tensors of one shape, seen flat in a common
// layout.
#include <oneapi/dnnl/dnnl.hpp>

#include "ops/backend/blocked_values.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/binary.h"

namespace ops::backend {

Tensor add_forward(const Tensor& a, const Tensor& b) {
  return guarded("add", [&] {
    const auto& e = add_entry(a.numel());
    Exec ex;
    // Flat elementwise in one common layout: a's, unless only b is blocked.
    const Source sa = ex.read(a), sb = ex.read(b);
    const Layout l = sa.layout != Layout::plain ? sa.layout : sb.layout;
    const memory::desc want = layout_md(a.shape(), l);
    const memory ma = ex.convert(sa, want), mb = ex.convert(sb, want);
    const Tensor y = ex.output_in(DNNL_ARG_DST, a.shape(), l);
    ex.bind(DNNL_ARG_SRC_0, flat(ma));
    ex.bind(DNNL_ARG_SRC_1, flat(mb));
    ex.bind(DNNL_ARG_DST, flat(ex.arg(DNNL_ARG_DST)));
    ex.run(e);
    return y;
  }, a, b);
}

}  // namespace ops::backend
