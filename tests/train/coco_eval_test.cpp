// Hand-computed COCO cases, one per cocoapi convention in
// docs/evaluation.md, 'COCO'. Each expected number is derived in the comments.
// With perfect boxes (IoU 1) every IoU threshold gives the same matches, so
// AP is the mean of 101 equal recall-point precisions.
#include "train/eval/coco_eval.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace train {
namespace {

constexpr double kTol = 1e-12;
enum Stat { AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl };

CocoObject obj(double x, double y, double w, double h, std::int64_t id, double area = -1, bool crowd = false,
               int label = 0) {
  return CocoObject{x, y, w, h, area < 0 ? w * h : area, crowd, id, label};
}

Detection det(std::size_t image, double x, double y, double w, double h, double score, int label = 0) {
  return Detection{image, label, x, y, w, h, score};
}

CocoGroundTruth make_gt(std::vector<std::int64_t> image_ids, std::vector<std::vector<CocoObject>> objects,
                        int num_categories = 1) {
  CocoGroundTruth gt;
  gt.image_ids = std::move(image_ids);
  gt.objects = std::move(objects);
  for (int k = 0; k < num_categories; ++k) {
    gt.category_ids.push_back(k + 1);
    std::string name = "c";
    name += std::to_string(k + 1);
    gt.category_names.push_back(name);
  }
  return gt;
}

TEST(CocoEval, PerfectDetectionOfALargeObject) {
  // One 100x100 gt (area 10000 > 96^2: large). A perfect detection: precision
  // 1 at every recall point and threshold -> AP = AP50 = AP75 = APl = 1, all
  // ARs 1. No small or medium gts -> APs, APm, ARs, ARm are -1.
  const auto gt = make_gt({1}, {{obj(0, 0, 100, 100, 1)}});
  const auto m = evaluate_coco(gt, {det(0, 0, 0, 100, 100, 0.9)});
  for (Stat s : {AP, AP50, AP75, APl, AR1, AR10, AR100, ARl}) EXPECT_NEAR(m.stats[s], 1.0, kTol) << s;
  for (Stat s : {APs, APm, ARs, ARm}) EXPECT_EQ(m.stats[s], -1.0) << s;
}

TEST(CocoEval, IouExactlyHalfMatchesOnlyAtTheFirstThreshold) {
  // gt 10x10 at the origin, detection its top half: IoU 50/100 = 0.5 (no +1).
  // Threshold 0.5 (>=): TP, precision 1 everywhere -> 1. Thresholds 0.55 ..
  // 0.95: FP, recall 0 -> precision 0. AP = mean over 10 thresholds = 0.1;
  // AP50 = 1; AP75 = 0. AR100 = mean recall over thresholds = 0.1.
  const auto gt = make_gt({1}, {{obj(0, 0, 10, 10, 1)}});
  const auto m = evaluate_coco(gt, {det(0, 0, 0, 10, 5, 0.9)});
  EXPECT_NEAR(m.stats[AP], 0.1, kTol);
  EXPECT_NEAR(m.stats[AP50], 1.0, kTol);
  EXPECT_NEAR(m.stats[AP75], 0.0, kTol);
  EXPECT_NEAR(m.stats[AR100], 0.1, kTol);
}

TEST(CocoEval, CrowdRegionsAbsorbAnyNumberOfDetections) {
  // A crowd gt 100x100 and a regular 50x50 gt elsewhere. Three small boxes
  // inside the crowd region (IoU with a crowd = intersection / detection
  // area = 1; the ordinary IoU would be 0.04) are matched to it, all three,
  // and so ignored. The regular gt's perfect detection ranks last but is the
  // only counted one: precision 1 -> AP 1. Counted as FPs, the three would
  // give precision 1/4 and AP 0.25. The crowd gt is not a positive: 1 gt.
  const auto gt = make_gt({1}, {{obj(0, 0, 100, 100, 1, 10000, true), obj(200, 200, 50, 50, 2)}});
  const auto m = evaluate_coco(gt, {det(0, 10, 10, 20, 20, 0.9), det(0, 40, 40, 20, 20, 0.8),
                                    det(0, 10, 10, 20, 20, 0.7), det(0, 200, 200, 50, 50, 0.6)});
  EXPECT_NEAR(m.stats[AP], 1.0, kTol);
  EXPECT_NEAR(m.stats[AR100], 1.0, kTol);
  EXPECT_EQ(m.per_category[0].num_gts, 1);
  Detection inside = det(0, 10, 10, 20, 20, 0);
  EXPECT_DOUBLE_EQ(coco_iou(inside, obj(0, 0, 100, 100, 1, 10000, true)), 1.0);
  EXPECT_DOUBLE_EQ(coco_iou(inside, obj(0, 0, 100, 100, 1, 10000, false)), 0.04);
}

TEST(CocoEval, AreaRangesUseTheAreaFieldWithInclusiveEnds) {
  // gt A: box 40x40 but area field 1024 = 32^2 -> small AND medium (both ends
  // inclusive), not large. gt B: 96x96, area 9216 = 96^2 -> medium AND large.
  // Detections: D (0.95) far from both, 50x50 = 2500 (a medium-sized box),
  // then perfect hits on A (0.9, box area 1600) and B (0.8).
  // all:    D FP, A TP, B TP. recall 0, 1/2, 1; precision 0, 1/2, 2/3;
  //         envelope 2/3 everywhere -> AP = 2/3.
  // small:  positives {A}. D unmatched and 2500 > 1024 -> ignored; A TP;
  //         B's hit matched to ignored B -> ignored. AP 1.
  // medium: positives {A, B}; D is inside the range -> FP. As "all": 2/3.
  // large:  positives {B}. D (2500 < 9216) ignored; A's hit matched to the
  //         ignored A -> ignored; B TP -> AP 1.
  // AR1 takes the top detection per image, D, an FP -> 0. AR10 = AR100 = 1.
  const auto gt = make_gt({1}, {{obj(0, 0, 40, 40, 1, 1024), obj(100, 100, 96, 96, 2, 9216)}});
  const auto m = evaluate_coco(gt, {det(0, 300, 300, 50, 50, 0.95), det(0, 0, 0, 40, 40, 0.9),
                                    det(0, 100, 100, 96, 96, 0.8)});
  EXPECT_NEAR(m.stats[AP], 2.0 / 3, 1e-9);
  EXPECT_NEAR(m.stats[AP50], 2.0 / 3, 1e-9);
  EXPECT_NEAR(m.stats[APs], 1.0, kTol);
  EXPECT_NEAR(m.stats[APm], 2.0 / 3, 1e-9);
  EXPECT_NEAR(m.stats[APl], 1.0, kTol);
  EXPECT_NEAR(m.stats[AR1], 0.0, kTol);
  EXPECT_NEAR(m.stats[AR10], 1.0, kTol);
  EXPECT_NEAR(m.stats[AR100], 1.0, kTol);
  EXPECT_NEAR(m.stats[ARs], 1.0, kTol);
  EXPECT_NEAR(m.stats[ARm], 1.0, kTol);
  EXPECT_NEAR(m.stats[ARl], 1.0, kTol);
}

TEST(CocoEval, OnlyTheHundredBestDetectionsPerImageCount) {
  // One gt; 100 misses scored above the hit. The hit is 101st in its image
  // and category and is cut: AP = AR100 = 0. With 99 misses the hit is
  // 100th: recall reaches 1 at precision 1/100; the envelope gives 1/100 at
  // every recall point -> AP 0.01, AR100 1, AR10 0.
  // Misses in another category do not count against the hundred.
  const auto gt = make_gt({1}, {{obj(0, 0, 10, 10, 1)}}, 2);
  auto run = [&](int misses) {
    std::vector<Detection> dets;
    for (int i = 0; i < misses; ++i) dets.push_back(det(0, 50 + i, 50, 10, 10, 0.9 - i * 1e-4));
    for (int i = 0; i < 150; ++i) dets.push_back(det(0, 0, 0, 10, 10, 0.99, 1));
    dets.push_back(det(0, 0, 0, 10, 10, 0.5));
    return evaluate_coco(gt, dets);
  };
  const auto cut = run(100);
  EXPECT_NEAR(cut.stats[AP], 0.0, kTol);
  EXPECT_NEAR(cut.stats[AR100], 0.0, kTol);
  const auto kept = run(99);
  EXPECT_NEAR(kept.stats[AP], 0.01, 1e-12);
  EXPECT_NEAR(kept.stats[AR100], 1.0, kTol);
  EXPECT_NEAR(kept.stats[AR10], 0.0, kTol);
}

TEST(CocoEval, EmptyImagesOnlyAddFalsePositives) {
  // Image 2 has no gts; a detection there (0.9) outranks the hit on image 1
  // (0.5): recall 0, 1; precision 0, 1/2 -> 0.5 at every recall point.
  // Image 3 has nothing at all and changes nothing.
  const auto gt = make_gt({1, 2, 3}, {{obj(0, 0, 10, 10, 1)}, {}, {}});
  const auto m = evaluate_coco(gt, {det(1, 0, 0, 10, 10, 0.9), det(0, 0, 0, 10, 10, 0.5)});
  EXPECT_NEAR(m.stats[AP], 0.5, 1e-12);
  EXPECT_NEAR(m.stats[AR100], 1.0, kTol);
}

TEST(CocoEval, TiedScoresBreakByAscendingImageId) {
  // Images listed as id 7 then id 3, one gt each; both detections score 0.5,
  // the miss (on image 7) first in the file. cocoapi concatenates images in
  // ascending id order before its stable sort, so the hit (image 3) ranks
  // first: recall 1/2, 1/2; precision 1, 1/2. Recall points 0 .. 0.50 (51
  // of them; 50 * 0.01 == 0.5) find precision 1, the other 50 find nothing
  // -> AP = 51/101. File order would give 0.5 * 51/101 instead.
  const auto gt = make_gt({7, 3}, {{obj(0, 0, 10, 10, 1)}, {obj(0, 0, 10, 10, 2)}});
  const auto m = evaluate_coco(gt, {det(0, 50, 50, 10, 10, 0.5), det(1, 0, 0, 10, 10, 0.5)});
  EXPECT_NEAR(m.stats[AP], 51.0 / 101, 1e-12);
}

TEST(CocoEval, EqualIouGoesToTheLaterGroundTruth) {
  // gts G1 (0,0,10,10) and G2 (10,0,10,10) side by side; D1 (0,0,20,10)
  // covers both with IoU 100/200 = 0.5 each, D2 (score below D1) equals G1.
  // At threshold 0.5 the later gt (G2) wins D1's tie, leaving G1 for D2: two
  // TPs -> AP50 = 1. Had G1 won, D2 would find G1 taken and G2 at IoU 0: an
  // FP, recall 1/2, precision 1 then 1/2 -> AP50 = 51/101.
  const auto gt = make_gt({1}, {{obj(0, 0, 10, 10, 1), obj(10, 0, 10, 10, 2)}});
  const auto m = evaluate_coco(gt, {det(0, 0, 0, 20, 10, 0.9), det(0, 0, 0, 10, 10, 0.8)});
  EXPECT_NEAR(m.stats[AP50], 1.0, kTol);
}

TEST(CocoEval, CategoryWithoutGroundTruthIsLeftOutOfTheMeans) {
  // Category 1: a perfect hit (AP 1). Category 2: detections but no gts ->
  // -1, excluded: AP = 1. Its per-category entry is -1 as well.
  const auto gt = make_gt({1}, {{obj(0, 0, 10, 10, 1)}}, 2);
  const auto m = evaluate_coco(gt, {det(0, 0, 0, 10, 10, 0.9), det(0, 0, 0, 10, 10, 0.95, 1)});
  EXPECT_NEAR(m.stats[AP], 1.0, kTol);
  EXPECT_EQ(m.per_category[1].ap, -1.0);
  EXPECT_EQ(m.per_category[1].ar100, -1.0);
  EXPECT_NEAR(m.per_category[0].ap, 1.0, kTol);
}

TEST(CocoEval, NoGroundTruthAnywhereGivesMinusOne) {
  const auto gt = make_gt({1}, {{}});
  const auto m = evaluate_coco(gt, {det(0, 0, 0, 10, 10, 0.9)});
  for (double s : m.stats) EXPECT_EQ(s, -1.0);
}

TEST(CocoEval, MatchToAnnotationIdZeroReadsAsUnmatched) {
  // cocoapi stores a match as the gt's id and tests it for non-zero, so a
  // perfect hit on an annotation with id 0 counts as an FP (and the gt stays
  // "taken"): recall 0 -> AP 0. The same gt with id 1 gives AP 1.
  const auto zero = make_gt({1}, {{obj(0, 0, 10, 10, 0)}});
  EXPECT_NEAR(evaluate_coco(zero, {det(0, 0, 0, 10, 10, 0.9)}).stats[AP], 0.0, kTol);
  const auto one = make_gt({1}, {{obj(0, 0, 10, 10, 1)}});
  EXPECT_NEAR(evaluate_coco(one, {det(0, 0, 0, 10, 10, 0.9)}).stats[AP], 1.0, kTol);
}

TEST(CocoEval, RejectsOutOfRangeIndices) {
  const auto gt = make_gt({1}, {{obj(0, 0, 10, 10, 1)}});
  EXPECT_THROW(evaluate_coco(gt, {det(1, 0, 0, 10, 10, 0.9)}), core::ValueError);
  EXPECT_THROW(evaluate_coco(gt, {det(0, 0, 0, 10, 10, 0.9, 1)}), core::ValueError);
}

}  // namespace
}  // namespace train
