// The oneDNN float32 paths of leaky_relu, add and concat on 4-D NCHW
// tensors (the network's activations, shortcuts and routes) against the
// float64 loops of the same ops, forward and every gradient.
#include "ops/binary.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

class LeakySlopes : public ::testing::TestWithParam<double> {};

TEST_P(LeakySlopes, Float32MatchesFloat64) {
  const double slope = GetParam();
  expect_f32_matches_f64([slope](Tape& t, const std::vector<Tensor>& in) { return leaky_relu(t, in[0], {slope}); },
                         {rand64({2, 3, 5, 7}, 1)}, {true}, 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Slopes, LeakySlopes, ::testing::Values(0.1, 0.0, 0.25));

TEST(LeakyRelu, Float32GradientAtZeroIsTheSlope) {
  Tensor x = Tensor::zeros({1, 1, 1, 2}, DType::f32).set_requires_grad();
  Tape tape;
  const Tensor y = leaky_relu(tape, x, {0.1});
  tape.backward(y, Tensor::ones(y.shape(), DType::f32));
  for (double g : x.grad().to_double_vector()) EXPECT_FLOAT_EQ(g, 0.1);
}

TEST(Add, ShortcutFloat32MatchesFloat64) {
  expect_f32_matches_f64([](Tape& t, const std::vector<Tensor>& in) { return add(t, in[0], in[1]); },
                         {rand64({2, 4, 3, 5}, 1), rand64({2, 4, 3, 5}, 2)}, {true, true}, 1e-7);
}

TEST(Concat, RouteFloat32MatchesFloat64) {
  expect_f32_matches_f64(
      [](Tape& t, const std::vector<Tensor>& in) { return concat(t, in, 1); },
      {rand64({2, 3, 4, 5}, 1), rand64({2, 1, 4, 5}, 2), rand64({2, 6, 4, 5}, 3)}, {true, true, true}, 0.0);
}

TEST(Concat, Float32OtherAxesKeepTheCopyPath) {
  expect_f32_matches_f64([](Tape& t, const std::vector<Tensor>& in) { return concat(t, in, 3); },
                         {rand64({2, 3, 4, 5}, 1), rand64({2, 3, 4, 2}, 2)}, {true, true}, 0.0);
}

}  // namespace
}  // namespace ops
