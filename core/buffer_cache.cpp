#include "core/buffer_cache.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
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

// A mapping of `capacity` bytes starting on a 2 MiB boundary, marked for
// transparent huge pages: the kernel then maps (and zeroes) it 2 MiB at a
// time on first touch instead of 4 KiB at a time. A new multi-scale size
// meets gigabytes of fresh activations in one step; in 4 KiB pages that was
// half a million page faults and most of the step's extra time. Where huge
// pages are off, madvise fails and the mapping keeps small pages.
// `bytes` of fresh anonymous mapping starting on a 2 MiB boundary (the
// slack mapped around it to find the boundary is unmapped again), or nullptr.
void* map_aligned(std::size_t bytes, int prot, int flags) {
  constexpr std::size_t huge = BufferCache::kHugePageBytes;
  const std::size_t span = bytes + huge;
  void* raw = mmap(nullptr, span, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto begin = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t start = (begin + huge - 1) / huge * huge;
  const std::size_t head = start - begin, tail = span - head - bytes;
  if (head != 0) munmap(raw, head);
  if (tail != 0) munmap(reinterpret_cast<void*>(start + bytes), tail);
  return reinterpret_cast<void*>(start);
}

void* map_huge_aligned(std::size_t capacity) {
  void* p = map_aligned(capacity, PROT_READ | PROT_WRITE, 0);
  if (p == nullptr) throw std::bad_alloc();
  (void)madvise(p, capacity, MADV_HUGEPAGE);
  return p;
}

// The mapping at p (from map_huge_aligned, `from` bytes) grown to `to`
// bytes, keeping the pages it has: in place when the addresses after it are
// free, else moved onto a reserved range at a 2 MiB boundary (the kernel
// moves the page tables, not the pages). nullptr when the kernel refuses;
// p is then unchanged.
void* grow_huge_aligned(void* p, std::size_t from, std::size_t to) {
  void* moved = mremap(p, from, to, 0);
  if (moved == MAP_FAILED) {
    void* reserved = map_aligned(to, PROT_NONE, MAP_NORESERVE);
    if (reserved == nullptr) return nullptr;
    moved = mremap(p, from, to, MREMAP_MAYMOVE | MREMAP_FIXED, reserved);
    if (moved == MAP_FAILED) {
      munmap(reserved, to);
      return nullptr;
    }
  }
  (void)madvise(moved, to, MADV_HUGEPAGE);
  return moved;
}

// Readies the pages of [data, data + bytes) for writing, values unchanged:
// the kernel maps them in one call (MADV_POPULATE_WRITE, Linux 5.14 and
// later), then one byte per page is read and written back from user space.
// Why both: on a virtual machine whose hypervisor builds its own page tables
// as the guest's user code touches memory (this project's 2-core CI VMs),
// the kernel's populate leaves a cost of about 5 us per 4 KiB page for the
// first user write: writing 64 MiB after MADV_POPULATE_WRITE took 86 ms,
// again 0.5 ms. A planned size whose buffers were only populated paid that
// inside its first real step (the quick config's model: batch norm's
// output stores 4 x slower than in the next step). Where the populate call
// is missing, the loop alone faults the pages in; over pages already
// ready it costs about 30 ns a page.
void prefault(void* data, std::size_t bytes) {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;
#endif
  if (bytes == 0) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(data) / kPage * kPage;
  const auto end = reinterpret_cast<std::uintptr_t>(data) + bytes;
  (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
  // The first byte, every page start inside, and the last byte: each page
  // of the buffer once, no byte outside it.
  auto* p = static_cast<volatile unsigned char*>(data);
  p[0] = p[0];
  for (std::uintptr_t page = begin + kPage; page < end; page += kPage) {
    auto* q = reinterpret_cast<volatile unsigned char*>(page);
    *q = *q;
  }
  p[bytes - 1] = p[bytes - 1];
}

void* allocate(std::size_t capacity) {
  if (capacity >= BufferCache::kHugePageBytes) return map_huge_aligned(capacity);
  void* p = std::aligned_alloc(BufferCache::kAlignment, capacity);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void deallocate(void* p, std::size_t capacity) {
  if (capacity >= BufferCache::kHugePageBytes) {
    munmap(p, capacity);
  } else {
    std::free(p);
  }
}

}  // namespace

BufferCache::~BufferCache() { trim(); }

void* BufferCache::acquire(std::size_t bytes, std::size_t* capacity) {
  void* p = acquire_buffer(bytes, capacity);
  // The requested bytes only: a larger idle buffer taken whole is written
  // no further than the request.
  if (*capacity >= kMinCachedBytes && prefault_.load(std::memory_order_relaxed)) prefault(p, bytes);
  return p;
}

bool BufferCache::set_prefault(bool on) { return prefault_.exchange(on); }

void* BufferCache::acquire_buffer(std::size_t bytes, std::size_t* capacity) {
  // Decided on the rounded size, as release() decides on the capacity.
  if (const std::size_t small = round_up(bytes, kAlignment); small < kMinCachedBytes) {
    *capacity = small;
    return allocate(small);
  }
  const std::size_t want = round_up(bytes, kPage);
  std::unique_lock lock(mutex_);
  // In order of preference (the header's policy): the smallest idle buffer
  // of up to kRecycleFactor times the request, whole; a smaller mapping
  // grown; a fresh one. A long-lived request: an idle buffer of at most an
  // eighth more, else a fresh one.
  const auto above = by_size_.lower_bound(want);
  const bool long_lived = LongLivedBuffers::active();
  const std::size_t most = long_lived ? want + want / 8 : want * kRecycleFactor;
  if (above != by_size_.end() && above->first <= most) return take(above, capacity);
  if (void* grown = long_lived ? nullptr : grow_below(want)) {
    evict_to_budget(0);  // growing added bytes too
    *capacity = want;
    return grown;
  }
  evict_to_budget(want);
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

void* BufferCache::take(BySize::iterator it, std::size_t* capacity) {
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

void BufferCache::release(void* data, std::size_t capacity) {
  if (data == nullptr) return;
  if (capacity < kMinCachedBytes) {
    deallocate(data, capacity);
    return;
  }
  YOLO_POISON(data, capacity);
  std::lock_guard lock(mutex_);
  stats_.in_use_bytes -= capacity;
  stats_.idle_bytes += capacity;
  lru_.push_back({data, capacity});
  by_size_.emplace(capacity, std::prev(lru_.end()));
}

void BufferCache::discard(void* data, std::size_t capacity) {
  if (data == nullptr) return;
  if (capacity >= kMinCachedBytes) {
    std::lock_guard lock(mutex_);
    stats_.in_use_bytes -= capacity;
  }
  deallocate(data, capacity);
}

void* BufferCache::grow_below(std::size_t want) {
  if (want < kHugePageBytes) return nullptr;
  // The largest idle mapping under `want`, the least recently released of
  // equal ones.
  auto above = by_size_.lower_bound(want);
  if (above == by_size_.begin()) return nullptr;
  auto best = by_size_.lower_bound(std::prev(above)->first);
  if (best->first < kHugePageBytes || best->first * kRecycleFactor < want) return nullptr;
  const Idle idle = *best->second;
  YOLO_UNPOISON(idle.data, idle.capacity);
  void* p = grow_huge_aligned(idle.data, idle.capacity, want);
  if (p == nullptr) {
    YOLO_POISON(idle.data, idle.capacity);
    return nullptr;
  }
  lru_.erase(best->second);
  by_size_.erase(best);
  stats_.idle_bytes -= idle.capacity;
  stats_.in_use_bytes += want;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  ++stats_.recycled;
  return p;
}

void BufferCache::evict_to_budget(std::size_t extra) {
  const std::size_t budget = stats_.peak_in_use_bytes + stats_.peak_in_use_bytes / 4;
  while (!lru_.empty() && stats_.in_use_bytes + stats_.idle_bytes + extra > budget) evict_oldest();
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
  deallocate(oldest.data, oldest.capacity);
}

void BufferCache::trim() {
  std::lock_guard lock(mutex_);
  while (!lru_.empty()) evict_oldest();
}

BufferCache::Stats BufferCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

namespace {
thread_local int long_lived_depth = 0;
}  // namespace

LongLivedBuffers::LongLivedBuffers() { ++long_lived_depth; }
LongLivedBuffers::~LongLivedBuffers() { --long_lived_depth; }
bool LongLivedBuffers::active() { return long_lived_depth > 0; }

void give_freed_heap_back() {
#if defined(__GLIBC__)
  (void)malloc_trim(0);
#endif
}

BufferCache& buffer_cache() {
  static BufferCache* cache = new BufferCache;
  return *cache;
}

}  // namespace core
