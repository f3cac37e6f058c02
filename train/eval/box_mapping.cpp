#include "train/eval/box_mapping.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace train {

namespace {

void check_sizes(const char* what, int image_width, int image_height, int input_width, int input_height) {
  if (image_width <= 0 || image_height <= 0 || input_width <= 0 || input_height <= 0) {
    throw core::ValueError(fmt::format("{}: image {}x{} and input {}x{} must both have positive sizes", what,
                                       image_width, image_height, input_width, input_height));
  }
}

}  // namespace

InputGeometry stretch_geometry(int image_width, int image_height, int input_width, int input_height) {
  check_sizes("stretch_geometry", image_width, image_height, input_width, input_height);
  return {image_width, image_height, static_cast<double>(input_width), static_cast<double>(input_height), 0, 0};
}

InputGeometry letterbox_geometry(int image_width, int image_height, int input_width, int input_height) {
  check_sizes("letterbox_geometry", image_width, image_height, input_width, input_height);
  // Float arithmetic as in data::resize_sample, so the inverse matches the
  // forward transform pixel for pixel.
  const float s = std::min(static_cast<float>(input_width) / static_cast<float>(image_width),
                           static_cast<float>(input_height) / static_cast<float>(image_height));
  const int w = std::clamp(static_cast<int>(std::lround(static_cast<float>(image_width) * s)), 1, input_width);
  const int h = std::clamp(static_cast<int>(std::lround(static_cast<float>(image_height) * s)), 1, input_height);
  return {image_width, image_height, static_cast<double>(w), static_cast<double>(h),
          static_cast<double>((input_width - w) / 2), static_cast<double>((input_height - h) / 2)};
}

void map_box_to_image(double x1, double y1, double x2, double y2, const InputGeometry& g, Detection& det) {
  const double sx = g.image_width / g.content_width, sy = g.image_height / g.content_height;
  auto clip = [](double v, double hi) { return std::clamp(v, 0.0, hi); };
  const double ox1 = clip((x1 - g.offset_x) * sx, g.image_width), ox2 = clip((x2 - g.offset_x) * sx, g.image_width);
  const double oy1 = clip((y1 - g.offset_y) * sy, g.image_height), oy2 = clip((y2 - g.offset_y) * sy, g.image_height);
  det.x = ox1;
  det.y = oy1;
  det.w = std::max(0.0, ox2 - ox1);
  det.h = std::max(0.0, oy2 - oy1);
}

}  // namespace train
