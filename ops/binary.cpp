// Binary arithmetic. One templated kernel serves all four ops; broadcasting
// expands the operands first (the float32 hot path of the network uses the
// oneDNN seam instead, so this path favours clarity).
#include "ops/binary.h"

#include <fmt/format.h>

#include "core/broadcast.h"
#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

using core::DType;

namespace {

constexpr const char* kind_name(BinaryKind k) {
  switch (k) {
    case BinaryKind::add: return "add";
    case BinaryKind::sub: return "sub";
    case BinaryKind::mul: return "mul";
    case BinaryKind::div: return "div";
  }
  return "?";
}

template <class T>
void apply(BinaryKind kind, const T* a, const T* b, T* y, std::int64_t n) {
  switch (kind) {
    case BinaryKind::add: for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i]; break;
    case BinaryKind::sub: for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] - b[i]; break;
    case BinaryKind::mul: for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i]; break;
    case BinaryKind::div: for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] / b[i]; break;
  }
}

Tensor record_binary(Tape& tape, BinaryKind kind, const Tensor& a, const Tensor& b) {
  Tensor y = binary_forward(kind, a, b);
  const bool save_operands = kind == BinaryKind::mul || kind == BinaryKind::div;
  std::vector<Tensor> saved;
  if (save_operands) saved = {a, b};
  tape.record(kind_name(kind), {a, b}, {y}, std::move(saved),
              [kind, sa = a.shape(), sb = b.shape()](const core::BackwardContext& ctx) -> std::vector<Tensor> {
                const Tensor& g = ctx.grad_outputs[0];
                Tensor da, db;
                switch (kind) {
                  case BinaryKind::add:
                    if (ctx.needs_grad[0]) da = core::sum_to_shape(g, sa);
                    if (ctx.needs_grad[1]) db = core::sum_to_shape(g, sb);
                    break;
                  case BinaryKind::sub:
                    if (ctx.needs_grad[0]) da = core::sum_to_shape(g, sa);
                    if (ctx.needs_grad[1]) {
                      db = binary_forward(BinaryKind::mul, core::sum_to_shape(g, sb),
                                          Tensor::scalar(-1.0, g.dtype()));
                    }
                    break;
                  case BinaryKind::mul:
                    if (ctx.needs_grad[0]) da = core::sum_to_shape(binary_forward(BinaryKind::mul, g, ctx.saved[1]), sa);
                    if (ctx.needs_grad[1]) db = core::sum_to_shape(binary_forward(BinaryKind::mul, g, ctx.saved[0]), sb);
                    break;
                  case BinaryKind::div: {
                    const Tensor g_over_b = binary_forward(BinaryKind::div, g, ctx.saved[1]);
                    if (ctx.needs_grad[0]) da = core::sum_to_shape(g_over_b, sa);
                    if (ctx.needs_grad[1]) {
                      // d(a/b)/db = -a/b^2 = -(g/b) * (a/b)
                      const Tensor a_over_b = binary_forward(BinaryKind::div, ctx.saved[0], ctx.saved[1]);
                      Tensor t = binary_forward(BinaryKind::mul, g_over_b, a_over_b);
                      db = binary_forward(BinaryKind::mul, core::sum_to_shape(t, sb), Tensor::scalar(-1.0, g.dtype()));
                    }
                    break;
                  }
                }
                return {da, db};
              });
  return y;
}

}  // namespace

Tensor binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b) {
  const char* op = kind_name(kind);
  core::check_floating(op, "a", a);
  core::check_floating(op, "b", b);
  core::check_same_dtype(op, a, b);
  const core::Shape shape = core::broadcast_shapes(op, a.shape(), b.shape());
  // The network's shortcut: float32 NCHW tensors of one shape, through oneDNN.
  if (kind == BinaryKind::add && a.dtype() == DType::f32 && a.dim() == 4 && a.shape() == b.shape()) {
    return backend::add_forward(a, b);
  }
  const Tensor ea = core::broadcast_to(a, shape);
  const Tensor eb = core::broadcast_to(b, shape);
  Tensor y = Tensor::empty(shape, a.dtype());
  core::dispatch_floating(a.dtype(), [&]<class T>() {
    apply<T>(kind, ea.data<T>(), eb.data<T>(), y.mutable_data<T>(), y.numel());
  });
  return y;
}

Tensor add(Tape& tape, const Tensor& a, const Tensor& b) { return record_binary(tape, BinaryKind::add, a, b); }
Tensor sub(Tape& tape, const Tensor& a, const Tensor& b) { return record_binary(tape, BinaryKind::sub, a, b); }
Tensor mul(Tape& tape, const Tensor& a, const Tensor& b) { return record_binary(tape, BinaryKind::mul, a, b); }
Tensor div(Tape& tape, const Tensor& a, const Tensor& b) { return record_binary(tape, BinaryKind::div, a, b); }

Tensor mul_scalar(Tape& tape, const Tensor& x, double s) {
  core::check_floating("mul_scalar", "x", x);
  return mul(tape, x, Tensor::scalar(s, x.dtype()));
}

Tensor add_scalar(Tape& tape, const Tensor& x, double s) {
  core::check_floating("add_scalar", "x", x);
  return add(tape, x, Tensor::scalar(s, x.dtype()));
}

void register_binary(OpRegistry& r) {
  r.add(binary_spec("add", "a + b with NumPy broadcasting", add));
  r.add(binary_spec("sub", "a - b with NumPy broadcasting", sub));
  r.add(binary_spec("mul", "a * b with NumPy broadcasting", mul));
  r.add(binary_spec("div", "a / b with NumPy broadcasting", div));
}

}  // namespace ops
