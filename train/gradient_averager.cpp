#include "train/gradient_averager.h"

#include <algorithm>
#include <cstring>

namespace train {

using core::Tensor;

GradientAverager::GradientAverager(Communicator& comm, std::vector<models::NamedTensor> params,
                                   std::size_t bucket_bytes)
    : comm_(comm), params_(std::move(params)) {
  const std::size_t per_bucket = std::max<std::size_t>(1, bucket_bytes / sizeof(float));
  bucket_of_.resize(params_.size());
  offset_.resize(params_.size());
  for (std::size_t k = params_.size(); k-- > 0;) {
    const auto n = static_cast<std::size_t>(params_[k].second.numel());
    if (buckets_.empty() || (buckets_.back().values.size() + n > per_bucket && !buckets_.back().params.empty())) {
      buckets_.emplace_back();
    }
    Bucket& b = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    offset_[k] = b.values.size();
    b.params.push_back(k);
    b.values.resize(b.values.size() + n);
    index_[&params_[k].second.autograd_meta()] = k;
  }
  reset();
}

void GradientAverager::reset() {
  final_.assign(params_.size(), false);
  for (Bucket& b : buckets_) {
    b.waiting = b.params.size();
    b.pending.reset();
  }
}

void GradientAverager::start(Bucket& b) {
  for (const std::size_t k : b.params) {
    const Tensor g = params_[k].second.grad();
    float* dst = b.values.data() + offset_[k];
    const auto n = static_cast<std::size_t>(params_[k].second.numel());
    // A parameter this rank's batch did not reach contributes zeros.
    if (g.defined()) std::memcpy(dst, g.data<float>(), n * sizeof(float));
    else std::fill(dst, dst + n, 0.0f);
  }
  b.pending = comm_.start_sum(b.values.data(), b.values.size());
}

void GradientAverager::grad_final(const Tensor& leaf) {
  const auto it = index_.find(&leaf.autograd_meta());
  if (it != index_.end() && !final_[it->second]) {
    final_[it->second] = true;
    Bucket& b = buckets_[bucket_of_[it->second]];
    if (--b.waiting == 0) start(b);
  }
  // Nonblocking collectives advance only inside MPI calls.
  for (Bucket& b : buckets_) {
    if (b.pending) b.pending->test();
  }
}

void GradientAverager::finish() {
  for (Bucket& b : buckets_) {
    if (!b.pending) start(b);
  }
  const float scale = 1.0f / static_cast<float>(comm_.size());
  for (Bucket& b : buckets_) {
    b.pending->wait();
    for (const std::size_t k : b.params) {
      const Tensor& p = params_[k].second;
      core::AutogradMeta& meta = p.autograd_meta();
      if (!meta.grad || !meta.grad_owned) {
        meta.grad = std::make_shared<Tensor>(Tensor::empty(p.shape(), p.dtype()));
        meta.grad_owned = true;
      }
      float* g = p.grad().mutable_data<float>();
      const float* v = b.values.data() + offset_[k];
      for (std::int64_t i = 0; i < p.numel(); ++i) g[i] = v[i] * scale;
    }
  }
  reset();
}

}  // namespace train
