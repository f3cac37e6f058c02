// Per-layer size and cost of a NetworkDef at a given input size: output
// shape, trainable parameters and floating-point operations. FLOPs count
// convolutions only, as 2 x multiply-accumulates (Darknet's BFLOPs figure:
// YOLOv3 at 416 is 65.9 GFLOP per image); batch norm, activations, shortcuts,
// routes, upsampling and pooling are memory-bound and left out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/network_def.h"

namespace models {

struct LayerSummary {
  int index = 0;
  std::string type;         // Darknet section name
  std::string description;  // "32 3x3/1 leaky bn", "layers -1,61", ...
  LayerShape input;
  LayerShape output;
  std::int64_t parameters = 0;  // weights, biases or BN shift, BN scale
  std::int64_t buffers = 0;     // BN rolling mean and variance
  std::int64_t flops = 0;       // per image
};

struct NetworkSummary {
  std::vector<LayerSummary> layers;
  std::int64_t parameters = 0;
  std::int64_t buffers = 0;
  std::int64_t flops = 0;
  // Floats a complete Darknet .weights file holds for this network
  // (parameters plus rolling statistics).
  std::int64_t weights_floats() const { return parameters + buffers; }
};

// Throws what infer_shapes throws for an input the network cannot take.
NetworkSummary summarize_network(const NetworkDef& def, int height, int width);

// A fixed-width table, one line per layer, then the totals.
std::string format_network_summary(const NetworkSummary& s, int height, int width);

}  // namespace models
