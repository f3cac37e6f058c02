// batch_norm2d: float64 gradchecks (training, inference, Darknet inference),
// oneDNN float32 against the float64 reference, running statistics over
// several steps against values worked out by hand, and bad input.
#include "ops/batch_norm2d.h"

#include "core/error.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

struct BnInputs {
  Tensor x, weight, bias, mean, var;
};

BnInputs bn_inputs(const Shape& x, std::uint64_t seed) {
  const std::int64_t c = x[1];
  // Shifted, scaled input so the statistics are not trivially 0 and 1.
  return {rand64(x, seed, -0.5, 2.0), rand64({c}, seed + 1, 0.5, 1.5), rand64({c}, seed + 2),
          rand64({c}, seed + 3), rand64({c}, seed + 4, 0.2, 2.0)};
}

OpFn bn_fn(const Tensor& mean, const Tensor& var, const BatchNorm2dParams& p) {
  return [mean, var, p](Tape& t, const std::vector<Tensor>& in) {
    return batch_norm2d(t, in[0], in[1], in[2], mean.to(in[0].dtype()), var.to(in[0].dtype()), p).y;
  };
}

struct BnCase {
  const char* name;
  Shape x;
  BatchNorm2dParams p;
};

class BatchNormModes : public ::testing::TestWithParam<BnCase> {};
class BatchNormGradcheck : public ::testing::TestWithParam<BnCase> {};

TEST_P(BatchNormGradcheck, Float64MatchesFiniteDifferences) {
  const auto& c = GetParam();
  const BnInputs in = bn_inputs(c.x, 5);
  expect_gradcheck(bn_fn(in.mean, in.var, c.p), {in.x, in.weight, in.bias});
}

TEST_P(BatchNormModes, Float32MatchesFloat64) {
  const auto& c = GetParam();
  const BnInputs in = bn_inputs(c.x, 9);
  // The running statistics are constants: round them to float32 for both.
  const Tensor mean = in.mean.to(DType::f32).to(DType::f64), var = in.var.to(DType::f32).to(DType::f64);
  expect_f32_matches_f64(bn_fn(mean, var, c.p), {in.x, in.weight, in.bias}, {true, true, true}, 5e-5);
}

const BnCase kSmallCases[] = {
    {"training", {2, 3, 4, 5}, {}},
    {"training_batch1", {1, 4, 3, 3}, {.eps = 1e-3}},
    {"inference", {2, 3, 5, 4}, {.training = false}},
    {"darknet_inference", {3, 2, 3, 3}, {.training = false, .darknet = true}},
};
// Finite differences over thousands of elements per channel are noisier
// than the gradcheck tolerance, so the larger case runs only against float64.
const BnCase kLargerCase = {"training_larger", {4, 16, 7, 9}, {}};

auto bn_name = [](const auto& info) { return std::string(info.param.name); };
INSTANTIATE_TEST_SUITE_P(Modes, BatchNormGradcheck, ::testing::ValuesIn(kSmallCases), bn_name);
INSTANTIATE_TEST_SUITE_P(Modes, BatchNormModes,
                         ::testing::Values(kSmallCases[0], kSmallCases[1], kSmallCases[2], kSmallCases[3],
                                           kLargerCase),
                         bn_name);

// Running statistics for x = [1,2,3,4], [2,4,6,8], [0,0,0,3] (one channel),
// momentum 0.1, from mean 0 and var 1, worked out by hand:
//   step 1: batch mean 2.5, unbiased var 5/3  -> 0.25,   0.9 + 1/6
//   step 2: batch mean 5,   unbiased var 20/3 -> 0.725,  0.9 * prev + 2/3
//   step 3: batch mean .75, unbiased var 2.25 -> 0.7275, 0.9 * prev + 0.225
class BatchNormRunning : public ::testing::TestWithParam<DType> {};

TEST_P(BatchNormRunning, MatchesHandComputedValuesAfterThreeSteps) {
  const DType dt = GetParam();
  Tensor mean = Tensor::zeros({1}, dt), var = Tensor::ones({1}, dt);
  const Tensor weight = Tensor::ones({1}, dt), bias = Tensor::zeros({1}, dt);
  const std::vector<std::vector<double>> batches = {{1, 2, 3, 4}, {2, 4, 6, 8}, {0, 0, 0, 3}};
  const double rv1 = 0.9 + 0.1 * 5.0 / 3.0, rv2 = 0.9 * rv1 + 0.1 * 20.0 / 3.0, rv3 = 0.9 * rv2 + 0.225;
  const double expect_mean[] = {0.25, 0.725, 0.7275};
  const double expect_var[] = {rv1, rv2, rv3};
  const double tol = dt == DType::f32 ? 1e-6 : 1e-14;
  Tape tape(Tape::Mode::inference);
  for (std::size_t step = 0; step < batches.size(); ++step) {
    const Tensor x = Tensor::from_vector({1, 1, 2, 2}, batches[step], dt);
    const auto r = batch_norm2d(tape, x, weight, bias, mean, var, {.momentum = 0.1});
    mean = r.running_mean;
    var = r.running_var;
    EXPECT_NEAR(mean.item(), expect_mean[step], tol) << "step " << step;
    EXPECT_NEAR(var.item(), expect_var[step], tol) << "step " << step;
  }
  // Training normalises with the biased variance: last batch var = 1.6875.
  const Tensor x = Tensor::from_vector({1, 1, 2, 2}, batches[2], dt);
  const auto r = batch_norm2d(tape, x, weight, bias, mean, var, {.eps = 0.0});
  EXPECT_NEAR(r.y.to_double_vector()[3], 2.25 / std::sqrt(1.6875), dt == DType::f32 ? 1e-5 : 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, BatchNormRunning, ::testing::Values(DType::f32, DType::f64),
                         [](const auto& info) { return std::string(core::dtype_name(info.param)); });

// Darknet puts its epsilon outside the root: a channel with variance 0 has a
// gain of exactly 1e6 (docs/darknet_format.md, 'Inference arithmetic'), where sqrt(var + 1e-5) would give ~316.
class BatchNormDarknet : public ::testing::TestWithParam<DType> {};

TEST_P(BatchNormDarknet, EpsilonOutsideTheSquareRoot) {
  const DType dt = GetParam();
  Tape tape(Tape::Mode::inference);
  const Tensor x = Tensor::from_vector({1, 2, 1, 1}, {0.5 + 2e-6, 3.0}, dt);
  const auto r = batch_norm2d(tape, x, Tensor::ones({2}, dt), Tensor::from_vector({2}, {0.0, 1.0}, dt),
                              Tensor::from_vector({2}, {0.5, 1.0}, dt), Tensor::from_vector({2}, {0.0, 4.0}, dt),
                              {.training = false, .darknet = true});
  const auto y = r.y.to_double_vector();
  // float32 cannot hold 0.5 + 2e-6 exactly; compare with the stored value.
  const double dx = x.to_double_vector()[0] - 0.5;
  EXPECT_NEAR(y[0], dx * 1e6, dt == DType::f32 ? 1e-4 : 1e-9);
  EXPECT_NEAR(y[1], 2.0 / (2.0 + 1e-6) + 1.0, 1e-6);
  EXPECT_FALSE(r.running_mean.defined());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, BatchNormDarknet, ::testing::Values(DType::f32, DType::f64),
                         [](const auto& info) { return std::string(core::dtype_name(info.param)); });

TEST(BatchNorm2dErrors, BadInputNamesOpAndShapes) {
  Tape tape;
  const Tensor x = Tensor::zeros({2, 3, 4, 4}, DType::f32);
  const Tensor v = Tensor::ones({3}, DType::f32);
  using core::ShapeError;
  using core::ValueError;
  expect_error<ShapeError>([&] { batch_norm2d(tape, Tensor::zeros({2, 3, 4}, DType::f32), v, v, v, v); },
                           {"batch_norm2d", "rank", "[2,3,4]"});
  expect_error<ShapeError>([&] { batch_norm2d(tape, x, Tensor::ones({4}, DType::f32), v, v, v); },
                           {"batch_norm2d", "weight", "[3]", "[4]"});
  expect_error<ShapeError>([&] { batch_norm2d(tape, x, v, v, v, Tensor::ones({3, 1}, DType::f32)); },
                           {"batch_norm2d", "running_var"});
  expect_error<ValueError>([&] { batch_norm2d(tape, x, v, v, Tensor::ones({3}, DType::f64), v); },
                           {"batch_norm2d", "running_mean", "mixed float dtypes"});
  expect_error<ValueError>([&] { batch_norm2d(tape, x, v, v, v, v, {.momentum = 1.5}); }, {"batch_norm2d", "momentum"});
  expect_error<ValueError>([&] { batch_norm2d(tape, x, v, v, v, v, {.eps = -1.0}); }, {"batch_norm2d", "eps"});
  expect_error<ShapeError>([&] { batch_norm2d(tape, Tensor::zeros({1, 3, 1, 1}, DType::f32), v, v, v, v); },
                           {"batch_norm2d", "more than one value per channel"});
}

}  // namespace
}  // namespace ops
