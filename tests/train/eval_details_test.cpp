// The evaluation pictures' data: confusion-matrix counts on a hand-made
// case, precision envelopes sampled up to the largest recall, and the JSON
// saved in a run directory read back (or refused, naming the file).
#include "train/eval/eval_details.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace train {
namespace {

// Two classes (a, b); image 0 holds a at (0,0)-(9,9), b at (20,20)-(29,29)
// and a difficult a at (40,40)-(49,49); image 1 holds one a.
VocGroundTruth two_images() {
  VocGroundTruth gt;
  gt.classes = {"a", "b"};
  gt.image_names = {"0", "1"};
  gt.objects = {{{0, 0, 9, 9, 0, false}, {20, 20, 29, 29, 1, false}, {40, 40, 49, 49, 0, true}},
                {{0, 0, 9, 9, 0, false}}};
  return gt;
}

Detection det(std::size_t image, int label, double x, double y, double score) { return {image, label, x, y, 9, 9, score}; }

TEST(EvalDetails, ConfusionMatrixCountsHitsConfusionsMissesAndFalseAlarms) {
  const std::vector<Detection> dets = {
      det(0, 0, 0, 0, 0.9),    // a on a: right
      det(0, 0, 20, 20, 0.8),  // a on b: confused
      det(0, 1, 60, 60, 0.5),  // b on nothing: false alarm
      det(0, 1, 0, 0, 0.1),    // below the 0.25 threshold: not counted
      det(0, 1, 40, 40, 0.7),  // on the difficult object: neither
      // image 1: its a is missed
  };
  const EvalDetails d = compute_eval_details(two_images(), dets);
  const auto& c = d.confusion.counts;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0][0], 1);  // true a, predicted a
  EXPECT_EQ(c[1][0], 1);  // true b, predicted a
  EXPECT_EQ(c[2][1], 1);  // background predicted as b
  EXPECT_EQ(c[0][2], 1);  // a of image 1 missed
  long long total = 0;
  for (const auto& row : c) {
    for (long long v : row) total += v;
  }
  EXPECT_EQ(total, 4);
  const auto n = normalise_rows(c);
  EXPECT_DOUBLE_EQ(n[0][0], 0.5);
  EXPECT_DOUBLE_EQ(n[0][2], 0.5);
  EXPECT_DOUBLE_EQ(n[1][0], 1.0);
}

TEST(EvalDetails, OneDetectionMatchesOneObjectAtMost) {
  // Two a-detections on the same a: one hit, one false alarm.
  const EvalDetails d = compute_eval_details(two_images(), {det(1, 0, 0, 0, 0.9), det(1, 0, 0, 0, 0.8)});
  EXPECT_EQ(d.confusion.counts[0][0], 1);
  EXPECT_EQ(d.confusion.counts[2][0], 1);
}

TEST(EvalDetails, CurvesAreEnvelopesEndingAtTheLargestRecall) {
  // a: a hit (recall 0.5, precision 1), a false alarm, then a hit at 2/3.
  const std::vector<Detection> dets = {det(0, 0, 0, 0, 0.9), det(0, 0, 70, 70, 0.8), det(1, 0, 0, 0, 0.7)};
  const EvalDetails d = compute_eval_details(two_images(), dets);
  ASSERT_EQ(d.curves.size(), 2u);
  const ClassCurve& a = d.curves[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.npos, 2);
  ASSERT_FALSE(a.recall.empty());
  EXPECT_DOUBLE_EQ(a.recall.back(), 1.0);
  EXPECT_DOUBLE_EQ(a.precision.front(), 1.0);
  EXPECT_NEAR(a.precision.back(), 2.0 / 3, 1e-12);
  for (std::size_t i = 1; i < a.precision.size(); ++i) EXPECT_LE(a.precision[i], a.precision[i - 1]);
  EXPECT_LE(a.recall.size(), 102u);
  EXPECT_NEAR(a.ap50, 0.5 * 1 + 0.5 * 2.0 / 3, 1e-12);
  // b has an object but no detection: no curve, AP 0.
  EXPECT_TRUE(d.curves[1].recall.empty());
  EXPECT_EQ(d.curves[1].ap50, 0);
}

TEST(EvalDetails, JsonRoundTripAndBadFilesNamed) {
  const EvalDetails d = compute_eval_details(two_images(), {det(0, 0, 0, 0, 0.9), det(0, 1, 60, 60, 0.5)});
  const EvalDetails back = eval_details_from_json(to_json(d), "step_000010.json");
  ASSERT_EQ(back.curves.size(), d.curves.size());
  EXPECT_EQ(back.curves[0].recall, d.curves[0].recall);
  EXPECT_EQ(back.confusion.counts, d.confusion.counts);
  EXPECT_EQ(back.confusion.classes, d.confusion.classes);

  nlohmann::json broken = to_json(d);
  broken["confusion_matrix"]["counts"].erase(0);
  try {
    eval_details_from_json(broken, "runs/x/eval/step_000010.json");
    FAIL() << "a matrix of the wrong size was accepted";
  } catch (const core::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("runs/x/eval/step_000010.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(eval_details_from_json(nlohmann::json::object(), "x.json"), core::ValueError);
}

}  // namespace
}  // namespace train
