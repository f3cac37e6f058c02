// Darknet's test-time pre-processing, reproduced to the float: an RGB image
// in Darknet's planar layout ([3, H, W], values in [0, 1]) is resized with
// Darknet's own bilinear (corner-aligned, horizontal pass then vertical, in
// float32) so that it fits the network input keeping its aspect ratio, and
// pasted at an integer offset onto a canvas of 0.5 (docs/darknet_format.md, 'Letterbox').
// This is deliberately not data/augment_resize.h's pixel-centre resampling:
// parity with Darknet's forward pass needs Darknet's exact pixels.
#pragma once

#include "core/tensor.h"

namespace models {

// Where the resized image sits inside the network input.
struct LetterboxGeometry {
  int new_w = 0, new_h = 0;  // size of the resized image
  int dx = 0, dy = 0;        // integer paste offset: ((net_w - new_w) / 2, (net_h - new_h) / 2)
};

// Darknet's choice of the resized size: the side with the smaller scale
// factor fills the network input, the other is scaled by integer division.
// Throws core::ValueError for a non-positive size.
LetterboxGeometry letterbox_geometry(int image_w, int image_h, int net_w, int net_h);

// Interleaved RGB on the 0..255 scale (data::Image's pixels: H x W x 3) to
// float32 [3, H, W] in [0, 1], dividing as Darknet's load_image_stb does.
core::Tensor darknet_planar_image(int width, int height, const float* rgb);

// Darknet's resize_image: im is float32 [C, H, W]; returns [C, h, w].
// Throws core::ShapeError for anything but a float32 3-D tensor and
// core::ValueError for a non-positive target size.
core::Tensor darknet_resize(const core::Tensor& im, int w, int h);

// Darknet's letterbox_image: im float32 [C, H, W] -> [C, net_h, net_w].
core::Tensor darknet_letterbox(const core::Tensor& im, int net_w, int net_h);

}  // namespace models
