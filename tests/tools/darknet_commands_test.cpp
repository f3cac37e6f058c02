// `yolo forward`, `yolo convert` and `yolo summary` end to end, in-process,
// on a two-head toy cfg at 64x64, and every failure those commands can meet (bad
// weights sizes, bad cfgs, bad input sizes, corrupt checkpoints) reported
// with a message instead of a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/atomic_file.h"
#include "core/npy.h"
#include "data/image.h"
#include "models/cfg_reader.h"
#include "models/darknet_weights.h"
#include "models/letterbox.h"
#include "models/model_file.h"
#include "tools/yolo/cli.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;
using core::Tensor;

// Layers: 0 conv/2, 1 maxpool, 2 conv, 3 shortcut, 4 head conv, 5 yolo
// (stride 4), 6 route back to 2, 7 upsample, 8 route -1,0, 9 head conv,
// 10 yolo (stride 2).
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

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[shortcut]
from=-2
activation=linear

[convolutional]
filters=14
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=0,1
anchors=10,13,16,30,33,23
classes=2
num=3

[route]
layers=-4

[upsample]
stride=2

[route]
layers=-1,0

[convolutional]
filters=14
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=1,2
anchors=10,13,16,30,33,23
classes=2
num=3
)";

class DarknetCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("darknet_commands_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    write(path("net.cfg"), kCfg);
    // Seeded Darknet weights with non-trivial BN statistics.
    const models::Model model = models::make_model(models::read_network_cfg(path("net.cfg")), {}, {});
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.5f, 1.5f);
    for (const auto& l : model.network->darknet_conv_tensors()) {
      for (const Tensor* t : {&l.scales, &l.rolling_var, &l.biases}) {
        if (!t->defined()) continue;
        float* p = t->mutable_data<float>();
        for (std::int64_t i = 0; i < t->numel(); ++i) p[i] = u(rng);
      }
    }
    models::save_darknet_weights(path("net.weights"), model.network->darknet_conv_tensors(), 1234);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "yolo");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }
  // Runs a command that must fail and returns its message.
  std::string fails(std::vector<std::string> args) {
    EXPECT_EQ(run(args), 1) << out_.str();
    return err_.str();
  }

  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }
  static void write(const std::string& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }
  std::string cfg_with(const std::string& from, const std::string& to, const std::string& name) {
    std::string text = kCfg;
    text.replace(text.find(from), from.size(), to);
    write(path(name), text);
    return path(name);
  }
  Tensor random_input(int h, int w) {
    std::mt19937_64 rng(3);
    Tensor x = Tensor::uniform({1, 3, h, w}, core::DType::f32, rng);
    core::write_npy(path("x.npy"), x);
    return x;
  }

  fs::path dir_;
  std::ostringstream out_, err_;
};

void expect_equal(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (std::int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]) << i;
}

TEST_F(DarknetCommands, ForwardDumpsInputHeadsAndEveryLayer) {
  const Tensor x = random_input(64, 96);  // non-square: the network takes the input's size
  ASSERT_EQ(run({"forward", "--cfg", path("net.cfg"), "--weights", path("net.weights"), "--input", path("x.npy"),
                 "--dump", path("d"), "--all-layers"}),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("4 of 4 conv layers"), std::string::npos) << out_.str();
  expect_equal(core::read_npy(path("d/input.npy")), x);
  const Tensor h0 = core::read_npy(path("d/head_0.npy"));
  const Tensor h1 = core::read_npy(path("d/head_1.npy"));
  EXPECT_EQ(h0.shape(), (core::Shape{1, 14, 16, 24}));
  EXPECT_EQ(h1.shape(), (core::Shape{1, 14, 32, 48}));
  EXPECT_FALSE(fs::exists(path("d/head_2.npy")));

  // The heads are the raw outputs of the layers before each [yolo].
  expect_equal(core::read_npy(path("d/layer_004_convolutional.npy")), h0);
  expect_equal(core::read_npy(path("d/layer_009_convolutional.npy")), h1);
  EXPECT_TRUE(fs::exists(path("d/layer_001_maxpool.npy")));
  EXPECT_TRUE(fs::exists(path("d/layer_003_shortcut.npy")));
  EXPECT_TRUE(fs::exists(path("d/layer_007_upsample.npy")));
  EXPECT_EQ(core::read_npy(path("d/layer_008_route.npy")).shape(), (core::Shape{1, 16, 32, 48}));

  // The [yolo] layer files hold Darknet's part-activated output: logistic on
  // channels 0, 1, 4, 5, 6 of each 7-channel anchor slot, w and h raw.
  const Tensor y = core::read_npy(path("d/layer_005_yolo.npy"));
  ASSERT_EQ(y.shape(), h0.shape());
  const std::int64_t plane = 16 * 24;
  for (int c = 0; c < 14; ++c) {
    const bool raw = c % 7 == 2 || c % 7 == 3;
    for (std::int64_t i = 0; i < plane; i += 37) {
      const float v = h0.data<float>()[c * plane + i];
      const float want = raw ? v : static_cast<float>(1.0 / (1.0 + std::exp(-double(v))));
      EXPECT_FLOAT_EQ(y.data<float>()[c * plane + i], want) << "channel " << c;
    }
  }
}

TEST_F(DarknetCommands, ForwardLetterboxesImagesToTheCfgOrSize) {
  data::Image im(40, 20);
  for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<float>((i * 7) % 256);
  data::write_bytes(path("im.png"), data::encode_png(im));
  ASSERT_EQ(run({"forward", "--cfg", path("net.cfg"), "--image", path("im.png"), "--dump", path("a")}), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("fresh initialisation"), std::string::npos);
  const Tensor planar = models::darknet_planar_image(40, 20, im.pixels.data());
  expect_equal(core::read_npy(path("a/input.npy")), models::darknet_letterbox(planar, 64, 64).view({1, 3, 64, 64}));

  ASSERT_EQ(run({"forward", "--cfg", path("net.cfg"), "--image", path("im.png"), "--size", "96", "--dump",
                 path("b")}),
            0)
      << err_.str();
  EXPECT_EQ(core::read_npy(path("b/input.npy")).shape(), (core::Shape{1, 3, 96, 96}));
  EXPECT_EQ(core::read_npy(path("b/head_0.npy")).shape(), (core::Shape{1, 14, 24, 24}));
}

TEST_F(DarknetCommands, ConvertRoundTripsAndCheckpointsForwardLikeWeights) {
  ASSERT_EQ(run({"convert", "--cfg", path("net.cfg"), "--weights", path("net.weights"), "--out", path("m.ckpt")}), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("seen 1234"), std::string::npos) << out_.str();
  ASSERT_EQ(run({"convert", "--cfg", path("net.cfg"), "--checkpoint", path("m.ckpt"), "--out", path("back.weights")}),
            0)
      << err_.str();
  // Parameters survive byte for byte (the header's `seen` is not kept).
  const std::string a = core::read_file(path("net.weights"));
  const std::string b = core::read_file(path("back.weights"));
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.substr(20), b.substr(20));

  random_input(64, 64);
  ASSERT_EQ(run({"forward", "--cfg", path("net.cfg"), "--weights", path("net.weights"), "--input", path("x.npy"),
                 "--dump", path("w")}),
            0);
  ASSERT_EQ(run({"forward", "--cfg", path("net.cfg"), "--weights", path("m.ckpt"), "--input", path("x.npy"),
                 "--dump", path("c")}),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("checkpoint"), std::string::npos);
  expect_equal(core::read_npy(path("w/head_1.npy")), core::read_npy(path("c/head_1.npy")));
}

TEST_F(DarknetCommands, SummaryPrintsLayersAndTotals) {
  ASSERT_EQ(run({"summary", "--cfg", path("net.cfg")}), 0) << err_.str();
  EXPECT_NE(out_.str().find("yolo"), std::string::npos);
  EXPECT_NE(out_.str().find("input: 64x64 (HxW), 11 layers"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("FLOPs per image"), std::string::npos);
  ASSERT_EQ(run({"summary", "--cfg", path("net.cfg"), "--size", "128"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("14x32x32"), std::string::npos) << out_.str();  // first head at 128
}

TEST_F(DarknetCommands, BadWeightsFilesFailWithMessages) {
  const std::string full = core::read_file(path("net.weights"));
  write(path("cut.weights"), full.substr(0, full.size() - 10));
  write(path("long.weights"), full + std::string(8, '\0'));
  random_input(64, 64);
  for (const char* command : {"forward", "convert"}) {
    const std::string cmd = command;
    std::vector<std::string> base = {cmd, "--cfg", path("net.cfg")};
    auto with = [&](const std::string& w) {
      std::vector<std::string> a = base;
      a.insert(a.end(), {"--weights", w});
      if (cmd == "forward") a.insert(a.end(), {"--input", path("x.npy"), "--dump", path("e")});
      else a.insert(a.end(), {"--out", path("e.ckpt")});
      return a;
    };
    EXPECT_NE(fails(with(path("cut.weights"))).find("truncated inside conv layer 3"), std::string::npos) << err_.str();
    EXPECT_NE(fails(with(path("long.weights"))).find("8 bytes left"), std::string::npos) << err_.str();
    EXPECT_NE(fails(with(path("missing.weights"))).find("missing.weights"), std::string::npos) << err_.str();
  }
  EXPECT_FALSE(fs::exists(path("e.ckpt")));
}

TEST_F(DarknetCommands, BadCfgsFailNamingFileLineAndKey) {
  const std::string unknown_section = cfg_with("[maxpool]", "[dropout]", "s.cfg");
  EXPECT_NE(fails({"summary", "--cfg", unknown_section}).find("s.cfg:14"), std::string::npos) << err_.str();
  const std::string unknown_key = cfg_with("filters=8\nsize=3\nstride=1", "filters=8\nsize=3\nstrides=1", "k.cfg");
  EXPECT_NE(fails({"summary", "--cfg", unknown_key}).find("unknown key 'strides'"), std::string::npos) << err_.str();
  const std::string route = cfg_with("layers=-1,0", "layers=-1,12", "r.cfg");
  EXPECT_NE(fails({"forward", "--cfg", route, "--input", path("x.npy"), "--dump", path("e")}).find("r.cfg"),
            std::string::npos);
  EXPECT_NE(err_.str().find("12"), std::string::npos) << err_.str();
  // The shortcut from layer 0 (8x32x32) onto layer 2 (8x16x16).
  const std::string shortcut = cfg_with("from=-2", "from=-3", "sc.cfg");
  EXPECT_NE(fails({"summary", "--cfg", shortcut}).find("sc.cfg"), std::string::npos);
  EXPECT_NE(err_.str().find("shortcut"), std::string::npos) << err_.str();
  EXPECT_NE(fails({"summary", "--cfg", path("nope.cfg")}).find("nope.cfg"), std::string::npos);
}

TEST_F(DarknetCommands, InputSizesThatAreNotMultiplesOf32FailWithMessages) {
  EXPECT_NE(fails({"summary", "--cfg", path("net.cfg"), "--size", "100"}).find("--size 100"), std::string::npos);
  EXPECT_NE(err_.str().find("not a multiple of 32"), std::string::npos) << err_.str();
  random_input(64, 80);
  EXPECT_NE(fails({"forward", "--cfg", path("net.cfg"), "--input", path("x.npy"), "--dump", path("e")})
                .find("64x80 (HxW) is not a multiple of 32"),
            std::string::npos)
      << err_.str();
  data::write_bytes(path("im.png"), data::encode_png(data::Image(8, 8, 100.0f)));
  EXPECT_NE(fails({"forward", "--cfg", path("net.cfg"), "--image", path("im.png"), "--size", "48", "--dump",
                   path("e")})
                .find("not a multiple of 32"),
            std::string::npos);
  const std::string odd = cfg_with("width=64", "width=70", "odd.cfg");
  EXPECT_NE(fails({"forward", "--cfg", odd, "--image", path("im.png"), "--dump", path("e")}).find("odd.cfg"),
            std::string::npos)
      << err_.str();
  // Conflicting or missing inputs.
  random_input(64, 64);
  EXPECT_NE(fails({"forward", "--cfg", path("net.cfg"), "--input", path("x.npy"), "--image", path("im.png"),
                   "--dump", path("e")})
                .find("exactly one of --image"),
            std::string::npos);
  EXPECT_NE(fails({"forward", "--cfg", path("net.cfg"), "--input", path("x.npy"), "--size", "64", "--dump",
                   path("e")})
                .find("--size applies to --image"),
            std::string::npos);
  core::write_npy(path("bad.npy"), Tensor::zeros({1, 4, 64, 64}, core::DType::f32));
  EXPECT_NE(fails({"forward", "--cfg", path("net.cfg"), "--input", path("bad.npy"), "--dump", path("e")})
                .find("expected float32 [N,3,H,W]"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(path("e")));
}

TEST_F(DarknetCommands, CorruptOrMismatchedCheckpointsFailWithMessages) {
  ASSERT_EQ(run({"convert", "--cfg", path("net.cfg"), "--weights", path("net.weights"), "--out", path("m.ckpt")}), 0);
  std::string bytes = core::read_file(path("m.ckpt"));
  bytes[bytes.size() / 2] ^= 0x5a;
  write(path("bad.ckpt"), bytes);
  random_input(64, 64);
  EXPECT_NE(fails({"forward", "--cfg", path("net.cfg"), "--weights", path("bad.ckpt"), "--input", path("x.npy"),
                   "--dump", path("e")})
                .find("corrupt"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(fails({"convert", "--cfg", path("net.cfg"), "--checkpoint", path("bad.ckpt"), "--out", path("o.weights")})
                .find("corrupt"),
            std::string::npos)
      << err_.str();
  write(path("cut.ckpt"), core::read_file(path("m.ckpt")).substr(0, 40));
  EXPECT_NE(fails({"convert", "--cfg", path("net.cfg"), "--checkpoint", path("cut.ckpt"), "--out", path("o.weights")})
                .find("cut.ckpt"),
            std::string::npos);

  // A checkpoint of another network, and the two inputs swapped.
  std::string text = kCfg;
  for (std::size_t at = text.find("filters=8"); at != std::string::npos; at = text.find("filters=8", at)) {
    text.replace(at, 9, "filters=16");
  }
  write(path("wide.cfg"), text);
  EXPECT_NE(fails({"convert", "--cfg", path("wide.cfg"), "--checkpoint", path("m.ckpt"), "--out", path("o.weights")})
                .find("conv layer 0"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(fails({"convert", "--cfg", path("net.cfg"), "--weights", path("m.ckpt"), "--out", path("o.ckpt")})
                .find("is a native checkpoint"),
            std::string::npos);
  EXPECT_NE(fails({"convert", "--cfg", path("net.cfg"), "--checkpoint", path("net.weights"), "--out",
                   path("o.weights")})
                .find("is a Darknet weights file"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(path("o.weights")));
}

}  // namespace
}  // namespace yolo
