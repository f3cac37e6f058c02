// Unary ops share one recording helper: each op is a forward formula y(x) and
// a local derivative dy/dx written in terms of x and/or y, whichever backward
// needs (saving only that one).
#include "ops/unary.h"

#include <cmath>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

namespace {

enum class Saves { x, y };

// Fwd: T(T x); Deriv: T(T x_or_y). The derivative gets whichever tensor
// `saves` names; backward is dx = g * deriv.
template <class Fwd, class Deriv>
Tensor unary(Tape& tape, const char* op, const Tensor& x, Saves saves, Fwd fwd, Deriv deriv) {
  core::check_floating(op, "x", x);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  core::dispatch_floating(x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    for (std::int64_t i = 0, n = x.numel(); i < n; ++i) py[i] = fwd(px[i]);
  });
  tape.record(op, {x}, {y}, {saves == Saves::x ? x : y}, [deriv](const core::BackwardContext& ctx) {
    const Tensor& g = ctx.grad_outputs[0];
    const Tensor& s = ctx.saved[0];
    Tensor dx = Tensor::empty(g.shape(), g.dtype());
    core::dispatch_floating(g.dtype(), [&]<class T>() {
      const T* pg = g.data<T>();
      const T* ps = s.data<T>();
      T* pd = dx.mutable_data<T>();
      for (std::int64_t i = 0, n = g.numel(); i < n; ++i) pd[i] = pg[i] * deriv(ps[i]);
    });
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace

Tensor neg(Tape& tape, const Tensor& x) {
  return unary(tape, "neg", x, Saves::x, [](auto v) { return -v; }, [](auto v) { return decltype(v)(-1); });
}

Tensor exp(Tape& tape, const Tensor& x) {
  return unary(tape, "exp", x, Saves::y, [](auto v) { return std::exp(v); }, [](auto y) { return y; });
}

Tensor log(Tape& tape, const Tensor& x) {
  return unary(tape, "log", x, Saves::x, [](auto v) { return std::log(v); }, [](auto v) { return 1 / v; });
}

Tensor sqrt(Tape& tape, const Tensor& x) {
  return unary(tape, "sqrt", x, Saves::y, [](auto v) { return std::sqrt(v); }, [](auto y) { return 1 / (2 * y); });
}

Tensor pow(Tape& tape, const Tensor& x, double exponent) {
  return unary(
      tape, "pow", x, Saves::x,
      [exponent](auto v) { return static_cast<decltype(v)>(std::pow(v, exponent)); },
      [exponent](auto v) { return static_cast<decltype(v)>(exponent * std::pow(v, exponent - 1)); });
}

Tensor sigmoid(Tape& tape, const Tensor& x) {
  // 1/(1+e^-x) overflows harmlessly to 0 for very negative x; no NaN.
  return unary(
      tape, "sigmoid", x, Saves::y, [](auto v) { return 1 / (1 + std::exp(-v)); },
      [](auto y) { return y * (1 - y); });
}

Tensor relu(Tape& tape, const Tensor& x) {
  return unary(
      tape, "relu", x, Saves::x, [](auto v) { return v > 0 ? v : decltype(v)(0); },
      [](auto v) { return v > 0 ? decltype(v)(1) : decltype(v)(0); });
}

Tensor leaky_relu(Tape& tape, const Tensor& x, const LeakyReluParams& p) {
  const double slope = p.slope;
  if (x.dtype() == core::DType::f32 && x.dim() == 4) {
    // float32 NCHW activations are the network's hot path: a oneDNN eltwise
    // primitive, with the same convention at 0 (slope).
    Tensor y = backend::leaky_relu_forward(x, slope);
    // With a non-negative slope y has x's sign, so backward reads y: the
    // next convolution saves y anyway, and x (a batch-norm output) can go.
    const bool from_output = slope >= 0;
    tape.record("leaky_relu", {x}, {y}, {from_output ? y : x}, [slope, from_output](const core::BackwardContext& ctx) {
      return std::vector<Tensor>{from_output
                                     ? backend::leaky_relu_backward_from_output(ctx.saved[0], ctx.grad_outputs[0], slope)
                                     : backend::leaky_relu_backward(ctx.saved[0], ctx.grad_outputs[0], slope)};
    });
    return y;
  }
  return unary(
      tape, "leaky_relu", x, Saves::x,
      [slope](auto v) { return v > 0 ? v : static_cast<decltype(v)>(slope) * v; },
      [slope](auto v) { return v > 0 ? decltype(v)(1) : static_cast<decltype(v)>(slope); });
}

void register_unary(OpRegistry& r) {
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
}

}  // namespace ops
