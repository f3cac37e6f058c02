// `yolo export --weights FILE [--cfg FILE.cfg] [--config X.yml] --format onnx
// --out MODEL.onnx [--size S] [--batch 1|dynamic] [--decode]`: writes the
// model as a standard ONNX graph (deploy/onnx_export.h, docs/onnx_export.md).
// --weights is a native checkpoint (it describes its network) or Darknet
// .weights with --cfg; with --config the network is the one the training
// config describes and --weights fills it.
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct ExportArgs {
  std::string weights;
  std::string cfg;
  std::string config;
  std::string format = "onnx";
  std::string out;
  int size = 0;               // 0: the model's input size
  std::string batch = "1";    // a positive count or "dynamic"
  bool decode = false;
};

// Throws core::ConfigError for an unknown format, a bad --batch or --size,
// conflicting model sources or a missing --out, and what the model loaders
// and the exporter throw (each naming the file, layer or value at fault).
void run_export_command(const ExportArgs& args, std::ostream& out);

}  // namespace yolo
