// Bad input to the foundation ops raises errors that name the op and shapes.
#include <gtest/gtest.h>

#include "core/error.h"
#include "ops/binary.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"

namespace ops {
namespace {

using core::DType;
using core::ShapeError;
using core::ValueError;

template <class E, class Fn>
void expect_error(Fn&& fn, std::initializer_list<const char*> fragments) {
  try {
    fn();
    FAIL() << "no exception";
  } catch (const E& e) {
    for (const char* f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(OpErrors, MismatchedShapesInEveryBinaryOp) {
  Tape tape;
  const Tensor a = Tensor::zeros({2, 3}, DType::f32);
  const Tensor b = Tensor::zeros({4}, DType::f32);
  expect_error<ShapeError>([&] { add(tape, a, b); }, {"add", "[2,3]", "[4]"});
  expect_error<ShapeError>([&] { sub(tape, a, b); }, {"sub", "[2,3]", "[4]"});
  expect_error<ShapeError>([&] { mul(tape, a, b); }, {"mul", "[2,3]", "[4]"});
  expect_error<ShapeError>([&] { div(tape, a, b); }, {"div", "[2,3]", "[4]"});
  expect_error<ShapeError>([&] { matmul(tape, a, a); }, {"matmul", "[2,3]"});
}

TEST(OpErrors, MixedFloatDtypes) {
  Tape tape;
  expect_error<ValueError>([&] { add(tape, Tensor::zeros({2}, DType::f32), Tensor::zeros({2}, DType::f64)); },
                           {"add", "float32", "float64"});
  expect_error<ValueError>([&] { exp(tape, Tensor::zeros({2}, DType::i32)); }, {"exp", "int32"});
}

TEST(OpErrors, BadAxes) {
  Tape tape;
  const Tensor x = Tensor::zeros({2, 3}, DType::f64);
  expect_error<ShapeError>([&] { sum(tape, x, {{2}, false}); }, {"sum", "axis 2", "[2,3]"});
  expect_error<ShapeError>([&] { mean(tape, x, {{0, -2}, false}); }, {"mean", "repeated"});
  expect_error<ShapeError>([&] { permute(tape, x, {0, 0}); }, {"permute", "permutation"});
  expect_error<ShapeError>([&] { permute(tape, x, {0}); }, {"permute", "rank 2"});
  expect_error<ShapeError>([&] { transpose(tape, x, 0, 5); }, {"transpose", "axis 5"});
  expect_error<ShapeError>([&] { slice(tape, x, {3, 0, 1}); }, {"slice", "axis 3"});
  expect_error<ShapeError>([&] { slice(tape, x, {1, 2, 4}); }, {"slice", "out of bounds"});
}

TEST(OpErrors, ReshapeToADifferentElementCount) {
  Tape tape;
  const Tensor x = Tensor::zeros({2, 3}, DType::f32);
  expect_error<ShapeError>([&] { reshape(tape, x, {4, 2}); }, {"reshape", "[2,3]", "[4,2]"});
  expect_error<ShapeError>([&] { reshape(tape, x, {-1, 4}); }, {"reshape"});
  expect_error<ShapeError>([&] { reshape(tape, x, {-1, -1}); }, {"reshape", "-1"});
}

TEST(OpErrors, ConcatOfMismatchedShapes) {
  Tape tape;
  const Tensor a = Tensor::zeros({2, 3}, DType::f32);
  expect_error<ShapeError>([&] { concat(tape, {a, Tensor::zeros({3, 3}, DType::f32)}, 1); },
                           {"concat", "x1", "[3,3]", "[2,3]"});
  expect_error<ShapeError>([&] { concat(tape, {a, Tensor::zeros({2, 3, 1}, DType::f32)}, 0); }, {"concat", "x1"});
  expect_error<ValueError>([&] { concat(tape, {a, Tensor::zeros({2, 3}, DType::f64)}, 0); }, {"concat"});
  expect_error<ShapeError>([&] { concat(tape, {}, 0); }, {"concat"});
}

}  // namespace
}  // namespace ops
