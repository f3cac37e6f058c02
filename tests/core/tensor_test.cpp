#include "core/tensor.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace core {
namespace {

TEST(Tensor, CreationHelpersFillValues) {
  EXPECT_EQ(Tensor::zeros({2, 3}, DType::f32).to_double_vector(), std::vector<double>(6, 0.0));
  EXPECT_EQ(Tensor::ones({4}, DType::f64).to_double_vector(), std::vector<double>(4, 1.0));
  EXPECT_EQ(Tensor::full({2}, 7, DType::i32).to_int_vector(), (std::vector<std::int32_t>{7, 7}));
  const Tensor t = Tensor::from_vector({2, 2}, {1, 2, 3, 4}, DType::f64);
  EXPECT_EQ(t.shape(), (Shape{2, 2}));
  EXPECT_EQ(t.data<double>()[3], 4.0);
  EXPECT_EQ(Tensor::scalar(2.5, DType::f64).item(), 2.5);
}

TEST(Tensor, CopiesShareStorageAndCloneDoesNot) {
  Tensor a = Tensor::zeros({3}, DType::f32);
  Tensor b = a;
  b.mutable_data<float>()[1] = 5.0f;
  EXPECT_EQ(a.data<float>()[1], 5.0f);
  Tensor c = a.clone();
  c.mutable_data<float>()[1] = 1.0f;
  EXPECT_EQ(a.data<float>()[1], 5.0f);
  EXPECT_FALSE(c.shares_storage(a));
}

TEST(Tensor, RandomTensorsAreReproducibleFromTheirGenerator) {
  std::mt19937_64 r1(42), r2(42);
  EXPECT_EQ(Tensor::randn({10}, DType::f64, r1).to_double_vector(),
            Tensor::randn({10}, DType::f64, r2).to_double_vector());
  const auto u = Tensor::uniform({100}, DType::f32, r1, 2.0, 3.0).to_double_vector();
  for (double v : u) {
    EXPECT_GE(v, 2.0);
    EXPECT_LT(v, 3.0);
  }
}

TEST(Tensor, WrongDtypeAccessThrows) {
  const Tensor t = Tensor::zeros({2}, DType::f32);
  EXPECT_THROW(t.data<double>(), ValueError);
  EXPECT_THROW(Tensor().raw_data(), ValueError);
}

TEST(Tensor, ViewKeepsStorageAndChecksCount) {
  const Tensor t = Tensor::from_vector({2, 3}, {0, 1, 2, 3, 4, 5}, DType::f32);
  const Tensor v = t.view({3, 2});
  EXPECT_TRUE(v.shares_storage(t));
  EXPECT_THROW(t.view({4, 2}), ShapeError);
}

TEST(Tensor, WritesBumpTheVersion) {
  const Tensor t = Tensor::zeros({2}, DType::f64);
  const auto v0 = t.version();
  t.mutable_data<double>();
  EXPECT_GT(t.version(), v0);
  const auto v1 = t.version();
  t.fill_(3.0);
  EXPECT_GT(t.version(), v1);
}

TEST(Tensor, ConversionBetweenDtypes) {
  const Tensor t = Tensor::from_vector({3}, {1.5, -2.25, 3}, DType::f64);
  const Tensor f = t.to(DType::f32);
  EXPECT_EQ(f.dtype(), DType::f32);
  EXPECT_EQ(f.to_double_vector(), (std::vector<double>{1.5, -2.25, 3}));
}

TEST(Tensor, OnlyFloatingLeavesCanRequireGrad) {
  Tensor i = Tensor::zeros({2}, DType::i32);
  EXPECT_THROW(i.set_requires_grad(), ValueError);
  Tensor f = Tensor::zeros({2}, DType::f32);
  f.set_requires_grad();
  EXPECT_TRUE(f.requires_grad());
  EXPECT_TRUE(f.is_leaf());
}

TEST(Tensor, NegativeDimensionsAreRejected) { EXPECT_THROW(Tensor::zeros({2, -1}, DType::f32), ShapeError); }

}  // namespace
}  // namespace core
