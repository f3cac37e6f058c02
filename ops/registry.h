// The op registry: every op that `yolo op` can run, with its inputs, outputs
// and typed attributes (with defaults). Each op registers itself from its own
// .cpp file through a function listed in ops/registrations.h, called once
// when the registry is first used; there are no static initialisers that a
// static library could drop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/tape.h"

namespace ops {

using core::Tape;
using core::Tensor;

enum class AttrType { integer, real, boolean, int_list, real_list };
using AttrValue = std::variant<std::int64_t, double, bool, std::vector<std::int64_t>, std::vector<double>>;

struct AttrSpec {
  std::string name;
  AttrType type;
  std::optional<AttrValue> default_value;  // nullopt: required
  std::string doc;
};

enum class InputKind {
  differentiable,  // float tensor that receives a gradient
  constant,        // float tensor without a gradient (running statistics...)
  index,           // int32 tensor (labels, indices); int64 files are narrowed
};

struct InputSpec {
  std::string name;
  InputKind kind = InputKind::differentiable;
  bool optional = false;
  std::string doc;
};

// Parsed, validated attributes of one call; getters throw ValueError naming
// the op when the attribute or its type is wrong.
class Attrs {
 public:
  Attrs() = default;
  Attrs(std::string op, std::map<std::string, AttrValue> values) : op_(std::move(op)), values_(std::move(values)) {}
  std::int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  std::vector<std::int64_t> get_ints(const std::string& name) const;
  std::vector<double> get_floats(const std::string& name) const;

 private:
  const AttrValue& at(const std::string& name) const;
  std::string op_;
  std::map<std::string, AttrValue> values_;
};

struct OpCall {
  std::map<std::string, Tensor> inputs;  // by input name; absent optional inputs are missing
  std::vector<Tensor> variadic;          // x0, x1, ... for variadic ops
  Attrs attrs;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct OpSpec {
  std::string name;
  std::string doc;
  std::vector<InputSpec> inputs;  // for a variadic op: one spec, its name the prefix ("x")
  bool variadic = false;
  std::vector<std::string> outputs;  // the first one is what --grad-out differentiates
  std::vector<AttrSpec> attrs;
  std::function<NamedTensors(Tape&, const OpCall&)> run;
};

class OpRegistry {
 public:
  // Throws ValueError on a duplicate name.
  void add(OpSpec spec);
  // Throws ValueError naming the unknown op and listing the known ones.
  const OpSpec& find(const std::string& name) const;
  bool contains(const std::string& name) const;
  const std::vector<OpSpec>& all() const { return specs_; }

 private:
  std::vector<OpSpec> specs_;
};

// Every op of the project.
const OpRegistry& op_registry();

// Parses `key=value` strings against the op's attribute specs: C-locale ints
// and floats, comma-separated lists without spaces or brackets, true|false|1|0.
// Unknown, repeated, missing-required and unparsable attributes throw ValueError.
Attrs parse_attrs(const OpSpec& spec, const std::vector<std::pair<std::string, std::string>>& assignments);

std::string attr_type_name(AttrType type);
std::string format_attr_value(const AttrValue& value);
// A human-readable listing of every op: inputs, outputs, attributes.
std::string format_op_list(const OpRegistry& registry);

// Spec builders for the common op shapes, used by the ops' registrations:
// y = fn(a, b); y = fn(x); y = fn(x, attributes).
using BinaryOpFn = Tensor (*)(Tape&, const Tensor&, const Tensor&);
using UnaryOpFn = Tensor (*)(Tape&, const Tensor&);
OpSpec binary_spec(std::string name, std::string doc, BinaryOpFn fn);
OpSpec unary_spec(std::string name, std::string doc, UnaryOpFn fn);
OpSpec unary_with_attrs(std::string name, std::string doc, std::vector<AttrSpec> attrs,
                        std::function<Tensor(Tape&, const Tensor&, const Attrs&)> fn);

}  // namespace ops
