// k-means anchors with the 1 - IoU distance.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "data/anchors.h"

namespace {

TEST(Anchors, ShapeIouOfCentredBoxes) {
  EXPECT_FLOAT_EQ(data::shape_iou({10, 10}, {10, 10}), 1.0f);
  EXPECT_FLOAT_EQ(data::shape_iou({10, 10}, {5, 10}), 0.5f);
  EXPECT_FLOAT_EQ(data::shape_iou({4, 1}, {1, 4}), 1.0f / 7.0f);
}

TEST(Anchors, KmeansRecoversThreeClustersSortedByArea) {
  std::mt19937 rng(2);
  std::normal_distribution<float> jitter(1.0f, 0.03f);
  std::vector<data::Anchor> shapes;
  const data::Anchor truth[3] = {{200, 150}, {12, 20}, {60, 40}};
  for (int i = 0; i < 300; ++i) {
    const auto& t = truth[i % 3];
    shapes.push_back({t.w * jitter(rng), t.h * jitter(rng)});
  }
  const auto r = data::kmeans_anchors(shapes, 3, 7);
  ASSERT_EQ(r.anchors.size(), 3u);
  EXPECT_NEAR(r.anchors[0].w, 12, 1.0);
  EXPECT_NEAR(r.anchors[0].h, 20, 1.0);
  EXPECT_NEAR(r.anchors[1].w, 60, 3.0);
  EXPECT_NEAR(r.anchors[2].h, 150, 6.0);
  EXPECT_GT(r.mean_best_iou, 0.9);
  EXPECT_DOUBLE_EQ(r.mean_best_iou, data::mean_best_iou(shapes, r.anchors));
}

TEST(Anchors, BoxShapesScaleToTheInputSizeAndSkipCrowdAndDifficult) {
  data::Dataset ds;
  data::ImageRecord r;
  r.width = 200;
  r.height = 100;
  r.objects.push_back({{0, 0, 50, 50}, 0});
  data::Object crowd{{0, 0, 10, 10}, 0};
  crowd.crowd = true;
  data::Object hard{{0, 0, 10, 10}, 0};
  hard.difficult = true;
  r.objects.push_back(crowd);
  r.objects.push_back(hard);
  ds.images.push_back(r);
  const auto shapes = data::box_shapes(ds, 400);
  ASSERT_EQ(shapes.size(), 1u);
  EXPECT_FLOAT_EQ(shapes[0].w, 100);
  EXPECT_FLOAT_EQ(shapes[0].h, 200);
  EXPECT_THROW(data::kmeans_anchors(shapes, 2, 0), core::ValueError);
}

}  // namespace
