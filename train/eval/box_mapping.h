// From network-input pixels back to original-image pixels: the inverse of
// the resize (stretch) or letterbox that prepared the image, so detections
// can be written in the results format's original-image coordinates.
#pragma once

#include "train/eval/detection.h"

namespace train {

// How an image of image_width x image_height was placed in the network
// input: scaled to content_width x content_height pixels and pasted with its
// top-left corner at (offset_x, offset_y). input = original * content/image + offset.
struct InputGeometry {
  int image_width = 0, image_height = 0;
  double content_width = 0, content_height = 0;
  double offset_x = 0, offset_y = 0;
};

// Stretching to input_width x input_height (no padding).
InputGeometry stretch_geometry(int image_width, int image_height, int input_width, int input_height);

// Letterboxing as data::resize_sample does it: scale by
// min(input_w / image_w, input_h / image_h), round the scaled size to the
// nearest pixel, and centre it with integer offsets ((input - size) / 2).
// Throws core::ValueError for a non-positive size.
InputGeometry letterbox_geometry(int image_width, int image_height, int input_width, int input_height);

// Maps a corner box (x1, y1, x2, y2) in input pixels to the original image
// and returns it as (x, y, w, h), clipped to the image so no box leaves it;
// a box entirely in the padding comes back with zero width or height.
// Writes into det.x, det.y, det.w, det.h and leaves the other fields alone.
void map_box_to_image(double x1, double y1, double x2, double y2, const InputGeometry& geometry, Detection& det);

}  // namespace train
