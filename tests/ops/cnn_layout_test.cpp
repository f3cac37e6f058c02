// Activations kept in the convolution's blocked layout between ops: the
// chain conv -> batch norm -> leaky -> add -> concat -> upsample -> pool ->
// conv with whole channel blocks (16, 32), float32 through the seam against
// the float64 reference, forward and every gradient, with intermediates read
// (materialized to plain) at different points so that ops also see mixed
// plain and blocked inputs. Plus views and writes of a blocked tensor.
#include <string>

#include "core/broadcast.h"
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

// What one run of the chain saw: intermediates read on the way (by position)
// and the layout each intermediate had when it was made.
struct Probes {
  unsigned read_mask = 0;  // bit i: read intermediate i right after making it
  std::vector<std::pair<int, Tensor>> read;
  std::vector<std::string> layouts;

  Tensor at(int i, Tensor t) {
    layouts.emplace_back(backend::layout_name(t));
    if ((read_mask >> i) & 1u) read.emplace_back(i, Tensor::from_vector(t.shape(), t.to_double_vector(), DType::f64));
    return t;
  }
};

constexpr int kIntermediates = 8;

// inputs: x [2,16,6,6], w1 [16,16,3,3], gamma [16], beta [16], w2 [16,16,1,1], w3 [16,32,3,3]
Tensor chain(Tape& t, const std::vector<Tensor>& in, Probes& pr) {
  const Tensor mean = Tensor::zeros({16}, in[0].dtype()), var = Tensor::ones({16}, in[0].dtype());
  const Tensor h = pr.at(0, conv2d(t, in[0], in[1], {}, {.pad = 1}));
  const Tensor n = pr.at(1, batch_norm2d(t, h, in[2], in[3], mean, var, {}).y);
  const Tensor a = pr.at(2, leaky_relu(t, n, {0.1}));
  const Tensor s = pr.at(3, add(t, a, conv2d(t, in[0], in[4], {}, {})));
  const Tensor c = pr.at(4, concat(t, {s, a}, 1));
  const Tensor u = pr.at(5, upsample_nearest2d(t, c, {2}));
  const Tensor p = pr.at(6, maxpool2d(t, u, {.kernel = 2, .stride = 1, .pad_end = 1}));
  return pr.at(7, conv2d(t, p, in[5], {}, {.stride = 2, .pad = 1}));
}

std::vector<Tensor> chain_inputs() {
  return {rand64({2, 16, 6, 6}, 1), rand64({16, 16, 3, 3}, 2, -0.3, 0.3), rand64({16}, 3, 0.5, 1.5),
          rand64({16}, 4), rand64({16, 16, 1, 1}, 5), rand64({16, 32, 3, 3}, 6, -0.2, 0.2)};
}

class LayoutChain : public ::testing::TestWithParam<unsigned> {};

// Forward output, all six input gradients and the intermediates read on the
// way agree with float64, whichever intermediates were read.
TEST_P(LayoutChain, MatchesFloat64WithIntermediatesRead) {
  Probes p32{GetParam()}, p64{GetParam()};
  const auto in = chain_inputs();
  expect_f32_matches_f64(
      [&](Tape& t, const std::vector<Tensor>& v) { return chain(t, v, v[0].dtype() == DType::f32 ? p32 : p64); }, in,
      std::vector<bool>(in.size(), true), 1e-4);
  ASSERT_EQ(p32.read.size(), p64.read.size());
  for (std::size_t i = 0; i < p32.read.size(); ++i) {
    EXPECT_LE(rel_err(p32.read[i].second, p64.read[i].second), 1e-4) << "intermediate " << p32.read[i].first;
  }
}

// none read, all read, every other one (two phases), the middle ones.
INSTANTIATE_TEST_SUITE_P(ReadMasks, LayoutChain, ::testing::Values(0u, 0xffu, 0x55u, 0xaau, 0x3cu));

// With nothing read, every intermediate stays in the layout the first
// convolution chose, and reading one turns only that one plain.
TEST(LayoutChain, IntermediatesStayInTheConvolutionLayout) {
  std::vector<Tensor> in;
  for (const auto& t : chain_inputs()) in.push_back(t.to(DType::f32));
  Tape tape;
  Probes pr;
  const Tensor y = chain(tape, in, pr);
  ASSERT_EQ(pr.layouts.size(), static_cast<std::size_t>(kIntermediates));
  if (pr.layouts[0] == "plain") GTEST_SKIP() << "oneDNN chose a plain layout for this CPU's convolution";
  for (int i = 1; i < kIntermediates; ++i) EXPECT_EQ(pr.layouts[i], pr.layouts[0]) << "intermediate " << i;
  EXPECT_EQ(y.describe(), "float32[2,16,6,6]");
  static_cast<void>(y.data<float>());
  EXPECT_STREQ(backend::layout_name(y), "plain");
}

// The inference blocks Darknet strings together (fused conv + BN + leaky),
// blocked from one to the next, against float64.
TEST(LayoutChain, FusedInferenceBlocksMatchFloat64) {
  const auto block = [](const Tensor& x, std::uint64_t seed) {
    const DType dt = x.dtype();
    const std::int64_t c = x.shape()[1];
    Tape tape(Tape::Mode::inference);
    return conv_bn_leaky(tape, x, rand64({16, c, 3, 3}, seed, -0.3, 0.3).to(dt), {},
                         rand64({16}, seed + 1, 0.5, 1.5).to(dt), rand64({16}, seed + 2).to(dt),
                         rand64({16}, seed + 3).to(dt), rand64({16}, seed + 4, 0.5, 2.0).to(dt),
                         {.conv = {.pad = 1}, .bn = {.training = false, .darknet = true}})
        .y;
  };
  const Tensor x64 = rand64({1, 16, 5, 5}, 9);
  const Tensor y64 = block(block(x64, 20), 30);
  const Tensor y32 = block(block(x64.to(DType::f32), 20), 30);
  EXPECT_LE(rel_err(y32, y64), 1e-4);
}

Tensor blocked_conv_output() {
  Tape tape;
  return conv2d(tape, rand64({2, 16, 4, 4}, 1).to(DType::f32), rand64({16, 16, 3, 3}, 2).to(DType::f32), {},
                {.pad = 1});
}

// A reshaped view shares the storage but not the blocked dims: an op given
// the view reads the plain values.
TEST(LayoutChain, ReshapedViewReadsPlainValues) {
  const Tensor y = blocked_conv_output();
  const Tensor v = y.view({2, 32, 2, 4});
  Tape tape;
  const Tensor got = leaky_relu(tape, v, {0.1});
  const auto plain = y.to_double_vector();
  const auto out = got.to_double_vector();
  ASSERT_EQ(out.size(), plain.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], plain[i] > 0 ? plain[i] : 0.1 * plain[i]);
  EXPECT_EQ(v.view({512}).to_double_vector(), plain);
}

// A write through mutable_data lands in the plain bytes, bumps the version
// and the next op sees it (the blocked copy is gone).
TEST(LayoutChain, WriteAfterBlockedOutputIsSeenByTheNextOp) {
  const Tensor y = blocked_conv_output();
  const auto v0 = y.version();
  y.mutable_data<float>()[0] = 123.0f;
  EXPECT_EQ(y.version(), v0 + 1);
  EXPECT_STREQ(backend::layout_name(y), "plain");
  Tape tape;
  const Tensor u = upsample_nearest2d(tape, y, {2});
  const auto out = u.to_double_vector();
  EXPECT_EQ(out[0], 123.0);
  EXPECT_EQ(out[1], 123.0);
  EXPECT_EQ(out[8], 123.0);  // next row of the 8-wide upsampled plane
}

// Gradients meeting at a fan-out (a residual block's input feeds the
// shortcut and the next convolution) are summed in the blocked layout.
TEST(LayoutChain, FanOutGradientsSumInTheBlockedLayout) {
  const Tensor a = blocked_conv_output();
  Tape tape;
  const Tensor b = leaky_relu(tape, a, {0.1});
  const Tensor sum = core::add_same_shape(a, b);
  if (std::string(backend::layout_name(a)) == "plain") GTEST_SKIP() << "oneDNN chose a plain layout";
  EXPECT_STREQ(backend::layout_name(sum), backend::layout_name(a));
  const auto va = a.to_double_vector(), vb = b.to_double_vector(), vs = sum.to_double_vector();
  for (std::size_t i = 0; i < vs.size(); ++i) EXPECT_FLOAT_EQ(vs[i], va[i] + vb[i]);
}

// h feeds both the shortcut add and the leaky ReLU, so its two gradients
// (both blocked) meet at the fan-out; everything against float64.
TEST(LayoutChain, ResidualFanOutMatchesFloat64) {
  const std::vector<Tensor> in = {rand64({2, 16, 5, 5}, 1), rand64({16, 16, 3, 3}, 2, -0.3, 0.3),
                                  rand64({16, 16, 3, 3}, 3, -0.3, 0.3)};
  expect_f32_matches_f64(
      [](Tape& t, const std::vector<Tensor>& v) {
        const Tensor h = conv2d(t, v[0], v[1], {}, {.pad = 1});
        return conv2d(t, add(t, h, leaky_relu(t, h, {0.1})), v[2], {}, {.pad = 1});
      },
      in, {true, true, true}, 1e-4);
}

// Narrow layers (fewer than 16 channels, as a width-multiplied model's first
// layers) run channels-last rather than padded to 16-lane blocks; a chain
// from the 3-channel image through 4, 8 and 16 channels into a blocked
// 32-channel convolution, with a residual add and a concat, against float64.
TEST(LayoutChain, NarrowLayersRunChannelsLastAndMatchFloat64) {
  const auto narrow = [](Tape& t, const std::vector<Tensor>& v, std::vector<std::string>* layouts) {
    const Tensor mean = Tensor::zeros({8}, v[0].dtype()), var = Tensor::ones({8}, v[0].dtype());
    const Tensor a = conv2d(t, v[0], v[1], {}, {.pad = 1});                                   // 3 -> 8
    const Tensor n = leaky_relu(t, batch_norm2d(t, a, v[2], v[3], mean, var, {}).y, {0.1});
    const Tensor r = add(t, n, conv2d(t, n, v[4], {}, {.pad = 1}));                          // 8 -> 8
    const Tensor c = concat(t, {r, n}, 1);                                                    // 16
    const Tensor w = conv2d(t, c, v[5], {}, {.pad = 1});                                      // 16 -> 32
    if (layouts) {
      for (const Tensor* x : {&a, &n, &r, &c, &w}) layouts->emplace_back(backend::layout_name(*x));
    }
    return w;
  };
  const std::vector<Tensor> in = {rand64({2, 3, 6, 6}, 1), rand64({8, 3, 3, 3}, 2, -0.3, 0.3),
                                  rand64({8}, 3, 0.5, 1.5), rand64({8}, 4),
                                  rand64({8, 8, 3, 3}, 5, -0.3, 0.3), rand64({32, 16, 3, 3}, 6, -0.2, 0.2)};
  expect_f32_matches_f64([&](Tape& t, const std::vector<Tensor>& v) { return narrow(t, v, nullptr); }, in,
                         std::vector<bool>(in.size(), true), 1e-4);
  std::vector<Tensor> in32;
  for (const auto& t : in) in32.push_back(t.to(DType::f32));
  Tape tape;
  std::vector<std::string> layouts;
  narrow(tape, in32, &layouts);
  EXPECT_EQ(layouts[0], "nhwc");  // the 8-channel convolution output
  EXPECT_EQ(layouts[1], "nhwc");  // batch norm and leaky ReLU keep it
  EXPECT_EQ(layouts[2], "nhwc");
  EXPECT_EQ(layouts[3], "nhwc");  // 16 channels joined from 8 + 8
}

// The narrowest layers (2 and 4 channels, a 1/16-width model) through
// conv, batch norm (training), leaky ReLU and a residual add, against
// float64, forward and every gradient.
TEST(LayoutChain, TwoAndFourChannelLayersMatchFloat64) {
  for (const std::int64_t c : {2, 4, 6}) {
    SCOPED_TRACE(c);
    const auto block = [c](Tape& t, const std::vector<Tensor>& v) {
      const Tensor mean = Tensor::zeros({c}, v[0].dtype()), var = Tensor::ones({c}, v[0].dtype());
      const Tensor a = conv2d(t, v[0], v[1], {}, {.pad = 1});
      const Tensor n = leaky_relu(t, batch_norm2d(t, a, v[2], v[3], mean, var, {}).y, {0.1});
      const Tensor m = leaky_relu(t, batch_norm2d(t, conv2d(t, n, v[4], {}, {.pad = 1}), v[5], v[6], mean, var, {}).y,
                                  {0.1});
      return conv2d(t, add(t, n, m), v[7], {}, {.stride = 2, .pad = 1});
    };
    const std::vector<Tensor> in = {rand64({4, 3, 64, 64}, 1),         rand64({c, 3, 3, 3}, 2, -0.3, 0.3),
                                    rand64({c}, 3, 0.5, 1.5),          rand64({c}, 4),
                                    rand64({c, c, 3, 3}, 5, -0.3, 0.3), rand64({c}, 6, 0.5, 1.5),
                                    rand64({c}, 7),                    rand64({16, c, 3, 3}, 8, -0.2, 0.2)};
    expect_f32_matches_f64(block, in, std::vector<bool>(in.size(), true), 1e-4);
  }
}

TEST(LayoutChain, TinySpatialDownsampleBlockMatchesFloat64) {
  const auto block = [](Tape& t, const std::vector<Tensor>& v) {
    const Tensor mean = Tensor::zeros({64}, v[0].dtype()), var = Tensor::ones({64}, v[0].dtype());
    const Tensor a = conv2d(t, v[0], v[1], {}, {.stride = 2, .pad = 1});
    const Tensor y = leaky_relu(t, batch_norm2d(t, a, v[2], v[3], mean, var, {}).y, {0.1});
    return add(t, y, conv2d(t, conv2d(t, y, v[4], {}, {}), v[5], {}, {.pad = 1}));
  };
  const std::vector<Tensor> in = {rand64({8, 32, 4, 4}, 1), rand64({64, 32, 3, 3}, 2, -0.3, 0.3),
                                  rand64({64}, 3, 0.5, 1.5), rand64({64}, 4),
                                  rand64({32, 64, 1, 1}, 5, -0.3, 0.3), rand64({64, 32, 3, 3}, 6, -0.3, 0.3)};
  expect_f32_matches_f64(block, in, std::vector<bool>(in.size(), true), 1e-4);
}

// concat's backward hands each input its slice of the gradient in the
// gradient's own layout (blocked, channels-last or plain), values intact.
TEST(LayoutChain, ConcatBackwardSlicesKeepTheGradientLayout) {
  Tape tape;
  const Tensor x16 = rand64({2, 16, 4, 4}, 1).to(DType::f32), x8 = rand64({2, 8, 4, 4}, 2).to(DType::f32);
  const Tensor blocked = conv2d(tape, x16, rand64({48, 16, 3, 3}, 3).to(DType::f32), {}, {.pad = 1});
  const Tensor nhwc = conv2d(tape, x8, rand64({24, 8, 3, 3}, 4).to(DType::f32), {}, {.pad = 1});
  const Tensor plain = rand64({2, 24, 4, 4}, 5).to(DType::f32);
  ASSERT_STREQ(backend::layout_name(nhwc), "nhwc");
  for (const Tensor* dy : {&blocked, &nhwc, &plain}) {
    const std::int64_t c = dy->shape()[1];
    const std::vector<core::Shape> parts = {{2, c / 3, 4, 4}, {2, 2 * c / 3, 4, 4}};
    // Slices that split a 16-lane block (48 = 16 + 32 does not; 24 = 8 + 16
    // would) come out channels-last instead.
    const std::string layout = backend::layout_name(*dy);
    const auto grads = backend::concat_backward(*dy, parts, 1);
    ASSERT_EQ(grads.size(), 2u);
    for (const auto& g : grads) EXPECT_EQ(std::string(backend::layout_name(g)), layout);
    const auto all = dy->to_double_vector(), g0 = grads[0].to_double_vector(), g1 = grads[1].to_double_vector();
    const std::int64_t plane = 16;
    for (std::int64_t n = 0; n < 2; ++n) {
      for (std::int64_t ch = 0; ch < c; ++ch) {
        for (std::int64_t i = 0; i < plane; ++i) {
          const double want = all[(n * c + ch) * plane + i];
          const double got = ch < c / 3 ? g0[(n * (c / 3) + ch) * plane + i]
                                         : g1[(n * (2 * c / 3) + ch - c / 3) * plane + i];
          ASSERT_EQ(got, want) << layout << " n " << n << " channel " << ch << " pixel " << i;
        }
      }
    }
  }
}

// Gradients of one tensor in two layouts (a channels-last layer and a
// blocked one both read it) are summed in the first one's layout.
TEST(LayoutChain, FanOutGradientsInTwoLayoutsSum) {
  Tape tape;
  const Tensor a = conv2d(tape, rand64({2, 8, 4, 4}, 1).to(DType::f32), rand64({16, 8, 3, 3}, 2).to(DType::f32), {},
                          {.pad = 1});
  const Tensor b = conv2d(tape, rand64({2, 16, 4, 4}, 3).to(DType::f32), rand64({16, 16, 3, 3}, 4).to(DType::f32),
                          {}, {.pad = 1});
  if (std::string(backend::layout_name(b)) == "plain") GTEST_SKIP() << "oneDNN chose a plain layout";
  ASSERT_STREQ(backend::layout_name(a), "nhwc");
  const Tensor sum = core::add_same_shape(a, b);
  EXPECT_STREQ(backend::layout_name(sum), "nhwc");
  const auto va = a.to_double_vector(), vb = b.to_double_vector(), vs = sum.to_double_vector();
  for (std::size_t i = 0; i < vs.size(); ++i) EXPECT_FLOAT_EQ(vs[i], va[i] + vb[i]);
}

}  // namespace
}  // namespace ops
