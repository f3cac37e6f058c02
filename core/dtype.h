// Element types a tensor can hold: float32 for training, float64 for the
// reference paths and gradient checks, int32 for labels and indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace core {

enum class DType : std::uint8_t { f32, f64, i32 };

constexpr std::size_t dtype_size(DType t) {
  return t == DType::f64 ? 8 : 4;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
  }
  return "?";
}

constexpr bool is_floating(DType t) { return t == DType::f32 || t == DType::f64; }

template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::f32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::f64; };
template <> struct DTypeOf<std::int32_t> { static constexpr DType value = DType::i32; };
template <class T> constexpr DType dtype_of = DTypeOf<T>::value;

// Calls fn.template operator()<T>() with T the C++ type of a floating dtype,
// so one templated body serves the float32 and float64 paths.
template <class Fn>
decltype(auto) dispatch_floating(DType t, Fn&& fn) {
  if (t == DType::f64) return fn.template operator()<double>();
  return fn.template operator()<float>();
}

}  // namespace core
