// The threaded loader: worker threads decode and augment whole batches ahead
// of training into a bounded window; next() hands them out in order.
//
// Determinism contract (what multi-process training relies on):
// - a sample's augmentation depends only on (seed, epoch, data set index);
// - the order of an epoch's global batches depends only on (seed, epoch);
// - process `rank` of `world` takes positions [rank*b, (rank+1)*b) of each
//   global batch of world*b samples (b = batch_size);
// - a global batch's multi-scale size depends only on (seed, epoch, batch).
// So the batches are identical for any number of workers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "data/batch.h"
#include "data/dataset.h"
#include "data/pipeline.h"

namespace data {

struct LoaderConfig {
  int batch_size = 8;        // per process
  int workers = 2;           // data.workers
  int max_boxes = 50;        // B
  int prefetch = 4;          // batches decoded ahead of the consumer
  std::uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;     // drop the last incomplete global batch
  int rank = 0, world = 1;
  bool augment = true;       // false: AugmentConfig::none at multiscale.size
  AugmentConfig augment_config;
};

struct LoaderStats {
  std::int64_t images = 0;            // samples produced so far
  double worker_seconds = 0;          // summed busy time of all workers
  std::int64_t truncated_boxes = 0;
  std::vector<SkippedFile> failed;    // images that failed to decode (replaced by the next index)
  // Images per second of one worker thread while busy.
  double images_per_worker_second() const { return worker_seconds > 0 ? images / worker_seconds : 0; }
};

class Loader {
 public:
  // Throws core::ConfigError for a bad batch size, rank/world or an empty data set.
  Loader(const Dataset& dataset, LoaderConfig config);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  std::int64_t batches_per_epoch() const;
  // Starts (or restarts) producing `epoch` from global batch `first_batch`
  // (resuming mid-epoch). Stops any epoch in progress.
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  // The next batch of the current epoch in order, or nullopt at its end.
  // Rethrows a worker's exception.
  std::optional<Batch> next();
  LoaderStats stats() const;

  // The data set indices of global batch `batch` of `epoch` for this process.
  std::vector<std::size_t> batch_indices(std::int64_t epoch, std::int64_t batch) const;
  // Builds one batch synchronously (what every worker runs).
  Batch build_batch(std::int64_t epoch, std::int64_t batch) const;

 private:
  void stop_workers();
  void worker_loop();
  Sample produce_sample(std::int64_t epoch, std::size_t index, int size) const;
  // Another image than `index`, uniformly (mixup and mosaic partners).
  std::size_t draw_partner(std::size_t index, std::mt19937& rng) const;
  Sample load_or_replace(std::size_t index) const;

  const Dataset& dataset_;
  LoaderConfig config_;

  mutable std::mutex order_mutex_;       // guards the cached permutation below
  mutable std::int64_t order_epoch_ = -1;
  mutable std::vector<std::size_t> order_;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
  std::int64_t epoch_ = 0, next_job_ = 0, next_out_ = 0, end_ = 0;
  std::map<std::int64_t, Batch> ready_;
  std::exception_ptr error_;
  mutable LoaderStats stats_;
};

}  // namespace data
