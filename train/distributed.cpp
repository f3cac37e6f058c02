// The parts of distributed.h that do not depend on MPI: the single-process
// communicator, launcher detection and the default thread count.
#include "train/distributed.h"

#include <sched.h>

#include <cstdlib>
#include <thread>

namespace train {

namespace {

class PendingNothing final : public PendingSum {
 public:
  bool test() override { return true; }
  void wait() override {}
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int ranks_on_host() const override { return 1; }
  void sum(float*, std::size_t) override {}
  void sum(double*, std::size_t) override {}
  std::unique_ptr<PendingSum> start_sum(float*, std::size_t) override { return std::make_unique<PendingNothing>(); }
  void broadcast(float*, std::size_t, int) override {}
  std::vector<std::string> all_gather(const std::string& bytes) override { return {bytes}; }
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
};

}  // namespace

std::unique_ptr<Communicator> make_single_process_communicator() { return std::make_unique<SingleProcess>(); }

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(v) != nullptr) return true;
  }
  return false;
}

int default_threads_per_rank(const Communicator& comm) {
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  const int allowed = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : hardware;
  // mpirun may already have bound each rank to its own cores; then those
  // are this rank's share. Otherwise every rank sees all cores: split them.
  if (allowed < hardware) return std::max(1, allowed);
  return std::max(1, allowed / std::max(1, comm.ranks_on_host()));
}

}  // namespace train
