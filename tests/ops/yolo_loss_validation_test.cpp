// Every argument error of yolo_loss, each starting from the valid worked
// example and breaking one thing, plus cases with two faults that pin the
// order of the checks (docs/yolo_loss.md, 'Argument checks, in order').
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "core/error.h"
#include "tests/ops/yolo_loss_test_util.h"

namespace ops::yolo_test {
namespace {

enum class Kind { shape, value };

struct Broken {
  const char* name;
  std::function<void(Case&)> mutate;
  Kind kind;
  std::vector<std::string> message_parts;
};

void PrintTo(const Broken& b, std::ostream* os) { *os << b.name; }

class YoloLossValidation : public ::testing::TestWithParam<Broken> {};

TEST_P(YoloLossValidation, ThrowsNamingArgumentExpectedAndActual) {
  Case c = worked_example();
  GetParam().mutate(c);
  Tape tape;
  try {
    yolo_loss(tape, c.x, c.box, c.label, c.p, c.score);
    FAIL() << "no error";
  } catch (const core::ShapeError& e) {
    EXPECT_EQ(GetParam().kind, Kind::shape) << e.what();
    for (const auto& part : GetParam().message_parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  } catch (const core::ValueError& e) {
    EXPECT_EQ(GetParam().kind, Kind::value) << e.what();
    for (const auto& part : GetParam().message_parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

Tensor zeros(const Shape& s, DType t = DType::f64) { return Tensor::zeros(s, t); }

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<Broken> broken_inputs() {
  return {
      // The original's checks, in its order.
      {"x_not_4d", [](Case& c) { c.x = zeros({12, 2, 2}); }, Kind::shape, {"yolo_loss: x must be 4-D", "[12,2,2]"}},
      {"x_not_square", [](Case& c) { c.x = zeros({1, 12, 2, 3}); }, Kind::shape, {"H == W", "H = 2", "W = 3"}},
      {"x_channels", [](Case& c) { c.x = zeros({1, 11, 2, 2}); }, Kind::shape,
       {"x dim 1 must be len(anchor_mask) * (5 + class_num) = 2 * (5 + 1)", "got 11"}},
      {"gt_box_not_3d", [](Case& c) { c.box = zeros({1, 4}); }, Kind::shape, {"gt_box must be 3-D", "[1,4]"}},
      {"gt_box_not_4_wide", [](Case& c) { c.box = zeros({1, 1, 5}); }, Kind::shape, {"gt_box dim 2 must be 4", "got 5"}},
      {"gt_label_not_2d", [](Case& c) { c.label = Tensor::from_ints({1}, {0}); }, Kind::shape,
       {"gt_label must be 2-D", "[1]"}},
      {"gt_label_batch", [](Case& c) { c.label = Tensor::from_ints({2, 1}, {0, 0}); }, Kind::shape,
       {"gt_label dim 0 must equal gt_box dim 0 = 1, got 2"}},
      {"gt_label_rows", [](Case& c) { c.label = Tensor::from_ints({1, 2}, {0, 0}); }, Kind::shape,
       {"gt_label dim 1 must equal gt_box dim 1 = 1, got 2"}},
      {"anchors_empty", [](Case& c) { c.p.anchors = {}; }, Kind::value, {"anchors must not be empty"}},
      {"anchors_odd", [](Case& c) { c.p.anchors = {10, 13, 16}; }, Kind::value, {"even count, got 3", "[10, 13, 16]"}},
      {"anchor_mask_too_big", [](Case& c) { c.p.anchor_mask = {0, 2}; }, Kind::value,
       {"anchor_mask[1] must be < the number of anchors 2, got 2"}},
      {"class_num_zero", [](Case& c) { c.p.class_num = 0; c.x = zeros({1, 10, 2, 2}); }, Kind::value,
       {"class_num must be > 0, got 0"}},
      {"class_num_negative", [](Case& c) { c.p.class_num = -1; c.x = zeros({1, 8, 2, 2}); }, Kind::value,
       {"class_num must be > 0, got -1"}},
      {"gt_score_rank", [](Case& c) { c.score = zeros({1}); }, Kind::shape, {"gt_score must be [N, B] = [1,1]", "[1]"}},
      {"gt_score_batch", [](Case& c) { c.score = zeros({2, 1}); }, Kind::shape, {"gt_score", "got shape [2,1]"}},
      {"gt_score_rows", [](Case& c) { c.score = zeros({1, 3}); }, Kind::shape, {"gt_score", "got shape [1,3]"}},
      // Dtypes.
      {"x_int", [](Case& c) { c.x = zeros({1, 12, 2, 2}, DType::i32); }, Kind::value,
       {"x must be float32 or float64", "int32[1,12,2,2]"}},
      {"gt_box_dtype", [](Case& c) { c.box = c.box.to(DType::f32); }, Kind::value,
       {"gt_box must have x's dtype float64", "float32[1,1,4]"}},
      {"gt_label_dtype", [](Case& c) { c.label = zeros({1, 1}); }, Kind::value, {"gt_label must be int32", "float64[1,1]"}},
      {"gt_score_dtype", [](Case& c) { c.score = zeros({1, 1}, DType::f32); }, Kind::value,
       {"gt_score must have x's dtype float64", "float32[1,1]"}},
      // This project's rejections.
      {"gt_box_batch_differs_from_x",
       [](Case& c) {
         c.box = f64({2, 1, 4}, {0.3, 0.6, 0.5, 0.8, 0.3, 0.6, 0.5, 0.8});
         c.label = Tensor::from_ints({2, 1}, {0, 0});
       },
       Kind::shape, {"gt_box dim 0 (batch) must equal x dim 0 = 1, got 2"}},
      {"anchor_mask_negative", [](Case& c) { c.p.anchor_mask = {-1, 0}; }, Kind::value,
       {"anchor_mask[0] must be >= 0, got -1"}},
      {"anchor_zero", [](Case& c) { c.p.anchors = {10, 0, 16, 30}; }, Kind::value,
       {"anchors must be > 0 pixels, got anchors[1] = 0"}},
      {"anchor_negative", [](Case& c) { c.p.anchors = {10, 13, -16, 30}; }, Kind::value, {"anchors[2] = -16"}},
      {"downsample_ratio_zero", [](Case& c) { c.p.downsample_ratio = 0; }, Kind::value,
       {"downsample_ratio must be > 0, got 0"}},
      {"centre_x_one", [](Case& c) { c.box = f64({1, 1, 4}, {1.0, 0.6, 0.5, 0.8}); }, Kind::value,
       {"gt_box[0, 0]", "centre (1, 0.6)", "[0, 1)"}},
      {"centre_y_negative", [](Case& c) { c.box = f64({1, 1, 4}, {0.3, -0.01, 0.5, 0.8}); }, Kind::value,
       {"gt_box[0, 0]", "(0.3, -0.01)"}},
      {"centre_nan", [](Case& c) { c.box = f64({1, 1, 4}, {kNaN, 0.5, 0.5, 0.8}); }, Kind::value, {"gt_box[0, 0]"}},
      {"centre_in_second_row",
       [](Case& c) {
         c.box = f64({1, 2, 4}, {0.3, 0.6, 0.5, 0.8, 0.5, 1.5, 0.1, 0.1});
         c.label = Tensor::from_ints({1, 2}, {0, 0});
       },
       Kind::value, {"gt_box[0, 1]", "(0.5, 1.5)"}},
      // Order: the earlier check wins when two fail.
      {"order_x_before_anchors", [](Case& c) { c.x = zeros({12, 2, 2}); c.p.anchors = {}; }, Kind::shape,
       {"x must be 4-D"}},
      {"order_channels_before_class_num", [](Case& c) { c.p.class_num = 0; }, Kind::shape, {"x dim 1"}},
      {"order_upper_bound_before_negative", [](Case& c) { c.p.anchor_mask = {-1, 5}; }, Kind::value,
       {"anchor_mask[1] must be < the number of anchors 2, got 5"}},
      {"order_spec_before_batch", [](Case& c) { c.p.anchors = {};
                                                c.box = zeros({2, 1, 4});
                                                c.label = Tensor::from_ints({2, 1}, {0, 0}); },
       Kind::value, {"anchors must not be empty"}},
      {"order_dtype_before_project", [](Case& c) { c.p.downsample_ratio = 0; c.label = zeros({1, 1}); }, Kind::value,
       {"gt_label must be int32"}},
  };
}

INSTANTIATE_TEST_SUITE_P(AllErrors, YoloLossValidation, ::testing::ValuesIn(broken_inputs()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(YoloLossValidationAccepts, WhatTheSpecCallsNotAnError) {
  Case c = worked_example();
  Tape tape(Tape::Mode::inference);
  // A padding row may have any centre; labels out of range, odd scores,
  // sizes above 1 and duplicate mask entries are all defined behaviour.
  c.box = f64({1, 3, 4}, {0.3, 0.6, 0.5, 0.8, 7.0, -3.0, 0.0, 0.0, 0.9, 0.1, 1.5, 1.2});
  c.label = Tensor::from_ints({1, 3}, {5, 0, -2});
  c.score = f64({1, 3}, {-2.0, 0.0, 3.0});
  EXPECT_NO_THROW(yolo_loss(tape, c.x, c.box, c.label, c.p, c.score));
  c.p.anchor_mask = {1, 1};
  EXPECT_NO_THROW(yolo_loss(tape, c.x, c.box, c.label, c.p, c.score));
}

}  // namespace
}  // namespace ops::yolo_test
