#include "models/darknet_weights.h"

#include <fmt/format.h>

#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace models {

namespace {

// The tensors of one layer in the order Darknet writes them.
std::vector<core::Tensor> file_order(const DarknetConvTensors& l) {
  std::vector<core::Tensor> out{l.biases};
  if (l.scales.defined()) out.insert(out.end(), {l.scales, l.rolling_mean, l.rolling_var});
  out.push_back(l.weights);
  return out;
}

template <class T>
T read_le(const std::string& bytes, std::size_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

}  // namespace

std::size_t darknet_layer_bytes(const DarknetConvTensors& layer) {
  std::size_t n = 0;
  for (const auto& t : file_order(layer)) n += static_cast<std::size_t>(t.numel()) * sizeof(float);
  return n;
}

std::size_t read_darknet_header(const std::string& bytes, const std::string& name, WeightsHeader& h) {
  if (bytes.size() < 16) {
    throw core::IoError(fmt::format("{}: {} bytes is too short for a Darknet weights header", name, bytes.size()));
  }
  h.major = read_le<std::int32_t>(bytes, 0);
  h.minor = read_le<std::int32_t>(bytes, 4);
  h.revision = read_le<std::int32_t>(bytes, 8);
  std::size_t at = 12;
  if (h.major < 0 || h.minor < 0 || h.major > 1000 || h.minor > 1000) {
    // Darknet would transpose connected layers here; no cfg we read has any,
    // and such values in practice mean the file is something else.
    throw core::IoError(fmt::format("{}: not a Darknet weights file (version {}.{}.{})", name, h.major, h.minor,
                                    h.revision));
  }
  if (h.major * 10 + h.minor >= 2) {
    if (bytes.size() < 20) throw core::IoError(fmt::format("{}: truncated header", name));
    h.seen = read_le<std::uint64_t>(bytes, 12);
    at = 20;
  } else {
    h.seen = static_cast<std::uint32_t>(read_le<std::int32_t>(bytes, 12));
    at = 16;
  }
  return at;
}

WeightsLoadReport parse_darknet_weights(const std::string& bytes, const std::string& name,
                                        const std::vector<DarknetConvTensors>& layers) {
  WeightsLoadReport report;
  report.conv_layers = static_cast<int>(layers.size());
  std::size_t at = read_darknet_header(bytes, name, report.header);
  for (const auto& layer : layers) {
    if (at == bytes.size()) break;  // a partial file: the leading layers only
    const std::size_t need = darknet_layer_bytes(layer);
    if (bytes.size() - at < need) {
      throw core::IoError(fmt::format(
          "{}: truncated inside conv layer {} (cfg layer {}): it needs {} bytes at offset {}, the file has {} left",
          name, report.layers_filled, layer.layer_index, need, at, bytes.size() - at));
    }
    for (const auto& t : file_order(layer)) {
      const std::size_t n = static_cast<std::size_t>(t.numel()) * sizeof(float);
      std::memcpy(t.mutable_data<float>(), bytes.data() + at, n);
      at += n;
    }
    ++report.layers_filled;
  }
  if (at != bytes.size()) {
    throw core::IoError(fmt::format("{}: {} bytes left after all {} conv layers (file {} bytes, model takes {}); "
                                    "the weights belong to a different network",
                                    name, bytes.size() - at, layers.size(), bytes.size(), at));
  }
  return report;
}

WeightsLoadReport load_darknet_weights(const std::string& path, const std::vector<DarknetConvTensors>& layers) {
  return parse_darknet_weights(core::read_file(path), path, layers);
}

std::string serialize_darknet_weights(const std::vector<DarknetConvTensors>& layers, std::uint64_t seen) {
  std::string out;
  const WeightsHeader h;
  out.append(reinterpret_cast<const char*>(&h.major), 4);
  out.append(reinterpret_cast<const char*>(&h.minor), 4);
  out.append(reinterpret_cast<const char*>(&h.revision), 4);
  out.append(reinterpret_cast<const char*>(&seen), 8);
  for (const auto& layer : layers) {
    for (const auto& t : file_order(layer)) {
      out.append(reinterpret_cast<const char*>(t.data<float>()), static_cast<std::size_t>(t.numel()) * sizeof(float));
    }
  }
  return out;
}

void save_darknet_weights(const std::string& path, const std::vector<DarknetConvTensors>& layers, std::uint64_t seen) {
  core::write_file_atomic(path, serialize_darknet_weights(layers, seen));
}

bool looks_like_darknet_weights(const std::string& first_bytes) {
  if (first_bytes.size() < 12) return false;
  const auto major = read_le<std::int32_t>(first_bytes, 0);
  const auto minor = read_le<std::int32_t>(first_bytes, 4);
  return major >= 0 && major <= 1000 && minor >= 0 && minor <= 1000;
}

}  // namespace models
