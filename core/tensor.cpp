#include "core/tensor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/buffer_cache.h"
#include "core/error.h"

namespace core {

namespace {
template <class T>
void fill_typed(void* p, std::int64_t n, double v) {
  std::fill_n(static_cast<T*>(p), n, static_cast<T>(v));
}

void fill_raw(void* p, std::int64_t n, DType dtype, double v) {
  switch (dtype) {
    case DType::f32: fill_typed<float>(p, n, v); break;
    case DType::f64: fill_typed<double>(p, n, v); break;
    case DType::i32: fill_typed<std::int32_t>(p, n, v); break;
  }
}

double read_raw(const void* p, std::int64_t i, DType dtype) {
  switch (dtype) {
    case DType::f32: return static_cast<const float*>(p)[i];
    case DType::f64: return static_cast<const double*>(p)[i];
    case DType::i32: return static_cast<const std::int32_t*>(p)[i];
  }
  return 0;
}
}  // namespace

Storage::Storage(std::size_t bytes) : bytes_(bytes) { data_ = buffer_cache().acquire(bytes, &capacity_); }

Storage::Storage(std::size_t bytes, std::shared_ptr<const PhysicalLayout> physical)
    : bytes_(bytes), physical_(std::move(physical)), pending_(physical_ != nullptr) {
  if (!pending_) data_ = buffer_cache().acquire(bytes, &capacity_);
}

Storage::~Storage() { buffer_cache().release(data_, capacity_); }

void Storage::materialize() const {
  std::lock_guard lock(mutex_);
  if (!pending_.load(std::memory_order_relaxed)) return;  // another thread got here first
  if (released_) physical_->materialize(nullptr);  // throws the reason, with no buffer taken for it
  std::size_t capacity = capacity_;
  void* plain = data_ != nullptr ? data_ : buffer_cache().acquire(bytes_, &capacity);
  try {
    physical_->materialize(plain);
  } catch (...) {
    if (plain != data_) buffer_cache().release(plain, capacity);
    throw;
  }
  data_ = plain;
  capacity_ = capacity;
  physical_.reset();
  pending_.store(false, std::memory_order_release);
}

namespace {

// What a released storage holds instead of its values: every read throws.
class ReleasedValues final : public PhysicalLayout {
 public:
  explicit ReleasedValues(std::string reason) : reason_(std::move(reason)) {}
  void materialize(void* /*plain*/) const override { throw Error(reason_); }

 private:
  std::string reason_;
};

}  // namespace

void Storage::release_values(std::string reason) {
  auto released = std::make_shared<ReleasedValues>(std::move(reason));  // may throw: nothing changed yet
  std::lock_guard lock(mutex_);
  buffer_cache().discard(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
  physical_ = std::move(released);
  released_ = true;
  pending_.store(true, std::memory_order_release);
}

std::shared_ptr<const PhysicalLayout> Storage::physical() const {
  if (!pending_.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard lock(mutex_);
  return physical_;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), dtype_(dtype),
      meta_(std::make_shared<AutogradMeta>()) {}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (auto d : shape) {
    if (d < 0) throw ShapeError(fmt::format("tensor: negative dimension in shape {}", shape_str(shape)));
  }
  const auto bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  return Tensor(std::make_shared<Storage>(bytes), shape, dtype);
}

void Tensor::release_values(std::string reason) const {
  if (!storage_) throw ValueError("tensor: release_values on an undefined tensor");
  storage_->release_values(std::move(reason));
}

Tensor Tensor::from_physical(const Shape& shape, DType dtype, std::shared_ptr<const PhysicalLayout> physical) {
  const auto bytes = static_cast<std::size_t>(shape_numel(shape)) * dtype_size(dtype);
  return Tensor(std::make_shared<Storage>(bytes, std::move(physical)), shape, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.storage_->data(), 0, t.storage_->bytes());
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  fill_raw(t.storage_->data(), t.numel(), dtype, value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<double>& values, DType dtype) {
  if (static_cast<std::int64_t>(values.size()) != shape_numel(shape)) {
    throw ShapeError(fmt::format("from_vector: {} values do not fill shape {} ({} elements)", values.size(),
                                 shape_str(shape), shape_numel(shape)));
  }
  Tensor t = empty(shape, dtype);
  void* p = t.storage_->data();
  for (std::size_t i = 0; i < values.size(); ++i) {
    switch (dtype) {
      case DType::f32: static_cast<float*>(p)[i] = static_cast<float>(values[i]); break;
      case DType::f64: static_cast<double*>(p)[i] = values[i]; break;
      case DType::i32: static_cast<std::int32_t*>(p)[i] = static_cast<std::int32_t>(values[i]); break;
    }
  }
  return t;
}

Tensor Tensor::from_ints(const Shape& shape, const std::vector<std::int32_t>& values) {
  std::vector<double> v(values.begin(), values.end());
  return from_vector(shape, v, DType::i32);
}

Tensor Tensor::randn(const Shape& shape, DType dtype, std::mt19937_64& rng, double mean, double stddev) {
  std::normal_distribution<double> dist(mean, stddev);
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  for (auto& x : v) x = dist(rng);
  return from_vector(shape, v, dtype);
}

Tensor Tensor::uniform(const Shape& shape, DType dtype, std::mt19937_64& rng, double low, double high) {
  std::uniform_real_distribution<double> dist(low, high);
  std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
  for (auto& x : v) x = dist(rng);
  return from_vector(shape, v, dtype);
}

std::int64_t Tensor::size(int axis) const {
  return shape_[normalize_axis("size", axis, dim(), shape_)];
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  return fmt::format("{}{}", dtype_name(dtype_), shape_str(shape_));
}

void Tensor::check_dtype(DType want) const {
  if (!defined()) throw ValueError("tensor: access to an undefined tensor");
  if (want != dtype_) {
    throw ValueError(fmt::format("tensor: requested {} data from a {} tensor", dtype_name(want), describe()));
  }
}

const void* Tensor::raw_data() const {
  if (!defined()) throw ValueError("tensor: access to an undefined tensor");
  return storage_->data();
}

void* Tensor::mutable_raw_data() const {
  raw_data();
  storage_->bump_version();
  return storage_->data();
}

std::vector<double> Tensor::to_double_vector() const {
  std::vector<double> out(static_cast<std::size_t>(numel()));
  const void* p = raw_data();
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = read_raw(p, static_cast<std::int64_t>(i), dtype_);
  return out;
}

std::vector<std::int32_t> Tensor::to_int_vector() const {
  const auto* p = data<std::int32_t>();
  return {p, p + numel()};
}

double Tensor::item() const {
  if (numel() != 1) throw ShapeError(fmt::format("item: tensor {} has more than one element", describe()));
  return read_raw(raw_data(), 0, dtype_);
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_);
  std::memcpy(t.storage_->data(), raw_data(), static_cast<std::size_t>(numel()) * dtype_size(dtype_));
  return t;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  return from_vector(shape_, to_double_vector(), dtype);
}

Tensor Tensor::view(const Shape& shape) const {
  if (shape_numel(shape) != numel()) {
    throw ShapeError(fmt::format("view: cannot view {} ({} elements) as shape {} ({} elements)", describe(),
                                 numel(), shape_str(shape), shape_numel(shape)));
  }
  return Tensor(storage_, shape, dtype_);
}

void Tensor::fill_(double value) const {
  raw_data();
  storage_->bump_version();
  fill_raw(storage_->data(), numel(), dtype_, value);
}

void Tensor::copy_(const Tensor& src) const {
  check_same_shape("copy_", *this, src);
  check_same_dtype("copy_", *this, src);
  void* plain = storage_->data();  // first: a read that throws changes nothing
  const void* from = src.raw_data();
  storage_->bump_version();
  std::memmove(plain, from, static_cast<std::size_t>(numel()) * dtype_size(dtype_));
}

std::uint64_t Tensor::version() const { return storage_ ? storage_->version() : 0; }

Tensor& Tensor::set_requires_grad(bool value) {
  if (!defined()) throw ValueError("set_requires_grad: undefined tensor");
  if (!is_leaf()) {
    throw AutogradError(fmt::format("set_requires_grad: {} is the output of a recorded op, not a leaf", describe()));
  }
  if (value && !is_floating(dtype_)) {
    throw ValueError(fmt::format("set_requires_grad: {} is not a floating tensor", describe()));
  }
  meta_->requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const { return meta_ && meta_->grad ? *meta_->grad : Tensor(); }

void Tensor::zero_grad() const {
  if (meta_ && meta_->grad && meta_->grad_owned) meta_->grad->fill_(0.0);
  else reset_grad();
}

void Tensor::reset_grad() const {
  if (!meta_) return;
  meta_->grad.reset();
  meta_->grad_owned = false;
}

Tensor Tensor::autograd_handle() const {
  if (!storage_) return Tensor();
  static const auto no_values = std::make_shared<Storage>(0);
  Tensor h(no_values, shape_, dtype_);
  h.meta_ = meta_;
  return h;
}

AutogradMeta& Tensor::autograd_meta() const {
  if (!meta_) throw ValueError("autograd_meta: undefined tensor");
  return *meta_;
}

void check_same_shape(std::string_view op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) {
    throw ShapeError(fmt::format("{}: shapes differ: {} vs {}", op, a.describe(), b.describe()));
  }
}

void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) {
    throw ValueError(fmt::format("{}: dtypes differ: {} vs {} (mixing float32 and float64 is not allowed)", op,
                                 a.describe(), b.describe()));
  }
}

void check_floating(std::string_view op, std::string_view what, const Tensor& t) {
  if (!t.defined()) throw ValueError(fmt::format("{}: {} is undefined", op, what));
  if (!is_floating(t.dtype())) {
    throw ValueError(fmt::format("{}: {} must be float32 or float64, got {}", op, what, t.describe()));
  }
}

}  // namespace core
