// evaluate_model on a tiny shapes data set with a narrow random-weight
// YOLOv3: the detections are noise, so this checks the plumbing (progress,
// boxes inside their images, labels, metrics and keys for both metrics, the
// model's mode restored) and the errors.
#include "train/eval/evaluate_model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "core/error.h"
#include "data/dataset_spec.h"
#include "data/shapes.h"
#include "data/shapes_writer.h"
#include "models/yolov3.h"
#include "tests/train/tiny_model.h"

namespace train {
namespace {

namespace fs = std::filesystem;

models::Model tiny_model(int classes) { return testing::tiny_yolov3(classes, 4); }

class EvaluateModel : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("evaluate_model_test_" + std::to_string(std::random_device{}()));
    data::ShapesOptions shapes;
    shapes.out = dir_.string();
    shapes.images = 30;  // 3 val images
    shapes.classes = 2;
    shapes.size = 64;
    shapes.seed = 9;
    std::ostringstream log;
    data::write_shapes_dataset(shapes, log);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(EvaluateModel, VocAndCocoPlumbing) {
  const data::Dataset ds = data::read_dataset("voc:" + (dir_ / "voc").string() + ":val", {});
  ASSERT_EQ(ds.images.size(), 3u);
  const models::Model model = tiny_model(2);
  model.network->set_training(true);

  ModelEvalOptions options;
  options.batch_size = 2;  // batches of 2 and 1
  options.max_dets = 7;
  std::vector<std::size_t> progress;
  options.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 3u);
    progress.push_back(done);
  };
  const ModelEvalResult voc = evaluate_model(model, ds, options);
  EXPECT_EQ(progress, (std::vector<std::size_t>{2, 3}));
  EXPECT_TRUE(model.network->training());
  ASSERT_TRUE(voc.voc.has_value());
  EXPECT_FALSE(voc.coco.has_value());
  EXPECT_EQ(voc.counts.num_images, 3u);
  EXPECT_EQ(voc.counts.num_detections, voc.detections.size());
  EXPECT_LE(voc.detections.size(), 3u * 7);
  for (const Detection& d : voc.detections) {
    const data::ImageRecord& r = ds.images.at(d.image);
    EXPECT_GE(d.x, 0.0);
    EXPECT_GE(d.y, 0.0);
    EXPECT_LE(d.x + d.w, r.width + 1e-3);
    EXPECT_LE(d.y + d.h, r.height + 1e-3);
    EXPECT_TRUE(d.label == 0 || d.label == 1);
    EXPECT_GT(d.score, 0.005);
  }
  EXPECT_EQ(voc.keys.image_names.size(), 3u);
  EXPECT_TRUE(voc.metrics.contains("mAP_area"));
  EXPECT_GE(voc.primary, 0.0);
  EXPECT_LE(voc.primary, 1.0);
  // Each stage's time is measured; the forward pass is never free.
  EXPECT_GT(voc.timing.forward_s, 0.0);
  EXPECT_GE(voc.timing.postprocess_s, 0.0);
  EXPECT_GT(voc.timing.read_s, 0.0);
  EXPECT_GE(voc.timing.score_s, 0.0);
  EXPECT_NE(describe(voc.timing).find("% of the forward"), std::string::npos);

  // Same detections, COCO scoring.
  options.metric = EvalMetric::coco;
  options.progress = nullptr;
  const ModelEvalResult coco = evaluate_model(model, ds, options);
  ASSERT_TRUE(coco.coco.has_value());
  EXPECT_EQ(coco.detections.size(), voc.detections.size());
  EXPECT_TRUE(coco.metrics.contains("AR100"));
  EXPECT_EQ(coco.keys.image_ids.size(), 3u);
}

TEST_F(EvaluateModel, OptionsFromConfigAndErrors) {
  EvalConfig config;
  config.metric = "coco";
  config.score_thresh = 0.01;
  config.max_dets = 50;
  const ModelEvalOptions o = model_eval_options(config);
  EXPECT_EQ(o.metric, EvalMetric::coco);
  EXPECT_EQ(o.score_thresh, 0.01);
  EXPECT_EQ(o.nms_iou, 0.45);
  EXPECT_EQ(o.max_dets, 50);
  config.metric = "map";
  EXPECT_THROW(model_eval_options(config), core::ConfigError);

  const data::Dataset ds = data::read_dataset("voc:" + (dir_ / "voc").string() + ":val", {});
  EXPECT_THROW(evaluate_model(tiny_model(3), ds, {}), core::ConfigError);  // 3 classes vs 2
  ModelEvalOptions bad;
  bad.input_size = 80;
  EXPECT_THROW(evaluate_model(tiny_model(2), ds, bad), core::ConfigError);
}

TEST_F(EvaluateModel, ShardsGatheredEqualOneProcess) {
  // The train split (24 images) in batches of 5: shard 0 takes batches 0, 2,
  // 4 and shard 1 batches 1, 3. Shard 1 runs first and keeps its detections;
  // shard 0's gather adds them, as an all-gather over two ranks would.
  const data::Dataset ds = data::read_dataset("voc:" + (dir_ / "voc").string() + ":train", {});
  const models::Model model = tiny_model(2);
  ModelEvalOptions whole;
  whole.batch_size = 5;
  whole.score_thresh = 0.01;
  const ModelEvalResult expected = evaluate_model(model, ds, whole);
  ASSERT_FALSE(expected.detections.empty());

  std::vector<Detection> from_shard1;
  ModelEvalOptions shard = whole;
  shard.shards = 2;
  shard.shard = 1;
  shard.gather = [&](const std::vector<Detection>& mine) {
    from_shard1 = mine;
    return mine;
  };
  evaluate_model(model, ds, shard);
  ASSERT_FALSE(from_shard1.empty());
  for (const Detection& d : from_shard1) EXPECT_EQ((d.image / 5) % 2, 1u);

  shard.shard = 0;
  shard.gather = [&](const std::vector<Detection>& mine) {
    std::vector<Detection> all = from_shard1;  // rank order would put shard 0 first; the result must not care
    all.insert(all.end(), mine.begin(), mine.end());
    return all;
  };
  const ModelEvalResult gathered = evaluate_model(model, ds, shard);
  EXPECT_EQ(gathered.metrics, expected.metrics);
  ASSERT_EQ(gathered.detections.size(), expected.detections.size());
  for (std::size_t i = 0; i < gathered.detections.size(); ++i) {
    EXPECT_EQ(gathered.detections[i].image, expected.detections[i].image);
    EXPECT_EQ(gathered.detections[i].score, expected.detections[i].score);
  }

  shard.shard = 2;
  EXPECT_THROW(evaluate_model(model, ds, shard), core::ConfigError);
}

}  // namespace
}  // namespace train
