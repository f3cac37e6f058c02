#include "models/detect/nms.h"

#include <algorithm>
#include <cstddef>
#include <numeric>

namespace models {

namespace {

// Overlap of two segments given by centre and length (Darknet's overlap()).
float overlap(float c1, float len1, float c2, float len2) {
  const float left = std::max(c1 - len1 / 2, c2 - len2 / 2);
  const float right = std::min(c1 + len1 / 2, c2 + len2 / 2);
  return right - left;
}

}  // namespace

float box_iou(const DecodedBox& a, const DecodedBox& b) {
  const float w = overlap(a.x, a.w, b.x, b.w), h = overlap(a.y, a.h, b.y, b.h);
  if (w <= 0 || h <= 0) return 0.0f;
  const float inter = w * h;
  const float uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

void nms_sort(std::vector<DecodedBox>& boxes, float iou_thresh) {
  // Darknet swaps zero-objectness boxes to the end; they never carry a
  // probability, so dropping them changes nothing else.
  std::erase_if(boxes, [](const DecodedBox& b) { return b.objectness == 0; });
  if (boxes.empty()) return;
  const std::size_t classes = boxes.front().prob.size();
  std::vector<std::size_t> order(boxes.size());
  for (std::size_t k = 0; k < classes; ++k) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Darknet uses qsort, whose tie order is unspecified; a stable sort makes
    // ours reproducible.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t i, std::size_t j) { return boxes[i].prob[k] > boxes[j].prob[k]; });
    for (std::size_t i = 0; i < order.size(); ++i) {
      const DecodedBox& a = boxes[order[i]];
      if (a.prob[k] == 0) continue;
      for (std::size_t j = i + 1; j < order.size(); ++j) {
        DecodedBox& b = boxes[order[j]];
        if (b.prob[k] != 0 && box_iou(a, b) > iou_thresh) b.prob[k] = 0;
      }
    }
  }
}

std::vector<ImageDetection> to_image_detections(const std::vector<DecodedBox>& boxes, int image_width,
                                                int image_height, float thresh, int max_dets) {
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  std::vector<ImageDetection> out;
  for (const DecodedBox& b : boxes) {
    for (std::size_t k = 0; k < b.prob.size(); ++k) {
      if (!(b.prob[k] > thresh)) continue;
      // Clipped as Darknet's validate_detector clips what it writes.
      ImageDetection d;
      d.x1 = std::clamp((b.x - b.w / 2) * W, 0.0f, W);
      d.y1 = std::clamp((b.y - b.h / 2) * H, 0.0f, H);
      d.x2 = std::clamp((b.x + b.w / 2) * W, 0.0f, W);
      d.y2 = std::clamp((b.y + b.h / 2) * H, 0.0f, H);
      d.label = static_cast<int>(k);
      d.score = b.prob[k];
      out.push_back(d);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ImageDetection& a, const ImageDetection& b) { return a.score > b.score; });
  if (max_dets > 0 && out.size() > static_cast<std::size_t>(max_dets)) out.resize(static_cast<std::size_t>(max_dets));
  return out;
}

}  // namespace models
