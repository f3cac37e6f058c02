#include "ops/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <set>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

using core::ValueError;

namespace {

template <class V>
const V& get_as(const std::string& op, const std::string& name, const AttrValue& v, const char* want) {
  if (const V* p = std::get_if<V>(&v)) return *p;
  throw ValueError(fmt::format("{}: attribute '{}' is not of type {}", op, name, want));
}

bool parse_int(std::string_view s, std::int64_t& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

bool parse_real(std::string_view s, double& out) {
  // from_chars is locale-independent: "0.7" and "1e-05" parse the same everywhere.
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto comma = s.find(',', start);
    parts.push_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

AttrValue parse_value(const std::string& op, const AttrSpec& spec, const std::string& text) {
  auto bad = [&]() {
    return ValueError(fmt::format("{}: cannot parse attribute {}={} as {}", op, spec.name, text,
                                  attr_type_name(spec.type)));
  };
  switch (spec.type) {
    case AttrType::integer: {
      std::int64_t v;
      if (!parse_int(text, v)) throw bad();
      return v;
    }
    case AttrType::real: {
      double v;
      if (!parse_real(text, v)) throw bad();
      return v;
    }
    case AttrType::boolean:
      if (text == "true" || text == "1") return true;
      if (text == "false" || text == "0") return false;
      throw bad();
    case AttrType::int_list: {
      std::vector<std::int64_t> out;
      if (text.empty()) return out;  // `axes=`, `anchor_mask=`: an empty list
      for (auto part : split_commas(text)) {
        std::int64_t v;
        if (!parse_int(part, v)) throw bad();
        out.push_back(v);
      }
      return out;
    }
    case AttrType::real_list: {
      std::vector<double> out;
      if (text.empty()) return out;
      for (auto part : split_commas(text)) {
        double v;
        if (!parse_real(part, v)) throw bad();
        out.push_back(v);
      }
      return out;
    }
  }
  throw bad();
}

}  // namespace

OpSpec binary_spec(std::string name, std::string doc, BinaryOpFn fn) {
  return {std::move(name), std::move(doc), {{"a"}, {"b"}}, false, {"y"}, {},
          [fn](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", fn(t, c.inputs.at("a"), c.inputs.at("b"))}}; }};
}

OpSpec unary_spec(std::string name, std::string doc, UnaryOpFn fn) {
  return {std::move(name), std::move(doc), {{"x"}}, false, {"y"}, {},
          [fn](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", fn(t, c.inputs.at("x"))}}; }};
}

OpSpec unary_with_attrs(std::string name, std::string doc, std::vector<AttrSpec> attrs,
                        std::function<Tensor(Tape&, const Tensor&, const Attrs&)> fn) {
  return {std::move(name), std::move(doc), {{"x"}}, false, {"y"}, std::move(attrs),
          [fn](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", fn(t, c.inputs.at("x"), c.attrs)}}; }};
}

const AttrValue& Attrs::at(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw ValueError(fmt::format("{}: attribute '{}' is not set", op_, name));
  return it->second;
}

std::int64_t Attrs::get_int(const std::string& name) const {
  return get_as<std::int64_t>(op_, name, at(name), "int");
}
double Attrs::get_float(const std::string& name) const { return get_as<double>(op_, name, at(name), "float"); }
bool Attrs::get_bool(const std::string& name) const { return get_as<bool>(op_, name, at(name), "bool"); }
std::vector<std::int64_t> Attrs::get_ints(const std::string& name) const {
  return get_as<std::vector<std::int64_t>>(op_, name, at(name), "int list");
}
std::vector<double> Attrs::get_floats(const std::string& name) const {
  return get_as<std::vector<double>>(op_, name, at(name), "float list");
}

void OpRegistry::add(OpSpec spec) {
  if (contains(spec.name)) throw ValueError(fmt::format("op registry: '{}' is registered twice", spec.name));
  specs_.push_back(std::move(spec));
}

bool OpRegistry::contains(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return true;
  }
  return false;
}

const OpSpec& OpRegistry::find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name) return s;
  }
  std::vector<std::string> names;
  for (const auto& s : specs_) names.push_back(s.name);
  throw ValueError(fmt::format("unknown op '{}'; known ops: {}", name, fmt::join(names, ", ")));
}

const OpRegistry& op_registry() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_all_ops(r);
    return r;
  }();
  return registry;
}

Attrs parse_attrs(const OpSpec& spec, const std::vector<std::pair<std::string, std::string>>& assignments) {
  std::map<std::string, AttrValue> values;
  std::set<std::string> seen;
  for (const auto& [key, text] : assignments) {
    const AttrSpec* match = nullptr;
    for (const auto& a : spec.attrs) {
      if (a.name == key) match = &a;
    }
    if (match == nullptr) {
      std::vector<std::string> names;
      for (const auto& a : spec.attrs) names.push_back(a.name);
      throw ValueError(fmt::format("{}: unknown attribute '{}' (attributes: {})", spec.name, key,
                                   names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
    }
    if (!seen.insert(key).second) throw ValueError(fmt::format("{}: attribute '{}' is given twice", spec.name, key));
    values[key] = parse_value(spec.name, *match, text);
  }
  for (const auto& a : spec.attrs) {
    if (values.count(a.name)) continue;
    if (!a.default_value) throw ValueError(fmt::format("{}: required attribute '{}' is missing", spec.name, a.name));
    values[a.name] = *a.default_value;
  }
  return Attrs(spec.name, std::move(values));
}

std::string attr_type_name(AttrType type) {
  switch (type) {
    case AttrType::integer: return "int";
    case AttrType::real: return "float";
    case AttrType::boolean: return "bool";
    case AttrType::int_list: return "int list";
    case AttrType::real_list: return "float list";
  }
  return "?";
}

std::string format_attr_value(const AttrValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<V, std::int64_t> || std::is_same_v<V, double>) return fmt::format("{}", v);
        else return fmt::format("{}", fmt::join(v, ","));
      },
      value);
}

std::string format_op_list(const OpRegistry& registry) {
  std::string out;
  for (const auto& s : registry.all()) {
    out += fmt::format("{}\n  {}\n", s.name, s.doc);
    std::vector<std::string> ins;
    for (const auto& in : s.inputs) {
      std::string kind = in.kind == InputKind::index ? " (int32)" : in.kind == InputKind::constant ? " (no grad)" : "";
      std::string name = s.variadic ? in.name + "0, " + in.name + "1, ..." : in.name;
      ins.push_back(name + kind + (in.optional ? " (optional)" : ""));
    }
    out += fmt::format("  inputs:  {}\n", fmt::join(ins, ", "));
    out += fmt::format("  outputs: {}\n", fmt::join(s.outputs, ", "));
    if (s.attrs.empty()) out += "  attrs:   none\n";
    for (const auto& a : s.attrs) {
      out += fmt::format("  attr {} : {} = {}  {}\n", a.name, attr_type_name(a.type),
                         a.default_value ? format_attr_value(*a.default_value) : "(required)", a.doc);
    }
  }
  return out;
}

}  // namespace ops
