#include "train/trainer.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "ops/backend/dnnl.h"
#include "train/run_dir.h"

namespace train {
namespace {

namespace fs = std::filesystem;

// A tiny run: 24 synthetic 64-pixel images, a 1/16-width YOLOv3, 4 images a
// step in two subdivisions.
TrainConfig tiny_config(const fs::path& dir) {
  TrainConfig c;
  c.data.cache_dir = (dir / "shapes").string();
  c.data.shapes.generate = true;
  c.data.shapes.images = 30;
  c.data.shapes.classes = 2;
  c.data.shapes.size = 64;
  c.data.train = "voc:" + (dir / "shapes" / "voc").string() + ":train";
  c.data.workers = 1;
  c.data.max_boxes = 8;
  c.data.augment.multiscale.enabled = false;
  c.data.augment.mixup.enabled = false;
  c.model.width = 1.0 / 16;
  c.model.input_size = 64;
  c.model.objectness_bias = -4;
  c.train.batch_size = 2;
  c.train.subdivisions = 2;
  c.train.max_steps = 6;
  c.train.threads = 1;
  c.optimizer.type = "adamw";
  c.optimizer.lr = 1e-3;
  c.schedule.type = "cosine";
  c.schedule.warmup_steps = 2;
  c.log.interval = 1;
  c.log.plot_interval = 3;
  c.checkpoint.interval = 3;
  c.checkpoint.keep_last = 5;
  return c;
}

class Trainer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("trainer_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<double> losses(const std::string& run) const {
    std::vector<double> out;
    for (const auto& j : RunDir(run).read_metrics()) {
      if (j.contains("loss")) out.push_back(j["loss"].get<double>());
    }
    return out;
  }
  fs::path dir_;
  std::ostringstream log_;
};

TEST_F(Trainer, WritesMetricsCheckpointsAndPlots) {
  const TrainConfig c = tiny_config(dir_);
  const std::string run = (dir_ / "run").string();
  const TrainResult r = run_training(c, {.run_dir = run, .config_yaml = "model:\n  width: 0.0625\n"}, log_);
  EXPECT_EQ(r.steps, 6);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  const auto lines = RunDir(run).read_metrics();
  ASSERT_EQ(lines.size(), 6u) << log_.str();
  EXPECT_EQ(lines[0]["step"], 1);
  for (const char* key : {"epoch", "loss", "lr", "images_per_s", "data_wait", "loss_heads"}) {
    EXPECT_TRUE(lines[0].contains(key)) << key;
  }
  for (const auto& line : lines) {
    const double wait = line["data_wait"].get<double>();
    EXPECT_TRUE(wait >= 0.0 && wait <= 1.0) << "data_wait is a share of the interval: " << wait;
  }
  for (const char* stride : {"32", "16", "8"}) {
    EXPECT_TRUE(lines[0]["loss_heads"].contains(stride));
    EXPECT_TRUE(lines[0]["loss_heads"][stride].contains("objectness"));
  }
  EXPECT_LT(lines[0]["lr"].get<double>(), lines[1]["lr"].get<double>()) << "warm-up raises the rate";
  for (const char* f : {"checkpoints/step_000003.ckpt", "checkpoints/step_000006.ckpt", "checkpoints/last.ckpt",
                        "plots/loss.png", "plots/lr.png", "plots/map.png", "config.yml"}) {
    EXPECT_TRUE(fs::exists(fs::path(run) / f)) << f;
  }
  const auto ckpt = models::load_model_checkpoint((fs::path(run) / "checkpoints/last.ckpt").string());
  EXPECT_EQ(nlohmann::json::parse(ckpt.extra_json)["step"], 6);
  EXPECT_EQ(ckpt.model.meta.class_names.size(), 2u);
}

// The checkpoint of a step is published before its evaluation starts, so a
// slow or failed evaluation loses no training; best.ckpt follows the scores.
TEST_F(Trainer, CheckpointIsPublishedBeforeEachEvaluation) {
  TrainConfig c = tiny_config(dir_);
  c.data.val = "voc:" + (dir_ / "shapes" / "voc").string() + ":val";
  c.train.max_steps = 13;  // an epoch is 6 steps: evaluations at 6, 12 and 13
  c.eval.interval = 1;
  c.checkpoint.interval = 1000;
  const std::string run = (dir_ / "run").string();
  std::vector<std::int64_t> checkpoint_steps;
  double next_score = 0.5;
  TrainOptions o{.run_dir = run};
  o.evaluate = [&](const models::Model&, const data::Dataset&, const TrainConfig&) {
    const auto ckpt = models::load_model_checkpoint(RunDir(run).last_checkpoint());
    const auto extra = nlohmann::json::parse(ckpt.extra_json);
    EXPECT_TRUE(extra.at("eval_pending").get<bool>());
    checkpoint_steps.push_back(extra.at("step").get<std::int64_t>());
    next_score = next_score == 0.5 ? 0.25 : 0.75;  // 0.25 after the first: not a new best
    return TrainingEval{next_score,
                        {{"mAP_11point", next_score}, {"mAP_area", next_score}},
                        {{"mAP_11point", next_score}, {"mAP_area", next_score}},
                        std::nullopt};
  };
  run_training(c, o, log_);
  std::vector<std::int64_t> eval_steps;
  for (const auto& j : RunDir(run).read_metrics()) {
    if (j.contains("eval")) eval_steps.push_back(j["step"].get<std::int64_t>());
  }
  ASSERT_GE(eval_steps.size(), 2u) << log_.str();
  EXPECT_EQ(checkpoint_steps, eval_steps) << "each evaluation saw its own step's checkpoint as last.ckpt";
  // Scores 0.25, 0.75, 0.75, ...: best.ckpt is the checkpoint of the first 0.75.
  const auto best = models::load_model_checkpoint(RunDir(run).best_checkpoint());
  EXPECT_EQ(nlohmann::json::parse(best.extra_json).at("step").get<std::int64_t>(), eval_steps[1]);
}

// An evaluation hook that returns the given scores in turn (the last one
// again when they run out).
EvaluateFn scripted_scores(std::vector<double> scores) {
  auto next = std::make_shared<std::size_t>(0);
  return [scores, next](const models::Model&, const data::Dataset&, const TrainConfig&) {
    const double s = scores[std::min(*next, scores.size() - 1)];
    ++*next;
    return TrainingEval{s, {{"mAP_11point", s}, {"mAP_area", s}}, {{"mAP_11point", s}, {"mAP_area", s}}, std::nullopt};
  };
}

// train.patience: two evaluations without a new best end the run as a
// finished one (checkpoint, best.ckpt, plots, the reason in the log); a
// resume of it trains nothing more.
TEST_F(Trainer, EarlyStoppingEndsAPlateauedRunAsFinished) {
  TrainConfig c = tiny_config(dir_);
  c.data.val = "voc:" + (dir_ / "shapes" / "voc").string() + ":val";
  c.train.max_steps = 60;  // an epoch is 6 steps: evaluations at 6, 12, 18, ...
  c.train.patience = 2;
  c.eval.interval = 1;
  c.checkpoint.interval = 1000;
  c.log.plot_interval = 1000;  // plots at the end only: redrawing them every 3 steps was most of the time
  const std::string run = (dir_ / "run").string();
  TrainOptions o{.run_dir = run};
  o.evaluate = scripted_scores({0.3, 0.5, 0.45, 0.5, 0.9});  // best at 12, then 18 and 24 are no better
  const TrainResult r = run_training(c, o, log_);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_EQ(r.steps, 24) << log_.str();
  EXPECT_NE(log_.str().find("early stopping at step 24 of 60: mAP_11point has not improved for 2 evaluations"),
            std::string::npos)
      << log_.str();
  const RunDir dir(run);
  EXPECT_EQ(nlohmann::json::parse(models::load_model_checkpoint(dir.last_checkpoint()).extra_json)["step"], 24);
  EXPECT_EQ(nlohmann::json::parse(models::load_model_checkpoint(dir.best_checkpoint()).extra_json)["step"], 12);
  EXPECT_EQ(dir.read_metrics().back()["step"], 24);
  EXPECT_TRUE(dir.read_metrics().back().contains("eval"));
  for (const char* f : {"plots/results.png", "plots/map.png", "metrics.jsonl"}) {
    EXPECT_TRUE(fs::exists(fs::path(run) / f)) << f;
  }

  std::ostringstream resumed;
  const TrainResult again = run_training(c, {.run_dir = run, .resume = true, .evaluate = o.evaluate}, resumed);
  EXPECT_TRUE(again.stopped_early);
  EXPECT_EQ(again.steps, 24);
  EXPECT_NE(resumed.str().find("stopped early at step 24"), std::string::npos) << resumed.str();

  // Improving scores never stop a run; patience 0 never stops one.
  for (const int patience : {2, 0}) {
    c.train.max_steps = 30;
    c.train.patience = patience;
    const std::string other = (dir_ / ("improving" + std::to_string(patience))).string();
    const EvaluateFn scores = patience ? scripted_scores({0.1, 0.2, 0.3, 0.4, 0.5}) : scripted_scores({0.5, 0.1});
    const TrainResult full = run_training(c, {.run_dir = other, .evaluate = scores}, log_);
    EXPECT_FALSE(full.stopped_early);
    EXPECT_EQ(full.steps, 30);
  }
}

TEST_F(Trainer, ResumedRunReproducesTheUninterruptedLosses) {
  const TrainConfig c = tiny_config(dir_);
  const std::string full = (dir_ / "full").string();
  run_training(c, {.run_dir = full}, log_);
  // The state after step 3, as a run killed right after that checkpoint leaves it.
  const std::string cut = (dir_ / "cut").string();
  fs::create_directories(fs::path(cut) / "checkpoints");
  fs::copy_file(fs::path(full) / "checkpoints/step_000003.ckpt", fs::path(cut) / "checkpoints/last.ckpt");
  fs::copy_file(fs::path(full) / "metrics.jsonl", fs::path(cut) / "metrics.jsonl");
  const TrainResult r = run_training(c, {.run_dir = cut, .resume = true}, log_);
  EXPECT_EQ(r.steps, 6);
  const auto a = losses(full), b = losses(cut);
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u) << "lines after the checkpoint are dropped, then logged again";
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a[i], b[i]) << "step " << i + 1;
}

// Multi-scale: every size the loader may draw is prepared before the first
// step (train.prepare_sizes, on by default) and said so; the losses are
// those of a run without the preparation; a one-size run prepares nothing.
TEST_F(Trainer, MultiScaleSizesArePreparedWithoutChangingTheLosses) {
  TrainConfig c = tiny_config(dir_);
  c.data.augment.multiscale = {.enabled = true, .min_size = 64, .max_size = 128, .step = 32, .size = 64};
  c.train.max_steps = 3;
  std::ostringstream prepared_log, plain_log;
  run_training(c, {.run_dir = (dir_ / "prepared").string(), .progress_bar = false}, prepared_log);
  c.train.prepare_sizes = false;
  run_training(c, {.run_dir = (dir_ / "plain").string(), .progress_bar = false}, plain_log);
  EXPECT_NE(prepared_log.str().find("prepared 3 multi-scale sizes (64..128) in "), std::string::npos)
      << prepared_log.str();
  EXPECT_EQ(plain_log.str().find("prepared"), std::string::npos) << plain_log.str();
  std::ostringstream fixed_log;  // one size: nothing to prepare
  c.train.prepare_sizes = true;
  c.data.augment.multiscale.enabled = false;
  c.train.max_steps = 1;
  run_training(c, {.run_dir = (dir_ / "fixed").string(), .progress_bar = false}, fixed_log);
  EXPECT_EQ(fixed_log.str().find("prepared"), std::string::npos) << fixed_log.str();
  const auto a = losses((dir_ / "prepared").string()), b = losses((dir_ / "plain").string());
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a, b);
}

// precision: bf16 trains (finite losses, close to fp32's first step but not
// identical) where the CPU has AVX512-BF16, and is refused before the run
// directory is touched where it does not.
TEST_F(Trainer, Bf16PrecisionTrainsOrIsRefused) {
  TrainConfig c = tiny_config(dir_);
  c.precision = "bf16";
  const std::string run = (dir_ / "bf16").string();
  if (!ops::backend::bf16_supported()) {
    EXPECT_THROW(run_training(c, {.run_dir = run}, log_), core::ConfigError);
    EXPECT_FALSE(fs::exists(run));
    GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  }
  c.train.max_steps = 2;
  const TrainResult r = run_training(c, {.run_dir = run}, log_);
  EXPECT_EQ(r.steps, 2);
  TrainConfig f = tiny_config(dir_);
  f.train.max_steps = 2;
  run_training(f, {.run_dir = (dir_ / "fp32").string()}, log_);
  const auto a = losses(run), b = losses((dir_ / "fp32").string());
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(std::isfinite(a[0]) && std::isfinite(a[1]));
  EXPECT_NE(a[0], b[0]) << "bf16 convolutions round differently";
  EXPECT_NEAR(a[0], b[0], 0.02 * std::abs(b[0]));
}

TEST_F(Trainer, TooFewImagesForOneUpdateIsAConfigError) {
  TrainConfig c = tiny_config(dir_);
  c.train.batch_size = 64;
  EXPECT_THROW(run_training(c, {.run_dir = (dir_ / "run").string()}, log_), core::ConfigError);
}

TEST_F(Trainer, UnwritableRunDirectoryFailsBeforeTraining) {
  const TrainConfig c = tiny_config(dir_);
  const fs::path blocker = dir_ / "file";
  std::ofstream(blocker) << "x";
  EXPECT_THROW(run_training(c, {.run_dir = (blocker / "run").string()}, log_), core::IoError);
}

TEST_F(Trainer, InjectedNanBatchIsSkippedWithTheDiagnostic) {
  const TrainConfig c = tiny_config(dir_);
  const std::string run = (dir_ / "run").string();
  const TrainResult r = run_training(c, {.run_dir = run, .nan_at_step = 2}, log_);
  EXPECT_EQ(r.steps, 6) << "the run goes on after the bad step";
  EXPECT_NE(log_.str().find("warning: step 2 skipped: non-finite loss in head"), std::string::npos) << log_.str();
  EXPECT_NE(log_.str().find(".jpg"), std::string::npos) << "the warning names the batch's images";
  std::vector<std::int64_t> logged;
  for (const auto& j : RunDir(run).read_metrics()) {
    if (j.contains("loss")) logged.push_back(j["step"].get<std::int64_t>());
  }
  EXPECT_EQ(logged, (std::vector<std::int64_t>{1, 3, 4, 5, 6}));
  const auto ckpt = models::load_model_checkpoint((fs::path(run) / "checkpoints/last.ckpt").string());
  int float_tensors = 0;
  for (const auto& [name, t] : ckpt.file.tensors) {
    if (t.dtype() != core::DType::f32) continue;
    ++float_tensors;
    const float* v = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i) ASSERT_TRUE(std::isfinite(v[i])) << name << "[" << i << "]";
  }
  EXPECT_GT(float_tensors, 10);
}

// A pid that belonged to a process which has exited.
pid_t exited_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

TEST_F(Trainer, RunDirRemovesTemporariesOfKilledWritersOnly) {
  const fs::path ckpts = dir_ / "run" / "checkpoints";
  fs::create_directories(ckpts);
  const fs::path orphan = ckpts / ("step_000004.ckpt.tmp." + std::to_string(exited_pid()));
  const fs::path live = ckpts / ("step_000006.ckpt.tmp." + std::to_string(::getpid()));
  for (const auto& p : {orphan, live, ckpts / "last.ckpt"}) std::ofstream(p) << "x";
  RunDir run((dir_ / "run").string());
  EXPECT_FALSE(fs::exists(orphan)) << "a killed writer's file is never renamed";
  EXPECT_TRUE(fs::exists(live)) << "a live writer's file is left alone";
  EXPECT_TRUE(fs::exists(ckpts / "last.ckpt"));
}

TEST_F(Trainer, PublishingAMissingCheckpointIsAnIoErrorNamingIt) {
  RunDir run((dir_ / "run").string());
  try {
    run.publish_checkpoint(8, false, 2);
    FAIL() << "no error";
  } catch (const core::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint of step 8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("step_000008.ckpt"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(run.last_checkpoint()));
}

}  // namespace
}  // namespace train
