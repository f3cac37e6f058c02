// conv2d: float64 gradcheck, the oneDNN float32 path against the float64
// reference over a sweep of geometries, primitive reuse, and bad input.
#include "ops/conv2d.h"

#include <fmt/format.h>

#include "core/error.h"
#include "ops/backend/dnnl.h"
#include "ops/batch_norm_leaky_kernels.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

struct ConvCase {
  Shape x;         // N,C,H,W
  std::int64_t oc; // output channels
  std::int64_t k;  // square kernel
  Conv2dParams p;
  bool bias;
};

std::string case_name(const ConvCase& c) {
  return fmt::format("n{}c{}h{}w{}_oc{}k{}_s{}p{}d{}g{}{}", c.x[0], c.x[1], c.x[2], c.x[3], c.oc, c.k, c.p.stride,
                     c.p.pad, c.p.dilation, c.p.groups, c.bias ? "_bias" : "");
}

std::vector<Tensor> conv_inputs(const ConvCase& c, std::uint64_t seed) {
  return {rand64(c.x, seed), rand64({c.oc, c.x[1] / c.p.groups, c.k, c.k}, seed + 1),
          c.bias ? rand64({c.oc}, seed + 2) : Tensor()};
}

OpFn conv_fn(const Conv2dParams& p) {
  return [p](Tape& t, const std::vector<Tensor>& in) { return conv2d(t, in[0], in[1], in[2], p); };
}

class ConvAgainstReference : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvAgainstReference, Float32MatchesFloat64ForwardAndBackward) {
  const ConvCase& c = GetParam();
  // Sums of at most C*K*K products of values in [-1, 1]: float32 keeps ~1e-6.
  expect_f32_matches_f64(conv_fn(c.p), conv_inputs(c, 11), {true, true, true}, 2e-5);
}

std::vector<ConvCase> sweep() {
  std::vector<ConvCase> cases;
  for (std::int64_t stride : {1, 2})
    for (std::int64_t pad : {0, 1, 2})
      for (std::int64_t dil : {1, 2})
        for (std::int64_t k : {1, 3}) {
          if (k == 1 && dil == 2) continue;  // dilation does nothing to a 1x1 kernel
          cases.push_back({{2, 4, 9, 7}, 6, k, {stride, pad, dil, 1}, (stride + pad) % 2 == 0});
        }
  // Batch 1, groups (including depthwise), odd sizes, bias and none.
  cases.push_back({{1, 3, 5, 5}, 8, 3, {1, 1, 1, 1}, true});
  cases.push_back({{2, 6, 7, 5}, 4, 3, {2, 1, 1, 2}, true});
  cases.push_back({{1, 6, 6, 6}, 9, 1, {1, 0, 1, 3}, false});
  cases.push_back({{3, 4, 5, 7}, 4, 3, {1, 2, 2, 4}, true});
  cases.push_back({{2, 16, 11, 13}, 32, 3, {2, 1, 1, 1}, false});
  // Even size at stride 2 (416 -> 208): the last padded column is never read.
  cases.push_back({{2, 5, 8, 6}, 7, 3, {2, 1, 1, 1}, false});
  // 3x3 stride 1 with 32+ channels and 16x16+ outputs, or 256+ input
  // channels and 8x8+: oneDNN's Winograd kernels in training
  // (ONEDNN_VERBOSE=1 shows jit_wino_4x3), their rounding within the same
  // bound; 8x8, 10x10 and 13x13 outputs are partial 4x4 tiles, as on the
  // stride-32 scale.
  cases.push_back({{2, 32, 16, 16}, 32, 3, {1, 1, 1, 1}, false});
  cases.push_back({{2, 256, 8, 8}, 32, 3, {1, 1, 1, 1}, true});
  cases.push_back({{1, 256, 10, 10}, 64, 3, {1, 1, 1, 1}, false});
  cases.push_back({{1, 272, 13, 13}, 32, 3, {1, 1, 1, 1}, false});
  // Winograd forward and backward data, the weight gradient on the direct
  // kernel: Winograd's would need a 171 MiB scratchpad or more.
  cases.push_back({{1, 768, 8, 8}, 768, 3, {1, 1, 1, 1}, true});
  cases.push_back({{1, 48, 18, 20}, 64, 3, {1, 1, 1, 1}, true});
  cases.push_back({{2, 32, 20, 19}, 48, 3, {1, 0, 1, 1}, false});
  // Padding 2: oneDNN has no Winograd kernel for it, so the direct one runs
  // (creating a Winograd primitive would throw); 40 output channels run
  // Winograd with a partial channel block.
  cases.push_back({{1, 32, 18, 18}, 32, 3, {1, 2, 1, 1}, false});
  cases.push_back({{1, 32, 18, 18}, 40, 3, {1, 1, 1, 1}, true});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Sweep, ConvAgainstReference, ::testing::ValuesIn(sweep()),
                         [](const auto& info) { return case_name(info.param); });

class ConvGradcheck : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradcheck, Float64MatchesFiniteDifferences) {
  const ConvCase& c = GetParam();
  auto in = conv_inputs(c, 21);
  if (!c.bias) in.pop_back();
  expect_gradcheck(
      [p = c.p](Tape& t, const std::vector<Tensor>& v) { return conv2d(t, v[0], v[1], v.size() > 2 ? v[2] : Tensor(), p); },
      in);
}

INSTANTIATE_TEST_SUITE_P(Small, ConvGradcheck,
                         ::testing::Values(ConvCase{{2, 3, 5, 5}, 2, 3, {1, 1, 1, 1}, true},
                                           ConvCase{{1, 4, 6, 5}, 2, 3, {2, 2, 2, 2}, true},
                                           ConvCase{{2, 2, 4, 4}, 3, 1, {1, 0, 1, 1}, false}),
                         [](const auto& info) { return case_name(info.param); });

// Mixed precision: with bf16 the float32 path multiplies bfloat16-rounded
// inputs, weights and output gradients (8-bit mantissas, float32 sums), so
// it stays within bf16 rounding of float64 and visibly off float32's
// accuracy. Blocked (16 channels) and channels-last (8) geometries.
TEST(Conv2d, Bf16MatchesFloat64WithinBf16Rounding) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  for (const ConvCase& c : {ConvCase{{2, 16, 9, 9}, 32, 3, {.stride = 1, .pad = 1}, true},
                           ConvCase{{2, 8, 8, 8}, 8, 3, {.stride = 2, .pad = 1}, false},
                           ConvCase{{2, 32, 5, 5}, 16, 1, {}, false}}) {
    SCOPED_TRACE(case_name(c));
    Conv2dParams p = c.p;
    p.bf16 = true;
    const auto in = conv_inputs(c, 11);
    const std::vector<bool> diff = {true, true, c.bias};
    expect_f32_matches_f64(conv_fn(p), in, diff, 2e-2);
    // The bf16 output really is rounded: further from float64 than float32's.
    std::vector<Tensor> in32;
    for (const auto& t : in) in32.push_back(t.defined() ? t.to(DType::f32) : Tensor());
    Tape tape(Tape::Mode::inference);
    const Tensor ref = conv2d(tape, in[0], in[1], in[2], c.p);
    EXPECT_GT(rel_err(conv2d(tape, in32[0], in32[1], in32[2], p), ref), 1e-5);
    EXPECT_LT(rel_err(conv2d(tape, in32[0], in32[1], in32[2], c.p), ref), 1e-5);
  }
}

// The tape's backward runs both gradient kernels from one dy
// (backend::conv2d_backward, which converts dy to bf16 once under mixed
// precision); it must give exactly what the two kernels give apart. dy comes
// plain and, from a 1x1 convolution, in oneDNN's blocked layout, over a
// direct, a Winograd, a strided channels-last and a 1x1 geometry.
TEST(Conv2d, OneBackwardFromOneDyEqualsTheTwoKernelsApartBitwise) {
  const std::vector<ConvCase> cases = {ConvCase{{2, 16, 9, 9}, 32, 3, {.stride = 1, .pad = 1}, true},
                                       ConvCase{{2, 32, 16, 16}, 32, 3, {.stride = 1, .pad = 1}, false},
                                       ConvCase{{2, 8, 8, 8}, 8, 3, {.stride = 2, .pad = 1}, true},
                                       ConvCase{{2, 32, 5, 5}, 16, 1, {}, false}};
  for (const bool bf16 : {false, true}) {
    if (bf16 && !backend::bf16_supported()) continue;
    for (const ConvCase& c : cases) {
      Conv2dParams p = c.p;
      p.bf16 = bf16;
      const backend::ConvSpec spec{p.stride, p.pad, p.dilation, p.groups, p.bf16};
      const auto in = conv_inputs(c, 5);
      const Tensor x = in[0].to(DType::f32), w = in[1].to(DType::f32);
      const Shape y_shape = conv2d_check("test", x, w, Tensor(), p);
      const Tensor dy_plain = rand64(y_shape, 9).to(DType::f32);
      const Tensor mix = rand64({y_shape[1], y_shape[1], 1, 1}, 10).to(DType::f32);
      const Tensor dy_blocked = backend::conv2d_forward(dy_plain, mix, Tensor(), {}, true);
      for (const Tensor& dy : {dy_plain, dy_blocked}) {
        SCOPED_TRACE(fmt::format("{}{} dy {}", case_name(c), bf16 ? " bf16" : "", backend::layout_name(dy)));
        const auto both = backend::conv2d_backward(dy, x, w, spec, c.bias);
        const Tensor dx = conv2d_backward_data(dy, w, x.shape(), p);
        const auto apart = conv2d_backward_weights(dy, x, w.shape(), p, c.bias);
        EXPECT_EQ(both.dx.to_double_vector(), dx.to_double_vector());
        EXPECT_EQ(both.dw.to_double_vector(), apart.dw.to_double_vector());
        EXPECT_EQ(both.db.defined(), c.bias);
        if (c.bias) {
          EXPECT_EQ(both.db.to_double_vector(), apart.db.to_double_vector());
        }
      }
    }
  }
}

// Under bf16 the tape saves x as the forward converted it (bfloat16, in the
// convolution's layout) for the weight gradient, not x: the same output and
// gradients bit for bit as from x itself, and a float32 x that nothing else
// holds is freed after the forward: blocked inputs (16 and 32 channels).
// x already bfloat16, channels-last or in a layout not ours gets no copy.
TEST(Conv2d, Bf16SavesTheConvertedInputForTheWeightGradient) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  for (const ConvCase& c : {ConvCase{{2, 16, 9, 9}, 32, 3, {.stride = 1, .pad = 1}, true},
                           ConvCase{{2, 32, 8, 8}, 16, 1, {}, false}}) {
    SCOPED_TRACE(case_name(c));
    Conv2dParams p = c.p;
    p.bf16 = true;
    const backend::ConvSpec spec{p.stride, p.pad, p.dilation, p.groups, p.bf16};
    const auto in = conv_inputs(c, 31);
    Tensor x = in[0].to(DType::f32), w = in[1].to(DType::f32), b = c.bias ? in[2].to(DType::f32) : Tensor();
    Tensor copy;
    const Tensor y = backend::conv2d_forward(x, w, b, spec, true, {}, &copy);
    ASSERT_TRUE(copy.defined());
    EXPECT_TRUE(backend::holds_bfloat16(copy));
    EXPECT_STREQ(backend::layout_name(copy), "nChw16c");
    EXPECT_EQ(y.to_double_vector(), backend::conv2d_forward(x, w, b, spec, true).to_double_vector());
    const Tensor dy = rand64(y.shape(), 32).to(DType::f32);
    const auto want = backend::conv2d_backward_weights(x, dy, w.shape(), spec, c.bias);
    EXPECT_EQ(backend::conv2d_backward_weights(copy, dy, w.shape(), spec, c.bias).dw.to_double_vector(),
              want.dw.to_double_vector());
    // A bfloat16 x is read as it is: no second copy.
    Tensor again;
    backend::conv2d_forward(copy, w, b, spec, true, {}, &again);
    EXPECT_FALSE(again.defined());
    // Through the tape: x is not kept, and the gradients are the same.
    w.set_requires_grad();
    if (c.bias) b.set_requires_grad();
    const std::weak_ptr<core::Storage> x_storage = x.storage();
    Tape tape;
    const Tensor y_tape = conv2d(tape, x, w, b, p);
    x = Tensor();
    EXPECT_TRUE(x_storage.expired());
    tape.backward(y_tape, dy);
    EXPECT_EQ(w.grad().to_double_vector(), want.dw.to_double_vector());
    if (c.bias) {
      EXPECT_EQ(b.grad().to_double_vector(), want.db.to_double_vector());
    }
    // With x wanting its gradient too, backward runs both kernels from the
    // saved copy (backend::conv2d_backward): dx and dw as from x itself.
    Tensor x2 = in[0].to(DType::f32), w2 = in[1].to(DType::f32);
    x2.set_requires_grad();
    w2.set_requires_grad();
    Tape tape2;
    tape2.backward(conv2d(tape2, x2, w2, Tensor(), p), dy);
    const auto both = backend::conv2d_backward(dy, x2, w2, spec, false);
    EXPECT_EQ(x2.grad().to_double_vector(), both.dx.to_double_vector());
    EXPECT_EQ(w2.grad().to_double_vector(), both.dw.to_double_vector());
  }
  // Channels-last (8 channels) and the first layer's 3 channels: no copy.
  for (const ConvCase& c : {ConvCase{{2, 8, 8, 8}, 8, 3, {.stride = 2, .pad = 1}, false},
                           ConvCase{{1, 3, 8, 8}, 16, 3, {.stride = 1, .pad = 1}, false}}) {
    SCOPED_TRACE(case_name(c));
    const auto in = conv_inputs(c, 33);
    const backend::ConvSpec spec{c.p.stride, c.p.pad, c.p.dilation, c.p.groups, true};
    Tensor copy;
    backend::conv2d_forward(in[0].to(DType::f32), in[1].to(DType::f32), Tensor(), spec, true, {}, &copy);
    EXPECT_FALSE(copy.defined());
  }
}

// Inference under bf16 with ConvPostOp::bf16_output: y is held as
// bfloat16, in the layout of the float32 output, with that output's values
// rounded to nearest even (bias and leaky ReLU applied before rounding); a
// bf16 convolution reading it computes bit for bit what it computes from the
// float32 output, which it rounds the same way. Blocked (16 and 32 output
// channels) and channels-last (8) geometries. Training, or a float32
// convolution, refuses the flag.
TEST(Conv2d, Bf16InferenceOutputIsTheFloat32OutputRounded) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  for (const ConvCase& c : {ConvCase{{1, 16, 9, 9}, 32, 3, {.stride = 1, .pad = 1}, true},
                           ConvCase{{2, 8, 8, 8}, 8, 3, {.stride = 2, .pad = 1}, true},
                           ConvCase{{1, 32, 6, 6}, 16, 1, {}, false}}) {
    SCOPED_TRACE(case_name(c));
    const backend::ConvSpec spec{c.p.stride, c.p.pad, c.p.dilation, c.p.groups, true};
    const auto in = conv_inputs(c, 41);
    const Tensor x = in[0].to(DType::f32), w = in[1].to(DType::f32), b = c.bias ? in[2].to(DType::f32) : Tensor();
    const Tensor full = backend::conv2d_forward(x, w, b, spec, false, {.leaky = true, .slope = 0.1});
    const Tensor rounded =
        backend::conv2d_forward(x, w, b, spec, false, {.leaky = true, .slope = 0.1, .bf16_output = true});
    EXPECT_FALSE(backend::holds_bfloat16(full));
    EXPECT_TRUE(backend::holds_bfloat16(rounded));
    EXPECT_STREQ(backend::layout_name(rounded), backend::layout_name(full));
    const auto want = full.to_double_vector(), got = rounded.to_double_vector();
    ASSERT_EQ(got.size(), want.size());
    std::size_t negative = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const auto f = static_cast<float>(want[i]);
      ASSERT_EQ(got[i], kernels::from_bf16(kernels::to_bf16(f))) << "value " << i;
      negative += f < 0;
    }
    EXPECT_GT(negative, 0u) << "the leaky slope went untested";
    // The next bf16 convolution: the same output from either.
    const Tensor w2 = rand64({16, c.oc, 3, 3}, 42, -0.2, 0.2).to(DType::f32);
    const backend::ConvSpec next{1, 1, 1, 1, true};
    EXPECT_EQ(backend::conv2d_forward(rounded, w2, Tensor(), next, false).to_double_vector(),
              backend::conv2d_forward(full, w2, Tensor(), next, false).to_double_vector());
    EXPECT_THROW(backend::conv2d_forward(x, w, b, spec, true, {.bf16_output = true}), core::Error);
    EXPECT_THROW(backend::conv2d_forward(x, w, b, {c.p.stride, c.p.pad, c.p.dilation, c.p.groups, false}, false,
                                         {.bf16_output = true}),
                 core::Error);
  }
}

// Training runs 3x3 stride-1 float32 convolutions of 32+ channels on
// Winograd from 16x16 outputs up, and those of 256+ input channels from 8x8
// (the stride-32 scale of 256-608 px inputs), where the CPU offers it; the
// rest on the direct kernel.
TEST(Conv2d, TrainingRunsWinogradFrom8x8OutputsOnWideLayers) {
  const backend::ConvSpec s{.stride = 1, .pad = 1};
  const auto winograd = [](const Shape& x, const Shape& w, const backend::ConvSpec& spec) {
    return backend::conv2d_trains_on_winograd(x, w, spec);
  };
  if (!winograd({2, 32, 32, 32}, {32, 32, 3, 3}, s)) GTEST_SKIP() << "no Winograd kernel on this CPU";
  EXPECT_TRUE(winograd({8, 512, 13, 13}, {1024, 512, 3, 3}, s));
  EXPECT_TRUE(winograd({4, 512, 10, 10}, {1024, 512, 3, 3}, s));
  EXPECT_TRUE(winograd({8, 256, 8, 8}, {512, 256, 3, 3}, s));
  EXPECT_FALSE(winograd({8, 256, 7, 7}, {512, 256, 3, 3}, s));  // 49 output pixels
  EXPECT_TRUE(winograd({16, 64, 16, 16}, {128, 64, 3, 3}, s));
  EXPECT_FALSE(winograd({16, 64, 15, 15}, {128, 64, 3, 3}, s));  // narrow: from 16x16 only
  EXPECT_FALSE(winograd({16, 128, 8, 8}, {256, 128, 3, 3}, s));
  EXPECT_FALSE(winograd({8, 16, 13, 13}, {32, 16, 3, 3}, s));   // too few input channels
  EXPECT_FALSE(winograd({8, 512, 26, 26}, {1024, 512, 3, 3}, {.stride = 2, .pad = 1}));
  EXPECT_FALSE(winograd({8, 512, 13, 13}, {1024, 512, 1, 1}, {}));
  EXPECT_FALSE(winograd({8, 512, 13, 13}, {1024, 512, 3, 3}, {.stride = 1, .pad = 1, .bf16 = true}));
}

// Winograd's weight gradient keeps a transformed gradient per thread in the
// one process-wide scratchpad: where that would pass 128 MiB (YOLOv3's
// 512->1024 layers: 251 MiB on 2 threads, 1259 on 16) the weight gradient
// runs on the direct kernel, the forward and backward data still on
// Winograd. Small layers keep Winograd for all three.
TEST(Conv2d, LargeWinogradWeightGradientsRunDirect) {
  const backend::ConvSpec s{.stride = 1, .pad = 1};
  if (!backend::conv2d_trains_on_winograd({2, 32, 32, 32}, {32, 32, 3, 3}, s)) {
    GTEST_SKIP() << "no Winograd kernel on this CPU";
  }
  EXPECT_TRUE(backend::conv2d_weight_gradient_on_winograd({2, 32, 32, 32}, {32, 32, 3, 3}, s));
  EXPECT_TRUE(backend::conv2d_trains_on_winograd({8, 512, 13, 13}, {1024, 512, 3, 3}, s));
  EXPECT_FALSE(backend::conv2d_weight_gradient_on_winograd({8, 512, 13, 13}, {1024, 512, 3, 3}, s));
  EXPECT_TRUE(backend::conv2d_trains_on_winograd({1, 768, 8, 8}, {768, 768, 3, 3}, s));  // the sweep's mixed case
  EXPECT_FALSE(backend::conv2d_weight_gradient_on_winograd({1, 768, 8, 8}, {768, 768, 3, 3}, s));
}

TEST(Conv2d, ReusesCachedPrimitivesOnRepeatedShapes) {
  Tape tape;
  const ConvCase c{{1, 3, 7, 7}, 5, 3, {1, 1, 1, 1}, true};
  auto in = conv_inputs(c, 3);
  for (auto& t : in) t = t.to(DType::f32);
  conv2d(tape, in[0], in[1], in[2], c.p);
  const std::size_t after_first = backend::cached_primitive_count();
  conv2d(tape, in[0], in[1], in[2], c.p);
  EXPECT_EQ(backend::cached_primitive_count(), after_first);
}

TEST(Conv2dErrors, BadInputNamesOpAndShapes) {
  Tape tape;
  const Tensor x = Tensor::zeros({1, 4, 5, 5}, DType::f32);
  const Tensor w = Tensor::zeros({6, 4, 3, 3}, DType::f32);
  using core::ShapeError;
  using core::ValueError;
  expect_error<ShapeError>([&] { conv2d(tape, Tensor::zeros({4, 5, 5}, DType::f32), w, {}, {}); },
                           {"conv2d", "rank", "[4,5,5]"});
  expect_error<ShapeError>([&] { conv2d(tape, x, Tensor::zeros({6, 4, 3}, DType::f32), {}, {}); }, {"conv2d", "rank"});
  expect_error<ShapeError>([&] { conv2d(tape, x, Tensor::zeros({6, 3, 3, 3}, DType::f32), {}, {}); },
                           {"conv2d", "input has 4 channels", "[6,3,3,3]"});
  expect_error<ShapeError>([&] { conv2d(tape, x, Tensor::zeros({6, 1, 3, 3}, DType::f32), {}, {.groups = 3}); },
                           {"conv2d", "groups=3", "divide"});
  expect_error<ValueError>([&] { conv2d(tape, x, w, {}, {.stride = 0}); }, {"conv2d", "stride", "[1,4,5,5]"});
  expect_error<ValueError>([&] { conv2d(tape, x, w, {}, {.pad = -1}); }, {"conv2d", "pad"});
  expect_error<ValueError>([&] { conv2d(tape, x, w, {}, {.dilation = 0}); }, {"conv2d", "dilation"});
  expect_error<ShapeError>([&] { conv2d(tape, x, Tensor::zeros({6, 4, 7, 7}, DType::f32), {}, {.pad = 0}); },
                           {"conv2d", "larger than the padded input", "[6,4,7,7]"});
  expect_error<ShapeError>([&] { conv2d(tape, x, w, {}, {.dilation = 3}); }, {"conv2d", "kernel extent 7"});
  expect_error<ValueError>([&] { conv2d(tape, x, Tensor::zeros({6, 4, 3, 3}, DType::f64), {}, {}); },
                           {"conv2d", "float64"});
  expect_error<ShapeError>([&] { conv2d(tape, x, w, Tensor::zeros({5}, DType::f32), {}); },
                           {"conv2d", "bias", "[6]"});
}

}  // namespace
}  // namespace ops
