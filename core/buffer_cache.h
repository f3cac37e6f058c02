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
// - a request takes, in order of preference:
//   1. the smallest idle buffer of at least its size and at most
//      kRecycleFactor times it, whole (the most recently released of equal
//      ones): a repeated step gets back exactly the buffers it had, and a
//      step at a smaller multi-scale size those of the larger one;
//   2. the largest idle mapping below its size (within kRecycleFactor),
//      grown with mremap, keeping its pages: at a larger size, a request
//      that no idle buffer covers grows an old one and faults fresh pages
//      only for the growth, not for all of it (their zeroing was most of
//      the first step's extra time at a new size);
//   3. a fresh buffer;
//   taking a larger buffer whole comes first because growing a smaller
//   one took it from the request it would have served next, which then
//   grew another in turn: at a size larger than the last, every step grew
//   buffers and the budget freed the ones the next step needed (bf16
//   yolov3-tiny at 448 after 416: about 110 MiB of fresh pages every step,
//   each step 1.1-1.2 x a settled one; YOLOv3-416 multi-scale, 352..480:
//   13 x the page faults and a tenth more peak memory);
//   before a fresh buffer and after growing one, idle buffers are freed
//   (least recently released first) until idle plus in-use bytes fit the
//   budget: the largest in-use total seen so far plus a quarter. The quarter
//   is room for buffers of sizes that peak at different times of a step;
// - buffers never shrink. Multi-scale training (a random size from 320 to
//   608, 3.6x the bytes, every step) then settles on buffers that serve
//   every size, and once each size has come a step faults almost no pages
//   (a fixed size settles within a few steps, then faults none). When a
//   buffer was cut to each request instead, a step at 320 after one at 608
//   shrank buffers that the next 608 step grew back: thousands of fresh
//   pages every step (YOLOv3-416, sizes 352..480: 12,043 a step, now about
//   600; README, speed);
// - buffers of kHugePageBytes or more are their own mappings, 2 MiB aligned
//   and marked for transparent huge pages, so the first touch of a fresh
//   one faults 2 MiB at a time.
// - while prefault is on (set_prefault; ops::backend::PlanOnly turns it on),
//   a cached-size request has the pages of its bytes faulted in and
//   written once from user space (one byte per page, written back
//   unchanged) before the buffer is returned, so a later step that writes
//   them pays no page fault, nor the cost a virtual machine charges for the
//   first user write to a page (buffer_cache.cpp, prefault). A planning
//   pass, which writes nothing, thereby leaves the buffers of its sizes
//   ready.
// - while a LongLivedBuffers guard lives on the requesting thread, a
//   request takes only an idle buffer of at most an eighth more than it
//   asks, else a fresh one (see the guard);
// Thread-safe; one process-wide instance (buffer_cache()).
#pragma once

#include <atomic>
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
    std::size_t recycled = 0;       // requests served by growing an idle mapping
  };

  BufferCache() = default;
  BufferCache(const BufferCache&) = delete;
  BufferCache& operator=(const BufferCache&) = delete;
  ~BufferCache();

  // At least `bytes` (64-byte aligned); *capacity receives the size to give
  // back to release(). Throws std::bad_alloc when the system has no memory.
  void* acquire(std::size_t bytes, std::size_t* capacity);
  void release(void* data, std::size_t capacity);
  // Gives a buffer from acquire() back to the system instead of keeping it
  // idle: for memory the process will not need again (weights dropped for
  // good), which an idle buffer would keep in the resident set.
  void discard(void* data, std::size_t capacity);

  // Turns prefaulting on or off (see the policy above); returns the previous
  // setting.
  bool set_prefault(bool on);

  // Frees every idle buffer (tests; a caller that knows it is done).
  void trim();
  Stats stats() const;

 private:
  struct Idle {
    void* data;
    std::size_t capacity;
  };
  using Lru = std::list<Idle>;  // front: least recently released
  using BySize = std::multimap<std::size_t, Lru::iterator>;

  // acquire() without the prefault.
  void* acquire_buffer(std::size_t bytes, std::size_t* capacity);
  // An idle buffer of the size at it (the most recently released), now in use.
  void* take(BySize::iterator it, std::size_t* capacity);
  // The largest idle mapping under `want` (within kRecycleFactor) grown to
  // it, now in use, or nullptr.
  void* grow_below(std::size_t want);
  // Frees idle buffers, least recently released first, until idle plus
  // in-use bytes plus `extra` fit the budget (or none is idle).
  void evict_to_budget(std::size_t extra);
  void evict_oldest();

  mutable std::mutex mutex_;
  std::atomic<bool> prefault_{false};
  Lru lru_;
  BySize by_size_;
  Stats stats_;
};

// Marks the requests made on this thread while it lives as memory that
// will be kept far longer than a step (an inference model's prepared
// weights): each is served by an idle buffer of at most an eighth more than
// it asks, or a fresh one, instead of a larger idle buffer taken whole,
// whose surplus it would hold for the life of the process (YOLOv3-416's
// float32 forward: 52 MiB of its prepared weights). Guards nest.
class LongLivedBuffers {
 public:
  LongLivedBuffers();
  ~LongLivedBuffers();
  LongLivedBuffers(const LongLivedBuffers&) = delete;
  LongLivedBuffers& operator=(const LongLivedBuffers&) = delete;
  // Whether a guard lives on the calling thread.
  static bool active();
};

// Gives the free pages inside the C library's heap back to the system
// (glibc's malloc_trim; nothing elsewhere). Requests under kMinCachedBytes
// come from that heap, and freeing them leaves their pages in the process:
// a caller that has just freed memory for good calls this (each conv block
// of an inference model, once, as it gives its unfolded weights back after
// folding: YOLOv3-416's float32 forward then peaks at 652 MiB, not 699).
// Not after every step: the next step would fault the pages in again.
void give_freed_heap_back();

// The process-wide cache (never destroyed: tensors may be freed during exit).
BufferCache& buffer_cache();

}  // namespace core
