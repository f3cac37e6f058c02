// Temporary memory of the seam (see scratchpad.h).
#include "ops/backend/scratchpad.h"

#include <fmt/format.h>

#include <new>

#include "core/buffer_cache.h"
#include "core/error.h"

namespace ops::backend {

ScratchPool::Buffer ScratchPool::acquire(std::size_t bytes) {
  try {
    Buffer b{};
    b.data = core::buffer_cache().acquire(bytes, &b.capacity);
    return b;
  } catch (const std::bad_alloc&) {
    throw core::BackendError(fmt::format("oneDNN seam: out of memory for a {}-byte buffer", bytes));
  }
}

void ScratchPool::release(const Buffer& b) { core::buffer_cache().release(b.data, b.capacity); }

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

std::pair<void*, std::unique_lock<std::mutex>> Scratchpad::borrow(std::size_t bytes) {
  std::unique_lock lock(mutex_);
  if (bytes > buffer_.capacity) {
    ScratchPool::release(buffer_);
    buffer_ = {nullptr, 0};
    buffer_ = ScratchPool::acquire(bytes);
  }
  return {buffer_.data, std::move(lock)};
}

}  // namespace ops::backend
