// `yolo train` as a newcomer meets it: data sets without a split read the
// training split for data.train and val for data.val, a run directory that
// holds a run is refused unless --overwrite, and `yolo plot` and `yolo eval
// --plots` write the pictures.
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/atomic_file.h"
#include "tests/tools/inference_fixture.h"

namespace yolo {
namespace {

using TrainCommand = InferenceFixture;

// A narrow model on the fixture's 16 train / 2 val images, specs without a split.
std::vector<std::string> train_args(const std::string& config, const std::string& run) {
  return {"train", "--config", config, "--run-dir", run, "-o", "train.max_steps=2", "-o", "train.batch_size=4",
          "-o", "train.subdivisions=1", "-o", "train.threads=1", "-o", "data.workers=1", "-o", "log.interval=1",
          "-o", "data.augment.multiscale.enabled=false", "-o", "data.augment.mixup.enabled=false"};
}

std::string write_unsplit_config(const std::string& voc_dir, const std::string& file) {
  std::ofstream(file) << "model:\n  width: 0.0625\n  input_size: 64\ndata:\n  train: voc:" << voc_dir
                      << "\n  val: voc:" << voc_dir << "\n";
  return file;
}

std::size_t metrics_lines(const std::string& run) {
  std::ifstream in(run + "/metrics.jsonl");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.empty() ? 0 : 1;
  return n;
}

TEST_F(TrainCommand, SpecsWithoutSplitTrainOnTrainAndEvaluateOnVal) {
  const std::string config = write_unsplit_config(path("shapes/voc"), path("unsplit.yml"));
  ASSERT_EQ(run(train_args(config, path("run"))), 0) << err_.str() << out_.str();
  // The fixture's set has no trainval.txt: train.txt's 16 images, val.txt's 2.
  EXPECT_NE(out_.str().find("train: 16 images (2 classes), val: 2 images"), std::string::npos) << out_.str();
}

TEST_F(TrainCommand, RunDirectoryHoldingARunIsRefusedUnlessOverwrite) {
  const std::string config = write_unsplit_config(path("shapes/voc"), path("unsplit.yml"));
  const std::string dir = path("run");
  ASSERT_EQ(run(train_args(config, dir)), 0) << err_.str();
  const std::size_t lines = metrics_lines(dir);
  ASSERT_GE(lines, 2u);

  EXPECT_NE(run(train_args(config, dir)), 0);
  const std::string refusal = err_.str();
  EXPECT_NE(refusal.find("already holds a run"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("--resume " + dir), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("--overwrite"), std::string::npos) << refusal;
  EXPECT_EQ(metrics_lines(dir), lines) << "the refused run must not touch the old one";

  std::ofstream(dir + "/checkpoints/step_000999.ckpt") << "stale";
  auto again = train_args(config, dir);
  again.push_back("--overwrite");
  ASSERT_EQ(run(again), 0) << err_.str();
  EXPECT_EQ(metrics_lines(dir), lines) << "the old run's lines are gone, not appended to";
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoints/step_000999.ckpt"));

  auto both = train_args(config, dir);
  both.insert(both.end(), {"--overwrite", "--resume", dir});
  EXPECT_NE(run(both), 0);
  EXPECT_NE(err_.str().find("--overwrite"), std::string::npos) << err_.str();
}

TEST_F(TrainCommand, PlotRedrawsEveryPictureOfARun) {
  const std::string config = write_unsplit_config(path("shapes/voc"), path("unsplit.yml"));
  const std::string dir = path("run");
  ASSERT_EQ(run(train_args(config, dir)), 0) << err_.str();
  EXPECT_TRUE(std::filesystem::exists(dir + "/eval/step_000002.json")) << "the final evaluation's details";
  std::filesystem::remove_all(dir + "/plots");
  ASSERT_EQ(run({"plot", dir}), 0) << err_.str();
  for (const char* name : {"results.png", "loss.png", "lr.png", "map.png", "pr_curve.png", "confusion_matrix.png"}) {
    EXPECT_TRUE(std::filesystem::exists(dir + "/plots/" + name)) << name;
  }
}

TEST_F(TrainCommand, EvalWritesPlotsWhenAsked) {
  const std::string spec = "voc:" + path("shapes/voc") + ":val";
  ASSERT_EQ(run({"eval", "--weights", path("tiny.ckpt"), "--dataset", spec, "--plots", path("eval_plots")}), 0)
      << err_.str();
  for (const char* name : {"pr_curve.png", "confusion_matrix.png"}) {
    EXPECT_GT(std::filesystem::file_size(path("eval_plots") + "/" + name), 1000u) << name;
  }
  // The results-file form too.
  ASSERT_EQ(run({"eval", "--weights", path("tiny.ckpt"), "--dataset", spec, "--save-detections", path("dets.json")}), 0)
      << err_.str();
  ASSERT_EQ(run({"eval", "--dataset", spec, "--detections", path("dets.json"), "--plots", path("again")}), 0)
      << err_.str();
  EXPECT_TRUE(std::filesystem::exists(path("again") + "/confusion_matrix.png"));
}

}  // namespace
}  // namespace yolo
