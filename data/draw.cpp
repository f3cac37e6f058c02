#include "data/draw.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace data {

namespace {

constexpr float kColours[10][3] = {{255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49},
                                   {72, 249, 10},  {26, 147, 52},   {0, 212, 187},  {44, 153, 168}, {0, 194, 255}};

// 3x5 glyphs, one row per 3 bits (MSB left).
const unsigned char* glyph(char c) {
  static const unsigned char digits[10][5] = {{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7},
                                              {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1},
                                              {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};
  static const unsigned char dot[5] = {0, 0, 0, 0, 2}, colon[5] = {0, 2, 0, 2, 0}, dash[5] = {0, 0, 7, 0, 0};
  if (c >= '0' && c <= '9') return digits[c - '0'];
  if (c == '.') return dot;
  if (c == ':') return colon;
  if (c == '-') return dash;
  return nullptr;
}

void fill_rect(Image& im, int x0, int y0, int x1, int y1, const float colour[3]) {
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, im.width);
  y1 = std::min(y1, im.height);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) std::copy_n(colour, 3, im.at(x, y));
}

}  // namespace

const float* class_colour(int label) { return kColours[((label % 10) + 10) % 10]; }

void draw_box(Image& image, const Box& box, const float colour[3], int thickness) {
  const int x0 = static_cast<int>(std::floor(box.x1)), y0 = static_cast<int>(std::floor(box.y1));
  const int x1 = static_cast<int>(std::ceil(box.x2)), y1 = static_cast<int>(std::ceil(box.y2));
  fill_rect(image, x0, y0, x1, y0 + thickness, colour);
  fill_rect(image, x0, y1 - thickness, x1, y1, colour);
  fill_rect(image, x0, y0, x0 + thickness, y1, colour);
  fill_rect(image, x1 - thickness, y0, x1, y1, colour);
}

void draw_text(Image& image, int x, int y, const std::string& text, const float colour[3], int scale) {
  const float plate[3] = {0, 0, 0};
  fill_rect(image, x, y, x + static_cast<int>(text.size()) * 4 * scale + scale, y + 7 * scale, plate);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char* g = glyph(text[i]);
    if (g == nullptr) continue;
    const int gx = x + scale + static_cast<int>(i) * 4 * scale;
    for (int row = 0; row < 5; ++row)
      for (int col = 0; col < 3; ++col)
        if (g[row] & (4 >> col)) {
          fill_rect(image, gx + col * scale, y + scale + row * scale, gx + (col + 1) * scale, y + scale + (row + 1) * scale,
                    colour);
        }
  }
}

Image make_grid(const std::vector<Image>& tiles, int cols, int pad) {
  if (tiles.empty()) return Image(1, 1);
  int tw = 0, th = 0;
  for (const Image& t : tiles) {
    tw = std::max(tw, t.width);
    th = std::max(th, t.height);
  }
  const int n = static_cast<int>(tiles.size());
  cols = std::max(1, std::min(cols, n));
  const int rows = (n + cols - 1) / cols;
  Image grid(cols * tw + (cols + 1) * pad, rows * th + (rows + 1) * pad, 64.0f);
  for (int i = 0; i < n; ++i) {
    const int ox = pad + (i % cols) * (tw + pad), oy = pad + (i / cols) * (th + pad);
    for (int y = 0; y < tiles[i].height; ++y) std::copy_n(tiles[i].at(0, y), tiles[i].width * 3, grid.at(ox, oy + y));
  }
  return grid;
}

Image render_batch_row(const Batch& batch, int row, const NormalizeParams& normalize) {
  const int S = batch.size;
  const auto B = batch.gt_box.size(1);
  Image im(S, S);
  const float* src = batch.images.data<float>() + static_cast<std::size_t>(row) * 3 * S * S;
  const std::size_t plane = static_cast<std::size_t>(S) * S;
  for (int c = 0; c < 3; ++c) {
    const float m = normalize.mean_std ? normalize.mean[c] : 0.0f, s = normalize.mean_std ? normalize.std[c] : 1.0f;
    for (std::size_t i = 0; i < plane; ++i) im.pixels[i * 3 + c] = (src[c * plane + i] * s + m) * 255.0f;
  }
  const float* box = batch.gt_box.data<float>() + row * B * 4;
  const std::int32_t* label = batch.gt_label.data<std::int32_t>() + row * B;
  const float* score = batch.gt_score.data<float>() + row * B;
  for (std::int64_t t = 0; t < B; ++t) {
    const float* b = box + t * 4;
    if (b[2] < 1e-6f || b[3] < 1e-6f) continue;  // padding row
    const Box px{(b[0] - b[2] / 2) * S, (b[1] - b[3] / 2) * S, (b[0] + b[2] / 2) * S, (b[1] + b[3] / 2) * S};
    draw_box(im, px, class_colour(label[t]), 2);
    draw_text(im, static_cast<int>(px.x1), std::max(0, static_cast<int>(px.y1) - 14),
              fmt::format("{}:{:.2f}", label[t], score[t]), class_colour(label[t]), 2);
  }
  return im;
}

}  // namespace data
