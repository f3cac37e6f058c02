// Plan-only mode (ops/backend/dnnl.h, PlanOnly): a training pass planned at
// a shape creates every primitive the real pass at that shape then uses, and
// the real pass still matches the float64 reference; planned ops, oneDNN's
// and the project's own kernels alike, write nothing into their outputs;
// what outlives the pass (float64 results, kept inference folds) is still
// computed; guards nest and put back the buffer cache's prefault setting.
#include <gtest/gtest.h>

#include "core/buffer_cache.h"
#include "ops/backend/dnnl.h"
#include "ops/batch_norm_leaky.h"
#include "ops/conv2d.h"
#include "ops/conv_bn_leaky.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"
#include "ops/upsample_nearest2d.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

// x [2,32,20,20], w1 [32,32,3,3] (a Winograd-sized 3x3), gamma, beta [32],
// w2 [8,32,1,1] (a channels-last output); shapes no other test of this
// binary uses, so their primitives are new here.
Tensor block(Tape& t, const std::vector<Tensor>& in) {
  const Tensor zeros = Tensor::zeros({32}, in[0].dtype()), ones = Tensor::ones({32}, in[0].dtype());
  const Tensor h = conv2d(t, in[0], in[1], {}, {.pad = 1});
  const Tensor a = batch_norm_leaky(t, h, in[2], in[3], zeros, ones, {}).y;
  const Tensor n = conv2d(t, a, in[4], {}, {});
  return concat(t, {upsample_nearest2d(t, n, {2}), upsample_nearest2d(t, a, {2})}, 1);
}

std::vector<Tensor> block_inputs() {
  return {rand64({2, 32, 20, 20}, 11), rand64({32, 32, 3, 3}, 12, -0.2, 0.2), rand64({32}, 13, 0.5, 1.5),
          rand64({32}, 14), rand64({8, 32, 1, 1}, 15)};
}

TEST(PlanOnly, APlannedTrainingPassLeavesTheRealPassNothingToCreate) {
  const std::vector<Tensor> in64 = block_inputs();
  std::vector<Tensor> in32;
  for (const Tensor& t : in64) in32.push_back(t.to(DType::f32));
  const std::vector<bool> all(in64.size(), true);
  const auto ones = [](const Shape& s) { return Tensor::ones(s, DType::f32); };
  const std::size_t before = backend::cached_primitive_count();
  {
    const backend::PlanOnly plan;
    ASSERT_TRUE(backend::plan_only());
    (void)run_with_grads(block, in32, all, ones);
  }
  EXPECT_FALSE(backend::plan_only());
  const std::size_t planned = backend::cached_primitive_count();
  EXPECT_GT(planned, before);
  expect_f32_matches_f64(block, in64, all, 1e-4);
  EXPECT_EQ(backend::cached_primitive_count(), planned) << "the real pass created primitives the plan had not";
}

// The block under mixed precision, as conv_bn_leaky runs it: bf16
// convolutions, batch norm's output and input gradient held as bfloat16,
// the second convolution's converted input saved for its weight gradient.
// Planned first, the real pass creates nothing and stays within bf16
// rounding of float64: 6e-2 here, as batch norm's backward subtracts
// near-equal terms (the same block with batch norm's tensors float32 and
// nothing planned is off by the same 5.2e-2, 2.9e-2 and 3.8e-2).
Tensor block_bf16(Tape& t, const std::vector<Tensor>& in) {
  const Tensor zeros = Tensor::zeros({32}, in[0].dtype()), ones = Tensor::ones({32}, in[0].dtype());
  const Tensor h = conv2d(t, in[0], in[1], {}, {.pad = 1, .bf16 = true});
  const Tensor a =
      batch_norm_leaky(t, h, in[2], in[3], zeros, ones, {.bf16_output = true, .bf16_input_grad = true}).y;
  const Tensor n = conv2d(t, a, in[4], {}, {.bf16 = true});
  return concat(t, {upsample_nearest2d(t, n, {2}), upsample_nearest2d(t, a, {2})}, 1);
}

TEST(PlanOnly, APlannedBf16TrainingPassLeavesTheRealPassNothingToCreate) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  const std::vector<Tensor> in64 = block_inputs();
  std::vector<Tensor> in32;
  for (const Tensor& t : in64) in32.push_back(t.to(DType::f32));
  const std::vector<bool> all(in64.size(), true);
  const auto ones = [](const Shape& s) { return Tensor::ones(s, DType::f32); };
  {
    const backend::PlanOnly plan;
    (void)run_with_grads(block_bf16, in32, all, ones);
  }
  const std::size_t planned = backend::cached_primitive_count();
  expect_f32_matches_f64(block_bf16, in64, all, 6e-2);
  EXPECT_EQ(backend::cached_primitive_count(), planned) << "the real pass created primitives the plan had not";
}

// An output of `shape` taken from the buffer cache lands in one of the
// buffers just released, which were filled with 42 (two: an op may first
// take one for its input in another layout): a planned op leaves the 42s.
void expect_output_unwritten(const std::function<Tensor(const Tensor&)>& op) {
  const Shape shape{1, 16, 128, 128};  // 1 MiB of float32: served by the buffer cache
  const Tensor x = Tensor::full(shape, -1.0, DType::f32);
  Tensor y;
  {
    std::vector<Tensor> sentinels{Tensor::full(shape, 42.0, DType::f32), Tensor::full(shape, 42.0, DType::f32)};
    sentinels.clear();
    const backend::PlanOnly plan;
    y = op(x);
  }
  const auto values = y.to_double_vector();
  EXPECT_EQ(std::count(values.begin(), values.end(), 42.0), static_cast<std::ptrdiff_t>(values.size()));
  // The same op for real computes its values.
  const auto real = op(x).to_double_vector();
  EXPECT_EQ(std::count(real.begin(), real.end(), 42.0), 0);
}

TEST(PlanOnly, PlannedOpsWriteNothing) {
  // a oneDNN convolution into a blocked output (16 channels: no padding)
  const Tensor w = Tensor::full({16, 16, 1, 1}, 0.5, DType::f32);
  expect_output_unwritten([&](const Tensor& x) {
    Tape tape(Tape::Mode::inference);
    return conv2d(tape, x, w, {}, {});
  });
  // oneDNN's eltwise primitive
  expect_output_unwritten([](const Tensor& x) {
    Tape tape(Tape::Mode::inference);
    return leaky_relu(tape, x, {0.1});
  });
  // the project's batch norm + leaky kernel
  expect_output_unwritten([](const Tensor& x) {
    Tape tape(Tape::Mode::inference);
    const Tensor zeros = Tensor::zeros({16}, DType::f32), ones = Tensor::ones({16}, DType::f32);
    return batch_norm_leaky(tape, x, ones, zeros, zeros, ones, {}).y;
  });
}

// What outlives a planned pass is still computed: float64 ops, and the
// folded weights an inference block keeps (prepared in the convolution's
// layout), which later forwards reuse while their sources are unchanged.
TEST(PlanOnly, WhatOutlivesThePassIsStillComputed) {
  Tape tape(Tape::Mode::inference);
  const Tensor x64 = Tensor::full({2, 3}, -2.0, DType::f64);
  Tensor y64;
  {
    const backend::PlanOnly plan;
    y64 = leaky_relu(tape, x64, {0.1});
  }
  EXPECT_EQ(y64.to_double_vector(), std::vector<double>(6, -0.2));

  const std::vector<Tensor> in = block_inputs();
  const Tensor x = in[0].to(DType::f32), w = in[1].to(DType::f32), gamma = in[2].to(DType::f32),
               beta = in[3].to(DType::f32), mean = Tensor::zeros({32}, DType::f32), var = Tensor::ones({32}, DType::f32);
  FoldedWeights kept;
  const ConvBnLeakyParams p{{.pad = 1}, {.training = false}, 0.1, &kept};
  {
    const backend::PlanOnly plan;
    (void)conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, p);
  }
  ASSERT_TRUE(kept.w.defined());
  const Tensor reused = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, p).y;
  const Tensor reference = conv_bn_leaky(tape, x.to(DType::f64), w.to(DType::f64), {}, gamma.to(DType::f64),
                                         beta.to(DType::f64), mean.to(DType::f64), var.to(DType::f64),
                                         {{.pad = 1}, {.training = false}, 0.1, nullptr}).y;
  EXPECT_LE(rel_err(reused, reference), 1e-4);
}

TEST(PlanOnly, GuardsNestAndPutBackThePrefaultSetting) {
  {
    const backend::PlanOnly outer;
    {
      const backend::PlanOnly inner;
      EXPECT_TRUE(backend::plan_only());
    }
    EXPECT_TRUE(backend::plan_only());
    EXPECT_TRUE(core::buffer_cache().set_prefault(true)) << "prefault is on while planning";
  }
  EXPECT_FALSE(backend::plan_only());
  EXPECT_FALSE(core::buffer_cache().set_prefault(false)) << "prefault is off again";
}

}  // namespace
}  // namespace ops
