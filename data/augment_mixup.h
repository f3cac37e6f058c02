// Mixup (Zhang et al.; PaddleDetection's MixupImage): two samples blended
// with a Beta-distributed weight. The boxes of both are kept and each box's
// score becomes its image's weight, which is what yolo_loss's gt_score reads.
#pragma once

#include <random>

#include "data/sample.h"

namespace data {

struct MixupParams {
  bool enabled = true;
  float alpha = 1.5f;  // Beta(alpha, beta)
  float beta = 1.5f;
};

// a * weight + b * (1 - weight) on a canvas of the larger width and height
// (both anchored at the top-left corner, uncovered pixels 0). a's scores are
// multiplied by weight, b's by 1 - weight. weight >= 1 returns a, <= 0 b.
Sample mixup(const Sample& a, const Sample& b, float weight);

// A Beta(alpha, beta) draw from two Gamma draws.
float sample_beta(float alpha, float beta, std::mt19937& rng);

Sample random_mixup(const Sample& a, const Sample& b, const MixupParams& params, std::mt19937& rng);

}  // namespace data
