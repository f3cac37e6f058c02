// Module: the owner of parameters (leaf tensors that take gradients) and
// buffers (state such as batch-norm running statistics), each under a stable
// dotted name ("backbone.stage2.block1.conv1.bn.weight") that checkpoints
// and logs use. Modules form a tree; names are the path through it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace models {

using NamedTensor = std::pair<std::string, core::Tensor>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter of this module and its children, in registration order.
  std::vector<NamedTensor> named_parameters() const;
  std::vector<NamedTensor> named_buffers() const;
  // Parameters and buffers together (what a checkpoint stores).
  std::vector<NamedTensor> state() const;

  // Train mode uses batch statistics in batch norm; eval mode the running ones.
  void set_training(bool training);
  bool training() const { return training_; }

  void zero_grad() const;

 protected:
  // Marks t as a leaf requiring grad and returns the shared handle.
  core::Tensor register_parameter(const std::string& name, core::Tensor t);
  core::Tensor register_buffer(const std::string& name, core::Tensor t);
  template <class M>
  M& register_module(const std::string& name, std::unique_ptr<M> child) {
    M& ref = *child;
    children_.emplace_back(name, std::move(child));
    return ref;
  }

 private:
  void collect(const std::string& prefix, bool parameters, std::vector<NamedTensor>& out) const;

  std::vector<NamedTensor> parameters_;
  std::vector<NamedTensor> buffers_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace models
