#include "data/augment_geometry.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "data/rng.h"

namespace data {

void expand(Sample& sample, int canvas_w, int canvas_h, int left, int top, const float fill[3]) {
  const Image& src = sample.image;
  assert(left >= 0 && top >= 0 && left + src.width <= canvas_w && top + src.height <= canvas_h);
  Image canvas(canvas_w, canvas_h);
  for (std::size_t i = 0; i < canvas.pixels.size(); i += 3) std::memcpy(&canvas.pixels[i], fill, 3 * sizeof(float));
  for (int y = 0; y < src.height; ++y) {
    std::memcpy(canvas.at(left, top + y), src.at(0, y), sizeof(float) * 3 * src.width);
  }
  sample.image = std::move(canvas);
  for (Target& t : sample.targets) {
    t.box.x1 += left;
    t.box.x2 += left;
    t.box.y1 += top;
    t.box.y2 += top;
  }
}

void random_expand(Sample& sample, const ExpandParams& params, std::mt19937& rng) {
  if (!params.enabled || params.max_ratio <= 1.0f) return;
  const bool apply = coin(rng, params.prob);
  const float ratio = uniform(rng, 1.0f, params.max_ratio);
  const float fx = uniform(rng, 0.0f, 1.0f), fy = uniform(rng, 0.0f, 1.0f);
  if (!apply) return;
  const int w = sample.image.width, h = sample.image.height;
  const int cw = static_cast<int>(w * ratio), ch = static_cast<int>(h * ratio);
  expand(sample, cw, ch, static_cast<int>(fx * (cw - w)), static_cast<int>(fy * (ch - h)), params.fill);
}

void crop(Sample& sample, int x, int y, int w, int h, float min_box_size) {
  const Image& src = sample.image;
  assert(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= src.width && y + h <= src.height);
  Image out(w, h);
  for (int row = 0; row < h; ++row) std::memcpy(out.at(0, row), src.at(x, y + row), sizeof(float) * 3 * w);
  std::vector<Target> kept;
  for (Target t : sample.targets) {
    const float cx = (t.box.x1 + t.box.x2) / 2, cy = (t.box.y1 + t.box.y2) / 2;
    if (cx < x || cx >= x + w || cy < y || cy >= y + h) continue;
    t.box.x1 -= x;
    t.box.x2 -= x;
    t.box.y1 -= y;
    t.box.y2 -= y;
    kept.push_back(t);
  }
  sample.image = std::move(out);
  sample.targets = std::move(kept);
  clip_and_filter(sample, min_box_size);
}

bool random_crop(Sample& sample, const CropParams& params, float min_box_size, std::mt19937& rng) {
  if (!params.enabled || sample.targets.empty()) return false;
  const int W = sample.image.width, H = sample.image.height;
  // Option index == min_ious.size() is SSD's "use the whole image".
  const std::uint32_t options = static_cast<std::uint32_t>(params.min_ious.size()) + 1;
  const std::uint32_t pick = uniform_index(rng, options);
  if (pick + 1 == options) return false;
  const float min_iou = params.min_ious[pick];
  for (int attempt = 0; attempt < params.attempts; ++attempt) {
    const float scale = uniform(rng, params.min_scale, params.max_scale);
    // Keep both sides within the image: aspect in [scale^2, 1/scale^2].
    const float lo = std::max(params.min_aspect, scale * scale);
    const float hi = std::min(params.max_aspect, 1.0f / (scale * scale));
    const float aspect = uniform(rng, lo, std::max(lo, hi));
    const int cw = std::clamp(static_cast<int>(W * scale * std::sqrt(aspect)), 1, W);
    const int ch = std::clamp(static_cast<int>(H * scale / std::sqrt(aspect)), 1, H);
    const int cx = static_cast<int>(uniform(rng, 0.0f, 1.0f) * static_cast<float>(W - cw + 1));
    const int cy = static_cast<int>(uniform(rng, 0.0f, 1.0f) * static_cast<float>(H - ch + 1));
    const Box region{static_cast<float>(cx), static_cast<float>(cy), static_cast<float>(cx + cw),
                     static_cast<float>(cy + ch)};
    bool ok = false;
    for (const Target& t : sample.targets) {
      const float mx = (t.box.x1 + t.box.x2) / 2, my = (t.box.y1 + t.box.y2) / 2;
      const bool centre_in = mx >= region.x1 && mx < region.x2 && my >= region.y1 && my < region.y2;
      if (centre_in && box_iou(t.box, region) >= min_iou) ok = true;
    }
    if (!ok) continue;
    Sample trial = sample;
    crop(trial, cx, cy, cw, ch, min_box_size);
    if (trial.targets.empty()) continue;
    sample = std::move(trial);
    return true;
  }
  return false;
}

void flip_horizontal(Sample& sample) {
  Image& im = sample.image;
  for (int y = 0; y < im.height; ++y) {
    float* row = im.at(0, y);
    for (int l = 0, r = im.width - 1; l < r; ++l, --r) {
      for (int c = 0; c < 3; ++c) std::swap(row[l * 3 + c], row[r * 3 + c]);
    }
  }
  const float w = static_cast<float>(im.width);
  for (Target& t : sample.targets) {
    const float x1 = w - t.box.x2, x2 = w - t.box.x1;
    t.box.x1 = x1;
    t.box.x2 = x2;
  }
}

void random_flip(Sample& sample, const FlipParams& params, std::mt19937& rng) {
  if (params.enabled && coin(rng, params.prob)) flip_horizontal(sample);
}

}  // namespace data
