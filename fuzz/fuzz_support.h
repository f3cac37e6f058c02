// Shared by every fuzz target: what counts as a rejection, and a scratch
// file for the parsers that read only from a path.
//
// A parser may reject any input, but only with the project's own errors
// (core::Error and its subclasses). Anything else escaping (std::bad_alloc,
// std::out_of_range, a third-party library's exception) is left uncaught, so
// libFuzzer reports it as a crash and saves the input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/error.h"

namespace fuzz {

inline std::string as_string(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `parse`; the project's own errors are the expected way to say no.
template <class Fn>
void expect_only_project_errors(Fn&& parse) {
  try {
    parse();
  } catch (const core::Error&) {
  }
}

// One file per process (two fuzzers may run side by side), rewritten for
// every input. The suffix matters to readers that look at extensions.
inline std::string scratch_file(const std::string& bytes, const std::string& suffix) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string path =
      std::string(tmp && *tmp ? tmp : "/tmp") + "/yolo_fuzz_" + std::to_string(::getpid()) + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace fuzz
