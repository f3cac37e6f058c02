// The storage hook behind the oneDNN seam's blocked activations: a tensor
// created from a physical layout fills its plain bytes on the first access,
// exactly once, drops the physical copy, and keeps the version counter's
// meaning (reads do not bump it, writes do).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "core/broadcast.h"
#include "core/buffer_cache.h"
#include "core/error.h"
#include "core/physical_layout.h"
#include "core/tape.h"
#include "core/tensor.h"
#include "ops/unary.h"

namespace core {
namespace {

// Writes 0.5 * i + offset at position i and counts how often it was asked.
class CountingLayout final : public PhysicalLayout {
 public:
  CountingLayout(std::int64_t n, float offset, std::atomic<int>* calls) : n_(n), offset_(offset), calls_(calls) {}
  void materialize(void* plain) const override {
    calls_->fetch_add(1);
    auto* p = static_cast<float*>(plain);
    for (std::int64_t i = 0; i < n_; ++i) p[i] = 0.5f * static_cast<float>(i) + offset_;
  }

 private:
  std::int64_t n_;
  float offset_;
  std::atomic<int>* calls_;
};

Tensor physical_tensor(const Shape& s, std::atomic<int>* calls, float offset = 1.0f) {
  return Tensor::from_physical(s, DType::f32, std::make_shared<CountingLayout>(shape_numel(s), offset, calls));
}

TEST(PhysicalLayout, MaterializesOnceOnFirstReadAndDropsTheCopy) {
  std::atomic<int> calls = 0;
  const Tensor t = physical_tensor({2, 3}, &calls);
  std::weak_ptr<const PhysicalLayout> copy = t.physical_layout();
  EXPECT_FALSE(copy.expired());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(t.to_double_vector(), (std::vector<double>{1.0, 1.5, 2.0, 2.5, 3.0, 3.5}));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(t.physical_layout(), nullptr);
  EXPECT_TRUE(copy.expired());
  EXPECT_EQ(t.data<float>()[5], 3.5f);
  EXPECT_EQ(calls, 1);
}

TEST(PhysicalLayout, ReadsKeepTheVersionWritesBumpItAfterMaterializing) {
  std::atomic<int> calls = 0;
  const Tensor t = physical_tensor({4}, &calls);
  const auto v0 = t.version();
  static_cast<void>(t.raw_data());
  EXPECT_EQ(t.version(), v0);
  EXPECT_EQ(calls, 1);

  // A write sees the materialized values first (read-modify-write is safe).
  std::atomic<int> calls2 = 0;
  const Tensor u = physical_tensor({4}, &calls2);
  const auto u0 = u.version();
  float* p = u.mutable_data<float>();
  EXPECT_EQ(calls2, 1);
  EXPECT_EQ(u.version(), u0 + 1);
  EXPECT_EQ(u.physical_layout(), nullptr);
  p[1] += 10.0f;
  EXPECT_EQ(u.to_double_vector(), (std::vector<double>{1.0, 11.5, 2.0, 2.5}));

  std::atomic<int> calls3 = 0;
  const Tensor w = physical_tensor({3}, &calls3);
  w.fill_(7.0);
  EXPECT_EQ(w.version(), 1u);
  EXPECT_EQ(w.to_double_vector(), (std::vector<double>{7.0, 7.0, 7.0}));
}

TEST(PhysicalLayout, ViewsAndClonesSeeThePlainValues) {
  std::atomic<int> calls = 0;
  const Tensor t = physical_tensor({2, 2, 1, 2}, &calls, 0.0f);
  const Tensor flat = t.view({8});
  EXPECT_TRUE(flat.shares_storage(t));
  EXPECT_NE(flat.physical_layout(), nullptr);  // nothing read yet
  EXPECT_EQ(flat.data<float>()[7], 3.5f);
  EXPECT_EQ(t.physical_layout(), nullptr);  // one storage, materialized for both
  const Tensor c = t.clone();
  EXPECT_EQ(c.to_double_vector(), flat.to_double_vector());
  EXPECT_EQ(calls, 1);
}

TEST(PhysicalLayout, ConcurrentReadersMaterializeOnce) {
  std::atomic<int> calls = 0;
  const Tensor t = physical_tensor({1000}, &calls);
  std::atomic<int> wrong = 0;
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&] {
      const float* p = t.data<float>();
      for (int i = 0; i < 1000; ++i) wrong += p[i] != 0.5f * static_cast<float>(i) + 1.0f ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(wrong, 0);
}

// A layout that cannot add (the default) leaves the sum to plain values.
TEST(PhysicalLayout, SumOfTwoCopiesFallsBackToPlainValues) {
  std::atomic<int> calls = 0;
  const Tensor a = physical_tensor({3}, &calls, 1.0f), b = physical_tensor({3}, &calls, 2.0f);
  const Tensor s = add_same_shape(a, b);
  EXPECT_EQ(s.to_double_vector(), (std::vector<double>{3.0, 4.0, 5.0}));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(a.to_double_vector(), (std::vector<double>{1.0, 1.5, 2.0}));
}

TEST(PhysicalLayout, TapeSavedTensorStillCaughtWhenWrittenAfterRecording) {
  std::atomic<int> calls = 0;
  Tensor x = physical_tensor({2, 3}, &calls, -1.0f);
  x.set_requires_grad();
  Tape tape;
  const Tensor y = ops::leaky_relu(tape, x, {0.1});
  x.mutable_data<float>()[0] = 5.0f;  // the tape saved x: backward must refuse
  EXPECT_THROW(tape.backward(y, Tensor::ones(y.shape(), DType::f32)), AutogradError);
}

// Released values free their memory and every later read, through any handle
// of the storage, throws the reason instead of returning stale bytes.
TEST(PhysicalLayout, ReleasedValuesGiveTheirMemoryBackAndEveryReadThrowsTheReason) {
  buffer_cache().trim();  // no idle buffer: the tensor gets a fresh one of exactly 4 MiB
  const Tensor w = Tensor::ones({1024, 1024}, DType::f32);  // a cached-size buffer
  const Tensor other_handle = w;
  const std::size_t in_use = buffer_cache().stats().in_use_bytes;
  const std::size_t idle = buffer_cache().stats().idle_bytes;
  w.release_values("layers.3.conv.weight was released");
  EXPECT_EQ(buffer_cache().stats().in_use_bytes, in_use - 4 * 1024 * 1024);
  EXPECT_EQ(buffer_cache().stats().idle_bytes, idle);  // given back, not kept idle
  EXPECT_EQ(w.shape(), (Shape{1024, 1024}));
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      (void)other_handle.data<float>();
      FAIL() << "no exception";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "layers.3.conv.weight was released");
    }
  }
  EXPECT_THROW((void)w.mutable_data<float>(), Error);
  EXPECT_EQ(w.version(), 0u) << "a write that could not start changed the version";
  // Failed reads take no buffer, in use or idle.
  EXPECT_EQ(buffer_cache().stats().in_use_bytes, in_use - 4 * 1024 * 1024);
  EXPECT_EQ(buffer_cache().stats().idle_bytes, idle);
  EXPECT_THROW((void)w.clone(), Error);
}

}  // namespace
}  // namespace core
