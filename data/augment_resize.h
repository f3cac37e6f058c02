// Resizing: to a target size by stretching or letterboxing, with the
// interpolation method fixed or drawn at random per sample (PaddleDetection's
// random_interp), and the batch-level multi-scale size choice.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "data/sample.h"

namespace data {

enum class Interp { nearest, bilinear, bicubic, area };

struct ResizeParams {
  bool random_interp = true;       // else bilinear
  bool letterbox = false;          // keep aspect, pad with `fill`; else stretch
  float fill[3] = {127.5f, 127.5f, 127.5f};
};

// Batch-level multi-scale (YOLOv3's 320..608 in steps of 32): one size per
// global batch. Disabled, every batch uses `size`.
struct MultiScaleParams {
  bool enabled = true;
  int min_size = 320, max_size = 608, step = 32;
  int size = 416;
};

// Pixel-centre aligned resampling of the whole image to w x h.
Image resize_image(const Image& src, int w, int h, Interp interp);

// Resizes the sample to exactly size x size; boxes scale with the pixels.
void resize_sample(Sample& sample, int size, Interp interp, const ResizeParams& params);
void random_resize(Sample& sample, int size, const ResizeParams& params, std::mt19937& rng);

// The size of one global batch, drawn by the caller from (seed, epoch, batch).
int pick_batch_size(const MultiScaleParams& params, std::mt19937& rng);
// Every size pick_batch_size can return, smallest first.
std::vector<int> input_size_choices(const MultiScaleParams& params);

}  // namespace data
