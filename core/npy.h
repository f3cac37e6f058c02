// Reading and writing NumPy .npy files (format versions 1, 2 and 3).
//
// Supported element types: float32, float64 and int32; int64 files are read
// and narrowed to int32 with a range check. Fortran-ordered and big-endian
// files are rejected with a message rather than silently transposed/swapped.
#pragma once

#include <string>

#include "core/tensor.h"

namespace core {

// Throws IoError naming the path for missing, truncated or malformed files.
Tensor read_npy(const std::string& path);
// Parses an in-memory .npy image; `name` is used in error messages.
Tensor parse_npy(const std::string& bytes, const std::string& name);

// Writes atomically (temporary file, then rename). Throws IoError.
void write_npy(const std::string& path, const Tensor& t);
std::string serialize_npy(const Tensor& t);

}  // namespace core
