#include "tools/yolo/op_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/npy.h"
#include "ops/registry.h"

namespace yolo {

using core::Tensor;
using core::ValueError;

namespace {

std::pair<std::string, std::string> split_assignment(const std::string& op, const std::string& what,
                                                     const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ValueError(fmt::format("{}: {} '{}' must have the form NAME=VALUE", op, what, text));
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// Index of a variadic input name ("x3" -> 3 for prefix "x"), or nullopt.
std::optional<std::size_t> variadic_index(const std::string& prefix, const std::string& name) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string digits = name.substr(prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  return std::stoul(digits);
}

struct LoadedInput {
  std::string name;
  const ops::InputSpec* spec;
  Tensor tensor;
};

std::vector<LoadedInput> load_inputs(const ops::OpSpec& spec, const std::vector<std::string>& assignments) {
  std::vector<LoadedInput> loaded;
  for (const auto& text : assignments) {
    auto [name, path] = split_assignment(spec.name, "--in", text);
    const ops::InputSpec* match = nullptr;
    for (const auto& in : spec.inputs) {
      if (spec.variadic ? variadic_index(in.name, name).has_value() : in.name == name) match = &in;
    }
    if (match == nullptr) {
      std::string known;
      for (const auto& in : spec.inputs) known += (known.empty() ? "" : ", ") + in.name + (spec.variadic ? "0, ..." : "");
      throw ValueError(fmt::format("{}: unknown input '{}' (inputs: {})", spec.name, name, known));
    }
    for (const auto& l : loaded) {
      if (l.name == name) throw ValueError(fmt::format("{}: input '{}' is given twice", spec.name, name));
    }
    Tensor t = core::read_npy(path);
    if (match->kind == ops::InputKind::index && t.dtype() != core::DType::i32) {
      throw ValueError(fmt::format("{}: input '{}' ({}) must hold integers (int32 or int64), got {}", spec.name, name,
                                   path, t.describe()));
    }
    if (match->kind != ops::InputKind::index && !core::is_floating(t.dtype())) {
      throw ValueError(fmt::format("{}: input '{}' ({}) must be float32 or float64, got {}", spec.name, name, path,
                                   t.describe()));
    }
    loaded.push_back({name, match, t});
  }
  // Every float input of one call shares a dtype: it picks the path.
  const LoadedInput* first_float = nullptr;
  for (const auto& l : loaded) {
    if (l.spec->kind == ops::InputKind::index) continue;
    if (first_float == nullptr) first_float = &l;
    else if (first_float->tensor.dtype() != l.tensor.dtype()) {
      throw ValueError(fmt::format("{}: float inputs must share one dtype, but '{}' is {} and '{}' is {}", spec.name,
                                   first_float->name, first_float->tensor.describe(), l.name, l.tensor.describe()));
    }
  }
  return loaded;
}

ops::OpCall make_call(const ops::OpSpec& spec, std::vector<LoadedInput>& loaded) {
  ops::OpCall call;
  if (spec.variadic) {
    call.variadic.resize(loaded.size());
    for (auto& l : loaded) {
      const std::size_t i = *variadic_index(spec.inputs[0].name, l.name);
      if (i >= loaded.size()) {
        throw ValueError(fmt::format("{}: inputs must be numbered {}0 to {}{} without gaps, got '{}'", spec.name,
                                     spec.inputs[0].name, spec.inputs[0].name, loaded.size() - 1, l.name));
      }
      call.variadic[i] = l.tensor;
    }
    if (call.variadic.empty()) throw ValueError(fmt::format("{}: at least one input {}0 is required", spec.name,
                                                            spec.inputs[0].name));
    return call;
  }
  for (auto& l : loaded) call.inputs[l.name] = l.tensor;
  for (const auto& in : spec.inputs) {
    if (!in.optional && !call.inputs.count(in.name)) {
      throw ValueError(fmt::format("{}: required input '{}' is missing (--in {}=FILE.npy)", spec.name, in.name,
                                   in.name));
    }
  }
  return call;
}

}  // namespace

void run_op_command(const OpCommandArgs& args, std::ostream& out) {
  const auto& registry = ops::op_registry();
  if (args.list) {
    out << ops::format_op_list(registry);
    return;
  }
  if (args.op.empty()) throw ValueError("op: no op name given (see yolo op --list)");
  const ops::OpSpec& spec = registry.find(args.op);
  if (args.out_dir.empty()) throw ValueError(fmt::format("{}: --out DIR is required", spec.name));

  std::vector<std::pair<std::string, std::string>> attr_pairs;
  for (const auto& a : args.attrs) attr_pairs.push_back(split_assignment(spec.name, "--attr", a));
  const ops::Attrs attrs = ops::parse_attrs(spec, attr_pairs);

  std::vector<LoadedInput> loaded = load_inputs(spec, args.inputs);
  const bool want_grads = !args.grad_out.empty();
  if (want_grads) {
    for (auto& l : loaded) {
      if (l.spec->kind == ops::InputKind::differentiable) l.tensor.set_requires_grad();
    }
  }
  ops::OpCall call = make_call(spec, loaded);
  call.attrs = attrs;

  core::Tape tape(want_grads ? core::Tape::Mode::record : core::Tape::Mode::inference);
  const ops::NamedTensors outputs = spec.run(tape, call);

  std::filesystem::create_directories(args.out_dir);
  for (const auto& [name, t] : outputs) core::write_npy((std::filesystem::path(args.out_dir) / (name + ".npy")).string(), t);

  if (!want_grads) return;
  const Tensor& y = outputs.front().second;
  const Tensor g = core::read_npy(args.grad_out);
  if (g.shape() != y.shape() || g.dtype() != y.dtype()) {
    throw ValueError(fmt::format("{}: --grad-out {} is {}, but output '{}' is {}", spec.name, args.grad_out,
                                 g.describe(), outputs.front().first, y.describe()));
  }
  if (y.requires_grad()) tape.backward(y, g);
  for (const auto& l : loaded) {
    if (l.spec->kind != ops::InputKind::differentiable) continue;
    Tensor grad = l.tensor.grad();
    if (!grad.defined()) grad = Tensor::zeros(l.tensor.shape(), l.tensor.dtype());
    core::write_npy((std::filesystem::path(args.out_dir) / ("grad_" + l.name + ".npy")).string(), grad);
  }
}

}  // namespace yolo
