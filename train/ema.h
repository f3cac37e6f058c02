// An exponential moving average of a model's parameters, evaluated and
// saved in place of the live weights when train.ema is on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "models/checkpoint.h"
#include "models/module.h"

namespace train {

class Ema {
 public:
  // Starts as a copy of `params`. `decay` is the long-run weight of the
  // average (e.g. 0.9998).
  Ema(const std::vector<models::NamedTensor>& params, double decay);

  // After optimizer update number `updates` (1, 2, ...): average <- d *
  // average + (1 - d) * params with d = min(decay, (1 + updates) / (10 +
  // updates)), so the first updates follow the live weights closely instead
  // of dragging the random initialisation along.
  void update(const std::vector<models::NamedTensor>& params, std::int64_t updates);

  // Swaps the averaged and the live weights; a second call swaps them back
  // (evaluation runs between the two).
  void swap_into(const std::vector<models::NamedTensor>& params);

  // The average as checkpoint tensors named "ema.<parameter name>", and
  // their restoration from a checkpoint holding them.
  std::vector<models::NamedTensor> state() const;
  void load(const models::Checkpoint& checkpoint);

 private:
  double decay_;
  std::vector<std::string> names_;
  std::vector<core::Tensor> shadow_;
};

}  // namespace train
