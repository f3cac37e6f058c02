// The oneDNN seam (see dnnl.h). Conventions inside this file:
// - activations stay in the layout the convolution chose (format_tag::any,
//   usually nChw16c): an op's output is a tensor whose values live in a
//   BlockedValues buffer, and the next op builds its primitive for that
//   layout, so a chain of ops runs without reorders. The row-major bytes are
//   written only when code outside the seam reads the tensor (core::Storage
//   calls BlockedValues::materialize). Weights, biases and statistics stay
//   plain; Exec reorders whatever differs from what a primitive wants;
// - every primitive is created once per key and kept in DnnlContext's cache
//   beside its primitive_desc, which backward creation needs as a hint;
// - elementwise ops see tensors as 1-D so one primitive serves every rank.
#include "ops/backend/dnnl.h"

#include <fmt/format.h>

#include <any>
#include <array>
#include <compare>
#include <cstdlib>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/buffer_cache.h"
#include "core/error.h"
#include "ops/backend/bn_leaky_kernels.h"

namespace ops::backend {

namespace {

using core::Shape;
using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum class PrimKind : std::uint8_t { conv, batch_norm, eltwise, binary_add, concat, resample, pool };
enum class Prop : std::uint8_t { fwd_training, fwd_inference, bwd, bwd_data, bwd_weights };

// The layouts an activation may stay in between ops. Each is a format tag, so
// any primitive can be built for it with any dims; plain is row-major.
enum class Layout : std::uint8_t { plain, nChw16c, nChw8c, nhwc };

// Everything that distinguishes two primitives. Plain data, ordered, so the
// cache is a std::map with no hashing to get wrong.
struct PrimitiveKey {
  PrimKind kind;
  Prop prop;
  std::vector<Shape> shapes;
  std::array<std::int64_t, 5> geometry{};  // stride, pad_begin, pad_end, dilation, groups|kernel|factor|axis
  core::DType dtype = core::DType::f32;
  std::uint32_t flags = 0;
  double scalar = 0.0;  // leaky slope or batch-norm epsilon
  Layout layout = Layout::plain;  // of the activations, for ops that follow their input's layout
  auto operator<=>(const PrimitiveKey&) const = default;
};

struct CacheEntry {
  CacheEntry(dnnl::primitive p, std::any d, memory::desc s)
      : primitive(std::move(p)), pd(std::move(d)), scratchpad(std::move(s)) {}
  dnnl::primitive primitive;
  std::any pd;  // the typed primitive_desc, e.g. convolution_forward::primitive_desc
  memory::desc scratchpad;  // the temporary memory one run needs (Exec::run provides it)
};

// Every primitive is created with a user-managed scratchpad: Exec::run hands
// it the context's one scratchpad buffer (DnnlContext::scratchpad). oneDNN's
// own scratchpad is a fresh allocation per run in this build, whose pages
// (hundreds of MiB per YOLOv3 step) were faulted in and zeroed every step.
dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Reorder buffers and activations kept in a blocked layout (BlockedValues)
// come from core::buffer_cache(), like tensor storage: a training step asks
// for the same sizes as the step before and gets the same pages back, with
// no page faults. A BlockedValues returns its buffer from whichever thread
// drops the last tensor handle.
class ScratchPool {
 public:
  struct Buffer {
    void* data;
    std::size_t capacity;
  };

  static Buffer acquire(std::size_t bytes) {
    try {
      Buffer b{};
      b.data = core::buffer_cache().acquire(bytes, &b.capacity);
      return b;
    } catch (const std::bad_alloc&) {
      throw core::BackendError(fmt::format("oneDNN seam: out of memory for a {}-byte buffer", bytes));
    }
  }
  static void release(const Buffer& b) { core::buffer_cache().release(b.data, b.capacity); }
};

// Owns the engine, the stream and the cache. One instance lives in this
// file (context()), created on first use; nothing else holds oneDNN state.
class DnnlContext {
 public:
  DnnlContext() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

  const dnnl::engine& engine() const { return engine_; }
  dnnl::stream& stream() { return stream_; }

  // Returns the cached primitive for key, creating it from make() (which
  // returns Prim::primitive_desc) on first use.
  template <class Prim, class Make>
  const CacheEntry& get(const PrimitiveKey& key, Make&& make) {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      typename Prim::primitive_desc pd = make();
      it = cache_.try_emplace(key, Prim(pd), std::any(pd), pd.scratchpad_desc()).first;
    }
    return it->second;
  }

  std::size_t size() {
    std::lock_guard lock(mutex_);
    return cache_.size();
  }

  // The scratchpad every primitive run uses, grown to the largest request
  // and held under the returned lock until the run ends. One buffer rather
  // than one per size: Winograd's tile buffers reach hundreds of MiB in the
  // first layers, and idle copies of each size would sit in the buffer
  // cache (and in the peak RSS) while the activations peak.
  std::pair<void*, std::unique_lock<std::mutex>> scratchpad(std::size_t bytes) {
    std::unique_lock lock(scratchpad_mutex_);
    if (bytes > scratchpad_.capacity) {
      ScratchPool::release(scratchpad_);
      scratchpad_ = {nullptr, 0};
      scratchpad_ = ScratchPool::acquire(bytes);
    }
    return {scratchpad_.data, std::move(lock)};
  }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  // Recursive: creating a backward primitive looks up its forward hint.
  std::recursive_mutex mutex_;
  std::map<PrimitiveKey, CacheEntry> cache_;
  std::mutex scratchpad_mutex_;
  ScratchPool::Buffer scratchpad_{nullptr, 0};
};

DnnlContext& context() {
  static DnnlContext ctx;
  return ctx;
}

template <class Prim>
const typename Prim::primitive_desc& pd_of(const CacheEntry& e) {
  return std::any_cast<const typename Prim::primitive_desc&>(e.pd);
}

memory::dims to_dims(const Shape& s) { return memory::dims(s.begin(), s.end()); }

tag plain_tag(std::size_t rank) {
  switch (rank) {
    case 1: return tag::a;
    case 2: return tag::ab;
    case 3: return tag::abc;
    case 4: return tag::abcd;
    default: return tag::abcde;
  }
}

memory::desc plain_md(const Shape& s) { return {to_dims(s), dt::f32, plain_tag(s.size())}; }
memory::desc any_md(const Shape& s) { return {to_dims(s), dt::f32, tag::any}; }
memory::desc flat_md(std::int64_t n) { return {{n}, dt::f32, tag::a}; }

// Grouped weights are 5-D in oneDNN: [G, OC/G, C/G, KH, KW], the same bytes
// as our [OC, C/G, KH, KW].
Shape conv_weight_dims(const Shape& w, std::int64_t groups) {
  if (groups == 1) return w;
  return {groups, w[0] / groups, w[1], w[2], w[3]};
}

// Plain bytes of t (materializing a blocked copy first: weights, statistics).
void* ptr(const Tensor& t) { return const_cast<void*>(t.raw_data()); }

tag tag_of(Layout l, std::size_t rank) {
  switch (l) {
    case Layout::nChw16c: return tag::nChw16c;
    case Layout::nChw8c: return tag::nChw8c;
    case Layout::nhwc: return tag::nhwc;
    case Layout::plain: break;
  }
  return plain_tag(rank);
}

memory::desc layout_md(const Shape& s, Layout l) { return {to_dims(s), dt::f32, tag_of(l, s.size())}; }

// Which of our layouts md is, if any. A blocked layout counts only when the
// channels fill whole blocks: padded lanes would have to stay zero through
// every elementwise op (they feed the next convolution), so such tensors
// (the 255-channel heads, the 3-channel input) go back to plain instead.
std::optional<Layout> layout_of(const memory::desc& md, const Shape& s) {
  if (md == plain_md(s)) return Layout::plain;
  if (s.size() != 4) return std::nullopt;
  for (Layout l : {Layout::nChw16c, Layout::nChw8c, Layout::nhwc}) {
    const memory::desc want = layout_md(s, l);
    if (md == want && want.get_size() == static_cast<std::size_t>(core::shape_numel(s)) * sizeof(float)) return l;
  }
  return std::nullopt;
}

// The values of one activation in a non-plain layout, in a pooled buffer.
// core::Storage calls materialize() when code outside the seam first touches
// the tensor's bytes; until then only the seam reads this buffer.
class BlockedValues final : public core::PhysicalLayout {
 public:
  BlockedValues(Shape shape, Layout layout)
      : shape_(std::move(shape)), layout_(layout), buffer_(ScratchPool::acquire(layout_md(shape_, layout_).get_size())) {}
  ~BlockedValues() override { ScratchPool::release(buffer_); }

  void materialize(void* plain) const override {
    try {
      DnnlContext& ctx = context();
      memory from = mem(), to(plain_md(shape_), ctx.engine(), plain);
      dnnl::reorder(from, to).execute(ctx.stream(), from, to);
      ctx.stream().wait();
    } catch (const dnnl::error& e) {
      throw core::BackendError(fmt::format("reorder to plain (oneDNN): {} (status {}) for float32 {}", e.what(),
                                           static_cast<int>(e.status), core::shape_str(shape_)));
    }
  }

  // Adds in place of the plain bytes when other is a copy of the same
  // shape and layout (defined beside the add primitive below).
  std::shared_ptr<const core::PhysicalLayout> sum_with(const core::PhysicalLayout& other,
                                                       const Shape& shape) const override;

  const Shape& shape() const { return shape_; }
  Layout layout() const { return layout_; }
  memory mem() const { return {layout_md(shape_, layout_), context().engine(), buffer_.data}; }

 private:
  Shape shape_;
  Layout layout_;
  ScratchPool::Buffer buffer_;
};

// A tensor's values where they are now: plain, or in a BlockedValues buffer.
struct Source {
  memory mem;
  Layout layout = Layout::plain;
};

// The same bytes seen as one flat vector: elementwise ops run on any layout
// that way, since our layouts carry no padding.
memory flat(const memory& m) {
  return {flat_md(static_cast<std::int64_t>(m.get_desc().get_size() / sizeof(float))), context().engine(),
          m.get_data_handle()};
}

// Binds tensors to a primitive's arguments, reordering whatever is not in
// the layout the primitive wants, then runs it. Outputs are new tensors,
// written in place when plain and kept in their layout otherwise.
class Exec {
 public:
  Exec() : ctx_(context()) {}
  Exec(const Exec&) = delete;
  Exec& operator=(const Exec&) = delete;
  ~Exec() {
    for (const auto& b : held_) ScratchPool::release(b);
  }

  // t's values without a reorder. A view of another shape shares the storage
  // but not the layout's dims, so it reads the plain bytes.
  Source read(const Tensor& t) {
    if (auto p = t.physical_layout()) {
      const auto* values = dynamic_cast<const BlockedValues*>(p.get());
      if (values != nullptr && values->shape() == t.shape()) {
        kept_.push_back(p);  // the buffer must outlive the run even if t is materialized meanwhile
        return {values->mem(), values->layout()};
      }
    }
    return {memory(plain_md(t.shape()), ctx_.engine(), ptr(t)), Layout::plain};
  }

  // s itself when it is already in `want`, else a reorder of it into scratch.
  memory convert(const Source& s, const memory::desc& want) {
    if (s.mem.get_desc() == want) return s.mem;
    memory from = s.mem, mem = scratch(want);
    dnnl::reorder(from, mem).execute(ctx_.stream(), from, mem);
    return mem;
  }

  void bind(int arg, memory m) { args_[arg] = std::move(m); }
  const memory& arg(int a) const { return args_.at(a); }

  void input(int arg, const memory::desc& want, const Tensor& t) { bind(arg, convert(read(t), want)); }
  // t's plain bytes seen through `user` (grouped weights as 5-D, 1-D vectors).
  void input(int arg, const memory::desc& want, const Tensor& t, const memory::desc& user) {
    bind(arg, convert({memory(user, ctx_.engine(), ptr(t)), Layout::plain}, want));
  }

  // A new tensor of `shape` that the primitive writes in layout l.
  Tensor output_in(int arg, const Shape& shape, Layout l) {
    if (l == Layout::plain) {
      Tensor t = Tensor::empty(shape, core::DType::f32);
      bind(arg, memory(plain_md(shape), ctx_.engine(), t.mutable_raw_data()));
      return t;
    }
    auto values = std::make_shared<BlockedValues>(shape, l);
    bind(arg, values->mem());
    return Tensor::from_physical(shape, core::DType::f32, std::move(values));
  }

  // An output whose layout the primitive chose (convolution): kept when it
  // is one of ours, reordered to plain after the run otherwise.
  Tensor output_chosen(int arg, const memory::desc& want, const Shape& shape) {
    if (auto l = layout_of(want, shape)) return output_in(arg, shape, *l);
    Tensor t = Tensor::empty(shape, core::DType::f32);
    output(arg, want, t);
    return t;
  }

  // Writes into an existing plain tensor (weight gradients, statistics).
  void output(int arg, const memory::desc& want, const Tensor& t) { output(arg, want, t, plain_md(t.shape())); }
  void output(int arg, const memory::desc& want, const Tensor& t, const memory::desc& user) {
    memory user_mem(user, ctx_.engine(), t.mutable_raw_data());
    if (want == user) {
      bind(arg, user_mem);
      return;
    }
    memory mem = scratch(want);
    bind(arg, mem);
    copy_back_.emplace_back(mem, user_mem);
  }

  // A buffer in the primitive's layout, returned to the pool with the Exec.
  memory scratch(const memory::desc& want) {
    held_.push_back(ScratchPool::acquire(want.get_size()));
    return memory(want, ctx_.engine(), held_.back().data);
  }

  // A buffer only the primitive reads or writes (workspace), at a given address.
  void raw(int arg, const memory::desc& md, void* data) { bind(arg, memory(md, ctx_.engine(), data)); }

  void run(const CacheEntry& e) {
    std::unique_lock<std::mutex> scratchpad_held;
    if (e.scratchpad.get_size() != 0) {
      auto [data, lock] = ctx_.scratchpad(e.scratchpad.get_size());
      scratchpad_held = std::move(lock);
      bind(DNNL_ARG_SCRATCHPAD, memory(e.scratchpad, ctx_.engine(), data));
    }
    e.primitive.execute(ctx_.stream(), args_);
    for (auto& [from, to] : copy_back_) dnnl::reorder(from, to).execute(ctx_.stream(), from, to);
    ctx_.stream().wait();
  }

 private:
  DnnlContext& ctx_;
  std::vector<ScratchPool::Buffer> held_;
  std::vector<std::shared_ptr<const core::PhysicalLayout>> kept_;
  std::unordered_map<int, memory> args_;
  std::vector<std::pair<memory, memory>> copy_back_;
};

std::string shapes_of() { return {}; }
template <class... Rest>
std::string shapes_of(const Tensor& t, const Rest&... rest) {
  std::string tail = shapes_of(rest...);
  return t.defined() ? core::shape_str(t.shape()) + (tail.empty() ? "" : ", " + tail) : tail;
}

// Runs f, turning a dnnl::error into core::BackendError naming the op, the
// tensor shapes and oneDNN's status.
template <class F, class... Ts>
auto guarded(const char* op, F&& f, const Ts&... tensors) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw core::BackendError(fmt::format("{} (oneDNN): {} (status {}) for float32 {}", op, e.what(),
                                         static_cast<int>(e.status), shapes_of(tensors...)));
  }
}

// ---- convolution ---------------------------------------------------------

Shape conv_out_shape(const Shape& x, const Shape& w, const ConvSpec& s) {
  auto out = [&](std::int64_t in, std::int64_t k) {
    return (in + 2 * s.pad - ((k - 1) * s.dilation + 1)) / s.stride + 1;
  };
  return {x[0], w[0], out(x[2], w[2]), out(x[3], w[3])};
}

PrimitiveKey conv_key(Prop prop, const Shape& x, const Shape& w, const ConvSpec& s, std::uint32_t flags,
                      double slope) {
  return {PrimKind::conv, prop, {x, w}, {s.stride, s.pad, s.pad, s.dilation, s.groups}, core::DType::f32, flags,
          slope};
}

constexpr std::uint32_t kWithBias = 1;
constexpr std::uint32_t kLeakyPost = 2;

// Whether a convolution's activations run channels-last (nhwc) instead of
// the layout oneDNN would choose. Fewer than 16 output channels, or input
// channels that do not fill 16-lane blocks, would be padded to whole blocks
// (up to 4x the bytes, as in a narrow model's first layers) and then leave
// the blocked family before batch norm, through a reorder and oneDNN's slow
// plain-layout batch norm; channels-last has no padding and oneDNN runs its
// convolution, batch norm and eltwise kernels on it directly. The 3-channel
// image is the exception: oneDNN reads it plain into a blocked output.
bool channels_last(const Shape& x, const Shape& w) { return w[0] < 16 || (x[1] % 16 != 0 && x[1] != 3); }

// Training runs float32 3x3 stride-1 convolutions as Winograd F(4x4, 3x3):
// oneDNN's jit_wino_4x3 does forward, backward data and backward weights
// with fewer multiplications than the direct kernel, and measured 1.6-2.4
// times faster on YOLOv3's residual 3x3 layers at 20x20 to 160x160 (2
// threads, AVX-512), though slower at 10x10, hence the floor of 256 output
// pixels. Its
// rounding differs from the direct kernel's by float32 noise (the
// float32-vs-float64 tests bound both the same). Channels-last layers and
// bf16 have no Winograd kernel; inference keeps the direct kernel with its
// fused batch norm and leaky ReLU, whose results Darknet parity checks.
bool winograd_candidate(const Shape& x, const Shape& w, const ConvSpec& s, bool training) {
  const Shape y = conv_out_shape(x, w, s);
  return training && !s.bf16 && w[2] == 3 && w[3] == 3 && s.stride == 1 && s.dilation == 1 && s.groups == 1 &&
         x[1] >= 32 && w[0] >= 32 && y[2] * y[3] >= 256 && !channels_last(x, w);
}

memory::desc conv_act_md(const Shape& s, bool nhwc, dt type = dt::f32) {
  return nhwc ? memory::desc(to_dims(s), type, tag::nhwc) : memory::desc(to_dims(s), type, tag::any);
}

// What a convolution multiplies in: its input activations, weights and
// output gradient (bf16 under mixed precision); outputs stay float32.
dt conv_math(const ConvSpec& s) { return s.bf16 ? dt::bf16 : dt::f32; }
memory::desc conv_weight_md(const Shape& w, const ConvSpec& s) {
  return {to_dims(conv_weight_dims(w, s.groups)), conv_math(s), tag::any};
}

// Whether oneDNN runs this training convolution as Winograd on this CPU.
// Its kernels need AVX-512, at most one pixel of padding and whole channel
// blocks; rather than restate those rules, the three primitive descriptors
// (with a bias, the wider case) are created once per geometry, and a
// refusal means the direct kernel.
bool winograd_available(const Shape& x, const Shape& w, const ConvSpec& s) {
  static std::mutex mutex;
  static std::map<std::tuple<Shape, Shape, std::int64_t>, bool> known;
  std::lock_guard lock(mutex);
  const auto key = std::make_tuple(x, w, s.pad);
  if (auto it = known.find(key); it != known.end()) return it->second;
  bool available = true;
  try {
    const auto algo = dnnl::algorithm::convolution_winograd;
    const memory::desc xd = any_md(x), wd = any_md(w), bd = any_md({w[0]}), yd = any_md(conv_out_shape(x, w, s));
    const memory::dims one{1, 1}, none{0, 0}, pad{s.pad, s.pad};
    const dnnl::engine& engine = context().engine();
    const dnnl::convolution_forward::primitive_desc fwd(
        {dnnl::prop_kind::forward_training, algo, xd, wd, bd, yd, one, none, pad, pad}, user_scratchpad(), engine);
    dnnl::convolution_backward_data::primitive_desc({algo, xd, wd, yd, one, none, pad, pad}, user_scratchpad(), engine,
                                                    fwd);
    dnnl::convolution_backward_weights::primitive_desc({algo, xd, wd, bd, yd, one, none, pad, pad}, user_scratchpad(),
                                                       engine, fwd);
  } catch (const dnnl::error&) {
    available = false;
  }
  known.emplace(key, available);
  return available;
}

dnnl::algorithm conv_algorithm(const Shape& x, const Shape& w, const ConvSpec& s, bool training) {
  return winograd_candidate(x, w, s, training) && winograd_available(x, w, s) ? dnnl::algorithm::convolution_winograd
                                                                              : dnnl::algorithm::convolution_direct;
}

constexpr std::uint32_t kBf16 = 4;
std::uint32_t conv_flags(const ConvSpec& s, std::uint32_t flags) { return s.bf16 ? flags | kBf16 : flags; }

void check_bf16(const ConvSpec& s) {
  if (s.bf16 && !bf16_supported()) {
    throw core::BackendError("conv2d: bfloat16 needs a CPU with AVX512-BF16 (or newer), which this one lacks");
  }
}

const CacheEntry& conv_forward_entry(const Shape& x, const Shape& w, bool with_bias, const ConvSpec& s,
                                     bool training, const ConvPostOp& post) {
  const std::uint32_t flags = conv_flags(s, (with_bias ? kWithBias : 0) | (post.leaky ? kLeakyPost : 0));
  const Prop prop = training ? Prop::fwd_training : Prop::fwd_inference;
  return context().get<dnnl::convolution_forward>(
      conv_key(prop, x, w, s, flags, post.leaky ? post.slope : 0.0), [&] {
        const Shape y = conv_out_shape(x, w, s);
        const bool nhwc = channels_last(x, w);
        const memory::desc bias_md = with_bias ? any_md({w[0]}) : memory::desc();
        dnnl::convolution_forward::desc d(
            training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
            conv_algorithm(x, w, s, training), conv_act_md(x, nhwc, conv_math(s)), conv_weight_md(w, s), bias_md,
            conv_act_md(y, nhwc),
            {s.stride, s.stride}, {s.dilation - 1, s.dilation - 1}, {s.pad, s.pad}, {s.pad, s.pad});
        dnnl::primitive_attr attr = user_scratchpad();
        if (post.leaky) {
          // oneDNN's relu with a negative slope alpha is exactly leaky ReLU.
          dnnl::post_ops ops;
          ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, static_cast<float>(post.slope), 0.0f);
          attr.set_post_ops(ops);
        }
        return dnnl::convolution_forward::primitive_desc(d, attr, context().engine());
      });
}

// ---- batch norm ------------------------------------------------------------

constexpr std::uint32_t kGlobalStats = 1;

dnnl::normalization_flags bn_flags(bool global_stats) {
  auto f = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  return global_stats ? f | dnnl::normalization_flags::use_global_stats : f;
}

const CacheEntry& bn_forward_entry(const Shape& x, double eps, bool global_stats, Layout l) {
  // The training forward doubles as the hint for backward; inference with
  // given statistics uses forward_inference.
  const Prop prop = global_stats ? Prop::fwd_inference : Prop::fwd_training;
  return context().get<dnnl::batch_normalization_forward>(
      {PrimKind::batch_norm, prop, {x}, {}, core::DType::f32, global_stats ? kGlobalStats : 0u, eps, l}, [&] {
        dnnl::batch_normalization_forward::desc d(
            global_stats ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training, layout_md(x, l),
            static_cast<float>(eps), bn_flags(global_stats));
        return dnnl::batch_normalization_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

// ---- eltwise, pooling, resampling --------------------------------------------

const CacheEntry& leaky_forward_entry(std::int64_t n, double slope, bool training) {
  return context().get<dnnl::eltwise_forward>(
      {PrimKind::eltwise, training ? Prop::fwd_training : Prop::fwd_inference, {{n}}, {}, core::DType::f32, 0, slope},
      [&] {
        dnnl::eltwise_forward::desc d(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::eltwise_relu, flat_md(n), static_cast<float>(slope), 0.0f);
        return dnnl::eltwise_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

// a + b on n floats: any of our layouts, seen flat.
const CacheEntry& add_entry(std::int64_t n) {
  return context().get<dnnl::binary>({PrimKind::binary_add, Prop::fwd_inference, {{n}}}, [&] {
    dnnl::binary::desc d(dnnl::algorithm::binary_add, flat_md(n), flat_md(n), flat_md(n));
    return dnnl::binary::primitive_desc(d, user_scratchpad(), context().engine());
  });
}

std::shared_ptr<const core::PhysicalLayout> BlockedValues::sum_with(const core::PhysicalLayout& other,
                                                                    const Shape& shape) const {
  const auto* b = dynamic_cast<const BlockedValues*>(&other);
  if (b == nullptr || shape != shape_ || b->shape_ != shape_) return nullptr;
  return guarded("gradient sum", [&] {
    DnnlContext& ctx = context();
    auto out = std::make_shared<BlockedValues>(shape_, layout_);
    // Two layouts meet where a channels-last layer feeds a blocked one:
    // the second addend is reordered into the first's layout.
    std::optional<BlockedValues> converted;
    memory second = b->mem();
    if (b->layout_ != layout_) {
      converted.emplace(shape_, layout_);
      memory to = converted->mem();
      dnnl::reorder(second, to).execute(ctx.stream(), second, to);
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

Shape pool_out_shape(const Shape& x, const PoolSpec& s) {
  auto out = [&](std::int64_t in) { return (in + s.pad_begin + s.pad_end - s.kernel) / s.stride + 1; };
  return {x[0], x[1], out(x[2]), out(x[3])};
}

const CacheEntry& pool_forward_entry(const Shape& x, const PoolSpec& s, bool training, Layout l) {
  return context().get<dnnl::pooling_forward>(
      {PrimKind::pool, training ? Prop::fwd_training : Prop::fwd_inference, {x}, {s.stride, s.pad_begin, s.pad_end, 0,
       s.kernel}, core::DType::f32, 0, 0.0, l},
      [&] {
        // pooling_max never selects padding: oneDNN skips out-of-range taps.
        dnnl::pooling_forward::desc d(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::pooling_max, layout_md(x, l), layout_md(pool_out_shape(x, s), l),
                                      {s.stride, s.stride}, {s.kernel, s.kernel}, {s.pad_begin, s.pad_begin},
                                      {s.pad_end, s.pad_end});
        return dnnl::pooling_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

Shape upsampled(const Shape& x, std::int64_t f) { return {x[0], x[1], x[2] * f, x[3] * f}; }

const CacheEntry& resample_forward_entry(const Shape& x, std::int64_t f, bool training, Layout l) {
  return context().get<dnnl::resampling_forward>(
      {PrimKind::resample, training ? Prop::fwd_training : Prop::fwd_inference, {x}, {0, 0, 0, 0, f}, core::DType::f32,
       0, 0.0, l},
      [&] {
        dnnl::resampling_forward::desc d(
            training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
            dnnl::algorithm::resampling_nearest, layout_md(x, l), layout_md(upsampled(x, f), l));
        return dnnl::resampling_forward::primitive_desc(d, user_scratchpad(), context().engine());
      });
}

}  // namespace

// ---- public functions ----------------------------------------------------------

bool bf16_supported() { return dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core_bf16; }

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const ConvSpec& spec, bool training,
                      const ConvPostOp& post) {
  check_bf16(spec);
  return guarded("conv2d", [&] {
    const auto& e = conv_forward_entry(x.shape(), w.shape(), b.defined(), spec, training, post);
    const auto& pd = pd_of<dnnl::convolution_forward>(e);
    Exec ex;
    ex.input(DNNL_ARG_SRC, pd.src_desc(), x);
    ex.input(DNNL_ARG_WEIGHTS, pd.weights_desc(), w, plain_md(conv_weight_dims(w.shape(), spec.groups)));
    if (b.defined()) ex.input(DNNL_ARG_BIAS, pd.bias_desc(), b);
    Tensor y = ex.output_chosen(DNNL_ARG_DST, pd.dst_desc(), conv_out_shape(x.shape(), w.shape(), spec));
    ex.run(e);
    return y;
  }, x, w, b);
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape, const ConvSpec& spec) {
  check_bf16(spec);
  return guarded("conv2d backward data", [&] {
    const Shape& ws = w.shape();
    const auto& e = context().get<dnnl::convolution_backward_data>(
        conv_key(Prop::bwd_data, x_shape, ws, spec, conv_flags(spec, 0), 0.0), [&] {
          const auto& hint = pd_of<dnnl::convolution_forward>(conv_forward_entry(x_shape, ws, false, spec, true, {}));
          const bool nhwc = channels_last(x_shape, ws);
          dnnl::convolution_backward_data::desc d(
              conv_algorithm(x_shape, ws, spec, true), conv_act_md(x_shape, nhwc), conv_weight_md(ws, spec),
              conv_act_md(dy.shape(), nhwc, conv_math(spec)), {spec.stride, spec.stride},
              {spec.dilation - 1, spec.dilation - 1},
              {spec.pad, spec.pad}, {spec.pad, spec.pad});
          return dnnl::convolution_backward_data::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    const auto& pd = pd_of<dnnl::convolution_backward_data>(e);
    Exec ex;
    ex.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), dy);
    ex.input(DNNL_ARG_WEIGHTS, pd.weights_desc(), w, plain_md(conv_weight_dims(ws, spec.groups)));
    Tensor dx = ex.output_chosen(DNNL_ARG_DIFF_SRC, pd.diff_src_desc(), x_shape);
    ex.run(e);
    return dx;
  }, dy, w);
}

ConvWeightGrads conv2d_backward_weights(const Tensor& x, const Tensor& dy, const Shape& w_shape, const ConvSpec& spec,
                                        bool with_bias) {
  check_bf16(spec);
  return guarded("conv2d backward weights", [&] {
    const auto& e = context().get<dnnl::convolution_backward_weights>(
        conv_key(Prop::bwd_weights, x.shape(), w_shape, spec, conv_flags(spec, with_bias ? kWithBias : 0), 0.0), [&] {
          const auto& hint =
              pd_of<dnnl::convolution_forward>(conv_forward_entry(x.shape(), w_shape, with_bias, spec, true, {}));
          const memory::desc bias_md = with_bias ? any_md({w_shape[0]}) : memory::desc();
          const bool nhwc = channels_last(x.shape(), w_shape);
          dnnl::convolution_backward_weights::desc d(
              conv_algorithm(x.shape(), w_shape, spec, true), conv_act_md(x.shape(), nhwc, conv_math(spec)),
              any_md(conv_weight_dims(w_shape, spec.groups)), bias_md, conv_act_md(dy.shape(), nhwc, conv_math(spec)),
              {spec.stride, spec.stride}, {spec.dilation - 1, spec.dilation - 1},
              {spec.pad, spec.pad}, {spec.pad, spec.pad});
          return dnnl::convolution_backward_weights::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    const auto& pd = pd_of<dnnl::convolution_backward_weights>(e);
    ConvWeightGrads g;
    g.dw = Tensor::empty(w_shape, core::DType::f32);
    Exec ex;
    ex.input(DNNL_ARG_SRC, pd.src_desc(), x);
    ex.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), dy);
    ex.output(DNNL_ARG_DIFF_WEIGHTS, pd.diff_weights_desc(), g.dw, plain_md(conv_weight_dims(w_shape, spec.groups)));
    if (with_bias) {
      g.db = Tensor::empty({w_shape[0]}, core::DType::f32);
      ex.output(DNNL_ARG_DIFF_BIAS, pd.diff_bias_desc(), g.db);
    }
    ex.run(e);
    return g;
  }, x, dy);
}

BatchNormStats batch_norm_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  return guarded("batch_norm2d", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const auto& e = bn_forward_entry(x.shape(), eps, false, src.layout);
    const auto& pd = pd_of<dnnl::batch_normalization_forward>(e);
    const std::int64_t c = x.shape()[1];
    BatchNormStats s{Tensor(), Tensor::empty({c}, core::DType::f32), Tensor::empty({c}, core::DType::f32)};
    ex.bind(DNNL_ARG_SRC, src.mem);
    ex.input(DNNL_ARG_SCALE, plain_md({c}), weight);
    ex.input(DNNL_ARG_SHIFT, plain_md({c}), bias);
    s.y = ex.output_in(DNNL_ARG_DST, x.shape(), src.layout);
    ex.output(DNNL_ARG_MEAN, pd.mean_desc(), s.mean);
    ex.output(DNNL_ARG_VARIANCE, pd.variance_desc(), s.var);
    ex.run(e);
    return s;
  }, x, weight, bias);
}

Tensor batch_norm_forward_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& mean,
                                    const Tensor& var, double eps) {
  return guarded("batch_norm2d", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const auto& e = bn_forward_entry(x.shape(), eps, true, src.layout);
    const auto& pd = pd_of<dnnl::batch_normalization_forward>(e);
    const std::int64_t c = x.shape()[1];
    ex.bind(DNNL_ARG_SRC, src.mem);
    ex.input(DNNL_ARG_SCALE, plain_md({c}), weight);
    ex.input(DNNL_ARG_SHIFT, plain_md({c}), bias);
    ex.input(DNNL_ARG_MEAN, pd.mean_desc(), mean);
    ex.input(DNNL_ARG_VARIANCE, pd.variance_desc(), var);
    Tensor y = ex.output_in(DNNL_ARG_DST, x.shape(), src.layout);
    ex.run(e);
    return y;
  }, x, weight, bias);
}

BatchNormGrads batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                   const Tensor& var, double eps, bool global_stats) {
  return guarded("batch_norm2d backward", [&] {
    const Shape& xs = x.shape();
    Exec ex;
    // dy follows x's layout: the primitive is built for one of them.
    const Source src = ex.read(x);
    const Layout l = src.layout;
    const auto& e = context().get<dnnl::batch_normalization_backward>(
        {PrimKind::batch_norm, Prop::bwd, {xs}, {}, core::DType::f32, global_stats ? kGlobalStats : 0u, eps, l}, [&] {
          const auto& hint = pd_of<dnnl::batch_normalization_forward>(bn_forward_entry(xs, eps, global_stats, l));
          dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, layout_md(xs, l), layout_md(xs, l),
                                                     static_cast<float>(eps), bn_flags(global_stats));
          return dnnl::batch_normalization_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    const auto& pd = pd_of<dnnl::batch_normalization_backward>(e);
    const std::int64_t c = xs[1];
    BatchNormGrads g{Tensor(), Tensor::empty({c}, core::DType::f32), Tensor::empty({c}, core::DType::f32)};
    ex.bind(DNNL_ARG_SRC, src.mem);
    ex.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), dy);
    ex.input(DNNL_ARG_MEAN, pd.mean_desc(), mean);
    ex.input(DNNL_ARG_VARIANCE, pd.variance_desc(), var);
    ex.input(DNNL_ARG_SCALE, plain_md({c}), weight);
    // oneDNN 2.6 checks that a use_shift backward is given the shift too,
    // although no gradient depends on it; the weight stands in.
    ex.input(DNNL_ARG_SHIFT, plain_md({c}), weight);
    g.dx = ex.output_in(DNNL_ARG_DIFF_SRC, xs, l);
    ex.output(DNNL_ARG_DIFF_SCALE, plain_md({c}), g.dweight);
    ex.output(DNNL_ARG_DIFF_SHIFT, plain_md({c}), g.dbias);
    ex.run(e);
    return g;
  }, dy, x, weight);
}

namespace {

kernels::ChannelView channel_view(const Shape& s, Layout l) {
  switch (l) {
    case Layout::nChw16c: return kernels::ChannelView::blocked(s, 16);
    case Layout::nChw8c: return kernels::ChannelView::blocked(s, 8);
    case Layout::nhwc: return kernels::ChannelView::nhwc(s);
    case Layout::plain: break;
  }
  return kernels::ChannelView::nchw(s);
}

float* floats(const memory& m) { return static_cast<float*>(m.get_data_handle()); }

}  // namespace

BnLeakyForward bn_leaky_forward_training(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                                         double slope) {
  return guarded("batch_norm_leaky", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const std::int64_t c = x.shape()[1];
    BnLeakyForward r{ex.output_in(DNNL_ARG_DST, x.shape(), src.layout), Tensor::empty({c}, core::DType::f32),
                     Tensor::empty({c}, core::DType::f32)};
    kernels::bn_leaky_forward<float>(channel_view(x.shape(), src.layout), floats(src.mem), weight.data<float>(),
                                     bias.data<float>(), eps, slope, floats(ex.arg(DNNL_ARG_DST)),
                                     r.mean.mutable_data<float>(), r.var.mutable_data<float>());
    return r;
  }, x, weight, bias);
}

BatchNormGrads bn_leaky_backward(const Tensor& dy, const Tensor& y, const Tensor& x, const Tensor& weight,
                                 const Tensor& bias, const Tensor& mean, const Tensor& var, double eps, double slope) {
  return guarded("batch_norm_leaky backward", [&] {
    Exec ex;
    // Everything in y's layout: dy (and x) are reordered only if they differ.
    const Source ys = ex.read(y);
    const memory::desc want = layout_md(y.shape(), ys.layout);
    const memory diff = ex.convert(ex.read(dy), want);
    const memory input = x.defined() ? ex.convert(ex.read(x), want) : memory();
    context().stream().wait();
    const std::int64_t c = y.shape()[1];
    BatchNormGrads g{ex.output_in(DNNL_ARG_DIFF_SRC, y.shape(), ys.layout), Tensor::empty({c}, core::DType::f32),
                     Tensor::empty({c}, core::DType::f32)};
    kernels::bn_leaky_backward<float>(channel_view(y.shape(), ys.layout), floats(diff), floats(ys.mem),
                                      x.defined() ? floats(input) : nullptr, weight.data<float>(), bias.data<float>(),
                                      mean.data<float>(), var.data<float>(), eps, slope,
                                      floats(ex.arg(DNNL_ARG_DIFF_SRC)), g.dweight.mutable_data<float>(),
                                      g.dbias.mutable_data<float>());
    return g;
  }, dy, y, x, weight);
}

Tensor leaky_relu_forward(const Tensor& x, double slope) {
  return guarded("leaky_relu", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const auto& e = leaky_forward_entry(x.numel(), slope, true);
    const Tensor y = ex.output_in(DNNL_ARG_DST, x.shape(), src.layout);
    ex.bind(DNNL_ARG_SRC, flat(src.mem));
    ex.bind(DNNL_ARG_DST, flat(ex.arg(DNNL_ARG_DST)));
    ex.run(e);
    return y;
  }, x);
}

namespace {

// dx from dy and either x (relu) or y (relu_use_dst_for_bwd), flat, in the
// layout of the tensor read.
Tensor leaky_backward(const Tensor& t, const Tensor& dy, double slope, bool from_output) {
  const std::int64_t n = t.numel();
  const auto algo = from_output ? dnnl::algorithm::eltwise_relu_use_dst_for_bwd : dnnl::algorithm::eltwise_relu;
  const auto& e = context().get<dnnl::eltwise_backward>(
      {PrimKind::eltwise, Prop::bwd, {{n}}, {}, core::DType::f32, from_output ? 1u : 0u, slope}, [&] {
        // The hint must use the same algorithm; relu_use_dst_for_bwd's
        // forward computes the same values as relu's.
        dnnl::eltwise_forward::primitive_desc hint(
            {dnnl::prop_kind::forward_training, algo, flat_md(n), static_cast<float>(slope), 0.0f},
            context().engine());
        dnnl::eltwise_backward::desc d(algo, flat_md(n), flat_md(n), static_cast<float>(slope), 0.0f);
        return dnnl::eltwise_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
      });
  Exec ex;
  // Flat elementwise: t, dy and dx only need one common layout, t's.
  const Source src = ex.read(t);
  const memory diff = ex.convert(ex.read(dy), layout_md(t.shape(), src.layout));
  const Tensor dx = ex.output_in(DNNL_ARG_DIFF_SRC, t.shape(), src.layout);
  ex.bind(from_output ? DNNL_ARG_DST : DNNL_ARG_SRC, flat(src.mem));
  ex.bind(DNNL_ARG_DIFF_DST, flat(diff));
  ex.bind(DNNL_ARG_DIFF_SRC, flat(ex.arg(DNNL_ARG_DIFF_SRC)));
  ex.run(e);
  return dx;
}

}  // namespace

Tensor leaky_relu_backward(const Tensor& x, const Tensor& dy, double slope) {
  return guarded("leaky_relu backward", [&] { return leaky_backward(x, dy, slope, false); }, x, dy);
}

Tensor leaky_relu_backward_from_output(const Tensor& y, const Tensor& dy, double slope) {
  return guarded("leaky_relu backward", [&] { return leaky_backward(y, dy, slope, true); }, y, dy);
}

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
    for (const auto& x : xs) srcs.push_back(ex.read(x));
    // One layout for all: the inputs' common one, else plain. Our layouts
    // have whole channel blocks, so every input starts on a block boundary.
    Layout l = srcs[0].layout;
    for (const auto& src : srcs) l = src.layout == l ? l : Layout::plain;
    const auto& e = context().get<dnnl::concat>(
        {PrimKind::concat, Prop::fwd_inference, in_shapes, {0, 0, 0, 0, axis}, core::DType::f32, 0, 0.0, l}, [&] {
          std::vector<memory::desc> mds;
          for (const auto& s : in_shapes) mds.push_back(layout_md(s, l));
          return dnnl::concat::primitive_desc(layout_md(ys, l), axis, mds, context().engine(), user_scratchpad());
        });
    for (std::size_t i = 0; i < xs.size(); ++i) {
      ex.bind(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), ex.convert(srcs[i], layout_md(in_shapes[i], l)));
    }
    Tensor y = ex.output_in(DNNL_ARG_DST, ys, l);
    ex.run(e);
    return y;
  } catch (const dnnl::error& e) {
    throw core::BackendError(fmt::format("concat (oneDNN): {} (status {}) for float32 {}", e.what(),
                                         static_cast<int>(e.status), shapes));
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
      dnnl::reorder(from, to).execute(context().stream(), from, to);
      grads.push_back(std::move(dx));
      offsets[axis] += s[axis];
    }
    context().stream().wait();
    return grads;
  }, dy);
}

Tensor upsample_nearest_forward(const Tensor& x, std::int64_t factor) {
  return guarded("upsample_nearest2d", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const auto& e = resample_forward_entry(x.shape(), factor, true, src.layout);
    ex.bind(DNNL_ARG_SRC, src.mem);
    Tensor y = ex.output_in(DNNL_ARG_DST, upsampled(x.shape(), factor), src.layout);
    ex.run(e);
    return y;
  }, x);
}

Tensor upsample_nearest_backward(const Tensor& dy, std::int64_t factor) {
  return guarded("upsample_nearest2d backward", [&] {
    const Shape& ds = dy.shape();
    const Shape xs = {ds[0], ds[1], ds[2] / factor, ds[3] / factor};
    Exec ex;
    const Source diff = ex.read(dy);
    const Layout l = diff.layout;
    const auto& e = context().get<dnnl::resampling_backward>(
        {PrimKind::resample, Prop::bwd, {xs}, {0, 0, 0, 0, factor}, core::DType::f32, 0, 0.0, l}, [&] {
          const auto& hint = pd_of<dnnl::resampling_forward>(resample_forward_entry(xs, factor, true, l));
          dnnl::resampling_backward::desc d(dnnl::algorithm::resampling_nearest, layout_md(xs, l), layout_md(ds, l));
          return dnnl::resampling_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    ex.bind(DNNL_ARG_DIFF_DST, diff.mem);
    Tensor dx = ex.output_in(DNNL_ARG_DIFF_SRC, xs, l);
    ex.run(e);
    return dx;
  }, dy);
}

PoolResult maxpool_forward(const Tensor& x, const PoolSpec& spec, bool training) {
  return guarded("maxpool2d", [&] {
    Exec ex;
    const Source src = ex.read(x);
    const auto& e = pool_forward_entry(x.shape(), spec, training, src.layout);
    const auto& pd = pd_of<dnnl::pooling_forward>(e);
    PoolResult r;
    ex.bind(DNNL_ARG_SRC, src.mem);
    r.y = ex.output_in(DNNL_ARG_DST, pool_out_shape(x.shape(), spec), src.layout);
    if (training) {
      // The workspace indexes dst in its layout, so backward must be built
      // for the same one: its last word records which.
      const memory::desc ws = pd.workspace_desc();
      const auto words = static_cast<std::int64_t>((ws.get_size() + 3) / 4);
      r.workspace = Tensor::empty({words + 1}, core::DType::i32);
      auto* p = r.workspace.mutable_data<std::int32_t>();
      p[words] = static_cast<std::int32_t>(src.layout);
      ex.raw(DNNL_ARG_WORKSPACE, ws, p);
    }
    ex.run(e);
    return r;
  }, x);
}

Tensor maxpool_backward(const Tensor& dy, const Tensor& workspace, const Shape& x_shape, const PoolSpec& spec) {
  return guarded("maxpool2d backward", [&] {
    const auto l = static_cast<Layout>(workspace.data<std::int32_t>()[workspace.numel() - 1]);
    const auto& e = context().get<dnnl::pooling_backward>(
        {PrimKind::pool, Prop::bwd, {x_shape}, {spec.stride, spec.pad_begin, spec.pad_end, 0, spec.kernel},
         core::DType::f32, 0, 0.0, l},
        [&] {
          const auto& hint = pd_of<dnnl::pooling_forward>(pool_forward_entry(x_shape, spec, true, l));
          dnnl::pooling_backward::desc d(dnnl::algorithm::pooling_max, layout_md(x_shape, l),
                                         layout_md(dy.shape(), l), {spec.stride, spec.stride},
                                         {spec.kernel, spec.kernel}, {spec.pad_begin, spec.pad_begin},
                                         {spec.pad_end, spec.pad_end});
          return dnnl::pooling_backward::primitive_desc(d, user_scratchpad(), context().engine(), hint);
        });
    const auto& pd = pd_of<dnnl::pooling_backward>(e);
    Exec ex;
    ex.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), dy);
    ex.raw(DNNL_ARG_WORKSPACE, pd.workspace_desc(), ptr(workspace));
    Tensor dx = ex.output_in(DNNL_ARG_DIFF_SRC, x_shape, l);
    ex.run(e);
    return dx;
  }, dy);
}

void sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b, float* c) {
  const dnnl::status st = dnnl::sgemm('N', 'N', m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
  if (st != dnnl::status::success) {
    throw core::BackendError(fmt::format("sgemm (oneDNN): status {} for [{},{}] x [{},{}]", static_cast<int>(st), m, k,
                                         k, n));
  }
}

struct PlainConvBench::Impl {
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
  std::unordered_map<int, memory> fwd_args, data_args, weights_args;
};

PlainConvBench::PlainConvBench(const Shape& x, const Shape& w, const ConvSpec& s) : impl_(std::make_unique<Impl>()) {
  guarded("conv2d plain benchmark", [&] {
    const dnnl::engine& eng = context().engine();
    const Shape y = conv_out_shape(x, w, s);
    const memory::desc wd = any_md(conv_weight_dims(w, s.groups)), bd;  // Darknet's BN convolutions have no bias
    const memory::dims st{s.stride, s.stride}, dil{s.dilation - 1, s.dilation - 1}, pad{s.pad, s.pad};
    const auto algo = dnnl::algorithm::convolution_direct;
    dnnl::convolution_forward::primitive_desc fpd(
        {dnnl::prop_kind::forward_training, algo, any_md(x), wd, bd, any_md(y), st, dil, pad, pad}, eng);
    dnnl::convolution_backward_data::primitive_desc dpd({algo, any_md(x), wd, any_md(y), st, dil, pad, pad}, eng, fpd);
    dnnl::convolution_backward_weights::primitive_desc wpd({algo, any_md(x), wd, bd, any_md(y), st, dil, pad, pad},
                                                           eng, fpd);
    auto fill = [&](const memory::desc& md) {
      memory m(md, eng);
      float* p = static_cast<float*>(m.get_data_handle());
      for (std::size_t i = 0; i < md.get_size() / sizeof(float); ++i) p[i] = 0.01f * static_cast<float>(i % 97);
      return m;
    };
    impl_->fwd = dnnl::convolution_forward(fpd);
    impl_->bwd_data = dnnl::convolution_backward_data(dpd);
    impl_->bwd_weights = dnnl::convolution_backward_weights(wpd);
    impl_->fwd_args = {{DNNL_ARG_SRC, fill(fpd.src_desc())}, {DNNL_ARG_WEIGHTS, fill(fpd.weights_desc())}, {DNNL_ARG_DST, fill(fpd.dst_desc())}};
    impl_->data_args = {{DNNL_ARG_DIFF_DST, fill(dpd.diff_dst_desc())}, {DNNL_ARG_WEIGHTS, fill(dpd.weights_desc())},
                        {DNNL_ARG_DIFF_SRC, fill(dpd.diff_src_desc())}};
    impl_->weights_args = {{DNNL_ARG_SRC, fill(wpd.src_desc())}, {DNNL_ARG_DIFF_DST, fill(wpd.diff_dst_desc())},
                           {DNNL_ARG_DIFF_WEIGHTS, fill(wpd.diff_weights_desc())}};
    return 0;
  });
}

PlainConvBench::~PlainConvBench() = default;

void PlainConvBench::forward() {
  impl_->fwd.execute(context().stream(), impl_->fwd_args);
  context().stream().wait();
}

void PlainConvBench::backward() {
  impl_->bwd_data.execute(context().stream(), impl_->data_args);
  impl_->bwd_weights.execute(context().stream(), impl_->weights_args);
  context().stream().wait();
}

std::size_t cached_primitive_count() { return context().size(); }

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

}  // namespace ops::backend
