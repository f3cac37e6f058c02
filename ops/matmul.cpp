// Matrix products through Eigen's row-major maps over tensor storage. The
// backward passes are matmuls with a transposed operand:
//   da = g b^T,  db = a^T g  (summed over the batch when b is shared).
#include "ops/matmul.h"

#include <Eigen/Core>
#include <fmt/format.h>

#include "core/error.h"
#include "ops/registrations.h"

namespace ops {

namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Dims {
  std::int64_t batch, m, k, n;
  bool shared_b;  // b is [K,N] while a is batched
};

Dims check_dims(const Tensor& a, const Tensor& b) {
  core::check_floating("matmul", "a", a);
  core::check_floating("matmul", "b", b);
  core::check_same_dtype("matmul", a, b);
  const bool batched = a.dim() == 3;
  const bool ok_rank = (a.dim() == 2 && b.dim() == 2) || (a.dim() == 3 && (b.dim() == 3 || b.dim() == 2));
  if (!ok_rank) {
    throw core::ShapeError(fmt::format("matmul: expected a [M,K] x b [K,N] or a [B,M,K] x b [B,K,N], got a {} b {}",
                                       a.describe(), b.describe()));
  }
  Dims d{batched ? a.size(0) : 1, a.size(-2), a.size(-1), b.size(-1), batched && b.dim() == 2};
  if (b.size(-2) != d.k) {
    throw core::ShapeError(fmt::format("matmul: inner dimensions differ: a {} has K={}, b {} has K={}", a.describe(),
                                       d.k, b.describe(), b.size(-2)));
  }
  if (b.dim() == 3 && b.size(0) != d.batch) {
    throw core::ShapeError(fmt::format("matmul: batch sizes differ: a {} vs b {}", a.describe(), b.describe()));
  }
  return d;
}

}  // namespace

Tensor matmul_forward(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  // Logical operand shapes after the optional transposes.
  const std::int64_t batch = a.dim() == 3 ? a.size(0) : 1;
  const std::int64_t m = trans_a ? a.size(-1) : a.size(-2);
  const std::int64_t k = trans_a ? a.size(-2) : a.size(-1);
  const std::int64_t n = trans_b ? b.size(-2) : b.size(-1);
  const bool b_batched = b.dim() == 3;
  core::Shape ys = a.dim() == 3 ? core::Shape{batch, m, n} : core::Shape{m, n};
  Tensor y = Tensor::empty(ys, a.dtype());
  core::dispatch_floating(a.dtype(), [&]<class T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* py = y.mutable_data<T>();
    for (std::int64_t i = 0; i < batch; ++i) {
      Eigen::Map<const RowMat<T>> ma(pa + i * m * k, trans_a ? k : m, trans_a ? m : k);
      Eigen::Map<const RowMat<T>> mb(pb + (b_batched ? i * k * n : 0), trans_b ? n : k, trans_b ? k : n);
      Eigen::Map<RowMat<T>> my(py + i * m * n, m, n);
      if (trans_a && trans_b) my.noalias() = ma.transpose() * mb.transpose();
      else if (trans_a) my.noalias() = ma.transpose() * mb;
      else if (trans_b) my.noalias() = ma * mb.transpose();
      else my.noalias() = ma * mb;
    }
  });
  return y;
}

Tensor matmul(Tape& tape, const Tensor& a, const Tensor& b) {
  const Dims d = check_dims(a, b);
  Tensor y = matmul_forward(a, b);
  tape.record("matmul", {a, b}, {y}, {a, b}, [d](const core::BackwardContext& ctx) {
    const Tensor& g = ctx.grad_outputs[0];
    const Tensor& a = ctx.saved[0];
    const Tensor& b = ctx.saved[1];
    Tensor da, db;
    if (ctx.needs_grad[0]) da = matmul_forward(g, b, false, true);
    if (ctx.needs_grad[1]) {
      if (d.shared_b) {
        // Fold the batch into M: [B*M,K]^T x [B*M,N] sums over images at once.
        db = matmul_forward(a.view({d.batch * d.m, d.k}), g.view({d.batch * d.m, d.n}), true, false);
      } else {
        db = matmul_forward(a, g, true, false);
      }
    }
    return std::vector<Tensor>{da, db};
  });
  return y;
}

void register_matmul(OpRegistry& r) {
  r.add(binary_spec("matmul", "a [M,K] x b [K,N], or batched a [B,M,K] x b [B,K,N] or [K,N]", matmul));
}

}  // namespace ops
