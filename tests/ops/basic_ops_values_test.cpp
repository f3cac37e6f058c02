// Forward values of the foundation ops against hand-computed results, in both
// float dtypes.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/binary.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"

namespace ops {
namespace {

using core::DType;
using core::Shape;

class Values : public ::testing::TestWithParam<DType> {
 protected:
  Tensor t(const Shape& s, std::vector<double> v) { return Tensor::from_vector(s, v, GetParam()); }
  Tape tape{Tape::Mode::inference};
};

void expect_values(const Tensor& y, const Shape& shape, const std::vector<double>& want) {
  EXPECT_EQ(y.shape(), shape);
  const auto got = y.to_double_vector();
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6 * (1 + std::abs(want[i]))) << i;
}

TEST_P(Values, BroadcastArithmetic) {
  const Tensor a = t({2, 1}, {1, 2});
  const Tensor b = t({3}, {10, 20, 30});
  expect_values(add(tape, a, b), {2, 3}, {11, 21, 31, 12, 22, 32});
  expect_values(sub(tape, a, b), {2, 3}, {-9, -19, -29, -8, -18, -28});
  expect_values(mul(tape, a, b), {2, 3}, {10, 20, 30, 20, 40, 60});
  expect_values(div(tape, b, a), {2, 3}, {10, 20, 30, 5, 10, 15});
}

TEST_P(Values, UnaryFormulas) {
  const Tensor x = t({4}, {-2, -0.5, 0.5, 4});
  expect_values(neg(tape, x), {4}, {2, 0.5, -0.5, -4});
  expect_values(relu(tape, x), {4}, {0, 0, 0.5, 4});
  expect_values(leaky_relu(tape, x), {4}, {-0.2, -0.05, 0.5, 4});
  expect_values(sigmoid(tape, x), {4}, {1 / (1 + std::exp(2.0)), 1 / (1 + std::exp(0.5)), 1 / (1 + std::exp(-0.5)),
                                        1 / (1 + std::exp(-4.0))});
  const Tensor p = t({3}, {0.25, 1, 4});
  expect_values(sqrt(tape, p), {3}, {0.5, 1, 2});
  expect_values(log(tape, p), {3}, {std::log(0.25), 0, std::log(4.0)});
  expect_values(exp(tape, p), {3}, {std::exp(0.25), std::exp(1.0), std::exp(4.0)});
  expect_values(pow(tape, p, 1.5), {3}, {0.125, 1, 8});
}

TEST_P(Values, Reductions) {
  const Tensor x = t({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_values(sum(tape, x), {}, {21});
  expect_values(sum(tape, x, {{0}, false}), {3}, {5, 7, 9});
  expect_values(mean(tape, x, {{1}, true}), {2, 1}, {2, 5});
}

TEST_P(Values, ShapeOps) {
  const Tensor x = t({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_values(reshape(tape, x, {3, 2}), {3, 2}, {1, 2, 3, 4, 5, 6});
  expect_values(transpose(tape, x, 0, 1), {3, 2}, {1, 4, 2, 5, 3, 6});
  expect_values(slice(tape, x, {1, 1, 3}), {2, 2}, {2, 3, 5, 6});
  expect_values(concat(tape, {x, t({2, 1}, {7, 8})}, 1), {2, 4}, {1, 2, 3, 7, 4, 5, 6, 8});
  expect_values(permute(tape, t({1, 2, 2}, {1, 2, 3, 4}), {2, 0, 1}), {2, 1, 2}, {1, 3, 2, 4});
}

TEST_P(Values, Matmul) {
  const Tensor a = t({2, 2}, {1, 2, 3, 4});
  const Tensor b = t({2, 1}, {5, 6});
  expect_values(matmul(tape, a, b), {2, 1}, {17, 39});
  const Tensor ba = t({2, 1, 2}, {1, 2, 3, 4});
  expect_values(matmul(tape, ba, b), {2, 1, 1}, {17, 39});
}

INSTANTIATE_TEST_SUITE_P(BothFloatDtypes, Values, ::testing::Values(DType::f32, DType::f64),
                         [](const auto& info) { return std::string(core::dtype_name(info.param)); });

TEST(Values, Float32MatchesFloat64Reference) {
  std::mt19937_64 rng(5);
  const Tensor a = Tensor::randn({3, 4}, DType::f64, rng);
  const Tensor b = Tensor::randn({4}, DType::f64, rng);
  Tape tape;
  const auto ref = mul(tape, sigmoid(tape, a), b).to_double_vector();
  const auto f32 = mul(tape, sigmoid(tape, a.to(DType::f32)), b.to(DType::f32)).to_double_vector();
  for (std::size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(f32[i], ref[i], 1e-6);
}

}  // namespace
}  // namespace ops
