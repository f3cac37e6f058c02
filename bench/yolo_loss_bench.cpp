// yolo_loss forward + backward on the three YOLOv3-416 heads (grids 13, 26
// and 52; strides 32, 16, 8), batch 8, 80 classes, 50 gt rows per image,
// through the tape as training runs it. The second argument is how many of
// the 50 rows are real boxes (the rest are padding): 50 is the worst case,
// COCO images average about 7.
//
//   build/bench/yolo_loss_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <random>

#include "core/tape.h"
#include "ops/yolo_loss.h"

namespace {

using core::DType;
using core::Tensor;

constexpr std::int64_t kBatch = 8;
constexpr std::int64_t kClasses = 80;
constexpr std::int64_t kRows = 50;
const std::vector<std::int64_t> kAnchors{10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};

struct Head {
  std::int64_t grid, stride;
  std::vector<std::int64_t> mask;
};
const Head kHeads[] = {{13, 32, {6, 7, 8}}, {26, 16, {3, 4, 5}}, {52, 8, {0, 1, 2}}};

struct Targets {
  Tensor box, label;
};

// Random boxes inside the image; rows past `valid` are all-zero padding.
Targets make_targets(std::int64_t valid, DType dtype, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> centre(0.0, 0.999), size(0.02, 0.6);
  std::uniform_int_distribution<std::int32_t> cls(0, kClasses - 1);
  std::vector<double> box(kBatch * kRows * 4, 0.0);
  std::vector<std::int32_t> label(kBatch * kRows, 0);
  for (std::int64_t i = 0; i < kBatch; ++i) {
    for (std::int64_t t = 0; t < valid; ++t) {
      double* b = &box[(i * kRows + t) * 4];
      b[0] = centre(rng), b[1] = centre(rng), b[2] = size(rng), b[3] = size(rng);
      label[i * kRows + t] = cls(rng);
    }
  }
  return {Tensor::from_vector({kBatch, kRows, 4}, box, dtype), Tensor::from_ints({kBatch, kRows}, label)};
}

template <DType kDType>
void BM_YoloLossThreeHeads(benchmark::State& state) {
  std::mt19937_64 rng(42);
  const Targets targets = make_targets(state.range(0), kDType, rng);
  std::vector<Tensor> xs;
  for (const Head& h : kHeads) {
    xs.push_back(Tensor::randn({kBatch, 3 * (5 + kClasses), h.grid, h.grid}, kDType, rng, 0.0, 1.0));
  }
  const Tensor ones = Tensor::ones({kBatch}, kDType);
  for (auto _ : state) {
    for (std::size_t k = 0; k < xs.size(); ++k) {
      Tensor x = xs[k];
      x.set_requires_grad();
      x.reset_grad();
      core::Tape tape;
      const ops::YoloLossParams p{kAnchors, kHeads[k].mask, kClasses, 0.7, kHeads[k].stride, true, 1.0};
      const ops::YoloLossOutputs out = ops::yolo_loss(tape, x, targets.box, targets.label, p);
      tape.backward(out.loss, ones);
      benchmark::DoNotOptimize(x.grad().raw_data());
    }
  }
}

// The two kernels alone, without the tape: what a training step pays when x
// is a conv output (the tape then passes dx on without the copy it makes
// for a leaf tensor like the x above).
void BM_YoloLossKernelsThreeHeads(benchmark::State& state) {
  std::mt19937_64 rng(42);
  const Targets targets = make_targets(state.range(0), DType::f32, rng);
  std::vector<Tensor> xs;
  for (const Head& h : kHeads) {
    xs.push_back(Tensor::randn({kBatch, 3 * (5 + kClasses), h.grid, h.grid}, DType::f32, rng, 0.0, 1.0));
  }
  const Tensor ones = Tensor::ones({kBatch}, DType::f32);
  for (auto _ : state) {
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const ops::YoloLossParams p{kAnchors, kHeads[k].mask, kClasses, 0.7, kHeads[k].stride, true, 1.0};
      const ops::YoloLossOutputs out = ops::yolo_loss_forward(xs[k], targets.box, targets.label, Tensor(), p);
      const Tensor dx = ops::yolo_loss_backward(xs[k], targets.box, targets.label, Tensor(), out.objectness_mask,
                                                out.gt_match_mask, ones, p);
      benchmark::DoNotOptimize(dx.raw_data());
    }
  }
}

template <DType kDType>
void BM_YoloLossForwardOnly(benchmark::State& state) {
  std::mt19937_64 rng(42);
  const Targets targets = make_targets(state.range(0), kDType, rng);
  const Head& h = kHeads[2];
  const Tensor x = Tensor::randn({kBatch, 3 * (5 + kClasses), h.grid, h.grid}, kDType, rng, 0.0, 1.0);
  const ops::YoloLossParams p{kAnchors, h.mask, kClasses, 0.7, h.stride, true, 1.0};
  for (auto _ : state) {
    const ops::YoloLossOutputs out = ops::yolo_loss_forward(x, targets.box, targets.label, Tensor(), p);
    benchmark::DoNotOptimize(out.loss.raw_data());
  }
}

BENCHMARK(BM_YoloLossThreeHeads<DType::f32>)->ArgName("valid_rows")->Arg(50)->Arg(7)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YoloLossThreeHeads<DType::f64>)->ArgName("valid_rows")->Arg(50)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YoloLossKernelsThreeHeads)->ArgName("valid_rows")->Arg(50)->Arg(7)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YoloLossForwardOnly<DType::f32>)->ArgName("valid_rows")->Arg(50)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
