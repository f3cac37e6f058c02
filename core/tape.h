// Tape: records differentiable ops in execution order and replays their
// backward closures in reverse.
//
// The tape is an explicit object passed to every op (no global "current
// tape"). Appending in execution order makes the reversed tape a topological
// order, so backward needs no graph search. A node is recorded only when the
// tape records and at least one input requires a gradient; an inference tape
// records nothing, so model code is the same in training and evaluation.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace core {

// What a backward closure receives. grad_outputs[i] is undefined when no
// gradient reached output i; needs_grad[j] says whether input j wants one.
struct BackwardContext {
  const std::vector<Tensor>& grad_outputs;
  const std::vector<Tensor>& saved;
  const std::vector<bool>& needs_grad;
};

// Returns one gradient per input, each of the input's shape, or an undefined
// tensor where needs_grad is false (or the gradient is zero by construction).
using BackwardFn = std::function<std::vector<Tensor>(const BackwardContext&)>;

struct BackwardOptions {
  // Keep saved tensors and nodes so backward can run again (tests, gradcheck).
  bool retain_graph = false;
  // Called once for each leaf as soon as no node left to run can add to its
  // gradient (data-parallel training starts sending it then). Leaves that
  // no recorded node reads are not reported.
  std::function<void(const Tensor& leaf)> on_leaf_grad_final;
};

// Seconds spent per op kind while a tape records and replays, for
// `yolo bench --profile`. A recorded op is charged the time since the
// previous recorded op (or since the profile was attached): the forward of a
// network is a sequence of recorded ops, so that gap is the op's own kernel
// plus any untaped glue before it. Backward time is measured per node
// exactly, gradient accumulation included.
struct OpProfile {
  struct Entry {
    double forward_s = 0;
    double backward_s = 0;
    std::int64_t calls = 0;
  };
  std::map<std::string, Entry> ops;
};

class Tape {
 public:
  enum class Mode { record, inference };
  explicit Tape(Mode mode = Mode::record) : mode_(mode) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  bool recording() const { return mode_ == Mode::record; }
  void set_mode(Mode mode) { mode_ = mode; }

  // True when an op on these inputs must be recorded.
  bool should_record(const std::vector<Tensor>& inputs) const;

  // Records one node when should_record(inputs). Outputs become non-leaf
  // tensors that require grad. `saved` is what backward reads; the closure
  // must read tensors only through ctx.saved, so they are version-checked and
  // released after use. The node keeps only the autograd state of inputs and
  // outputs (Tensor::autograd_handle), never their values: what backward
  // needs must be in `saved`. Returns whether a node was recorded.
  bool record(std::string op, std::vector<Tensor> inputs, std::vector<Tensor> outputs,
              std::vector<Tensor> saved, BackwardFn backward);

  // Runs backward from a one-element `loss` (seeded with 1).
  void backward(const Tensor& loss, BackwardOptions options = {});
  // Runs backward from `output` seeded with `grad_output` (same shape/dtype).
  void backward(const Tensor& output, const Tensor& grad_output, BackwardOptions options = {});

  // Drops every node (and what it saved).
  void clear() { nodes_.clear(); }
  std::size_t size() const { return nodes_.size(); }

  // Starts charging time to `profile` (nullptr stops). The clock for the
  // first op's forward starts now.
  void set_profile(OpProfile* profile);

 private:
  struct SavedTensor {
    Tensor tensor;
    std::uint64_t version;
  };
  struct Node {
    std::string op;
    std::vector<Tensor> inputs;
    std::vector<Tensor> outputs;
    std::vector<SavedTensor> saved;
    BackwardFn backward;
  };

  void run_node(Node& node, bool retain_graph);
  // Calls hook for each leaf input of node (at `index`) that no earlier
  // node reads; those leaves' gradients are complete.
  static void report_final_leaves(const Node& node, std::size_t index,
                                  std::unordered_map<const AutogradMeta*, std::size_t>& first_reader,
                                  const std::function<void(const Tensor&)>& hook);

  Mode mode_;
  std::vector<Node> nodes_;
  OpProfile* profile_ = nullptr;
  std::chrono::steady_clock::time_point profile_mark_;
};

// Adds g into t's grad: leaves own their grad buffer and accumulate in place
// (fan-out is +=); intermediate tensors keep a handle until a second
// contribution arrives, which is then summed out of place.
void accumulate_grad(const Tensor& t, const Tensor& g);

}  // namespace core
