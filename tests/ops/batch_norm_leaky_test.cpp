// batch_norm_leaky: float64 gradchecks of both backward paths (from the
// output alone, and from the input where the output cannot be inverted);
// the fused op against batch_norm2d then leaky_relu (values, gradients,
// running statistics); float32 in each activation layout (plain,
// channels-last, blocked) against float64; when backward keeps x; the
// fallbacks; bad input.
#include "ops/batch_norm_leaky.h"

#include "core/error.h"
#include "ops/backend/dnnl.h"
#include "ops/batch_norm_leaky_kernels.h"
#include "ops/conv2d.h"
#include "ops/unary.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

struct Inputs {
  Tensor x, weight, bias, mean, var;
};

// gamma in [lo, hi] (both signs when lo < 0), beta in [-1, 1], x shifted
// so that batch statistics are not 0 and 1.
Inputs inputs(const Shape& x, std::uint64_t seed, double gamma_lo = 0.5, double gamma_hi = 1.5) {
  const std::int64_t c = x[1];
  return {rand64(x, seed, -0.5, 2.0), rand64({c}, seed + 1, gamma_lo, gamma_hi), rand64({c}, seed + 2),
          rand64({c}, seed + 3), rand64({c}, seed + 4, 0.2, 2.0)};
}

OpFn fused(const Inputs& in, const BatchNormLeakyParams& p = {}) {
  return [in, p](Tape& t, const std::vector<Tensor>& v) {
    const DType d = v[0].dtype();
    return batch_norm_leaky(t, v[0], v[1], v[2], in.mean.to(d), in.var.to(d), p).y;
  };
}

// Which backward path a call takes: whether the tape kept x.
bool keeps_input(const Inputs& in, double slope) {
  return !kernels::bn_leaky_output_invertible(in.weight.data<double>(), in.bias.data<double>(), in.weight.numel(),
                                              slope);
}

TEST(BatchNormLeaky, GradcheckBackwardFromOutput) {
  const Inputs in = inputs({2, 3, 4, 5}, 11);
  ASSERT_FALSE(keeps_input(in, 0.1));
  expect_gradcheck(fused(in), {in.x, in.weight, in.bias});
}

TEST(BatchNormLeaky, GradcheckBackwardFromOutputWithNegativeGamma) {
  const Inputs in = inputs({3, 2, 3, 4}, 12, -1.5, -0.5);
  ASSERT_FALSE(keeps_input(in, 0.1));
  expect_gradcheck(fused(in), {in.x, in.weight, in.bias});
}

TEST(BatchNormLeaky, GradcheckBackwardFromInputWhenOutputIsNotInvertible) {
  Inputs in = inputs({2, 3, 4, 5}, 13);
  in.weight.mutable_data<double>()[1] = 0.01;  // |beta| / |gamma| far above 32
  in.bias.mutable_data<double>()[1] = 0.9;
  ASSERT_TRUE(keeps_input(in, 0.1));
  expect_gradcheck(fused(in), {in.x, in.weight, in.bias});
}

TEST(BatchNormLeaky, InvertibilityNeedsPositiveSlopeAndBoundedShift) {
  const double gamma[] = {1.0, -0.5}, beta[] = {2.0, 16.0};
  EXPECT_TRUE(kernels::bn_leaky_output_invertible(gamma, beta, 2, 0.1));
  EXPECT_FALSE(kernels::bn_leaky_output_invertible(gamma, beta, 2, 0.0));
  const double far[] = {2.0, 16.5};
  EXPECT_FALSE(kernels::bn_leaky_output_invertible(gamma, far, 2, 0.1));
  const double zero[] = {1.0, 0.0}, none[] = {0.0, 0.0};
  EXPECT_FALSE(kernels::bn_leaky_output_invertible(zero, none, 2, 0.1));
  const double nan[] = {1.0, std::nan("")};
  EXPECT_FALSE(kernels::bn_leaky_output_invertible(nan, beta, 2, 0.1));
  const double tiny[] = {1.0, 1e-40}, no_shift[] = {0.0, 0.0};  // 1 / gamma would overflow float
  const float tiny32[] = {1.0f, 1e-39f}, no_shift32[] = {0.0f, 0.0f};
  EXPECT_FALSE(kernels::bn_leaky_output_invertible(tiny, no_shift, 2, 0.1));
  EXPECT_FALSE(kernels::bn_leaky_output_invertible(tiny32, no_shift32, 2, 0.1));
  EXPECT_FALSE(kernels::bn_leaky_output_invertible(gamma, beta, 2, 1e-40));
}

// The fused op is batch_norm2d then leaky_relu: y, every gradient and the
// running statistics agree to float64 rounding, on both backward paths.
class BatchNormLeakyVsComposition : public ::testing::TestWithParam<bool> {};

TEST_P(BatchNormLeakyVsComposition, SameValuesGradientsAndRunningStatistics) {
  Inputs in = inputs({3, 4, 5, 6}, 21);
  if (GetParam()) in.weight.mutable_data<double>()[2] = 1e-3;  // forces the path that keeps x
  ASSERT_EQ(keeps_input(in, 0.1), GetParam());
  const BatchNorm2dParams bn{.momentum = 0.3, .eps = 1e-4};
  const OpFn composed = [&](Tape& t, const std::vector<Tensor>& v) {
    return leaky_relu(t, batch_norm2d(t, v[0], v[1], v[2], in.mean, in.var, bn).y, {0.1});
  };
  const auto cot = [](const Shape& s) {
    std::mt19937_64 rng(3);
    return Tensor::randn(s, DType::f64, rng);
  };
  const GradRun a = run_with_grads(fused(in, {bn, 0.1}), {in.x, in.weight, in.bias}, {true, true, true}, cot);
  const GradRun b = run_with_grads(composed, {in.x, in.weight, in.bias}, {true, true, true}, cot);
  EXPECT_LE(rel_err(a.y, b.y), 1e-13);
  for (int i = 0; i < 3; ++i) EXPECT_LE(rel_err(a.grads[i], b.grads[i]), 1e-10) << "gradient of input " << i;

  Tape tape;
  const auto r1 = batch_norm_leaky(tape, in.x, in.weight, in.bias, in.mean, in.var, {bn, 0.1});
  const auto r2 = batch_norm2d(tape, in.x, in.weight, in.bias, in.mean, in.var, bn);
  EXPECT_LE(rel_err(r1.running_mean, r2.running_mean), 1e-14);
  EXPECT_LE(rel_err(r1.running_var, r2.running_var), 1e-14);
}

INSTANTIATE_TEST_SUITE_P(Paths, BatchNormLeakyVsComposition, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "keeps_input" : "from_output"; });

// float32 runs on the layout x arrives in: plain when given directly, and
// the convolution's output layout otherwise (channels-last below 16
// channels, blocked at 16 and more). Each against float64.
struct LayoutCase {
  const char* name;
  Shape x;
  std::int64_t conv_out;  // 0: x feeds batch_norm_leaky directly
  const char* layout;
  bool keep_input;
};

class BatchNormLeakyLayouts : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(BatchNormLeakyLayouts, Float32MatchesFloat64) {
  const LayoutCase& c = GetParam();
  const std::int64_t channels = c.conv_out ? c.conv_out : c.x[1];
  Inputs in = inputs({c.x[0], channels, c.x[2], c.x[3]}, 31);
  if (c.keep_input) in.weight.mutable_data<double>()[0] = 1e-3;
  ASSERT_EQ(keeps_input(in, 0.1), c.keep_input);
  const Tensor w = rand64({c.conv_out, c.x[1], 3, 3}, 32, -0.3, 0.3);
  const Tensor mean = in.mean.to(DType::f32).to(DType::f64), var = in.var.to(DType::f32).to(DType::f64);
  std::string seen;
  const OpFn f = [&](Tape& t, const std::vector<Tensor>& v) {
    const Tensor x = c.conv_out ? conv2d(t, v[0], v[3], Tensor(), {.stride = 1, .pad = 1}) : v[0];
    if (x.dtype() == DType::f32) seen = backend::layout_name(x);
    return batch_norm_leaky(t, x, v[1], v[2], mean.to(x.dtype()), var.to(x.dtype())).y;
  };
  const Tensor x = c.conv_out ? rand64(c.x, 33) : in.x;
  expect_f32_matches_f64(f, {x, in.weight, in.bias, c.conv_out ? w : Tensor()}, {true, true, true, c.conv_out != 0},
                         2e-5);
  EXPECT_EQ(seen, c.layout);
}

const LayoutCase kLayouts[] = {
    {"plain", {2, 5, 6, 7}, 0, "plain", false},
    {"plain_keeps_input", {2, 5, 6, 7}, 0, "plain", true},
    {"channels_last_4", {2, 3, 9, 8}, 4, "nhwc", false},
    {"channels_last_8", {2, 3, 9, 8}, 8, "nhwc", false},
    {"channels_last_12", {2, 3, 9, 8}, 12, "nhwc", false},
    {"blocked_32", {2, 16, 7, 9}, 32, "nChw16c", false},
    {"blocked_32_keeps_input", {2, 16, 7, 9}, 32, "nChw16c", true},
};

INSTANTIATE_TEST_SUITE_P(Layouts, BatchNormLeakyLayouts, ::testing::ValuesIn(kLayouts),
                         [](const auto& info) { return std::string(info.param.name); });

// A large blocked activation: the reduction runs on several threads, with
// per-thread partial sums, and still matches float64.
TEST(BatchNormLeaky, LargeBlockedActivationMatchesFloat64) {
  const Inputs in = inputs({4, 32, 24, 24}, 41);
  const Tensor w = rand64({32, 32, 1, 1}, 42, -0.3, 0.3);
  const OpFn f = [&](Tape& t, const std::vector<Tensor>& v) {
    const Tensor x = conv2d(t, v[0], v[3], Tensor(), {});
    return batch_norm_leaky(t, x, v[1], v[2], in.mean.to(x.dtype()), in.var.to(x.dtype())).y;
  };
  expect_f32_matches_f64(f, {rand64({4, 32, 24, 24}, 43, -0.5, 2.0), in.weight, in.bias, w}, {true, true, true, true},
                         5e-5);
}

// Inference statistics, synchronised statistics and a negative slope run as
// the two ops: two tape nodes instead of one, with the two ops' values.
TEST(BatchNormLeaky, FallsBackToTheTwoOpsOutsideTrainingWithNonNegativeSlope) {
  const Inputs in = inputs({2, 3, 4, 4}, 51);
  Tensor x = in.x.clone();
  x.set_requires_grad();
  // One process: the synchronised sum over replicas is the identity.
  const SumAcrossReplicas alone = [](double*, std::size_t) {};
  for (const BatchNormLeakyParams& p :
       {BatchNormLeakyParams{.bn = {.training = false}}, BatchNormLeakyParams{.slope = -0.2},
        BatchNormLeakyParams{.bn = {.sync = alone}}}) {
    Tape tape;
    const Tensor y = batch_norm_leaky(tape, x, in.weight, in.bias, in.mean, in.var, p).y;
    EXPECT_EQ(tape.size(), 2u);
    Tape ref;
    const Tensor want = leaky_relu(ref, batch_norm2d(ref, x, in.weight, in.bias, in.mean, in.var, p.bn).y, {p.slope});
    EXPECT_LE(rel_err(y, want), 1e-15);
  }
  Tape fused_tape;
  batch_norm_leaky(fused_tape, x, in.weight, in.bias, in.mean, in.var);
  EXPECT_EQ(fused_tape.size(), 1u);
}

TEST(BatchNormLeaky, BadInputNamesOpAndShapes) {
  const Inputs in = inputs({2, 3, 4, 4}, 61);
  Tape tape;
  expect_error<core::ShapeError>(
      [&] { batch_norm_leaky(tape, in.x, rand64({4}, 1), in.bias, in.mean, in.var); },
      {"batch_norm2d", "weight", "[3]"});
  expect_error<core::ShapeError>(
      [&] { batch_norm_leaky(tape, rand64({1, 3, 1, 1}, 2), in.weight, in.bias, in.mean, in.var); },
      {"more than one value per channel"});
}

}  // namespace
}  // namespace ops
