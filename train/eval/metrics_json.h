// metrics.json for `yolo eval` and training-time evaluation: one JSON object
// whose keys are a contract (docs/evaluation.md, 'metrics.json'). Fractions in [0, 1]; VOC APs of
// classes without ground truths are null, COCO numbers that cocoapi reports
// as -1 stay -1.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "train/eval/coco_eval.h"
#include "train/eval/voc_eval.h"

namespace train {

struct EvalCounts {
  std::size_t num_images = 0;
  std::size_t num_detections = 0;      // detections scored
  std::size_t dropped_detections = 0;  // read from the file but left out (unknown category, ...)
};

// {"mAP_11point", "mAP_area", "per_class": {name: {"ap_11point", "ap_area", "npos"}}, counts}
nlohmann::ordered_json voc_metrics_object(const VocMetrics& metrics, const EvalCounts& counts);
std::string voc_metrics_json(const VocMetrics& metrics, const EvalCounts& counts);  // the object, indented

// {"AP", ..., "ARl", counts} and, when per_category, "per_category":
// {name: {"id", "AP", "AP50", "AP75", "AR100", "num_gts"}}.
nlohmann::ordered_json coco_metrics_object(const CocoMetrics& metrics, const EvalCounts& counts, bool per_category);
std::string coco_metrics_json(const CocoMetrics& metrics, const EvalCounts& counts, bool per_category);

}  // namespace train
