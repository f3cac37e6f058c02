#include "data/augment_color.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "data/rng.h"

namespace data {

namespace {
// BT.601 luma weights, also the Y row of YIQ below.
constexpr float kR = 0.299f, kG = 0.587f, kB = 0.114f;
}  // namespace

void adjust_brightness(Image& image, float delta) {
  for (float& v : image.pixels) v += delta;
}

void adjust_contrast(Image& image, float factor) {
  for (float& v : image.pixels) v *= factor;
}

void adjust_saturation(Image& image, float factor) {
  for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
    float* p = &image.pixels[i];
    const float gray = kR * p[0] + kG * p[1] + kB * p[2];
    for (int c = 0; c < 3; ++c) p[c] = gray + factor * (p[c] - gray);
  }
}

void adjust_hue(Image& image, float degrees) {
  // RGB -> YIQ, rotate (I, Q), back: one 3x3 matrix per call. The YIQ
  // matrices are the exact inverse pair, so a zero rotation is identity.
  const double to_yiq[3][3] = {{kR, kG, kB}, {0.596, -0.274, -0.322}, {0.211, -0.523, 0.312}};
  double from_yiq[3][3];
  {
    // Invert to_yiq once (cofactors) instead of hard-coding rounded inverses.
    const auto& m = to_yiq;
    const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                       m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                       m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) {
        const int r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3;
        from_yiq[r][c] = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / det;
      }
    }
  }
  const double a = degrees * std::numbers::pi / 180.0;
  const double rot[3][3] = {{1, 0, 0}, {0, std::cos(a), -std::sin(a)}, {0, std::sin(a), std::cos(a)}};
  double tmp[3][3] = {}, full[3][3] = {};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) tmp[i][j] += rot[i][k] * to_yiq[k][j];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) full[i][j] += from_yiq[i][k] * tmp[k][j];
  float m[9];
  for (int i = 0; i < 9; ++i) m[i] = static_cast<float>(full[i / 3][i % 3]);
  for (std::size_t i = 0; i < image.pixels.size(); i += 3) {
    float* p = &image.pixels[i];
    const float r = p[0], g = p[1], b = p[2];
    p[0] = m[0] * r + m[1] * g + m[2] * b;
    p[1] = m[3] * r + m[4] * g + m[5] * b;
    p[2] = m[6] * r + m[7] * g + m[8] * b;
  }
}

void clamp_pixels(Image& image) {
  for (float& v : image.pixels) v = std::clamp(v, 0.0f, 255.0f);
}

void random_distort(Sample& sample, const DistortParams& params, std::mt19937& rng) {
  if (!params.enabled) return;
  // Every draw happens whether or not its step applies, so one step's
  // probability does not shift the random stream of the others.
  const bool contrast_first = coin(rng, 0.5f);
  const bool do_b = coin(rng, params.prob), do_c = coin(rng, params.prob);
  const bool do_s = coin(rng, params.prob), do_h = coin(rng, params.prob);
  const float delta = uniform(rng, -params.brightness, params.brightness);
  const float contrast = uniform(rng, params.contrast_low, params.contrast_high);
  const float saturation = uniform(rng, params.saturation_low, params.saturation_high);
  const float hue = uniform(rng, -params.hue, params.hue);
  Image& im = sample.image;
  if (do_b) adjust_brightness(im, delta);
  if (do_c && contrast_first) adjust_contrast(im, contrast);
  if (do_s) adjust_saturation(im, saturation);
  if (do_h) adjust_hue(im, hue);
  if (do_c && !contrast_first) adjust_contrast(im, contrast);
  clamp_pixels(im);
}

}  // namespace data
