// Hand-computed VOC cases, one per devkit convention in
// docs/evaluation.md, 'VOC'. Each expected AP is derived in the comments.
#include "train/eval/voc_eval.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace train {
namespace {

// Ground truth with one class "a" (and "b" where a test needs a second one).
VocGroundTruth make_gt(std::vector<std::vector<VocObject>> objects, std::vector<std::string> classes = {"a"}) {
  VocGroundTruth gt;
  gt.classes = std::move(classes);
  for (std::size_t i = 0; i < objects.size(); ++i) gt.image_names.push_back(fmt::format("img{}", i));
  gt.objects = std::move(objects);
  return gt;
}

// A detection given by inclusive corners, stored as results files do
// (w = xmax - xmin, so xmax = x + w comes back unchanged).
Detection det(std::size_t image, double x1, double y1, double x2, double y2, double score, int label = 0) {
  return Detection{image, label, x1, y1, x2 - x1, y2 - y1, score};
}

constexpr double kTol = 1e-12;

TEST(VocEval, TruePositiveThenDuplicateThenMiss) {
  // One gt [0,0,9,9]. Ranked: exact hit (TP), the same box again (duplicate:
  // FP), a far box (FP). tp = 1,1,1; fp = 0,1,2; recall = 1,1,1;
  // precision = 1, 1/2, 1/3. Every 11-point threshold sees precision 1 -> AP 1.
  // Area: recall steps 0 -> 1 once, at precision max(1, ...) = 1 -> AP 1.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}});
  const auto m = evaluate_voc(gt, {det(0, 0, 0, 9, 9, 0.9), det(0, 0, 0, 9, 9, 0.8), det(0, 50, 50, 60, 60, 0.7)});
  EXPECT_NEAR(*m.per_class[0].ap_11point, 1.0, kTol);
  EXPECT_NEAR(*m.per_class[0].ap_area, 1.0, kTol);
  EXPECT_EQ(m.per_class[0].npos, 1);
  EXPECT_EQ(m.per_class[0].num_detections, 3u);
}

TEST(VocEval, FalsePositiveRankedFirstHalvesPrecision) {
  // Ranked: far box (FP) then exact hit (TP). recall = 0, 1; precision = 0, 1/2.
  // 11-point: every t has a point with recall >= t at precision 1/2 -> 0.5.
  // Area: envelope 1/2 over the single recall step 0 -> 1 -> 0.5.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}});
  const auto m = evaluate_voc(gt, {det(0, 50, 50, 60, 60, 0.9), det(0, 0, 0, 9, 9, 0.8)});
  EXPECT_NEAR(*m.per_class[0].ap_11point, 0.5, kTol);
  EXPECT_NEAR(*m.per_class[0].ap_area, 0.5, kTol);
}

TEST(VocEval, DifficultObjectsAbsorbDetections) {
  // gts: A [0,0,9,9] and difficult D [20,20,29,29]; npos = 1 (D not counted).
  // Detections on D (0.9 and 0.7) are neither TP nor FP, even the second one,
  // which would be a duplicate of a regular object. Left: only the TP on A
  // -> recall 1 at precision 1 -> both APs 1. Counting them as FPs would
  // give precision 1/2 at the TP and AP 0.5.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}, {20, 20, 29, 29, 0, true}}});
  const auto m = evaluate_voc(gt, {det(0, 20, 20, 29, 29, 0.9), det(0, 0, 0, 9, 9, 0.8), det(0, 20, 20, 29, 29, 0.7)});
  EXPECT_EQ(m.per_class[0].npos, 1);
  EXPECT_NEAR(*m.per_class[0].ap_11point, 1.0, kTol);
  EXPECT_NEAR(*m.per_class[0].ap_area, 1.0, kTol);
}

TEST(VocEval, BestMatchDifficultWinsOverRegularObject) {
  // The detection overlaps regular A [0,0,9,9] with IoU 50/100 = 0.5 but
  // difficult D [0,0,9,4] exactly (IoU 1). The best match is D, so the
  // detection is ignored, and A stays unmatched: no curve point at all,
  // recall stays 0 -> both APs 0 (npos = 1).
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}, {0, 0, 9, 4, 0, true}}});
  const auto m = evaluate_voc(gt, {det(0, 0, 0, 9, 4, 0.9)});
  EXPECT_NEAR(*m.per_class[0].ap_11point, 0.0, kTol);
  EXPECT_NEAR(*m.per_class[0].ap_area, 0.0, kTol);
}

TEST(VocEval, NoFallbackToSecondBestObject) {
  // gts G1 [0,0,9,9] and G2 [0,2,9,11]; npos = 2. Two detections equal to G1.
  // The first takes G1 (TP). The second's best is again G1 (IoU 1) although
  // G2 is free at IoU (10*8)/(100+100-80) = 0.667: no fallback -> FP.
  // recall = 1/2, 1/2; precision = 1, 1/2.
  // 11-point: t = 0 .. 0.5 (6 values; 0.1*5 == 0.5 exactly) see precision 1,
  // t = 0.6 .. 1 see nothing -> 6/11.
  // Area: recall 0 -> 1/2 at precision 1, then 1/2 -> 1 (sentinel) at 0 -> 0.5.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}, {0, 2, 9, 11, 0, false}}});
  const auto m = evaluate_voc(gt, {det(0, 0, 0, 9, 9, 0.9), det(0, 0, 0, 9, 9, 0.8)});
  EXPECT_NEAR(*m.per_class[0].ap_11point, 6.0 / 11, kTol);
  EXPECT_NEAR(*m.per_class[0].ap_area, 0.5, kTol);
}

TEST(VocEval, IouExactlyHalfCountsUnlessStrict) {
  // gt [0,0,9,9] is 10x10 = 100 inclusive pixels; detection [0,0,9,4] is
  // 10x5 = 50, inside it: IoU = 50/100 = 0.5 exactly.
  // >= 0.5 (devkit): TP -> AP 1. > 0.5 (strict option): FP -> AP 0.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}});
  const std::vector<Detection> dets = {det(0, 0, 0, 9, 4, 0.9)};
  EXPECT_DOUBLE_EQ(voc_iou({0, 0, 9, 4, 0, false}, {0, 0, 9, 9, 0, false}), 0.5);
  const auto loose = evaluate_voc(gt, dets);
  EXPECT_NEAR(*loose.per_class[0].ap_area, 1.0, kTol);
  const auto strict = evaluate_voc(gt, dets, VocOptions{true});
  EXPECT_NEAR(*strict.per_class[0].ap_area, 0.0, kTol);
  EXPECT_NEAR(*strict.per_class[0].ap_11point, 0.0, kTol);
}

TEST(VocEval, PlusOnePixelDecidesTruePositive) {
  // gt [0,0,9,9]: 10x10 = 100 pixels. Detection [0,0,13,13] contains it:
  // with the +1 convention IoU = 100 / 14^2 = 0.5102 -> TP (AP 1); without
  // it the IoU would be 81/169 = 0.479 and the detection an FP.
  // One pixel larger, [0,0,14,14]: 100 / 15^2 = 0.444 -> FP (AP 0).
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}});
  EXPECT_NEAR(*evaluate_voc(gt, {det(0, 0, 0, 13, 13, 0.9)}).per_class[0].ap_area, 1.0, kTol);
  EXPECT_NEAR(*evaluate_voc(gt, {det(0, 0, 0, 14, 14, 0.9)}).per_class[0].ap_area, 0.0, kTol);
}

TEST(VocEval, RecallExactlyPointThreeMissesThePointThreeThreshold) {
  // 10 gts (one per image), 3 exact hits: recall = 0.1, 0.2, 0.3 at precision 1.
  // 3/10 is the double 0.29999999999999999 but the threshold 0.1*3 is
  // 0.30000000000000004, so recall 0.3 does not reach it. Thresholds met:
  // 0, 0.1, 0.2 -> AP = 3/11 (k/10.0 would give 4/11).
  std::vector<std::vector<VocObject>> objects(10, {{0, 0, 9, 9, 0, false}});
  const auto gt = make_gt(objects);
  const auto m = evaluate_voc(gt, {det(0, 0, 0, 9, 9, 0.9), det(1, 0, 0, 9, 9, 0.8), det(2, 0, 0, 9, 9, 0.7)});
  EXPECT_NEAR(*m.per_class[0].ap_11point, 3.0 / 11, kTol);
  // Area: recall 0 -> 0.3 at precision 1 -> 0.3.
  EXPECT_NEAR(*m.per_class[0].ap_area, 0.3, kTol);
}

TEST(VocEval, ClassWithoutGroundTruthHasNoApAndIsLeftOutOfTheMean) {
  // Class "a": one gt, FP then TP -> AP 0.5 (as above). Class "b": no gts
  // but a detection -> no AP. mAP is the mean over "a" alone: 0.5.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}}, {"a", "b"});
  const auto m = evaluate_voc(gt, {det(0, 50, 50, 60, 60, 0.9), det(0, 0, 0, 9, 9, 0.8), det(0, 0, 0, 9, 9, 0.95, 1)});
  EXPECT_FALSE(m.per_class[1].ap_11point.has_value());
  EXPECT_FALSE(m.per_class[1].ap_area.has_value());
  EXPECT_EQ(m.per_class[1].npos, 0);
  EXPECT_NEAR(*m.map_area, 0.5, kTol);
  EXPECT_NEAR(*m.map_11point, 0.5, kTol);
}

TEST(VocEval, NoGroundTruthAtAllGivesNoMean) {
  const auto gt = make_gt({{}});
  const auto m = evaluate_voc(gt, {det(0, 0, 0, 9, 9, 0.9)});
  EXPECT_FALSE(m.map_area.has_value());
  EXPECT_FALSE(m.map_11point.has_value());
}

TEST(VocEval, EmptyImagesOnlyAddFalsePositives) {
  // Images 1 and 2 have no objects. A detection on image 1 ranked above the
  // hit on image 0 is an FP: precision 0 then 1/2 -> AP 0.5 (both kinds).
  // Image 2, with neither objects nor detections, changes nothing.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}, {}, {}});
  const auto m = evaluate_voc(gt, {det(1, 0, 0, 9, 9, 0.9), det(0, 0, 0, 9, 9, 0.8)});
  EXPECT_NEAR(*m.per_class[0].ap_area, 0.5, kTol);
  EXPECT_NEAR(*m.per_class[0].ap_11point, 0.5, kTol);
}

TEST(VocEval, TiedScoresKeepFileOrderAcrossImages) {
  // Two images with one gt each (npos = 2), both detections scored 0.5.
  // File order miss (image 0) then hit (image 1): recall 0, 1/2; precision
  // 0, 1/2. 11-point: t = 0 .. 0.5 see 1/2 -> 6 * 0.5 / 11 = 3/11. Area:
  // recall 0 -> 1/2 at 1/2 -> 0.25.
  // Hit first: recall 1/2, 1/2; precision 1, 1/2 -> 6/11 and 0.5.
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}, {{0, 0, 9, 9, 0, false}}});
  const Detection miss = det(0, 50, 50, 60, 60, 0.5), hit = det(1, 0, 0, 9, 9, 0.5);
  const auto miss_first = evaluate_voc(gt, {miss, hit});
  EXPECT_NEAR(*miss_first.per_class[0].ap_11point, 3.0 / 11, kTol);
  EXPECT_NEAR(*miss_first.per_class[0].ap_area, 0.25, kTol);
  const auto hit_first = evaluate_voc(gt, {hit, miss});
  EXPECT_NEAR(*hit_first.per_class[0].ap_11point, 6.0 / 11, kTol);
  EXPECT_NEAR(*hit_first.per_class[0].ap_area, 0.5, kTol);
}

TEST(VocEval, AreaApUsesThePrecisionEnvelope) {
  // recall 0.25, 0.25, 0.5, 0.75 with precision 1, 0.5, 2/3, 0.75 (TP FP TP TP
  // over 4 gts). Envelope from the right: 1, 0.75, 0.75, 0.75. Recall steps:
  // 0 -> 0.25 at 1, 0.25 -> 0.5 at 0.75, 0.5 -> 0.75 at 0.75, 0.75 -> 1 at 0
  // -> 0.25 + 0.1875 + 0.1875 = 0.625.
  // 11-point: t = 0, 0.1, 0.2 -> 1; t = 0.3 .. 0.7 -> 0.75; t >= 0.8 -> 0
  // -> (3 + 5 * 0.75) / 11 = 6.75 / 11.
  const std::vector<double> recall = {0.25, 0.25, 0.5, 0.75};
  const std::vector<double> precision = {1, 0.5, 2.0 / 3, 0.75};
  EXPECT_NEAR(voc_ap_area(recall, precision), 0.625, kTol);
  EXPECT_NEAR(voc_ap_11point(recall, precision), 6.75 / 11, kTol);
}

TEST(VocEval, RejectsOutOfRangeIndices) {
  const auto gt = make_gt({{{0, 0, 9, 9, 0, false}}});
  EXPECT_THROW(evaluate_voc(gt, {det(3, 0, 0, 9, 9, 0.9)}), core::ValueError);
  EXPECT_THROW(evaluate_voc(gt, {det(0, 0, 0, 9, 9, 0.9, 2)}), core::ValueError);
}

}  // namespace
}  // namespace train
