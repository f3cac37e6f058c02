// The training loop. `Trainer` sets a run up (data, model, optimizer,
// resume or pretrained weights, ranks) and then repeats one step:
//
//   next_batch -> forward_and_loss -> backward   (once per subdivision)
//   sync_ranks -> optimizer_step -> log -> evaluate_and_checkpoint
//
// run_training() drives it; docs/architecture.md follows one step through
// the files.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tape.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "models/detection_loss.h"
#include "models/model_file.h"
#include "ops/yolo_loss.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/ema.h"
#include "train/gradient_averager.h"
#include "train/interrupt.h"
#include "train/model_setup.h"
#include "train/optimizer.h"
#include "train/run_dir.h"
#include "train/training_evaluation.h"

namespace train {

// Replaces the built-in evaluation (tests): scores a model on a data set.
using EvaluateFn = std::function<TrainingEval(const models::Model&, const data::Dataset&, const TrainConfig&)>;

struct TrainOptions {
  std::string run_dir;       // created if missing
  bool resume = false;       // continue from run_dir/checkpoints/last.ckpt
  std::string config_yaml;   // the merged config, written to run_dir/config.yml
  // Evaluations (periodic and final, when data.val is set) run
  // evaluate_during_training unless this is set.
  EvaluateFn evaluate;
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
  bool stopped_early = false;      // train.patience evaluations without a new best
};

// What one step gathers over its subdivisions (and, distributed, its ranks).
struct StepTotals {
  double loss = 0;  // mean over the subdivisions and ranks
  // Per head, the mean of each loss part (indexed by ops::YoloLossPart).
  std::vector<std::array<double, ops::kYoloLossNumParts>> head_parts;
  std::int64_t images = 0;
  std::string bad_reason;  // why the step must be skipped; empty when good
};

class Trainer {
 public:
  // Sets the run up: checks the config, creates the run directory (rank 0),
  // reads the data, builds the model, optimizer and EMA, restores the last
  // checkpoint (resume) or loads pretrain_weights, and aligns the ranks.
  // Throws core::ConfigError for unusable settings and core::IoError for an
  // unwritable run directory or unreadable data.
  Trainer(const TrainConfig& config, const TrainOptions& options, std::ostream& console);

  // Trains to the last step (or Ctrl-C) and returns what happened. Throws
  // core::Error after train.max_bad_steps non-finite steps in a row (a
  // checkpoint of the last good state is written first).
  TrainResult run();

  // The steps of run(), in order.
  // A resumed run whose evaluation did not finish evaluates that step first.
  void evaluate_pending();
  // The loader for the step's epoch, and a snapshot of the batch-norm
  // statistics, which a skipped step puts back.
  void start_step();
  data::Batch next_batch();
  models::DetectionLoss forward_and_loss(core::Tape& tape, const data::Batch& batch, StepTotals& totals);
  void backward(core::Tape& tape, const models::DetectionLoss& loss, bool last_subdivision);
  // Gradients averaged over the ranks and what every rank must agree on
  // (loss, images, a bad pass anywhere, Ctrl-C anywhere); nothing when alone.
  void sync_ranks(StepTotals& totals);
  // Clips, steps the optimizer and the EMA. Returns false when the step is
  // skipped (non-finite loss or gradient): the statistics are put back.
  bool optimizer_step(StepTotals& totals);
  // The console line and the metrics.jsonl line, at log.interval.
  void log(const StepTotals& totals);
  // At the last step, at eval.interval epochs and at checkpoint.interval:
  // the checkpoint, published, then the evaluation.
  void evaluate_and_checkpoint();
  // train.patience evaluations in a row without a new best (rank 0 decides).
  bool plateaued();

 private:
  void check_config() const;
  void read_data();
  // Which of the early-epoch augmentations are over for the loader.
  struct AugmentPhase {
    bool mixup_over = false;   // data.mixup_epochs passed
    bool mosaic_over = false;  // data.mosaic_epochs passed
    bool operator==(const AugmentPhase&) const = default;
  };
  std::unique_ptr<data::Loader> make_loader(AugmentPhase phase) const;
  void build_model_and_optimizer();
  // Multi-scale runs: every size the loader may draw readied before the
  // first step (train.prepare_sizes; models/size_preparation.h).
  void prepare_sizes();
  void restore_or_pretrain();
  void align_ranks();
  void print_summary() const;
  void save_checkpoint(bool eval_pending);
  bool evaluate(std::int64_t at_step);
  bool checkpoint_and_evaluate();
  double learning_rate() const;
  void write_log_line(const StepTotals& totals, double lr, double eta, std::chrono::steady_clock::time_point now);

  const TrainConfig& config_;
  const TrainOptions& options_;
  Communicator& comm_;
  const bool rank0_;
  std::ostream null_stream_{nullptr};
  std::ostream& out_;  // the console on rank 0, nothing elsewhere
  std::optional<RunDir> run_dir_;  // rank 0 only
  std::string last_checkpoint_;
  int threads_ = 1;

  std::optional<data::Dataset> train_set_, val_set_;
  std::unique_ptr<data::Loader> loader_;
  AugmentPhase loader_phase_;
  std::int64_t steps_per_epoch_ = 0, total_steps_ = 0;

  std::optional<models::Model> model_;
  std::vector<models::NamedTensor> params_, buffers_;
  std::unique_ptr<Optimizer> optimizer_;
  std::optional<Ema> ema_;
  std::optional<GradientAverager> averager_;
  double lr_base_ = 0;

  std::int64_t step_ = 0, epoch_ = 0, loaded_epoch_ = -1;  // epoch_: of the step being taken
  double best_ = -1;  // the best evaluation score so far (best_metric_key)
  std::int64_t best_step_ = -1;
  int evals_since_best_ = 0;  // evaluations since best_ (early stopping)
  bool resumed_eval_pending_ = false;
  int bad_in_row_ = 0;
  std::vector<core::Tensor> buffer_backup_;
  std::optional<InterruptGuard> interrupt_;
  TrainResult result_;

  // Logging: images and loader waits since the last line, the smoothed loss.
  bool tty_ = false;
  std::chrono::steady_clock::time_point start_, last_log_;
  std::int64_t started_at_ = 0, images_since_log_ = 0;
  double data_wait_since_log_ = 0, smoothed_ = -1;
};

// Trainer(config, options, out).run(). Progress and warnings go to `out`.
TrainResult run_training(const TrainConfig& config, const TrainOptions& options, std::ostream& out);

}  // namespace train
