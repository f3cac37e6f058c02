#include "models/darknet_network.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "models/cfg_reader.h"
#include "ops/backend/dnnl.h"

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

// Conv blocks with batch norm and leaky ReLU (folded in inference) and a
// plain head conv; the second layer (32 channels, 3x3, at half the input
// size) runs direct at 16x16 and on Winograd at 32x32 where the CPU has it
// (26x26 outputs up).
const char* kFoldedCfg = R"([net]
width=32
height=32
channels=3

[convolutional]
batch_normalize=1
filters=32
size=3
stride=2
pad=1
activation=leaky

[convolutional]
batch_normalize=1
filters=32
size=3
pad=1
activation=leaky

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

// After release_unfolded_weights the folded blocks' weights are gone, yet
// every input size (one whose second layer runs on Winograd where the
// others run direct, which reads another weights layout, included) gives
// the heads of a twin that kept them, bit for bit; reading a released
// weight, or training, throws an error naming it; the head conv, which
// does not fold, keeps its weights.
TEST(DarknetNetwork, ReleasedUnfoldedWeightsLeaveEveryInputSizesHeadsUnchanged) {
  const NetworkDef def = cfg_to_network_def(parse_cfg_text(kFoldedCfg, "folded.cfg"));
  DarknetNetwork released(def, {.init_seed = 7}), kept(def, {.init_seed = 7});
  for (DarknetNetwork* net : {&released, &kept}) {
    net->set_training(false);
    for (const auto& [name, b] : net->named_buffers()) {  // statistics other than 0 and 1
      if (name.find("running_var") != std::string::npos) b.fill_(1.7);
      if (name.find("running_mean") != std::string::npos) b.fill_(0.2);
    }
  }
  released.release_unfolded_weights();
  std::mt19937_64 rng(9);
  for (const int side : {32, 64, 32}) {
    const Tensor x = Tensor::uniform({1, 3, side, side}, DType::f32, rng);
    Tape a(Tape::Mode::inference), b(Tape::Mode::inference);
    const Tensor head = released.forward(a, x).heads.at(0);
    EXPECT_EQ(head.to_double_vector(), kept.forward(b, x).heads.at(0).to_double_vector()) << side;
  }
  released.release_unfolded_weights();  // asked again: nothing changes
  for (const int side : {64, 32}) {
    const Tensor x = Tensor::uniform({1, 3, side, side}, DType::f32, rng);
    Tape a(Tape::Mode::inference), b(Tape::Mode::inference);
    EXPECT_EQ(released.forward(a, x).heads.at(0).to_double_vector(),
              kept.forward(b, x).heads.at(0).to_double_vector()) << "after a second release, " << side;
  }
  int released_weights = 0;
  for (const auto& [name, p] : released.named_parameters()) {
    if (name.find("conv.weight") == std::string::npos) continue;
    if (name.rfind("layers.2.", 0) == 0) {
      EXPECT_NO_THROW((void)p.data<float>()) << name;  // no batch norm: not folded, kept
      continue;
    }
    ++released_weights;
    try {
      (void)p.data<float>();
      ADD_FAILURE() << name << " was still readable";
    } catch (const core::Error& e) {
      EXPECT_NE(std::string(e.what()).find(name + " was released"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(released_weights, 2);
  released.set_training(true);
  Tape tape;
  EXPECT_THROW(released.forward(tape, Tensor::zeros({1, 3, 32, 32}, DType::f32)), core::Error);
  kept.set_training(true);
  EXPECT_THROW(kept.release_unfolded_weights(), core::Error) << "refused in training mode";
}

// Every reader of a bf16 block's output in inference: a shortcut of two
// such outputs (layer 4), a channels-last block (5, 8 channels), pooling,
// upsampling and a route joining a float32 output with a bf16 one (8).
const char* kBf16ReadersCfg = R"([net]
width=32
height=32
channels=3

[convolutional]
batch_normalize=1
filters=16
size=3
pad=1
activation=leaky

[convolutional]
batch_normalize=1
filters=32
size=3
stride=2
pad=1
activation=leaky

[convolutional]
batch_normalize=1
filters=16
size=1
activation=leaky

[convolutional]
batch_normalize=1
filters=32
size=3
pad=1
activation=leaky

[shortcut]
from=-3
activation=linear

[convolutional]
batch_normalize=1
filters=8
size=1
activation=leaky

[maxpool]
size=2
stride=2

[upsample]
stride=2

[route]
layers=-1,3

[convolutional]
batch_normalize=1
filters=32
size=3
pad=1
activation=leaky

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

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return std::sqrt(diff / norm);
}

// Whether every value is a bfloat16 value (its float32 bits end in 16 zeros).
bool all_bfloat16(const std::vector<double>& values) {
  for (const double v : values) {
    const auto f = static_cast<float>(v);
    std::uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof bits);
    if ((bits & 0xFFFFu) != 0) return false;
  }
  return true;
}

// Under bf16 the network's inference forward holds the blocks' outputs and
// the shortcut's sum of two of them as bfloat16, and every reader takes
// them: the heads stay within bf16 rounding of the float32 forward's (and
// are not the float32 heads: bf16 really ran).
TEST(DarknetNetwork, Bf16InferenceHeadsStayWithinBf16RoundingOfFloat32) {
  if (!ops::backend::bf16_supported()) GTEST_SKIP() << "this CPU lacks AVX512-BF16";
  DarknetNetwork net(cfg_to_network_def(parse_cfg_text(kBf16ReadersCfg, "bf16_readers.cfg")), {.init_seed = 5});
  net.set_training(false);
  std::mt19937_64 rng(11);
  const Tensor x = Tensor::uniform({2, 3, 32, 32}, DType::f32, rng);
  Tape f32_tape(Tape::Mode::inference);
  const std::vector<double> want = net.forward(f32_tape, x).heads.at(0).to_double_vector();
  net.set_bf16(true);
  Tape bf16_tape(Tape::Mode::inference);
  const auto got = net.forward(bf16_tape, x, /*keep_all_layers=*/true);
  for (const int layer : {0, 1, 3, 4, 5, 9}) {
    EXPECT_TRUE(all_bfloat16(got.layers.at(layer).to_double_vector())) << "layer " << layer;
  }
  const std::vector<double> heads = got.heads.at(0).to_double_vector();
  ASSERT_EQ(heads.size(), want.size());
  const double difference = relative_difference(heads, want);
  EXPECT_LT(difference, 3e-2);
  EXPECT_GT(difference, 1e-5);
}

}  // namespace
}  // namespace models
