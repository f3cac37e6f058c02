#include "data/augment_mixup.h"

#include <algorithm>

namespace data {

namespace {
void blend_into(Image& canvas, const Image& src, float weight) {
  for (int y = 0; y < src.height; ++y) {
    float* dst = canvas.at(0, y);
    const float* s = src.at(0, y);
    for (int i = 0; i < src.width * 3; ++i) dst[i] += weight * s[i];
  }
}
}  // namespace

Sample mixup(const Sample& a, const Sample& b, float weight) {
  if (weight >= 1.0f) return a;
  if (weight <= 0.0f) return b;
  Sample out;
  out.image = Image(std::max(a.image.width, b.image.width), std::max(a.image.height, b.image.height));
  blend_into(out.image, a.image, weight);
  blend_into(out.image, b.image, 1.0f - weight);
  for (Target t : a.targets) {
    t.score *= weight;
    out.targets.push_back(t);
  }
  for (Target t : b.targets) {
    t.score *= 1.0f - weight;
    out.targets.push_back(t);
  }
  return out;
}

float sample_beta(float alpha, float beta, std::mt19937& rng) {
  std::gamma_distribution<float> ga(alpha, 1.0f), gb(beta, 1.0f);
  const float x = ga(rng);
  const float y = gb(rng);
  return x + y > 0 ? x / (x + y) : 0.5f;
}

Sample random_mixup(const Sample& a, const Sample& b, const MixupParams& params, std::mt19937& rng) {
  if (!params.enabled) return a;
  return mixup(a, b, std::clamp(sample_beta(params.alpha, params.beta, rng), 0.0f, 1.0f));
}

}  // namespace data
