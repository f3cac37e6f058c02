#include "data/shapes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "data/rng.h"

namespace data {

namespace {

enum class Kind { circle, rectangle, triangle, diamond, cross, star };
constexpr int kKinds = 6;

// Shape membership in the unit frame: (u, v) in [-1, 1]^2 spans the box.
bool inside(Kind kind, float u, float v) {
  switch (kind) {
    case Kind::circle: return u * u + v * v <= 1.0f;
    case Kind::rectangle: return std::fabs(u) <= 1.0f && std::fabs(v) <= 1.0f;
    case Kind::triangle: return v <= 1.0f && v >= -1.0f && std::fabs(u) <= (v + 1.0f) * 0.5f;
    case Kind::diamond: return std::fabs(u) + std::fabs(v) <= 1.0f;
    case Kind::cross: {
      const float au = std::fabs(u), av = std::fabs(v);
      return (au <= 0.34f && av <= 1.0f) || (av <= 0.34f && au <= 1.0f);
    }
    case Kind::star: {
      // Five points; the radius falls linearly in angle from 1 at a tip to
      // 0.45 half-way to the next tip.
      const float r = std::sqrt(u * u + v * v);
      if (r > 1.0f) return false;
      const float tau = 2.0f * std::numbers::pi_v<float>;
      float a = std::atan2(u, -v);  // 0 at the top tip
      a = std::fmod(a + tau, tau / 5.0f) / (tau / 5.0f);
      const float t = std::fabs(a - 0.5f) * 2.0f;  // 1 at a tip, 0 between
      return r <= 0.45f + 0.55f * t;
    }
  }
  return false;
}

struct Placed {
  Box box;
  int label;
};

// Base colours far enough apart to tell apart under the photometric jitter.
constexpr float kPalette[8][3] = {{220, 40, 40},  {40, 180, 60},  {40, 80, 220}, {240, 200, 30},
                                  {200, 60, 200}, {30, 200, 210}, {245, 245, 245}, {25, 25, 25}};

void paint_background(Image& im, std::mt19937& rng) {
  float c0[3], c1[3];
  for (int c = 0; c < 3; ++c) {
    c0[c] = uniform(rng, 60, 200);
    c1[c] = uniform(rng, 60, 200);
  }
  const int style = static_cast<int>(uniform_index(rng, 3));  // 0 gradient, 1 stripes, 2 blotches
  const float angle = uniform(rng, 0, std::numbers::pi_v<float>);
  const float freq = uniform(rng, 0.02f, 0.12f);
  const float noise = uniform(rng, 5, 25);
  const float dx = std::cos(angle), dy = std::sin(angle);
  const float diag = static_cast<float>(im.width + im.height);
  for (int y = 0; y < im.height; ++y) {
    for (int x = 0; x < im.width; ++x) {
      const float proj = x * dx + y * dy;
      float t = 0;
      if (style == 0) t = proj / diag;
      else if (style == 1) t = 0.5f + 0.5f * std::sin(proj * freq);
      else t = 0.5f + 0.25f * (std::sin(x * freq) + std::cos(y * freq * 1.3f));
      float* p = im.at(x, y);
      for (int c = 0; c < 3; ++c) p[c] = c0[c] + t * (c1[c] - c0[c]) + uniform(rng, -noise, noise);
    }
  }
}

// Draws one shape with 2x2 supersampled coverage; returns the extent of the
// touched pixels (empty box when nothing was drawn).
Box draw_shape(Image& im, Kind kind, const Box& frame, bool outlined, float thickness, const float colour[3]) {
  const float cx = (frame.x1 + frame.x2) / 2, cy = (frame.y1 + frame.y2) / 2;
  const float hw = frame.width() / 2, hh = frame.height() / 2;
  const float keep = 1.0f - thickness;  // inner shape scale for outlines
  Box extent{1e9f, 1e9f, -1e9f, -1e9f};
  const int x0 = std::max(0, static_cast<int>(frame.x1) - 1), x1 = std::min(im.width, static_cast<int>(frame.x2) + 2);
  const int y0 = std::max(0, static_cast<int>(frame.y1) - 1), y1 = std::min(im.height, static_cast<int>(frame.y2) + 2);
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      int hits = 0;
      for (int s = 0; s < 4; ++s) {
        const float u = (x + 0.25f + 0.5f * (s & 1) - cx) / hw;
        const float v = (y + 0.25f + 0.5f * (s >> 1) - cy) / hh;
        const bool in = inside(kind, u, v) && !(outlined && inside(kind, u / keep, v / keep));
        hits += in ? 1 : 0;
      }
      if (hits == 0) continue;
      const float alpha = hits / 4.0f;
      float* p = im.at(x, y);
      for (int c = 0; c < 3; ++c) p[c] += alpha * (colour[c] - p[c]);
      extent.x1 = std::min(extent.x1, static_cast<float>(x));
      extent.y1 = std::min(extent.y1, static_cast<float>(y));
      extent.x2 = std::max(extent.x2, static_cast<float>(x + 1));
      extent.y2 = std::max(extent.y2, static_cast<float>(y + 1));
    }
  }
  return extent.x2 > extent.x1 ? extent : Box{};
}

bool overlaps_too_much(const Box& b, const std::vector<Placed>& placed) {
  for (const Placed& p : placed) {
    const float iw = std::min(b.x2, p.box.x2) - std::max(b.x1, p.box.x1);
    const float ih = std::min(b.y2, p.box.y2) - std::max(b.y1, p.box.y1);
    if (iw <= 0 || ih <= 0) continue;
    // Some overlap is wanted; hiding most of an earlier object is not, since
    // its box would then no longer describe what is visible.
    const float inter = iw * ih;
    if (inter > 0.35f * p.box.width() * p.box.height() || inter > 0.6f * b.width() * b.height()) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> shape_class_names(int k) {
  static const std::vector<std::string> all = {"circle", "rectangle", "triangle", "diamond", "cross", "star"};
  if (k < 1 || k > kKinds) throw core::ConfigError(fmt::format("make-shapes: --classes {} must be in [1, {}]", k, kKinds));
  return {all.begin(), all.begin() + k};
}

Sample render_shapes_image(const ShapesOptions& options, int index) {
  std::mt19937 rng = make_rng(options.seed, 0, index, RngPurpose::sample);
  const int longer = options.size;
  const int shorter = std::max(32, static_cast<int>(longer * uniform(rng, 0.6f, 1.0f)));
  const bool wide = coin(rng, 0.5f);
  Sample s;
  s.image = Image(wide ? longer : shorter, wide ? shorter : longer);
  paint_background(s.image, rng);

  const int count = 1 + static_cast<int>(uniform_index(rng, 8));
  const float side = static_cast<float>(std::min(s.image.width, s.image.height));
  std::vector<Placed> placed;
  for (int i = 0; i < count; ++i) {
    for (int attempt = 0; attempt < 30; ++attempt) {
      const int label = static_cast<int>(uniform_index(rng, static_cast<std::uint32_t>(options.classes)));
      // Log-uniform size from 6% to 55% of the shorter side.
      const float size = side * std::exp(uniform(rng, std::log(0.06f), std::log(0.55f)));
      const float w = size * uniform(rng, 0.75f, 1.25f), h = size * uniform(rng, 0.75f, 1.25f);
      if (w >= s.image.width - 2 || h >= s.image.height - 2 || w < 8 || h < 8) continue;
      const float x = uniform(rng, 1.0f, s.image.width - w - 1), y = uniform(rng, 1.0f, s.image.height - h - 1);
      const Box frame{x, y, x + w, y + h};
      if (overlaps_too_much(frame, placed)) continue;
      const bool outlined = coin(rng, 0.3f);
      const float thickness = uniform(rng, 0.15f, 0.3f);
      // Of three palette draws, the one farthest from the background under
      // the shape's centre, so no object blends into its surroundings.
      const float* under = s.image.at(static_cast<int>(x + w / 2), static_cast<int>(y + h / 2));
      const float* base = nullptr;
      float best = -1;
      for (int c = 0; c < 3; ++c) {
        const float* cand = kPalette[uniform_index(rng, 8)];
        const float d = std::fabs(cand[0] - under[0]) + std::fabs(cand[1] - under[1]) + std::fabs(cand[2] - under[2]);
        if (d > best) {
          best = d;
          base = cand;
        }
      }
      float colour[3];
      for (int c = 0; c < 3; ++c) colour[c] = std::clamp(base[c] + uniform(rng, -25, 25), 0.0f, 255.0f);
      const Box extent = draw_shape(s.image, static_cast<Kind>(label), frame, outlined, thickness, colour);
      if (extent.width() <= 0) continue;
      placed.push_back({extent, label});
      break;
    }
  }
  // Whole values, so the JPEG written from it and the preview agree.
  for (float& v : s.image.pixels) v = std::clamp(std::round(v), 0.0f, 255.0f);
  for (const Placed& p : placed) s.targets.push_back({p.box, p.label, 1.0f});
  return s;
}

}  // namespace data
