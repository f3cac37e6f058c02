// Decoding YOLO heads into boxes exactly as Darknet's yolo layer does at test
// time (docs/darknet_format.md, 'Decoding'): sigmoids on x, y, objectness and class
// scores, exp on w and h times the anchor, per-class probability
// objectness * sigmoid(class) kept only above the threshold, then the
// letterbox correction back to the original image.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "models/network_def.h"

namespace models {

// Darknet's `detection`: one box with its objectness and per-class
// probabilities (0 where not above the threshold, or suppressed by NMS).
struct DecodedBox {
  float x = 0, y = 0, w = 0, h = 0;  // centre and size; fractions of the network input, or of the image once corrected
  float objectness = 0;
  std::vector<float> prob;  // per class
};

// Decodes image n of one raw head [N, S*(5+C), H, W] (S = mask size, C =
// layer.classes; channels of anchor slot a: tx, ty, tw, th, to, c0..cC-1).
// Keeps boxes with objectness > thresh and at least one class probability
// above it, in Darknet's order: cells row-major, then anchor slots. (Darknet
// keeps the others too, but with every probability 0 they change nothing.) Throws core::ShapeError naming the shapes when the head
// does not fit the layer, core::ValueError for n out of range or a mask
// index outside the anchors.
std::vector<DecodedBox> decode_yolo_head(const core::Tensor& head, int n, const YoloLayer& layer, int net_width,
                                         int net_height, float thresh);

// All heads of one image in network order (the order of Darknet's
// get_network_boxes). heads[i] belongs to layers[i].
std::vector<DecodedBox> decode_yolo_heads(const std::vector<core::Tensor>& heads, const std::vector<YoloLayer>& layers,
                                          int n, int net_width, int net_height, float thresh);

// Darknet's correct_yolo_boxes (relative): from fractions of a letterboxed
// network input to fractions of the original image. The margin is removed as
// a real half ((net - new) / 2.), not the integer paste offset, as Darknet
// does; for odd margins the two differ by half a pixel.
void correct_letterbox_boxes(std::vector<DecodedBox>& boxes, int image_width, int image_height, int net_width,
                             int net_height);

}  // namespace models
