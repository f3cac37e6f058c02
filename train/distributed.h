// The processes of one data-parallel training run and the collectives the
// trainer needs. Under `mpirun` (and with YOLO_MPI=ON, the default build)
// communicator() is MPI's world; otherwise it is a single process whose
// collectives do nothing, so the trainer has one code path.
//
// MPI is initialised on the first call to communicator() and only when the
// process was started by mpirun, so commands that never train never pay for
// it. Only the thread that made that first call may use the communicator.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace train {

// A sum started by Communicator::start_sum; the buffer must stay alive and
// untouched until wait() returns.
class PendingSum {
 public:
  virtual ~PendingSum() = default;
  // Lets the transfer progress; true once it is complete.
  virtual bool test() = 0;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks of this run on this machine (for the default thread count).
  virtual int ranks_on_host() const = 0;
  bool distributed() const { return size() > 1; }

  // Element-wise sums over all ranks, in place.
  virtual void sum(float* data, std::size_t count) = 0;
  virtual void sum(double* data, std::size_t count) = 0;
  virtual std::unique_ptr<PendingSum> start_sum(float* data, std::size_t count) = 0;
  // Copies root's values to every rank.
  virtual void broadcast(float* data, std::size_t count, int root) = 0;
  // Every rank's string, in rank order, on every rank.
  virtual std::vector<std::string> all_gather(const std::string& bytes) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the run with `code` (MPI_Abort); a single process exits.
  [[noreturn]] virtual void abort(int code) = 0;
};

// True when mpirun (Open MPI, or a PMI launcher) started this process.
bool launched_by_mpirun();

// This process's communicator (see the top of the file). Throws core::Error
// when launched by mpirun in a build without MPI and more than one rank.
Communicator& communicator();

// A single-process communicator, for tests and builds without MPI.
std::unique_ptr<Communicator> make_single_process_communicator();

// Compute threads per rank when train.threads is 0: the cores this process
// may run on, shared among the ranks on this machine (at least 1).
int default_threads_per_rank(const Communicator& comm);

}  // namespace train
