// maxpool2d: float64 gradcheck on inputs without ties, oneDNN float32
// against the float64 reference (Darknet's asymmetric padding included),
// the tie rule, padding never selected, and bad input.
#include "ops/maxpool2d.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

// Distinct values 0.01 apart in shuffled order: finite differences of 1e-6
// never change which tap wins.
Tensor distinct64(const Shape& s, std::uint64_t seed) {
  std::vector<double> v(static_cast<std::size_t>(core::shape_numel(s)));
  std::iota(v.begin(), v.end(), 0.0);
  std::mt19937_64 rng(seed);
  std::shuffle(v.begin(), v.end(), rng);
  for (auto& e : v) e = 0.01 * e - 0.5;
  return Tensor::from_vector(s, v, DType::f64);
}

struct PoolCase {
  Shape x;
  MaxPool2dParams p;
};

std::string pool_name(const PoolCase& c) {
  return fmt::format("n{}c{}h{}w{}_k{}s{}pb{}pe{}", c.x[0], c.x[1], c.x[2], c.x[3], c.p.kernel, c.p.stride,
                     c.p.pad_begin, c.p.pad_end);
}

OpFn pool_fn(const MaxPool2dParams& p) {
  return [p](Tape& t, const std::vector<Tensor>& in) { return maxpool2d(t, in[0], p); };
}

class PoolCases : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolCases, Float64Gradcheck) { expect_gradcheck(pool_fn(GetParam().p), {distinct64(GetParam().x, 3)}); }

TEST_P(PoolCases, Float32MatchesFloat64) {
  // The max is exact; where windows overlap, a tap sums several float32
  // gradients, so allow their rounding.
  expect_f32_matches_f64(pool_fn(GetParam().p), {distinct64(GetParam().x, 4)}, {true}, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, PoolCases,
    ::testing::Values(PoolCase{{2, 3, 6, 6}, {2, 2, 0, 0}}, PoolCase{{1, 2, 7, 5}, {2, 2, 0, 1}},
                      PoolCase{{2, 2, 5, 5}, {2, 1, 0, 1}},  // Darknet's size-2 stride-1 pool: 5 -> 5
                      PoolCase{{1, 3, 7, 7}, {3, 2, 1, 1}}, PoolCase{{2, 1, 9, 8}, {3, 3, 0, 2}},
                      PoolCase{{1, 2, 4, 4}, {1, 1, 0, 0}}),
    [](const auto& info) { return pool_name(info.param); });

class PoolRules : public ::testing::TestWithParam<DType> {};

TEST_P(PoolRules, TiesGoToTheFirstIndex) {
  const DType dt = GetParam();
  Tensor x = Tensor::from_vector({1, 1, 2, 2}, {1.0, 1.0, 1.0, 1.0}, dt).set_requires_grad();
  Tape tape;
  const Tensor y = maxpool2d(tape, x, {2, 2, 0, 0});
  tape.backward(y, Tensor::ones(y.shape(), dt));
  EXPECT_EQ(x.grad().to_double_vector(), (std::vector<double>{1.0, 0.0, 0.0, 0.0}));
}

TEST_P(PoolRules, PaddingIsNeverSelected) {
  const DType dt = GetParam();
  // All values negative: a zero from the padding would win if it counted.
  const Tensor x = Tensor::from_vector({1, 1, 3, 3}, {-9, -8, -7, -6, -5, -4, -3, -2, -1}, dt);
  Tape tape(Tape::Mode::inference);
  const Tensor y = maxpool2d(tape, x, {2, 1, 0, 1});
  EXPECT_EQ(y.to_double_vector(), (std::vector<double>{-5, -4, -4, -2, -1, -1, -2, -1, -1}));
  const Tensor y2 = maxpool2d(tape, x, {3, 2, 1, 1});
  EXPECT_EQ(y2.to_double_vector(), (std::vector<double>{-5, -4, -2, -1}));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, PoolRules, ::testing::Values(DType::f32, DType::f64),
                         [](const auto& info) { return std::string(core::dtype_name(info.param)); });

TEST(MaxPool2dErrors, BadInputNamesOpAndShapes) {
  Tape tape;
  const Tensor x = Tensor::zeros({1, 2, 4, 4}, DType::f32);
  using core::ShapeError;
  using core::ValueError;
  expect_error<ShapeError>([&] { maxpool2d(tape, Tensor::zeros({2, 4, 4}, DType::f32), {}); },
                           {"maxpool2d", "rank", "[2,4,4]"});
  expect_error<ValueError>([&] { maxpool2d(tape, x, {.kernel = 2, .stride = 0}); }, {"maxpool2d", "stride"});
  expect_error<ValueError>([&] { maxpool2d(tape, x, {.kernel = 0, .stride = 1}); }, {"maxpool2d", "kernel"});
  expect_error<ValueError>([&] { maxpool2d(tape, x, {.kernel = 2, .stride = 1, .pad_begin = -1}); },
                           {"maxpool2d", "padding"});
  expect_error<ValueError>([&] { maxpool2d(tape, x, {.kernel = 2, .stride = 1, .pad_end = 2}); },
                           {"maxpool2d", "smaller than the kernel"});
  expect_error<ShapeError>([&] { maxpool2d(tape, x, {.kernel = 6, .stride = 1, .pad_end = 1}); },
                           {"maxpool2d", "larger than the padded input", "[1,2,4,4]"});
}

}  // namespace
}  // namespace ops
