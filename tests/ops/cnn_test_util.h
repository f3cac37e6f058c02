// Helpers shared by the CNN op tests: seeded inputs, the float32-vs-float64
// comparison (oneDNN path against the reference kernels) and gradcheck.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/gradcheck.h"
#include "core/tape.h"

namespace ops::cnn_test {

using core::DType;
using core::Shape;
using core::Tape;
using core::Tensor;

inline Tensor rand64(const Shape& s, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937_64 rng(seed);
  return Tensor::uniform(s, DType::f64, rng, lo, hi);
}

// max |a - b| / max |b|: the measure of agreement the CNN op tests use.
inline double rel_err(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const auto va = a.to_double_vector();
  const auto vb = b.to_double_vector();
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < va.size() && i < vb.size(); ++i) {
    diff = std::max(diff, std::abs(va[i] - vb[i]));
    scale = std::max(scale, std::abs(vb[i]));
  }
  return scale == 0.0 ? diff : diff / scale;
}

using OpFn = std::function<Tensor(Tape&, const std::vector<Tensor>&)>;

struct GradRun {
  Tensor y;
  std::vector<Tensor> grads;  // one per input; undefined where none arrived
};

// Runs f on fresh leaf copies of inputs (those in `differentiable` require
// grad) and back-propagates `cotangent` from the output.
inline GradRun run_with_grads(const OpFn& f, const std::vector<Tensor>& inputs, const std::vector<bool>& differentiable,
                              const std::function<Tensor(const Shape&)>& cotangent) {
  std::vector<Tensor> leaves;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    leaves.push_back(inputs[i].defined() ? inputs[i].clone() : Tensor());
    if (leaves.back().defined() && differentiable[i]) leaves.back().set_requires_grad();
  }
  Tape tape;
  GradRun r;
  r.y = f(tape, leaves);
  tape.backward(r.y, cotangent(r.y.shape()).to(r.y.dtype()));
  for (const auto& l : leaves) r.grads.push_back(l.defined() && l.requires_grad() ? l.grad() : Tensor());
  return r;
}

// The float32 path (oneDNN) against the float64 reference on the same
// values: forward output and every input gradient within rtol (relative to
// the largest reference magnitude). Inputs are given in float64 and rounded
// to float32 first, so both paths see identical numbers.
inline void expect_f32_matches_f64(const OpFn& f, const std::vector<Tensor>& inputs64,
                                   const std::vector<bool>& differentiable, double rtol, std::uint64_t seed = 7) {
  std::vector<Tensor> in32, in64;
  for (const auto& t : inputs64) {
    in32.push_back(t.defined() ? t.to(DType::f32) : Tensor());
    in64.push_back(t.defined() ? in32.back().to(DType::f64) : Tensor());
  }
  Tensor cot32;
  auto cot = [&](const Shape& s) {
    if (!cot32.defined()) {
      std::mt19937_64 rng(seed);
      cot32 = Tensor::randn(s, DType::f32, rng);
    }
    return cot32;
  };
  const GradRun r64 = run_with_grads(f, in64, differentiable, cot);
  const GradRun r32 = run_with_grads(f, in32, differentiable, cot);
  ASSERT_EQ(r32.y.dtype(), DType::f32);
  EXPECT_LE(rel_err(r32.y, r64.y), rtol) << "forward output";
  for (std::size_t i = 0; i < inputs64.size(); ++i) {
    if (!r64.grads[i].defined()) continue;
    ASSERT_TRUE(r32.grads[i].defined()) << "input " << i;
    EXPECT_LE(rel_err(r32.grads[i], r64.grads[i]), rtol) << "gradient of input " << i;
  }
}

inline void expect_gradcheck(const core::GradcheckFn& f, const std::vector<Tensor>& inputs, double rtol = 1e-6) {
  const auto r = core::gradcheck(f, inputs, {.rtol = rtol});
  EXPECT_TRUE(r.ok) << r.message;
}

template <class E, class Fn>
void expect_error(Fn&& fn, std::initializer_list<const char*> fragments) {
  try {
    fn();
    FAIL() << "no exception";
  } catch (const E& e) {
    for (const char* s : fragments) EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
  }
}

}  // namespace ops::cnn_test
