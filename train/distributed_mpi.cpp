// communicator() on Open MPI: MPI_COMM_WORLD when started by mpirun, else a
// single process (MPI is then never initialised).
#include <fmt/format.h>
#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <iostream>

#include "core/error.h"
#include "train/distributed.h"

namespace train {

namespace {

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw core::Error(fmt::format("{} failed: {}", what, std::string(text, static_cast<std::size_t>(length))));
}

// MPI counts are int: large buffers go in pieces.
constexpr std::size_t kMaxCount = INT_MAX / 2;

class PendingMpiSum final : public PendingSum {
 public:
  explicit PendingMpiSum(std::vector<MPI_Request> requests) : requests_(std::move(requests)) {}
  ~PendingMpiSum() override {
    if (!done_) MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
  }
  bool test() override {
    if (done_) return true;
    int flag = 0;
    check(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &flag, MPI_STATUSES_IGNORE),
          "MPI_Testall");
    done_ = flag != 0;
    return done_;
  }
  void wait() override {
    if (done_) return;
    check(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
    done_ = true;
  }

 private:
  std::vector<MPI_Request> requests_;
  bool done_ = false;
};

class MpiWorld final : public Communicator {
 public:
  MpiWorld() {
    int provided = 0;
    // Only the training thread calls MPI; loader workers never do.
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    std::atexit([] {
      int finalized = 0;
      MPI_Finalized(&finalized);
      if (!finalized) MPI_Finalize();
    });
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local),
          "MPI_Comm_split_type");
    MPI_Comm_size(local, &on_host_);
    MPI_Comm_free(&local);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int ranks_on_host() const override { return on_host_; }

  void sum(float* data, std::size_t count) override { sum_in_place(data, count, MPI_FLOAT); }
  void sum(double* data, std::size_t count) override { sum_in_place(data, count, MPI_DOUBLE); }

  std::unique_ptr<PendingSum> start_sum(float* data, std::size_t count) override {
    std::vector<MPI_Request> requests;
    for (std::size_t at = 0; at < count; at += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, count - at));
      MPI_Request r;
      check(MPI_Iallreduce(MPI_IN_PLACE, data + at, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r), "MPI_Iallreduce");
      requests.push_back(r);
    }
    return std::make_unique<PendingMpiSum>(std::move(requests));
  }

  void broadcast(float* data, std::size_t count, int root) override {
    for (std::size_t at = 0; at < count; at += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, count - at));
      check(MPI_Bcast(data + at, n, MPI_FLOAT, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  std::vector<std::string> all_gather(const std::string& bytes) override {
    const int mine = static_cast<int>(bytes.size());
    std::vector<int> sizes(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
    long total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[r] = static_cast<int>(total);
      total += sizes[r];
    }
    if (total > INT_MAX) throw core::Error("all_gather: more than 2 GiB in total");
    std::string all(static_cast<std::size_t>(total), '\0');
    check(MPI_Allgatherv(bytes.data(), mine, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::string> out;
    for (int r = 0; r < size_; ++r) out.push_back(all.substr(offsets[r], sizes[r]));
    return out;
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  void sum_in_place(void* data, std::size_t count, MPI_Datatype type) {
    int bytes = 0;
    MPI_Type_size(type, &bytes);
    auto* p = static_cast<char*>(data);
    for (std::size_t at = 0; at < count; at += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, count - at));
      check(MPI_Allreduce(MPI_IN_PLACE, p + at * static_cast<std::size_t>(bytes), n, type, MPI_SUM, MPI_COMM_WORLD),
            "MPI_Allreduce");
    }
  }

  int rank_ = 0, size_ = 1, on_host_ = 1;
};

}  // namespace

Communicator& communicator() {
  static const std::unique_ptr<Communicator> world =
      launched_by_mpirun() ? std::unique_ptr<Communicator>(std::make_unique<MpiWorld>())
                           : make_single_process_communicator();
  return *world;
}

}  // namespace train
