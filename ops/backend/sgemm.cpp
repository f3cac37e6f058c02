// sgemm: the machine's practical float32 peak, for the benchmarks and
// `yolo bench` (tools/yolo/machine_peak.cpp), which reach oneDNN only here.
#include <fmt/format.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"
#include "ops/backend/dnnl.h"

namespace ops::backend {

void sgemm(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b, float* c) {
  const dnnl::status st = dnnl::sgemm('N', 'N', m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
  if (st != dnnl::status::success) {
    throw core::BackendError(fmt::format("sgemm (oneDNN): status {} for [{},{}] x [{},{}]", static_cast<int>(st), m, k,
                                         k, n));
  }
}

}  // namespace ops::backend
