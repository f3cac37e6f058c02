#include "core/buffer_cache.h"

#include <algorithm>
#include <cstdlib>
#include <new>

// Under AddressSanitizer an idle buffer is poisoned, so a use after release
// is reported as it would be for freed memory (the macros are no-ops
// otherwise).
#if defined(__SANITIZE_ADDRESS__)
#define YOLO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define YOLO_ASAN 1
#endif
#endif
#ifdef YOLO_ASAN
#include <sanitizer/asan_interface.h>
#define YOLO_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define YOLO_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define YOLO_POISON(p, n) ((void)(p), (void)(n))
#define YOLO_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace core {

namespace {

constexpr std::size_t kPage = 4096;

std::size_t round_up(std::size_t bytes, std::size_t to) { return (std::max<std::size_t>(bytes, 1) + to - 1) / to * to; }

void* allocate(std::size_t capacity) {
  void* p = std::aligned_alloc(BufferCache::kAlignment, capacity);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

BufferCache::~BufferCache() { trim(); }

void* BufferCache::acquire(std::size_t bytes, std::size_t* capacity) {
  // Decided on the rounded size, as release() decides on the capacity.
  if (const std::size_t small = round_up(bytes, kAlignment); small < kMinCachedBytes) {
    *capacity = small;
    return allocate(small);
  }
  const std::size_t want = round_up(bytes, kPage);
  std::unique_lock lock(mutex_);
  if (auto it = by_size_.lower_bound(want); it != by_size_.end() && it->first - want <= want / 8) {
    it = std::prev(by_size_.upper_bound(it->first));  // of equal sizes, the most recently released (warmest)
    const Idle idle = *it->second;
    lru_.erase(it->second);
    by_size_.erase(it);
    stats_.idle_bytes -= idle.capacity;
    stats_.in_use_bytes += idle.capacity;
    stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
    ++stats_.hits;
    *capacity = idle.capacity;
    YOLO_UNPOISON(idle.data, idle.capacity);
    return idle.data;
  }
  const std::size_t budget = stats_.peak_in_use_bytes + stats_.peak_in_use_bytes / 4;
  while (!lru_.empty() && stats_.in_use_bytes + stats_.idle_bytes + want > budget) evict_oldest();
  ++stats_.misses;
  stats_.in_use_bytes += want;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  lock.unlock();
  try {
    *capacity = want;
    return allocate(want);
  } catch (...) {
    std::lock_guard again(mutex_);
    stats_.in_use_bytes -= want;
    --stats_.misses;
    throw;
  }
}

void BufferCache::release(void* data, std::size_t capacity) {
  if (data == nullptr) return;
  if (capacity < kMinCachedBytes) {
    std::free(data);
    return;
  }
  YOLO_POISON(data, capacity);
  std::lock_guard lock(mutex_);
  stats_.in_use_bytes -= capacity;
  stats_.idle_bytes += capacity;
  lru_.push_back({data, capacity});
  by_size_.emplace(capacity, std::prev(lru_.end()));
}

void BufferCache::evict_oldest() {
  const Idle oldest = lru_.front();
  for (auto [it, end] = by_size_.equal_range(oldest.capacity); it != end; ++it) {
    if (it->second == lru_.begin()) {
      by_size_.erase(it);
      break;
    }
  }
  lru_.pop_front();
  stats_.idle_bytes -= oldest.capacity;
  YOLO_UNPOISON(oldest.data, oldest.capacity);
  std::free(oldest.data);
}

void BufferCache::trim() {
  std::lock_guard lock(mutex_);
  while (!lru_.empty()) evict_oldest();
}

BufferCache::Stats BufferCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

BufferCache& buffer_cache() {
  static BufferCache* cache = new BufferCache;
  return *cache;
}

}  // namespace core
