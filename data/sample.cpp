#include "data/sample.h"

#include <algorithm>

namespace data {

void clip_and_filter(Sample& sample, float min_size) {
  const float w = static_cast<float>(sample.image.width);
  const float h = static_cast<float>(sample.image.height);
  // Zero-size boxes would be padding to yolo_loss, so the floor is never 0.
  const float floor = std::max(min_size, 1e-3f);
  std::vector<Target> kept;
  kept.reserve(sample.targets.size());
  for (Target t : sample.targets) {
    t.box.x1 = std::clamp(t.box.x1, 0.0f, w);
    t.box.x2 = std::clamp(t.box.x2, 0.0f, w);
    t.box.y1 = std::clamp(t.box.y1, 0.0f, h);
    t.box.y2 = std::clamp(t.box.y2, 0.0f, h);
    if (t.box.width() >= floor && t.box.height() >= floor) kept.push_back(t);
  }
  sample.targets = std::move(kept);
}

float box_iou(const Box& a, const Box& b) {
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const float inter = iw * ih;
  const float uni = a.width() * a.height() + b.width() * b.height() - inter;
  return uni > 0 ? inter / uni : 0;
}

}  // namespace data
