// One primitive run (see exec.h).
#include "ops/backend/exec.h"

#include "ops/backend/kept_weights.h"
#include "ops/backend/layout.h"
#include "ops/backend/prepared_weights.h"

namespace ops::backend {

Exec::~Exec() {
  for (const auto& b : held_) ScratchPool::release(b);
}

Source Exec::read_as_stored(const Tensor& t) {
  if (auto p = t.physical_layout()) {
    const auto* values = dynamic_cast<const BlockedValues*>(p.get());
    if (values != nullptr && values->shape() == t.shape()) {
      kept_.push_back(p);  // the buffer must outlive the run even if t is materialized meanwhile
      return {values->mem(), values->layout()};
    }
  }
  return {memory(plain_md(t.shape()), ctx_.engine(), ptr(t)), Layout::plain};
}

Source Exec::read(const Tensor& t) {
  Source s = read_as_stored(t);
  if (s.mem.get_desc().data_type() == dt::f32) return s;
  const memory f32 = scratch(layout_md(t.shape(), s.layout));
  reorder(s.mem, f32);
  ctx_.stream().wait();  // the caller may read the bytes itself (batch_norm_leaky's loops)
  return {f32, s.layout};
}

void Exec::input(int arg, const memory::desc& want, const Tensor& t, const memory::desc& user) {
  if (auto p = t.physical_layout()) {
    if (const auto* prepared = dynamic_cast<const PreparedWeights*>(p.get())) {
      kept_.push_back(p);
      bind(arg, convert({prepared->mem(), Layout::plain}, want));
      return;
    }
  }
  const memory plain(user, ctx_.engine(), ptr(t));
  if (want != user) {
    if (auto kept = kept_conversion(t, plain, want)) {
      bind(arg, *kept);
      return;
    }
  }
  bind(arg, convert({plain, Layout::plain}, want));
}

memory Exec::convert(const Source& s, const memory::desc& want) {
  if (s.mem.get_desc() == want) return s.mem;
  memory mem = scratch(want);
  reorder(s.mem, mem);
  return mem;
}

Tensor Exec::output_in(int arg, const Shape& shape, Layout l, dt type) {
  if (l == Layout::plain) {
    Tensor t = Tensor::empty(shape, core::DType::f32);
    bind(arg, memory(plain_md(shape), ctx_.engine(), t.mutable_raw_data()));
    return t;
  }
  auto values = std::make_shared<BlockedValues>(shape, l, type);
  bind(arg, values->mem());
  return Tensor::from_physical(shape, core::DType::f32, std::move(values));
}

Tensor Exec::output_chosen(int arg, const memory::desc& want, const Shape& shape) {
  if (auto l = layout_of(want, shape)) return output_in(arg, shape, *l, want.data_type());
  Tensor t = Tensor::empty(shape, core::DType::f32);
  output(arg, want, t);
  return t;
}

void Exec::output(int arg, const memory::desc& want, const Tensor& t, const memory::desc& user) {
  memory user_mem(user, ctx_.engine(), t.mutable_raw_data());
  if (want == user) {
    bind(arg, user_mem);
    return;
  }
  memory mem = scratch(want);
  bind(arg, mem);
  copy_back_.emplace_back(mem, user_mem);
}

memory Exec::scratch(const memory::desc& want) {
  held_.push_back(ScratchPool::acquire(want.get_size()));
  return memory(want, ctx_.engine(), held_.back().data);
}

void Exec::run(const CacheEntry& e) {
  std::unique_lock<std::mutex> scratchpad_held;
  if (e.scratchpad.get_size() != 0) {
    auto [data, lock] = ctx_.scratchpad(e.scratchpad.get_size());
    scratchpad_held = std::move(lock);
    bind(DNNL_ARG_SCRATCHPAD, memory(e.scratchpad, ctx_.engine(), data));
  }
  execute(e.primitive, args_);
  for (auto& [from, to] : copy_back_) reorder(from, to);
  ctx_.stream().wait();
}

void execute(const dnnl::primitive& p, const std::unordered_map<int, memory>& args) {
  DnnlContext& ctx = context();
  if (!ctx.plan_only()) p.execute(ctx.stream(), args);
}

void reorder(const memory& from, const memory& to) {
  const dnnl::reorder r(from, to);
  execute(r, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
}

Tensor run_flat_eltwise_forward(const CacheEntry& e, const Tensor& x) {
  Exec ex;
  const Source src = ex.read(x);
  const Tensor y = ex.output_in(DNNL_ARG_DST, x.shape(), src.layout);
  ex.bind(DNNL_ARG_SRC, flat(src.mem));
  ex.bind(DNNL_ARG_DST, flat(ex.arg(DNNL_ARG_DST)));
  ex.run(e);
  return y;
}

Tensor run_flat_eltwise_backward(const CacheEntry& e, const Tensor& t, int t_arg, const Tensor& dy) {
  Exec ex;
  // t, dy and dx only need one common layout, t's.
  const Source src = ex.read(t);
  const memory diff = ex.convert(ex.read(dy), layout_md(t.shape(), src.layout));
  const Tensor dx = ex.output_in(DNNL_ARG_DIFF_SRC, t.shape(), src.layout);
  ex.bind(t_arg, flat(src.mem));
  ex.bind(DNNL_ARG_DIFF_DST, flat(diff));
  ex.bind(DNNL_ARG_DIFF_SRC, flat(ex.arg(DNNL_ARG_DIFF_SRC)));
  ex.run(e);
  return dx;
}

}  // namespace ops::backend
