// `yolo forward --weights CHECKPOINT` without --cfg or --config (the
// checkpoint describes its network, as for `yolo detect`), and
// `forward --decode`, whose rows are the framework's decode of the heads.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/npy.h"
#include "tests/tools/inference_fixture.h"

namespace yolo {
namespace {

using core::Tensor;

class ForwardCheckpoint : public InferenceFixture {};

float logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }

TEST_F(ForwardCheckpoint, CheckpointAloneGivesTheHeadsOfItsNetwork) {
  std::mt19937_64 rng(9);
  core::write_npy(path("x.npy"), Tensor::uniform({2, 3, 64, 96}, core::DType::f32, rng));
  ASSERT_EQ(run({"forward", "--weights", path("tiny.ckpt"), "--input", path("x.npy"), "--dump", path("alone"),
                 "--decode"}),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("(checkpoint, 2 classes"), std::string::npos) << out_.str();
  // The same network and weights through --config: the same heads.
  ASSERT_EQ(run({"forward", "--config", write_config(), "--weights", path("tiny.ckpt"), "--input", path("x.npy"),
                 "--dump", path("config")}),
            0)
      << err_.str();
  for (int k = 0; k < 3; ++k) {
    const Tensor a = core::read_npy(path("alone/head_" + std::to_string(k) + ".npy"));
    const Tensor b = core::read_npy(path("config/head_" + std::to_string(k) + ".npy"));
    ASSERT_EQ(a.shape(), b.shape());
    EXPECT_EQ(a.to_double_vector(), b.to_double_vector()) << "head " << k;
  }

  // detections.npy: one row per anchor slot of every cell of every head,
  // [cx, cy, w, h (input pixels), objectness, objectness * sigmoid(class)].
  const Tensor det = core::read_npy(path("alone/detections.npy"));
  const std::int64_t rows = 3 * (2 * 3 + 4 * 6 + 8 * 12);
  ASSERT_EQ(det.shape(), (core::Shape{2, rows, 7}));
  // The first row of image 1: head 0 (stride 32), cell (0, 0), anchor slot 0
  // (anchor 6 of the COCO set, 116 x 90).
  const Tensor head = core::read_npy(path("alone/head_0.npy"));
  const std::int64_t plane = 2 * 3, per_image = 21 * plane;
  const float* h = head.data<float>() + per_image;  // image 1, channel c at h[c * plane]
  const float* r = det.data<float>() + rows * 7;
  EXPECT_NEAR(r[0], logistic(h[0]) * 32.0f, 1e-4);
  EXPECT_NEAR(r[1], logistic(h[plane]) * 32.0f, 1e-4);
  EXPECT_NEAR(r[2], std::exp(h[2 * plane]) * 116.0f, 1e-3 * r[2]);
  EXPECT_NEAR(r[3], std::exp(h[3 * plane]) * 90.0f, 1e-3 * r[3]);
  EXPECT_NEAR(r[4], logistic(h[4 * plane]), 1e-6);
  EXPECT_NEAR(r[5], logistic(h[4 * plane]) * logistic(h[5 * plane]), 1e-6);
  EXPECT_NEAR(r[6], logistic(h[4 * plane]) * logistic(h[6 * plane]), 1e-6);
}

TEST_F(ForwardCheckpoint, DarknetWeightsAloneAndTwoModelSourcesAreRefused) {
  std::ofstream(path("d.weights"), std::ios::binary) << std::string(20, '\0');
  std::mt19937_64 rng(9);
  core::write_npy(path("x.npy"), Tensor::uniform({1, 3, 64, 64}, core::DType::f32, rng));
  EXPECT_EQ(run({"forward", "--weights", path("d.weights"), "--input", path("x.npy"), "--dump", path("d")}), 1);
  EXPECT_NE(err_.str().find("--weights CHECKPOINT alone"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"forward", "--input", path("x.npy"), "--dump", path("d")}), 1);
  EXPECT_NE(err_.str().find("give --cfg FILE.cfg, --config FILE.yml, or --weights CHECKPOINT"), std::string::npos)
      << err_.str();
  EXPECT_EQ(run({"forward", "--cfg", path("n.cfg"), "--config", write_config(), "--input", path("x.npy"), "--dump",
                 path("d")}),
            1);
  EXPECT_NE(err_.str().find("give at most one of --cfg FILE.cfg and --config FILE.yml"), std::string::npos)
      << err_.str();
}

}  // namespace
}  // namespace yolo
