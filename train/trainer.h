// The training loop: data, forward, the yolo_loss heads, backward, gradient
// accumulation over subdivisions, clipping, optimizer and schedule steps,
// logging to the run directory, checkpoints, periodic evaluation, resume.
// Reads top-down in trainer.cpp's run_training().
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "models/model_file.h"
#include "train/config.h"
#include "train/eval/eval_details.h"

namespace train {

// What one evaluation during training gives: the metrics.json object (VOC:
// mAP_11point, mAP_area, ...; COCO: AP, AP50, ...) and, when available, the
// curves and confusion matrix saved to eval/step_NNNNNN.json for the plots.
struct EvalReport {
  nlohmann::json metrics;
  std::optional<EvalDetails> details;
};
// Scores a model on a data set.
using EvaluateFn = std::function<EvalReport(const models::Model&, const data::Dataset&, const TrainConfig&)>;

struct TrainOptions {
  std::string run_dir;       // created if missing
  bool resume = false;       // continue from run_dir/checkpoints/last.ckpt
  std::string config_yaml;   // the merged config, written to run_dir/config.yml
  EvaluateFn evaluate;       // periodic and final evaluation; none = skip
  bool progress_bar = true;  // redraw one console line per step (on a terminal)
  // Fault-injection tests only (0 = off): a NaN is written into the first
  // input image of this step, which must then be skipped with the usual
  // non-finite warning. `yolo train` sets it from YOLO_FAULT_NAN_STEP.
  std::int64_t nan_at_step = 0;
};

struct TrainResult {
  std::int64_t steps = 0;          // optimizer updates done in total
  double last_loss = 0;
  nlohmann::json last_eval;        // null when no evaluation ran
  bool interrupted = false;        // stopped by Ctrl-C (a checkpoint was written)
};

// Throws core::ConfigError for unusable settings, core::IoError for an
// unwritable run directory or unreadable data, and core::Error after too many
// non-finite steps in a row (a checkpoint of the last good state is written
// first). Progress and warnings go to `out`.
TrainResult run_training(const TrainConfig& config, const TrainOptions& options, std::ostream& out);

// Which split a `voc:DIR` spec without one reads: the training split
// ("trainval" where every year folder has it, else "train") or "val".
enum class DataRole { train, val };

// Reads and, when the config asks for the built-in shapes data set and it is
// absent, first generates it. Used by training, eval and detect.
data::Dataset load_train_dataset(const TrainConfig& config, const std::string& spec, DataRole role, std::ostream& out);

// The model a config describes, freshly initialised (before any weights).
models::Model build_model(const TrainConfig& config, const std::vector<std::string>& class_names);

}  // namespace train
