// Error mapping at the seam: a dnnl::error becomes core::BackendError naming
// the op, the tensor shapes and oneDNN's status. Internal to the seam
// (includes dnnl.hpp).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace ops::backend {

// "<op> (oneDNN): <what> (status <n>) for float32 <shapes>".
core::BackendError backend_error(const std::string& op, const dnnl::error& e, const std::string& shapes);

// The shapes of the defined tensors, comma-separated.
inline std::string shapes_of() { return {}; }
template <class... Rest>
std::string shapes_of(const core::Tensor& t, const Rest&... rest) {
  std::string tail = shapes_of(rest...);
  return t.defined() ? core::shape_str(t.shape()) + (tail.empty() ? "" : ", " + tail) : tail;
}

// Runs f, turning a dnnl::error into core::BackendError naming the op, the
// tensor shapes and oneDNN's status.
template <class F, class... Ts>
auto guarded(const char* op, F&& f, const Ts&... tensors) {
  try {
    return f();
  } catch (const dnnl::error& e) {
    throw backend_error(op, e, shapes_of(tensors...));
  }
}

}  // namespace ops::backend
