#include "models/module.h"

#include <fmt/format.h>

#include "core/error.h"

namespace models {

core::Tensor Module::register_parameter(const std::string& name, core::Tensor t) {
  t.set_requires_grad();
  parameters_.emplace_back(name, t);
  return t;
}

core::Tensor Module::register_buffer(const std::string& name, core::Tensor t) {
  buffers_.emplace_back(name, t);
  return t;
}

void Module::collect(const std::string& prefix, bool parameters, std::vector<NamedTensor>& out) const {
  for (const auto& [name, t] : parameters ? parameters_ : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", parameters, out);
}

std::vector<NamedTensor> Module::named_parameters() const {
  std::vector<NamedTensor> out;
  collect("", true, out);
  return out;
}

std::vector<NamedTensor> Module::named_buffers() const {
  std::vector<NamedTensor> out;
  collect("", false, out);
  return out;
}

std::vector<NamedTensor> Module::state() const {
  std::vector<NamedTensor> out = named_parameters();
  for (auto& b : named_buffers()) out.push_back(std::move(b));
  return out;
}

void Module::set_training(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->set_training(training);
}

void Module::zero_grad() const {
  for (const auto& [name, p] : named_parameters()) p.zero_grad();
}

}  // namespace models
