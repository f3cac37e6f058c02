// Weights prepared in a convolution's own layout (backend::PreparedWeights)
// are kept as a model's only copy of its folded inference weights, so they
// must read back as the values they were made from; a layout oneDNN cannot
// reorder back (Winograd's transformed weights) is refused when they are
// made, naming the shape, rather than failing at a later read.
#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"
#include "ops/backend/dnnl.h"
#include "ops/backend/context.h"
#include "ops/backend/layout.h"
#include "ops/backend/prepared_weights.h"
#include "tests/ops/cnn_test_util.h"

namespace ops {
namespace {

using namespace cnn_test;

dnnl::memory::desc blocked_weights_desc(const dnnl::memory::dims& dims) {
  return {dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::OIhw16i16o};
}

TEST(PreparedWeights, ABlockedCopyReadsBackAsTheValuesItWasMadeFrom) {
  const Tensor w = rand64({32, 16, 3, 3}, 7, -0.5, 0.5).to(DType::f32);
  const dnnl::memory::dims dims{32, 16, 3, 3};
  const dnnl::memory plain(backend::plain_md(dims), backend::context().engine(), const_cast<void*>(w.raw_data()));
  auto prepared = std::make_shared<backend::PreparedWeights>(plain, blocked_weights_desc(dims));
  const Tensor held = Tensor::from_physical(w.shape(), DType::f32, prepared);
  EXPECT_EQ(held.to_double_vector(), w.to_double_vector());
}

TEST(PreparedWeights, WinogradTransformedWeightsAreRefusedWhenMade) {
  using dnnl::memory;
  const memory::dims src{1, 64, 32, 32}, weights{64, 64, 3, 3}, dst{1, 64, 32, 32};
  const auto any = [](const memory::dims& d) { return memory::desc(d, memory::data_type::f32, memory::format_tag::any); };
  dnnl::convolution_forward::primitive_desc pd;
  try {
    pd = dnnl::convolution_forward::primitive_desc(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd,
                                        any(src), any(weights), any(dst), {1, 1}, {1, 1}, {1, 1}),
        backend::context().engine());
  } catch (const dnnl::error&) {
    GTEST_SKIP() << "no Winograd inference convolution on this CPU";
  }
  ASSERT_EQ(pd.weights_desc().data.format_kind, dnnl_format_kind_wino);
  const Tensor w = rand64({64, 64, 3, 3}, 8).to(DType::f32);
  const memory plain(backend::plain_md(weights), backend::context().engine(), const_cast<void*>(w.raw_data()));
  try {
    backend::PreparedWeights refused(plain, pd.weights_desc());
    FAIL() << "Winograd's transformed weights were prepared";
  } catch (const core::BackendError& e) {
    EXPECT_NE(std::string(e.what()).find("[64,64,3,3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Winograd"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ops
