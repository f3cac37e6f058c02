// Photometric distortion (SSD's / PaddleDetection's RandomDistort):
// brightness, contrast, saturation and hue, each applied with a probability,
// contrast either first or last. Pixels are on the 0..255 scale and clamped
// there at the end; boxes are untouched.
#pragma once

#include <random>

#include "data/sample.h"

namespace data {

struct DistortParams {
  bool enabled = true;
  float prob = 0.5f;              // per component
  float brightness = 32.0f;       // delta drawn from [-brightness, brightness]
  float contrast_low = 0.5f, contrast_high = 1.5f;
  float saturation_low = 0.5f, saturation_high = 1.5f;
  float hue = 18.0f;              // degrees, drawn from [-hue, hue]
};

void adjust_brightness(Image& image, float delta);    // v + delta
void adjust_contrast(Image& image, float factor);     // v * factor
void adjust_saturation(Image& image, float factor);   // gray + factor * (v - gray)
// Rotates the chroma plane of YIQ by `degrees`; luma and grays keep their value.
void adjust_hue(Image& image, float degrees);
void clamp_pixels(Image& image);

void random_distort(Sample& sample, const DistortParams& params, std::mt19937& rng);

}  // namespace data
