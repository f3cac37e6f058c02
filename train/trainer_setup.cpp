// Trainer's set-up, before the first step: the config checks, the run
// directory, the data, the model and optimizer, resume or pretrained
// weights, and the ranks' agreement on all of it; and the checkpoints and
// evaluations the loop asks for.
#include <omp.h>

#include <fmt/format.h>

#include <filesystem>

#include "core/error.h"
#include "core/fault_injection.h"
#include "models/pretrained.h"
#include "models/size_preparation.h"
#include "ops/backend/dnnl.h"
#include "train/config_augment.h"
#include "train/plot.h"
#include "train/trainer.h"

namespace train {

using nlohmann::json;
using core::Tensor;

namespace {

// Images per forward pass on this rank: train.batch_size itself, or its
// share of the global batch when distributed.batch is "global".
int batch_per_rank(const TrainConfig& c, int ranks) {
  if (c.distributed.batch == "per_rank" || ranks == 1) return c.train.batch_size;
  if (c.train.batch_size % ranks != 0) {
    throw core::ConfigError(fmt::format("train.batch_size {} is the global batch (distributed.batch: global) but "
                                        "does not split evenly over {} ranks",
                                        c.train.batch_size, ranks));
  }
  return c.train.batch_size / ranks;
}

// optimizer.lr is stated for one process; with per-rank batches the global
// batch grows with the ranks and distributed.lr_scaling says how lr follows.
double lr_rank_factor(const TrainConfig& c, int ranks) {
  if (c.distributed.batch != "per_rank") return 1.0;
  if (c.distributed.lr_scaling == "linear") return ranks;
  if (c.distributed.lr_scaling == "sqrt") return std::sqrt(static_cast<double>(ranks));
  return 1.0;
}

data::LoaderConfig loader_config(const TrainConfig& c, const Communicator& comm) {
  data::LoaderConfig l;
  l.batch_size = batch_per_rank(c, comm.size());
  l.rank = comm.rank();
  l.world = comm.size();
  l.workers = c.data.workers;
  l.max_boxes = c.data.max_boxes;
  l.seed = c.train.seed;
  l.augment = true;
  l.augment_config = augment_config_for(c);
  return l;
}

// What metrics.jsonl says of the evaluations up to `step`, on resume.
struct LoggedEvaluations {
  bool logged = false;       // the evaluation of `step` itself is there
  double best = -1;          // the best `key` (-1 if none)
  std::int64_t best_step = -1;
  int since_best = 0;        // evaluations after the best one
};

LoggedEvaluations logged_evaluations(const std::vector<json>& lines, std::int64_t step, const std::string& key) {
  LoggedEvaluations out;
  for (const auto& j : lines) {
    if (!j.contains("eval") || !j["eval"].is_object()) continue;
    const std::int64_t at = j.value("step", std::int64_t{-1});
    if (at > step) continue;
    out.logged = out.logged || at == step;
    const double value = j["eval"].value(key, 0.0);
    if (value > out.best) {
      out = {out.logged, value, at, 0};
    } else {
      ++out.since_best;
    }
  }
  return out;
}

}  // namespace

Trainer::Trainer(const TrainConfig& config, const TrainOptions& options, std::ostream& console)
    : config_(config),
      options_(options),
      comm_(communicator()),
      rank0_(comm_.rank() == 0),
      out_(rank0_ ? console : null_stream_) {
  check_config();
  // Under mpirun every rank runs a Trainer; rank 0 alone writes the run
  // directory and the console.
  if (rank0_) run_dir_.emplace(options.run_dir);
  last_checkpoint_ = (std::filesystem::path(options.run_dir) / "checkpoints" / "last.ckpt").string();
  if (rank0_ && !options.config_yaml.empty()) run_dir_->write_config(options.config_yaml);
  threads_ = config.train.threads > 0 ? config.train.threads : default_threads_per_rank(comm_);
  omp_set_num_threads(threads_);
  read_data();
  build_model_and_optimizer();
  restore_or_pretrain();
  align_ranks();
  print_summary();
}

void Trainer::check_config() const {
  const TrainSection& tc = config_.train;
  if (tc.batch_size <= 0 || tc.subdivisions <= 0) {
    throw core::ConfigError(fmt::format("train.batch_size ({}) and train.subdivisions ({}) must be positive",
                                        tc.batch_size, tc.subdivisions));
  }
  // Refused before anything is read or written: emulated bf16 would only be slower.
  if (config_.precision == "bf16" && !ops::backend::bf16_supported()) {
    throw core::ConfigError("precision: bf16 needs a CPU with AVX512-BF16 (or newer), which this one lacks; use fp32");
  }
}

void Trainer::read_data() {
  // Rank 0 generates the shapes set when it is missing; the others read it after.
  auto read = [this] {
    train_set_ = load_train_dataset(config_, config_.data.train, DataRole::train, out_);
    if (!config_.data.val.empty()) val_set_ = load_train_dataset(config_, config_.data.val, DataRole::val, out_);
  };
  if (rank0_) read();
  comm_.barrier();
  if (!rank0_) read();

  loader_ = make_loader(loader_phase_);
  steps_per_epoch_ = loader_->batches_per_epoch() / config_.train.subdivisions;
  if (steps_per_epoch_ <= 0) {
    throw core::ConfigError(fmt::format("train: {} training images give no full update of batch_size {} x "
                                        "subdivisions {} x {} ranks",
                                        train_set_->images.size(), batch_per_rank(config_, comm_.size()),
                                        config_.train.subdivisions, comm_.size()));
  }
  total_steps_ = config_.train.max_steps > 0 ? config_.train.max_steps : config_.train.epochs * steps_per_epoch_;
}

std::unique_ptr<data::Loader> Trainer::make_loader(AugmentPhase phase) const {
  data::LoaderConfig lc = loader_config(config_, comm_);
  if (phase.mixup_over) lc.augment_config.mixup.enabled = false;
  if (phase.mosaic_over) lc.augment_config.mosaic.prob = 0;
  return std::make_unique<data::Loader>(*train_set_, lc);
}

void Trainer::build_model_and_optimizer() {
  model_.emplace(build_model(config_, train_set_->classes, &out_));
  model_->network->set_bf16(config_.precision == "bf16");
  params_ = model_->network->named_parameters();
  buffers_ = model_->network->named_buffers();
  buffer_backup_.resize(buffers_.size());
  optimizer_ = make_optimizer(config_.optimizer, params_);
  if (config_.train.ema) ema_.emplace(params_, config_.train.ema_decay);
}

void Trainer::restore_or_pretrain() {
  if (options_.resume) {
    // Every rank reads the checkpoint (the run directory must be reachable
    // from every machine); align_ranks makes the weights agree anyway.
    const auto ckpt = models::load_model_checkpoint(last_checkpoint_);
    models::restore_state(*model_, ckpt.file);
    optimizer_->load_state(ckpt.file);
    if (ema_) ema_->load(ckpt.file);
    const json extra = json::parse(ckpt.extra_json);
    step_ = extra.at("step").get<std::int64_t>();
    best_ = extra.value("best", -1.0);
    resumed_eval_pending_ = extra.value("eval_pending", false);
    if (rank0_) run_dir_->truncate_metrics_after(step_);
    out_ << fmt::format("resumed from {} at step {}\n", last_checkpoint_, step_);
  } else if (rank0_ && !config_.pretrain_weights.empty()) {
    const models::PretrainedLoad load = models::load_pretrained(*model_, config_.pretrain_weights);
    out_ << models::describe_pretrained_load(load, model_->meta.class_names);
  }
}

void Trainer::align_ranks() {
  // Every rank starts from rank 0's weights and batch-norm statistics.
  if (comm_.distributed()) {
    for (const auto& list : {params_, buffers_}) {
      for (const auto& [name, t] : list) comm_.broadcast(t.mutable_data<float>(), static_cast<std::size_t>(t.numel()), 0);
    }
    averager_.emplace(comm_, params_, static_cast<std::size_t>(config_.distributed.bucket_mb * 1024 * 1024));
  }
  // The moving average starts from the weights the run starts from (the
  // pretrained ones, rank 0's), unless it was just restored on resume.
  if (ema_ && !options_.resume) ema_.emplace(params_, config_.train.ema_decay);
  // sync_bn on a single process runs the same kernel with nothing to add, so
  // a config trains with the same numerics with and without mpirun.
  if (config_.distributed.sync_bn) {
    model_->network->set_bn_sync([this](double* values, std::size_t count) { comm_.sum(values, count); });
  }
  lr_base_ = config_.optimizer.lr * lr_rank_factor(config_, comm_.size());
}

void Trainer::prepare_sizes() {
  const data::MultiScaleParams& multiscale = config_.data.augment.multiscale;
  if (!config_.train.prepare_sizes || !multiscale.enabled || step_ >= total_steps_) return;
  const int batch = batch_per_rank(config_, comm_.size());
  const models::DarknetNetwork& network = *model_->network;
  // No boxes: the loss only has to reach every head; its values are not read.
  const models::DetectionTargets targets{Tensor::zeros({batch, 1, 4}, core::DType::f32),
                                         Tensor::from_ints({batch, 1}, std::vector<std::int32_t>(batch, 0)), Tensor()};
  const models::DetectionLossOptions options{config_.model.use_label_smooth, config_.model.scale_x_y};
  const auto loss = [&](core::Tape& tape, const std::vector<Tensor>& heads, int size) {
    return models::detection_loss(tape, network, heads, size, size, targets, options).loss;
  };
  const models::SizePreparation r =
      models::prepare_training_sizes(network, data::input_size_choices(multiscale), batch, loss);
  out_ << fmt::format("prepared {} multi-scale sizes ({}..{}) in {:.1f} s: {} oneDNN primitives created, buffers mapped "
                      "(train.prepare_sizes)\n",
                      r.sizes.size(), r.sizes.back(), r.sizes.front(), r.seconds, r.primitives);
}

void Trainer::print_summary() const {
  const int per_rank = batch_per_rank(config_, comm_.size());
  out_ << fmt::format(
      "train: {} images ({} classes){}, {} steps of {} x {} images ({} per epoch), model {} parameters, {} threads, "
      "run dir {}\n",
      train_set_->images.size(), train_set_->classes.size(),
      val_set_ ? fmt::format(", val: {} images", val_set_->images.size()) : std::string(), total_steps_,
      per_rank * comm_.size(), config_.train.subdivisions, steps_per_epoch_, count_parameters(*model_), threads_,
      options_.run_dir);
  if (comm_.distributed()) {
    out_ << fmt::format("distributed: {} ranks x {} images per pass, {} threads per rank, lr {:.3e}, {} allreduce "
                        "buckets{}{}\n",
                        comm_.size(), per_rank, threads_, lr_base_, averager_->buckets(),
                        config_.distributed.overlap ? " overlapping backward" : "",
                        config_.distributed.sync_bn ? ", sync_bn" : "");
  }
}

// A checkpoint is written and published before each evaluation (with
// eval_pending set), so a slow, failed or killed evaluation never costs the
// steps before it; best.ckpt is pointed at it once the evaluation says so.
void Trainer::save_checkpoint(bool eval_pending) {
  if (!rank0_) return;
  json extra = {{"step", step_}, {"epoch", step_ / steps_per_epoch_}, {"best", best_}, {"eval_pending", eval_pending}};
  auto state = optimizer_->state();
  if (ema_) {
    for (auto& e : ema_->state()) state.push_back(e);
  }
  models::save_model_checkpoint(run_dir_->checkpoint_path(step_), *model_, state, extra.dump());
  run_dir_->publish_checkpoint(step_, false, config_.checkpoint.keep_last);
}

bool Trainer::checkpoint_and_evaluate() {
  if (!val_set_) return false;
  save_checkpoint(true);
  return evaluate(step_);
}

// Evaluates the model of step `at_step`, whose checkpoint is already
// published. Every rank evaluates its shard of the val set with rank 0's
// batch-norm statistics (and the EMA weights when train.ema is on).
bool Trainer::evaluate(std::int64_t at_step) {
  if (!val_set_) return false;
  core::fault_point("eval.started");
  if (comm_.distributed()) {
    for (const auto& [name, t] : buffers_) comm_.broadcast(t.mutable_data<float>(), static_cast<std::size_t>(t.numel()), 0);
  }
  if (ema_) ema_->swap_into(params_);
  model_->network->set_training(false);
  const auto t0 = std::chrono::steady_clock::now();
  const TrainingEval e = options_.evaluate ? options_.evaluate(*model_, *val_set_, config_)
                                           : evaluate_during_training(*model_, *val_set_, config_, comm_, out_);
  model_->network->set_training(true);
  if (ema_) ema_->swap_into(params_);
  std::string headline;
  for (const auto& [key, value] : e.headline) headline += fmt::format(" {} {:.4f}", key, value);
  out_ << fmt::format("eval at step {}:{} ({:.1f} s)\n", at_step, headline,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  // best.ckpt before the metrics line: a run killed in between evaluates
  // this step again on resume and comes to the same decision.
  if (e.score > best_) {
    best_ = e.score;
    best_step_ = at_step;
    evals_since_best_ = 0;
    if (rank0_) run_dir_->publish_best(at_step);
  } else {
    ++evals_since_best_;
  }
  if (rank0_ && e.details) run_dir_->write_eval_details(at_step, to_json(*e.details));
  if (rank0_) run_dir_->append_metrics({{"step", at_step}, {"epoch", at_step / steps_per_epoch_}, {"eval", e.metrics}});
  result_.last_eval = e.metrics;
  if (rank0_) plot_run(options_.run_dir);
  return true;
}

void Trainer::evaluate_pending() {
  if (!options_.resume) return;
  float pending = 0;
  if (rank0_) {
    const std::string key = best_metric_key(parse_eval_metric(config_.eval.metric));
    const LoggedEvaluations logged = logged_evaluations(run_dir_->read_metrics(), step_, key);
    best_ = std::max(best_, logged.best);
    best_step_ = logged.best_step;
    evals_since_best_ = logged.since_best;
    pending = resumed_eval_pending_ && !logged.logged ? 1.0f : 0.0f;
  }
  if (comm_.distributed()) comm_.broadcast(&pending, 1, 0);
  if (pending > 0) {
    out_ << fmt::format("the evaluation of step {} did not finish before the run stopped; evaluating it now\n", step_);
    evaluate(step_);
  }
}

}  // namespace train
