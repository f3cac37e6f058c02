#include "core/broadcast.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace core {
namespace {

TEST(Broadcast, ShapesFollowNumpyRules) {
  EXPECT_EQ(broadcast_shapes("t", {2, 1, 3}, {4, 1}), (Shape{2, 4, 3}));
  EXPECT_EQ(broadcast_shapes("t", {}, {5}), (Shape{5}));
  EXPECT_THROW(broadcast_shapes("t", {2, 3}, {4}), ShapeError);
}

TEST(Broadcast, ErrorNamesOpAndShapes) {
  try {
    broadcast_shapes("add", {2, 3}, {4});
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("add"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[2,3]"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[4]"), std::string::npos);
  }
}

TEST(Broadcast, ExpandRepeatsAlongStretchedAxes) {
  const Tensor x = Tensor::from_vector({2, 1}, {1, 2}, DType::f64);
  EXPECT_EQ(broadcast_to(x, {2, 3}).to_double_vector(), (std::vector<double>{1, 1, 1, 2, 2, 2}));
  const Tensor row = Tensor::from_vector({3}, {1, 2, 3}, DType::f32);
  EXPECT_EQ(broadcast_to(row, {2, 3}).to_double_vector(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  EXPECT_THROW(broadcast_to(row, {2, 4}), ShapeError);
}

TEST(Broadcast, SumToShapeReducesStretchedAndLeadingAxes) {
  const Tensor g = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}, DType::f64);
  EXPECT_EQ(sum_to_shape(g, {2, 1}).to_double_vector(), (std::vector<double>{6, 15}));
  EXPECT_EQ(sum_to_shape(g, {3}).to_double_vector(), (std::vector<double>{5, 7, 9}));
  EXPECT_EQ(sum_to_shape(g, {}).to_double_vector(), (std::vector<double>{21}));
  EXPECT_THROW(sum_to_shape(g, {4}), ShapeError);
}

TEST(Broadcast, SumAxesWithAndWithoutKeepdim) {
  const Tensor x = Tensor::from_vector({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}, DType::f64);
  const std::vector<int> axes{0, 2};
  const Tensor k = sum_axes(x, axes, true);
  EXPECT_EQ(k.shape(), (Shape{1, 2, 1}));
  EXPECT_EQ(k.to_double_vector(), (std::vector<double>{14, 22}));
  EXPECT_EQ(sum_axes(x, axes, false).shape(), (Shape{2}));
}

TEST(Broadcast, AddInplaceAccumulates) {
  const Tensor a = Tensor::ones({3}, DType::f32);
  add_inplace(a, Tensor::full({3}, 2, DType::f32));
  EXPECT_EQ(a.to_double_vector(), (std::vector<double>{3, 3, 3}));
  EXPECT_THROW(add_inplace(a, Tensor::ones({2}, DType::f32)), ShapeError);
  EXPECT_THROW(add_inplace(a, Tensor::ones({3}, DType::f64)), ValueError);
}

}  // namespace
}  // namespace core
