#include "models/size_preparation.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "core/error.h"
#include "ops/backend/dnnl.h"

namespace models {

namespace {

// What planning must not disturb: each parameter's gradient (planned passes
// write fresh ones, dropped afterwards) and the batch-norm statistics (a
// planned forward updates them from unspecified values).
class TrainingStateGuard {
 public:
  explicit TrainingStateGuard(const DarknetNetwork& network)
      : params_(network.named_parameters()), buffers_(network.named_buffers()) {
    // The copies first: if one throws, no gradient has been taken yet.
    for (const auto& [name, b] : buffers_) buffer_values_.push_back(b.clone());
    for (const auto& [name, p] : params_) {
      core::AutogradMeta& m = p.autograd_meta();
      grads_.emplace_back(std::exchange(m.grad, nullptr), std::exchange(m.grad_owned, false));
    }
  }
  TrainingStateGuard(const TrainingStateGuard&) = delete;
  TrainingStateGuard& operator=(const TrainingStateGuard&) = delete;

  ~TrainingStateGuard() {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      core::AutogradMeta& m = params_[i].second.autograd_meta();
      m.grad = std::move(grads_[i].first);
      m.grad_owned = grads_[i].second;
    }
    for (std::size_t i = 0; i < buffers_.size(); ++i) buffers_[i].second.copy_(buffer_values_[i]);
  }

 private:
  std::vector<NamedTensor> params_, buffers_;
  std::vector<std::pair<std::shared_ptr<core::Tensor>, bool>> grads_;
  std::vector<core::Tensor> buffer_values_;
};

// Times `pass` over `sizes` (largest first, each once) in plan-only mode
// and counts the primitives it created.
SizePreparation plan_sizes(std::vector<int> sizes, const std::function<void(int size)>& pass) {
  const auto start = std::chrono::steady_clock::now();
  std::sort(sizes.begin(), sizes.end(), std::greater<>());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  const std::size_t primitives_before = ops::backend::cached_primitive_count();
  {
    const ops::backend::PlanOnly plan;
    for (int size : sizes) pass(size);
  }
  SizePreparation r;
  r.sizes = std::move(sizes);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.primitives = ops::backend::cached_primitive_count() - primitives_before;
  return r;
}

}  // namespace

SizePreparation prepare_training_sizes(const DarknetNetwork& network, std::vector<int> sizes, int batch,
                                       const TrainingLoss& loss) {
  if (!network.training()) throw core::Error("prepare_training_sizes: the network is not in training mode");
  const TrainingStateGuard keep(network);
  const int channels = network.def().net.channels;
  return plan_sizes(std::move(sizes), [&](int size) {
    const core::Tensor images = core::Tensor::empty({batch, channels, size, size}, core::DType::f32);
    core::Tape tape;
    const auto forward = network.forward(tape, images);
    tape.backward(loss(tape, forward.heads, size));
  });
}

SizePreparation prepare_inference_sizes(const DarknetNetwork& network, std::vector<int> sizes, int batch) {
  if (network.training()) throw core::Error("prepare_inference_sizes: the network is in training mode");
  const int channels = network.def().net.channels;
  return plan_sizes(std::move(sizes), [&](int size) {
    const core::Tensor images = core::Tensor::empty({batch, channels, size, size}, core::DType::f32);
    core::Tape tape(core::Tape::Mode::inference);
    (void)network.forward(tape, images);
  });
}

}  // namespace models
