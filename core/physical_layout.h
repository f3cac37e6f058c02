// PhysicalLayout: the values of a storage kept somewhere other than its plain
// row-major buffer.
//
// The oneDNN seam keeps float32 activations in the blocked layout the
// convolution prefers, so consecutive ops skip a reorder to NCHW and back.
// Such a storage starts with only its physical copy; the first access to its
// bytes from outside the seam (data(), raw_data(), mutable_*) writes the
// row-major values into the plain buffer and drops the physical copy, so a
// later write cannot leave a stale copy behind. Core knows nothing about
// what the layout is; the seam implements materialize().
#pragma once

#include <memory>

#include "core/shape.h"

namespace core {

class PhysicalLayout {
 public:
  PhysicalLayout() = default;
  PhysicalLayout(const PhysicalLayout&) = delete;
  PhysicalLayout& operator=(const PhysicalLayout&) = delete;
  virtual ~PhysicalLayout() = default;

  // Writes the logical values, row-major, into `plain` (the storage's bytes).
  // Called under the storage's lock, once per storage unless it throws
  // (values released for good throw on every read: Storage::release_values).
  virtual void materialize(void* plain) const = 0;

  // this + other elementwise as a new physical copy, both holding the values
  // of tensors of `shape`; null when this layout cannot add them (the caller
  // then adds plain values). Gradients meeting at a fan-out are summed this
  // way without leaving the backend's layout.
  virtual std::shared_ptr<const PhysicalLayout> sum_with(const PhysicalLayout& /*other*/,
                                                         const Shape& /*shape*/) const {
    return nullptr;
  }
};

}  // namespace core
