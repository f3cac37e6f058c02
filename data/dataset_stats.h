// Statistics `yolo data` prints: images, boxes per class, skipped files with
// reasons, and a box-size histogram per YOLOv3 head.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace data {

struct DatasetStats {
  std::int64_t images = 0, empty_images = 0, boxes = 0, crowd = 0, difficult = 0;
  std::vector<std::int64_t> per_class;                 // training targets by label
  // head (0: stride 8, 1: stride 16, 2: stride 32) x size bin (see kSizeBins)
  std::vector<std::vector<std::int64_t>> head_histogram;
};

// Upper edges of the box-size bins, in pixels of sqrt(w*h) at the input size.
inline const std::vector<int> kSizeBins = {16, 32, 64, 128, 256, 1 << 30};

// Each training box goes to the head of its best-matching default YOLOv3
// anchor (by shape IoU after the stretch resize to `size`), as yolo_loss
// assigns it.
DatasetStats compute_stats(const Dataset& dataset, int size);

// The printed report (statistics and every skipped file with its reason).
std::string format_stats(const Dataset& dataset, const DatasetStats& stats, int size);

}  // namespace data
