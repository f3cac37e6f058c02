// Each augmentation on a hand-made box with a known expected result, plus
// invariants of the random wrappers.
#include <gtest/gtest.h>

#include <cmath>

#include "data/augment_color.h"
#include "data/augment_geometry.h"
#include "data/augment_mixup.h"
#include "data/augment_mosaic.h"
#include "data/augment_resize.h"
#include "data/pipeline.h"

namespace {

using data::Box;
using data::Image;
using data::Sample;

// A w x h image, value 10 everywhere except a patch of 200 exactly under the
// box, so pixels and boxes can be checked against each other.
Sample patch_sample(int w, int h, Box box, int label = 3) {
  Sample s;
  s.image = Image(w, h, 10.0f);
  for (int y = static_cast<int>(box.y1); y < static_cast<int>(box.y2); ++y)
    for (int x = static_cast<int>(box.x1); x < static_cast<int>(box.x2); ++x)
      for (int c = 0; c < 3; ++c) s.image.at(x, y)[c] = 200.0f;
  s.targets.push_back({box, label, 1.0f});
  return s;
}

void expect_box(const Box& b, float x1, float y1, float x2, float y2, float tol = 1e-4f) {
  EXPECT_NEAR(b.x1, x1, tol);
  EXPECT_NEAR(b.y1, y1, tol);
  EXPECT_NEAR(b.x2, x2, tol);
  EXPECT_NEAR(b.y2, y2, tol);
}

TEST(Augment, FlipMirrorsPixelsAndBox) {
  Sample s = patch_sample(20, 10, {2, 3, 6, 8});
  data::flip_horizontal(s);
  expect_box(s.targets[0].box, 14, 3, 18, 8);
  EXPECT_EQ(s.image.at(14, 3)[0], 200.0f);
  EXPECT_EQ(s.image.at(17, 7)[0], 200.0f);
  EXPECT_EQ(s.image.at(13, 3)[0], 10.0f);
  EXPECT_EQ(s.image.at(2, 3)[0], 10.0f);
}

TEST(Augment, ExpandShiftsBoxAndFillsWithTheMean) {
  Sample s = patch_sample(10, 8, {1, 2, 4, 6});
  const float fill[3] = {1, 2, 3};
  data::expand(s, 30, 20, 7, 5, fill);
  ASSERT_EQ(s.image.width, 30);
  ASSERT_EQ(s.image.height, 20);
  expect_box(s.targets[0].box, 8, 7, 11, 11);
  EXPECT_EQ(s.image.at(8, 7)[1], 200.0f);
  EXPECT_EQ(s.image.at(7, 5)[1], 10.0f);   // old corner
  EXPECT_EQ(s.image.at(0, 0)[2], 3.0f);    // fill
  EXPECT_EQ(s.image.at(29, 19)[0], 1.0f);
}

TEST(Augment, CropKeepsBoxesWithCentreInsideAndClipsThem) {
  Sample s = patch_sample(40, 40, {4, 4, 16, 12});
  s.targets.push_back({{30, 30, 38, 38}, 1, 1.0f});  // centre (34, 34): outside the crop
  s.targets.push_back({{0, 20, 8, 30}, 2, 1.0f});    // centre (4, 25): inside, clipped at x = 2
  data::crop(s, 2, 2, 20, 28, 1.0f);
  ASSERT_EQ(s.image.width, 20);
  ASSERT_EQ(s.image.height, 28);
  ASSERT_EQ(s.targets.size(), 2u);
  expect_box(s.targets[0].box, 2, 2, 14, 10);
  EXPECT_EQ(s.targets[1].label, 2);
  expect_box(s.targets[1].box, 0, 18, 6, 28);
  EXPECT_EQ(s.image.at(2, 2)[0], 200.0f);
  EXPECT_EQ(s.image.at(1, 1)[0], 10.0f);
}

TEST(Augment, ClipAndFilterDropsTooSmallBoxes) {
  Sample s;
  s.image = Image(10, 10);
  s.targets = {{{-5, -5, 3, 4}, 0, 1}, {{9.5f, 2, 14, 8}, 1, 1}, {{2, 2, 2, 8}, 2, 1}, {{1, 1, 9, 9}, 3, 1}};
  data::clip_and_filter(s, 1.0f);
  ASSERT_EQ(s.targets.size(), 2u);
  expect_box(s.targets[0].box, 0, 0, 3, 4);
  EXPECT_EQ(s.targets[1].label, 3);
}

TEST(Augment, ResizeScalesBoxesAndKeepsConstantImagesConstant) {
  for (const auto interp : {data::Interp::nearest, data::Interp::bilinear, data::Interp::bicubic, data::Interp::area}) {
    Sample s;
    s.image = Image(40, 20, 77.0f);
    s.targets.push_back({{4, 2, 20, 10}, 0, 1.0f});
    data::resize_sample(s, 10, interp, data::ResizeParams{});
    ASSERT_EQ(s.image.width, 10);
    ASSERT_EQ(s.image.height, 10);
    expect_box(s.targets[0].box, 1, 1, 5, 5);
    for (float v : s.image.pixels) EXPECT_NEAR(v, 77.0f, 1e-3f);
  }
}

TEST(Augment, LetterboxKeepsAspectAndCentres) {
  Sample s = patch_sample(40, 20, {0, 0, 40, 20});
  data::ResizeParams p;
  p.letterbox = true;
  data::resize_sample(s, 20, data::Interp::nearest, p);
  // 40x20 -> 20x10, placed at y = 5 on a 20x20 canvas.
  expect_box(s.targets[0].box, 0, 5, 20, 15);
  EXPECT_EQ(s.image.at(10, 2)[0], 127.5f);
  EXPECT_EQ(s.image.at(10, 10)[0], 200.0f);
}

TEST(Augment, BilinearDownscaleAveragesNeighbours) {
  Image im(2, 1);
  im.at(0, 0)[0] = 0;
  im.at(1, 0)[0] = 100;
  // One output pixel centred between the two input centres.
  const Image out = data::resize_image(im, 1, 1, data::Interp::bilinear);
  EXPECT_NEAR(out.at(0, 0)[0], 50.0f, 1e-4f);
  EXPECT_NEAR(data::resize_image(im, 1, 1, data::Interp::area).at(0, 0)[0], 50.0f, 1e-4f);
}

TEST(Augment, MixupBlendsPixelsAndSetsScores) {
  Sample a = patch_sample(4, 4, {0, 0, 2, 2}, 1);
  Sample b;
  b.image = Image(6, 3, 100.0f);
  b.targets.push_back({{1, 1, 5, 3}, 4, 1.0f});
  const Sample m = data::mixup(a, b, 0.25f);
  ASSERT_EQ(m.image.width, 6);
  ASSERT_EQ(m.image.height, 4);
  EXPECT_NEAR(m.image.at(0, 0)[0], 0.25f * 200 + 0.75f * 100, 1e-4f);
  EXPECT_NEAR(m.image.at(3, 3)[0], 0.25f * 10, 1e-4f);   // only a covers row 3
  EXPECT_NEAR(m.image.at(5, 0)[0], 0.75f * 100, 1e-4f);  // only b covers column 5
  ASSERT_EQ(m.targets.size(), 2u);
  EXPECT_FLOAT_EQ(m.targets[0].score, 0.25f);
  EXPECT_FLOAT_EQ(m.targets[1].score, 0.75f);
  EXPECT_EQ(m.targets[1].label, 4);
  expect_box(m.targets[1].box, 1, 1, 5, 3);
  EXPECT_EQ(data::mixup(a, b, 1.0f).targets.size(), 1u);
}

TEST(Augment, BetaDrawsHaveTheRightMean) {
  std::mt19937 rng(5);
  double sum = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const float x = data::sample_beta(1.5f, 4.5f, rng);
    ASSERT_GE(x, 0.0f);
    ASSERT_LE(x, 1.0f);
    sum += x;
  }
  EXPECT_NEAR(sum / n, 1.5 / 6.0, 0.01);  // mean alpha / (alpha + beta)
}

TEST(Augment, PhotometricStepsHaveTheirFormulas) {
  Image im(1, 1);
  im.pixels = {100, 50, 200};
  data::adjust_brightness(im, 10);
  EXPECT_EQ(im.pixels, (std::vector<float>{110, 60, 210}));
  data::adjust_contrast(im, 0.5f);
  EXPECT_EQ(im.pixels, (std::vector<float>{55, 30, 105}));
  const float gray = 0.299f * 55 + 0.587f * 30 + 0.114f * 105;
  data::adjust_saturation(im, 0.0f);
  for (float v : im.pixels) EXPECT_NEAR(v, gray, 1e-3f);
  data::clamp_pixels(im);
  im.pixels = {300, -4, 5};
  data::clamp_pixels(im);
  EXPECT_EQ(im.pixels, (std::vector<float>{255, 0, 5}));
}

TEST(Augment, HueRotationKeepsGraysAndLumaAndIsPeriodic) {
  Image gray(1, 1);
  gray.pixels = {90, 90, 90};
  data::adjust_hue(gray, 40);
  for (float v : gray.pixels) EXPECT_NEAR(v, 90.0f, 1e-3f);

  Image red(1, 1);
  red.pixels = {200, 30, 40};
  const float luma = 0.299f * 200 + 0.587f * 30 + 0.114f * 40;
  Image turned = red;
  data::adjust_hue(turned, 120);
  EXPECT_NEAR(0.299f * turned.pixels[0] + 0.587f * turned.pixels[1] + 0.114f * turned.pixels[2], luma, 1e-2f);
  EXPECT_LT(turned.pixels[0], 150.0f);  // no longer red-dominant
  data::adjust_hue(turned, 240);        // full circle
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(turned.pixels[c], red.pixels[c], 1e-2f);
  Image same = red;
  data::adjust_hue(same, 0);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(same.pixels[c], red.pixels[c], 1e-3f);
}

TEST(Augment, FullChainKeepsEveryBoxOnItsPatch) {
  // The patch is the only bright region, so after any geometric chain each
  // surviving box must still cover bright pixels at its centre.
  data::AugmentConfig cfg;
  cfg.mixup.enabled = false;
  cfg.distort.enabled = false;
  cfg.resize.random_interp = false;
  cfg.min_box_size = 6;  // centre pixels well away from the blended edges
  for (int seed = 0; seed < 30; ++seed) {
    std::mt19937 rng(seed);
    Sample s = data::augment_sample(patch_sample(64, 48, {10, 8, 40, 30}), {}, 32, cfg, rng);
    ASSERT_EQ(s.image.width, 32);
    ASSERT_EQ(s.image.height, 32);
    for (const auto& t : s.targets) {
      ASSERT_GT(t.box.width(), 0.0f);
      ASSERT_GT(t.box.height(), 0.0f);
      const int cx = static_cast<int>((t.box.x1 + t.box.x2) / 2), cy = static_cast<int>((t.box.y1 + t.box.y2) / 2);
      EXPECT_GT(s.image.at(cx, cy)[0], 150.0f) << "seed " << seed;
    }
  }
}

// Four 40x40 images, each with one box; the tiles meet at (16, 24) of a
// 40x40 canvas. Each tile shows the corner of its image nearest that point.
TEST(Augment, MosaicPlacesFourTilesAndCutsBoxesAtTheirEdges) {
  const Sample a = patch_sample(40, 40, {20, 10, 36, 30}, 0);  // crosses the canvas's top and left edges
  const Sample b = patch_sample(40, 40, {0, 30, 10, 40}, 1);   // inside the top-right tile
  const Sample c = patch_sample(40, 40, {10, 0, 39, 1}, 2);    // cut to under one pixel high: dropped
  const Sample d = patch_sample(20, 40, {2, 2, 8, 8}, 3);      // already 40 on its longer side: not rescaled
  const float fill[3] = {1, 2, 3};
  const Sample m = data::mosaic({&a, &b, &c, &d}, 40, 16, 24, fill, 2.0f);
  ASSERT_EQ(m.image.width, 40);
  ASSERT_EQ(m.image.height, 40);
  // Tile 0 (top-left) has a's bottom-right corner at (16, 24): a's pixel (x, y) lands at (x - 24, y - 16).
  ASSERT_EQ(m.targets.size(), 3u);
  EXPECT_EQ(m.targets[0].label, 0);
  expect_box(m.targets[0].box, 0, 0, 12, 14);  // (20-24, 10-16, 36-24, 30-16) cut to [0,16) x [0,24)
  EXPECT_EQ(m.image.at(0, 0)[0], 200.0f);
  EXPECT_EQ(m.image.at(11, 13)[0], 200.0f);
  EXPECT_EQ(m.image.at(13, 13)[0], 10.0f);
  EXPECT_EQ(m.targets[1].label, 1);
  expect_box(m.targets[1].box, 16, 14, 26, 24);  // b's bottom-left corner at (16, 24): + (16, -16)
  EXPECT_EQ(m.image.at(17, 20)[0], 200.0f);      // b's patch, not a's
  EXPECT_EQ(m.targets[2].label, 3);
  expect_box(m.targets[2].box, 18, 26, 24, 32);  // d's top-left corner at (16, 24)
  // c (bottom-left) starts at its own top-right corner: its thin box at y 0..1 becomes y 24..25, under
  // two pixels high, and is gone; its pixels are still drawn.
  EXPECT_EQ(m.image.at(10, 24)[0], 200.0f);
  EXPECT_EQ(m.image.at(10, 26)[0], 10.0f);
  // d is 20 wide: the bottom-right quarter beyond x = 36 is not covered and keeps the fill.
  EXPECT_EQ(m.image.at(37, 30)[2], 3.0f);
  EXPECT_EQ(m.image.at(35, 30)[2], 10.0f);
}

TEST(Augment, MosaicDropsBoxesCutToASliver) {
  const Sample mostly_out = patch_sample(40, 40, {0, 0, 30, 30}, 0);  // 6 x 14 of 30 x 30 left: 9%
  const Sample half_out = patch_sample(40, 40, {14, 6, 34, 26}, 1);   // 10 x 10 of 20 x 20 left: 25%
  const Sample empty = patch_sample(40, 40, {0, 0, 0, 0}, 2);
  const float fill[3] = {0, 0, 0};
  const Sample a = data::mosaic({&mostly_out, &empty, &empty, &empty}, 40, 16, 24, fill, 1.0f);
  EXPECT_TRUE(a.targets.empty());
  const Sample b = data::mosaic({&half_out, &empty, &empty, &empty}, 40, 16, 24, fill, 1.0f);
  ASSERT_EQ(b.targets.size(), 1u);
  expect_box(b.targets[0].box, 0, 0, 10, 10);
}

TEST(Augment, MosaicRescalesTilesToTheFirstImagesSide) {
  const Sample a = patch_sample(40, 20, {0, 0, 40, 20}, 0);
  const Sample big = patch_sample(80, 80, {40, 40, 80, 80}, 1);  // halved to 40
  const float fill[3] = {0, 0, 0};
  std::mt19937 rng(5);
  const Sample m = data::random_mosaic(a, {&big, &big, &big}, fill, 1.0f, rng);
  ASSERT_EQ(m.image.width, 40);
  for (const auto& t : m.targets) {
    EXPECT_LE(t.box.width(), 20.0f + 1e-4f);  // big's 40-pixel box at half scale, possibly cut
    EXPECT_GE(t.box.x1, 0.0f);
    EXPECT_LE(t.box.x2, 40.0f);
  }
}

TEST(Augment, RandomCropHonoursTheIouConstraint) {
  data::CropParams p;
  p.min_ious = {0.5f};
  int cropped = 0;
  for (int seed = 0; seed < 40; ++seed) {
    std::mt19937 rng(seed);
    Sample s = patch_sample(50, 50, {10, 10, 40, 40});
    if (!data::random_crop(s, p, 1.0f, rng)) continue;
    ++cropped;
    // The region kept and the original box overlap by at least 0.5 IoU: the
    // box (clipped) covers at least half of the crop's area.
    const auto& b = s.targets.at(0).box;
    EXPECT_GE(b.width() * b.height(), 0.5f * s.image.width * s.image.height - 1e-3f);
  }
  EXPECT_GT(cropped, 10);
}

TEST(Augment, MultiScaleSizesAreMultiplesOfTheStepInRange) {
  data::MultiScaleParams p;
  std::mt19937 rng(1);
  std::vector<int> seen(20, 0);
  for (int i = 0; i < 500; ++i) {
    const int s = data::pick_batch_size(p, rng);
    ASSERT_GE(s, 320);
    ASSERT_LE(s, 608);
    ASSERT_EQ(s % 32, 0);
    ++seen[(s - 320) / 32];
  }
  for (int k = 0; k < 10; ++k) EXPECT_GT(seen[k], 0) << 320 + 32 * k;
  p.enabled = false;
  EXPECT_EQ(data::pick_batch_size(p, rng), 416);
}

}  // namespace
