// BufferCache: a released large buffer serves the next request of about its
// size; small requests and much smaller requests do not take it; idle plus
// in-use memory stays within the budget, oldest idle buffers going first;
// and tensors of a repeated step reuse their storage.
#include "core/buffer_cache.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/tensor.h"

namespace core {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST(BufferCache, ReleasedBufferServesTheNextRequestOfItsSize) {
  BufferCache cache;
  std::size_t cap = 0;
  void* a = cache.acquire(4 * kMiB, &cap);
  ASSERT_NE(a, nullptr);
  EXPECT_GE(cap, 4 * kMiB);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % BufferCache::kAlignment, 0u);
  cache.release(a, cap);
  EXPECT_EQ(cache.stats().idle_bytes, cap);
  std::size_t cap2 = 0;
  void* b = cache.acquire(4 * kMiB - 100, &cap2);  // rounds to the same size
  EXPECT_EQ(b, a);
  EXPECT_EQ(cap2, cap);
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.idle_bytes, 0u);
  EXPECT_EQ(s.in_use_bytes, cap);
  cache.release(b, cap2);
}

TEST(BufferCache, MuchSmallerRequestsAndSmallBuffersAreNotServedFromIdle) {
  BufferCache cache;
  std::size_t cap = 0;
  void* big = cache.acquire(8 * kMiB, &cap);
  cache.release(big, cap);
  std::size_t cap2 = 0;
  void* half = cache.acquire(4 * kMiB, &cap2);  // 8 MiB is more than 1/8 over 4 MiB
  EXPECT_NE(half, big);
  EXPECT_EQ(cache.stats().hits, 0u);
  cache.release(half, cap2);

  std::size_t small_cap = 0;
  void* small = cache.acquire(1000, &small_cap);  // under kMinCachedBytes: plain allocation
  EXPECT_LT(small_cap, BufferCache::kMinCachedBytes);
  cache.release(small, small_cap);
  EXPECT_EQ(cache.stats().in_use_bytes, 0u);
}

TEST(BufferCache, MissesFreeTheOldestIdleBuffersToStayWithinTheBudget) {
  BufferCache cache;
  // Peak in use: 4 x 2 MiB. Budget: that plus a quarter, 10 MiB.
  std::size_t caps[4];
  void* p[4];
  for (int i = 0; i < 4; ++i) p[i] = cache.acquire(2 * kMiB, &caps[i]);
  for (int i = 0; i < 4; ++i) cache.release(p[i], caps[i]);
  EXPECT_EQ(cache.stats().idle_bytes, 8 * kMiB);
  // A new size misses: 8 idle + 3 new > 10, so idle buffers go, oldest first.
  std::size_t cap = 0;
  void* other = cache.acquire(3 * kMiB, &cap);
  auto s = cache.stats();
  EXPECT_LE(s.in_use_bytes + s.idle_bytes, s.peak_in_use_bytes + s.peak_in_use_bytes / 4);
  EXPECT_EQ(s.idle_bytes, 6 * kMiB);
  // The newest released 2 MiB buffer is still there.
  std::size_t again = 0;
  EXPECT_EQ(cache.acquire(2 * kMiB, &again), p[3]);
  cache.release(p[3], again);
  cache.release(other, cap);
  cache.trim();
  s = cache.stats();
  EXPECT_EQ(s.idle_bytes, 0u);
  EXPECT_EQ(s.in_use_bytes, 0u);
}

// A request just under the threshold rounds up to it: acquire and release
// both treat it as cached, so the counters balance (they once wrapped).
TEST(BufferCache, RequestRoundingUpToTheThresholdIsCountedOnBothSides) {
  BufferCache cache;
  std::size_t cap = 0;
  void* p = cache.acquire(BufferCache::kMinCachedBytes - 1, &cap);
  EXPECT_EQ(cap, BufferCache::kMinCachedBytes);
  EXPECT_EQ(cache.stats().in_use_bytes, cap);
  cache.release(p, cap);
  const auto s = cache.stats();
  EXPECT_EQ(s.in_use_bytes, 0u);
  EXPECT_EQ(s.idle_bytes, cap);
  EXPECT_EQ(s.peak_in_use_bytes, cap);
}

// The peak follows in-use bytes whether a request hits or misses.
TEST(BufferCache, PeakCountsBuffersTakenFromIdle) {
  BufferCache cache;
  std::size_t a = 0, b = 0, c = 0;
  void* pa = cache.acquire(5 * kMiB, &a);
  void* pb = cache.acquire(5 * kMiB, &b);
  cache.release(pa, a);
  cache.release(pb, b);
  void* pc = cache.acquire(2 * kMiB, &c);  // a miss that fits the budget: nothing evicted
  ASSERT_EQ(cache.stats().idle_bytes, 10 * kMiB);
  pa = cache.acquire(5 * kMiB, &a);
  pb = cache.acquire(5 * kMiB, &b);
  EXPECT_EQ(cache.stats().hits, 2u);
  EXPECT_EQ(cache.stats().peak_in_use_bytes, 12 * kMiB);
  for (auto [p, n] : {std::pair{pa, a}, std::pair{pb, b}, std::pair{pc, c}}) cache.release(p, n);
}

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer, touching a released (idle) buffer is reported
// like a use after free.
TEST(BufferCacheDeathTest, UseAfterReleaseIsReportedUnderAddressSanitizer) {
  BufferCache cache;
  std::size_t cap = 0;
  auto* p = static_cast<char*>(cache.acquire(2 * kMiB, &cap));
  std::memset(p, 1, cap);
  cache.release(p, cap);
  EXPECT_DEATH(std::memset(p, 2, 16), "use-after-poison");
  cache.trim();
}
#endif

// The process-wide cache behind tensor storage: a step that makes the same
// large tensors as the one before gets the same memory back.
TEST(BufferCache, TensorStorageOfARepeatedStepIsReused) {
  const void* first = nullptr;
  {
    Tensor t = Tensor::empty({512, 1024}, DType::f32);  // 2 MiB
    first = t.raw_data();
  }
  const auto before = buffer_cache().stats();
  Tensor again = Tensor::empty({512, 1024}, DType::f32);
  EXPECT_EQ(again.raw_data(), first);
  EXPECT_EQ(buffer_cache().stats().hits, before.hits + 1);
}

}  // namespace
}  // namespace core
