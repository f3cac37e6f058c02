// `yolo forward (--cfg FILE.cfg | --config FILE.yml) [--weights FILE]
// (--image IMG | --input X.npy) [--size S] --dump DIR [--all-layers]`: runs a
// network once in eval mode (a cfg with Darknet's batch-norm formula, a
// training config with its own style and input normalisation) and
// writes what it saw and produced as .npy files, for comparison with Darknet
// or any other implementation:
//   DIR/input.npy            the network input [N,3,H,W] float32
//   DIR/head_K.npy           K = 0,1,...: the input of the K-th [yolo] section
//                            in cfg order, raw (before any activation)
//   DIR/layer_NNN_<type>.npy with --all-layers: every layer's output (NNN =
//                            cfg layer index). A [yolo] layer's file holds
//                            what Darknet's yolo layer writes: logistic
//                            applied to x, y, objectness and class channels,
//                            w and h left raw.
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct ForwardArgs {
  std::string cfg;
  std::string config;   // training config (.yml), instead of --cfg
  std::string weights;  // Darknet .weights or a native checkpoint
  std::string image;    // resized (Darknet's letterbox for cfgs) to the model's size or --size
  std::string input;    // [N,3,H,W] float32 .npy, used as is
  int size = 0;         // 0: the cfg's width and height
  std::string dump;
  bool all_layers = false;
};

// Throws core::ConfigError for conflicting or missing inputs, and whatever
// the cfg reader, weights loader, image decoder or network throw.
void run_forward_command(const ForwardArgs& args, std::ostream& out);

}  // namespace yolo
