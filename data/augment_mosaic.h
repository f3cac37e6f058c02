// Mosaic (YOLOv4's; ultralytics and AlexeyAB's Darknet have it): four
// training images in one, meeting at a random point, so every sample shows
// more objects, at more positions and cut at more edges. It runs first in
// the chain, before mixup and every other geometric step (pipeline.h).
// docs/augmentations.md describes the layout.
#pragma once

#include <array>
#include <random>

#include "data/sample.h"

namespace data {

struct MosaicParams {
  float prob = 0.0f;  // share of training samples made a mosaic (0 = off)
};

// The point where the tiles meet is drawn in [kMosaicCentreLow,
// kMosaicCentreHigh) x side on each axis, so every tile keeps at least a
// quarter of the canvas on each axis.
inline constexpr float kMosaicCentreLow = 0.25f;
inline constexpr float kMosaicCentreHigh = 0.75f;
// A box cut to under this share of its area is dropped: a sliver of an
// object is not a label worth learning from.
inline constexpr float kMosaicMinVisibleArea = 0.2f;

// A side x side canvas filled with `fill` (RGB, 0..255); tiles meet at
// (cx, cy). parts[k] is first scaled so its longer side is `side`, then
// placed with the corner nearest the centre at (cx, cy): 0 top-left (its
// bottom-right corner there), 1 top-right, 2 bottom-left, 3 bottom-right.
// Pixels outside a tile's quarter are not drawn; boxes are cut at the
// quarter's edges and dropped when less than min_box_size pixels wide or
// high, or less than kMosaicMinVisibleArea of their area, is left.
Sample mosaic(const std::array<const Sample*, 4>& parts, int side, int cx, int cy, const float fill[3],
              float min_box_size);

// mosaic() of `first` (whose longer side sets the canvas side) and three
// partners at a random centre.
Sample random_mosaic(const Sample& first, const std::array<const Sample*, 3>& partners, const float fill[3],
                     float min_box_size, std::mt19937& rng);

}  // namespace data
