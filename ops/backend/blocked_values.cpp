// Activations in a non-plain layout (see blocked_values.h).
#include "ops/backend/blocked_values.h"

#include <optional>
#include <utility>

#include "ops/backend/dnnl.h"
#include "ops/backend/errors.h"
#include "ops/backend/exec.h"

namespace ops::backend {

BlockedValues::BlockedValues(Shape shape, Layout layout, dt type)
    : shape_(std::move(shape)),
      layout_(layout),
      type_(type),
      buffer_(ScratchPool::acquire(layout_md(shape_, layout_, type_).get_size())) {}

BlockedValues::~BlockedValues() { ScratchPool::release(buffer_); }

void BlockedValues::materialize(void* plain) const {
  try {
    // Run even while planning: the blocked copy is dropped after this, so
    // the plain bytes must hold the values (a host read of a real tensor
    // during a plan must not lose them).
    DnnlContext& ctx = context();
    memory from = mem(), to(plain_md(shape_), ctx.engine(), plain);
    dnnl::reorder(from, to).execute(ctx.stream(), from, to);
    ctx.stream().wait();
  } catch (const dnnl::error& e) {
    throw backend_error("reorder to plain", e, core::shape_str(shape_));
  }
}

memory BlockedValues::mem() const { return {layout_md(shape_, layout_, type_), context().engine(), buffer_.data}; }

bool all_bfloat16(const std::vector<Source>& sources) {
  for (const Source& s : sources) {
    if (s.mem.get_desc().data_type() != dt::bf16 || s.layout != sources.front().layout) return false;
  }
  return !sources.empty();
}

memory flat(const memory& m) {
  const dt type = m.get_desc().data_type();
  const auto n = static_cast<std::int64_t>(m.get_desc().get_size() / memory::data_type_size(type));
  return {flat_md(n, type), context().engine(), m.get_data_handle()};
}

void* ptr(const Tensor& t) { return const_cast<void*>(t.raw_data()); }

const CacheEntry& add_entry(std::int64_t n, dt second, dt first_and_sum) {
  PrimitiveKey key{PrimKind::binary_add, Prop::fwd_inference, {{n}}};
  key.flags = second == dt::bf16 ? 1 : 0;
  key.values = first_and_sum;
  return context().get<dnnl::binary>(key, [&] {
    dnnl::binary::desc d(dnnl::algorithm::binary_add, flat_md(n, first_and_sum), flat_md(n, second),
                         flat_md(n, first_and_sum));
    return dnnl::binary::primitive_desc(d, user_scratchpad(), context().engine());
  });
}

std::shared_ptr<const core::PhysicalLayout> BlockedValues::sum_with(const core::PhysicalLayout& other,
                                                                    const Shape& shape) const {
  const auto* b = dynamic_cast<const BlockedValues*>(&other);
  // bfloat16 addends are summed as float32 plain values by the caller.
  if (b == nullptr || shape != shape_ || b->shape_ != shape_ || type_ != dt::f32 || b->type_ != dt::f32) return nullptr;
  return guarded("gradient sum", [&] {
    auto out = std::make_shared<BlockedValues>(shape_, layout_);
    // Two layouts meet where a channels-last layer feeds a blocked one:
    // the second addend is reordered into the first's layout.
    std::optional<BlockedValues> converted;
    memory second = b->mem();
    if (b->layout_ != layout_) {
      converted.emplace(shape_, layout_);
      memory to = converted->mem();
      reorder(second, to);
      second = to;
    }
    const std::int64_t n = core::shape_numel(shape_);
    Exec ex;
    ex.bind(DNNL_ARG_SRC_0, flat(mem()));
    ex.bind(DNNL_ARG_SRC_1, flat(second));
    ex.bind(DNNL_ARG_DST, flat(out->mem()));
    ex.run(add_entry(n));
    return std::shared_ptr<const core::PhysicalLayout>(std::move(out));
  });
}

const char* layout_name(const Tensor& t) {
  const auto p = t.physical_layout();
  const auto* values = dynamic_cast<const BlockedValues*>(p.get());
  switch (values != nullptr ? values->layout() : Layout::plain) {
    case Layout::nChw16c: return "nChw16c";
    case Layout::nChw8c: return "nChw8c";
    case Layout::nhwc: return "nhwc";
    case Layout::plain: break;
  }
  return "plain";
}

bool holds_bfloat16(const Tensor& t) {
  const auto p = t.physical_layout();
  const auto* values = dynamic_cast<const BlockedValues*>(p.get());
  return values != nullptr && values->type() == dt::bf16;
}

}  // namespace ops::backend
