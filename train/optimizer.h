// Optimizers over a model's named parameters: SGD with momentum and L2 weight
// decay (PyTorch's and Paddle's formulation: the decay is added to the
// gradient) and AdamW (decoupled decay). Their state is named tensors, so it
// goes into checkpoints next to the parameters.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/checkpoint.h"
#include "models/module.h"
#include "train/config.h"

namespace train {

class Optimizer {
 public:
  // Parameters whose name ends in ".bias" or contains ".bn." get no weight
  // decay unless config.decay_bias_and_bn.
  Optimizer(const OptimizerConfig& config, std::vector<models::NamedTensor> params);
  virtual ~Optimizer() = default;

  // One update with learning rate `lr` from the parameters' current grads.
  // Parameters listed in `frozen` (by index into params()) are left alone.
  void step(double lr, const std::vector<bool>& frozen = {});

  const std::vector<models::NamedTensor>& params() const { return params_; }
  std::int64_t steps_taken() const { return steps_; }

  // "optimizer.<param>.<slot>" tensors plus "optimizer.steps".
  std::vector<models::NamedTensor> state() const;
  // Restores what state() wrote; throws core::IoError naming a missing or
  // mismatched tensor.
  void load_state(const models::Checkpoint& ckpt);

 protected:
  virtual void update(std::size_t index, float lr, float decay) = 0;
  // Extra per-parameter buffers, registered by the derived class.
  void add_slot(const std::string& slot);
  core::Tensor& slot(std::size_t index, std::size_t slot);

  OptimizerConfig config_;
  std::int64_t steps_ = 0;

 private:
  std::vector<models::NamedTensor> params_;
  std::vector<bool> decay_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<core::Tensor>> slots_;  // [slot][param]
};

// Throws core::ConfigError for an unknown optimizer.type.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::vector<models::NamedTensor> params);

// Scales all gradients so their global L2 norm is at most max_norm; returns
// the norm before clipping (NaN/inf when some gradient is not finite).
double clip_grad_norm(const std::vector<models::NamedTensor>& params, double max_norm);

}  // namespace train
