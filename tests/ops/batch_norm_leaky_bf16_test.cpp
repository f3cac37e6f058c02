// batch_norm_leaky's bfloat16 output under mixed precision (bf16_output):
// the rounding (nearest, ties to even, as oneDNN converts); the kernels in
// any lane count; y is the float32 output rounded in 16-channel blocks (and
// float32 in other layouts), with the same statistics; a
// bf16 convolution reading it computes exactly what it computed from the
// float32 output; backward from the rounded output stays within bf16
// rounding of float64, and keeps x where the tighter bound says so; the
// other readers (add in either order, concat, upsample, host reads) see
// float32 values. And the input gradient held as bfloat16 (bf16_input_grad)
// for the bf16 convolution before: the float32 one rounded, which that
// convolution's backward reads to the same gradients.
#include <cfloat>
#include <cmath>
#include <limits>

#include "ops/backend/dnnl.h"
#include "ops/batch_norm_leaky.h"
#include "ops/batch_norm_leaky_kernels.h"
#include "ops/binary.h"
#include "ops/conv2d.h"
#include "ops/conv_bn_leaky.h"
#include "ops/shape_ops.h"
#include "ops/upsample_nearest2d.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;
using kernels::Bf16Bits;
using kernels::from_bf16;
using kernels::to_bf16;

TEST(Bf16Rounding, NearestTiesToEvenQuietNansAndFlushedSubnormals) {
  EXPECT_EQ(to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(to_bf16(-2.0f), 0xC000);
  // 1 + 2^-8 lies halfway between 1 (even) and 1 + 2^-7 (odd): down.
  EXPECT_EQ(to_bf16(1.00390625f), 0x3F80);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up.
  EXPECT_EQ(to_bf16(1.01171875f), 0x3F82);
  EXPECT_EQ(to_bf16(std::nextafter(1.00390625f, 2.0f)), 0x3F81);
  EXPECT_EQ(to_bf16(std::nextafter(1.00390625f, 0.0f)), 0x3F80);
  EXPECT_EQ(to_bf16(FLT_MAX), 0x7F80);  // rounds up into infinity
  EXPECT_EQ(to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(to_bf16(1e-40f), 0x0000);  // subnormal
  EXPECT_EQ(to_bf16(-1e-40f), 0x8000);
  // A signalling NaN whose payload lies in the dropped bits stays a NaN.
  const Bf16Bits nan = to_bf16(std::bit_cast<float>(0x7F800001u));
  EXPECT_EQ(nan, 0x7FC0);
  EXPECT_TRUE(std::isnan(from_bf16(nan)));
  // Every bfloat16 value comes back as itself, zeros and subnormals as a
  // zero of their sign, NaNs quiet.
  for (std::uint32_t b = 0; b <= 0xFFFF; ++b) {
    const auto bits = static_cast<Bf16Bits>(b);
    const std::uint32_t exponent = (b >> 7) & 0xFF;
    const Bf16Bits want = exponent == 0 ? bits & 0x8000 : (exponent == 0xFF && (b & 0x7F)) ? bits | 0x40 : bits;
    ASSERT_EQ(to_bf16(from_bf16(bits)), want) << std::hex << b;
  }
}

// The kernels with a bfloat16 y in any lane count (16: rows staged as
// float32; 8 and 5: converted as loaded) compute exactly what the float32
// kernels compute from the same rounded values; the last case is large
// enough (65,536 values) to run on several threads.
TEST(Bf16Kernels, ABfloat16OutputGivesTheFloat32KernelsResultsOnTheRoundedValues) {
  struct Case {
    std::int64_t lanes;
    Shape s;
  };
  for (const Case& k : {Case{16, {2, 48, 7, 6}}, Case{8, {2, 24, 7, 6}}, Case{5, {2, 5, 7, 6}},
                        Case{16, {2, 32, 32, 32}}}) {
    const std::int64_t lanes = k.lanes;
    SCOPED_TRACE(lanes);
    const Shape& s = k.s;
    const kernels::ChannelView v = lanes == 5 ? kernels::ChannelView::nhwc(s) : kernels::ChannelView::blocked(s, lanes);
    const std::int64_t n = v.outer * v.blocks * v.inner * v.lanes, c = v.channels();
    const auto values = [](std::int64_t count, std::uint64_t seed, double lo, double hi) {
      return rand64({count}, seed, lo, hi).to(DType::f32).to_double_vector();
    };
    std::vector<float> x, dy, gamma, beta;
    for (double d : values(n, 1, -0.5, 2.0)) x.push_back(static_cast<float>(d));
    for (double d : values(n, 2, -1.0, 1.0)) dy.push_back(static_cast<float>(d));
    for (double d : values(c, 3, 0.5, 1.5)) gamma.push_back(static_cast<float>(d));
    for (double d : values(c, 4, -1.0, 1.0)) beta.push_back(static_cast<float>(d));
    std::vector<float> y(n), mean(c), var(c), mean16(c), var16(c);
    std::vector<Bf16Bits> y16(n);
    kernels::bn_leaky_forward<float, float>(v, x.data(), gamma.data(), beta.data(), 1e-5, 0.1, y.data(), mean.data(),
                                            var.data());
    kernels::bn_leaky_forward<float, Bf16Bits>(v, x.data(), gamma.data(), beta.data(), 1e-5, 0.1, y16.data(),
                                               mean16.data(), var16.data());
    EXPECT_EQ(mean16, mean);
    EXPECT_EQ(var16, var);
    std::vector<float> rounded(n);
    for (std::int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(y16[i], to_bf16(y[i])) << "value " << i;
      rounded[i] = from_bf16(y16[i]);
    }
    std::vector<float> dx(n), dx16(n), dgamma(c), dgamma16(c), dbeta(c), dbeta16(c);
    kernels::bn_leaky_backward<float, float>(v, dy.data(), rounded.data(), nullptr, gamma.data(), beta.data(),
                                             mean.data(), var.data(), 1e-5, 0.1, dx.data(), dgamma.data(),
                                             dbeta.data());
    kernels::bn_leaky_backward<float, Bf16Bits>(v, dy.data(), y16.data(), nullptr, gamma.data(), beta.data(),
                                                mean.data(), var.data(), 1e-5, 0.1, dx16.data(), dgamma16.data(),
                                                dbeta16.data());
    EXPECT_EQ(dx16, dx);
    EXPECT_EQ(dgamma16, dgamma);
    EXPECT_EQ(dbeta16, dbeta);
    // dx held as bfloat16 is the float32 dx rounded, value for value, from
    // either y and from x too (backward's other path).
    const auto expect_rounded_dx = [&]<class Y>(const Y* stored_y, const float* input) {
      std::vector<float> want(n), dg(c), db(c), dg16(c), db16(c);
      std::vector<Bf16Bits> got(n);
      kernels::bn_leaky_backward<float, Y, float>(v, dy.data(), stored_y, input, gamma.data(), beta.data(),
                                                  mean.data(), var.data(), 1e-5, 0.1, want.data(), dg.data(),
                                                  db.data());
      kernels::bn_leaky_backward<float, Y, Bf16Bits>(v, dy.data(), stored_y, input, gamma.data(), beta.data(),
                                                     mean.data(), var.data(), 1e-5, 0.1, got.data(), dg16.data(),
                                                     db16.data());
      for (std::int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], to_bf16(want[i])) << "value " << i;
      EXPECT_EQ(dg16, dg);
      EXPECT_EQ(db16, db);
    };
    expect_rounded_dx(y.data(), nullptr);
    expect_rounded_dx(y16.data(), nullptr);
    expect_rounded_dx(y.data(), x.data());
    expect_rounded_dx(y16.data(), x.data());
  }
}

struct Inputs {
  Tensor x, weight, bias, mean, var;
};

// float32 inputs: x in [-0.5, 2], gamma in [0.5, 1.5], beta in [-1, 1]
// (|beta / gamma| <= 2: invertible under either bound).
Inputs inputs32(const Shape& x, std::uint64_t seed) {
  const std::int64_t c = x[1];
  return {rand64(x, seed, -0.5, 2.0).to(DType::f32), rand64({c}, seed + 1, 0.5, 1.5).to(DType::f32),
          rand64({c}, seed + 2).to(DType::f32), rand64({c}, seed + 3).to(DType::f32),
          rand64({c}, seed + 4, 0.2, 2.0).to(DType::f32)};
}

BatchNormLeakyParams rounded_output() {
  BatchNormLeakyParams p;
  p.bf16_output = true;
  return p;
}

// y's values as a plain float32 tensor (a host read).
Tensor plain_copy(const Tensor& t) { return t.to(DType::f64).to(DType::f32); }

struct OutputCase {
  const char* name;
  Shape x;
  std::int64_t conv_out;  // 0: x feeds batch_norm_leaky directly
  const char* layout;
};

class BatchNormLeakyBf16Output : public ::testing::TestWithParam<OutputCase> {};

// batch_norm_leaky's float32 inputs for a case (seeds from `seed` up).
Inputs case_inputs(const OutputCase& c, std::uint64_t seed) {
  return inputs32({c.x[0], c.conv_out ? c.conv_out : c.x[1], c.x[2], c.x[3]}, seed);
}

// Its x: a 3x3 convolution's output in the layout oneDNN chose for it
// (seeds `seed` and seed + 1), or in.x where the case has none.
Tensor case_x(Tape& tape, const OutputCase& c, const Inputs& in, std::uint64_t seed) {
  if (c.conv_out == 0) return in.x;
  return conv2d(tape, rand64(c.x, seed).to(DType::f32),
                rand64({c.conv_out, c.x[1], 3, 3}, seed + 1, -0.3, 0.3).to(DType::f32), Tensor(),
                {.stride = 1, .pad = 1});
}

// `rounded` is in the case's layout, and there `full`'s values rounded to
// bfloat16 where held so: in 16-channel blocks, on CPUs with bf16 support
// (oneDNN's add reads it only there); other layouts stay float32.
void expect_rounded_in_layout(const OutputCase& c, const Tensor& full, const Tensor& rounded) {
  const bool plain = std::string(c.layout) != "nChw16c" || !backend::bf16_supported();
  EXPECT_STREQ(backend::layout_name(rounded), c.layout);
  EXPECT_EQ(backend::holds_bfloat16(rounded), !plain);
  const auto want = full.to_double_vector(), got = rounded.to_double_vector();
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto f = static_cast<float>(want[i]);
    ASSERT_EQ(got[i], plain ? f : from_bf16(to_bf16(f))) << "value " << i;
  }
}

TEST_P(BatchNormLeakyBf16Output, IsTheFloat32OutputRoundedInTheSameLayout) {
  const OutputCase& c = GetParam();
  const Inputs in = case_inputs(c, 71);
  Tape tape;
  const Tensor x = case_x(tape, c, in, 72);
  const auto full = batch_norm_leaky(tape, x, in.weight, in.bias, in.mean, in.var);
  const auto rounded = batch_norm_leaky(tape, x, in.weight, in.bias, in.mean, in.var, rounded_output());
  ASSERT_NO_FATAL_FAILURE(expect_rounded_in_layout(c, full.y, rounded.y));
  EXPECT_EQ(rounded.running_mean.to_double_vector(), full.running_mean.to_double_vector());
  EXPECT_EQ(rounded.running_var.to_double_vector(), full.running_var.to_double_vector());
}

// With bf16_dx, backward's dx is its float32 dx rounded in the same layout
// where that is 16-channel blocks, the float32 dx elsewhere; the parameter
// gradients do not change.
TEST_P(BatchNormLeakyBf16Output, InputGradientIsTheFloat32OneRoundedInTheSameLayout) {
  const OutputCase& c = GetParam();
  const Inputs in = case_inputs(c, 75);
  Tape tape;
  const Tensor x = case_x(tape, c, in, 76);
  const auto f = backend::bn_leaky_forward_training(x, in.weight, in.bias, 1e-5, 0.1);
  const Tensor dy = rand64(x.shape(), 78).to(DType::f32);
  const auto backward = [&](bool bf16_dx) {
    return backend::bn_leaky_backward(dy, f.y, Tensor(), in.weight, in.bias, f.mean, f.var, 1e-5, 0.1, bf16_dx);
  };
  const auto full = backward(false), rounded = backward(true);
  EXPECT_FALSE(backend::holds_bfloat16(full.dx));
  ASSERT_NO_FATAL_FAILURE(expect_rounded_in_layout(c, full.dx, rounded.dx));
  EXPECT_EQ(rounded.dweight.to_double_vector(), full.dweight.to_double_vector());
  EXPECT_EQ(rounded.dbias.to_double_vector(), full.dbias.to_double_vector());
  if (c.conv_out != 0) {
    // A float32 convolution reading such a dx converts it to float32 first.
    const Tensor w = rand64({c.conv_out, c.x[1], 3, 3}, 79, -0.3, 0.3).to(DType::f32);
    const Conv2dParams conv{.stride = 1, .pad = 1};
    EXPECT_EQ(conv2d_backward_data(rounded.dx, w, c.x, conv).to_double_vector(),
              conv2d_backward_data(plain_copy(rounded.dx), w, c.x, conv).to_double_vector());
  }
}

const OutputCase kOutputs[] = {
    {"plain", {2, 5, 6, 7}, 0, "plain"},
    {"channels_last_8", {2, 3, 9, 8}, 8, "nhwc"},
    {"blocked_32", {2, 16, 7, 9}, 32, "nChw16c"},
    {"blocked_48", {3, 16, 5, 7}, 48, "nChw16c"},
    {"channels_last_48_lanes", {3, 8, 5, 7}, 48, "nhwc"},  // lanes no vector width fits
};

INSTANTIATE_TEST_SUITE_P(Layouts, BatchNormLeakyBf16Output, ::testing::ValuesIn(kOutputs),
                         [](const auto& info) { return std::string(info.param.name); });

// conv2d then batch_norm_leaky with y rounded, against float64 (where the
// flag does nothing): forward and gradients within bf16 rounding.
OpFn conv_then_rounded_bn(const Inputs& in) {
  return [in](Tape& t, const std::vector<Tensor>& v) {
    const Tensor x = conv2d(t, v[0], v[3], Tensor(), {.stride = 1, .pad = 1});
    const DType d = x.dtype();
    const Tensor y = batch_norm_leaky(t, x, v[1], v[2], in.mean.to(d), in.var.to(d), rounded_output()).y;
    if (d == DType::f32) {
      EXPECT_TRUE(backend::holds_bfloat16(y));  // else the test proves nothing
    }
    return y;
  };
}

TEST(BatchNormLeakyBf16, BackwardFromTheRoundedOutputStaysWithinBf16RoundingOfFloat64) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  for (const std::int64_t out : {32, 48}) {
    const Inputs in = inputs32({2, out, 7, 9}, 81);
    const std::vector<Tensor> args{rand64({2, 16, 7, 9}, 82), in.weight.to(DType::f64), in.bias.to(DType::f64),
                                   rand64({out, 16, 3, 3}, 83, -0.3, 0.3)};
    SCOPED_TRACE(out);
    expect_f32_matches_f64(conv_then_rounded_bn(in), args, {true, true, true, true}, 1e-2);
  }
}

// |beta / gamma| = 10: within float32's bound (32), past bfloat16's (4). With
// y rounded, backward keeps x and its gradients are float32's; recovering
// xhat from the rounded y would cost about 10 / 512 in xhat.
TEST(BatchNormLeakyBf16, KeepsTheInputWhereTheRoundedOutputCannotBeInverted) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  Inputs in = inputs32({2, 32, 7, 9}, 91);
  in.weight.mutable_data<float>()[3] = 0.1f;
  in.bias.mutable_data<float>()[3] = 1.0f;
  const float* gamma = in.weight.data<float>();
  const float* beta = in.bias.data<float>();
  ASSERT_TRUE(kernels::bn_leaky_output_invertible(gamma, beta, 32, 0.1));
  ASSERT_FALSE(kernels::bn_leaky_output_invertible(gamma, beta, 32, 0.1, kernels::kMaxShiftOverScaleBf16));
  const std::vector<Tensor> args{rand64({2, 16, 7, 9}, 92), in.weight.to(DType::f64), in.bias.to(DType::f64),
                                 rand64({32, 16, 3, 3}, 93, -0.3, 0.3)};
  const auto cot = [](const Shape& s) {
    std::mt19937_64 rng(5);
    return Tensor::randn(s, DType::f32, rng);
  };
  std::vector<Tensor> args32, args64;
  for (const auto& a : args) {
    args32.push_back(a.to(DType::f32));
    args64.push_back(args32.back().to(DType::f64));
  }
  const GradRun r64 = run_with_grads(conv_then_rounded_bn(in), args64, {true, true, true, true},
                                     [&](const Shape& s) { return cot(s).to(DType::f64); });
  const GradRun r32 = run_with_grads(conv_then_rounded_bn(in), args32, {true, true, true, true}, cot);
  EXPECT_LE(rel_err(r32.y, r64.y), 1e-2);  // the output itself is rounded
  for (int i = 0; i < 4; ++i) EXPECT_LE(rel_err(r32.grads[i], r64.grads[i]), 1e-4) << "gradient of input " << i;
}

// Under bf16 convolutions the next convolution reads the rounded output as
// it is. It must multiply what it multiplied when it rounded the float32
// output itself: the same forward and weight gradient, bit for bit.
TEST(BatchNormLeakyBf16, TheNextBf16ConvolutionComputesAsFromTheFloat32Output) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  const Inputs in = inputs32({2, 32, 10, 9}, 101);
  const Conv2dParams conv{.stride = 1, .pad = 1, .bf16 = true};
  const Tensor x = rand64({2, 16, 10, 9}, 102).to(DType::f32);
  const Tensor w1 = rand64({32, 16, 3, 3}, 103, -0.3, 0.3).to(DType::f32);
  const Tensor w2 = rand64({48, 32, 3, 3}, 104, -0.2, 0.2).to(DType::f32);
  struct Run {
    Tensor y, dw1, dw2, dgamma;
    bool held_bf16;
  };
  const auto run = [&](bool rounded) {
    Tensor a = w1.clone(), b = w2.clone(), g = in.weight.clone();
    for (Tensor* t : {&a, &b, &g}) t->set_requires_grad();
    Tape tape;
    BatchNormLeakyParams p;
    p.bf16_output = rounded;
    const Tensor h = batch_norm_leaky(tape, conv2d(tape, x, a, Tensor(), conv), g, in.bias, in.mean, in.var, p).y;
    const bool held = backend::holds_bfloat16(h);
    const Tensor y = conv2d(tape, h, b, Tensor(), conv);
    std::mt19937_64 rng(7);
    tape.backward(y, Tensor::randn(y.shape(), DType::f32, rng));
    return Run{y, a.grad(), b.grad(), g.grad(), held};
  };
  const Run full = run(false), rounded = run(true);
  EXPECT_FALSE(full.held_bf16);
  EXPECT_TRUE(rounded.held_bf16);
  EXPECT_EQ(rounded.y.to_double_vector(), full.y.to_double_vector());
  EXPECT_EQ(rounded.dw2.to_double_vector(), full.dw2.to_double_vector());
  // Upstream of batch norm, backward recovered xhat from the rounded y.
  EXPECT_LE(rel_err(rounded.dw1, full.dw1), 1e-2);
  EXPECT_LE(rel_err(rounded.dgamma, full.dgamma), 1e-2);
}

// t passed on as it is; backward notes whether the gradient reaching t was
// held as bfloat16.
Tensor probe_grad(Tape& tape, const Tensor& t, bool& grad_bf16) {
  Tensor out = t.view(t.shape());
  tape.record("probe", {t}, {out}, {}, [&grad_bf16](const core::BackwardContext& ctx) {
    grad_bf16 = backend::holds_bfloat16(ctx.grad_outputs[0]);
    return std::vector<Tensor>{ctx.grad_outputs[0]};
  });
  return out;
}

// The bf16 convolution before batch norm reads dx held as bfloat16 as it
// is. Its backward rounded the float32 dx so itself: the same gradients, bit
// for bit, through conv_bn_leaky (both flags) and with bf16_input_grad alone.
TEST(BatchNormLeakyBf16, TheBf16ConvolutionBeforeGetsTheSameGradientsFromTheRoundedInputGradient) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  const Inputs in = inputs32({2, 32, 10, 9}, 121);
  const Conv2dParams conv{.stride = 1, .pad = 1, .bf16 = true};
  const Tensor w1 = rand64({32, 16, 3, 3}, 123, -0.3, 0.3).to(DType::f32);
  const Tensor w2 = rand64({48, 32, 3, 3}, 124, -0.2, 0.2).to(DType::f32);
  const auto grads = [&](bool fused, bool rounded) {
    Tensor x = rand64({2, 16, 10, 9}, 122).to(DType::f32), a = w1.clone(), b = w2.clone(), g = in.weight.clone();
    for (Tensor* t : {&x, &a, &b, &g}) t->set_requires_grad();
    Tape tape;
    Tensor h;
    bool grad_bf16 = false;  // whether dx reached the first convolution as bfloat16
    if (fused) {
      ConvBnLeakyParams p;
      p.conv = conv;
      p.bn.training = true;
      h = conv_bn_leaky(tape, x, a, Tensor(), g, in.bias, in.mean, in.var, p).y;
    } else {
      BatchNormLeakyParams p;
      p.bf16_input_grad = rounded;
      const Tensor c = conv2d(tape, x, a, Tensor(), conv);
      EXPECT_STREQ(backend::layout_name(c), "nChw16c");
      h = batch_norm_leaky(tape, probe_grad(tape, c, grad_bf16), g, in.bias, in.mean, in.var, p).y;
    }
    const Tensor y = conv2d(tape, h, b, Tensor(), conv);
    std::mt19937_64 rng(9);
    tape.backward(y, Tensor::randn(y.shape(), DType::f32, rng));
    if (!fused) {
      EXPECT_EQ(grad_bf16, rounded);  // else the comparison below proves nothing
    }
    return std::vector<std::vector<double>>{x.grad().to_double_vector(), a.grad().to_double_vector(),
                                            g.grad().to_double_vector()};
  };
  const auto full = grads(false, false);
  EXPECT_EQ(grads(false, true), full);
  // conv_bn_leaky also holds y as bfloat16, so backward recovers xhat from
  // the rounded y: within its rounding, as in the test above.
  const auto fused = grads(true, true);
  for (int i = 0; i < 3; ++i) {
    double err = 0, scale = 0;
    for (std::size_t k = 0; k < full[i].size(); ++k) {
      err = std::max(err, std::abs(fused[i][k] - full[i][k]));
      scale = std::max(scale, std::abs(full[i][k]));
    }
    EXPECT_LE(err, 1e-2 * scale) << "gradient " << i;
  }
}

// Under bf16 and without AMX, a wide 3x3 layer with a mid-sized output
// (at least 128 input channels, 26x26 outputs) trains as float32 Winograd,
// which oneDNN 2.6 runs faster there than its bf16 direct kernel. Narrower,
// smaller, strided or 1x1 layers, and float32 runs, keep their kernels.
TEST(ConvBnLeakyBf16, WhichLayersTrainAsFloat32Winograd) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  const backend::ConvSpec bf16{.stride = 1, .pad = 1, .bf16 = true};
  const auto prefers = [](const Shape& x, const Shape& w, const backend::ConvSpec& s) {
    return backend::conv2d_bf16_training_prefers_float32_winograd(x, w, s);
  };
  const bool wide = !backend::amx_supported();  // with AMX every layer stays bf16
  // Where float32 Winograd's weight gradient would pass its scratchpad cap
  // (more threads than here), the layer stays bf16 too.
  const auto fits = [](const Shape& x, const Shape& w) {
    return backend::conv2d_weight_gradient_on_winograd(x, w, {.stride = 1, .pad = 1});
  };
  EXPECT_EQ(prefers({8, 128, 52, 52}, {256, 128, 3, 3}, bf16), wide && fits({8, 128, 52, 52}, {256, 128, 3, 3}));
  EXPECT_EQ(prefers({1, 128, 26, 26}, {32, 128, 3, 3}, bf16), wide);
  EXPECT_FALSE(prefers({1, 768, 26, 26}, {768, 768, 3, 3}, bf16));  // its weight gradient passes the cap
  EXPECT_FALSE(prefers({8, 112, 52, 52}, {256, 112, 3, 3}, bf16));   // too few input channels
  EXPECT_FALSE(prefers({8, 64, 104, 104}, {128, 64, 3, 3}, bf16));   // too few input channels
  EXPECT_FALSE(prefers({8, 128, 25, 25}, {256, 128, 3, 3}, bf16));   // 625 output pixels
  EXPECT_FALSE(prefers({8, 512, 13, 13}, {1024, 512, 3, 3}, bf16));  // too small an output
  EXPECT_FALSE(prefers({8, 256, 52, 52}, {512, 256, 3, 3}, {.stride = 2, .pad = 1, .bf16 = true}));
  EXPECT_FALSE(prefers({8, 128, 52, 52}, {256, 128, 1, 1}, {.bf16 = true}));
  EXPECT_FALSE(prefers({8, 128, 52, 52}, {256, 128, 3, 3}, {.stride = 1, .pad = 1}));  // float32 already
}

// conv_bn_leaky under bf16 on an input held as bfloat16 (a 1x1 convolution
// then batch norm writing bf16, as in Darknet-53's residual pair): a layer
// that trains as float32 Winograd gives exactly what a float32 convolution
// then batch norm writing bf16 gives (its output gradient float32), and one
// that does not, exactly what a bf16 convolution then batch norm writing
// bf16 and holding its input gradient as bf16 gives. The block's output is
// bf16 either way. Gradients down to the 1x1 convolution's input.
TEST(ConvBnLeakyBf16, AFloat32WinogradLayerComputesAsAFloat32Convolution) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  if (backend::amx_supported()) GTEST_SKIP() << "with AMX every layer trains in bf16";
  struct Run {
    Tensor y, dx, dw, dgamma, dbeta;
  };
  // fused: conv_bn_leaky; else the 3x3 convolution (bf16 or not) then
  // batch_norm_leaky with the flags conv_bn_leaky sets behind it.
  const auto run = [](std::int64_t c, bool fused, bool conv_bf16) {
    const Inputs first = inputs32({1, c, 26, 26}, 141), second = inputs32({1, 32, 26, 26}, 151);
    Tensor x = rand64({1, 64, 26, 26}, 161, -0.5, 2.0).to(DType::f32);
    Tensor w1 = rand64({c, 64, 1, 1}, 162, -0.2, 0.2).to(DType::f32);
    Tensor w = rand64({32, c, 3, 3}, 163, -0.05, 0.05).to(DType::f32);
    Tensor g = second.weight.clone(), beta = second.bias.clone();
    for (Tensor* t : {&x, &w, &g, &beta}) t->set_requires_grad();
    Tape tape;
    const Tensor h = batch_norm_leaky(tape, conv2d(tape, x, w1, Tensor(), {}), first.weight, first.bias, first.mean,
                                      first.var, rounded_output())
                         .y;
    EXPECT_TRUE(backend::holds_bfloat16(h));  // the realistic input
    Run r;
    if (fused) {
      ConvBnLeakyParams p;
      p.conv = {.stride = 1, .pad = 1, .bf16 = true};
      p.bn.training = true;
      r.y = conv_bn_leaky(tape, h, w, Tensor(), g, beta, second.mean, second.var, p).y;
    } else {
      BatchNormLeakyParams p = rounded_output();
      p.bf16_input_grad = conv_bf16;
      const Tensor conv = conv2d(tape, h, w, Tensor(), {.stride = 1, .pad = 1, .bf16 = conv_bf16});
      r.y = batch_norm_leaky(tape, conv, g, beta, second.mean, second.var, p).y;
    }
    EXPECT_TRUE(backend::holds_bfloat16(r.y));
    std::mt19937_64 rng(13);
    tape.backward(r.y, Tensor::randn(r.y.shape(), DType::f32, rng));
    r.dx = x.grad();
    r.dw = w.grad();
    r.dgamma = g.grad();
    r.dbeta = beta.grad();
    return r;
  };
  const auto same = [](const Run& a, const Run& b) {
    const auto eq = [](const Tensor& s, const Tensor& t) { return s.to_double_vector() == t.to_double_vector(); };
    return std::vector<bool>{eq(a.y, b.y), eq(a.dx, b.dx), eq(a.dw, b.dw), eq(a.dgamma, b.dgamma),
                             eq(a.dbeta, b.dbeta)};
  };
  const std::vector<bool> all(5, true);
  for (const std::int64_t c : {128, 112}) {
    SCOPED_TRACE(c);
    const bool winograd = c == 128;
    const Run fused = run(c, true, true), float32 = run(c, false, false), bf16 = run(c, false, true);
    EXPECT_EQ(same(fused, winograd ? float32 : bf16), all);
    // The other reference differs (else the comparison above proves
    // nothing), but not by much: batch norm's gradient has its means taken
    // out, so dw, a sum over every pixel of it, cancels and shows bf16's
    // rounding magnified.
    const Run& other = winograd ? bf16 : float32;
    EXPECT_NE(fused.y.to_double_vector(), other.y.to_double_vector());
    EXPECT_NE(fused.dw.to_double_vector(), other.dw.to_double_vector());
    EXPECT_LE(rel_err(other.y, fused.y), 2e-2);
    EXPECT_LE(rel_err(other.dw, fused.dw), 0.1);
  }
}

// Readers other than a convolution see the rounded values as float32: add
// in either order (oneDNN takes a bfloat16 operand second only) and with
// both operands rounded (that sum is held as bfloat16 itself:
// bf16_activations_test.cpp), concat and upsample.
TEST(BatchNormLeakyBf16, OtherReadersSeeTheRoundedValuesAsFloat32) {
  if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  const Inputs in = inputs32({2, 32, 6, 5}, 111);
  Tape tape;
  const Tensor x = conv2d(tape, rand64({2, 16, 6, 5}, 112).to(DType::f32),
                          rand64({32, 16, 1, 1}, 113, -0.3, 0.3).to(DType::f32), Tensor(), {});
  const Tensor other = batch_norm_leaky(tape, x, in.weight, in.bias, in.mean, in.var).y;  // blocked float32
  const auto bn16 = [&] { return batch_norm_leaky(tape, x, in.weight, in.bias, in.mean, in.var, rounded_output()).y; };
  const Tensor rounded = bn16();
  ASSERT_TRUE(backend::holds_bfloat16(rounded));
  const Tensor values = plain_copy(bn16());
  const auto same = [](const Tensor& a, const Tensor& b) { return a.to_double_vector() == b.to_double_vector(); };
  EXPECT_TRUE(same(backend::add_forward(other, bn16()), backend::add_forward(other, values)));
  EXPECT_TRUE(same(backend::add_forward(bn16(), other), backend::add_forward(values, other)));
  EXPECT_TRUE(same(backend::add_forward(bn16(), bn16()), backend::add_forward(values, values)));
  EXPECT_TRUE(same(backend::concat_forward({other, bn16()}, 1), backend::concat_forward({other, values}, 1)));
  EXPECT_TRUE(same(upsample_nearest2d_forward(bn16(), 2), upsample_nearest2d_forward(values, 2)));
  // The values are really rounded: the float32 output differs somewhere.
  EXPECT_FALSE(same(values, plain_copy(other)));
}

}  // namespace
}  // namespace ops
