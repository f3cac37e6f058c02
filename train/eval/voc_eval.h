// PASCAL VOC detection AP with the devkit's semantics (VOCevaldet.m and
// VOCap.m): inclusive-pixel IoU, difficult objects that absorb detections,
// no fallback to a second-best ground truth, and both the VOC2007 11-point
// AP and the VOC2010+ area AP. See docs/evaluation.md, 'VOC'.
// This is the scoring only; reading folders and results files lives elsewhere.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "train/eval/detection.h"

namespace train {

// A ground-truth box in the devkit's inclusive pixel corners.
struct VocObject {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int label = 0;
  bool difficult = false;
};

struct VocGroundTruth {
  std::vector<std::string> classes;               // label -> name
  std::vector<std::string> image_names;           // "000005": the ids results files use
  std::vector<std::vector<VocObject>> objects;    // per image, same order as image_names
};

struct VocOptions {
  // false: IoU >= 0.5 counts (the devkit); true: IoU > 0.5 (PaddleDetection).
  bool strict_iou = false;
};

struct VocClassResult {
  std::string name;
  int npos = 0;                        // non-difficult ground truths
  std::size_t num_detections = 0;      // detections of the class, ignored ones included
  std::optional<double> ap_11point;    // empty when npos == 0
  std::optional<double> ap_area;
  // The ranked precision/recall curve the APs came from (one point per
  // detection that counted); empty when npos == 0.
  std::vector<double> recall, precision;
};

struct VocMetrics {
  std::optional<double> map_11point;   // mean over classes with npos > 0; empty if none
  std::optional<double> map_area;
  std::vector<VocClassResult> per_class;
};

// Scores detections (Detection::image indexes gt.image_names, label indexes
// gt.classes; boxes become corners xmin = x, xmax = x + w). Detections of one
// class are ranked by score with ties kept in input order. Throws
// core::ValueError for an image index or label out of range.
VocMetrics evaluate_voc(const VocGroundTruth& gt, const std::vector<Detection>& detections,
                        const VocOptions& options = {});

// The devkit's IoU with the +1 inclusive-pixel convention; 0 without overlap.
double voc_iou(const VocObject& a, const VocObject& b);

// AP from a precision/recall curve (same length, recall non-decreasing).
// 11-point: mean over t = 0.1*k, k = 0..10, of the best precision at recall >= t.
double voc_ap_11point(const std::vector<double>& recall, const std::vector<double>& precision);
// Area: precision made non-increasing from the right, summed over recall steps.
double voc_ap_area(const std::vector<double>& recall, const std::vector<double>& precision);

}  // namespace train
