#include "train/trainer.h"

#include <omp.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <limits>
#include <thread>

#include "core/error.h"
#include "core/fault_injection.h"
#include "data/dataset_spec.h"
#include "data/loader.h"
#include "data/shapes_writer.h"
#include "models/cfg_reader.h"
#include "models/detection_loss.h"
#include "models/yolov3.h"
#include "ops/backend/dnnl.h"
#include "ops/binary.h"
#include "train/distributed.h"
#include "train/gradient_averager.h"
#include "train/optimizer.h"
#include "train/plot.h"
#include "train/run_dir.h"
#include "train/schedule.h"

namespace train {

using core::Tensor;
using nlohmann::json;

namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted = true; }

// Sets the objectness bias of every head's output conv (a prior of
// sigmoid(b) for "object here", e.g. -4 so early training is not swamped
// by the many negative cells).
void init_objectness_bias(const models::Model& model, double bias) {
  if (bias == 0) return;
  const auto& layers = model.network->def().layers;
  const auto convs = model.network->darknet_conv_tensors();
  for (std::size_t i = 1; i < layers.size(); ++i) {
    const auto* y = std::get_if<models::YoloLayer>(&layers[i].spec);
    if (!y) continue;
    for (const auto& c : convs) {
      if (c.layer_index != static_cast<int>(i) - 1 || c.scales.defined()) continue;
      float* b = c.biases.mutable_data<float>();
      for (std::size_t a = 0; a < y->mask.size(); ++a) b[a * (5 + y->classes) + 4] = static_cast<float>(bias);
    }
  }
}

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

data::LoaderConfig loader_config(const TrainConfig& c, bool augment, const Communicator& comm) {
  data::LoaderConfig l;
  l.batch_size = batch_per_rank(c, comm.size());
  l.rank = comm.rank();
  l.world = comm.size();
  l.workers = c.data.workers;
  l.max_boxes = c.data.max_boxes;
  l.seed = c.train.seed;
  l.augment = augment;
  l.augment_config = c.data.augment;
  l.augment_config.resize.letterbox = c.input.resize == "letterbox";
  l.augment_config.normalize.mean_std = c.input.mean_std;
  for (int k = 0; k < 3; ++k) {
    l.augment_config.normalize.mean[k] = c.input.mean[k];
    l.augment_config.normalize.std[k] = c.input.std[k];
  }
  if (!l.augment_config.multiscale.enabled) l.augment_config.multiscale.size = c.model.input_size;
  return l;
}

// Exponential moving average of the parameters, with the usual warm-up of
// the decay so the average does not start at the random initialisation.
class Ema {
 public:
  Ema(const std::vector<models::NamedTensor>& params, double decay) : decay_(decay) {
    for (const auto& [name, p] : params) {
      names_.push_back("ema." + name);
      shadow_.push_back(p.clone());
    }
  }
  void update(const std::vector<models::NamedTensor>& params, std::int64_t updates) {
    const double d = std::min(decay_, (1.0 + static_cast<double>(updates)) / (10.0 + static_cast<double>(updates)));
    for (std::size_t i = 0; i < params.size(); ++i) {
      float* s = shadow_[i].mutable_data<float>();
      const float* w = params[i].second.data<float>();
      for (std::int64_t k = 0; k < shadow_[i].numel(); ++k) s[k] = static_cast<float>(d * s[k] + (1 - d) * w[k]);
    }
  }
  // Swaps the averaged and the live weights (call twice to swap back).
  void swap_into(const std::vector<models::NamedTensor>& params) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      Tensor live = params[i].second.clone();
      params[i].second.copy_(shadow_[i]);
      shadow_[i].copy_(live);
    }
  }
  std::vector<models::NamedTensor> state() const {
    std::vector<models::NamedTensor> out;
    for (std::size_t i = 0; i < names_.size(); ++i) out.emplace_back(names_[i], shadow_[i]);
    return out;
  }
  void load(const models::Checkpoint& c) {
    for (std::size_t i = 0; i < names_.size(); ++i) shadow_[i].copy_(c.get(names_[i]));
  }

 private:
  double decay_;
  std::vector<std::string> names_;
  std::vector<Tensor> shadow_;
};

std::string format_duration(double seconds) {
  const auto s = static_cast<long>(seconds);
  return s >= 3600 ? fmt::format("{}h{:02d}m", s / 3600, (s / 60) % 60) : fmt::format("{}m{:02d}s", s / 60, s % 60);
}

std::int64_t count_parameters(const models::Model& m) {
  std::int64_t n = 0;
  for (const auto& [name, p] : m.network->named_parameters()) n += p.numel();
  return n;
}

// TrainOptions::nan_at_step: one NaN in the first image stands for a
// corrupt input; the step must be skipped like any other non-finite one.
void poison_with_nan(const Tensor& images) {
  images.mutable_data<float>()[0] = std::numeric_limits<float>::quiet_NaN();
}

// Per-head mean of the loss parts over a batch: [N,4] -> 4 values.
std::array<double, 4> mean_parts(const Tensor& parts) {
  std::array<double, 4> out{};
  const auto v = parts.to_double_vector();
  const std::int64_t n = parts.size(0);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) out[k] += v[i * 4 + k] / static_cast<double>(n);
  }
  return out;
}

// On resume: whether metrics.jsonl holds the evaluation of `step`, and the
// best `key` among the evaluations it holds up to `step` (-1 if none).
std::pair<bool, double> logged_evaluation(const std::vector<nlohmann::json>& lines, std::int64_t step,
                                          const std::string& key) {
  bool logged = false;
  double best = -1;
  for (const auto& j : lines) {
    if (!j.contains("eval") || !j["eval"].is_object()) continue;
    const std::int64_t at = j.value("step", std::int64_t{-1});
    if (at > step) continue;
    logged = logged || at == step;
    best = std::max(best, j["eval"].value(key, 0.0));
  }
  return {logged, best};
}

}  // namespace

data::Dataset load_train_dataset(const TrainConfig& config, const std::string& spec, DataRole role, std::ostream& out) {
  const ShapesConfig& s = config.data.shapes;
  namespace fs = std::filesystem;
  if (s.generate && !fs::exists(fs::path(config.data.cache_dir) / "classes.txt")) {
    out << fmt::format("generating the synthetic shapes data set into {} ({} images, seed {})\n",
                       config.data.cache_dir, s.images, s.seed);
    data::ShapesOptions o;
    o.out = config.data.cache_dir;
    o.images = s.images;
    o.classes = s.classes;
    o.size = s.size;
    o.seed = s.seed;
    data::write_shapes_dataset(o, out);
  }
  // An empty default split lets the reader pick trainval or train.
  return data::read_dataset(spec, data::ReadOptions{}, role == DataRole::val ? "val" : "");
}

models::Model build_model(const TrainConfig& c, const std::vector<std::string>& class_names) {
  models::ModelMeta meta;
  meta.class_names = class_names;
  meta.bn_style = models::parse_bn_style(c.model.bn_style);
  meta.resize = c.input.resize;
  meta.mean_std = c.input.mean_std;
  meta.mean = c.input.mean;
  meta.std = c.input.std;
  meta.input_size = c.model.input_size;
  const models::NetworkOptions options{meta.bn_style, c.model.bn_momentum, 1e-5, c.train.seed};
  if (!c.model.cfg.empty()) {
    models::NetworkDef def = models::read_network_cfg(c.model.cfg);
    return models::make_model(def, {}, meta, options);
  }
  models::YoloV3Options o;
  o.num_classes = static_cast<int>(class_names.size());
  o.anchors = c.model.anchors;
  o.masks = c.model.masks;
  o.input_size = c.model.input_size;
  o.width = c.model.width;
  o.ignore_thresh = static_cast<float>(c.model.ignore_thresh);
  models::GeneratedNetwork g = models::yolov3(o);
  models::Model m = models::make_model(g.def, g.names, meta, options);
  init_objectness_bias(m, c.model.objectness_bias);
  return m;
}

TrainResult run_training(const TrainConfig& config, const TrainOptions& options, std::ostream& console) {
  const auto& tc = config.train;
  if (tc.batch_size <= 0 || tc.subdivisions <= 0) {
    throw core::ConfigError(fmt::format("train.batch_size ({}) and train.subdivisions ({}) must be positive",
                                        tc.batch_size, tc.subdivisions));
  }
  // Refused before anything is read or written: emulated bf16 would only be slower.
  if (config.precision == "bf16" && !ops::backend::bf16_supported()) {
    throw core::ConfigError("precision: bf16 needs a CPU with AVX512-BF16 (or newer), which this one lacks; use fp32");
  }
  // Under mpirun every rank runs this function; rank 0 alone writes the run
  // directory and the console.
  Communicator& comm = communicator();
  const bool rank0 = comm.rank() == 0;
  const bool distributed = comm.distributed();
  std::ostream null_stream(nullptr);
  std::ostream& out = rank0 ? console : null_stream;
  std::optional<RunDir> run_writer;
  if (rank0) run_writer.emplace(options.run_dir);
  const std::string last_checkpoint = (std::filesystem::path(options.run_dir) / "checkpoints" / "last.ckpt").string();
  if (rank0 && !options.config_yaml.empty()) run_writer->write_config(options.config_yaml);
  const int threads = tc.threads > 0 ? tc.threads : default_threads_per_rank(comm);
  omp_set_num_threads(threads);

  // Data. Rank 0 generates the shapes set when it is missing; the others
  // read it after.
  std::optional<data::Dataset> train_storage, val_set;
  auto read_data = [&] {
    train_storage = load_train_dataset(config, config.data.train, DataRole::train, out);
    if (!config.data.val.empty()) val_set = load_train_dataset(config, config.data.val, DataRole::val, out);
  };
  if (rank0) read_data();
  comm.barrier();
  if (!rank0) read_data();
  const data::Dataset& train_set = *train_storage;
  // Mixup only for the first data.mixup_epochs epochs (PaddleDetection's
  // mixup_epoch); the loader is rebuilt without it when that epoch comes.
  auto make_loader = [&](std::int64_t epoch) {
    data::LoaderConfig lc = loader_config(config, true, comm);
    if (config.data.mixup_epochs > 0 && epoch >= config.data.mixup_epochs) lc.augment_config.mixup.enabled = false;
    return std::make_unique<data::Loader>(train_set, lc);
  };
  auto loader = make_loader(0);
  const std::int64_t steps_per_epoch = loader->batches_per_epoch() / tc.subdivisions;
  if (steps_per_epoch <= 0) {
    throw core::ConfigError(fmt::format("train: {} training images give no full update of batch_size {} x "
                                        "subdivisions {} x {} ranks",
                                        train_set.images.size(), batch_per_rank(config, comm.size()),
                                        tc.subdivisions, comm.size()));
  }
  const std::int64_t total_steps = tc.max_steps > 0 ? tc.max_steps : tc.epochs * steps_per_epoch;

  // Model, optimizer, EMA.
  models::Model model = build_model(config, train_set.classes);
  model.network->set_bf16(config.precision == "bf16");
  const auto params = model.network->named_parameters();
  const auto buffers = model.network->named_buffers();
  auto optimizer = make_optimizer(config.optimizer, params);
  std::optional<Ema> ema;
  if (tc.ema) ema.emplace(params, tc.ema_decay);

  std::int64_t step = 0;
  double best = -1;  // the best evaluation score so far (best_key)
  bool resumed_eval_pending = false;
  if (options.resume) {
    // Every rank reads the checkpoint (the run directory must be reachable
    // from every machine); the broadcast below makes the weights agree anyway.
    const auto ckpt = models::load_model_checkpoint(last_checkpoint);
    models::restore_state(model, ckpt.file);
    optimizer->load_state(ckpt.file);
    if (ema) ema->load(ckpt.file);
    const json extra = json::parse(ckpt.extra_json);
    step = extra.at("step").get<std::int64_t>();
    best = extra.value("best", -1.0);
    resumed_eval_pending = extra.value("eval_pending", false);
    if (rank0) run_writer->truncate_metrics_after(step);
    out << fmt::format("resumed from {} at step {}\n", last_checkpoint, step);
  } else if (rank0 && !config.pretrain_weights.empty()) {
    const auto s = models::load_weights_into(model, config.pretrain_weights);
    out << fmt::format("pretrain_weights {}: {} ({} of {} conv layers filled)\n", config.pretrain_weights, s.format,
                       s.layers_filled, s.conv_layers);
  }

  // Every rank starts from rank 0's weights and batch-norm statistics.
  std::optional<GradientAverager> averager;
  if (distributed) {
    for (const auto& list : {params, buffers}) {
      for (const auto& [name, t] : list) comm.broadcast(t.mutable_data<float>(), static_cast<std::size_t>(t.numel()), 0);
    }
    averager.emplace(comm, params, static_cast<std::size_t>(config.distributed.bucket_mb * 1024 * 1024));
  }
  // sync_bn on a single process runs the same kernel with nothing to add, so
  // a config trains with the same numerics with and without mpirun.
  if (config.distributed.sync_bn) {
    model.network->set_bn_sync([&comm](double* values, std::size_t count) { comm.sum(values, count); });
  }
  const double lr_base = config.optimizer.lr * lr_rank_factor(config, comm.size());

  out << fmt::format(
      "train: {} images ({} classes){}, {} steps of {} x {} images ({} per epoch), model {} parameters, {} threads, "
      "run dir {}\n",
      train_set.images.size(), train_set.classes.size(),
      val_set ? fmt::format(", val: {} images", val_set->images.size()) : std::string(), total_steps,
      batch_per_rank(config, comm.size()) * comm.size(), tc.subdivisions, steps_per_epoch, count_parameters(model),
      threads, options.run_dir);
  if (distributed) {
    out << fmt::format("distributed: {} ranks x {} images per pass, {} threads per rank, lr {:.3e}, {} allreduce "
                       "buckets{}{}\n",
                       comm.size(), batch_per_rank(config, comm.size()), threads, lr_base, averager->buckets(),
                       config.distributed.overlap ? " overlapping backward" : "",
                       config.distributed.sync_bn ? ", sync_bn" : "");
  }

  // A checkpoint is written and published before each evaluation (with
  // eval_pending set), so a slow, failed or killed evaluation never costs
  // the steps before it; best.ckpt is pointed at it once the evaluation says so.
  auto save = [&](bool eval_pending) {
    if (!rank0) return;
    const RunDir& run = *run_writer;
    json extra = {{"step", step}, {"epoch", step / steps_per_epoch}, {"best", best}, {"eval_pending", eval_pending}};
    auto state = optimizer->state();
    if (ema) {
      for (auto& e : ema->state()) state.push_back(e);
    }
    models::save_model_checkpoint(run.checkpoint_path(step), model, state, extra.dump());
    run.publish_checkpoint(step, false, config.checkpoint.keep_last);
  };

  auto refresh_plots = [&] {
    if (rank0) plot_run(options.run_dir);
  };

  TrainResult result;
  const std::string best_key = config.eval.metric == "coco" ? "AP" : "mAP_11point";
  // Evaluates the model of step `at_step`, whose checkpoint is already
  // published. Returns false when the run has nothing to evaluate on.
  auto evaluate = [&](std::int64_t at_step) {
    // Every rank evaluates its shard of the val set (options.evaluate gathers
    // the detections), with rank 0's batch-norm statistics.
    if (!options.evaluate || !val_set) return false;
    core::fault_point("eval.started");
    if (distributed) {
      for (const auto& [name, t] : buffers) comm.broadcast(t.mutable_data<float>(), static_cast<std::size_t>(t.numel()), 0);
    }
    if (ema) ema->swap_into(params);
    model.network->set_training(false);
    const auto t0 = std::chrono::steady_clock::now();
    const EvalReport report = options.evaluate(model, *val_set, config);
    const json& metrics = report.metrics;
    model.network->set_training(true);
    if (ema) ema->swap_into(params);
    const double score = metrics.value(best_key, 0.0);
    out << fmt::format("eval at step {}: mAP_11point {:.4f} mAP_area {:.4f} ({:.1f} s)\n", at_step,
                       metrics.value("mAP_11point", metrics.value("AP", 0.0)), metrics.value("mAP_area", 0.0),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    // best.ckpt before the metrics line: a run killed in between evaluates
    // this step again on resume and comes to the same decision.
    if (score > best) {
      best = score;
      if (rank0) run_writer->publish_best(at_step);
    }
    if (rank0 && report.details) run_writer->write_eval_details(at_step, to_json(*report.details));
    if (rank0) run_writer->append_metrics({{"step", at_step}, {"epoch", at_step / steps_per_epoch}, {"eval", metrics}});
    result.last_eval = metrics;
    refresh_plots();
    return true;
  };
  auto checkpoint_and_evaluate = [&] {
    if (!options.evaluate || !val_set) return false;
    save(true);
    return evaluate(step);
  };

  // A run stopped during an evaluation evaluates that step again first.
  if (options.resume) {
    float pending = 0;
    if (rank0) {
      const auto [logged, best_logged] = logged_evaluation(run_writer->read_metrics(), step, best_key);
      best = std::max(best, best_logged);
      pending = resumed_eval_pending && !logged ? 1.0f : 0.0f;
    }
    if (distributed) comm.broadcast(&pending, 1, 0);
    if (pending > 0) {
      out << fmt::format("the evaluation of step {} did not finish before the run stopped; evaluating it now\n", step);
      evaluate(step);
    }
  }

  g_interrupted = false;
  const auto previous_handler = std::signal(SIGINT, on_sigint);
  model.network->set_training(true);
  // mpirun hands ranks a pseudo-terminal even when its own output is a file.
  const bool tty = options.progress_bar && ::isatty(STDOUT_FILENO) && !distributed;
  const auto start = std::chrono::steady_clock::now();
  auto last_log = start;
  std::int64_t images_since_log = 0, started_at = step, loaded_epoch = -1;
  double data_wait_since_log = 0;  // seconds spent waiting for the loader
  double smoothed = -1;
  int bad_in_row = 0;
  std::vector<Tensor> buffer_backup(buffers.size());

  while (step < total_steps) {
    const std::int64_t epoch = step / steps_per_epoch;
    if (epoch != loaded_epoch) {
      if (config.data.mixup_epochs > 0 && epoch == config.data.mixup_epochs) loader = make_loader(epoch);
      if (loaded_epoch < 0 && config.data.mixup_epochs > 0 && epoch > config.data.mixup_epochs) {
        loader = make_loader(epoch);  // resumed past the mixup epochs
      }
      loader->start_epoch(epoch, (step % steps_per_epoch) * tc.subdivisions);
      loaded_epoch = epoch;
    }
    // Running statistics are snapshot so a non-finite batch cannot poison them.
    for (std::size_t i = 0; i < buffers.size(); ++i) buffer_backup[i] = buffers[i].second.clone();

    double loss_value = 0;
    std::vector<std::array<double, 4>> heads;
    std::string bad_reason;
    // Distributed ranks run every pass even after a bad one: their
    // collectives (sync_bn, gradients) must stay matched.
    std::int64_t images_this_step = 0;
    for (int sub = 0; sub < tc.subdivisions && (distributed || bad_reason.empty()); ++sub) {
      const auto wait_start = std::chrono::steady_clock::now();
      std::optional<data::Batch> batch = loader->next();
      data_wait_since_log += std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
      if (!batch) throw core::Error(fmt::format("train: the loader ran out of batches in epoch {}", epoch));
      if (sub == 0 && step + 1 == options.nan_at_step) poison_with_nan(batch->images);
      core::Tape tape;
      const auto fwd = model.network->forward(tape, batch->images);
      const models::DetectionTargets targets{batch->gt_box, batch->gt_label, batch->gt_score};
      const auto loss = models::detection_loss(tape, *model.network, fwd.heads, batch->size, batch->size, targets,
                                               {config.model.use_label_smooth, config.model.scale_x_y});
      const double v = loss.loss.item();
      if (heads.empty()) heads.assign(loss.head_parts.size(), {});
      for (std::size_t h = 0; h < loss.head_parts.size(); ++h) {
        const auto p = mean_parts(loss.head_parts[h]);
        for (int k = 0; k < 4; ++k) heads[h][k] += p[k] / tc.subdivisions;
        if (!std::isfinite(p[0] + p[1] + p[2] + p[3]) && bad_reason.empty()) {
          std::string images;
          for (std::size_t i : batch->indices) images += " " + train_set.images[i].path;
          bad_reason = fmt::format("non-finite loss in head {} (stride {}); images:{}", h,
                                   model.network->yolo_strides(batch->size, batch->size)[h], images);
        }
      }
      if (!std::isfinite(v)) {
        if (bad_reason.empty()) bad_reason = "non-finite loss";
        if (!distributed) break;
      }
      core::BackwardOptions backward_options;
      if (averager && config.distributed.overlap && sub + 1 == tc.subdivisions) {
        backward_options.on_leaf_grad_final = [&](const Tensor& leaf) { averager->grad_final(leaf); };
      }
      tape.backward(ops::mul_scalar(tape, loss.loss, 1.0 / tc.subdivisions), backward_options);
      loss_value += v / tc.subdivisions;
      images_this_step += batch->images.size(0);
    }
    if (averager) {
      averager->finish();
      // One small sum carries what every rank must agree on: the mean loss
      // and head parts, the images, a bad pass anywhere, Ctrl-C anywhere.
      std::vector<double> shared = {loss_value, bad_reason.empty() ? 0.0 : 1.0, g_interrupted ? 1.0 : 0.0,
                                    static_cast<double>(images_this_step)};
      for (const auto& h : heads) shared.insert(shared.end(), h.begin(), h.end());
      comm.sum(shared.data(), shared.size());
      const double ranks = comm.size();
      loss_value = shared[0] / ranks;
      if (shared[1] > 0 && bad_reason.empty()) bad_reason = "non-finite loss on another rank";
      if (!bad_reason.empty()) bad_reason = fmt::format("rank {}: {}", comm.rank(), bad_reason);
      if (shared[2] > 0) g_interrupted = true;
      images_this_step = static_cast<std::int64_t>(shared[3]);
      for (std::size_t h = 0; h < heads.size(); ++h) {
        for (int k = 0; k < 4; ++k) heads[h][k] = shared[4 + 4 * h + k] / ranks;
      }
    }
    images_since_log += images_this_step;
    if (bad_reason.empty()) {
      const double norm = clip_grad_norm(params, tc.clip_grad_norm);
      if (!std::isfinite(norm)) bad_reason = "non-finite gradient norm";
    }

    ++step;
    if (!bad_reason.empty()) {
      for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].second.copy_(buffer_backup[i]);
      model.network->zero_grad();
      out << fmt::format("\nwarning: step {} skipped: {}\n", step, bad_reason);
      if (++bad_in_row > tc.max_bad_steps) {
        save(false);
        throw core::Error(fmt::format("train: {} non-finite steps in a row (last: {}); stopped at step {}, weights "
                                      "of the last good step saved to {}",
                                      bad_in_row, bad_reason, step, last_checkpoint));
      }
      continue;
    }
    bad_in_row = 0;

    const double lr = lr_base * lr_factor(config.schedule, step, steps_per_epoch, total_steps);
    std::vector<bool> frozen(params.size(), false);
    const bool freezing = !tc.freeze.empty() && (tc.freeze_epochs == 0 || epoch < tc.freeze_epochs);
    for (std::size_t i = 0; freezing && i < params.size(); ++i) {
      for (const auto& prefix : tc.freeze) frozen[i] = frozen[i] || params[i].first.starts_with(prefix);
    }
    optimizer->step(lr, frozen);
    if (ema) ema->update(params, step);
    model.network->zero_grad();
    core::fault_point("step.updated");

    smoothed = smoothed < 0 ? loss_value : 0.9 * smoothed + 0.1 * loss_value;
    result.last_loss = loss_value;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    const double eta = elapsed / static_cast<double>(step - started_at) * static_cast<double>(total_steps - step);
    if (tty) {
      const int filled = static_cast<int>(30.0 * static_cast<double>(step) / static_cast<double>(total_steps));
      out << fmt::format("\repoch {} step {}/{} [{}{}] loss {:.3f} lr {:.2e} ETA {}   ", epoch + 1, step, total_steps,
                         std::string(filled, '='), std::string(30 - filled, ' '), smoothed, lr, format_duration(eta))
          << std::flush;
    }
    if (step % config.log.interval == 0 || step == total_steps) {
      const double secs = std::chrono::duration<double>(now - last_log).count();
      const double ips = secs > 0 ? static_cast<double>(images_since_log) / secs : 0;
      // The share of the interval spent waiting for batches: above a few
      // percent, the loader (workers, augmentation) limits training.
      const double data_wait = secs > 0 ? data_wait_since_log / secs : 0;
      json line = {{"step", step},          {"epoch", epoch}, {"loss", loss_value}, {"lr", lr},
                   {"images_per_s", ips}, {"data_wait", data_wait}};
      const auto strides = model.network->yolo_strides(config.model.input_size, config.model.input_size);
      json per_head = json::object();
      for (std::size_t h = 0; h < heads.size(); ++h) {
        const auto& p = heads[h];
        per_head[std::to_string(strides[h])] = {
            {"total", p[0] + p[1] + p[2] + p[3]}, {"xy", p[0]}, {"wh", p[1]}, {"objectness", p[2]}, {"class", p[3]}};
      }
      line["loss_heads"] = per_head;
      if (rank0) run_writer->append_metrics(line);
      if (!tty) {
        out << fmt::format(
                   "epoch {} step {}/{} loss {:.4f} (smoothed {:.4f}) lr {:.3e} {:.1f} images/s data wait {:.0f}% ETA {}\n",
                   epoch + 1, step, total_steps, loss_value, smoothed, lr, ips, 100.0 * data_wait, format_duration(eta))
            << std::flush;
      }
      images_since_log = 0;
      data_wait_since_log = 0;
      last_log = now;
    }
    if (step % config.log.plot_interval == 0) refresh_plots();

    const bool epoch_end = step % steps_per_epoch == 0;
    const bool eval_now = epoch_end && config.eval.interval > 0 && (step / steps_per_epoch) % config.eval.interval == 0;
    if (step == total_steps) {
      if (tty) out << "\n";
      if (!checkpoint_and_evaluate()) save(false);
    } else if (eval_now) {
      checkpoint_and_evaluate();
    } else if (step % config.checkpoint.interval == 0) {
      save(false);
    }
    if (g_interrupted) {
      save(false);
      out << fmt::format("\ninterrupted: checkpoint written at step {} ({})\n", step, last_checkpoint);
      result.interrupted = true;
      break;
    }
  }
  std::signal(SIGINT, previous_handler);
  refresh_plots();
  result.steps = step;
  return result;
}

}  // namespace train
