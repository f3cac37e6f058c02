#include "core/npy.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace core {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& name, const std::string& why) {
  throw IoError(fmt::format("npy: {}: {}", name, why));
}

// Value of `key` in the header dict, as the raw text after the colon.
std::string header_field(const std::string& header, const std::string& key, const std::string& name) {
  const auto k = header.find("'" + key + "'");
  if (k == std::string::npos) fail(name, fmt::format("header has no '{}' entry: {}", key, header));
  const auto colon = header.find(':', k);
  if (colon == std::string::npos) fail(name, fmt::format("malformed header: {}", header));
  return header.substr(colon + 1);
}

Shape parse_shape(const std::string& field, const std::string& name) {
  const auto open = field.find('(');
  const auto close = field.find(')', open);
  if (open == std::string::npos || close == std::string::npos) fail(name, "malformed shape in header");
  Shape shape;
  std::stringstream ss(field.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    std::int64_t d = 0;
    try {
      std::size_t used = 0;
      d = std::stoll(item.substr(first), &used);
      if (item.find_first_not_of(" \tL", first + used) != std::string::npos) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      fail(name, fmt::format("malformed dimension '{}' in shape", item));
    }
    if (d < 0) fail(name, "negative dimension in shape");
    shape.push_back(d);
  }
  return shape;
}

// What the header says: the dtype string ('<f4'), the shape, and where
// the data starts.
struct NpyHeader {
  std::string descr;
  Shape shape;
  std::size_t data_offset = 0;
};

NpyHeader parse_header(const std::string& bytes, const std::string& name) {
  if (bytes.size() < kMagicLen + 4 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    fail(name, "not a .npy file (missing the \\x93NUMPY magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0;
  std::size_t offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(name, "truncated header");
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    offset = 12;
  } else {
    fail(name, fmt::format("unsupported .npy format version {}", major));
  }
  if (bytes.size() < offset + header_len) fail(name, "truncated header");
  const std::string header = bytes.substr(offset, header_len);

  NpyHeader h;
  h.data_offset = offset + header_len;
  h.descr = header_field(header, "descr", name);
  const auto q1 = h.descr.find('\'');
  const auto q2 = h.descr.find('\'', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos) fail(name, "malformed descr in header");
  h.descr = h.descr.substr(q1 + 1, q2 - q1 - 1);

  const std::string fortran = header_field(header, "fortran_order", name);
  if (fortran.find("True") < fortran.find_first_of(",}")) {
    fail(name, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
  }
  h.shape = parse_shape(header_field(header, "shape", name), name);
  return h;
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& name) {
  const NpyHeader header = parse_header(bytes, name);
  const std::string& descr = header.descr;
  const Shape& shape = header.shape;
  const std::size_t offset = header.data_offset;

  if (descr.size() >= 2 && descr[0] == '>' && descr.substr(1) != "i1" && descr.substr(1) != "u1") {
    fail(name, fmt::format("big-endian dtype '{}' is not supported; convert with arr.astype('<{}')", descr,
                           descr.substr(1)));
  }
  const std::string kind = descr.size() >= 2 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '=')
                               ? descr.substr(1) : descr;
  std::int64_t n = 0;
  // Checks the data against the file before anything is multiplied out or
  // allocated: a header may declare any shape.
  auto payload = [&](std::size_t elem) -> const char* {
    const std::size_t left = bytes.size() - offset;
    const auto need = shape_bytes_within(shape, elem, left);
    if (!need) {
      const auto total = shape_bytes_within(shape, elem, std::numeric_limits<std::uint64_t>::max());
      if (total) {
        fail(name, fmt::format("truncated data: shape {} of '{}' needs {} bytes, file has {}", shape_str(shape), descr,
                               *total, left));
      }
      fail(name, fmt::format("shape {} of '{}' is too large (more than 2^64 bytes)", shape_str(shape), descr));
    }
    n = static_cast<std::int64_t>(*need / elem);
    return bytes.data() + offset;
  };

  if (kind == "f4" || kind == "f8" || kind == "i4") {
    const DType dt = kind == "f4" ? DType::f32 : kind == "f8" ? DType::f64 : DType::i32;
    const char* src = payload(dtype_size(dt));
    Tensor t = Tensor::empty(shape, dt);
    if (n) std::memcpy(t.mutable_raw_data(), src, static_cast<std::size_t>(n) * dtype_size(dt));
    return t;
  }
  if (kind == "i8") {
    const char* src = payload(8);
    Tensor t = Tensor::empty(shape, DType::i32);
    auto* dst = t.mutable_data<std::int32_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      std::int64_t v;
      std::memcpy(&v, src + i * 8, 8);
      if (v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max()) {
        fail(name, fmt::format("int64 value {} at flat index {} does not fit in int32", v, i));
      }
      dst[i] = static_cast<std::int32_t>(v);
    }
    return t;
  }
  fail(name, fmt::format("unsupported dtype '{}' (expected float32 '<f4', float64 '<f8', int32 '<i4' or int64 '<i8')",
                         descr));
}

Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

std::string serialize_npy(const Tensor& t) {
  const char* descr = t.dtype() == DType::f32 ? "<f4" : t.dtype() == DType::f64 ? "<f8" : "<i4";
  std::string shape;
  for (auto d : t.shape()) shape += fmt::format("{}, ", d);
  if (t.dim() > 1) shape.erase(shape.size() - 2);
  else if (t.dim() == 1) shape.pop_back();
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  // Pad so the data starts at a multiple of 64 bytes, ending with a newline.
  const std::size_t total = kMagicLen + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(static_cast<const char*>(t.raw_data()), static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
  return out;
}

void write_npy(const std::string& path, const Tensor& t) { write_file_atomic(path, serialize_npy(t)); }

}  // namespace core
