#include "data/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/error.h"
#include "data/rng.h"

namespace data {

Loader::Loader(const Dataset& dataset, LoaderConfig config) : dataset_(dataset), config_(std::move(config)) {
  if (config_.batch_size <= 0) throw core::ConfigError(fmt::format("loader: batch size {} must be positive", config_.batch_size));
  if (config_.world <= 0 || config_.rank < 0 || config_.rank >= config_.world) {
    throw core::ConfigError(fmt::format("loader: rank {} is not in [0, world {})", config_.rank, config_.world));
  }
  if (config_.workers < 0 || config_.max_boxes <= 0 || config_.prefetch <= 0) {
    throw core::ConfigError(fmt::format("loader: workers {} / max boxes {} / prefetch {} out of range", config_.workers,
                                        config_.max_boxes, config_.prefetch));
  }
  if (dataset_.images.empty()) throw core::ConfigError(fmt::format("loader: data set '{}' has no images", dataset_.spec));
  if (!config_.augment) {
    // Evaluation-style batches: no random step, but the same resize mode,
    // normalisation and target rules as training.
    const AugmentConfig& a = config_.augment_config;
    AugmentConfig plain = AugmentConfig::none(a.multiscale.size);
    plain.resize.letterbox = a.resize.letterbox;
    std::copy(std::begin(a.resize.fill), std::end(a.resize.fill), std::begin(plain.resize.fill));
    plain.normalize = a.normalize;
    plain.min_box_size = a.min_box_size;
    plain.keep_difficult = a.keep_difficult;
    config_.augment_config = plain;
  }
}

Loader::~Loader() { stop_workers(); }

std::int64_t Loader::batches_per_epoch() const {
  const auto n = static_cast<std::int64_t>(dataset_.images.size());
  const std::int64_t global = static_cast<std::int64_t>(config_.batch_size) * config_.world;
  return config_.drop_last ? n / global : (n + global - 1) / global;
}

std::vector<std::size_t> Loader::batch_indices(std::int64_t epoch, std::int64_t batch) const {
  const std::size_t n = dataset_.images.size();
  // The permutation is a pure function of (seed, epoch); it is cached so a
  // 118k-image epoch is shuffled once, not once per batch.
  std::lock_guard lock(order_mutex_);
  if (order_epoch_ != epoch || order_.size() != n) {
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    if (config_.shuffle) {
      // Fisher-Yates with our own index draw, so the order is the same with
      // every standard library.
      std::mt19937 rng = make_rng(config_.seed, epoch, 0, RngPurpose::order);
      for (std::size_t i = n; i > 1; --i) std::swap(order_[i - 1], order_[uniform_index(rng, static_cast<std::uint32_t>(i))]);
    }
    order_epoch_ = epoch;
  }
  const std::size_t global = static_cast<std::size_t>(config_.batch_size) * config_.world;
  const std::size_t begin = static_cast<std::size_t>(batch) * global + static_cast<std::size_t>(config_.rank) * config_.batch_size;
  std::vector<std::size_t> out;
  for (std::size_t p = begin; p < std::min(n, begin + config_.batch_size); ++p) out.push_back(order_[p]);
  return out;
}

Sample Loader::load_or_replace(std::size_t index) const {
  // A file that fails to decode is reported and replaced by the next one,
  // deterministically, so a single bad JPEG cannot stop a long run.
  const std::size_t n = dataset_.images.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (index + k) % n;
    try {
      return load_sample(dataset_, i, config_.augment_config.keep_difficult);
    } catch (const core::Error& e) {
      std::lock_guard lock(mutex_);
      stats_.failed.push_back({dataset_.images[i].path, e.what()});
    }
  }
  throw core::IoError(fmt::format("loader: no image of data set '{}' could be decoded", dataset_.spec));
}

std::size_t Loader::draw_partner(std::size_t index, std::mt19937& rng) const {
  std::size_t j = uniform_index(rng, static_cast<std::uint32_t>(dataset_.images.size() - 1));
  return j >= index ? j + 1 : j;
}

Sample Loader::produce_sample(std::int64_t epoch, std::size_t index, int size) const {
  std::mt19937 rng = make_rng(config_.seed, epoch, static_cast<std::int64_t>(index), RngPurpose::sample);
  const AugmentConfig& aug = config_.augment_config;
  Sample sample = load_or_replace(index);
  // Partners are drawn from the sample's own stream: part of its
  // augmentation. With Mosaic off the stream is the same as before it existed.
  std::array<std::optional<Sample>, 3> mosaic;
  const bool several = dataset_.images.size() > 1;
  if (aug.mosaic.prob > 0 && several && coin(rng, aug.mosaic.prob)) {
    for (auto& m : mosaic) m = load_or_replace(draw_partner(index, rng));
  }
  std::optional<Sample> mixup;
  if (aug.mixup.enabled && several) mixup = load_or_replace(draw_partner(index, rng));
  Partners partners;
  if (mosaic[0]) partners.mosaic = {&*mosaic[0], &*mosaic[1], &*mosaic[2]};
  if (mixup) partners.mixup = &*mixup;
  return augment_sample(std::move(sample), partners, size, aug, rng);
}

Batch Loader::build_batch(std::int64_t epoch, std::int64_t batch) const {
  const auto indices = batch_indices(epoch, batch);
  std::mt19937 size_rng = make_rng(config_.seed, epoch, batch, RngPurpose::batch_size);
  const int size = pick_batch_size(config_.augment_config.multiscale, size_rng);
  std::vector<Sample> samples;
  samples.reserve(indices.size());
  for (const std::size_t index : indices) samples.push_back(produce_sample(epoch, index, size));
  Batch b = collate(samples, size, config_.max_boxes, config_.augment_config.normalize);
  b.indices = indices;
  b.epoch = epoch;
  b.index = batch;
  return b;
}

void Loader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Loader::start_epoch(std::int64_t epoch, std::int64_t first_batch) {
  stop_workers();
  std::lock_guard lock(mutex_);
  stop_ = false;
  epoch_ = epoch;
  next_job_ = next_out_ = first_batch;
  end_ = batches_per_epoch();
  ready_.clear();
  error_ = nullptr;
  for (int i = 0; i < config_.workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

void Loader::worker_loop() {
  while (true) {
    std::int64_t job = 0, epoch = 0;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return stop_ || next_job_ >= end_ || next_job_ < next_out_ + config_.prefetch; });
      if (stop_ || next_job_ >= end_) return;
      job = next_job_++;
      epoch = epoch_;
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<Batch> batch;
    std::exception_ptr error;
    try {
      batch = build_batch(epoch, job);
    } catch (...) {
      error = std::current_exception();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
      std::lock_guard lock(mutex_);
      stats_.worker_seconds += seconds;
      if (batch) {
        stats_.images += batch->images.size(0);
        stats_.truncated_boxes += batch->truncated_boxes;
        ready_.emplace(job, std::move(*batch));
      } else if (!error_) {
        error_ = error;
      }
    }
    ready_cv_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  std::unique_lock lock(mutex_);
  if (next_out_ >= end_) return std::nullopt;
  if (threads_.empty()) {
    // workers == 0: build in the caller's thread.
    const std::int64_t job = next_out_++;
    const std::int64_t epoch = epoch_;
    lock.unlock();
    const auto t0 = std::chrono::steady_clock::now();
    Batch b = build_batch(epoch, job);
    lock.lock();
    stats_.worker_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stats_.images += b.images.size(0);
    stats_.truncated_boxes += b.truncated_boxes;
    return b;
  }
  ready_cv_.wait(lock, [&] { return error_ || ready_.count(next_out_) > 0; });
  if (error_) std::rethrow_exception(error_);
  auto it = ready_.find(next_out_);
  Batch b = std::move(it->second);
  ready_.erase(it);
  ++next_out_;
  lock.unlock();
  work_cv_.notify_all();
  return b;
}

LoaderStats Loader::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace data
