// Weights converted once per optimizer update (backend::KeepConvertedWeights):
// while a guard lives, a bf16 convolution's converted weights are kept and
// reused, giving the same values as converting them anew; a weight written
// since (an optimizer update) is converted again; nothing is kept while
// planning, after the last guard, or for a float32 convolution (whose
// layout copies are not worth their memory).
#include "ops/backend/dnnl.h"
#include "ops/backend/kept_weights.h"
#include "ops/conv2d.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

struct Pass {
  std::vector<double> y, dx;
};

// One forward and one backward-data pass of a 3x3 convolution, the two
// readers of converted weights.
Pass pass(const Tensor& x, const Tensor& w, const Tensor& dy, const Conv2dParams& p) {
  return {conv2d_forward(x, w, Tensor(), p).to_double_vector(),
          conv2d_backward_data(dy, w, x.shape(), p).to_double_vector()};
}

class KeptWeights : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  }
  static Conv2dParams params(bool bf16 = true) { return {.stride = 1, .pad = 1, .bf16 = bf16}; }

  Tensor x = rand64({2, 32, 6, 5}, 11).to(DType::f32);
  Tensor w = rand64({48, 32, 3, 3}, 12, -0.3, 0.3).to(DType::f32);
  Tensor dy = rand64({2, 48, 6, 5}, 13).to(DType::f32);
};

TEST_F(KeptWeights, AreReusedUntilTheWeightChanges) {
  const Pass fresh = pass(x, w, dy, params());
  Pass updated;
  {
    const backend::KeepConvertedWeights keep;
    const Pass first = pass(x, w, dy, params());
    const std::size_t kept = backend::kept_conversion_count();
    EXPECT_GE(kept, 1u) << "the weights were converted for the primitives, and kept";
    const Pass again = pass(x, w, dy, params());
    EXPECT_EQ(backend::kept_conversion_count(), kept) << "reused, not converted into new copies";
    EXPECT_EQ(first.y, fresh.y);
    EXPECT_EQ(first.dx, fresh.dx);
    EXPECT_EQ(again.y, fresh.y);
    EXPECT_EQ(again.dx, fresh.dx);

    // An update in place (as the optimizer writes): the next pass reads the
    // new values.
    float* p = w.mutable_data<float>();
    for (std::int64_t i = 0; i < w.numel(); ++i) p[i] *= -0.5f;
    updated = pass(x, w, dy, params());
    EXPECT_EQ(backend::kept_conversion_count(), kept) << "converted again into the kept copies";
    EXPECT_NE(updated.y, fresh.y);
    const backend::KeepConvertedWeights nested;  // guards nest
    EXPECT_EQ(backend::kept_conversion_count(), kept);
  }
  EXPECT_EQ(backend::kept_conversion_count(), 0u) << "freed with the last guard";
  const Pass after = pass(x, w, dy, params());
  EXPECT_EQ(updated.y, after.y) << "the kept copy was converted from the updated values";
  EXPECT_EQ(updated.dx, after.dx);
  const backend::KeepConvertedWeights keep;
  const Pass kept_after = pass(x, w, dy, params());
  EXPECT_EQ(kept_after.y, after.y);
  EXPECT_EQ(kept_after.dx, after.dx);
}

TEST_F(KeptWeights, NothingIsKeptWithoutAGuardOrWhilePlanning) {
  (void)pass(x, w, dy, params());
  EXPECT_EQ(backend::kept_conversion_count(), 0u);
  const backend::KeepConvertedWeights keep;
  {
    const backend::PlanOnly plan;
    (void)conv2d_forward(x, w, Tensor(), params());
  }
  EXPECT_EQ(backend::kept_conversion_count(), 0u) << "a planned pass converts nothing to keep";
  (void)conv2d_forward(x, w, Tensor(), params());
  EXPECT_GE(backend::kept_conversion_count(), 1u);
}

TEST_F(KeptWeights, Float32ConvolutionsKeepNone) {
  const Pass fresh = pass(x, w, dy, params(false));
  const backend::KeepConvertedWeights keep;
  const Pass guarded = pass(x, w, dy, params(false));
  EXPECT_EQ(backend::kept_conversion_count(), 0u);
  EXPECT_EQ(guarded.y, fresh.y);
  EXPECT_EQ(guarded.dx, fresh.dx);
}

}  // namespace
}  // namespace ops
