// Gradient allreduce cost under mpirun: the sum of N floats over all ranks
// (default 61.9 M, YOLOv3-416's 80-class gradient) as one MPI_Allreduce and
// as the trainer's buckets (GradientAverager sizes, all started at once).
// Prints per-call time and bandwidth on rank 0.
//   mpirun -np 2 build/bench/allreduce_bench [FLOATS] [BUCKET_MB] [REPEATS]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

#include "train/distributed.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t floats = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 61'949'149;
  const double bucket_mb = argc > 2 ? std::atof(argv[2]) : 25.0;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  train::Communicator& comm = train::communicator();
  std::vector<float> values(floats, 1.0f);
  const double bytes = static_cast<double>(floats) * sizeof(float);
  // Ring allreduce moves 2 (K-1)/K of the buffer through each rank's link.
  const double bus_factor = 2.0 * (comm.size() - 1) / comm.size();
  auto report = [&](const char* what, std::vector<double> times) {
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    if (comm.rank() == 0) {
      fmt::print("{}: {} ranks, {:.1f} M floats ({:.0f} MB): median {:.3f} s (best {:.3f} s), {:.2f} GB/s of buffer, "
                 "{:.2f} GB/s per rank link (bus)\n",
                 what, comm.size(), static_cast<double>(floats) / 1e6, bytes / 1e6, median, times.front(),
                 bytes / median / 1e9, bus_factor * bytes / median / 1e9);
    }
  };

  comm.sum(values.data(), values.size());  // warm-up: connections, registration
  std::vector<double> whole;
  for (int r = 0; r < repeats; ++r) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    comm.sum(values.data(), values.size());
    whole.push_back(seconds_since(t0));
  }
  report("one allreduce", whole);

  const std::size_t per_bucket = std::max<std::size_t>(1, static_cast<std::size_t>(bucket_mb * 1024 * 1024 / 4));
  std::vector<double> bucketed;
  for (int r = 0; r < repeats; ++r) {
    comm.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<train::PendingSum>> pending;
    for (std::size_t at = 0; at < floats; at += per_bucket) {
      pending.push_back(comm.start_sum(values.data() + at, std::min(per_bucket, floats - at)));
    }
    for (auto& p : pending) p->wait();
    bucketed.push_back(seconds_since(t0));
  }
  report(fmt::format("{:.0f} MB buckets", bucket_mb).c_str(), bucketed);
  return 0;
}
