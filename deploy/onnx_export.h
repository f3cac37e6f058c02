// ONNX export of a model (models/model_file.h): the network as a standard
// ONNX inference graph that other runtimes (OpenCV's dnn, ONNX Runtime) run
// without this framework. docs/onnx_export.md states the contract: opset,
// input, outputs, metadata and what is refused.
//
// The graph takes `images`, RGB float32 in [0, 1], [N, 3, size, size],
// already resized the model's way (letterbox or stretch, metadata `resize`);
// the model's own normalisation ((x - mean) / std when the model was trained
// with input.mean_std) is inside the graph. Batch norm is folded into each
// convolution's weights and bias with the model's own formula (Darknet's
// sqrt(var) + 1e-6 or the standard sqrt(var + eps)). Outputs are the raw
// heads, one per [yolo] layer named `stride_S`, equal to what
// `yolo forward --dump` writes as head_K.npy; or, decoded, one
// `detections` tensor (deploy/onnx_decode.h).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/model_file.h"

namespace deploy {

// The opset the graphs use: read by OpenCV 4.6's dnn module (Debian 12) and
// by ONNX Runtime, and the first with Resize taking `scales` as an input.
inline constexpr int kOnnxOpset = 11;

struct OnnxExportOptions {
  int size = 416;       // square input side; a positive multiple of 32
  int batch = 1;        // fixed batch size; 0 makes the batch dimension symbolic ("batch")
  bool decode = false;  // one decoded `detections` output instead of the raw heads
};

// One graph output: its name and shape, -1 for the symbolic batch.
struct OnnxOutput {
  std::string name;
  std::vector<std::int64_t> shape;
};

struct OnnxExport {
  onnx::ModelProto model;
  std::vector<OnnxOutput> outputs;
};

// Builds the graph. Throws core::ConfigError for a size that is not a
// positive multiple of 32 or a negative batch; core::ValueError naming the
// network source, layer index, type and cfg line for what the graph cannot
// express (avgpool and softmax layers, a network without [yolo] layers or
// whose input is not 3 channels, heads of different class counts with
// `decode`).
OnnxExport export_onnx(const models::Model& model, const OnnxExportOptions& options);

// Serialises `model` (protobuf's own encoder) and writes it atomically.
// Throws core::IoError naming the path.
void write_onnx(const std::string& path, const onnx::ModelProto& model);

}  // namespace deploy
