// Tests of the tape itself, driven through a few real ops.
#include "core/tape.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "ops/binary.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/unary.h"

namespace core {
namespace {

Tensor leaf(const Shape& s, std::vector<double> v) {
  Tensor t = Tensor::from_vector(s, v, DType::f64);
  t.set_requires_grad();
  return t;
}

TEST(Tape, FanOutAccumulatesGradients) {
  // y = x*x + x  ->  dy/dx = 2x + 1
  Tensor x = leaf({2}, {3, -1});
  Tape tape;
  Tensor y = ops::sum(tape, ops::add(tape, ops::mul(tape, x, x), x));
  tape.backward(y);
  EXPECT_EQ(x.grad().to_double_vector(), (std::vector<double>{7, -1}));
}

TEST(Tape, ReuseOfOneTensorInTwoOps) {
  // z = exp(x) * exp(x) uses the same intermediate twice: dz/dx = 2 e^{2x}.
  Tensor x = leaf({1}, {0.5});
  Tape tape;
  Tensor e = ops::exp(tape, x);
  Tensor z = ops::mul(tape, e, e);
  tape.backward(ops::sum(tape, z));
  EXPECT_NEAR(x.grad().item(), 2 * std::exp(1.0), 1e-12);
}

TEST(Tape, GradientsAccumulateAcrossBackwardCallsUntilZeroed) {
  Tensor x = leaf({1}, {2});
  for (int i = 0; i < 2; ++i) {
    Tape tape;
    tape.backward(ops::sum(tape, ops::mul(tape, x, x)));
  }
  EXPECT_EQ(x.grad().item(), 8.0);
  x.zero_grad();
  EXPECT_EQ(x.grad().item(), 0.0);
  Tape tape;
  tape.backward(ops::sum(tape, ops::mul(tape, x, x)));
  EXPECT_EQ(x.grad().item(), 4.0);
}

TEST(Tape, LeafGradIsNotSharedWithOtherGradients) {
  // add passes the same gradient to both inputs; each leaf must own a copy.
  Tensor a = leaf({2}, {1, 2});
  Tensor b = leaf({2}, {3, 4});
  Tape tape;
  tape.backward(ops::sum(tape, ops::add(tape, a, b)));
  EXPECT_FALSE(a.grad().shares_storage(b.grad()));
  a.zero_grad();
  EXPECT_EQ(b.grad().to_double_vector(), (std::vector<double>{1, 1}));
}

TEST(Tape, InferenceModeRecordsNothing) {
  Tensor x = leaf({2}, {1, 2});
  Tape tape(Tape::Mode::inference);
  Tensor y = ops::sum(tape, ops::mul(tape, x, x));
  EXPECT_EQ(tape.size(), 0u);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(tape.backward(y), AutogradError);
}

TEST(Tape, OpsOnConstantsAreNotRecorded) {
  const Tensor c = Tensor::ones({2}, DType::f64);
  Tape tape;
  ops::exp(tape, c);
  EXPECT_EQ(tape.size(), 0u);
}

TEST(Tape, ModifyingASavedTensorIsDetected) {
  Tensor x = leaf({2}, {1, 2});
  Tape tape;
  Tensor y = ops::exp(tape, x);  // saves its output
  Tensor loss = ops::sum(tape, y);
  y.fill_(0.0);
  try {
    tape.backward(loss);
    FAIL() << "expected an AutogradError";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("'exp'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2]"), std::string::npos) << e.what();
  }
}

TEST(Tape, SavedTensorsAreReleasedUnlessTheGraphIsRetained) {
  Tensor x = leaf({3}, {1, 2, 3});
  Tape tape;
  Tensor loss = ops::sum(tape, ops::exp(tape, x));
  tape.backward(loss, {.retain_graph = true});
  const auto first = x.grad().to_double_vector();
  x.zero_grad();
  tape.backward(loss);
  EXPECT_EQ(x.grad().to_double_vector(), first);
  EXPECT_EQ(tape.size(), 0u);
}

TEST(Tape, BackwardNeedsAScalarOrAnExplicitGradient) {
  Tensor x = leaf({2}, {1, 2});
  Tape tape;
  Tensor y = ops::exp(tape, x);
  EXPECT_THROW(tape.backward(y), AutogradError);
  EXPECT_THROW(tape.backward(y, Tensor::ones({3}, DType::f64)), AutogradError);
  tape.backward(y, Tensor::from_vector({2}, {1, 0}, DType::f64));
  EXPECT_NEAR(x.grad().to_double_vector()[0], std::exp(1.0), 1e-12);
  EXPECT_EQ(x.grad().to_double_vector()[1], 0.0);
}

TEST(Tape, OutputsOfRecordedOpsAreNotLeaves) {
  Tensor x = leaf({1}, {1});
  Tape tape;
  Tensor y = ops::exp(tape, x);
  EXPECT_FALSE(y.is_leaf());
  EXPECT_THROW(y.set_requires_grad(), AutogradError);
}

TEST(Tape, SmallMlpTrainsToLowLoss) {
  // Fits XOR with a 2-8-1 network; the loss must drop by two orders of magnitude.
  std::mt19937_64 rng(7);
  const Tensor x = Tensor::from_vector({4, 2}, {0, 0, 0, 1, 1, 0, 1, 1}, DType::f64);
  const Tensor t = Tensor::from_vector({4, 1}, {0, 1, 1, 0}, DType::f64);
  std::vector<Tensor> params{Tensor::randn({2, 8}, DType::f64, rng), Tensor::zeros({8}, DType::f64),
                             Tensor::randn({8, 1}, DType::f64, rng, 0, 0.5), Tensor::zeros({1}, DType::f64)};
  for (auto& p : params) p.set_requires_grad();
  double first = 0, last = 0;
  for (int step = 0; step < 3000; ++step) {
    Tape tape;
    Tensor h = ops::sigmoid(tape, ops::add(tape, ops::matmul(tape, x, params[0]), params[1]));
    Tensor y = ops::add(tape, ops::matmul(tape, h, params[2]), params[3]);
    Tensor d = ops::sub(tape, y, t);
    Tensor loss = ops::mean(tape, ops::mul(tape, d, d));
    if (step == 0) first = loss.item();
    last = loss.item();
    tape.backward(loss);
    for (auto& p : params) {
      double* w = p.mutable_data<double>();
      const double* g = p.grad().data<double>();
      for (std::int64_t i = 0; i < p.numel(); ++i) w[i] -= 0.5 * g[i];
      p.zero_grad();
    }
  }
  EXPECT_LT(last, first / 100) << "first " << first << " last " << last;
  EXPECT_LT(last, 1e-2);
}

// The tape keeps what backward saved, not every input and output: an
// intermediate no closure saved is freed as soon as the caller drops it, and
// gradients still flow through it.
TEST(Tape, UnsavedIntermediatesAreFreedBeforeBackward) {
  Tensor x = leaf({3}, {1, 2, 3});
  Tape tape;
  std::weak_ptr<Storage> intermediate;
  Tensor y;
  {
    const Tensor a = ops::mul_scalar(tape, x, 2.0);  // saves nothing
    intermediate = a.storage();
    y = ops::sum(tape, a);  // saves only a's shape
  }
  EXPECT_TRUE(intermediate.expired());
  tape.backward(y);
  EXPECT_EQ(x.grad().to_double_vector(), (std::vector<double>{2, 2, 2}));
}

TEST(Tape, ProfileChargesEachOpKind) {
  Tensor x = leaf({3}, {1, 2, 3});
  Tape tape;
  OpProfile profile;
  tape.set_profile(&profile);
  Tensor y = ops::sum(tape, ops::mul(tape, ops::exp(tape, x), ops::exp(tape, x)));
  tape.backward(y);
  ASSERT_EQ(profile.ops.size(), 3u);
  EXPECT_EQ(profile.ops.at("exp").calls, 2);
  EXPECT_EQ(profile.ops.at("mul").calls, 1);
  EXPECT_EQ(profile.ops.at("sum").calls, 1);
  for (const auto& [op, e] : profile.ops) {
    EXPECT_GE(e.forward_s, 0) << op;
    EXPECT_GT(e.backward_s, 0) << op;  // every node ran backward
  }
  // Detached, the tape charges nothing more.
  tape.set_profile(nullptr);
  Tensor z = ops::sum(tape, ops::exp(tape, x));
  tape.backward(z);
  EXPECT_EQ(profile.ops.at("exp").calls, 2);
}

}  // namespace
}  // namespace core
