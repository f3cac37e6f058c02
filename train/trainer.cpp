#include "train/trainer.h"

#include <omp.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "core/error.h"
#include "core/fault_injection.h"
#include "ops/backend/dnnl.h"
#include "ops/binary.h"
#include "train/plot.h"
#include "train/schedule.h"

namespace train {

using core::Tensor;
using nlohmann::json;

namespace {

std::string format_duration(double seconds) {
  const auto s = static_cast<long>(seconds);
  return s >= 3600 ? fmt::format("{}h{:02d}m", s / 3600, (s / 60) % 60) : fmt::format("{}m{:02d}s", s / 60, s % 60);
}

// TrainOptions::nan_at_step: one NaN in the first image stands for a
// corrupt input; the step must be skipped like any other non-finite one.
void poison_with_nan(const Tensor& images) {
  images.mutable_data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
}

// Per-head mean of the loss parts over a batch: [N, parts] -> parts values.
std::array<double, ops::kYoloLossNumParts> mean_parts(const Tensor& parts) {
  std::array<double, ops::kYoloLossNumParts> out{};
  const auto v = parts.to_double_vector();
  const std::int64_t n = parts.size(0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < ops::kYoloLossNumParts; ++k) out[k] += v[i * ops::kYoloLossNumParts + k] / static_cast<double>(n);
  }
  return out;
}

double sum_of(const std::array<double, ops::kYoloLossNumParts>& parts) {
  double s = 0;
  for (double p : parts) s += p;
  return s;
}

}  // namespace

TrainResult run_training(const TrainConfig& config, const TrainOptions& options, std::ostream& out) {
  Trainer trainer(config, options, out);
  return trainer.run();
}

TrainResult Trainer::run() {
  evaluate_pending();
  if (step_ < total_steps_ && plateaued()) {
    out_ << fmt::format("this run stopped early at step {} (train.patience {}); nothing left to train\n", step_,
                        config_.train.patience);
    result_.stopped_early = true;
    result_.steps = step_;
    return result_;
  }
  interrupt_.emplace();
  model_->network->set_training(true);
  prepare_sizes();
  // mpirun hands ranks a pseudo-terminal even when its own output is a file.
  tty_ = options_.progress_bar && ::isatty(STDOUT_FILENO) && !comm_.distributed();
  start_ = last_log_ = std::chrono::steady_clock::now();
  started_at_ = step_;
  const int subdivisions = config_.train.subdivisions;
  while (step_ < total_steps_) {
    start_step();
    StepTotals totals;
    // Passes accumulated into one update read the same weights: each bf16
    // convolution's converted copy is made once and kept until the update.
    std::optional<ops::backend::KeepConvertedWeights> same_weights;
    if (subdivisions > 1) same_weights.emplace();
    // Distributed ranks run every pass even after a bad one: their
    // collectives (sync_bn, gradients) must stay matched.
    for (int sub = 0; sub < subdivisions && (comm_.distributed() || totals.bad_reason.empty()); ++sub) {
      data::Batch batch = next_batch();
      if (sub == 0 && step_ + 1 == options_.nan_at_step) poison_with_nan(batch.images);
      core::Tape tape;
      const models::DetectionLoss loss = forward_and_loss(tape, batch, totals);
      const double value = loss.loss.item();
      if (!std::isfinite(value) && !comm_.distributed()) break;
      backward(tape, loss, sub + 1 == subdivisions);
      totals.loss += value / subdivisions;
      totals.images += batch.images.size(0);
    }
    same_weights.reset();
    sync_ranks(totals);
    if (!optimizer_step(totals)) continue;
    log(totals);
    evaluate_and_checkpoint();
    if (step_ < total_steps_ && plateaued()) {
      out_ << fmt::format("\nearly stopping at step {} of {}: {} has not improved for {} evaluations (train.patience); "
                          "best {:.4f} at step {} (checkpoints/best.ckpt)\n",
                          step_, total_steps_, best_metric_key(parse_eval_metric(config_.eval.metric)),
                          evals_since_best_, best_, best_step_);
      result_.stopped_early = true;
      break;
    }
    if (interrupt_->requested()) {
      save_checkpoint(false);
      out_ << fmt::format("\ninterrupted: checkpoint written at step {} ({})\n", step_, last_checkpoint_);
      result_.interrupted = true;
      break;
    }
  }
  interrupt_.reset();
  if (rank0_) plot_run(options_.run_dir);
  result_.steps = step_;
  return result_;
}

void Trainer::start_step() {
  epoch_ = step_ / steps_per_epoch_;
  if (epoch_ != loaded_epoch_) {
    // Mixup and Mosaic only for their first data.mixup_epochs and
    // data.mosaic_epochs epochs (PaddleDetection's mixup_epoch): the loader
    // is rebuilt without them when that epoch comes, or at once when a
    // resumed run starts past it.
    const AugmentPhase phase{config_.data.mixup_epochs > 0 && epoch_ >= config_.data.mixup_epochs,
                             config_.data.mosaic_epochs > 0 && epoch_ >= config_.data.mosaic_epochs};
    if (phase != loader_phase_) {
      loader_ = make_loader(phase);
      loader_phase_ = phase;
    }
    loader_->start_epoch(epoch_, (step_ % steps_per_epoch_) * config_.train.subdivisions);
    loaded_epoch_ = epoch_;
  }
  // Running statistics are snapshot so a non-finite batch cannot poison them.
  for (std::size_t i = 0; i < buffers_.size(); ++i) buffer_backup_[i] = buffers_[i].second.clone();
}

data::Batch Trainer::next_batch() {
  const auto wait_start = std::chrono::steady_clock::now();
  std::optional<data::Batch> batch = loader_->next();
  data_wait_since_log_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
  if (!batch) throw core::Error(fmt::format("train: the loader ran out of batches in epoch {}", epoch_));
  return std::move(*batch);
}

models::DetectionLoss Trainer::forward_and_loss(core::Tape& tape, const data::Batch& batch, StepTotals& totals) {
  const models::DarknetNetwork& network = *model_->network;
  const auto forward = network.forward(tape, batch.images);
  const models::DetectionTargets targets{batch.gt_box, batch.gt_label, batch.gt_score};
  models::DetectionLoss loss = models::detection_loss(tape, network, forward.heads, batch.size, batch.size, targets,
                                                      {config_.model.use_label_smooth, config_.model.scale_x_y});
  const int subdivisions = config_.train.subdivisions;
  if (totals.head_parts.empty()) totals.head_parts.assign(loss.head_parts.size(), {});
  for (std::size_t h = 0; h < loss.head_parts.size(); ++h) {
    const auto parts = mean_parts(loss.head_parts[h]);
    for (int k = 0; k < ops::kYoloLossNumParts; ++k) totals.head_parts[h][k] += parts[k] / subdivisions;
    if (!std::isfinite(sum_of(parts)) && totals.bad_reason.empty()) {
      std::string images;
      for (std::size_t i : batch.indices) images += " " + train_set_->images[i].path;
      totals.bad_reason = fmt::format("non-finite loss in head {} (stride {}); images:{}", h,
                                      network.yolo_strides(batch.size, batch.size)[h], images);
    }
  }
  if (!std::isfinite(loss.loss.item()) && totals.bad_reason.empty()) totals.bad_reason = "non-finite loss";
  return loss;
}

void Trainer::backward(core::Tape& tape, const models::DetectionLoss& loss, bool last_subdivision) {
  core::BackwardOptions backward_options;
  // With overlap, each gradient's allreduce starts as soon as the last
  // subdivision's backward has finished it.
  if (averager_ && config_.distributed.overlap && last_subdivision) {
    backward_options.on_leaf_grad_final = [this](const Tensor& leaf) { averager_->grad_final(leaf); };
  }
  tape.backward(ops::mul_scalar(tape, loss.loss, 1.0 / config_.train.subdivisions), backward_options);
}

void Trainer::sync_ranks(StepTotals& totals) {
  if (!averager_) return;
  averager_->finish();
  // One small sum carries what every rank must agree on: the mean loss and
  // head parts, the images, a bad pass anywhere, Ctrl-C anywhere.
  std::vector<double> shared = {totals.loss, totals.bad_reason.empty() ? 0.0 : 1.0,
                                interrupt_->requested() ? 1.0 : 0.0, static_cast<double>(totals.images)};
  const std::size_t head_offset = shared.size();
  for (const auto& h : totals.head_parts) shared.insert(shared.end(), h.begin(), h.end());
  comm_.sum(shared.data(), shared.size());
  const double ranks = comm_.size();
  totals.loss = shared[0] / ranks;
  if (shared[1] > 0 && totals.bad_reason.empty()) totals.bad_reason = "non-finite loss on another rank";
  if (!totals.bad_reason.empty()) totals.bad_reason = fmt::format("rank {}: {}", comm_.rank(), totals.bad_reason);
  if (shared[2] > 0) interrupt_->request();
  totals.images = static_cast<std::int64_t>(shared[3]);
  for (std::size_t h = 0; h < totals.head_parts.size(); ++h) {
    for (int k = 0; k < ops::kYoloLossNumParts; ++k) {
      totals.head_parts[h][k] = shared[head_offset + ops::kYoloLossNumParts * h + k] / ranks;
    }
  }
}

bool Trainer::optimizer_step(StepTotals& totals) {
  const TrainSection& tc = config_.train;
  images_since_log_ += totals.images;
  if (totals.bad_reason.empty()) {
    const double norm = clip_grad_norm(params_, tc.clip_grad_norm);
    if (!std::isfinite(norm)) totals.bad_reason = "non-finite gradient norm";
  }
  ++step_;
  if (!totals.bad_reason.empty()) {
    for (std::size_t i = 0; i < buffers_.size(); ++i) buffers_[i].second.copy_(buffer_backup_[i]);
    model_->network->zero_grad();
    out_ << fmt::format("\nwarning: step {} skipped: {}\n", step_, totals.bad_reason);
    if (++bad_in_row_ > tc.max_bad_steps) {
      save_checkpoint(false);
      throw core::Error(fmt::format("train: {} non-finite steps in a row (last: {}); stopped at step {}, weights "
                                    "of the last good step saved to {}",
                                    bad_in_row_, totals.bad_reason, step_, last_checkpoint_));
    }
    return false;
  }
  bad_in_row_ = 0;
  std::vector<bool> frozen(params_.size(), false);
  const bool freezing = !tc.freeze.empty() && (tc.freeze_epochs == 0 || epoch_ < tc.freeze_epochs);
  for (std::size_t i = 0; freezing && i < params_.size(); ++i) {
    for (const auto& prefix : tc.freeze) frozen[i] = frozen[i] || params_[i].first.starts_with(prefix);
  }
  optimizer_->step(learning_rate(), frozen);
  if (ema_) ema_->update(params_, step_);
  model_->network->zero_grad();
  core::fault_point("step.updated");
  return true;
}

double Trainer::learning_rate() const {
  return lr_base_ * lr_factor(config_.schedule, step_, steps_per_epoch_, total_steps_);
}

void Trainer::log(const StepTotals& totals) {
  smoothed_ = smoothed_ < 0 ? totals.loss : 0.9 * smoothed_ + 0.1 * totals.loss;
  result_.last_loss = totals.loss;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = elapsed / static_cast<double>(step_ - started_at_) * static_cast<double>(total_steps_ - step_);
  const double lr = learning_rate();
  if (tty_) {
    const int filled = static_cast<int>(30.0 * static_cast<double>(step_) / static_cast<double>(total_steps_));
    out_ << fmt::format("\repoch {} step {}/{} [{}{}] loss {:.3f} lr {:.2e} ETA {}   ", epoch_ + 1, step_, total_steps_,
                        std::string(filled, '='), std::string(30 - filled, ' '), smoothed_, lr, format_duration(eta))
         << std::flush;
  }
  if (step_ % config_.log.interval == 0 || step_ == total_steps_) write_log_line(totals, lr, eta, now);
  if (step_ % config_.log.plot_interval == 0 && rank0_) plot_run(options_.run_dir);
}

void Trainer::write_log_line(const StepTotals& totals, double lr, double eta, std::chrono::steady_clock::time_point now) {
  const double secs = std::chrono::duration<double>(now - last_log_).count();
  const double ips = secs > 0 ? static_cast<double>(images_since_log_) / secs : 0;
  // The share of the interval spent waiting for batches: above a few
  // percent, the loader (workers, augmentation) limits training.
  const double data_wait = secs > 0 ? data_wait_since_log_ / secs : 0;
  json line = {{"step", step_}, {"epoch", epoch_}, {"loss", totals.loss}, {"lr", lr}, {"images_per_s", ips},
               {"data_wait", data_wait}};
  const auto strides = model_->network->yolo_strides(config_.model.input_size, config_.model.input_size);
  json per_head = json::object();
  for (std::size_t h = 0; h < totals.head_parts.size(); ++h) {
    const auto& p = totals.head_parts[h];
    per_head[std::to_string(strides[h])] = {{"total", sum_of(p)},
                                            {"xy", p[ops::kYoloLossXY]},
                                            {"wh", p[ops::kYoloLossWH]},
                                            {"objectness", p[ops::kYoloLossObjectness]},
                                            {"class", p[ops::kYoloLossClass]}};
  }
  line["loss_heads"] = per_head;
  if (rank0_) run_dir_->append_metrics(line);
  if (!tty_) {
    out_ << fmt::format("epoch {} step {}/{} loss {:.4f} (smoothed {:.4f}) lr {:.3e} {:.1f} images/s data wait {:.0f}% "
                        "ETA {}\n",
                        epoch_ + 1, step_, total_steps_, totals.loss, smoothed_, lr, ips, 100.0 * data_wait,
                        format_duration(eta))
         << std::flush;
  }
  images_since_log_ = 0;
  data_wait_since_log_ = 0;
  last_log_ = now;
}

bool Trainer::plateaued() {
  if (config_.train.patience <= 0) return false;
  float stop = rank0_ && evals_since_best_ >= config_.train.patience ? 1.0f : 0.0f;
  if (comm_.distributed()) comm_.broadcast(&stop, 1, 0);
  return stop > 0;
}

void Trainer::evaluate_and_checkpoint() {
  const bool epoch_end = step_ % steps_per_epoch_ == 0;
  const bool eval_now =
      epoch_end && config_.eval.interval > 0 && (step_ / steps_per_epoch_) % config_.eval.interval == 0;
  if (step_ == total_steps_) {
    if (tty_) out_ << "\n";
    if (!checkpoint_and_evaluate()) save_checkpoint(false);
  } else if (eval_now) {
    checkpoint_and_evaluate();
  } else if (step_ % config_.checkpoint.interval == 0) {
    save_checkpoint(false);
  }
}

}  // namespace train
