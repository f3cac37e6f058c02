// Tensor: a cheap handle to shared, contiguous, row-major storage.
//
// Copying a Tensor shares its storage and its autograd identity; clone()
// makes a deep copy. Views are only reshapes of a contiguous buffer (no
// strides). Each storage carries a version counter that every write through
// mutable_data() bumps, so the tape can detect tensors changed after it saved
// them. A storage may instead start out holding its values in a backend's
// physical layout (core/physical_layout.h); the plain buffer is filled on the
// first access to its bytes, so every reader here sees row-major values. This
// file knows nothing about ops or backends.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/physical_layout.h"
#include "core/shape.h"

namespace core {

// One 64-byte aligned allocation plus its version counter, and possibly a
// physical copy of the values that the plain buffer has not received yet.
class Storage {
 public:
  explicit Storage(std::size_t bytes);
  // Values held only in `physical`; the plain buffer is allocated and filled
  // on the first data() call, which then drops the physical copy.
  Storage(std::size_t bytes, std::shared_ptr<const PhysicalLayout> physical);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // The plain row-major bytes, materialized first when needed.
  void* data() const {
    if (pending_.load(std::memory_order_acquire)) materialize();
    return data_;
  }
  std::size_t bytes() const { return bytes_; }
  std::uint64_t version() const { return version_; }
  void bump_version() { ++version_; }
  // The physical copy while the plain buffer is not yet filled, else null.
  // Does not materialize: this is how the backend that made the copy reads it.
  std::shared_ptr<const PhysicalLayout> physical() const;
  // Frees the values for good, giving their memory back to the system; any
  // later read of the bytes throws core::Error(reason). For values that
  // will not be read again (weights kept only in another, folded form), so
  // that a mistaken read fails loudly instead of returning garbage.
  void release_values(std::string reason);

 private:
  void materialize() const;

  // Filled lazily for a storage created from a physical layout; guarded by
  // mutex_ until pending_ turns false.
  mutable void* data_ = nullptr;
  mutable std::size_t capacity_ = 0;  // of data_, as core::buffer_cache() gave it
  std::size_t bytes_ = 0;
  std::uint64_t version_ = 0;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const PhysicalLayout> physical_;
  mutable std::atomic<bool> pending_{false};
  bool released_ = false;  // by release_values; guarded by mutex_
};

class Tensor;

// Autograd state shared by all handles of one tensor value.
struct AutogradMeta {
  bool requires_grad = false;
  bool is_leaf = true;
  bool grad_owned = false;  // true when grad_ is a private buffer safe to add into
  std::shared_ptr<Tensor> grad;
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor

  // Uninitialised storage of the given shape and dtype.
  static Tensor empty(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  static Tensor ones(const Shape& shape, DType dtype);
  static Tensor full(const Shape& shape, double value, DType dtype);
  static Tensor scalar(double value, DType dtype) { return full({}, value, dtype); }
  // Copies values (converted to dtype) into a new tensor; sizes must agree.
  static Tensor from_vector(const Shape& shape, const std::vector<double>& values, DType dtype);
  static Tensor from_ints(const Shape& shape, const std::vector<std::int32_t>& values);
  // Independent draws from the given generator, so runs are reproducible.
  static Tensor randn(const Shape& shape, DType dtype, std::mt19937_64& rng, double mean = 0.0,
                      double stddev = 1.0);
  static Tensor uniform(const Shape& shape, DType dtype, std::mt19937_64& rng, double low = 0.0,
                        double high = 1.0);
  // A tensor whose values live in a backend's physical layout until its
  // bytes are first accessed (see core/physical_layout.h).
  static Tensor from_physical(const Shape& shape, DType dtype, std::shared_ptr<const PhysicalLayout> physical);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int dim() const { return static_cast<int>(shape_.size()); }
  // Size of one dimension; negative indices count from the end.
  std::int64_t size(int axis) const;
  std::int64_t numel() const { return shape_numel(shape_); }
  DType dtype() const { return dtype_; }
  std::string describe() const;  // "float32[2,3]"

  // Typed read access; throws ValueError when T does not match dtype().
  template <class T> const T* data() const;
  // Typed write access; bumps the storage version (see the tape's checks).
  template <class T> T* mutable_data() const;
  const void* raw_data() const;
  // Untyped write access (byte copies); bumps the version like mutable_data.
  void* mutable_raw_data() const;

  // Values converted to double, in row-major order (tests, printing).
  std::vector<double> to_double_vector() const;
  std::vector<std::int32_t> to_int_vector() const;
  // The single value of a one-element tensor.
  double item() const;

  Tensor clone() const;                  // deep copy, fresh autograd identity
  Tensor to(DType dtype) const;          // converted copy (clone when equal)
  Tensor view(const Shape& shape) const; // same storage, new shape, same numel
  void fill_(double value) const;        // in-place; bumps the version
  void copy_(const Tensor& src) const;   // in-place, same shape and dtype

  // A handle with this tensor's shape, dtype and autograd state but none of
  // its values (one shared empty storage: never read its data). The tape
  // keeps these for the inputs and outputs of recorded ops, so an
  // activation's memory lives only as long as a backward closure saved it
  // or a caller holds it.
  Tensor autograd_handle() const;

  bool shares_storage(const Tensor& other) const { return storage_ == other.storage_; }
  // Storage::release_values for this tensor's storage (every handle sharing
  // it sees the values gone).
  void release_values(std::string reason) const;
  std::uint64_t version() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  // The storage's physical copy, or null once the plain bytes are current
  // (for the backend that created it; everyone else reads data()).
  std::shared_ptr<const PhysicalLayout> physical_layout() const {
    return storage_ ? storage_->physical() : nullptr;
  }

  // Autograd. A tensor that requires grad and was not produced by a recorded
  // op is a leaf; backward accumulates into its grad.
  bool requires_grad() const { return meta_ && meta_->requires_grad; }
  bool is_leaf() const { return !meta_ || meta_->is_leaf; }
  // Marks a leaf as needing a gradient; throws on non-leaf tensors.
  Tensor& set_requires_grad(bool value = true);
  // Undefined until a backward pass reached this tensor.
  Tensor grad() const;
  // Zeroes an existing grad buffer in place (keeps the allocation).
  void zero_grad() const;
  // Drops the grad buffer.
  void reset_grad() const;
  AutogradMeta& autograd_meta() const;

 private:
  Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype);
  void check_dtype(DType want) const;

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::f32;
  std::shared_ptr<AutogradMeta> meta_;
};

template <class T>
const T* Tensor::data() const {
  check_dtype(dtype_of<T>);
  return static_cast<const T*>(storage_->data());
}

template <class T>
T* Tensor::mutable_data() const {
  check_dtype(dtype_of<T>);
  void* plain = storage_->data();  // first: a read that throws changes nothing
  storage_->bump_version();
  return static_cast<T*>(plain);
}

// Throws ShapeError naming op unless a and b have equal shapes.
void check_same_shape(std::string_view op, const Tensor& a, const Tensor& b);
// Throws ValueError naming op unless a and b have the same dtype.
void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b);
// Throws ValueError naming op unless t is float32 or float64.
void check_floating(std::string_view op, std::string_view what, const Tensor& t);

}  // namespace core
