#include "data/augment_mosaic.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "data/augment_resize.h"
#include "data/rng.h"

namespace data {

namespace {

struct Rect {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;  // [x1, x2) x [y1, y2)
};

// The sample with its longer side scaled to `side` (boxes with it).
Sample scaled_to(const Sample& s, int side) {
  const int longer = std::max(s.image.width, s.image.height);
  if (longer == side) return s;
  const float k = static_cast<float>(side) / static_cast<float>(longer);
  const int w = std::max(1, static_cast<int>(std::lround(s.image.width * k)));
  const int h = std::max(1, static_cast<int>(std::lround(s.image.height * k)));
  Sample out{resize_image(s.image, w, h, Interp::bilinear), s.targets};
  const float kx = static_cast<float>(w) / s.image.width, ky = static_cast<float>(h) / s.image.height;
  for (Target& t : out.targets) t.box = {t.box.x1 * kx, t.box.y1 * ky, t.box.x2 * kx, t.box.y2 * ky};
  return out;
}

// Copies the part of `tile` (placed with its top-left corner at `at`) that
// lies inside `quarter`, and its boxes cut to that part.
void place(const Sample& tile, int at_x, int at_y, const Rect& quarter, float min_box_size, Sample& canvas) {
  const Rect shown{std::max(quarter.x1, at_x), std::max(quarter.y1, at_y),
                   std::min(quarter.x2, at_x + tile.image.width), std::min(quarter.y2, at_y + tile.image.height)};
  if (shown.x2 <= shown.x1 || shown.y2 <= shown.y1) return;
  for (int y = shown.y1; y < shown.y2; ++y) {
    std::memcpy(canvas.image.at(shown.x1, y), tile.image.at(shown.x1 - at_x, y - at_y),
                sizeof(float) * 3 * static_cast<std::size_t>(shown.x2 - shown.x1));
  }
  for (Target t : tile.targets) {
    const float whole = t.box.width() * t.box.height();
    t.box.x1 = std::clamp(t.box.x1 + static_cast<float>(at_x), static_cast<float>(shown.x1), static_cast<float>(shown.x2));
    t.box.x2 = std::clamp(t.box.x2 + static_cast<float>(at_x), static_cast<float>(shown.x1), static_cast<float>(shown.x2));
    t.box.y1 = std::clamp(t.box.y1 + static_cast<float>(at_y), static_cast<float>(shown.y1), static_cast<float>(shown.y2));
    t.box.y2 = std::clamp(t.box.y2 + static_cast<float>(at_y), static_cast<float>(shown.y1), static_cast<float>(shown.y2));
    const float min_side = std::max(min_box_size, 1e-3f);  // a box cut to nothing never survives
    const bool big_enough = t.box.width() >= min_side && t.box.height() >= min_side;
    if (big_enough && t.box.width() * t.box.height() >= kMosaicMinVisibleArea * whole) canvas.targets.push_back(t);
  }
}

}  // namespace

Sample mosaic(const std::array<const Sample*, 4>& parts, int side, int cx, int cy, const float fill[3],
              float min_box_size) {
  Sample canvas{Image(side, side), {}};
  for (std::size_t i = 0; i < canvas.image.pixels.size(); i += 3) {
    std::memcpy(&canvas.image.pixels[i], fill, 3 * sizeof(float));
  }
  const std::array<Rect, 4> quarters{Rect{0, 0, cx, cy}, Rect{cx, 0, side, cy}, Rect{0, cy, cx, side},
                                     Rect{cx, cy, side, side}};
  for (int k = 0; k < 4; ++k) {
    const Sample tile = scaled_to(*parts[static_cast<std::size_t>(k)], side);
    // Left tiles end at cx, right ones start there; likewise top and bottom.
    const int at_x = (k % 2 == 0) ? cx - tile.image.width : cx;
    const int at_y = (k < 2) ? cy - tile.image.height : cy;
    place(tile, at_x, at_y, quarters[static_cast<std::size_t>(k)], min_box_size, canvas);
  }
  return canvas;
}

Sample random_mosaic(const Sample& first, const std::array<const Sample*, 3>& partners, const float fill[3],
                     float min_box_size, std::mt19937& rng) {
  const int side = std::max(first.image.width, first.image.height);
  const int cx = static_cast<int>(uniform(rng, kMosaicCentreLow, kMosaicCentreHigh) * static_cast<float>(side));
  const int cy = static_cast<int>(uniform(rng, kMosaicCentreLow, kMosaicCentreHigh) * static_cast<float>(side));
  return mosaic({&first, partners[0], partners[1], partners[2]}, side, cx, cy, fill, min_box_size);
}

}  // namespace data
