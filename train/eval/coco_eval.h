// COCO bbox evaluation with cocoapi's COCOeval semantics (evaluate,
// accumulate, summarize): 10 IoU thresholds, 101 recall points, area ranges
// decided by the ground truth's `area` field, crowd regions, and the first
// 1 / 10 / 100 detections per image. See docs/evaluation.md, 'COCO'.
// Scoring only: reading annotation and results files lives elsewhere.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "train/eval/detection.h"

namespace train {

// A ground-truth annotation as cocoapi reads it, in double precision.
struct CocoObject {
  double x = 0, y = 0, w = 0, h = 0;  // bbox, no +1 convention
  double area = 0;                    // the annotation's `area` (segment area), not w*h
  bool crowd = false;
  std::int64_t id = 0;                // annotation id
  int label = 0;                      // index into CocoGroundTruth::category_ids
};

struct CocoGroundTruth {
  std::vector<std::int64_t> image_ids;           // unique, any order
  std::vector<std::vector<CocoObject>> objects;  // per image, in file order
  std::vector<std::int64_t> category_ids;        // label -> category id, ascending
  std::vector<std::string> category_names;       // label -> name
};

// The 12 numbers of COCOeval.summarize(), in its order.
inline constexpr std::array<const char*, 12> kCocoStatNames = {"AP",  "AP50", "AP75", "APs",  "APm", "APl",
                                                               "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

struct CocoCategoryResult {
  std::string name;
  std::int64_t id = 0;
  int num_gts = 0;   // non-crowd ground truths (area range "all")
  double ap = -1;    // AP@[.50:.95], all areas, 100 detections; -1 without gts
  double ap50 = -1;
  double ap75 = -1;
  double ar100 = -1;
};

struct CocoMetrics {
  std::array<double, 12> stats{};  // fractions; -1 where cocoapi gives -1
  std::vector<CocoCategoryResult> per_category;
};

// Scores detections (Detection::image indexes gt.image_ids, label indexes
// gt.category_ids). Throws core::ValueError for an index out of range.
CocoMetrics evaluate_coco(const CocoGroundTruth& gt, const std::vector<Detection>& detections);

// cocoapi's box IoU (maskApi.c bbIou): for a crowd gt the union is the
// detection's area alone.
double coco_iou(const Detection& d, const CocoObject& g);

}  // namespace train
