// `yolo convert --cfg FILE.cfg (--weights IN.weights --out OUT.ckpt |
// --checkpoint IN.ckpt --out OUT.weights)`: moves parameters between Darknet
// .weights files and native checkpoints. The cfg describes the network on the
// Darknet side; a checkpoint carries its own description, which must have the
// cfg's conv layers, shape for shape.
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct ConvertArgs {
  std::string cfg;
  std::string weights;     // Darknet input
  std::string checkpoint;  // native input
  std::string out;
};

// Throws core::ConfigError for a wrong combination of flags, core::IoError
// for unreadable, truncated or oversized inputs and core::ShapeError when a
// checkpoint's network does not match the cfg.
void run_convert_command(const ConvertArgs& args, std::ostream& out);

}  // namespace yolo
