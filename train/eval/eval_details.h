// What the evaluation pictures need beyond the headline numbers: each
// class's precision/recall curve at IoU 0.5 and a confusion matrix at a
// drawing threshold. Computed from the same detections as the metrics,
// saved as eval/step_NNNNNN.json in a run directory (and read back by
// `yolo plot`), drawn by train/plot.h. docs/plots.md gives the conventions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/eval/detection.h"
#include "train/eval/voc_eval.h"

namespace train {

struct ClassCurve {
  std::string name;
  int npos = 0;                         // ground truths (VOC: not difficult)
  double ap50 = 0;                      // VOC area AP at IoU >= 0.5
  std::vector<double> recall, precision;  // the precision envelope, at most ~100 points
};

struct ConfusionMatrix {
  double score_thresh = 0.25;
  double iou = 0.5;
  std::vector<std::string> classes;  // K names; index K is "background"
  // counts[true][predicted], (K+1) x (K+1): a true object matched to a
  // detection of any class lands in its row at the detection's class; a
  // missed object in column K; a detection matching no object in row K.
  std::vector<std::vector<long long>> counts;
};

struct EvalDetails {
  std::vector<ClassCurve> curves;  // one per class, in class order
  ConfusionMatrix confusion;
};

// Curves from the VOC evaluation at IoU 0.5 (difficult objects ignored as
// the devkit does); the confusion matrix from detections with score >=
// score_thresh, matched one to one to non-difficult objects of any class by
// IoU >= iou, highest IoU first.
EvalDetails compute_eval_details(const VocGroundTruth& gt, const std::vector<Detection>& detections,
                                 double score_thresh = 0.25, double iou = 0.5);

nlohmann::json to_json(const EvalDetails& details);
// Throws core::ValueError naming `source` when the JSON lacks a field or
// its sizes disagree.
EvalDetails eval_details_from_json(const nlohmann::json& j, const std::string& source);

// Each row divided by its sum (rows without any count stay zero).
std::vector<std::vector<double>> normalise_rows(const std::vector<std::vector<long long>>& counts);

}  // namespace train
