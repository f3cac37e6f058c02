// Averages the parameters' gradients over the ranks of a data-parallel run
// with allreduce in buckets of about `bucket_bytes`. Parameters are packed in
// reverse registration order, roughly the order backward finishes them, so
// with overlap the first buckets travel while backward computes the rest.
//
// Per update: reset(); during the last backward, grad_final(p) for each
// parameter whose gradient is complete (the tape's on_leaf_grad_final hook);
// then finish(), which sends what is left, waits, and writes the averages
// back into the gradients.
#pragma once

#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

#include "models/module.h"
#include "train/distributed.h"

namespace train {

class GradientAverager {
 public:
  GradientAverager(Communicator& comm, std::vector<models::NamedTensor> params, std::size_t bucket_bytes);

  void reset();
  // Marks `leaf`'s gradient final; starts its bucket's allreduce once every
  // parameter in it is final. Tensors that are not parameters are ignored.
  void grad_final(const core::Tensor& leaf);
  void finish();

  std::size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<std::size_t> params;  // indices into params_
    std::vector<float> values;
    std::size_t waiting = 0;          // parameters not final yet
    std::unique_ptr<PendingSum> pending;
  };
  void start(Bucket& b);

  Communicator& comm_;
  std::vector<models::NamedTensor> params_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;      // per parameter
  std::vector<std::size_t> offset_;         // per parameter, in its bucket
  std::vector<bool> final_;                 // per parameter, this update
  std::unordered_map<const void*, std::size_t> index_;  // autograd identity -> parameter
};

}  // namespace train
