#include "models/darknet_weights.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"

namespace models {
namespace {

using core::DType;
using core::Tensor;

DarknetConvTensors conv_layer(int index, int filters, int channels, int size, bool bn) {
  DarknetConvTensors l;
  l.layer_index = index;
  l.biases = Tensor::zeros({filters}, DType::f32);
  if (bn) {
    l.scales = Tensor::zeros({filters}, DType::f32);
    l.rolling_mean = Tensor::zeros({filters}, DType::f32);
    l.rolling_var = Tensor::zeros({filters}, DType::f32);
  }
  l.weights = Tensor::zeros({filters, channels, size, size}, DType::f32);
  return l;
}

std::vector<DarknetConvTensors> small_model() {
  return {conv_layer(0, 4, 3, 3, true), conv_layer(2, 2, 4, 1, false)};
}

void fill_sequence(const std::vector<DarknetConvTensors>& layers) {
  float v = 0;
  for (const auto& l : layers) {
    for (const Tensor* t : {&l.biases, &l.scales, &l.rolling_mean, &l.rolling_var, &l.weights}) {
      if (!t->defined()) continue;
      float* p = t->mutable_data<float>();
      for (std::int64_t i = 0; i < t->numel(); ++i) p[i] = v++;
    }
  }
}

TEST(DarknetWeights, LayoutIsHeaderThenBiasesScalesMeanVarWeights) {
  const auto layers = small_model();
  fill_sequence(layers);
  const std::string bytes = serialize_darknet_weights(layers, 12345);
  // Header: major 0, minor 2, revision 0, then a 64-bit seen.
  std::int32_t head[3];
  std::memcpy(head, bytes.data(), 12);
  EXPECT_EQ(head[0], 0);
  EXPECT_EQ(head[1], 2);
  EXPECT_EQ(head[2], 0);
  std::uint64_t seen;
  std::memcpy(&seen, bytes.data() + 12, 8);
  EXPECT_EQ(seen, 12345u);
  // Layer 0: 4 biases, 4 scales, 4 means, 4 variances, 108 weights; layer 1: 2 biases, 8 weights.
  ASSERT_EQ(bytes.size(), 20u + 4 * (4 * 4 + 108 + 2 + 8));
  float f;
  std::memcpy(&f, bytes.data() + 20 + 4 * 4, 4);
  EXPECT_EQ(f, 4.0f) << "scales follow the 4 biases";
  std::memcpy(&f, bytes.data() + 20 + 4 * 124, 4);
  EXPECT_EQ(f, 124.0f) << "layer 1's biases follow layer 0's weights";
}

TEST(DarknetWeights, RoundTripFillsEveryTensor) {
  const auto src = small_model();
  fill_sequence(src);
  const auto dst = small_model();
  const auto report = parse_darknet_weights(serialize_darknet_weights(src, 7), "w", dst);
  EXPECT_TRUE(report.complete());
  EXPECT_EQ(report.header.seen, 7u);
  EXPECT_EQ(dst[1].weights.to_double_vector(), src[1].weights.to_double_vector());
  EXPECT_EQ(dst[0].rolling_var.to_double_vector(), src[0].rolling_var.to_double_vector());
}

TEST(DarknetWeights, PartialFileFillsLeadingLayers) {
  const auto src = small_model();
  fill_sequence(src);
  const std::string full = serialize_darknet_weights(src, 0);
  const std::string first_only = full.substr(0, 20 + 4 * 124);
  const auto dst = small_model();
  const auto report = parse_darknet_weights(first_only, "darknet53.conv.74", dst);
  EXPECT_EQ(report.layers_filled, 1);
  EXPECT_FALSE(report.complete());
  EXPECT_EQ(dst[0].weights.to_double_vector(), src[0].weights.to_double_vector());
  EXPECT_EQ(dst[1].biases.to_double_vector(), std::vector<double>(2, 0.0));
}

TEST(DarknetWeights, OldHeaderWith32BitSeen) {
  const auto src = small_model();
  fill_sequence(src);
  std::string bytes = serialize_darknet_weights(src, 0);
  // Version 0.1 stores seen as int32: drop 4 bytes of the 64-bit field.
  const std::int32_t minor = 1, seen = 99;
  std::memcpy(bytes.data() + 4, &minor, 4);
  std::memcpy(bytes.data() + 12, &seen, 4);
  bytes.erase(16, 4);
  const auto dst = small_model();
  const auto report = parse_darknet_weights(bytes, "old.weights", dst);
  EXPECT_EQ(report.header.seen, 99u);
  EXPECT_TRUE(report.complete());
}

TEST(DarknetWeights, TruncatedInsideALayerOrOversizedIsAnError) {
  const auto src = small_model();
  const std::string full = serialize_darknet_weights(src, 0);
  const auto dst = small_model();
  try {
    parse_darknet_weights(full.substr(0, full.size() - 3), "cut.weights", dst);
    FAIL();
  } catch (const core::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cut.weights"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("cfg layer 2"), std::string::npos) << e.what();
  }
  try {
    parse_darknet_weights(full + std::string(8, '\0'), "big.weights", dst);
    FAIL();
  } catch (const core::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("8 bytes left"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_darknet_weights("abc", "tiny.weights", dst), core::IoError);
}

}  // namespace
}  // namespace models
