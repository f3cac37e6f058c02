// Darknet .weights files: a small header (version and `seen`), then for each
// convolutional layer in cfg order its biases, optionally BN scales, rolling
// mean and rolling variance, then its OIHW weights, all little-endian float32
// with no markers. The model hands over the tensors to fill or save.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace models {

// The parameter tensors of one convolutional layer, in file order. Tensors
// are float32 handles that share storage with the model, so loading writes
// straight into the model. Without batch norm, scales/mean/var are undefined.
struct DarknetConvTensors {
  int layer_index = 0;  // cfg layer index, for messages
  core::Tensor biases;
  core::Tensor scales;
  core::Tensor rolling_mean;
  core::Tensor rolling_var;
  core::Tensor weights;
};

struct WeightsHeader {
  std::int32_t major = 0;
  std::int32_t minor = 2;
  std::int32_t revision = 0;
  std::uint64_t seen = 0;  // images trained on
};

struct WeightsLoadReport {
  WeightsHeader header;
  int layers_filled = 0;  // leading conv layers read completely
  int conv_layers = 0;    // conv layers the model has
  bool complete() const { return layers_filled == conv_layers; }
};

// Reads the header into `h`; returns its size in bytes (16 or 20, by
// version). Throws core::IoError naming `name` for a short or foreign file.
std::size_t read_darknet_header(const std::string& bytes, const std::string& name, WeightsHeader& h);
// Bytes one layer takes in a weights file.
std::size_t darknet_layer_bytes(const DarknetConvTensors& layer);

// Loads what the file holds into the leading layers. A file that ends
// exactly between two layers (darknet53.conv.74 into a full YOLOv3) is
// accepted and reported; one that ends inside a layer, or holds more bytes
// than the model takes, throws core::IoError naming the file, the layer and
// the byte counts.
WeightsLoadReport load_darknet_weights(const std::string& path, const std::vector<DarknetConvTensors>& layers);
WeightsLoadReport parse_darknet_weights(const std::string& bytes, const std::string& name,
                                        const std::vector<DarknetConvTensors>& layers);

// Writes header + every layer atomically, byte-compatible with Darknet's
// save_weights (major 0, minor 2, revision 0, 64-bit seen).
void save_darknet_weights(const std::string& path, const std::vector<DarknetConvTensors>& layers,
                          std::uint64_t seen = 0);
std::string serialize_darknet_weights(const std::vector<DarknetConvTensors>& layers, std::uint64_t seen);

// True when the bytes start like a Darknet weights file rather than a native
// checkpoint (which starts with its own magic).
bool looks_like_darknet_weights(const std::string& first_bytes);

}  // namespace models
