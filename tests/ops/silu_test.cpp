// silu: float64 gradcheck, oneDNN float32 against the float64 reference,
// explicit values.
#include "ops/silu.h"

#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

OpFn silu_fn() {
  return [](Tape& t, const std::vector<Tensor>& in) { return silu(t, in[0]); };
}

TEST(Silu, Float64Gradcheck) { expect_gradcheck(silu_fn(), {rand64({2, 3, 4, 5}, 1)}); }

TEST(Silu, Float32MatchesFloat64) { expect_f32_matches_f64(silu_fn(), {rand64({2, 8, 5, 3}, 2)}, {true}, 1e-5); }

TEST(Silu, Values) {
  Tape tape;
  const Tensor y = silu(tape, Tensor::from_vector({3}, {-1.0, 0.0, 2.0}, DType::f64));
  const auto v = y.to_double_vector();
  EXPECT_NEAR(v[0], -1.0 / (1 + std::exp(1.0)), 1e-15);
  EXPECT_EQ(v[1], 0.0);
  EXPECT_NEAR(v[2], 2.0 / (1 + std::exp(-2.0)), 1e-15);
}

}  // namespace
}  // namespace ops
