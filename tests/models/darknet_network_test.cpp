#include "models/darknet_network.h"

#include <gtest/gtest.h>

#include "models/cfg_reader.h"

namespace models {
namespace {

using core::DType;
using core::Tape;
using core::Tensor;

// Layer 0's output is read by a shortcut (layer 2) and by two routes (layers
// 4 and 6), so forward() may drop it only after layer 6; layer 3's output is
// read once, by the route at layer 6 as well.
const char* kFanOutCfg = R"([net]
width=32
height=32
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
pad=1
activation=leaky

[convolutional]
batch_normalize=1
filters=8
size=3
pad=1
activation=leaky

[shortcut]
from=-2
activation=linear

[convolutional]
filters=8
size=1
activation=leaky

[route]
layers=0

[convolutional]
filters=8
size=1
activation=leaky

[route]
layers=-1,0,3

[convolutional]
filters=21
size=1
activation=linear

[yolo]
mask=0,1,2
anchors=10,14,  23,27,  37,58
classes=2
num=3
)";

// Outputs read by later routes and shortcuts are dropped after their last
// reader; a forward that keeps every layer must give the same heads.
TEST(DarknetNetwork, OutputsDroppedAfterTheirLastReaderLeaveTheHeadsUnchanged) {
  for (const DType dtype : {DType::f64, DType::f32}) {
    DarknetNetwork net(cfg_to_network_def(parse_cfg_text(kFanOutCfg, "fan_out.cfg")), {.dtype = dtype});
    net.set_training(false);
    std::mt19937_64 rng(3);
    const Tensor x = Tensor::uniform({2, 3, 32, 32}, dtype, rng);
    Tape dropping(Tape::Mode::inference), keeping(Tape::Mode::inference);
    const auto dropped = net.forward(dropping, x);
    const auto kept = net.forward(keeping, x, /*keep_all_layers=*/true);
    ASSERT_EQ(dropped.heads.size(), 1u);
    ASSERT_EQ(kept.heads.size(), 1u);
    EXPECT_EQ(dropped.heads[0].to_double_vector(), kept.heads[0].to_double_vector());
    // The route at layer 6 concatenates 8 + 8 + 8 channels.
    EXPECT_EQ(kept.layers[6].size(1), 24);
  }
}

}  // namespace
}  // namespace models
