// Error mapping at the seam (see errors.h).
#include "ops/backend/errors.h"

#include <fmt/format.h>

namespace ops::backend {

core::BackendError backend_error(const std::string& op, const dnnl::error& e, const std::string& shapes) {
  return core::BackendError(
      fmt::format("{} (oneDNN): {} (status {}) for float32 {}", op, e.what(), static_cast<int>(e.status), shapes));
}

}  // namespace ops::backend
