#include "core/gradcheck.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "core/error.h"

namespace core {

namespace {

double dot(const Tensor& a, const Tensor& b) {
  const double* pa = a.data<double>();
  const double* pb = b.data<double>();
  double s = 0.0;
  for (std::int64_t i = 0; i < a.numel(); ++i) s += pa[i] * pb[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, GradcheckOptions options) {
  std::vector<Tensor> leaves;
  leaves.reserve(inputs.size());
  for (const auto& in : inputs) {
    Tensor leaf = in.clone();
    if (in.dtype() == DType::f64) leaf.set_requires_grad();
    else if (in.dtype() == DType::f32) {
      throw ValueError(fmt::format("gradcheck: input {} is float32; gradient checks run in float64", in.describe()));
    }
    leaves.push_back(leaf);
  }

  Tape tape;
  const Tensor y = f(tape, leaves);
  std::mt19937_64 rng(options.seed);
  const Tensor v = Tensor::randn(y.shape(), DType::f64, rng);
  tape.backward(y, v);

  GradcheckResult result;
  Tape no_record(Tape::Mode::inference);
  for (std::size_t k = 0; k < leaves.size(); ++k) {
    if (!leaves[k].requires_grad()) continue;
    Tensor analytic = leaves[k].grad();
    if (!analytic.defined()) analytic = Tensor::zeros(leaves[k].shape(), DType::f64);
    const double* ga = analytic.data<double>();
    for (std::int64_t i = 0; i < leaves[k].numel(); ++i) {
      std::vector<Tensor> probe = leaves;
      probe[k] = leaves[k].clone();
      double* p = probe[k].mutable_data<double>();
      const double x0 = p[i];
      p[i] = x0 + options.eps;
      const double fp = dot(f(no_record, probe), v);
      p[i] = x0 - options.eps;
      const double fm = dot(f(no_record, probe), v);
      const double numeric = (fp - fm) / (2 * options.eps);
      const double err = std::abs(ga[i] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (!(err <= options.atol + options.rtol * std::abs(numeric)) && result.ok) {
        result.ok = false;
        result.message = fmt::format("input {} {} element {}: analytic {:.10g} vs numeric {:.10g} (error {:.3g})", k,
                                     leaves[k].describe(), i, ga[i], numeric, err);
      }
    }
  }
  return result;
}

}  // namespace core
