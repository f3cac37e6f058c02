// Boxes with readable labels on pictures (detections, data previews), grids
// of tiles, and turning a batch back into pictures. Drawn with cairo
// (data/canvas.h) so labels are real text in a real font.
#pragma once

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
