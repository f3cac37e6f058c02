// The run directory's pictures: every file plot_run promises, at least
// 640x480, redrawn from metrics.jsonl and eval/step_NNNNNN.json; a curve of
// one point still shows; a run directory refuses to mix two runs.
#include "train/plot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "data/image.h"
#include "train/chart.h"
#include "train/run_dir.h"

namespace train {
namespace {

namespace fs = std::filesystem;

class Plot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("plot_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Training lines for steps 10, 20, ..., 10 * n, with per-head parts.
  void log_steps(const RunDir& run, int n) const {
    for (int i = 1; i <= n; ++i) {
      nlohmann::json heads;
      for (const char* s : {"32", "16", "8"}) {
        heads[s] = {{"total", 4.0}, {"xy", 1.0 / i}, {"wh", 1.0}, {"objectness", 1.5}, {"class", 0.5}};
      }
      run.append_metrics({{"step", 10 * i}, {"loss", 12.0 / i}, {"lr", 1e-3 * i}, {"loss_heads", heads}});
    }
  }
  fs::path dir_;
};

// Pixels of `c` (exactly, as cairo fills solid shapes) in a picture.
int count_colour(const data::Image& image, data::Rgb c) {
  int n = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const float* p = image.at(x, y);
      n += (std::abs(p[0] - std::round(c.r * 255)) <= 1 && std::abs(p[1] - std::round(c.g * 255)) <= 1 &&
            std::abs(p[2] - std::round(c.b * 255)) <= 1)
               ? 1
               : 0;
    }
  }
  return n;
}

TEST_F(Plot, RunDirectoryGetsEveryPictureAtReadableSizes) {
  const RunDir run(dir_.string());
  log_steps(run, 30);
  run.append_metrics({{"step", 300}, {"eval", {{"mAP_area", 0.5}, {"mAP_11point", 0.45}}}});
  VocGroundTruth gt;
  gt.classes = {"circle", "star"};
  gt.image_names = {"0"};
  gt.objects = {{{0, 0, 9, 9, 0, false}, {20, 20, 29, 29, 1, false}}};
  run.write_eval_details(300, to_json(compute_eval_details(gt, {{0, 0, 0, 0, 9, 9, 0.9}, {0, 0, 20, 20, 9, 9, 0.8}})));
  plot_run(dir_.string());
  for (const char* name : {"results.png", "loss.png", "lr.png", "map.png", "pr_curve.png", "confusion_matrix.png"}) {
    const fs::path p = dir_ / "plots" / name;
    ASSERT_TRUE(fs::exists(p)) << name;
    const data::ImageSize size = data::read_image_size(p.string());
    EXPECT_GE(size.width, 640) << name;
    EXPECT_GE(size.height, 480) << name;
  }
  const data::ImageSize sheet = data::read_image_size((dir_ / "plots" / "results.png").string());
  EXPECT_GT(sheet.width, 4 * 400) << "eight panels in two rows";
}

TEST_F(Plot, ACurveOfOnePointShowsThePoint) {
  const RunDir run(dir_.string());
  plot_run(dir_.string());
  const data::Rgb colour = curve_colour(0);
  EXPECT_EQ(count_colour(data::load_image((dir_ / "plots" / "loss.png").string()), colour), 0) << "no data, no curve";
  log_steps(run, 1);
  plot_run(dir_.string());
  EXPECT_GT(count_colour(data::load_image((dir_ / "plots" / "loss.png").string()), colour), 20)
      << "a single logged step is drawn as a dot";
  EXPECT_FALSE(fs::exists(dir_ / "plots" / "pr_curve.png")) << "no evaluation yet";
}

TEST_F(Plot, NiceTicks) {
  const auto unit = nice_ticks(0, 1, 5);
  ASSERT_EQ(unit.size(), 6u);
  for (std::size_t i = 0; i < unit.size(); ++i) EXPECT_NEAR(unit[i], 0.2 * static_cast<double>(i), 1e-12);
  const auto steps = nice_ticks(10, 3200, 6);
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_EQ(steps.front(), 500);
  EXPECT_EQ(steps.back(), 3000);
}

TEST_F(Plot, ClearRunRemovesOnlyWhatARunWrites) {
  EXPECT_FALSE(RunDir::holds_run(dir_.string()));
  const RunDir run(dir_.string());
  EXPECT_FALSE(RunDir::holds_run(dir_.string())) << "empty folders are not a run";
  log_steps(run, 2);
  run.write_eval_details(20, to_json(EvalDetails{}));
  std::ofstream(dir_ / "notes.txt") << "mine";
  EXPECT_TRUE(RunDir::holds_run(dir_.string()));
  RunDir::clear_run(dir_.string());
  EXPECT_FALSE(RunDir::holds_run(dir_.string()));
  EXPECT_FALSE(fs::exists(dir_ / "metrics.jsonl"));
  EXPECT_FALSE(fs::exists(dir_ / "eval"));
  EXPECT_TRUE(fs::exists(dir_ / "notes.txt"));
}

TEST_F(Plot, ResumeDropsEvaluationDetailsOfStepsItRepeats) {
  const RunDir run(dir_.string());
  run.write_eval_details(100, to_json(EvalDetails{}));
  run.write_eval_details(200, to_json(EvalDetails{}));
  EXPECT_EQ(fs::path(run.latest_eval_details()).filename(), "step_000200.json");
  run.truncate_metrics_after(150);
  EXPECT_EQ(fs::path(run.latest_eval_details()).filename(), "step_000100.json");
}

}  // namespace
}  // namespace train
