// `yolo eval`: scores detections against a data set's annotations with the
// VOC devkit's or cocoapi's conventions, prints a table and optionally
// writes metrics.json. The results-file form needs no model:
//   yolo eval --dataset voc:DIR[:SPLIT] | coco:ANNOTATIONS.json --detections dets.json
//             [--classes a,b,...] [--out metrics.json] [--plots DIR] [--voc-iou-strict] [--per-category]
// The model-running form detects on every image of the data set first
// (train/eval/evaluate_model.h; score threshold 0.005, NMS 0.45, 100 per image):
//   yolo eval (--cfg FILE.cfg --dataset SPEC | --config FILE.yml [--split val]) --weights W
//             [--save-detections dets.json] [--out metrics.json] [--plots DIR] [--batch B] [--size S]
// --plots DIR writes pr_curve.png and confusion_matrix.png (train/plot.h).
// (--cfg may be left out when W is a native checkpoint, which describes its network.)
#pragma once

#include <ostream>
#include <string>

namespace yolo {

struct EvalArgs {
  std::string dataset;       // voc:DIR[:SPLIT] (split "test" by default) or coco:ANNOTATIONS.json
  std::string detections;    // results file (COCO results format)
  std::string classes;       // comma-separated class names for VOC folders without classes.txt
  std::string out;           // metrics.json, optional
  std::string plots;         // folder for pr_curve.png and confusion_matrix.png, optional
  bool voc_iou_strict = false;
  bool per_category = false;
  // The model-running form.
  std::string cfg, config, weights, split, save_detections;
  std::string nms;         // bounded | darknet; empty = the config's or bounded
  int pre_nms_top_k = -1;  // -1 = the config's or 1000
  int max_dets = -1;       // -1 = the config's or 100
  int batch = 8;  // images per forward pass
  int size = 0;   // network input; 0 = the model's own
};

// Throws core::Error subclasses naming the file, flag or value at fault.
// Warnings (unreadable annotations, dropped detections) go to `err`.
void run_eval_command(const EvalArgs& args, std::ostream& out, std::ostream& err);

}  // namespace yolo
