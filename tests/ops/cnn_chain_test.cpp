// A chain of the CNN ops as Darknet-53 strings them together (conv -> batch
// norm -> leaky -> add -> concat -> upsample -> conv), float32 through the
// seam against the float64 reference chain; and the fused inference block
// against the same three ops unfused.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/buffer_cache.h"
#include "core/error.h"
#include "ops/backend/dnnl.h"
#include "ops/batch_norm2d.h"
#include "ops/binary.h"
#include "ops/conv2d.h"
#include "ops/conv_bn_leaky.h"
#include "ops/maxpool2d.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"
#include "ops/upsample_nearest2d.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

// inputs: x [2,3,6,6], w1 [4,3,3,3], gamma [4], beta [4], w2 [4,3,1,1], w3 [5,8,3,3]
Tensor chain(Tape& t, const std::vector<Tensor>& in, const Tensor& mean, const Tensor& var) {
  const Tensor h = conv2d(t, in[0], in[1], {}, {.pad = 1});
  const Tensor n = batch_norm2d(t, h, in[2], in[3], mean.to(h.dtype()), var.to(h.dtype()), {}).y;
  const Tensor a = leaky_relu(t, n, {0.1});
  const Tensor s = add(t, a, conv2d(t, in[0], in[4], {}, {}));
  const Tensor c = concat(t, {s, a}, 1);
  const Tensor p = maxpool2d(t, upsample_nearest2d(t, c, {2}), {.kernel = 2, .stride = 1, .pad_end = 1});
  return conv2d(t, p, in[5], {}, {.stride = 2, .pad = 1});
}

TEST(CnnChain, Float32MatchesFloat64ReferenceChain) {
  const Tensor mean = Tensor::zeros({4}, DType::f64), var = Tensor::ones({4}, DType::f64);
  const std::vector<Tensor> in = {rand64({2, 3, 6, 6}, 1),      rand64({4, 3, 3, 3}, 2), rand64({4}, 3, 0.5, 1.5),
                                  rand64({4}, 4),               rand64({4, 3, 1, 1}, 5), rand64({5, 8, 3, 3}, 6)};
  expect_f32_matches_f64([&](Tape& t, const std::vector<Tensor>& v) { return chain(t, v, mean, var); }, in,
                         std::vector<bool>(in.size(), true), 1e-4);
}

TEST(CnnChain, Float64ChainGradcheck) {
  const Tensor mean = Tensor::zeros({4}, DType::f64), var = Tensor::ones({4}, DType::f64);
  expect_gradcheck([&](Tape& t, const std::vector<Tensor>& v) { return chain(t, v, mean, var); },
                   {rand64({1, 3, 4, 4}, 1), rand64({4, 3, 3, 3}, 2), rand64({4}, 3, 0.5, 1.5), rand64({4}, 4),
                    rand64({4, 3, 1, 1}, 5), rand64({5, 8, 3, 3}, 6)},
                   1e-5);
}

class FusedBlock : public ::testing::TestWithParam<std::tuple<DType, bool>> {};

TEST_P(FusedBlock, InferenceMatchesUnfusedOps) {
  const auto [dt, darknet] = GetParam();
  const Tensor x = rand64({2, 4, 7, 7}, 1).to(dt), w = rand64({6, 4, 3, 3}, 2).to(dt);
  const Tensor gamma = rand64({6}, 3, 0.5, 1.5).to(dt), beta = rand64({6}, 4).to(dt);
  const Tensor mean = rand64({6}, 5).to(dt), var = rand64({6}, 6, 0.1, 2.0).to(dt);
  const ConvBnLeakyParams p{{.stride = 2, .pad = 1}, {.training = false, .darknet = darknet}, 0.1};
  Tape fused_tape(Tape::Mode::inference);
  const Tensor fused = conv_bn_leaky(fused_tape, x, w, {}, gamma, beta, mean, var, p).y;
  Tape tape;  // recording: the unfused path
  const Tensor conv = conv2d(tape, x, w, {}, p.conv);
  const Tensor ref = leaky_relu(tape, batch_norm2d(tape, conv, gamma, beta, mean, var, p.bn).y, {0.1});
  EXPECT_LE(rel_err(fused, ref), dt == DType::f32 ? 1e-5 : 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, FusedBlock,
                         ::testing::Combine(::testing::Values(DType::f32, DType::f64), ::testing::Bool()));

// With a FoldedWeights cache the fused path folds once, refolds when a
// source tensor changes in place (a new version), and matches a fresh fold.
TEST(FusedBlock, FoldedWeightsAreReusedUntilASourceChanges) {
  const DType dt = DType::f32;
  const Tensor x = rand64({2, 4, 7, 7}, 1).to(dt), w = rand64({6, 4, 3, 3}, 2).to(dt);
  const Tensor gamma = rand64({6}, 3, 0.5, 1.5).to(dt), beta = rand64({6}, 4).to(dt);
  const Tensor mean = rand64({6}, 5).to(dt), var = rand64({6}, 6, 0.1, 2.0).to(dt);
  FoldedWeights cache;
  ConvBnLeakyParams p{{.pad = 1}, {.training = false}, 0.1, &cache};
  ConvBnLeakyParams fresh = p;
  fresh.folded = nullptr;
  Tape tape(Tape::Mode::inference);
  const Tensor first = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, p).y;
  const auto* folded = cache.w.storage().get();
  const Tensor again = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, p).y;
  EXPECT_EQ(cache.w.storage().get(), folded) << "folded again without a change";
  EXPECT_EQ(again.to_double_vector(), first.to_double_vector());
  gamma.mutable_data<float>()[0] *= 2.0f;  // a training step changes gamma in place
  const Tensor changed = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, p).y;
  EXPECT_NE(cache.w.storage().get(), folded) << "a stale fold was reused";
  EXPECT_EQ(changed.to_double_vector(), conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, fresh).y.to_double_vector());
  EXPECT_NE(changed.to_double_vector(), first.to_double_vector());
}

// A kept fold lives only in the layout the convolution reads (no plain copy
// until someone reads it), serves inputs of other shapes too, and reads back
// as the fold w * gamma / sqrt(var + eps).
TEST(FusedBlock, KeptFoldIsHeldInTheConvolutionsLayoutAndReadsBackAsTheFold) {
  const DType dt = DType::f32;
  const Tensor x = rand64({2, 32, 7, 7}, 1).to(dt), w = rand64({32, 32, 3, 3}, 2).to(dt);
  const Tensor gamma = rand64({32}, 3, 0.5, 1.5).to(dt), beta = rand64({32}, 4).to(dt);
  const Tensor mean = rand64({32}, 5).to(dt), var = rand64({32}, 6, 0.1, 2.0).to(dt);
  FoldedWeights cache;
  ConvBnLeakyParams p{{.pad = 1}, {.training = false}, 0.1, &cache};
  ConvBnLeakyParams fresh = p;
  fresh.folded = nullptr;
  Tape tape(Tape::Mode::inference);
  const Tensor y = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, p).y;
  ASSERT_NE(cache.w.physical_layout(), nullptr) << "the fold was kept as plain bytes";
  EXPECT_EQ(y.to_double_vector(), conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, fresh).y.to_double_vector());
  const Tensor x_other = rand64({1, 32, 12, 9}, 7).to(dt);
  EXPECT_LE(rel_err(conv_bn_leaky(tape, x_other, w, {}, gamma, beta, mean, var, p).y,
                    conv_bn_leaky(tape, x_other, w, {}, gamma, beta, mean, var, fresh).y),
            1e-6);
  const std::vector<double> folded = cache.w.to_double_vector();  // reordered back to plain
  EXPECT_EQ(cache.w.physical_layout(), nullptr);
  const std::vector<double> wv = w.to_double_vector();
  const std::int64_t per = 32 * 3 * 3;
  double worst = 0;
  for (std::int64_t i = 0; i < w.numel(); ++i) {
    const std::int64_t o = i / per;
    const double s = gamma.to_double_vector()[o] / std::sqrt(var.to_double_vector()[o] + p.bn.eps);
    worst = std::max(worst, std::abs(folded[i] - wv[i] * s) / std::max(1e-3, std::abs(wv[i] * s)));
  }
  EXPECT_LE(worst, 1e-6);
}

// A kept fold lives as long as the model: its buffers are sized to its
// weights even where larger idle buffers wait in the process's buffer
// cache, which an activation would take whole (core::LongLivedBuffers).
TEST(FusedBlock, KeptFoldTakesNoLargerIdleBuffer) {
  const DType dt = DType::f32;
  const Tensor x = rand64({1, 256, 13, 13}, 1).to(dt), w = rand64({512, 256, 3, 3}, 2).to(dt);  // 4.5 MiB
  const Tensor gamma = rand64({512}, 3, 0.5, 1.5).to(dt), beta = rand64({512}, 4).to(dt);
  const Tensor mean = rand64({512}, 5).to(dt), var = rand64({512}, 6, 0.1, 2.0).to(dt);
  Tape tape(Tape::Mode::inference);
  // The same convolution once unkept first: the process-wide scratchpad it
  // may grow is then in use before the measurement, not counted in it.
  (void)conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, {{.pad = 1}, {.training = false}, 0.1});
  core::BufferCache& cache = core::buffer_cache();
  constexpr std::size_t kIdleBytes = std::size_t{12} << 20;  // under 4 x the weights: an activation takes it whole
  std::vector<std::pair<void*, std::size_t>> idle(4);
  for (auto& [p, cap] : idle) p = cache.acquire(kIdleBytes, &cap);
  for (auto [p, cap] : idle) cache.release(p, cap);
  FoldedWeights kept;
  const ConvBnLeakyParams p{{.pad = 1}, {.training = false}, 0.1, &kept};
  const std::size_t in_use_before = cache.stats().in_use_bytes;
  {
    const Tensor y = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, p).y;
  }
  const std::size_t kept_bytes = cache.stats().in_use_bytes - in_use_before;
  const std::size_t weight_bytes = static_cast<std::size_t>(w.numel()) * sizeof(float);
  EXPECT_GE(kept_bytes, weight_bytes);
  EXPECT_LE(kept_bytes, weight_bytes + weight_bytes / 8) << "the kept fold took a larger idle buffer whole";
  cache.trim();
}

// A block inference runs on Winograd (3x3, stride 1, 32 channels, 28x28
// output), with leaky ReLU as a pass of its own where the fused post-op is
// not offered: float32, with and without a kept fold, matches the float64
// block (negative outputs included).
TEST(FusedBlock, WinogradSizedInferenceBlockMatchesFloat64) {
  const Tensor x = rand64({1, 32, 28, 28}, 1), w = rand64({32, 32, 3, 3}, 2, -0.2, 0.2);
  const Tensor gamma = rand64({32}, 3, 0.5, 1.5), beta = rand64({32}, 4);
  const Tensor mean = rand64({32}, 5), var = rand64({32}, 6, 0.1, 2.0);
  const auto f32 = [](const Tensor& t) { return t.to(DType::f32); };
  FoldedWeights cache;
  const ConvBnLeakyParams kept{{.pad = 1}, {.training = false}, 0.1, &cache};
  const ConvBnLeakyParams plain{{.pad = 1}, {.training = false}, 0.1};
  Tape tape(Tape::Mode::inference);
  const Tensor ref = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, plain).y;
  const std::vector<double> r = ref.to_double_vector();
  ASSERT_TRUE(std::any_of(r.begin(), r.end(), [](double v) { return v < 0; }));
  for (const ConvBnLeakyParams* p : {&kept, &plain}) {
    const Tensor y = conv_bn_leaky(tape, f32(x), f32(w), {}, f32(gamma), f32(beta), f32(mean), f32(var), *p).y;
    EXPECT_LE(rel_err(y, ref), 1e-4) << (p->folded ? "kept fold" : "fold per call");
  }
}

// Inference under bf16: a block's output is held as bfloat16 (so the next
// block's convolution reads it with no conversion), within bf16 rounding of
// the float64 block, with and without a kept fold; the next block computes
// bit for bit what it computes from the same values as float32, and an add
// reading it sees those values. Blocked (32 channels) and channels-last (8).
TEST(FusedBlock, Bf16InferenceHoldsTheOutputAsBfloat16ForTheNextBlock) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  const auto f32 = [](const Tensor& t) { return t.to(DType::f32); };
  for (const std::int64_t c : {32, 8}) {
    SCOPED_TRACE(c);
    const Tensor x = rand64({1, c, 12, 12}, 21), w = rand64({c, c, 3, 3}, 22, -0.2, 0.2);
    const Tensor gamma = rand64({c}, 23, 0.5, 1.5), beta = rand64({c}, 24);
    const Tensor mean = rand64({c}, 25), var = rand64({c}, 26, 0.1, 2.0);
    FoldedWeights cache, next_cache;
    const ConvBnLeakyParams kept{{.pad = 1, .bf16 = true}, {.training = false}, 0.1, &cache};
    const ConvBnLeakyParams per_call{{.pad = 1, .bf16 = true}, {.training = false}, 0.1};
    const ConvBnLeakyParams next{{.pad = 1, .bf16 = true}, {.training = false}, 0.1, &next_cache};
    const ConvBnLeakyParams reference{{.pad = 1}, {.training = false}, 0.1};
    Tape tape(Tape::Mode::inference);
    const Tensor ref = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, reference).y;
    const Tensor w32 = f32(w), gamma32 = f32(gamma), beta32 = f32(beta), mean32 = f32(mean), var32 = f32(var);
    const auto block = [&](const Tensor& in, const ConvBnLeakyParams& p) {
      return conv_bn_leaky(tape, in, w32, {}, gamma32, beta32, mean32, var32, p).y;
    };
    Tensor y;
    for (const ConvBnLeakyParams* p : {&kept, &per_call}) {
      y = block(f32(x), *p);
      EXPECT_TRUE(backend::holds_bfloat16(y)) << (p->folded ? "kept fold" : "fold per call");
      EXPECT_LE(rel_err(y, ref), 2e-2) << (p->folded ? "kept fold" : "fold per call");
    }
    const Tensor as_f32 = y.to(DType::f64).to(DType::f32);  // the same values, float32
    EXPECT_FALSE(backend::holds_bfloat16(as_f32));
    EXPECT_EQ(block(y, next).to_double_vector(), block(as_f32, next).to_double_vector());
    EXPECT_EQ(add(tape, as_f32, y).to_double_vector(), add(tape, as_f32, as_f32).to_double_vector());
  }
}

// A kept fold prepared for one input size serves another: the fold is
// prepared again exactly when the prepared layout does not fit, and every
// size matches the float64 block. yolov3-tiny at 416 then 448 (52x52 then
// 56x56 outputs, 64 to 128 channels) once failed here, when inference held
// Winograd's transformed weights, which differ with the output size and
// cannot be read back. It reads ordinary blocked weights now: reading the
// kept fold back gives the fold.
TEST(FusedBlock, KeptWinogradFoldFollowsANewInputSize) {
  const Tensor w = rand64({128, 64, 3, 3}, 2, -0.1, 0.1);
  const Tensor gamma = rand64({128}, 3, 0.5, 1.5), beta = rand64({128}, 4);
  const Tensor mean = rand64({128}, 5), var = rand64({128}, 6, 0.1, 2.0);
  const auto f32 = [](const Tensor& t) { return t.to(DType::f32); };
  FoldedWeights cache;
  const ConvBnLeakyParams kept{{.pad = 1}, {.training = false}, 0.1, &cache};
  const ConvBnLeakyParams plain{{.pad = 1}, {.training = false}, 0.1};
  const backend::ConvSpec spec{.stride = 1, .pad = 1};
  const backend::ConvPostOp leaky{true, 0.1};
  const Tensor w32 = f32(w), gamma32 = f32(gamma), beta32 = f32(beta), mean32 = f32(mean), var32 = f32(var);
  Tape tape(Tape::Mode::inference);
  for (std::int64_t side : {52, 56, 52}) {
    const Tensor x = rand64({1, 64, side, side}, 10 + side);
    const bool refold =
        !cache.w.defined() || !backend::conv2d_prepared_weights_fit(cache.w, x.shape(), true, spec, leaky);
    const void* before = cache.w.defined() ? cache.w.storage().get() : nullptr;
    const Tensor ref = conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, plain).y;
    const Tensor y = conv_bn_leaky(tape, f32(x), w32, {}, gamma32, beta32, mean32, var32, kept).y;
    EXPECT_LE(rel_err(y, ref), 1e-4) << side << "x" << side;
    EXPECT_EQ(cache.w.storage().get() != before, refold) << side << "x" << side << ": prepared again only if needed";
  }
  const std::vector<double> folded = cache.w.to_double_vector();
  const double s0 = gamma.to_double_vector()[0] / std::sqrt(var.to_double_vector()[0] + kept.bn.eps);
  EXPECT_NEAR(folded[0], w.to_double_vector()[0] * s0, 1e-6);
}

// A kept fold never needs its sources again: released after the first
// forward, the unfolded weights are not read when a new input size changes
// the primitive. 24x24 outputs run direct, 28x28 on Winograd where the CPU
// has it (26x26 is the floor), and the two read different weight layouts,
// so the sequence 24, 28, 24 prepares the fold again, twice, from its own
// read-back values (inference Winograd reads ordinary blocked weights,
// which read back); the test requires that it did. Every step equals, bit
// for bit, a twin whose sources stay, and the float64 block; the fold reads
// back as the twin's.
TEST(FusedBlock, AFoldKeptReadableServesEverySizeWithoutItsSources) {
  const Tensor w = rand64({32, 32, 3, 3}, 2, -0.2, 0.2);
  const Tensor gamma = rand64({32}, 3, 0.5, 1.5), beta = rand64({32}, 4);
  const Tensor mean = rand64({32}, 5), var = rand64({32}, 6, 0.1, 2.0);
  const auto f32 = [](const Tensor& t) { return t.to(DType::f32); };
  const Tensor gamma32 = f32(gamma), beta32 = f32(beta), mean32 = f32(mean), var32 = f32(var);
  const Tensor w_released = f32(w), w_kept = f32(w);
  FoldedWeights readable, twin;
  const ConvBnLeakyParams released_p{{.pad = 1}, {.training = false}, 0.1, &readable};
  const ConvBnLeakyParams twin_p{{.pad = 1}, {.training = false}, 0.1, &twin};
  const ConvBnLeakyParams plain{{.pad = 1}, {.training = false}, 0.1};
  const backend::ConvSpec spec{.stride = 1, .pad = 1};
  const backend::ConvPostOp leaky{true, 0.1};
  int prepared_again = 0;
  Tape tape(Tape::Mode::inference);
  for (std::int64_t side : {24, 28, 24}) {
    const Tensor x = rand64({1, 32, side, side}, 20 + side);
    const bool layout_changes =
        readable.w.defined() && !backend::conv2d_prepared_weights_fit(readable.w, x.shape(), true, spec, leaky);
    const void* before = readable.w.defined() ? readable.w.storage().get() : nullptr;
    const Tensor y = conv_bn_leaky(tape, f32(x), w_released, {}, gamma32, beta32, mean32, var32, released_p).y;
    EXPECT_EQ(before != nullptr && readable.w.storage().get() != before, layout_changes) << side << "x" << side;
    prepared_again += layout_changes ? 1 : 0;
    const Tensor y_twin = conv_bn_leaky(tape, f32(x), w_kept, {}, gamma32, beta32, mean32, var32, twin_p).y;
    EXPECT_EQ(y.to_double_vector(), y_twin.to_double_vector()) << side << "x" << side;
    EXPECT_LE(rel_err(y, conv_bn_leaky(tape, x, w, {}, gamma, beta, mean, var, plain).y), 1e-4);
    ASSERT_TRUE(readable.w.defined()) << side << "x" << side;
    if (side == 24) w_released.release_values("released");  // a read of the sources now throws
  }
  EXPECT_THROW((void)w_released.data<float>(), core::Error);
  // Read last: reading turns the prepared copy into plain values.
  EXPECT_EQ(readable.w.to_double_vector(), twin.w.to_double_vector());
  if (!backend::conv2d_trains_on_winograd({1, 32, 28, 28}, {32, 32, 3, 3}, spec)) {
    GTEST_SKIP() << "no Winograd on this CPU: every size reads one layout";
  }
  EXPECT_EQ(prepared_again, 2) << "24 -> 28 and 28 -> 24 read other layouts";
}

TEST(FusedBlock, RecordingTapeGivesGradientsAndRunningStats) {
  Tape tape;
  Tensor x = rand64({2, 3, 5, 5}, 1).set_requires_grad();
  Tensor w = rand64({4, 3, 3, 3}, 2).set_requires_grad();
  const auto r = conv_bn_leaky(tape, x, w, {}, Tensor::ones({4}, DType::f64), Tensor::zeros({4}, DType::f64),
                               Tensor::zeros({4}, DType::f64), Tensor::ones({4}, DType::f64), {.conv = {.pad = 1}});
  ASSERT_TRUE(r.running_mean.defined());
  tape.backward(r.y, Tensor::ones(r.y.shape(), DType::f64));
  EXPECT_TRUE(x.grad().defined());
  EXPECT_TRUE(w.grad().defined());
}

}  // namespace
}  // namespace ops
