// The per-sample training pipeline, in PaddleDetection's YOLOv3 order with
// Mosaic in front: mosaic -> mixup -> photometric distortion -> expand ->
// IoU crop -> flip -> resize (to the batch's size, random interpolation) ->
// clip and drop small boxes.
// Normalisation to [0,1] (and optional mean/std) happens while the batch is
// assembled (batch.h). Every parameter lives in AugmentConfig.
#pragma once

#include <array>
#include <cstddef>
#include <random>

#include "data/augment_color.h"
#include "data/augment_geometry.h"
#include "data/augment_mixup.h"
#include "data/augment_mosaic.h"
#include "data/augment_resize.h"
#include "data/dataset.h"
#include "data/sample.h"

namespace data {

struct NormalizeParams {
  bool mean_std = false;  // after scaling to [0,1]; Darknet's weights expect plain [0,1]
  float mean[3] = {0.485f, 0.456f, 0.406f};
  float std[3] = {0.229f, 0.224f, 0.225f};
};

struct AugmentConfig {
  MosaicParams mosaic;
  MixupParams mixup;
  DistortParams distort;
  ExpandParams expand;
  CropParams crop;
  FlipParams flip;
  ResizeParams resize;
  NormalizeParams normalize;
  MultiScaleParams multiscale;
  float min_box_size = 2.0f;    // pixels of the final image
  bool keep_difficult = false;  // VOC difficult boxes as training targets

  // Only the resize to a fixed size (evaluation, previews of raw data).
  static AugmentConfig none(int size);
};

// The record's training targets (no crowd boxes; difficult ones only when
// asked) on its decoded image. Boxes are rescaled when the annotation's size
// disagrees with the decoded image's.
Sample make_sample(const ImageRecord& record, Image image, bool keep_difficult);

// Loads and decodes one record; throws core::IoError naming the image.
Sample load_sample(const Dataset& dataset, std::size_t index, bool keep_difficult);

// The other samples one sample's augmentation draws in; null where the
// step is off or was not drawn for this sample.
struct Partners {
  std::array<const Sample*, 3> mosaic{};  // all three, or none
  const Sample* mixup = nullptr;
};

// Runs the chain on `sample`. Output is size x size.
Sample augment_sample(Sample sample, const Partners& partners, int size, const AugmentConfig& config,
                      std::mt19937& rng);

}  // namespace data
