// BufferCache: keeps large freed buffers for the next request of about the
// same size, so a training step that allocates the same activations as the
// step before reuses their pages instead of asking the system for fresh ones.
//
// Why: glibc returns blocks over 32 MiB to the kernel on free, and the next
// allocation pays a page fault and a zeroed page per 4 KiB. At YOLOv3-416,
// batch 8, that was a fifth of the step. Every step allocates the same sizes
// in the same order, so a cache keyed by size serves all of them after the
// first step.
//
// Policy:
// - requests under kMinCachedBytes go straight to aligned_alloc/free;
// - a request takes the smallest idle buffer of at least its size and at most
//   1/8 more (the most recently released of equal ones), so a big buffer is
//   never spent on a much smaller tensor;
// - idle plus in-use bytes stay within the largest in-use total seen so far
//   plus a quarter: a request that misses first frees idle buffers, least
//   recently released first. The quarter is room for buffers of sizes that
//   peak at different times of a step (without it, each step evicted what a
//   later part of it needed); a change of image size (multi-scale training)
//   trades old-size buffers for new ones instead of holding both;
// - buffers of kHugePageBytes or more are their own mappings, 2 MiB aligned
//   and marked for transparent huge pages, so the first touch of a fresh
//   one (the first step, a new multi-scale size) faults 2 MiB at a time;
// - a request of that size that no idle buffer serves and that would go
//   over the budget reshapes the idle mapping nearest in size (within a
//   factor of kRecycleFactor) with mremap, keeping its pages, before any
//   eviction: after a change of image size most new tensors land on the old
//   size's pages instead of fresh zeroed ones, whose zeroing was most of the
//   first step's extra time at a new size. A repeated step never misses, so
//   nothing is reshaped in steady state.
// Thread-safe; one process-wide instance (buffer_cache()).
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <mutex>

namespace core {

class BufferCache {
 public:
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kMinCachedBytes = std::size_t{1} << 20;
  static constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
  static constexpr std::size_t kRecycleFactor = 4;

  struct Stats {
    std::size_t in_use_bytes = 0;   // cached-size buffers handed out now
    std::size_t idle_bytes = 0;     // kept for reuse
    std::size_t peak_in_use_bytes = 0;
    std::size_t hits = 0;           // requests served from idle buffers
    std::size_t misses = 0;         // requests that allocated
    std::size_t recycled = 0;       // requests served by reshaping an idle mapping
  };

  BufferCache() = default;
  BufferCache(const BufferCache&) = delete;
  BufferCache& operator=(const BufferCache&) = delete;
  ~BufferCache();

  // At least `bytes` (64-byte aligned); *capacity receives the size to give
  // back to release(). Throws std::bad_alloc when the system has no memory.
  void* acquire(std::size_t bytes, std::size_t* capacity);
  void release(void* data, std::size_t capacity);

  // Frees every idle buffer (tests; a caller that knows it is done).
  void trim();
  Stats stats() const;

 private:
  struct Idle {
    void* data;
    std::size_t capacity;
  };
  using Lru = std::list<Idle>;  // front: least recently released

  // An idle mapping near `want` in size reshaped to it (in use), or nullptr.
  void* recycle(std::size_t want);
  void evict_oldest();

  mutable std::mutex mutex_;
  Lru lru_;
  std::multimap<std::size_t, Lru::iterator> by_size_;
  Stats stats_;
};

// The process-wide cache (never destroyed: tensors may be freed during exit).
BufferCache& buffer_cache();

}  // namespace core
