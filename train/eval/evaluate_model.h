// Model-mode evaluation: runs a detector over a data set in batches (the
// inference path of models/detect/detector.h, so the numbers describe what
// `yolo detect` would draw at a low threshold), maps boxes back to
// original-image pixels, and scores them with the VOC or COCO evaluator.
// Used by `yolo eval --weights ...` and by the training loop's periodic
// evaluation.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "models/detect/nms.h"
#include "models/model_file.h"
#include "train/config.h"
#include "train/eval/coco_eval.h"
#include "train/eval/detection.h"
#include "train/eval/detections_io.h"
#include "train/eval/eval_details.h"
#include "train/eval/metrics_json.h"
#include "train/eval/voc_eval.h"

namespace train {

enum class EvalMetric { voc, coco };
// Throws core::ConfigError naming the value for anything but "voc" or "coco".
EvalMetric parse_eval_metric(const std::string& name);

struct ModelEvalOptions {
  EvalMetric metric = EvalMetric::voc;
  // The mAP defaults (docs/evaluation.md): a low threshold, class-wise NMS, the best
  // 100 per image. Drawing's 0.5 threshold would cut the precision/recall
  // curve short.
  double score_thresh = 0.005;
  double nms_iou = 0.45;
  models::NmsMethod nms = models::NmsMethod::bounded;
  int pre_nms_top_k = 1000;  // bounded NMS: candidates per class (0 = all)
  int max_dets = 100;
  bool voc_iou_strict = false;
  bool per_category = false;  // COCO: per-category numbers in `metrics`
  int batch_size = 8;         // images per forward pass
  int input_size = 0;         // network input (multiple of 32); 0 = the model's own
  // Called after each batch with (images done, total), e.g. for a progress bar.
  std::function<void(std::size_t, std::size_t)> progress;
  // Data-parallel evaluation: this process runs batches shard, shard +
  // shards, ...; `gather` returns every process's detections (training
  // under mpirun sets it to an all-gather). The metrics then equal one
  // process's.
  int shard = 0, shards = 1;
  std::function<std::vector<Detection>(const std::vector<Detection>&)> gather;
};

// The eval section of a training config as options (metric, thresholds,
// max_dets, strict IoU). Throws core::ConfigError for an unknown metric.
ModelEvalOptions model_eval_options(const EvalConfig& config);

// Where an evaluation's time went, in seconds of this process: decoding the
// image files, the network's forward pass (preprocessing included), turning
// the heads into detections (decode, letterbox correction, NMS) and scoring
// them (the VOC/COCO evaluator and the picture data).
struct EvalTiming {
  double read_s = 0, forward_s = 0, postprocess_s = 0, score_s = 0;
};
// "forward 12.3 s, decode + NMS 0.4 s (3% of the forward), reading images 1.1 s, scoring 0.2 s"
std::string describe(const EvalTiming& t);

struct ModelEvalResult {
  EvalMetric metric = EvalMetric::voc;
  std::optional<VocMetrics> voc;    // set when metric == voc
  std::optional<CocoMetrics> coco;  // set when metric == coco
  EvalCounts counts;
  // Detections in original-image pixels; Detection::image indexes ds.images
  // and Detection::label the data set's classes. `keys` names them for
  // write_detections (VOC naming: image names and class names; COCO naming:
  // image and category ids).
  std::vector<Detection> detections;
  DetectionKeys keys;
  nlohmann::ordered_json metrics;  // the metrics.json object, keys in their documented order (metrics_json.h)
  // The headline number: VOC area mAP or COCO AP; -1 when undefined (no
  // ground truth), for "best checkpoint" decisions.
  double primary = -1;
  // Per-class precision/recall curves and the confusion matrix, for the
  // evaluation pictures (whatever the metric).
  EvalDetails details;
  EvalTiming timing;
};

// Evaluates `model` on every image of `ds` (images are decoded from
// ImageRecord::path; boxes map to the decoded image's size). Model label k is
// data set class k. The network runs in eval mode and gets its previous
// mode back. Throws core::ConfigError when the model's class count differs
// from the data set's or options are out of range, core::IoError naming an
// image that cannot be decoded, and what the evaluators throw.
ModelEvalResult evaluate_model(const models::Model& model, const data::Dataset& ds, const ModelEvalOptions& options);

}  // namespace train
