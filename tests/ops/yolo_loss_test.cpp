// yolo_loss: the worked example by hand, a float64 gradient check away from
// the discontinuities, and the quirks that a small input can pin (both in
// docs/yolo_loss.md). Validation errors are in
// yolo_loss_validation_test.cpp; the conformance vectors run through ctest.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "core/gradcheck.h"
#include "ops/reduce.h"
#include "tests/ops/yolo_loss_test_util.h"

namespace ops::yolo_test {
namespace {

const double kLn2 = std::log(2.0);
double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }
double sce(double v, double y) { return std::max(v, 0.0) - v * y + std::log1p(std::exp(-std::abs(v))); }

Tensor randn(const Shape& s, std::uint64_t seed, double stddev) {
  std::mt19937_64 rng(seed);
  return Tensor::randn(s, DType::f64, rng, 0.0, stddev);
}

// ---- the worked example (docs/yolo_loss.md) --------------------------------

TEST(YoloLossWorkedExample, LossTermsByHand) {
  const Result r = run(worked_example());
  const double wt = 2 - 0.5 * 0.8;
  const double by_hand = kLn2 * wt + kLn2 * wt                      // tx = 0.6, ty = 0.2 at logit 0
                         + std::abs(std::log(0.8) + 0.5) * wt        // tw = ln(0.5*16/10), x = -0.5
                         + std::abs(std::log(0.8 * 16 / 13)) * wt    // th, x = 0
                         + kLn2                                      // class 0, target 0.975, logit 0
                         + std::log(1 + std::exp(-1.0))              // positive objectness, logit 1
                         + 6 * kLn2;                                 // 8 cells - 1 positive - 1 ignored
  EXPECT_NEAR(r.out.loss.item(), by_hand, 1e-14 * by_hand);
  EXPECT_NEAR(r.out.loss.item(), 7.851139945584474, 1e-12);  // the documented figure
  // Cell (0,0) of slot 0 is ignored (IoU 0.3356 > 0.3); cell (1,0) was
  // ignored too (0.5417) but the positive overwrote it (a positive is never ignored).
  EXPECT_EQ(r.out.objectness_mask.to_double_vector(), (std::vector<double>{-1, 0, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{0});
}

TEST(YoloLossWorkedExample, GradientByHand) {
  const Result r = run(worked_example());
  Tensor want = Tensor::zeros({1, 12, 2, 2}, DType::f64);
  set(want, 0, 0, 1, 0, (0.5 - 0.6) * 1.6);
  set(want, 0, 1, 1, 0, (0.5 - 0.2) * 1.6);
  set(want, 0, 2, 1, 0, -1.6);  // x = -0.5 below tw
  set(want, 0, 3, 1, 0, 1.6);   // x = 0 above th
  set(want, 0, 5, 1, 0, 0.5 - 0.975);
  set(want, 0, 4, 1, 0, sigmoid(1.0) - 1);
  set(want, 0, 4, 0, 1, 0.5);
  set(want, 0, 4, 1, 1, 0.5);  // (0,0) is ignored: stays 0
  for (int k = 0; k < 2; ++k) {
    for (int l = 0; l < 2; ++l) set(want, 0, 10, k, l, 0.5);  // slot 1 objectness
  }
  const auto got = r.dx.to_double_vector();
  const auto exp = want.to_double_vector();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], exp[i], 1e-15) << "element " << i;
}

TEST(YoloLossWorkedExample, HalfScoreHalvesGtTerms) {
  Case c = worked_example();
  c.score = f64({1, 1}, {0.5});
  const Result r = run(c);
  EXPECT_NEAR(r.out.loss.item(), 6.005011514472073, 1e-12);
  EXPECT_EQ(at(r.out.objectness_mask, 0, 0, 1, 0), 0.5);
}

TEST(YoloLossWorkedExample, PartsSplitTheLoss) {
  const Result r = run(worked_example());
  const auto parts = r.out.parts.to_double_vector();
  ASSERT_EQ(r.out.parts.shape(), (Shape{1, kYoloLossNumParts}));
  EXPECT_NEAR(parts[kYoloLossXY], 2 * kLn2 * 1.6, 1e-14);
  EXPECT_NEAR(parts[kYoloLossWH], (std::abs(std::log(0.8) + 0.5) + std::abs(std::log(0.8 * 16 / 13))) * 1.6, 1e-14);
  EXPECT_NEAR(parts[kYoloLossObjectness], std::log(1 + std::exp(-1.0)) + 6 * kLn2, 1e-14);
  EXPECT_NEAR(parts[kYoloLossClass], kLn2, 1e-14);
}

TEST(YoloLossWorkedExample, Float32IsClose) {
  const Result r64 = run(worked_example());
  const Result r32 = run(worked_example(), DType::f32);
  EXPECT_EQ(r32.out.loss.dtype(), DType::f32);
  EXPECT_EQ(r32.out.objectness_mask.dtype(), DType::f32);
  EXPECT_NEAR(r32.out.loss.item(), r64.out.loss.item(), 1e-5 * r64.out.loss.item());
  const auto a = r32.dx.to_double_vector();
  const auto b = r64.dx.to_double_vector();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(YoloLossWorkedExample, PaddleStyleSignatureMatchesParams) {
  const Case c = worked_example();
  Tape tape(Tape::Mode::inference);
  const YoloLossOutputs a = yolo_loss(tape, c.x, c.box, c.label, {10, 13, 16, 30}, {0, 1}, 1, 0.3, 8);
  EXPECT_EQ(a.loss.item(), run(c).out.loss.item());
  EXPECT_FALSE(a.parts.defined());
  EXPECT_EQ(tape.size(), 0u);
}

// ---- gradient check ---------------------------------------------------------

// Two images, two slots of three anchors, three classes, scores, smoothing
// and scale_x_y; gts in distinct cells (so the assign-not-add quirk of 9.1
// does not apply), one padding row, one gt whose anchor is outside the mask.
Case gradcheck_case() {
  Case c;
  c.p = {{10, 13, 16, 30, 33, 23}, {0, 2}, 3, 0.4, 8, true, 1.1};
  c.x = randn({2, 16, 4, 4}, 7, 0.7);
  c.box = f64({2, 4, 4}, {0.30, 0.35, 0.30, 0.40,  0.70, 0.60, 0.90, 0.60,  0, 0, 0, 0,  0.55, 0.20, 0.50, 0.90,
                          0.12, 0.85, 0.28, 0.45,  0.0, 0.0, 0.0, 0.0,  0.62, 0.41, 1.10, 0.75,  0.40, 0.90, 0.33, 0.38});
  c.label = Tensor::from_ints({2, 4}, {0, 2, 0, 1, 1, 0, 3, 2});
  c.score = f64({2, 4}, {0.9, 0.7, 1.0, 0.8, 1.0, 1.0, 0.6, 0.95});
  return c;
}

TEST(YoloLossGradcheck, Float64AwayFromDiscontinuities) {
  const Case c = gradcheck_case();
  const Result r = run(c);
  // The inputs exercise every branch: positives, negatives and ignored cells.
  const auto mask = r.out.objectness_mask.to_double_vector();
  EXPECT_GT(std::count(mask.begin(), mask.end(), -1.0), 0);
  EXPECT_GT(std::count(mask.begin(), mask.end(), 0.0), 0);
  EXPECT_EQ(r.out.gt_match_mask.to_int_vector(), (std::vector<std::int32_t>{0, 1, -1, -1, 0, -1, 1, 0}));
  const auto result = core::gradcheck(
      [&](Tape& t, const std::vector<Tensor>& in) { return yolo_loss(t, in[0], c.box, c.label, c.p, c.score).loss; },
      {c.x}, {.rtol = 1e-6, .atol = 1e-8, .seed = 3});
  EXPECT_TRUE(result.ok) << result.message;
}

TEST(YoloLossGradcheck, ComposesWithOtherOpsOnTheTape) {
  const Case c = gradcheck_case();
  Tensor x = c.x.clone();
  x.set_requires_grad();
  Tape tape;
  const Tensor total = sum(tape, yolo_loss(tape, x, c.box, c.label, c.p, c.score).loss);
  tape.backward(total);
  const Result direct = run(c);
  EXPECT_EQ(x.grad().to_double_vector(), direct.dx.to_double_vector());
}

TEST(YoloLossGradcheck, BackwardKernelMatchesTape) {
  const Case c = gradcheck_case();
  const Tensor dloss = f64({2}, {0.3, -1.7});
  const Result r = run(c, DType::f64, dloss);
  const Tensor dx = yolo_loss_backward(c.x, c.box, c.label, c.score, r.out.objectness_mask, r.out.gt_match_mask,
                                       dloss, c.p);
  EXPECT_EQ(dx.to_double_vector(), r.dx.to_double_vector());
}

// ---- quirks (docs/yolo_loss.md, 'Quirks kept from the original') -----------

// Shared geometry for the quirk tests: H=W=4, ratio 8 (input 32), anchors
// [10,13, 16,30], both in the mask, two classes, nothing ignored.
Case small_case(std::vector<double> boxes, std::vector<std::int32_t> labels, std::uint64_t seed = 11) {
  Case c;
  c.p = {{10, 13, 16, 30}, {0, 1}, 2, 1.0, 8, true, 1.0};
  c.x = randn({1, 14, 4, 4}, seed, 0.8);
  const auto rows = static_cast<std::int64_t>(labels.size());
  c.box = f64({1, rows, 4}, boxes);
  c.label = Tensor::from_ints({1, rows}, labels);
  return c;
}

TEST(YoloLossQuirks, PaddingRowsAnywhereAreSkipped) {
  const Case compact = small_case({0.3, 0.3, 0.3, 0.4, 0.7, 0.6, 0.5, 0.9}, {0, 1});
  Case padded = compact;
  padded.box = f64({1, 5, 4}, {0, 0, 0, 0, 0.3, 0.3, 0.3, 0.4, 0.5, 0.5, 0.2, -0.1, 0.7, 0.6, 0.5, 0.9, 0.5, 0.5, 0, 0.4});
  padded.label = Tensor::from_ints({1, 5}, {1, 0, 1, 1, 0});
  const Result a = run(compact), b = run(padded);
  EXPECT_EQ(b.out.gt_match_mask.to_int_vector(), (std::vector<std::int32_t>{-1, 0, -1, 1, -1}));
  EXPECT_EQ(a.out.loss.item(), b.out.loss.item());
  EXPECT_EQ(a.dx.to_double_vector(), b.dx.to_double_vector());
}

TEST(YoloLossQuirks, ValidityComparesWithTheDoubleConstant) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Case c = small_case({0.3, 0.3, 1e-6, 0.4,  0.3, 0.3, 0.999e-6, 0.4,  0.6, 0.6, nan, 0.3}, {0, 0, 0});
  const Result r64 = run(c);
  // 1e-6 itself is valid (strict <); a NaN size is "valid" and matches anchor 0.
  EXPECT_EQ(r64.out.gt_match_mask.to_int_vector(), (std::vector<std::int32_t>{0, -1, 0}));
  EXPECT_TRUE(std::isnan(r64.out.loss.item()));
  // In float32, 1e-6 rounds to 9.99999997e-7, below the double constant.
  Case c32 = small_case({0.3, 0.3, 1e-6, 0.4}, {0});
  EXPECT_EQ(run(c32, DType::f32).out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{-1});
  EXPECT_EQ(run(c32).out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{0});
}

// Anchors [10,13, 20,26], mask [1], H=W=2, input 16, x = 0: slot 0 predicts
// (0.25, 0.25, 1.25, 1.625) at cell (0,0). The gt (0.25, 0.25, 0.625, 0.8125)
// is anchor 0 exactly, outside the mask, and inside that prediction with IoU
// 0.5078125 / 2.03125 = 0.25 exactly.
Case ignore_case(double ignore_thresh) {
  Case c;
  c.p = {{10, 13, 20, 26}, {1}, 1, ignore_thresh, 8, true, 1.0};
  c.x = Tensor::zeros({1, 6, 2, 2}, DType::f64);
  c.box = f64({1, 1, 4}, {0.25, 0.25, 0.625, 0.8125});
  c.label = Tensor::from_ints({1, 1}, {0});
  return c;
}

TEST(YoloLossQuirks, GtOutsideMaskStillDrivesIgnore) {
  const Result r = run(ignore_case(0.22));  // cell (1,0) has IoU 0.2149, (0,1) 0.1628
  EXPECT_EQ(r.out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{-1});
  EXPECT_EQ(r.out.objectness_mask.to_double_vector(), (std::vector<double>{-1, 0, 0, 0}));
  EXPECT_NEAR(r.out.loss.item(), 3 * kLn2, 1e-15);  // no gt terms, three negatives
}

TEST(YoloLossQuirks, IgnoreIsStrictAfterFloat32Rounding) {
  EXPECT_EQ(run(ignore_case(0.25)).out.objectness_mask.to_double_vector(), (std::vector<double>{0, 0, 0, 0}));
  // 0.25 - 1e-12 rounds to the float32 0.25: still not ignored, even in float64.
  EXPECT_EQ(run(ignore_case(0.25 - 1e-12)).out.objectness_mask.to_double_vector(), (std::vector<double>{0, 0, 0, 0}));
  const double below = std::nextafter(0.25f, 0.0f);
  EXPECT_EQ(run(ignore_case(below)).out.objectness_mask.to_double_vector(), (std::vector<double>{-1, 0, 0, 0}));
}

TEST(YoloLossQuirks, NegativeThresholdIgnoresEveryNonPositive) {
  Case c = small_case({0.3, 0.3, 0.3, 0.4}, {0});
  c.p.ignore_thresh = -0.1;
  const Result r = run(c);
  const auto mask = r.out.objectness_mask.to_double_vector();
  EXPECT_EQ(std::count(mask.begin(), mask.end(), -1.0), 2 * 16 - 1);
  EXPECT_EQ(at(r.out.objectness_mask, 0, 0, 1, 1), 1.0);
  EXPECT_NEAR(r.out.parts.to_double_vector()[kYoloLossObjectness], sce(at(c.x, 0, 4, 1, 1), 1.0), 1e-14);
}

TEST(YoloLossQuirks, AnchorIouRoundedToFloat32FirstMaximumWins) {
  // Anchor 1 (10001 x 9999) has a larger IoU than anchor 0 (10000 x 10000) in
  // double, by 1e-8 relative; both round to the same float32, so anchor 0
  // wins, and anchor 0 is outside the mask.
  Case c;
  c.p = {{10000, 10000, 10001, 9999}, {1}, 1, 0.5, 8, true, 1.0};
  c.x = Tensor::zeros({1, 6, 2, 2}, DType::f64);
  c.box = f64({1, 1, 4}, {0.5, 0.5, 0.5, 0.5});
  c.label = Tensor::from_ints({1, 1}, {0});
  EXPECT_EQ(run(c).out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{-1});
  // Equal anchors tie exactly: the lower index wins.
  c.p.anchors = {10, 13, 10, 13};
  EXPECT_EQ(run(c).out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{-1});
  c.p.anchor_mask = {0};
  EXPECT_EQ(run(c).out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{0});
}

TEST(YoloLossQuirks, DuplicateMaskEntriesUseTheFirstSlot) {
  Case c = small_case({0.3, 0.3, 0.3, 0.4}, {0});
  c.p.anchor_mask = {0, 0};
  const Result r = run(c);
  EXPECT_EQ(r.out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{0});
  EXPECT_EQ(at(r.out.objectness_mask, 0, 0, 1, 1), 1.0);
  EXPECT_EQ(at(r.out.objectness_mask, 0, 1, 1, 1), 0.0);
}

TEST(YoloLossQuirks, CentreOnACellBorderGoesToTheHigherCell) {
  Case c = small_case({0.5, 0.0, 0.3, 0.4}, {0});
  c.x = Tensor::zeros({1, 14, 4, 4}, DType::f64);
  const Result r = run(c);
  const double wt = 2 - 0.3 * 0.4;
  EXPECT_EQ(at(r.out.objectness_mask, 0, 0, 0, 2), 1.0);
  EXPECT_NEAR(at(r.dx, 0, 0, 0, 2), 0.5 * wt, 1e-15);  // tx = 0 at logit 0
  EXPECT_NEAR(at(r.dx, 0, 1, 0, 2), 0.5 * wt, 1e-15);  // ty = 0
  EXPECT_EQ(at(r.dx, 0, 0, 0, 1), 0.0);
}

// gts 0 and 1 share cell (1,1) and anchor 0; gt 2 sits in the same cell on anchor 1.
TEST(YoloLossQuirks, TwoGtsInOneCellAndSlotSumLossButKeepTheLaterGradient) {
  const std::vector<double> a{0.30, 0.30, 0.30, 0.40}, b{0.35, 0.32, 0.32, 0.42}, d{0.33, 0.27, 0.50, 0.90};
  auto concat = [](std::vector<std::vector<double>> rows) {
    std::vector<double> out;
    for (auto& r : rows) out.insert(out.end(), r.begin(), r.end());
    return out;
  };
  const Result both = run(small_case(concat({a, b}), {0, 1}));
  const Result only_a = run(small_case(a, {0}));
  const Result only_b = run(small_case(b, {1}));
  EXPECT_EQ(both.out.gt_match_mask.to_int_vector(), (std::vector<std::int32_t>{0, 0}));
  const auto pb = both.out.parts.to_double_vector(), pa = only_a.out.parts.to_double_vector(),
             pbb = only_b.out.parts.to_double_vector();
  for (int part : {kYoloLossXY, kYoloLossWH, kYoloLossClass}) EXPECT_NEAR(pb[part], pa[part] + pbb[part], 1e-12);
  EXPECT_EQ(pb[kYoloLossObjectness], pa[kYoloLossObjectness]);
  // Backward assigns: the later row's gradient replaces the earlier one's.
  EXPECT_EQ(both.dx.to_double_vector(), only_b.dx.to_double_vector());
  EXPECT_NE(at(both.dx, 0, 0, 1, 1), at(only_a.dx, 0, 0, 1, 1) + at(only_b.dx, 0, 0, 1, 1));

  // A third gt on the other slot of the same cell is an independent positive.
  const Result three = run(small_case(concat({a, b, d}), {0, 1, 1}));
  const Result only_d = run(small_case(d, {1}));
  EXPECT_EQ(three.out.gt_match_mask.to_int_vector(), (std::vector<std::int32_t>{0, 0, 1}));
  for (int e = 0; e < 7; ++e) {
    EXPECT_EQ(at(three.dx, 0, e, 1, 1), at(both.dx, 0, e, 1, 1)) << "slot 0 entry " << e;
    EXPECT_EQ(at(three.dx, 0, 7 + e, 1, 1), at(only_d.dx, 0, 7 + e, 1, 1)) << "slot 1 entry " << e;
  }
}

TEST(YoloLossQuirks, BoxWeightCanTurnNegative) {
  Case c = small_case({0.5, 0.5, 1.6, 1.5}, {0});
  c.p.anchors = {10, 13, 60, 50};
  c.x = Tensor::zeros({1, 14, 4, 4}, DType::f64);
  const Result r = run(c);
  const double wt = 2 - 1.6 * 1.5;  // -0.4
  EXPECT_EQ(r.out.gt_match_mask.to_int_vector(), std::vector<std::int32_t>{1});
  EXPECT_NEAR(at(r.dx, 0, 7, 2, 2), (0.5 - 0.0) * wt, 1e-15);
  EXPECT_NEAR(r.out.parts.to_double_vector()[kYoloLossXY], 2 * kLn2 * wt, 1e-14);
}

TEST(YoloLossQuirks, ScoreEdgesForObjectness) {
  // Four images with the same gt and scores 0, 1e-5, 2e-5, -0.5.
  const std::vector<double> scores{0.0, 1e-5, 2e-5, -0.5};
  Case c;
  c.p = {{10, 13, 16, 30}, {0, 1}, 2, 1.0, 8, true, 1.0};
  c.x = Tensor::zeros({4, 14, 4, 4}, DType::f64);
  const std::vector<double> one{0.3, 0.3, 0.3, 0.4};
  std::vector<double> boxes;
  for (int i = 0; i < 16; ++i) boxes.push_back(one[i % 4]);
  c.box = f64({4, 1, 4}, boxes);
  c.label = Tensor::from_ints({4, 1}, {0, 0, 0, 0});
  c.score = f64({4, 1}, scores);
  const Result r = run(c);
  const double wt = 2 - 0.3 * 0.4;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(at(r.out.objectness_mask, i, 0, 1, 1), scores[i]);
    // Location and class terms use the score as given, even 0 or negative.
    EXPECT_NEAR(at(r.dx, i, 0, 1, 1), (0.5 - 0.2) * wt * scores[i], 1e-15) << "image " << i;
    EXPECT_NEAR(at(r.dx, i, 5, 1, 1), (0.5 - 0.975) * scores[i], 1e-15) << "image " << i;
  }
  EXPECT_EQ(at(r.dx, 0, 4, 1, 1), 0.5);           // score 0: a weight-1 negative
  EXPECT_EQ(at(r.dx, 1, 4, 1, 1), 0.5);           // 1e-5 is not > 1e-5
  EXPECT_NEAR(at(r.dx, 2, 4, 1, 1), -0.5 * 2e-5, 1e-20);  // positive, weighted by the score
  EXPECT_EQ(at(r.dx, 3, 4, 1, 1), 0.0);           // -0.5 is not > -0.5: ignored
  // Objectness: all 32 cells negative for score 0, 31 for -0.5 (one ignored).
  const auto parts = r.out.parts.to_double_vector();
  EXPECT_NEAR(parts[0 * kYoloLossNumParts + kYoloLossObjectness], 32 * kLn2, 1e-13);
  EXPECT_NEAR(parts[3 * kYoloLossNumParts + kYoloLossObjectness], 31 * kLn2, 1e-13);
}

TEST(YoloLossQuirks, LabelSmoothingIsMinOfOneOverCAndOneFortieth) {
  struct Want {
    std::int64_t classes;
    bool smooth;
    std::int32_t label;
    double pos, neg;
  };
  const Want wants[] = {{1, true, 0, 0.975, 0.025},  {2, true, 1, 0.975, 0.025},   {40, true, 3, 0.975, 0.025},
                        {50, true, 3, 0.98, 0.02},    {80, true, 79, 0.9875, 0.0125}, {20, false, 5, 1.0, 0.0},
                        {3, true, 3, 0.975, 0.025},   {3, true, -1, 0.975, 0.025}};
  for (const auto& w : wants) {
    Case c;
    c.p = {{10, 13, 16, 30}, {0}, w.classes, 1.0, 8, w.smooth, 1.0};
    c.x = Tensor::zeros({1, 5 + w.classes, 4, 4}, DType::f64);
    c.box = f64({1, 1, 4}, {0.3, 0.3, 0.3, 0.4});
    c.label = Tensor::from_ints({1, 1}, {w.label});
    const Result r = run(c);
    for (std::int64_t k = 0; k < w.classes; ++k) {
      const double target = k == w.label ? w.pos : w.neg;  // out-of-range labels: all negative
      EXPECT_NEAR(at(r.dx, 0, 5 + k, 1, 1), 0.5 - target, 1e-15) << "C=" << w.classes << " class " << k;
    }
  }
}

TEST(YoloLossQuirks, L1TieGivesMinusOne) {  // 9.1 item 2
  Case c = small_case({0.3, 0.3, 0.3, 0.4}, {0});
  c.x = Tensor::zeros({1, 14, 4, 4}, DType::f64);
  set(c.x, 0, 2, 1, 1, std::log(0.3 * 32 / 10));  // exactly the tw target
  set(c.x, 0, 3, 1, 1, std::log(0.4 * 32 / 13) + 0.25);
  const Result r = run(c);
  const double wt = 2 - 0.3 * 0.4;
  EXPECT_EQ(at(r.dx, 0, 2, 1, 1), -wt);
  EXPECT_EQ(at(r.dx, 0, 3, 1, 1), wt);
  EXPECT_NEAR(r.out.parts.to_double_vector()[kYoloLossWH], 0.25 * wt, 1e-15);
}

TEST(YoloLossQuirks, ScaleXYOnlyMovesDecodedCentres) {
  Case c = small_case({0.3, 0.3, 0.3, 0.4, 0.7, 0.6, 0.5, 0.9}, {0, 1});
  const Result a = run(c);
  c.p.scale_x_y = 1.3;
  const Result b = run(c);  // nothing is ignored at ignore_thresh 1: identical
  EXPECT_EQ(a.out.loss.item(), b.out.loss.item());
  EXPECT_EQ(a.dx.to_double_vector(), b.dx.to_double_vector());
}

TEST(YoloLossQuirks, LossIsAPerImageSum) {
  Case c = gradcheck_case();
  const Result both = run(c);
  for (std::int64_t i = 0; i < 2; ++i) {
    Case one = c;
    auto slice = [i](const Tensor& t) {
      const std::int64_t n = t.numel() / t.size(0);
      Shape s = t.shape();
      s[0] = 1;
      if (t.dtype() == DType::i32) {
        const auto all = t.to_int_vector();
        return Tensor::from_ints(s, std::vector<std::int32_t>(all.begin() + i * n, all.begin() + (i + 1) * n));
      }
      const auto all = t.to_double_vector();
      return f64(s, std::vector<double>(all.begin() + i * n, all.begin() + (i + 1) * n));
    };
    one.x = slice(c.x);
    one.box = slice(c.box);
    one.label = slice(c.label);
    one.score = slice(c.score);
    EXPECT_EQ(run(one).out.loss.item(), both.out.loss.to_double_vector()[i]) << "image " << i;
  }
}

TEST(YoloLossQuirks, NoGtRowsLeaveOnlyNegatives) {
  Case c;
  c.p = {{10, 13, 16, 30}, {0, 1}, 2, 0.5, 8, true, 1.0};
  c.x = randn({1, 14, 4, 4}, 5, 1.0);
  c.box = Tensor::zeros({1, 0, 4}, DType::f64);
  c.label = Tensor::from_ints({1, 0}, {});
  const Result r = run(c);
  double want = 0;
  for (int s = 0; s < 2; ++s) {
    for (int k = 0; k < 4; ++k) {
      for (int l = 0; l < 4; ++l) {
        want += sce(at(c.x, 0, 7 * s + 4, k, l), 0.0);
        EXPECT_NEAR(at(r.dx, 0, 7 * s + 4, k, l), sigmoid(at(c.x, 0, 7 * s + 4, k, l)), 1e-15);
      }
    }
  }
  EXPECT_NEAR(r.out.loss.item(), want, 1e-13);
  EXPECT_EQ(r.out.gt_match_mask.shape(), (Shape{1, 0}));
}

TEST(YoloLossQuirks, EmptyAnchorMaskGivesZeroLoss) {
  Case c;
  c.p = {{10, 13, 16, 30}, {}, 2, 0.5, 8, true, 1.0};
  c.x = Tensor::zeros({2, 0, 4, 4}, DType::f64);
  c.box = f64({2, 1, 4}, {0.3, 0.3, 0.3, 0.4, 0.5, 0.5, 0.2, 0.2});
  c.label = Tensor::from_ints({2, 1}, {0, 1});
  const Result r = run(c);
  EXPECT_EQ(r.out.loss.to_double_vector(), (std::vector<double>{0, 0}));
  EXPECT_EQ(r.out.gt_match_mask.to_int_vector(), (std::vector<std::int32_t>{-1, -1}));
  EXPECT_EQ(r.out.objectness_mask.shape(), (Shape{2, 0, 4, 4}));
  EXPECT_EQ(r.dx.shape(), (Shape{2, 0, 4, 4}));
}

TEST(YoloLossQuirks, NoGradientReachesTheTargets) {
  Case c = worked_example();
  Tensor box = c.box.clone();
  box.set_requires_grad();
  Tensor x = c.x.clone();
  x.set_requires_grad();
  Tape tape;
  tape.backward(yolo_loss(tape, x, box, c.label, c.p).loss, f64({1}, {1.0}));
  EXPECT_TRUE(x.grad().defined());
  EXPECT_FALSE(box.grad().defined());
  // With only targets requiring grad, nothing is recorded at all.
  Tape idle;
  const YoloLossOutputs out = yolo_loss(idle, c.x, box, c.label, c.p);
  EXPECT_EQ(idle.size(), 0u);
  EXPECT_FALSE(out.loss.requires_grad());
}

TEST(YoloLossQuirks, BackwardRefusesMasksChangedInPlace) {
  const Case c = worked_example();
  Tensor x = c.x.clone();
  x.set_requires_grad();
  Tape tape;
  const YoloLossOutputs out = yolo_loss(tape, x, c.box, c.label, c.p);
  out.objectness_mask.fill_(0.0);
  EXPECT_THROW(tape.backward(out.loss, f64({1}, {1.0})), core::AutogradError);
}

}  // namespace
}  // namespace ops::yolo_test
