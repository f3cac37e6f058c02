// Registers the foundation ops with `yolo op`: arithmetic, activations,
// reductions, shape ops and matmul.
#include "ops/binary.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/registrations.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"

namespace ops {

namespace {

using Binary = Tensor (*)(Tape&, const Tensor&, const Tensor&);
using Unary = Tensor (*)(Tape&, const Tensor&);

OpSpec binary_spec(std::string name, std::string doc, Binary fn) {
  return {std::move(name), std::move(doc), {{"a"}, {"b"}}, false, {"y"}, {},
          [fn](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", fn(t, c.inputs.at("a"), c.inputs.at("b"))}}; }};
}

OpSpec unary_spec(std::string name, std::string doc, Unary fn) {
  return {std::move(name), std::move(doc), {{"x"}}, false, {"y"}, {},
          [fn](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", fn(t, c.inputs.at("x"))}}; }};
}

OpSpec unary_with_attrs(std::string name, std::string doc, std::vector<AttrSpec> attrs,
                        std::function<Tensor(Tape&, const Tensor&, const Attrs&)> fn) {
  return {std::move(name), std::move(doc), {{"x"}}, false, {"y"}, std::move(attrs),
          [fn](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", fn(t, c.inputs.at("x"), c.attrs)}}; }};
}

std::vector<AttrSpec> reduce_attrs() {
  return {{"axes", AttrType::int_list, AttrValue(std::vector<std::int64_t>{}), "axes to reduce; empty = all"},
          {"keepdim", AttrType::boolean, AttrValue(false), "keep reduced axes with size 1"}};
}

ReduceParams reduce_params(const Attrs& a) { return {a.get_ints("axes"), a.get_bool("keepdim")}; }

}  // namespace

void register_basic_ops(OpRegistry& r) {
  r.add(binary_spec("add", "a + b with NumPy broadcasting", add));
  r.add(binary_spec("sub", "a - b with NumPy broadcasting", sub));
  r.add(binary_spec("mul", "a * b with NumPy broadcasting", mul));
  r.add(binary_spec("div", "a / b with NumPy broadcasting", div));
  r.add(binary_spec("matmul", "a [M,K] x b [K,N], or batched a [B,M,K] x b [B,K,N] or [K,N]", matmul));
  r.add(unary_spec("neg", "-x", neg));
  r.add(unary_spec("exp", "e^x", exp));
  r.add(unary_spec("log", "natural logarithm", log));
  r.add(unary_spec("sqrt", "square root", sqrt));
  r.add(unary_spec("sigmoid", "1 / (1 + e^-x)", sigmoid));
  r.add(unary_spec("relu", "max(x, 0); gradient 0 at x = 0", relu));
  r.add(unary_with_attrs("pow", "x ** exponent", {{"exponent", AttrType::real, std::nullopt, "constant exponent"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) { return pow(t, x, a.get_float("exponent")); }));
  r.add(unary_with_attrs("leaky_relu", "x if x > 0 else slope * x; gradient slope at x = 0",
                         {{"slope", AttrType::real, AttrValue(0.1), "negative slope"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) {
                           return leaky_relu(t, x, {a.get_float("slope")});
                         }));
  r.add(unary_with_attrs("sum", "sum over axes", reduce_attrs(),
                         [](Tape& t, const Tensor& x, const Attrs& a) { return sum(t, x, reduce_params(a)); }));
  r.add(unary_with_attrs("mean", "mean over axes", reduce_attrs(),
                         [](Tape& t, const Tensor& x, const Attrs& a) { return mean(t, x, reduce_params(a)); }));
  r.add(unary_with_attrs("reshape", "same data, new shape (one -1 allowed)",
                         {{"shape", AttrType::int_list, std::nullopt, "target shape"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) { return reshape(t, x, a.get_ints("shape")); }));
  r.add(unary_with_attrs("permute", "reorder axes: y.shape[i] = x.shape[dims[i]]",
                         {{"dims", AttrType::int_list, std::nullopt, "a permutation of the axes"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) { return permute(t, x, a.get_ints("dims")); }));
  r.add(unary_with_attrs("transpose", "swap two axes",
                         {{"dim0", AttrType::integer, std::nullopt, "first axis"},
                          {"dim1", AttrType::integer, std::nullopt, "second axis"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) {
                           return transpose(t, x, a.get_int("dim0"), a.get_int("dim1"));
                         }));
  r.add(unary_with_attrs("slice", "elements [start, end) along axis (negative values count from the end)",
                         {{"axis", AttrType::integer, AttrValue(std::int64_t{0}), "axis to slice"},
                          {"start", AttrType::integer, AttrValue(std::int64_t{0}), "first index"},
                          {"end", AttrType::integer, std::nullopt, "one past the last index"}},
                         [](Tape& t, const Tensor& x, const Attrs& a) {
                           return slice(t, x, {a.get_int("axis"), a.get_int("start"), a.get_int("end")});
                         }));
  r.add({"concat", "join x0, x1, ... along axis", {{"x"}}, true, {"y"},
         {{"axis", AttrType::integer, AttrValue(std::int64_t{1}), "axis to join along"}},
         [](Tape& t, const OpCall& c) -> NamedTensors { return {{"y", concat(t, c.variadic, c.attrs.get_int("axis"))}}; }});
}

}  // namespace ops
