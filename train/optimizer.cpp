#include "train/optimizer.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace train {

using core::Tensor;

namespace {

bool excluded_from_decay(const std::string& name) {
  return name.ends_with(".bias") || name.find(".bn.") != std::string::npos;
}

// v = momentum * v + (g + decay * w);  w -= lr * v
class Sgd : public Optimizer {
 public:
  Sgd(const OptimizerConfig& c, std::vector<models::NamedTensor> p) : Optimizer(c, std::move(p)) { add_slot("momentum"); }

 protected:
  void update(std::size_t i, float lr, float decay) override {
    const Tensor& w = params()[i].second;
    float* pw = w.mutable_data<float>();
    const float* g = w.grad().data<float>();
    float* v = slot(i, 0).mutable_data<float>();
    const auto momentum = static_cast<float>(config_.momentum);
    for (std::int64_t k = 0, n = w.numel(); k < n; ++k) {
      v[k] = momentum * v[k] + g[k] + decay * pw[k];
      pw[k] -= lr * v[k];
    }
  }
};

// Adam with bias correction and decoupled weight decay (Loshchilov & Hutter).
class AdamW : public Optimizer {
 public:
  AdamW(const OptimizerConfig& c, std::vector<models::NamedTensor> p) : Optimizer(c, std::move(p)) {
    add_slot("m");
    add_slot("v");
  }

 protected:
  void update(std::size_t i, float lr, float decay) override {
    const Tensor& w = params()[i].second;
    float* pw = w.mutable_data<float>();
    const float* g = w.grad().data<float>();
    float* m = slot(i, 0).mutable_data<float>();
    float* v = slot(i, 1).mutable_data<float>();
    const double t = static_cast<double>(steps_);
    const auto b1 = static_cast<float>(config_.beta1), b2 = static_cast<float>(config_.beta2);
    const auto c1 = static_cast<float>(1.0 - std::pow(config_.beta1, t));
    const auto c2 = static_cast<float>(1.0 - std::pow(config_.beta2, t));
    const auto eps = static_cast<float>(config_.eps);
    for (std::int64_t k = 0, n = w.numel(); k < n; ++k) {
      m[k] = b1 * m[k] + (1 - b1) * g[k];
      v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
      pw[k] -= lr * ((m[k] / c1) / (std::sqrt(v[k] / c2) + eps) + decay * pw[k]);
    }
  }
};

}  // namespace

Optimizer::Optimizer(const OptimizerConfig& config, std::vector<models::NamedTensor> params)
    : config_(config), params_(std::move(params)) {
  for (const auto& [name, p] : params_) decay_.push_back(config_.decay_bias_and_bn || !excluded_from_decay(name));
}

void Optimizer::add_slot(const std::string& slot) {
  slot_names_.push_back(slot);
  std::vector<Tensor> buffers;
  for (const auto& [name, p] : params_) buffers.push_back(Tensor::zeros(p.shape(), p.dtype()));
  slots_.push_back(std::move(buffers));
}

Tensor& Optimizer::slot(std::size_t index, std::size_t s) { return slots_[s][index]; }

void Optimizer::step(double lr, const std::vector<bool>& frozen) {
  ++steps_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!frozen.empty() && frozen[i]) continue;
    if (!params_[i].second.grad().defined()) continue;  // no gradient reached it (unused head...)
    update(i, static_cast<float>(lr), decay_[i] ? static_cast<float>(config_.weight_decay) : 0.0f);
  }
}

std::vector<models::NamedTensor> Optimizer::state() const {
  std::vector<models::NamedTensor> out;
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      out.emplace_back(fmt::format("optimizer.{}.{}", params_[i].first, slot_names_[s]), slots_[s][i]);
    }
  }
  out.emplace_back("optimizer.steps",
                   Tensor::from_vector({1}, {static_cast<double>(steps_)}, core::DType::f64));
  return out;
}

void Optimizer::load_state(const models::Checkpoint& ckpt) {
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const std::string name = fmt::format("optimizer.{}.{}", params_[i].first, slot_names_[s]);
      const Tensor& src = ckpt.get(name);
      if (src.shape() != slots_[s][i].shape() || src.dtype() != slots_[s][i].dtype()) {
        throw core::IoError(fmt::format("checkpoint {}: optimizer tensor '{}' is {}, expected {}", ckpt.source, name,
                                        src.describe(), slots_[s][i].describe()));
      }
      slots_[s][i].copy_(src);
    }
  }
  steps_ = static_cast<std::int64_t>(ckpt.get("optimizer.steps").item());
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, std::vector<models::NamedTensor> params) {
  if (config.type == "sgd") return std::make_unique<Sgd>(config, std::move(params));
  if (config.type == "adamw") return std::make_unique<AdamW>(config, std::move(params));
  throw core::ConfigError(fmt::format("optimizer.type: unknown optimizer '{}' (expected sgd or adamw)", config.type));
}

double clip_grad_norm(const std::vector<models::NamedTensor>& params, double max_norm) {
  double sum = 0;
  for (const auto& [name, p] : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const float* pg = g.data<float>();
    for (std::int64_t k = 0; k < g.numel(); ++k) sum += static_cast<double>(pg[k]) * pg[k];
  }
  const double norm = std::sqrt(sum);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const auto scale = static_cast<float>(max_norm / norm);
    for (const auto& [name, p] : params) {
      const Tensor g = p.grad();
      if (!g.defined()) continue;
      float* pg = g.mutable_data<float>();
      for (std::int64_t k = 0; k < g.numel(); ++k) pg[k] *= scale;
    }
  }
  return norm;
}

}  // namespace train
