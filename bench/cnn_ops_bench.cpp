// Speed of the CNN ops on the convolution shapes of Darknet-53 at 416x416,
// batch 1: forward and backward (data + weights) through the seam, in
// GFLOP/s (2 x multiply-adds), beside a plain oneDNN primitive on the same
// shape (blocked layouts, no reorders) and dnnl_sgemm as the machine's
// practical float32 peak, all in the same run.
//
// Counters: GFLOPs = the seam's rate, plain_GFLOPs = oneDNN's own, share =
// GFLOPs / plain_GFLOPs. Run: build-*/bench/cnn_ops_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "ops/backend/dnnl.h"
#include "ops/conv2d.h"

namespace {

using core::DType;
using core::Tensor;

struct ConvShape {
  std::int64_t c, oc, hw, k, stride;
};

// The distinct convolutions of Darknet-53 at 416 (count in the network in
// the comment): the stem, the five downsamples and each stage's residual pair.
const ConvShape kShapes[] = {
    {3, 32, 416, 3, 1},     // 1
    {32, 64, 416, 3, 2},    // 1
    {64, 32, 208, 1, 1},    // 1
    {32, 64, 208, 3, 1},    // 1
    {64, 128, 208, 3, 2},   // 1
    {128, 64, 104, 1, 1},   // 2
    {64, 128, 104, 3, 1},   // 2
    {128, 256, 104, 3, 2},  // 1
    {256, 128, 52, 1, 1},   // 8
    {128, 256, 52, 3, 1},   // 8
    {256, 512, 52, 3, 2},   // 1
    {512, 256, 26, 1, 1},   // 8
    {256, 512, 26, 3, 1},   // 8
    {512, 1024, 26, 3, 2},  // 1
    {1024, 512, 13, 1, 1},  // 4
    {512, 1024, 13, 3, 1},  // 4
};

struct Setup {
  Tensor x, w, dy;
  ops::Conv2dParams p;
  double flops;  // one forward pass
};

Setup make(const ConvShape& s) {
  std::mt19937_64 rng(1);
  Setup st;
  st.p = {s.stride, s.k / 2, 1, 1};
  st.x = Tensor::uniform({1, s.c, s.hw, s.hw}, DType::f32, rng, -1.0, 1.0);
  st.w = Tensor::uniform({s.oc, s.c, s.k, s.k}, DType::f32, rng, -0.1, 0.1);
  const std::int64_t out = (s.hw + 2 * st.p.pad - s.k) / s.stride + 1;
  st.dy = Tensor::uniform({1, s.oc, out, out}, DType::f32, rng, -1.0, 1.0);
  st.flops = 2.0 * static_cast<double>(s.oc * out * out) * static_cast<double>(s.c * s.k * s.k);
  return st;
}

// Seconds per call of fn, over enough calls to pass ~0.3 s.
template <class F>
double seconds_per_call(F&& fn) {
  fn();  // warm-up: primitive creation, first touch
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  while (elapsed < 0.3 || calls < 3) {
    fn();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return elapsed / calls;
}

std::string label(const ConvShape& s) {
  return std::to_string(s.c) + "->" + std::to_string(s.oc) + " " + std::to_string(s.k) + "x" + std::to_string(s.k) +
         "/" + std::to_string(s.stride) + " @" + std::to_string(s.hw);
}

// Times the benchmark loop itself (Google Benchmark's own time is not
// readable from inside) so the share against oneDNN comes out in one row.
template <class F>
void run_against_plain(benchmark::State& state, const ConvShape& s, double flops, double plain_s, F&& ours) {
  ours();  // warm-up: primitive creation
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) ours();
  const double ours_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / state.iterations();
  state.counters["GFLOPs"] = flops * 1e-9 / ours_s;
  state.counters["plain_GFLOPs"] = flops * 1e-9 / plain_s;
  state.counters["share"] = plain_s / ours_s;
  state.SetLabel(label(s));
}

void BM_conv_forward(benchmark::State& state) {
  const ConvShape& s = kShapes[state.range(0)];
  const Setup st = make(s);
  ops::backend::PlainConvBench plain(st.x.shape(), st.w.shape(), {st.p.stride, st.p.pad, 1, 1});
  const double plain_s = seconds_per_call([&] { plain.forward(); });
  run_against_plain(state, s, st.flops, plain_s,
                    [&] { benchmark::DoNotOptimize(ops::conv2d_forward(st.x, st.w, {}, st.p)); });
}

// Backward = data + weights: twice the forward's multiply-adds.
void BM_conv_backward(benchmark::State& state) {
  const ConvShape& s = kShapes[state.range(0)];
  const Setup st = make(s);
  ops::backend::PlainConvBench plain(st.x.shape(), st.w.shape(), {st.p.stride, st.p.pad, 1, 1});
  const double plain_s = seconds_per_call([&] { plain.backward(); });
  run_against_plain(state, s, 2 * st.flops, plain_s, [&] {
    benchmark::DoNotOptimize(ops::conv2d_backward_data(st.dy, st.w, st.x.shape(), st.p));
    benchmark::DoNotOptimize(ops::conv2d_backward_weights(st.dy, st.x, st.w.shape(), st.p, false));
  });
}

// The practical float32 peak: a large square sgemm.
void BM_sgemm_peak(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  ops::backend::sgemm(n, n, n, a.data(), b.data(), c.data());
  for (auto _ : state) {
    ops::backend::sgemm(n, n, n, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * n * n * n * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

constexpr int kShapeCount = static_cast<int>(sizeof(kShapes) / sizeof(kShapes[0]));

}  // namespace

BENCHMARK(BM_sgemm_peak)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv_forward)->DenseRange(0, kShapeCount - 1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv_backward)->DenseRange(0, kShapeCount - 1)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
