// GradientAverager against a stand-in communicator of two ranks whose other
// rank contributes ones: every gradient comes back as (g + 1) / 2, buckets
// respect their size, and with the tape's hook buckets start during backward.
#include "train/gradient_averager.h"

#include <gtest/gtest.h>

#include "ops/binary.h"
#include "ops/reduce.h"

namespace train {
namespace {

using core::DType;
using core::Tensor;

class OtherRankSendsOnes final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int ranks_on_host() const override { return 2; }
  void sum(float* d, std::size_t n) override { add_ones(d, n); }
  void sum(double* d, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) d[i] += 1;
  }
  std::unique_ptr<PendingSum> start_sum(float* d, std::size_t n) override {
    started.push_back(n);
    add_ones(d, n);
    struct Done final : PendingSum {
      bool test() override { return true; }
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  void broadcast(float*, std::size_t, int) override {}
  std::vector<std::string> all_gather(const std::string& s) override { return {s, s}; }
  void barrier() override {}
  [[noreturn]] void abort(int) override { std::abort(); }

  std::vector<std::size_t> started;  // sizes of the sums started, in order

 private:
  static void add_ones(float* d, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) d[i] += 1;
  }
};

Tensor param(const core::Shape& s, double first) {
  std::vector<double> v(static_cast<std::size_t>(core::shape_numel(s)));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = first + static_cast<double>(i);
  Tensor t = Tensor::from_vector(s, v, DType::f32);
  t.set_requires_grad();
  return t;
}

TEST(GradientAverager, AveragesEveryParameterInBuckets) {
  OtherRankSendsOnes comm;
  const Tensor a = param({3}, 1), b = param({2, 2}, 5), unused = param({2}, 0);
  // 5 floats per bucket, packed in reverse order: unused (2) and b (4) do not
  // fit together, nor do b and a (3): three buckets.
  GradientAverager averager(comm, {{"a", a}, {"b", b}, {"unused", unused}}, 5 * sizeof(float));
  EXPECT_EQ(averager.buckets(), 3u);

  core::Tape tape;
  // loss = sum(a * 2) + sum(b * b): grads 2 and 2b.
  const Tensor loss = ops::add(tape, ops::sum(tape, ops::mul_scalar(tape, a, 2.0)), ops::sum(tape, ops::mul(tape, b, b)));
  tape.backward(loss);
  averager.finish();

  for (float g : a.grad().to_double_vector()) EXPECT_FLOAT_EQ(g, (2.0f + 1.0f) / 2.0f);
  const auto bg = b.grad().to_double_vector();
  for (std::size_t i = 0; i < bg.size(); ++i) EXPECT_FLOAT_EQ(bg[i], (2.0f * (5.0f + i) + 1.0f) / 2.0f);
  // No gradient reached `unused`: this rank sent zeros.
  ASSERT_TRUE(unused.grad().defined());
  for (float g : unused.grad().to_double_vector()) EXPECT_FLOAT_EQ(g, 0.5f);
  std::size_t total = 0;
  for (std::size_t n : comm.started) total += n;
  EXPECT_EQ(comm.started, (std::vector<std::size_t>{2, 4, 3}));
  EXPECT_EQ(total, 9u);
}

TEST(GradientAverager, TapeHookStartsBucketsDuringBackward) {
  OtherRankSendsOnes comm;
  const Tensor a = param({4}, 1), b = param({4}, 2);
  GradientAverager averager(comm, {{"a", a}, {"b", b}}, 4 * sizeof(float));  // one parameter per bucket
  ASSERT_EQ(averager.buckets(), 2u);
  core::Tape tape;
  // b is read last, so its gradient is final first.
  const Tensor y = ops::sum(tape, ops::mul(tape, ops::mul_scalar(tape, a, 3.0), b));
  std::vector<std::size_t> started_when_final;
  core::BackwardOptions options;
  options.on_leaf_grad_final = [&](const Tensor& leaf) {
    averager.grad_final(leaf);
    started_when_final.push_back(comm.started.size());
  };
  tape.backward(y, options);
  EXPECT_EQ(started_when_final, (std::vector<std::size_t>{1, 2}));  // each bucket left as soon as it was final
  averager.finish();
  EXPECT_EQ(comm.started.size(), 2u);  // finish sent nothing twice
  const auto ag = a.grad().to_double_vector(), bv = b.to_double_vector();
  for (std::size_t i = 0; i < ag.size(); ++i) EXPECT_FLOAT_EQ(ag[i], (3.0f * bv[i] + 1.0f) / 2.0f);
}

}  // namespace
}  // namespace train
