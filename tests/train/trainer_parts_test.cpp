// The pieces the training loop is made of, tested on their own: the EMA,
// the objectness-bias initialisation, the metric choice, Ctrl-C handling.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>

#include "models/yolov3.h"
#include "train/ema.h"
#include "train/interrupt.h"
#include "train/model_setup.h"
#include "train/training_evaluation.h"
#include "tests/train/tiny_model.h"

namespace train {
namespace {

core::Tensor filled(float value, std::int64_t n) {
  core::Tensor t = core::Tensor::zeros({n}, core::DType::f32);
  for (std::int64_t i = 0; i < n; ++i) t.mutable_data<float>()[i] = value;
  return t;
}

TEST(Ema, WarmsUpThenFollowsTheDecay) {
  const std::vector<models::NamedTensor> params = {{"w", filled(0.0f, 3)}};
  Ema ema(params, 0.9);
  params[0].second.copy_(filled(1.0f, 3));
  // Update 1: d = min(0.9, 2 / 11); the average moves most of the way.
  ema.update(params, 1);
  const double d1 = 2.0 / 11.0;
  EXPECT_FLOAT_EQ(ema.state()[0].second.data<float>()[0], static_cast<float>(1 - d1));
  // Late updates use the decay itself.
  const float before = ema.state()[0].second.data<float>()[0];
  ema.update(params, 1000);
  EXPECT_FLOAT_EQ(ema.state()[0].second.data<float>()[0], static_cast<float>(0.9 * before + 0.1));
  EXPECT_EQ(ema.state()[0].first, "ema.w");
}

TEST(Ema, SwapTwiceRestoresTheLiveWeights) {
  const std::vector<models::NamedTensor> params = {{"w", filled(2.0f, 4)}};
  Ema ema(params, 0.5);
  params[0].second.copy_(filled(5.0f, 4));
  ema.swap_into(params);
  EXPECT_EQ(params[0].second.data<float>()[3], 2.0f) << "the average is in the model";
  ema.swap_into(params);
  EXPECT_EQ(params[0].second.data<float>()[3], 5.0f) << "the live weights are back";
}

models::Model narrow_model(int classes) { return testing::tiny_yolov3(classes, 3); }

TEST(ObjectnessBias, SetsTheObjectnessChannelOfEveryAnchorOfEveryHead) {
  const models::Model model = narrow_model(5);
  init_objectness_bias(model, -4.5);
  const auto heads = model.network->head_output_convs();
  ASSERT_EQ(heads.size(), 3u);
  for (const auto& [head, conv] : heads) {
    const int anchors = static_cast<int>(head.mask.size());
    ASSERT_EQ(conv.biases.numel(), anchors * (5 + 5));
    const float* b = conv.biases.data<float>();
    for (int c = 0; c < conv.biases.numel(); ++c) {
      const bool objectness = c % (5 + 5) == 4;
      if (objectness) {
        EXPECT_EQ(b[c], -4.5f) << "channel " << c;
      } else {
        EXPECT_NE(b[c], -4.5f) << "channel " << c << " is not an objectness channel";
      }
    }
  }
}

TEST(TrainingEvaluation, MetricChoiceAndHeadline) {
  EXPECT_EQ(best_metric_key(EvalMetric::voc), "mAP_11point");
  EXPECT_EQ(best_metric_key(EvalMetric::coco), "AP");
  ModelEvalResult r;
  r.metrics = {{"mAP_11point", 0.5}, {"mAP_area", nullptr}, {"num_images", 3}};
  const TrainingEval voc = training_eval_from(r, EvalMetric::voc);
  EXPECT_EQ(voc.score, 0.5);
  ASSERT_EQ(voc.headline.size(), 2u);
  EXPECT_EQ(voc.headline[1].first, "mAP_area");
  EXPECT_EQ(voc.headline[1].second, 0.0) << "an undefined metric (null) shows as 0";
  r.metrics = {{"AP", 0.25}, {"AP50", 0.5}, {"AP75", 0.125}};
  const TrainingEval coco = training_eval_from(r, EvalMetric::coco);
  EXPECT_EQ(coco.score, 0.25);
  ASSERT_EQ(coco.headline.size(), 3u);
  EXPECT_EQ(coco.headline[2].second, 0.125);
  EXPECT_EQ(coco.metrics.at("AP50"), 0.5) << "the metrics are kept for metrics.jsonl";
}

int g_previous_handler_calls = 0;
void previous_handler(int) { ++g_previous_handler_calls; }

TEST(InterruptGuard, CatchesCtrlCAndRestoresThePreviousHandler) {
  std::signal(SIGINT, previous_handler);
  {
    InterruptGuard guard;
    EXPECT_FALSE(guard.requested());
    std::raise(SIGINT);
    EXPECT_TRUE(guard.requested());
    EXPECT_EQ(g_previous_handler_calls, 0);
  }
  std::raise(SIGINT);
  EXPECT_EQ(g_previous_handler_calls, 1) << "the handler from before the guard is back";
  {
    InterruptGuard guard;
    EXPECT_FALSE(guard.requested()) << "a new guard starts clear";
    guard.request();
    EXPECT_TRUE(guard.requested());
  }
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace
}  // namespace train
