#include "tools/yolo/machine_peak.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "ops/backend/dnnl.h"

namespace yolo {

double measure_sgemm_gflops() {
  // 2048^3 is 17 GFLOP per call: long enough that threading overhead is
  // noise, short enough to take a few seconds on two cores.
  constexpr std::int64_t n = 2048;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n, 0.0f);
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      ops::backend::sgemm(n, n, n, a.data(), b.data(), c.data());
    } catch (const core::BackendError&) {
      throw core::Error("bench: dnnl_sgemm failed");
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep > 0) best = std::max(best, 2.0 * n * n * n / s / 1e9);  // the first call warms up
  }
  return best;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace yolo
