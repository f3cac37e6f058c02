// Float64 finite-difference checks of every foundation op's backward.
// Inputs stay away from kinks (relu/leaky at 0) and from log/sqrt/div poles.
#include <gtest/gtest.h>

#include "core/gradcheck.h"
#include "ops/binary.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"

namespace ops {
namespace {

using core::DType;
using core::Shape;

Tensor rand(const Shape& s, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  return Tensor::uniform(s, DType::f64, rng, lo, hi);
}

// Values in +-[0.2, 1]: no element within 0.2 of the kink at zero.
Tensor away_from_zero(const Shape& s, std::uint64_t seed) {
  Tensor t = rand(s, seed, 0.2, 1.0);
  double* p = t.mutable_data<double>();
  for (std::int64_t i = 0; i < t.numel(); i += 2) p[i] = -p[i];
  return t;
}

void expect_gradcheck(const core::GradcheckFn& f, const std::vector<Tensor>& inputs, double rtol = 1e-6) {
  const auto r = core::gradcheck(f, inputs, {.rtol = rtol});
  EXPECT_TRUE(r.ok) << r.message;
}

struct BinaryCase {
  const char* name;
  Tensor (*fn)(Tape&, const Tensor&, const Tensor&);
  Shape a, b;
};

class BinaryGradcheck : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryGradcheck, MatchesFiniteDifferences) {
  const auto& c = GetParam();
  // Positive b keeps div away from its pole.
  expect_gradcheck([&](Tape& t, const std::vector<Tensor>& in) { return c.fn(t, in[0], in[1]); },
                   {rand(c.a, 1), rand(c.b, 2, 0.5, 2.0)});
}

std::vector<BinaryCase> binary_cases() {
  std::vector<BinaryCase> cases;
  const std::pair<const char*, Tensor (*)(Tape&, const Tensor&, const Tensor&)> fns[] = {
      {"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  for (auto [name, fn] : fns) {
    cases.push_back({name, fn, {2, 3}, {2, 3}});
    cases.push_back({name, fn, {2, 3}, {3}});
    cases.push_back({name, fn, {2, 1, 3}, {4, 1}});
    cases.push_back({name, fn, {1}, {2, 2}});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllShapes, BinaryGradcheck, ::testing::ValuesIn(binary_cases()),
                         [](const auto& info) {
                           return std::string(info.param.name) + "_" + std::to_string(info.index);
                         });

TEST(UnaryGradcheck, Neg) { expect_gradcheck([](Tape& t, const auto& in) { return neg(t, in[0]); }, {rand({2, 3}, 3)}); }
TEST(UnaryGradcheck, Exp) { expect_gradcheck([](Tape& t, const auto& in) { return exp(t, in[0]); }, {rand({2, 3}, 4)}); }
TEST(UnaryGradcheck, Log) {
  expect_gradcheck([](Tape& t, const auto& in) { return log(t, in[0]); }, {rand({2, 3}, 5, 0.5, 2.0)});
}
TEST(UnaryGradcheck, Sqrt) {
  expect_gradcheck([](Tape& t, const auto& in) { return sqrt(t, in[0]); }, {rand({2, 3}, 6, 0.5, 2.0)});
}
TEST(UnaryGradcheck, Pow) {
  expect_gradcheck([](Tape& t, const auto& in) { return pow(t, in[0], 2.5); }, {rand({2, 3}, 7, 0.5, 2.0)});
  expect_gradcheck([](Tape& t, const auto& in) { return pow(t, in[0], -1.0); }, {rand({4}, 8, 0.5, 2.0)});
}
TEST(UnaryGradcheck, Sigmoid) {
  expect_gradcheck([](Tape& t, const auto& in) { return sigmoid(t, in[0]); }, {rand({2, 3}, 9, -3, 3)});
}
TEST(UnaryGradcheck, Relu) {
  expect_gradcheck([](Tape& t, const auto& in) { return relu(t, in[0]); }, {away_from_zero({2, 3}, 10)});
}
TEST(UnaryGradcheck, LeakyRelu) {
  expect_gradcheck([](Tape& t, const auto& in) { return leaky_relu(t, in[0]); }, {away_from_zero({2, 3}, 11)});
  expect_gradcheck([](Tape& t, const auto& in) { return leaky_relu(t, in[0], {0.3}); }, {away_from_zero({5}, 12)});
}

TEST(ReduceGradcheck, SumAndMeanOverAllAndGivenAxes) {
  const Tensor x = rand({2, 3, 4}, 13);
  for (bool keepdim : {false, true}) {
    for (const std::vector<std::int64_t>& axes : {std::vector<std::int64_t>{}, {1}, {0, -1}}) {
      expect_gradcheck([&](Tape& t, const auto& in) { return sum(t, in[0], {axes, keepdim}); }, {x});
      expect_gradcheck([&](Tape& t, const auto& in) { return mean(t, in[0], {axes, keepdim}); }, {x});
    }
  }
}

TEST(ShapeGradcheck, Reshape) {
  expect_gradcheck([](Tape& t, const auto& in) { return mul(t, reshape(t, in[0], {3, -1}), in[1]); },
                   {rand({2, 3, 2}, 14), rand({3, 4}, 15)});
}

TEST(ShapeGradcheck, PermuteAndTranspose) {
  expect_gradcheck([](Tape& t, const auto& in) { return permute(t, in[0], {2, 0, 1}); }, {rand({2, 3, 4}, 16)});
  expect_gradcheck([](Tape& t, const auto& in) { return transpose(t, in[0], 0, -1); }, {rand({2, 3, 4}, 17)});
}

TEST(ShapeGradcheck, Slice) {
  expect_gradcheck([](Tape& t, const auto& in) { return slice(t, in[0], {1, 1, 3}); }, {rand({2, 4, 3}, 18)});
  expect_gradcheck([](Tape& t, const auto& in) { return slice(t, in[0], {-1, -2, 3}); }, {rand({2, 4, 3}, 19)});
}

TEST(ShapeGradcheck, Concat) {
  expect_gradcheck([](Tape& t, const auto& in) { return concat(t, {in[0], in[1], in[2]}, 1); },
                   {rand({2, 1, 3}, 20), rand({2, 2, 3}, 21), rand({2, 3, 3}, 22)});
  expect_gradcheck([](Tape& t, const auto& in) { return concat(t, {in[0], in[1]}, 0); },
                   {rand({1, 3}, 23), rand({2, 3}, 24)});
}

TEST(MatmulGradcheck, PlainBatchedAndSharedRight) {
  expect_gradcheck([](Tape& t, const auto& in) { return matmul(t, in[0], in[1]); }, {rand({3, 4}, 25), rand({4, 2}, 26)});
  expect_gradcheck([](Tape& t, const auto& in) { return matmul(t, in[0], in[1]); },
                   {rand({2, 3, 4}, 27), rand({2, 4, 5}, 28)});
  expect_gradcheck([](Tape& t, const auto& in) { return matmul(t, in[0], in[1]); },
                   {rand({2, 3, 4}, 29), rand({4, 5}, 30)});
}

TEST(Gradcheck, DetectsAWrongBackward) {
  // A node whose backward returns twice the true gradient must fail the check.
  const auto broken = [](Tape& t, const std::vector<Tensor>& in) {
    Tensor y = in[0].clone();
    t.record("broken_identity", {in[0]}, {y}, {}, [](const core::BackwardContext& ctx) {
      return std::vector<Tensor>{binary_forward(BinaryKind::mul, ctx.grad_outputs[0], Tensor::scalar(2.0, DType::f64))};
    });
    return y;
  };
  EXPECT_FALSE(core::gradcheck(broken, {rand({3}, 31)}).ok);
}

}  // namespace
}  // namespace ops
