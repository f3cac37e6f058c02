// `yolo forward (--cfg FILE.cfg | --config FILE.yml) [--weights FILE]
// (--image IMG | --input X.npy) [--size S] --dump DIR [--all-layers]
// [--decode]`, or `yolo forward --weights CHECKPOINT ...` (the checkpoint
// describes its network, as for `yolo detect`): runs a network once in eval
// mode (a cfg with Darknet's batch-norm formula, a training config or a
// checkpoint with its own style and input normalisation) and
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
//   DIR/detections.npy       with --decode: every anchor slot of every head
//                            decoded by models/detect/decode.cpp with no
//                            threshold, [N, boxes, 5+classes]: cx, cy, w, h
//                            in input pixels, objectness, objectness *
//                            sigmoid(class) per class; the rows and layout
//                            of `yolo export --decode` (docs/onnx_export.md).
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
  bool decode = false;  // also write DIR/detections.npy
};

// Throws core::ConfigError for conflicting or missing inputs (no --cfg or
// --config and --weights not a checkpoint), and whatever
// the cfg reader, weights loader, image decoder or network throw.
void run_forward_command(const ForwardArgs& args, std::ostream& out);

}  // namespace yolo
