// Geometric augmentations: random expand (zoom out onto a mean-filled
// canvas), SSD's IoU-constrained random crop, horizontal flip. Each has a
// deterministic core taking explicit parameters (what the tests pin down)
// and a random wrapper drawing them from the caller's generator. Boxes move
// with the pixels; clip_and_filter() runs after each step that can cut them.
#pragma once

#include <random>
#include <vector>

#include "data/sample.h"

namespace data {

struct ExpandParams {
  bool enabled = true;
  float prob = 0.5f;
  float max_ratio = 4.0f;                          // canvas side / image side, drawn from [1, max_ratio]
  float fill[3] = {123.675f, 116.28f, 103.53f};    // ImageNet mean on the 0..255 scale
};

struct CropParams {
  bool enabled = true;
  // Minimum IoU with some box for a crop to be accepted; each trial picks one
  // of these or "no crop" at random (SSD's sampler; 0 accepts any crop).
  std::vector<float> min_ious = {0.0f, 0.1f, 0.3f, 0.5f, 0.7f, 0.9f};
  float min_scale = 0.3f, max_scale = 1.0f;      // crop side / image side
  float min_aspect = 0.5f, max_aspect = 2.0f;    // crop w/h
  int attempts = 50;
};

struct FlipParams {
  bool enabled = true;
  float prob = 0.5f;
};

// Places the image at (left, top) on a canvas_w x canvas_h canvas filled with
// `fill`; boxes shift by (left, top). The image must fit.
void expand(Sample& sample, int canvas_w, int canvas_h, int left, int top, const float fill[3]);
void random_expand(Sample& sample, const ExpandParams& params, std::mt19937& rng);

// Keeps the integer region [x, x+w) x [y, y+h) (inside the image) and the
// boxes whose centre lies in it, shifted and clipped to it.
void crop(Sample& sample, int x, int y, int w, int h, float min_box_size);
// Returns false (sample untouched) when "no crop" was drawn or no attempt met
// its IoU constraint with at least one box centre inside.
bool random_crop(Sample& sample, const CropParams& params, float min_box_size, std::mt19937& rng);

// Mirrors left-right: x -> width - x for pixels and boxes.
void flip_horizontal(Sample& sample);
void random_flip(Sample& sample, const FlipParams& params, std::mt19937& rng);

}  // namespace data
