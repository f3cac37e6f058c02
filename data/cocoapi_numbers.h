// Numbers in COCO's JSON files read as cocoapi's Python reads them, for the
// two parsers of those files: annotations (data/coco_json.cpp) and results
// (train/eval/detections_io.cpp). Includes simdjson, so only .cpp files that
// parse with it include this header.
#pragma once

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace data {

// An integer, or a float with an integral value (json gives 5.0, and 5.0 == 5
// as a dict key). Throws core::IoError "is too large for an id" or
// "is 7.5, not <noun>" (noun e.g. "an integer").
inline std::int64_t read_cocoapi_integer(simdjson::ondemand::value v, const char* noun) {
  simdjson::ondemand::number n = v.get_number();
  if (n.is_int64()) return n.get_int64();
  if (n.is_uint64()) throw core::IoError("is too large for an id");
  const double d = n.get_double();
  if (d != std::floor(d) || std::fabs(d) > 9.0e15) throw core::IoError(fmt::format("is {}, not {}", d, noun));
  return static_cast<std::int64_t>(d);
}

// Throws core::IoError "is not a finite number" for infinities and NaN.
inline double read_finite(simdjson::ondemand::value v) {
  const double d = v.get_double();
  if (!std::isfinite(d)) throw core::IoError("is not a finite number");
  return d;
}

}  // namespace data
