// Per-layer parameters and FLOPs, checked against counts worked out by hand
// for a small cfg and against the published YOLOv3-416 figure.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/cfg_file.h"
#include "models/cfg_reader.h"
#include "models/network_summary.h"
#include "models/yolov3.h"

namespace models {
namespace {

const char* kCfg = R"([net]
width=64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=2
pad=1
activation=leaky

[convolutional]
filters=14
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=0,1
anchors=10,13,16,30
classes=2
num=2
)";

TEST(NetworkSummary, CountsConvParametersAndTwiceTheMacs) {
  const NetworkDef def = cfg_to_network_def(parse_cfg_text(kCfg, "small.cfg"));
  const NetworkSummary s = summarize_network(def, 64, 64);
  ASSERT_EQ(s.layers.size(), 3u);
  // Layer 0: 8 filters of 3x3x3 = 216 weights, BN shift and scale 16; output 8x32x32.
  EXPECT_EQ(s.layers[0].parameters, 216 + 16);
  EXPECT_EQ(s.layers[0].buffers, 16);
  EXPECT_EQ(s.layers[0].flops, 2LL * 27 * 8 * 32 * 32);
  EXPECT_EQ(s.layers[0].output.c, 8);
  EXPECT_EQ(s.layers[0].output.h, 32);
  // Layer 1: 14 filters of 1x1x8 plus 14 biases, no BN.
  EXPECT_EQ(s.layers[1].parameters, 14 * 8 + 14);
  EXPECT_EQ(s.layers[1].buffers, 0);
  EXPECT_EQ(s.layers[1].flops, 2LL * 8 * 14 * 32 * 32);
  EXPECT_EQ(s.layers[2].parameters, 0);
  EXPECT_EQ(s.layers[2].type, "yolo");
  EXPECT_EQ(s.parameters, 232 + 126);
  EXPECT_EQ(s.flops, s.layers[0].flops + s.layers[1].flops);

  // At another size only FLOPs and shapes change.
  const NetworkSummary big = summarize_network(def, 128, 96);
  EXPECT_EQ(big.parameters, s.parameters);
  EXPECT_EQ(big.flops, s.flops * 3);
  EXPECT_EQ(big.layers[1].output.w, 48);

  const std::string table = format_network_summary(s, 64, 64);
  EXPECT_NE(table.find("convolutional"), std::string::npos);
  EXPECT_NE(table.find("parameters: 358"), std::string::npos) << table;
}

TEST(NetworkSummary, YoloV3At416Is65Point9GflopAndDarknetsWeightsSize) {
  const GeneratedNetwork net = yolov3(YoloV3Options{});
  const NetworkSummary s = summarize_network(net.def, 416, 416);
  // The YOLOv3 paper's 65.86 Bn FLOPs; Darknet's file is 248,007,048 bytes
  // = 20 header bytes + 62,001,757 floats (docs/darknet_format.md).
  EXPECT_NEAR(s.flops / 1e9, 65.86, 0.01);
  EXPECT_EQ(s.weights_floats(), 62001757);
}

TEST(NetworkSummary, InputsTheNetworkCannotTakeThrow) {
  // Without padding, the first 3x3/2 conv turns a 1x1 input into 0x0.
  std::string text = kCfg;
  text.replace(text.find("pad=1\nactivation=leaky"), 6, "");
  const NetworkDef def = cfg_to_network_def(parse_cfg_text(text, "nopad.cfg"));
  EXPECT_NO_THROW(summarize_network(def, 64, 64));
  EXPECT_THROW(summarize_network(def, 1, 1), core::ShapeError);
}

}  // namespace
}  // namespace models
