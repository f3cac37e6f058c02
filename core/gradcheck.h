// Finite-difference gradient checking in float64.
//
// The function's output is projected on a random cotangent v, so each check
// tests a full vector-Jacobian product: the analytic gradient of <v, f(x)>
// from the tape is compared with central differences of the same scalar.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tape.h"

namespace core {

struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double rtol = 1e-6;  // relative tolerance on each gradient element
  double atol = 1e-8;  // absolute floor for elements near zero
  std::uint64_t seed = 0;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string message;  // the first failing element, or empty
};

using GradcheckFn = std::function<Tensor(Tape&, const std::vector<Tensor>&)>;

// Checks the gradients of f with respect to every float64 input in `inputs`
// (other inputs are passed through as constants). Throws ValueError when a
// differentiable input is not float64.
GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace core
