// Weights converted once per optimizer update (see kept_weights.h and
// KeepConvertedWeights in dnnl.h).
#include "ops/backend/kept_weights.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "ops/backend/context.h"
#include "ops/backend/dnnl.h"
#include "ops/backend/exec.h"
#include "ops/backend/layout.h"
#include "ops/backend/scratchpad.h"

namespace ops::backend {

namespace {

// No tensor has this version: the kept buffer holds no conversion yet.
constexpr std::uint64_t kNotConverted = ~std::uint64_t{0};

struct Kept {
  memory::desc want;
  std::uint64_t version;
  ScratchPool::Buffer buffer;
};

// The conversions of each weight's storage, held (the storage too, so its
// address cannot be reused) until the last guard ends. Process-wide like
// PlanOnly's mode, which it follows: a trainer's passes run on one thread
// and a guard spans them; a convolution on another thread while a guard
// lives would keep its weights too, and must end before the guard does.
struct KeptWeights {
  std::mutex mutex;
  int guards = 0;
  std::map<const core::Storage*, std::pair<std::shared_ptr<core::Storage>, std::vector<Kept>>> kept;

  void clear() {
    for (auto& [key, entry] : kept) {
      for (const Kept& k : entry.second) ScratchPool::release(k.buffer);
    }
    kept.clear();
  }
};

KeptWeights& kept_weights() {
  static KeptWeights* k = new KeptWeights;  // never destroyed: guards may end during exit
  return *k;
}

}  // namespace

KeepConvertedWeights::KeepConvertedWeights() {
  KeptWeights& k = kept_weights();
  const std::lock_guard lock(k.mutex);
  ++k.guards;
}

KeepConvertedWeights::~KeepConvertedWeights() {
  KeptWeights& k = kept_weights();
  const std::lock_guard lock(k.mutex);
  if (--k.guards == 0) k.clear();
}

std::optional<memory> kept_conversion(const Tensor& t, const memory& plain, const memory::desc& want) {
  // Only conversions to bfloat16 are kept (kept_weights.h says why).
  if (want.data_type() != memory::data_type::bf16) return std::nullopt;
  KeptWeights& k = kept_weights();
  const std::lock_guard lock(k.mutex);
  if (k.guards == 0 || plan_only() || !t.storage()) return std::nullopt;
  auto& [storage, conversions] = k.kept[t.storage().get()];
  if (!storage) storage = t.storage();
  Kept* kept = nullptr;
  for (Kept& c : conversions) kept = c.want == want ? &c : kept;
  if (kept != nullptr && kept->version == t.version()) return memory(want, context().engine(), kept->buffer.data);
  if (kept == nullptr) kept = &conversions.emplace_back(Kept{want, kNotConverted, ScratchPool::acquire(want.get_size())});
  kept->version = kNotConverted;  // until the conversion below has run
  memory to(want, context().engine(), kept->buffer.data);
  reorder(plain, to);
  context().stream().wait();
  kept->version = t.version();
  return to;
}

std::size_t kept_conversion_count() {
  KeptWeights& k = kept_weights();
  const std::lock_guard lock(k.mutex);
  std::size_t n = 0;
  for (const auto& [key, entry] : k.kept) n += entry.second.size();
  return n;
}

}  // namespace ops::backend
