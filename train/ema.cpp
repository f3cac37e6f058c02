#include "train/ema.h"

#include <algorithm>

namespace train {

Ema::Ema(const std::vector<models::NamedTensor>& params, double decay) : decay_(decay) {
  for (const auto& [name, p] : params) {
    names_.push_back("ema." + name);
    shadow_.push_back(p.clone());
  }
}

void Ema::update(const std::vector<models::NamedTensor>& params, std::int64_t updates) {
  const double d = std::min(decay_, (1.0 + static_cast<double>(updates)) / (10.0 + static_cast<double>(updates)));
  for (std::size_t i = 0; i < params.size(); ++i) {
    float* s = shadow_[i].mutable_data<float>();
    const float* w = params[i].second.data<float>();
    for (std::int64_t k = 0; k < shadow_[i].numel(); ++k) s[k] = static_cast<float>(d * s[k] + (1 - d) * w[k]);
  }
}

void Ema::swap_into(const std::vector<models::NamedTensor>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    core::Tensor live = params[i].second.clone();
    params[i].second.copy_(shadow_[i]);
    shadow_[i].copy_(live);
  }
}

std::vector<models::NamedTensor> Ema::state() const {
  std::vector<models::NamedTensor> out;
  for (std::size_t i = 0; i < names_.size(); ++i) out.emplace_back(names_[i], shadow_[i]);
  return out;
}

void Ema::load(const models::Checkpoint& checkpoint) {
  for (std::size_t i = 0; i < names_.size(); ++i) shadow_[i].copy_(checkpoint.get(names_[i]));
}

}  // namespace train
