#include "models/detect/decode.h"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>

#include "core/error.h"
#include "models/letterbox.h"

namespace models {

namespace {

float logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// img points at one image's (S*(5+C), H, W) block; T is float or double
// (float64 heads come from gradient-check models and tests).
template <class T>
void decode_image(const T* img, int H, int W, const YoloLayer& layer, int net_width, int net_height, float thresh,
                  std::vector<DecodedBox>& boxes) {
  const int S = static_cast<int>(layer.mask.size()), C = layer.classes;
  const std::size_t plane = std::size_t(H) * W;
  for (int row = 0; row < H; ++row) {
    for (int col = 0; col < W; ++col) {
      const std::size_t loc = std::size_t(row) * W + col;
      for (int a = 0; a < S; ++a) {
        const T* entry = img + std::size_t(a) * (5 + C) * plane + loc;
        const float objectness = logistic(static_cast<float>(entry[4 * plane]));
        if (!(objectness > thresh)) continue;
        // Class probabilities first: a box none of whose classes passes the
        // threshold is never decoded (it could neither be drawn nor suppress).
        DecodedBox b;
        b.prob.assign(std::size_t(C), 0.0f);
        bool any = false;
        for (int j = 0; j < C; ++j) {
          const float p = objectness * logistic(static_cast<float>(entry[std::size_t(5 + j) * plane]));
          if (p > thresh) {
            b.prob[std::size_t(j)] = p;
            any = true;
          }
        }
        if (!any) continue;
        const std::size_t k = static_cast<std::size_t>(layer.mask[std::size_t(a)]);
        b.x = (static_cast<float>(col) + logistic(static_cast<float>(entry[0]))) / static_cast<float>(W);
        b.y = (static_cast<float>(row) + logistic(static_cast<float>(entry[plane]))) / static_cast<float>(H);
        b.w = std::exp(static_cast<float>(entry[2 * plane])) * layer.anchors[2 * k] / static_cast<float>(net_width);
        b.h = std::exp(static_cast<float>(entry[3 * plane])) * layer.anchors[2 * k + 1] / static_cast<float>(net_height);
        b.objectness = objectness;
        boxes.push_back(std::move(b));
      }
    }
  }
}

}  // namespace

// head (N, S*(5+C), H, W) raw, float32 or float64.
std::vector<DecodedBox> decode_yolo_head(const core::Tensor& head, int n, const YoloLayer& layer, int net_width,
                                         int net_height, float thresh) {
  const int S = static_cast<int>(layer.mask.size()), C = layer.classes;
  if (head.dtype() != core::DType::f32 && head.dtype() != core::DType::f64) {
    throw core::ValueError(fmt::format("decode_yolo_head: head {} must be float32 or float64", head.describe()));
  }
  if (head.dim() != 4 || head.size(1) != static_cast<std::int64_t>(S) * (5 + C)) {
    throw core::ShapeError(fmt::format("decode_yolo_head: head {} does not fit a yolo layer with {} anchors and {} "
                                       "classes (expected [N, {}, H, W])",
                                       head.describe(), S, C, S * (5 + C)));
  }
  if (n < 0 || n >= head.size(0)) {
    throw core::ValueError(fmt::format("decode_yolo_head: image {} out of range for head {}", n, head.describe()));
  }
  for (int k : layer.mask) {
    if (k < 0 || 2 * static_cast<std::size_t>(k) + 1 >= layer.anchors.size()) {
      throw core::ValueError(fmt::format("decode_yolo_head: mask index {} outside the {} anchors", k,
                                         layer.anchors.size() / 2));
    }
  }
  const int H = static_cast<int>(head.size(2)), W = static_cast<int>(head.size(3));
  const std::size_t per_image = std::size_t(S) * (5 + C) * H * W;
  std::vector<DecodedBox> boxes;
  if (head.dtype() == core::DType::f64) {
    decode_image(head.data<double>() + std::size_t(n) * per_image, H, W, layer, net_width, net_height, thresh, boxes);
  } else {
    decode_image(head.data<float>() + std::size_t(n) * per_image, H, W, layer, net_width, net_height, thresh, boxes);
  }
  return boxes;
}

std::vector<DecodedBox> decode_yolo_heads(const std::vector<core::Tensor>& heads, const std::vector<YoloLayer>& layers,
                                          int n, int net_width, int net_height, float thresh) {
  if (heads.size() != layers.size()) {
    throw core::ShapeError(fmt::format("decode_yolo_heads: {} heads for {} yolo layers", heads.size(), layers.size()));
  }
  std::vector<DecodedBox> boxes;
  for (std::size_t i = 0; i < heads.size(); ++i) {
    std::vector<DecodedBox> part = decode_yolo_head(heads[i], n, layers[i], net_width, net_height, thresh);
    boxes.insert(boxes.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return boxes;
}

void correct_letterbox_boxes(std::vector<DecodedBox>& boxes, int image_width, int image_height, int net_width,
                             int net_height) {
  // Throws core::ValueError for non-positive sizes.
  const LetterboxGeometry g = letterbox_geometry(image_width, image_height, net_width, net_height);
  const int new_w = g.new_w, new_h = g.new_h;
  // Darknet mixes double (the /2. margin) and float here; the result is
  // stored back into its float box.
  for (DecodedBox& b : boxes) {
    b.x = static_cast<float>((b.x - (net_width - new_w) / 2. / net_width) / (static_cast<float>(new_w) / net_width));
    b.y = static_cast<float>((b.y - (net_height - new_h) / 2. / net_height) / (static_cast<float>(new_h) / net_height));
    b.w *= static_cast<float>(net_width) / new_w;
    b.h *= static_cast<float>(net_height) / new_h;
  }
}

}  // namespace models
