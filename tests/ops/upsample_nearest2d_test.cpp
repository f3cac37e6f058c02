// upsample_nearest2d: float64 gradcheck, oneDNN float32 against the float64
// reference for several factors, explicit values, and bad input.
#include "ops/upsample_nearest2d.h"

#include "core/error.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

class UpsampleFactors : public ::testing::TestWithParam<std::int64_t> {};

OpFn up_fn(std::int64_t f) {
  return [f](Tape& t, const std::vector<Tensor>& in) { return upsample_nearest2d(t, in[0], {f}); };
}

TEST_P(UpsampleFactors, Float64Gradcheck) { expect_gradcheck(up_fn(GetParam()), {rand64({2, 3, 3, 4}, 1)}); }

TEST_P(UpsampleFactors, Float32MatchesFloat64) {
  // Copies and sums of at most f*f values: float32 rounding only.
  expect_f32_matches_f64(up_fn(GetParam()), {rand64({2, 3, 5, 3}, 2)}, {true}, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Factors, UpsampleFactors, ::testing::Values(1, 2, 3));

TEST(UpsampleNearest2d, RepeatsEachPixelAndSumsItsBlockBack) {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = Tensor::from_vector({1, 1, 1, 2}, {1.0, 2.0}, dt).set_requires_grad();
    Tape tape;
    const Tensor y = upsample_nearest2d(tape, x, {2});
    EXPECT_EQ(y.to_double_vector(), (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2}));
    tape.backward(y, Tensor::from_vector(y.shape(), {1, 2, 3, 4, 5, 6, 7, 8}, dt));
    EXPECT_EQ(x.grad().to_double_vector(), (std::vector<double>{1 + 2 + 5 + 6, 3 + 4 + 7 + 8}));
  }
}

TEST(UpsampleNearest2dErrors, BadInputNamesOpAndShapes) {
  Tape tape;
  expect_error<core::ShapeError>([&] { upsample_nearest2d(tape, Tensor::zeros({3, 4}, DType::f32), {}); },
                                 {"upsample_nearest2d", "rank", "[3,4]"});
  expect_error<core::ValueError>([&] { upsample_nearest2d(tape, Tensor::zeros({1, 1, 2, 2}, DType::f32), {0}); },
                                 {"upsample_nearest2d", "factor"});
}

}  // namespace
}  // namespace ops
