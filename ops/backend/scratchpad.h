// Temporary memory of the seam: pooled buffers for reorders and blocked
// activations, and the one scratchpad every primitive run borrows.
// Internal to the seam (includes dnnl.hpp).
#pragma once

#include <cstddef>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <utility>

namespace ops::backend {

// Reorder buffers and activations kept in a blocked layout (BlockedValues)
// come from core::buffer_cache(), like tensor storage: a training step asks
// for the same sizes as the step before and gets the same pages back, with
// no page faults. A BlockedValues returns its buffer from whichever thread
// drops the last tensor handle.
class ScratchPool {
 public:
  struct Buffer {
    void* data;
    std::size_t capacity;
  };

  // Throws core::BackendError when the memory cannot be had.
  static Buffer acquire(std::size_t bytes);
  static void release(const Buffer& b);
};

// Every primitive is created with a user-managed scratchpad: Exec::run hands
// it the context's one scratchpad buffer (Scratchpad below). oneDNN's own
// scratchpad is a fresh allocation per run in this build, whose pages
// (hundreds of MiB per YOLOv3 step) were faulted in and zeroed every step.
dnnl::primitive_attr user_scratchpad();

// The scratchpad every primitive run uses, grown to the largest request and
// held under the returned lock until the run ends. One buffer rather than
// one per size: Winograd's tile buffers reach hundreds of MiB in the first
// layers, and idle copies of each size would sit in the buffer cache (and in
// the peak RSS) while the activations peak.
class Scratchpad {
 public:
  std::pair<void*, std::unique_lock<std::mutex>> borrow(std::size_t bytes);

 private:
  std::mutex mutex_;
  ScratchPool::Buffer buffer_{nullptr, 0};
};

}  // namespace ops::backend
