// Exec: one primitive run. Binds tensors to a primitive's arguments,
// reordering whatever is not in the layout the primitive wants, then runs
// it. Outputs are new tensors, written in place when plain and kept in their
// layout otherwise. Weights, biases and statistics stay plain. Internal to
// the seam (includes dnnl.hpp).
#pragma once

#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/physical_layout.h"
#include "ops/backend/blocked_values.h"
#include "ops/backend/context.h"

namespace ops::backend {

class Exec {
 public:
  Exec() : ctx_(context()) {}
  Exec(const Exec&) = delete;
  Exec& operator=(const Exec&) = delete;
  ~Exec();

  // t's values as float32, in the layout they are kept in (no reorder for
  // float32 values; bfloat16 ones are converted into float32 scratch). A view
  // of another shape shares the storage but not the layout's dims, so it
  // reads the plain bytes.
  Source read(const Tensor& t);
  // As read, but bfloat16 values come as they are stored: for a primitive
  // that converts its input to what it wants anyway (input(), convert()),
  // and for readers that handle both types (add, batch_norm_leaky backward).
  Source read_as_stored(const Tensor& t);

  // s itself when it is already in `want`, else a reorder of it into scratch.
  memory convert(const Source& s, const memory::desc& want);

  void bind(int arg, memory m) { args_[arg] = std::move(m); }
  const memory& arg(int a) const { return args_.at(a); }

  void input(int arg, const memory::desc& want, const Tensor& t) { bind(arg, convert(read_as_stored(t), want)); }
  // t's plain bytes seen through `user` (grouped weights as 5-D, 1-D vectors),
  // or its prepared copy (PreparedWeights) when it has one, or its bfloat16
  // conversion kept from an earlier pass (KeepConvertedWeights).
  void input(int arg, const memory::desc& want, const Tensor& t, const memory::desc& user);

  // A new tensor of `shape` that the primitive writes in layout l, as float32
  // or, in a non-plain layout, bfloat16 values (see BlockedValues).
  Tensor output_in(int arg, const Shape& shape, Layout l, dt type = dt::f32);

  // An output whose layout (and type) the primitive chose (convolution):
  // kept when it is one of ours, reordered to plain after the run otherwise.
  Tensor output_chosen(int arg, const memory::desc& want, const Shape& shape);

  // Writes into an existing plain tensor (weight gradients, statistics).
  void output(int arg, const memory::desc& want, const Tensor& t) { output(arg, want, t, plain_md(t.shape())); }
  void output(int arg, const memory::desc& want, const Tensor& t, const memory::desc& user);

  // A buffer in the primitive's layout, returned to the pool with the Exec.
  memory scratch(const memory::desc& want);

  // A buffer only the primitive reads or writes (workspace), at a given address.
  void raw(int arg, const memory::desc& md, void* data) { bind(arg, memory(md, ctx_.engine(), data)); }

  // Runs the primitive with the context's scratchpad, then the reorders of
  // outputs back to their tensors, and waits.
  void run(const CacheEntry& e);

 private:
  DnnlContext& ctx_;
  std::vector<ScratchPool::Buffer> held_;
  std::vector<std::shared_ptr<const core::PhysicalLayout>> kept_;
  std::unordered_map<int, memory> args_;
  std::vector<std::pair<memory, memory>> copy_back_;
};

// Runs p on the context's stream, or nothing in plan-only mode (p exists,
// which is what planning wanted).
void execute(const dnnl::primitive& p, const std::unordered_map<int, memory>& args);
// Reorders from into to: the reorder primitive is created (oneDNN caches
// it) and, unless planning, run; the caller waits on the stream.
void reorder(const memory& from, const memory& to);

// Elementwise primitives see their tensors as 1-D, so one primitive serves
// every rank and layout. Forward: y from x, in x's layout. Backward: dx from
// dy and t (x or y, whichever the primitive reads, bound as `t_arg`), in t's
// layout.
Tensor run_flat_eltwise_forward(const CacheEntry& e, const Tensor& x);
Tensor run_flat_eltwise_backward(const CacheEntry& e, const Tensor& t, int t_arg, const Tensor& dy);

}  // namespace ops::backend
