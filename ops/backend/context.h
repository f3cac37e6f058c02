// DnnlContext: the engine, the stream, the primitive cache and the
// scratchpad, the seam's only oneDNN state. One instance, held by the
// backend (context()) and created on first use. Internal to the seam
// (includes dnnl.hpp); the ops' *_dnnl.cpp files use it.
//
// The cache is keyed by a plain struct (op kind, propagation kind, shapes,
// geometry, dtype, flags, layout), so a training step reuses primitives
// instead of recreating them. It stores each primitive_desc beside its
// primitive, because backward creation needs the forward one as a hint. It
// also remembers, under the same key type and lock, whether oneDNN can create
// a primitive at all (Winograd's availability), so a refusal is asked once.
#pragma once

#include <any>
#include <array>
#include <atomic>
#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "ops/backend/layout.h"
#include "ops/backend/scratchpad.h"

namespace ops::backend {

enum class PrimKind : std::uint8_t { conv, batch_norm, eltwise, binary_add, concat, resample, pool };
enum class Prop : std::uint8_t { fwd_training, fwd_inference, bwd, bwd_data, bwd_weights };

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
  dt values = dt::f32;            // their type (bf16 under mixed precision), for ops that keep it
  auto operator<=>(const PrimitiveKey&) const = default;
};

struct CacheEntry {
  CacheEntry(dnnl::primitive p, std::any d, memory::desc s)
      : primitive(std::move(p)), pd(std::move(d)), scratchpad(std::move(s)) {}
  dnnl::primitive primitive;
  std::any pd;  // the typed primitive_desc, e.g. convolution_forward::primitive_desc
  memory::desc scratchpad;  // the temporary memory one run needs (Exec::run provides it)
};

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

  // Whether probe() (which creates primitive descriptors) succeeds for key:
  // a dnnl::error from it, or false where it returns a bool, means no.
  // Asked once per key, then remembered.
  template <class Probe>
  bool available(const PrimitiveKey& key, Probe&& probe) {
    std::lock_guard lock(mutex_);
    if (auto it = available_.find(key); it != available_.end()) return it->second;
    bool ok = true;
    try {
      if constexpr (std::is_same_v<decltype(probe()), bool>) {
        ok = probe();
      } else {
        probe();
      }
    } catch (const dnnl::error&) {
      ok = false;
    }
    available_.emplace(key, ok);
    return ok;
  }

  // How many primitives the cache holds.
  std::size_t size();

  // Plan-only mode (PlanOnly in dnnl.h): primitives are created, not run,
  // while at least one guard lives. Entering returns the depth before.
  bool plan_only() const { return plan_depth_.load(std::memory_order_relaxed) > 0; }
  int enter_plan() { return plan_depth_.fetch_add(1); }
  int leave_plan() { return plan_depth_.fetch_sub(1); }

  std::pair<void*, std::unique_lock<std::mutex>> scratchpad(std::size_t bytes) { return scratchpad_.borrow(bytes); }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  // Recursive: creating a backward primitive looks up its forward hint, and
  // a forward convolution asks whether Winograd is available.
  std::recursive_mutex mutex_;
  std::map<PrimitiveKey, CacheEntry> cache_;
  std::map<PrimitiveKey, bool> available_;
  Scratchpad scratchpad_;
  std::atomic<int> plan_depth_{0};
};

// The one context, created on first use.
DnnlContext& context();

template <class Prim>
const typename Prim::primitive_desc& pd_of(const CacheEntry& e) {
  return std::any_cast<const typename Prim::primitive_desc&>(e.pd);
}

}  // namespace ops::backend
