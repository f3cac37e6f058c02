#include "models/checkpoint.h"

#include <fmt/format.h>

#include <cstring>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"

namespace models {

namespace {

constexpr std::size_t kMagicLen = 8;

std::uint64_t fnv1a(const char* p, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Bounds-checked reader over the file image; every failure names the file.
class Reader {
 public:
  Reader(const std::string& bytes, const std::string& name, std::size_t end) : b_(bytes), name_(name), end_(end) {}

  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }

  std::string bytes(std::uint64_t n, const char* what) {
    need(n, what);
    std::string s = b_.substr(at_, static_cast<std::size_t>(n));
    at_ += static_cast<std::size_t>(n);
    return s;
  }

  const char* take(std::uint64_t n, const char* what) {
    need(n, what);
    const char* p = b_.data() + at_;
    at_ += static_cast<std::size_t>(n);
    return p;
  }

  std::size_t at() const { return at_; }
  std::size_t remaining() const { return end_ - at_; }

  [[noreturn]] void fail(const std::string& why) const {
    throw core::IoError(fmt::format("checkpoint {}: {}", name_, why));
  }

 private:
  void need(std::uint64_t n, const char* what) const {
    if (n > end_ - at_) fail(fmt::format("truncated while reading {} at byte {}", what, at_));
  }
  const std::string& b_;
  const std::string& name_;
  std::size_t end_;
  std::size_t at_ = 0;
};

}  // namespace

const core::Tensor& Checkpoint::get(const std::string& name) const {
  for (const auto& [n, t] : tensors) {
    if (n == name) return t;
  }
  throw core::IoError(fmt::format("checkpoint {}: has no tensor named '{}'", source, name));
}

std::string serialize_checkpoint(const Checkpoint& ckpt) {
  std::string out(kCheckpointMagic, kMagicLen);
  put<std::uint32_t>(out, kCheckpointVersion);
  put<std::uint64_t>(out, ckpt.metadata.size());
  out += ckpt.metadata;
  put<std::uint64_t>(out, ckpt.tensors.size());
  for (const auto& [name, t] : ckpt.tensors) {
    put<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
    out += name;
    put<std::uint8_t>(out, static_cast<std::uint8_t>(t.dtype()));
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.dim()));
    for (auto d : t.shape()) put<std::int64_t>(out, d);
    const std::uint64_t n = static_cast<std::uint64_t>(t.numel()) * core::dtype_size(t.dtype());
    put<std::uint64_t>(out, n);
    out.append(static_cast<const char*>(t.raw_data()), static_cast<std::size_t>(n));
  }
  put<std::uint64_t>(out, fnv1a(out.data(), out.size()));
  return out;
}

Checkpoint parse_checkpoint(const std::string& bytes, const std::string& name) {
  Checkpoint ckpt;
  ckpt.source = name;
  if (!is_checkpoint(bytes)) {
    throw core::IoError(fmt::format("checkpoint {}: wrong magic (not a checkpoint written by this project){}", name,
                                    bytes.size() >= 12 ? "; if it is a Darknet .weights file, load it with its cfg" : ""));
  }
  if (bytes.size() < kMagicLen + 4 + 8) throw core::IoError(fmt::format("checkpoint {}: truncated header", name));
  Reader r(bytes, name, bytes.size() - 8);
  r.take(kMagicLen, "magic");
  const auto version = r.get<std::uint32_t>("version");
  if (version != kCheckpointVersion) {
    r.fail(fmt::format("format version {} is not supported (this build reads version {})", version,
                       kCheckpointVersion));
  }
  std::uint64_t stored_hash;
  std::memcpy(&stored_hash, bytes.data() + bytes.size() - 8, 8);
  // Fuzz builds only: a random input never matches the hash, and the parser
  // behind it must still hold up against any bytes.
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  if (stored_hash != fnv1a(bytes.data(), bytes.size() - 8)) {
    r.fail("checksum mismatch: the file is corrupt or was truncated");
  }
#endif
  ckpt.metadata = r.bytes(r.get<std::uint64_t>("metadata length"), "metadata");
  const auto count = r.get<std::uint64_t>("tensor count");
  std::set<std::string> names;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string tname = r.bytes(r.get<std::uint32_t>("name length"), "tensor name");
    if (!names.insert(tname).second) r.fail(fmt::format("tensor '{}' appears twice", tname));
    const auto dtype = r.get<std::uint8_t>("dtype");
    if (dtype > static_cast<std::uint8_t>(core::DType::i32)) r.fail(fmt::format("tensor '{}' has bad dtype {}", tname, dtype));
    const auto rank = r.get<std::uint32_t>("rank");
    if (rank > 8) r.fail(fmt::format("tensor '{}' has rank {}", tname, rank));
    core::Shape shape(rank);
    for (auto& d : shape) {
      d = r.get<std::int64_t>("dimension");
      if (d < 0) r.fail(fmt::format("tensor '{}' has a negative dimension", tname));
    }
    const auto nbytes = r.get<std::uint64_t>("byte count");
    const auto dt = static_cast<core::DType>(dtype);
    // Checked against what the file has left before multiplying out, so a
    // forged shape can neither overflow nor ask for a huge tensor.
    const auto shape_bytes = core::shape_bytes_within(shape, core::dtype_size(dt), r.remaining());
    if (!shape_bytes) {
      r.fail(fmt::format("tensor '{}' {} needs more bytes than the file has left ({})", tname, core::shape_str(shape),
                         r.remaining()));
    }
    if (nbytes != *shape_bytes) {
      r.fail(fmt::format("tensor '{}' {} declares {} bytes", tname, core::shape_str(shape), nbytes));
    }
    const char* src = r.take(nbytes, "tensor data");
    core::Tensor t = core::Tensor::empty(shape, dt);
    if (nbytes) std::memcpy(t.mutable_raw_data(), src, static_cast<std::size_t>(nbytes));
    ckpt.tensors.emplace_back(std::move(tname), std::move(t));
  }
  if (r.at() != bytes.size() - 8) r.fail(fmt::format("{} unexpected bytes after the last tensor", bytes.size() - 8 - r.at()));
  return ckpt;
}

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  core::write_file_atomic(path, serialize_checkpoint(ckpt));
}

Checkpoint load_checkpoint(const std::string& path) { return parse_checkpoint(core::read_file(path), path); }

bool is_checkpoint(const std::string& first_bytes) {
  return first_bytes.size() >= kMagicLen && std::memcmp(first_bytes.data(), kCheckpointMagic, kMagicLen) == 0;
}

}  // namespace models
