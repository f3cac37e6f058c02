// Boxes with readable labels on pictures (detections, data previews), grids
// of tiles, and turning a batch back into pictures. Drawn with cairo
// (data/canvas.h) so labels are real text in a real font.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "data/batch.h"
#include "data/canvas.h"
#include "data/image.h"

namespace data {

// A distinct colour per class (cycles after 20).
Rgb class_colour(int label);

struct LabelledBox {
  Box box;            // image pixels
  int label = 0;      // picks the colour
  std::string text;   // "star 0.97"
};

// The label a box carries: the class name and, when score >= 0, the score
// with two decimals ("star 0.97").
std::string box_label(const std::string& class_name, double score);

// Font size and line width for labels on a picture of this size: text at
// least 12 px high (more on large pictures), lines that stay visible.
struct LabelStyle {
  double font_px = 12;
  double line_width = 2;
};
LabelStyle label_style_for(int width, int height);

// Where a label goes on the picture, in pixels.
struct LabelRect {
  double x = 0, y = 0, w = 0, h = 0;
};

// Labels placed after this many keep their first place.
inline constexpr std::size_t kMaxMovedLabels = 200;

// The place of a label of label_w x label_h for `box`, given the labels
// placed before it: above the box when it fits, else inside its top edge;
// never below or right of the picture (a label wider or taller than the
// picture starts at its left or top edge). Where that covers a label placed
// before (two classes found on one object give boxes with about the same
// corner), it moves to just above or just below a label in its way: the
// nearest free place away from its box first (up from a label above the
// box, down from one inside it), then the nearest towards it; with no free
// place, the one among those that covers the least of the labels before
// it. Labels move only up and down.
LabelRect place_label(int picture_width, int picture_height, const Box& box, double label_w, double label_h,
                      const std::vector<LabelRect>& placed);

// Each box outlined in its class colour, with its text on a filled label of
// the same colour just above the box (inside it when there is no room above),
// kept inside the picture. `boxes` come most important first (detections:
// best score first): an earlier box's outline and label end on top of a
// later one's, and a label that would cover an earlier label moves up or
// down, clear of it, when the picture has room.
void draw_labelled_boxes(Image& image, const std::vector<LabelledBox>& boxes);

// Tiles of equal size in rows of `cols`, separated by `pad` gray pixels.
Image make_grid(const std::vector<Image>& tiles, int cols, int pad);

// Row i of a batch as a picture: pixels un-normalised, each ground truth
// drawn in its class colour, labelled with its class name (from
// `class_names`, or the index when the list is short) and its mixup score.
Image render_batch_row(const Batch& batch, int row, const NormalizeParams& normalize,
                       const std::vector<std::string>& class_names);

}  // namespace data
