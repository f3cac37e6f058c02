// Bounded NMS against Darknet's do_nms_sort: with no caps the two give the
// same detections in the same order; with caps, at most pre_nms_top_k
// candidates per class go in and at most max_dets detections come out, the
// best ones; both threads give what one gives.
#include <gtest/gtest.h>
#include <omp.h>

#include <random>

#include "core/error.h"
#include "models/detect/nms.h"

namespace models {
namespace {

// Boxes clustered so that many overlap, with random class probabilities
// above or below the threshold (decode leaves 0 below it).
std::vector<DecodedBox> random_boxes(std::size_t n, std::size_t classes, unsigned seed, float thresh) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<DecodedBox> boxes(n);
  for (DecodedBox& b : boxes) {
    b.x = 0.2f + 0.6f * unit(rng);
    b.y = 0.2f + 0.6f * unit(rng);
    b.w = 0.05f + 0.3f * unit(rng);
    b.h = 0.05f + 0.3f * unit(rng);
    b.objectness = 0.5f + 0.5f * unit(rng);
    b.prob.assign(classes, 0.0f);
    for (float& p : b.prob) {
      // Coarse scores make ties, which both methods must order alike.
      const float v = std::round(unit(rng) * 50) / 50;
      p = v > thresh ? v : 0.0f;
    }
  }
  return boxes;
}

void expect_same(const std::vector<ImageDetection>& a, const std::vector<ImageDetection>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].label, b[i].label) << i;
    EXPECT_EQ(a[i].score, b[i].score) << i;
    EXPECT_EQ(a[i].x1, b[i].x1) << i;
    EXPECT_EQ(a[i].y2, b[i].y2) << i;
  }
}

TEST(BoundedNms, WithoutCapsEqualsDarknetsNmsSort) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    const float thresh = 0.3f;
    std::vector<DecodedBox> boxes = random_boxes(400, 4, seed, thresh);
    const auto bounded = bounded_nms(boxes, 640, 480, thresh, {0.45f, 0, 0});
    nms_sort(boxes, 0.45f);
    const auto darknet = to_image_detections(boxes, 640, 480, thresh);
    SCOPED_TRACE(seed);
    EXPECT_GT(darknet.size(), 20u);
    expect_same(bounded, darknet);
  }
}

TEST(BoundedNms, CapsKeepTheBestCandidatesAndDetections) {
  const float thresh = 0.1f;
  const std::vector<DecodedBox> boxes = random_boxes(600, 3, 7, thresh);
  const auto all = bounded_nms(boxes, 100, 100, thresh, {0.45f, 0, 0});
  const auto capped = bounded_nms(boxes, 100, 100, thresh, {0.45f, 0, 10});
  ASSERT_EQ(capped.size(), 10u);
  // max_dets alone cuts the same list: the per-class early stop loses nothing.
  expect_same(capped, std::vector<ImageDetection>(all.begin(), all.begin() + 10));

  // pre_nms_top_k = 1: one candidate per class, the best, and nothing suppresses it.
  const auto one = bounded_nms(boxes, 100, 100, thresh, {0.45f, 1, 0});
  ASSERT_EQ(one.size(), 3u);
  for (const ImageDetection& d : one) {
    float best = 0;
    for (const DecodedBox& b : boxes) best = std::max(best, b.prob[static_cast<std::size_t>(d.label)]);
    EXPECT_EQ(d.score, best);
  }
  // A top-k above the candidates changes nothing.
  expect_same(bounded_nms(boxes, 100, 100, thresh, {0.45f, 100000, 0}), all);
}

TEST(BoundedNms, TwoThreadsGiveWhatOneGives) {
  const float thresh = 0.02f;
  const std::vector<DecodedBox> boxes = random_boxes(3000, 8, 3, thresh);  // above the parallel cut-off
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto serial = bounded_nms(boxes, 416, 416, thresh, {0.45f, 1000, 100});
  omp_set_num_threads(2);
  const auto parallel = bounded_nms(boxes, 416, 416, thresh, {0.45f, 1000, 100});
  omp_set_num_threads(threads);
  EXPECT_EQ(serial.size(), 100u);
  expect_same(serial, parallel);
}

TEST(BoundedNms, NoBoxesAndUnknownMethod) {
  EXPECT_TRUE(bounded_nms({}, 10, 10, 0.5f, {}).empty());
  EXPECT_EQ(parse_nms_method("darknet"), NmsMethod::darknet);
  EXPECT_EQ(parse_nms_method("bounded"), NmsMethod::bounded);
  EXPECT_THROW(parse_nms_method("greedy"), core::ConfigError);
}

}  // namespace
}  // namespace models
