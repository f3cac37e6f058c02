#include "core/tape.h"

#include <fmt/format.h>

#include <unordered_map>

#include "core/broadcast.h"
#include "core/error.h"

namespace core {

bool Tape::should_record(const std::vector<Tensor>& inputs) const {
  if (!recording()) return false;
  for (const auto& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

bool Tape::record(std::string op, std::vector<Tensor> inputs, std::vector<Tensor> outputs,
                  std::vector<Tensor> saved, BackwardFn backward) {
  if (!should_record(inputs)) return false;
  for (auto& out : outputs) {
    if (!out.defined()) continue;
    auto& meta = out.autograd_meta();
    meta.requires_grad = true;
    meta.is_leaf = false;
  }
  // Inputs and outputs are kept for routing gradients only, so the node holds
  // their autograd state, not their values: an activation stays in memory
  // only while a closure saved it (or the caller holds it). Leaves that take
  // gradients are kept whole; they live on anyway and hooks receive them.
  for (auto& in : inputs) {
    if (in.defined() && !(in.is_leaf() && in.requires_grad())) in = in.autograd_handle();
  }
  for (auto& out : outputs) out = out.autograd_handle();
  Node node{std::move(op), std::move(inputs), std::move(outputs), {}, std::move(backward)};
  node.saved.reserve(saved.size());
  for (auto& s : saved) {
    const auto v = s.version();
    node.saved.push_back({std::move(s), v});
  }
  if (profile_) {
    const auto now = std::chrono::steady_clock::now();
    auto& entry = profile_->ops[node.op];
    entry.forward_s += std::chrono::duration<double>(now - profile_mark_).count();
    ++entry.calls;
    profile_mark_ = now;
  }
  nodes_.push_back(std::move(node));
  return true;
}

void Tape::set_profile(OpProfile* profile) {
  profile_ = profile;
  profile_mark_ = std::chrono::steady_clock::now();
}

void accumulate_grad(const Tensor& t, const Tensor& g) {
  if (t.shape() != g.shape() || t.dtype() != g.dtype()) {
    throw AutogradError(fmt::format("backward: gradient {} does not match tensor {}", g.describe(), t.describe()));
  }
  auto& meta = t.autograd_meta();
  if (!meta.grad) {
    // A leaf keeps its own buffer so later contributions and optimizers can
    // write into it; the incoming gradient may be shared with other tensors.
    meta.grad = std::make_shared<Tensor>(meta.is_leaf ? g.clone() : g);
    meta.grad_owned = meta.is_leaf;
  } else if (meta.grad_owned) {
    add_inplace(*meta.grad, g);
  } else {
    *meta.grad = add_same_shape(*meta.grad, g);
    meta.grad_owned = true;
  }
}

void Tape::backward(const Tensor& loss, BackwardOptions options) {
  if (!loss.defined() || loss.numel() != 1) {
    throw AutogradError(fmt::format("backward: loss must have one element, got {} (pass a grad_output instead)",
                                    loss.describe()));
  }
  backward(loss, Tensor::ones(loss.shape(), loss.dtype()), options);
}

void Tape::backward(const Tensor& output, const Tensor& grad_output, BackwardOptions options) {
  if (!output.requires_grad()) {
    throw AutogradError(fmt::format("backward: {} does not require grad (no recorded op produced it)",
                                    output.describe()));
  }
  if (grad_output.shape() != output.shape() || grad_output.dtype() != output.dtype()) {
    throw AutogradError(fmt::format("backward: grad_output {} does not match output {}", grad_output.describe(),
                                    output.describe()));
  }
  accumulate_grad(output, grad_output);
  // With the hook: the first node (in recording order) that reads a leaf is
  // the last to add to its gradient.
  std::unordered_map<const AutogradMeta*, std::size_t> first_reader;
  if (options.on_leaf_grad_final) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      for (const auto& in : nodes_[i].inputs) {
        if (in.defined() && in.requires_grad() && in.is_leaf()) first_reader.try_emplace(&in.autograd_meta(), i);
      }
    }
  }
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    if (!profile_) {
      run_node(*it, options.retain_graph);
    } else {
      const auto begin = std::chrono::steady_clock::now();
      const std::string op = it->op;
      run_node(*it, options.retain_graph);
      profile_->ops[op].backward_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    }
    if (options.on_leaf_grad_final) report_final_leaves(*it, static_cast<std::size_t>(nodes_.rend() - it - 1),
                                                        first_reader, options.on_leaf_grad_final);
  }
  if (!options.retain_graph) {
    nodes_.clear();
  }
  if (!output.is_leaf()) output.reset_grad();
}

void Tape::report_final_leaves(const Node& node, std::size_t index,
                               std::unordered_map<const AutogradMeta*, std::size_t>& first_reader,
                               const std::function<void(const Tensor&)>& hook) {
  for (const auto& in : node.inputs) {
    if (!in.defined() || !in.requires_grad() || !in.is_leaf()) continue;
    const auto found = first_reader.find(&in.autograd_meta());
    if (found != first_reader.end() && found->second == index) {
      first_reader.erase(found);
      hook(in);
    }
  }
}

void Tape::run_node(Node& node, bool retain_graph) {
  std::vector<Tensor> grad_outputs;
  grad_outputs.reserve(node.outputs.size());
  bool any = false;
  for (const auto& out : node.outputs) {
    grad_outputs.push_back(out.defined() ? out.grad() : Tensor());
    any = any || grad_outputs.back().defined();
  }
  if (!any) return;
  if (!node.backward) {
    throw AutogradError(fmt::format("backward: the graph through op '{}' was already released; "
                                    "pass retain_graph to run backward twice", node.op));
  }

  std::vector<Tensor> saved;
  saved.reserve(node.saved.size());
  for (const auto& s : node.saved) {
    if (s.tensor.version() != s.version) {
      throw AutogradError(fmt::format(
          "backward: a tensor {} saved by op '{}' was modified in place after the op ran (version {} -> {})",
          s.tensor.describe(), node.op, s.version, s.tensor.version()));
    }
    saved.push_back(s.tensor);
  }
  std::vector<bool> needs(node.inputs.size());
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    needs[i] = node.inputs[i].defined() && node.inputs[i].requires_grad();
  }

  const std::vector<Tensor> grads = node.backward(BackwardContext{grad_outputs, saved, needs});
  if (grads.size() != node.inputs.size()) {
    throw AutogradError(fmt::format("backward: op '{}' returned {} gradients for {} inputs", node.op, grads.size(),
                                    node.inputs.size()));
  }
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (needs[i] && grads[i].defined()) accumulate_grad(node.inputs[i], grads[i]);
  }
  // Intermediate gradients are released as soon as their node has run, so a
  // retained graph starts from clean buffers on the next backward.
  for (const auto& out : node.outputs) {
    if (out.defined() && !out.is_leaf()) out.reset_grad();
  }
  if (!retain_graph) {
    node.saved.clear();
    node.backward = nullptr;
  }
}

}  // namespace core
