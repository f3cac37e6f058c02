// Activations held as bfloat16 between ops under mixed precision: add,
// concat, upsample and maxpool read block outputs (batch_norm_leaky's
// bf16_output) as they are stored and write bfloat16 in the same layout
// when every input is bfloat16 there; the values are those of the float32
// op on the float32 values, rounded once to bfloat16 (add) or exactly
// (the others only move values), and their gradients are the float32
// ones. Mixed inputs give float32 as before.
#include "ops/backend/dnnl.h"
#include "ops/batch_norm_leaky.h"
#include "ops/batch_norm_leaky_kernels.h"
#include "ops/binary.h"
#include "ops/conv2d.h"
#include "ops/maxpool2d.h"
#include "ops/shape_ops.h"
#include "ops/upsample_nearest2d.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;
using kernels::from_bf16;
using kernels::to_bf16;

// A block's output as mixed precision holds it: a 1x1 convolution then
// batch norm and leaky ReLU writing bfloat16, in 16-channel blocks (or
// float32 with bf16 = false). Channels a multiple of 16.
Tensor block_output(Tape& tape, const Shape& s, std::uint64_t seed, bool bf16 = true) {
  const std::int64_t c = s[1];
  const Tensor x = conv2d(tape, rand64({s[0], 16, s[2], s[3]}, seed).to(DType::f32),
                          rand64({c, 16, 1, 1}, seed + 1, -0.3, 0.3).to(DType::f32), Tensor(), {});
  BatchNormLeakyParams p;
  p.bf16_output = bf16;
  return batch_norm_leaky(tape, x, rand64({c}, seed + 2, 0.5, 1.5).to(DType::f32),
                          rand64({c}, seed + 3).to(DType::f32), rand64({c}, seed + 4).to(DType::f32),
                          rand64({c}, seed + 5, 0.2, 2.0).to(DType::f32), p)
      .y;
}

// t's values as a plain float32 tensor (a host read).
Tensor plain_copy(const Tensor& t) { return t.to(DType::f64).to(DType::f32); }

std::vector<double> values(const Tensor& t) { return t.to_double_vector(); }

// Each value rounded to bfloat16 (nearest, ties to even, as oneDNN).
std::vector<double> rounded(const Tensor& t) {
  std::vector<double> v = values(t);
  for (double& x : v) x = from_bf16(to_bf16(static_cast<float>(x)));
  return v;
}

void expect_bf16_blocked(const Tensor& t) {
  EXPECT_TRUE(backend::holds_bfloat16(t));
  EXPECT_STREQ(backend::layout_name(t), "nChw16c");
}

class Bf16Activations : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  }
  Tape tape;
};

TEST_F(Bf16Activations, AddOfTwoBlockOutputsIsTheFloat32SumRoundedOnce) {
  const Tensor a = block_output(tape, {2, 32, 6, 5}, 11), b = block_output(tape, {2, 32, 6, 5}, 21);
  ASSERT_TRUE(backend::holds_bfloat16(a) && backend::holds_bfloat16(b));
  const Tensor sum = backend::add_forward(a, b);
  expect_bf16_blocked(sum);
  // A residual chain stays bfloat16: the sum added to another block output.
  // (Before any host read, which leaves a tensor's values plain float32.)
  expect_bf16_blocked(backend::add_forward(sum, block_output(tape, {2, 32, 6, 5}, 31)));
  const Tensor exact = backend::add_forward(plain_copy(a), plain_copy(b));
  EXPECT_FALSE(backend::holds_bfloat16(exact));
  EXPECT_EQ(values(sum), rounded(exact));
  EXPECT_NE(values(sum), values(exact));  // some sums needed the rounding: the test can tell
}

TEST_F(Bf16Activations, AddWithAFloat32OperandStaysFloat32) {
  const Tensor a = block_output(tape, {2, 32, 6, 5}, 41), f = block_output(tape, {2, 32, 6, 5}, 51, false);
  ASSERT_TRUE(backend::holds_bfloat16(a));
  ASSERT_FALSE(backend::holds_bfloat16(f));
  const Tensor sums[] = {backend::add_forward(a, f), backend::add_forward(f, a)};
  for (const Tensor& sum : sums) {
    EXPECT_FALSE(backend::holds_bfloat16(sum));
    EXPECT_EQ(values(sum), values(backend::add_forward(plain_copy(a), plain_copy(f))));
  }
}

TEST_F(Bf16Activations, AddsGradientIsTheOutputGradientForBothOperands) {
  const Tensor a = block_output(tape, {1, 16, 4, 3}, 61), b = block_output(tape, {1, 16, 4, 3}, 71);
  Tape t;
  Tensor va = a, vb = b;
  va.set_requires_grad(true);
  vb.set_requires_grad(true);
  const Tensor dy = rand64({1, 16, 4, 3}, 81).to(DType::f32);
  const Tensor sum = add(t, va, vb);
  ASSERT_TRUE(backend::holds_bfloat16(sum));
  t.backward(sum, dy);
  EXPECT_EQ(values(va.grad()), values(dy));
  EXPECT_EQ(values(vb.grad()), values(dy));
}

TEST_F(Bf16Activations, ConcatOfBlockOutputsMovesTheirValues) {
  const Tensor a = block_output(tape, {2, 32, 5, 4}, 91), b = block_output(tape, {2, 16, 5, 4}, 101);
  const Tensor f = block_output(tape, {2, 16, 5, 4}, 111, false);
  const Tensor joined = backend::concat_forward({a, b}, 1);
  // With a float32 input the result is float32, of the same values.
  const Tensor mixed = backend::concat_forward({a, f}, 1);
  expect_bf16_blocked(joined);
  EXPECT_FALSE(backend::holds_bfloat16(mixed));
  EXPECT_EQ(values(joined), values(backend::concat_forward({plain_copy(a), plain_copy(b)}, 1)));
  EXPECT_EQ(values(mixed), values(backend::concat_forward({plain_copy(a), plain_copy(f)}, 1)));
}

TEST_F(Bf16Activations, UpsampleOfABlockOutputMovesItsValues) {
  const Tensor x = block_output(tape, {2, 32, 3, 4}, 121);
  const Tensor y = upsample_nearest2d_forward(x, 2);
  expect_bf16_blocked(y);
  EXPECT_EQ(values(y), values(upsample_nearest2d_forward(plain_copy(x), 2)));
}

TEST_F(Bf16Activations, MaxpoolOfABlockOutputPicksItsValuesAndRoutesTheGradientAsFloat32) {
  for (const MaxPool2dParams p : {MaxPool2dParams{}, MaxPool2dParams{.kernel = 2, .stride = 1, .pad_end = 1},
                                  MaxPool2dParams{.kernel = 3, .stride = 1, .pad_begin = 1, .pad_end = 1}}) {
    const Tensor x = block_output(tape, {2, 32, 6, 6}, 131 + static_cast<std::uint64_t>(p.kernel + p.stride));
    const auto got = maxpool2d_forward(x, p, true);
    expect_bf16_blocked(got.y);
    const auto want = maxpool2d_forward(plain_copy(x), p, true);
    EXPECT_EQ(values(got.y), values(want.y));
    const Tensor dy = rand64(got.y.shape(), 141).to(DType::f32);
    const Tensor dx = maxpool2d_backward(dy, got.indices, x.shape(), p);
    EXPECT_FALSE(backend::holds_bfloat16(dx));
    EXPECT_EQ(values(dx), values(maxpool2d_backward(dy, want.indices, x.shape(), p)));
  }
}

TEST_F(Bf16Activations, FloatInputsStayFloat32) {
  const Tensor a = block_output(tape, {2, 32, 6, 4}, 151, false), b = block_output(tape, {2, 32, 6, 4}, 161, false);
  EXPECT_FALSE(backend::holds_bfloat16(backend::add_forward(a, b)));
  EXPECT_FALSE(backend::holds_bfloat16(backend::concat_forward({a, b}, 1)));
  EXPECT_FALSE(backend::holds_bfloat16(upsample_nearest2d_forward(a, 2)));
  EXPECT_FALSE(backend::holds_bfloat16(maxpool2d_forward(a, {}, true).y));
}

}  // namespace
}  // namespace ops
