// The native checkpoint file: named tensors plus a JSON metadata block.
//
// Layout (little-endian): magic "YOLOCKPT", u32 format version, u64 length
// and bytes of the metadata JSON, u64 tensor count, then per tensor: u32 name
// length, name, u8 dtype, u32 rank, i64 dims, u64 byte count, data; finally
// a u64 FNV-1a hash of everything before it. Files are written atomically
// (temporary file, fsync, rename) and every field is checked on load.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace models {

inline constexpr char kCheckpointMagic[] = "YOLOCKPT";
inline constexpr std::uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  std::string metadata;  // JSON text: model settings, training state
  std::vector<std::pair<std::string, core::Tensor>> tensors;

  // The tensor called `name`; throws core::IoError naming the checkpoint
  // source when it is absent.
  const core::Tensor& get(const std::string& name) const;
  std::string source;  // path it was read from, for messages
};

std::string serialize_checkpoint(const Checkpoint& ckpt);
// Throws core::IoError naming `name` for a wrong magic (with a hint when the
// bytes look like Darknet weights), an unknown version, truncation, a bad
// dtype or rank, a duplicate name, or a hash mismatch (corruption).
Checkpoint parse_checkpoint(const std::string& bytes, const std::string& name);

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
Checkpoint load_checkpoint(const std::string& path);

// True when the bytes start with the checkpoint magic.
bool is_checkpoint(const std::string& first_bytes);

}  // namespace models
