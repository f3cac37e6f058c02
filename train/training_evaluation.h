// Evaluation during training: which metric picks best.ckpt, which numbers a
// run shows for each evaluation, and the evaluation itself, split over the
// ranks of a distributed run and gathered back.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "models/model_file.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/eval/detection.h"
#include "train/eval/eval_details.h"
#include "train/eval/evaluate_model.h"

namespace train {

// The metric best.ckpt follows: VOC mAP_11point, COCO AP.
std::string best_metric_key(EvalMetric metric);
// The numbers shown for each evaluation (the console line, results.png):
// VOC mAP_11point and mAP_area; COCO AP, AP50 and AP75.
std::vector<std::string> headline_metric_keys(EvalMetric metric);

// One evaluation as the training loop uses it.
struct TrainingEval {
  double score = 0;  // the best_metric_key value; 0 when undefined
  std::vector<std::pair<std::string, double>> headline;
  nlohmann::json metrics;               // written to metrics.jsonl as "eval"
  std::optional<EvalDetails> details;   // written to eval/step_NNNNNN.json
};

// The loop's view of a model evaluation (`metric` says which keys to read).
TrainingEval training_eval_from(const ModelEvalResult& result, EvalMetric metric);

// Scores `model` on `ds` with the config's eval settings at
// model.input_size. Under mpirun each rank detects on its share of the
// batches and the detections are gathered, so every rank gets one process's
// result; rank 0 alone reports progress and where the time went to `out`.
TrainingEval evaluate_during_training(const models::Model& model, const data::Dataset& ds, const TrainConfig& config,
                                      Communicator& comm, std::ostream& out);

// Every rank's detections on every rank, in rank order.
std::vector<Detection> all_gather_detections(Communicator& comm, const std::vector<Detection>& mine);

}  // namespace train
