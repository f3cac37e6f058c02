// `yolo eval`: scores detections against a data set's annotations with the
// VOC devkit's or cocoapi's conventions, prints a table and optionally
// writes metrics.json. The results-file form needs no model:
//   yolo eval --dataset voc:DIR[:SPLIT] | coco:ANNOTATIONS.json --detections dets.json
//             [--classes a,b,...] [--out metrics.json] [--voc-iou-strict] [--per-category]
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct EvalArgs {
  std::string dataset;       // voc:DIR[:SPLIT] (split "test" by default) or coco:ANNOTATIONS.json
  std::string detections;    // results file (COCO results format)
  std::string classes;       // comma-separated class names for VOC folders without classes.txt
  std::string out;           // metrics.json, optional
  bool voc_iou_strict = false;
  bool per_category = false;
  // The model-running form; accepted so that it can be refused clearly.
  std::string cfg, config, weights, split, save_detections;
};

// Throws core::Error subclasses naming the file, flag or value at fault.
// Warnings (unreadable annotations, dropped detections) go to `err`.
void run_eval_command(const EvalArgs& args, std::ostream& out, std::ostream& err);

}  // namespace yolo
