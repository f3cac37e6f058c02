// Inference path: decoding hand-made heads whose boxes are known, Darknet's
// letterbox correction on an odd margin, do_nms_sort, the final pixel boxes,
// preprocessing, Darknet's resize on tiny images, and a whole narrow model.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "models/detect/decode.h"
#include "models/detect/detector.h"
#include "models/detect/nms.h"
#include "models/detect/preprocess.h"
#include "models/letterbox.h"
#include "models/yolov3.h"

namespace models {
namespace {

using core::DType;
using core::Tensor;

double logit(double p) { return std::log(p / (1 - p)); }

// Two anchor slots (mask {0, 1}), two classes: 2 * (5 + 2) = 14 channels.
YoloLayer two_anchor_layer() {
  YoloLayer l;
  l.classes = 2;
  l.mask = {0, 1};
  l.anchors = {10, 14, 20, 30};
  return l;
}

// A [1, 14, 2, 2] head where every objectness logit is -20 (sigmoid 2e-9).
std::vector<double> empty_head() {
  std::vector<double> v(14 * 4, 0.0);
  for (int a = 0; a < 2; ++a)
    for (int loc = 0; loc < 4; ++loc) v[std::size_t((a * 7 + 4) * 4 + loc)] = -20.0;
  return v;
}

// Sets entry `e` (0..6) of anchor slot a at (row, col) of a 2x2 head.
void set(std::vector<double>& v, int a, int e, int row, int col, double value) {
  v[std::size_t((a * 7 + e) * 4 + row * 2 + col)] = value;
}

TEST(DetectDecode, HandMadeBox) {
  std::vector<double> v = empty_head();
  // Slot 1 (anchor 20x30) at row 1, col 0 of the 2x2 grid, net 64x64:
  //   x = (0 + sigmoid(0)) / 2 = 0.25
  //   y = (1 + sigmoid(logit .25)) / 2 = 0.625
  //   w = exp(ln 2) * 20 / 64 = 0.625,  h = exp(0) * 30 / 64 = 0.46875
  //   objectness 0.9; class 0: 0.9 * 0.5 = 0.45 (not > 0.5, stored as 0);
  //   class 1: 0.9 * 0.8 = 0.72.
  set(v, 1, 0, 1, 0, 0.0);
  set(v, 1, 1, 1, 0, logit(0.25));
  set(v, 1, 2, 1, 0, std::log(2.0));
  set(v, 1, 3, 1, 0, 0.0);
  set(v, 1, 4, 1, 0, logit(0.9));
  set(v, 1, 5, 1, 0, 0.0);
  set(v, 1, 6, 1, 0, logit(0.8));
  const Tensor head = Tensor::from_vector({1, 14, 2, 2}, v, DType::f32);
  const auto boxes = decode_yolo_head(head, 0, two_anchor_layer(), 64, 64, 0.5f);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].x, 0.25, 1e-6);
  EXPECT_NEAR(boxes[0].y, 0.625, 1e-6);
  EXPECT_NEAR(boxes[0].w, 0.625, 1e-6);
  EXPECT_NEAR(boxes[0].h, 0.46875, 1e-6);
  EXPECT_NEAR(boxes[0].objectness, 0.9, 1e-6);
  EXPECT_EQ(boxes[0].prob[0], 0.0f);
  EXPECT_NEAR(boxes[0].prob[1], 0.72, 1e-6);

  // A lower threshold keeps class 0 too; a float64 head decodes the same.
  const auto low = decode_yolo_head(head.to(DType::f64), 0, two_anchor_layer(), 64, 64, 0.3f);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_NEAR(low[0].prob[0], 0.45, 1e-6);
}

TEST(DetectDecode, OrderIsCellsRowMajorThenAnchorSlots) {
  std::vector<double> v = empty_head();
  // Slot 0 at (row 0, col 1), slot 1 at (row 0, col 0) and slot 0 at
  // (row 1, col 1): Darknet's order is cell (0,0) slot 1, cell (0,1) slot 0,
  // cell (1,1) slot 0. tx = 0 puts each centre in the middle of its cell.
  // Each has class 0 near certain, so its probability passes the threshold too.
  set(v, 0, 4, 0, 1, logit(0.7));
  set(v, 1, 4, 0, 0, logit(0.8));
  set(v, 0, 4, 1, 1, logit(0.6));
  set(v, 0, 5, 0, 1, 20.0);
  set(v, 1, 5, 0, 0, 20.0);
  set(v, 0, 5, 1, 1, 20.0);
  // Objectness above the threshold but no class above it: never decoded.
  set(v, 1, 4, 1, 0, logit(0.9));
  const Tensor head = Tensor::from_vector({1, 14, 2, 2}, v, DType::f32);
  const auto boxes = decode_yolo_head(head, 0, two_anchor_layer(), 64, 64, 0.5f);
  ASSERT_EQ(boxes.size(), 3u);
  EXPECT_NEAR(boxes[0].objectness, 0.8, 1e-6);
  EXPECT_NEAR(boxes[0].x, 0.25, 1e-6);
  EXPECT_NEAR(boxes[0].w, 20.0 / 64, 1e-6);  // slot 1 -> anchor 1
  EXPECT_NEAR(boxes[1].objectness, 0.7, 1e-6);
  EXPECT_NEAR(boxes[1].x, 0.75, 1e-6);
  EXPECT_NEAR(boxes[1].w, 10.0 / 64, 1e-6);  // slot 0 -> anchor 0
  EXPECT_NEAR(boxes[2].objectness, 0.6, 1e-6);
  EXPECT_NEAR(boxes[2].y, 0.75, 1e-6);
}

TEST(DetectDecode, SecondImageAndSeveralHeads) {
  std::vector<double> first = empty_head(), second = empty_head();
  set(second, 0, 4, 1, 0, logit(0.9));  // only image 1 has a box
  set(second, 0, 6, 1, 0, 20.0);        // of class 1
  std::vector<double> both = first;
  both.insert(both.end(), second.begin(), second.end());
  const Tensor head = Tensor::from_vector({2, 14, 2, 2}, both, DType::f32);
  EXPECT_TRUE(decode_yolo_head(head, 0, two_anchor_layer(), 64, 64, 0.5f).empty());
  EXPECT_EQ(decode_yolo_head(head, 1, two_anchor_layer(), 64, 64, 0.5f).size(), 1u);
  // Two heads: boxes come in head order.
  const auto boxes = decode_yolo_heads({head, head}, {two_anchor_layer(), two_anchor_layer()}, 1, 64, 64, 0.5f);
  EXPECT_EQ(boxes.size(), 2u);
}

TEST(DetectDecode, RejectsHeadsThatDoNotFitTheLayer) {
  const Tensor wrong = Tensor::zeros({1, 13, 2, 2}, DType::f32);
  EXPECT_THROW(decode_yolo_head(wrong, 0, two_anchor_layer(), 64, 64, 0.5f), core::ShapeError);
  const Tensor head = Tensor::zeros({1, 14, 2, 2}, DType::f32);
  EXPECT_THROW(decode_yolo_head(head, 1, two_anchor_layer(), 64, 64, 0.5f), core::ValueError);
  YoloLayer bad = two_anchor_layer();
  bad.mask = {0, 2};  // only two anchors
  EXPECT_THROW(decode_yolo_head(head, 0, bad, 64, 64, 0.5f), core::ValueError);
  EXPECT_THROW(decode_yolo_heads({head}, {}, 0, 64, 64, 0.5f), core::ShapeError);
}

TEST(DetectLetterbox, OddMarginGeometryAndCorrection) {
  // A 64x27 image in a 64x64 input: 64/64 = 1 < 64/27, so new 64x27; the
  // margin 37 is odd: the image is pasted at the integer y offset 18, while
  // Darknet's correction removes a real 18.5 pixels.
  const LetterboxGeometry g = letterbox_geometry(64, 27, 64, 64);
  EXPECT_EQ(g.new_w, 64);
  EXPECT_EQ(g.new_h, 27);
  EXPECT_EQ(g.dx, 0);
  EXPECT_EQ(g.dy, 18);
  // Box centred at input y 32 (0.5), 13.5 pixels tall:
  //   y = (0.5 - 18.5/64) / (27/64) = 13.5 / 27 = 0.5
  //   h = (13.5/64) * 64/27 = 0.5; x and w unchanged (no horizontal margin).
  std::vector<DecodedBox> boxes(1);
  boxes[0] = {0.25f, 0.5f, 0.125f, 13.5f / 64, 0.9f, {0.9f}};
  correct_letterbox_boxes(boxes, 64, 27, 64, 64);
  EXPECT_NEAR(boxes[0].x, 0.25, 1e-6);
  EXPECT_NEAR(boxes[0].y, 0.5, 1e-6);
  EXPECT_NEAR(boxes[0].w, 0.125, 1e-6);
  EXPECT_NEAR(boxes[0].h, 0.5, 1e-6);
}

TEST(DetectLetterbox, IntegerDivisionTruncatesTheShortSide) {
  // 100x45 into 64x64: new_h = 45*64/100 = 28.8 -> 28 (not rounded), margin
  // 36, offset 18. Wide input 100x50 into 96x64: 96/100 < 64/50, new 96x48.
  const LetterboxGeometry a = letterbox_geometry(100, 45, 64, 64);
  EXPECT_EQ(a.new_h, 28);
  EXPECT_EQ(a.dy, 18);
  const LetterboxGeometry b = letterbox_geometry(100, 50, 96, 64);
  EXPECT_EQ(b.new_w, 96);
  EXPECT_EQ(b.new_h, 48);
  EXPECT_EQ(b.dy, 8);
  // Box (x 0.5, y 0.5, w 0.5, h 0.25) in that input: y margin 8/64, so
  //   y = (0.5 - 0.125) / 0.75 = 0.5, h = 0.25 * 64/48 = 1/3.
  std::vector<DecodedBox> boxes(1);
  boxes[0] = {0.5f, 0.5f, 0.5f, 0.25f, 1.0f, {1.0f}};
  correct_letterbox_boxes(boxes, 100, 50, 96, 64);
  EXPECT_NEAR(boxes[0].y, 0.5, 1e-6);
  EXPECT_NEAR(boxes[0].h, 1.0 / 3, 1e-6);
  EXPECT_NEAR(boxes[0].w, 0.5, 1e-6);
}

TEST(DetectResize, TinyImagesByHand) {
  // 1 channel, 2 rows x 3 columns -> 2 columns x 3 rows.
  //   w_scale = (3-1)/(2-1) = 2: column 0 reads source column 0, the last
  //   column copies source column 2 -> rows [0, 2] and [3, 5].
  //   h_scale = (2-1)/(3-1) = 0.5: row 0 = [0, 2]; row 1: dy = 0.5 ->
  //   0.5*[0,2] + 0.5*[3,5] = [1.5, 3.5]; the last row: sy = 1, dy = 0 -> [3, 5].
  const Tensor src = Tensor::from_vector({1, 2, 3}, {0, 1, 2, 3, 4, 5}, DType::f32);
  EXPECT_EQ(darknet_resize(src, 2, 3).to_double_vector(), (std::vector<double>{0, 2, 1.5, 3.5, 3, 5}));
  // One row of 4 -> 3: w_scale = 1.5; column 1: sx = 1.5 -> 0.5*10 + 0.5*20.
  const Tensor row = Tensor::from_vector({1, 1, 4}, {0, 10, 20, 40}, DType::f32);
  EXPECT_EQ(darknet_resize(row, 3, 1).to_double_vector(), (std::vector<double>{0, 15, 40}));
}

TEST(DetectResize, LetterboxCanvas) {
  // A 4x2 image (W x H) into 8x8: new 8x4 at y offset 2; rows 0-1 and 6-7
  // stay 0.5. Corner-aligned resize: the first row starts with src(0,0)
  // and ends with src(3,0).
  const Tensor src = Tensor::from_vector({1, 2, 4}, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, DType::f32);
  const std::vector<double> out = darknet_letterbox(src, 8, 8).to_double_vector();
  ASSERT_EQ(out.size(), 64u);
  for (int x = 0; x < 8; ++x) {
    EXPECT_EQ(out[std::size_t(x)], 0.5);
    EXPECT_EQ(out[std::size_t(8 + x)], 0.5);
    EXPECT_EQ(out[std::size_t(48 + x)], 0.5);
    EXPECT_EQ(out[std::size_t(56 + x)], 0.5);
  }
  EXPECT_FLOAT_EQ(out[16], 0.1f);
  EXPECT_FLOAT_EQ(out[23], 0.4f);
}

TEST(DetectNms, IouOfCentreBoxes) {
  // A and D: 0.2x0.2 boxes whose centres are 0.1 apart: overlap 0.1 x 0.2,
  // union 0.04 + 0.04 - 0.02 = 0.06 -> IoU 1/3. Disjoint boxes give 0.
  const DecodedBox a{0.5f, 0.5f, 0.2f, 0.2f, 1, {}}, d{0.6f, 0.5f, 0.2f, 0.2f, 1, {}}, far{0.9f, 0.9f, 0.1f, 0.1f, 1, {}};
  EXPECT_NEAR(box_iou(a, d), 1.0 / 3, 1e-6);
  EXPECT_EQ(box_iou(a, far), 0.0f);
}

TEST(DetectNms, ClassWiseSuppression) {
  // A (p0 .9) and B (p0 .8, p1 .6) overlap with IoU 0.036/0.044 = 0.82:
  // B loses class 0 but keeps class 1, where no better box overlaps it.
  // C is far away and keeps class 0. Z has objectness 0 and is dropped.
  std::vector<DecodedBox> boxes = {
      {0.52f, 0.5f, 0.2f, 0.2f, 0.9f, {0.8f, 0.6f}},  // B (decoded first)
      {0.5f, 0.5f, 0.2f, 0.2f, 0.95f, {0.9f, 0.0f}},  // A
      {0.1f, 0.1f, 0.1f, 0.1f, 0.8f, {0.7f, 0.0f}},   // C
      {0.5f, 0.5f, 0.2f, 0.2f, 0.0f, {0.0f, 0.0f}},   // Z
  };
  nms_sort(boxes, 0.45f);
  ASSERT_EQ(boxes.size(), 3u);
  EXPECT_EQ(boxes[0].prob[0], 0.0f);
  EXPECT_FLOAT_EQ(boxes[0].prob[1], 0.6f);
  EXPECT_FLOAT_EQ(boxes[1].prob[0], 0.9f);
  EXPECT_FLOAT_EQ(boxes[2].prob[0], 0.7f);

  // With a threshold above their IoU both keep class 0.
  std::vector<DecodedBox> loose = {{0.52f, 0.5f, 0.2f, 0.2f, 0.9f, {0.8f}}, {0.5f, 0.5f, 0.2f, 0.2f, 0.95f, {0.9f}}};
  nms_sort(loose, 0.9f);
  EXPECT_FLOAT_EQ(loose[0].prob[0], 0.8f);
}

TEST(DetectNms, ImageDetectionsArePixelsSortedAndClipped) {
  // Image 200x100. Box 1: centre (0.5, 0.5), size (0.2, 0.4) -> x 80..120,
  // y 30..70, class 1 at 0.6. Box 2 hangs over the left edge: centre
  // (0.05, 0.5), w 0.2 -> x -10..30, clipped to 0..30; class 0 at 0.9.
  // Class probabilities at or under the threshold produce nothing.
  const std::vector<DecodedBox> boxes = {{0.5f, 0.5f, 0.2f, 0.4f, 0.9f, {0.3f, 0.6f}},
                                         {0.05f, 0.5f, 0.2f, 0.2f, 0.95f, {0.9f, 0.0f}}};
  const auto dets = to_image_detections(boxes, 200, 100, 0.3f);
  ASSERT_EQ(dets.size(), 2u);
  EXPECT_EQ(dets[0].label, 0);
  EXPECT_FLOAT_EQ(dets[0].score, 0.9f);
  EXPECT_FLOAT_EQ(dets[0].x1, 0.0f);
  EXPECT_NEAR(dets[0].x2, 30.0, 1e-4);
  EXPECT_NEAR(dets[0].y1, 40.0, 1e-4);
  EXPECT_EQ(dets[1].label, 1);
  EXPECT_NEAR(dets[1].x1, 80.0, 1e-4);
  EXPECT_NEAR(dets[1].y1, 30.0, 1e-4);
  EXPECT_NEAR(dets[1].x2, 120.0, 1e-4);
  EXPECT_NEAR(dets[1].y2, 70.0, 1e-4);
  // max_dets keeps the best.
  const auto best = to_image_detections(boxes, 200, 100, 0.2f, 1);
  ASSERT_EQ(best.size(), 1u);
  EXPECT_FLOAT_EQ(best[0].score, 0.9f);
}

TEST(DetectPreprocess, StretchAndNormalise) {
  // A constant image stays constant under any bilinear resize; with
  // mean_std each channel becomes (v - mean) / std.
  const Tensor image = Tensor::from_vector({3, 2, 3}, std::vector<double>(18, 0.6), DType::f32);
  ModelMeta meta;
  meta.resize = "stretch";
  meta.mean_std = true;
  const std::vector<double> out = prepare_input(image, meta, 32, 64).to_double_vector();
  ASSERT_EQ(out.size(), 3u * 32 * 64);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(out[std::size_t(k) * 32 * 64 + 100], (0.6 - meta.mean[std::size_t(k)]) / meta.std[std::size_t(k)], 1e-5);
  }
  // Letterboxed, the 0.5 canvas is normalised as well; the batch stacks images.
  meta.resize = "letterbox";
  const Tensor batch = prepare_batch({image, image}, meta, 32, 32);
  EXPECT_EQ(batch.shape(), (core::Shape{2, 3, 32, 32}));
  EXPECT_NEAR(batch.data<float>()[0], (0.5 - meta.mean[0]) / meta.std[0], 1e-5);
  meta.resize = "crop";
  EXPECT_THROW(prepare_input(image, meta, 32, 32), core::ValueError);
  meta.resize = "stretch";
  EXPECT_THROW(prepare_input(Tensor::zeros({1, 2, 2}, DType::f32), meta, 32, 32), core::ShapeError);
}

TEST(DetectBatch, NarrowModelBoxesInsideEachImage) {
  YoloV3Options o;
  o.num_classes = 3;
  o.width = 1.0 / 16;
  o.input_size = 64;
  const GeneratedNetwork g = yolov3(o);
  ModelMeta meta;
  meta.input_size = 64;
  const Model model = make_model(g.def, g.names, meta, {.init_seed = 7});
  model.network->set_training(true);
  std::mt19937_64 rng(3);
  const std::vector<Tensor> images = {Tensor::uniform({3, 40, 90}, DType::f32, rng),
                                      Tensor::uniform({3, 70, 50}, DType::f32, rng)};
  DetectOptions options = default_detect_options(model);
  EXPECT_EQ(options.net_width, 64);
  options.thresh = 0.01f;  // random weights: keep plenty of boxes
  options.max_dets = 20;
  const auto dets = detect_batch(model, images, options);
  ASSERT_EQ(dets.size(), 2u);
  EXPECT_TRUE(model.network->training());  // mode restored
  std::size_t total = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const float W = static_cast<float>(images[i].size(2)), H = static_cast<float>(images[i].size(1));
    EXPECT_LE(dets[i].size(), 20u);
    for (std::size_t j = 0; j < dets[i].size(); ++j) {
      const ImageDetection& d = dets[i][j];
      EXPECT_GE(d.x1, 0.0f);
      EXPECT_LE(d.x1, d.x2);
      EXPECT_LE(d.x2, W);
      EXPECT_GE(d.y1, 0.0f);
      EXPECT_LE(d.y1, d.y2);
      EXPECT_LE(d.y2, H);
      EXPECT_GE(d.label, 0);
      EXPECT_LT(d.label, 3);
      EXPECT_GT(d.score, 0.01f);
      if (j > 0) {
        EXPECT_GE(dets[i][j - 1].score, d.score);
      }
    }
    total += dets[i].size();
  }
  EXPECT_GT(total, 0u);
}

}  // namespace
}  // namespace models
