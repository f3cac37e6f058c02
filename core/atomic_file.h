// Atomic file writes: the content goes to a temporary file in the same
// directory, is flushed to disk, then renamed over the target, so a crash
// leaves either the old file or the new one, never a torn mix.
#pragma once

#include <string>
#include <string_view>

namespace core {

// Throws IoError naming the path on any failure (the target is untouched).
void write_file_atomic(const std::string& path, std::string_view content);

// Reads a whole file; throws IoError naming the path when it cannot.
std::string read_file(const std::string& path);

}  // namespace core
