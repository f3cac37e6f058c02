// Drawing for previews: box outlines, a tiny built-in digit font for labels
// and scores, grids of tiles, and turning a batch back into pictures.
#pragma once

#include <string>
#include <vector>

#include "data/batch.h"
#include "data/image.h"

namespace data {

// A distinct colour per class (cycles after 10).
const float* class_colour(int label);

// Outline of the box, `thickness` pixels inside its edges, clipped to the image.
void draw_box(Image& image, const Box& box, const float colour[3], int thickness);

// Digits, '.', ':' and '-' on a dark plate, 3x5 glyphs scaled by `scale`;
// other characters are left blank.
void draw_text(Image& image, int x, int y, const std::string& text, const float colour[3], int scale);

// Tiles of equal size in rows of `cols`, separated by `pad` gray pixels.
Image make_grid(const std::vector<Image>& tiles, int cols, int pad);

// Row i of a batch as a picture: pixels un-normalised, each gt drawn in its
// class colour with "label:score".
Image render_batch_row(const Batch& batch, int row, const NormalizeParams& normalize);

}  // namespace data
