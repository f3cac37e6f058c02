// The built-in synthetic detection data set: coloured shapes (circle,
// rectangle, triangle, diamond, cross, star; filled or outlined) over noisy,
// striped or gradient backgrounds, with sizes from under a tenth to over
// half of the image side. Class = shape kind. Each image is a pure function
// of (seed, index), so the same seed gives byte-identical files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/sample.h"

namespace data {

struct ShapesOptions {
  std::string out;               // DIR
  std::string format = "all";    // voc | coco | darknet | all
  int images = 200;              // total, split 80/10/10 into train/val/test
  int classes = 6;               // first K shape kinds
  int size = 416;                // longer image side
  std::uint64_t seed = 0;
};

// Names of the first k shape kinds; throws core::ConfigError unless 1 <= k <= 6.
std::vector<std::string> shape_class_names(int k);

// Renders image `index`: a size-wide (or size-tall) image, aspect between
// 0.6 and 1, with 1 to 8 objects whose boxes are the exact extent of their
// drawn pixels.
Sample render_shapes_image(const ShapesOptions& options, int index);

}  // namespace data
