// The decode stage of an exported graph (`yolo export --decode`): the raw
// heads turned into boxes the way models/detect/decode.cpp does, with no
// threshold and no NMS, so every anchor slot of every cell becomes one row.
// Row layout (docs/onnx_export.md, 'Decoded output'):
//   cx, cy, w, h     box centre and size in network-input pixels
//                    cx = (col + sigmoid(tx)) * stride, w = exp(tw) * anchor_w
//   objectness       sigmoid(to)
//   class k          objectness * sigmoid(ck), Darknet's class probability
// Rows go head by head; within a head cell by cell, row-major, then anchor
// slot: the order of models::decode_yolo_heads.
#pragma once

#include <string>
#include <vector>

#include "deploy/onnx_graph.h"
#include "models/network_def.h"

namespace deploy {

// One raw head in the graph: tensor [N, S*(5+C), grid_h, grid_w].
struct OnnxHead {
  std::string tensor;
  models::YoloLayer layer;
  int grid_h = 0, grid_w = 0;
  int stride = 0;  // network-input pixels per cell
};

// Appends the decode nodes; the result [N, rows, 5+C] is named `output`.
// The constants (cell offsets, anchors) are [1, rows, 2] and broadcast over
// the batch, which OpenCV 4.6's dnn does not do: it runs this part at batch
// 1 only (docs/onnx_export.md).
// Returns the row count. Throws core::ValueError when the heads' class
// counts differ (one tensor cannot hold both) or a mask index has no anchor.
std::int64_t add_decode(OnnxGraph& g, const std::vector<OnnxHead>& heads, const std::string& output);

}  // namespace deploy
