#include "models/cfg_reader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"

namespace models {
namespace {

const char* kTinyCfg = R"([net]
batch=1
width = 64
height=64
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
filters=8
size=1
stride=1
pad=1
activation=linear

[shortcut]
from=-2
activation=linear

[route]
layers = -1, 0

[upsample]
stride=2

[convolutional]
filters=21
size=1
activation=linear

[yolo]
mask = 0,1,2
anchors = 10,14,  23,27,  37,58
classes=2
num=3
ignore_thresh = .7
)";

template <class E>
void expect_error(const std::string& text, std::initializer_list<const char*> fragments) {
  try {
    const NetworkDef def = cfg_to_network_def(parse_cfg_text(text, "bad.cfg"));
    infer_shapes(def, def.net.channels, def.net.height, def.net.width);
    FAIL() << "no exception";
  } catch (const E& e) {
    for (const char* f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(CfgReader, ReadsEverySectionWithDarknetDefaults) {
  const NetworkDef def = cfg_to_network_def(parse_cfg_text(kTinyCfg, "tiny.cfg"));
  ASSERT_EQ(def.layers.size(), 8u);
  EXPECT_EQ(def.net.width, 64);
  const auto& c0 = std::get<ConvLayer>(def.layers[0].spec);
  EXPECT_EQ(c0.padding, 1);
  EXPECT_TRUE(c0.batch_normalize);
  EXPECT_EQ(c0.activation, Activation::leaky);
  const auto& c2 = std::get<ConvLayer>(def.layers[2].spec);
  EXPECT_EQ(c2.padding, 0) << "pad=1 with size 1 means no padding";
  EXPECT_EQ(std::get<ShortcutLayer>(def.layers[3].spec).from, 1);
  EXPECT_EQ(std::get<RouteLayer>(def.layers[4].spec).layers, (std::vector<int>{3, 0}));
  const auto& mp = std::get<MaxpoolLayer>(def.layers[1].spec);
  EXPECT_EQ(mp.padding, 1) << "maxpool padding defaults to size-1 in total";
  const auto& y = std::get<YoloLayer>(def.layers[7].spec);
  EXPECT_EQ(y.anchors.size(), 6u);
  EXPECT_FLOAT_EQ(y.ignore_thresh, 0.7f);
  EXPECT_EQ(std::get<ConvLayer>(def.layers[6].spec).activation, Activation::linear);
}

TEST(CfgReader, InfersShapes) {
  const NetworkDef def = cfg_to_network_def(parse_cfg_text(kTinyCfg, "tiny.cfg"));
  // Route joins layer 3 (32x32) with layer 0 (64x64): a grid mismatch.
  EXPECT_THROW(infer_shapes(def, 3, 64, 64), core::ShapeError);
}

TEST(CfgReader, CrlfFilesReadLikeLf) {
  std::string crlf;
  for (char c : std::string("[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nfilters=4\nactivation=leaky\n")) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const NetworkDef def = cfg_to_network_def(parse_cfg_text(crlf, "crlf.cfg"));
  EXPECT_EQ(std::get<ConvLayer>(def.layers[0].spec).filters, 4);
  const auto shapes = infer_shapes(def, 3, 32, 32);
  EXPECT_EQ(shapes[0].c, 4);
  EXPECT_EQ(shapes[0].h, 32);
}

TEST(CfgReader, ErrorsNameFileLineSectionAndKey) {
  const std::string net = "[net]\nwidth=32\nheight=32\nchannels=3\n";
  expect_error<core::ConfigError>(net + "[convolutional]\nfilters=4\nfliters=3\n", {"bad.cfg:7", "[convolutional]", "fliters"});
  expect_error<core::ConfigError>(net + "[convolutional]\nfilters=four\n", {"bad.cfg:6", "filters", "four"});
  expect_error<core::ConfigError>(net + "[dropout]\nprobability=.5\n", {"bad.cfg:5", "unknown section [dropout]"});
  expect_error<core::ConfigError>(net + "[convolutional]\nfilters=4\n[route]\nlayers=-3\n", {"bad.cfg:8", "layers", "-3"});
  expect_error<core::ConfigError>(net + "[convolutional]\nfilters=4\n[shortcut]\nfrom=5\n", {"[shortcut]", "5"});
  expect_error<core::ConfigError>(net + "[convolutional]\nactivation=swish\n", {"swish"});
  expect_error<core::ConfigError>(net + "[convolutional]\nfilters=4\nfilters=5\n", {"twice"});
  expect_error<core::ConfigError>("width=3\n[net]\n", {"bad.cfg:1", "before the first"});
  expect_error<core::ConfigError>("[convolutional]\nfilters=4\n", {"first section must be [net]"});
  expect_error<core::ConfigError>(net + "[convolutional]\nfilters\n", {"bad.cfg:6", "key=value"});
  expect_error<core::ConfigError>(net + "[yolo]\nmask=0,5\nnum=3\n", {"mask index 5"});
  // fuzz_cfg: a negative anchor count sized a vector (std::length_error), a huge one would allocate gigabytes.
  expect_error<core::ConfigError>(net + "[yolo]\nnum=-88\n", {"bad.cfg:5", "[yolo]", "num", "-88"});
  expect_error<core::ConfigError>(net + "[yolo]\nnum=2000000000\n", {"num", "2000000000"});
  expect_error<core::ConfigError>("[net]\nwidth=32\n[convolutional]\n", {"channels"});
}

TEST(CfgReader, SyntaxErrorsNameTheLine) {
  expect_error<core::ConfigError>("[net\nwidth=3\n", {"bad.cfg:1: malformed section header '[net'"});
  expect_error<core::ConfigError>("[net]\nwidth=\n", {"bad.cfg:2: expected key=value, got 'width='"});
}

TEST(CfgReader, ShapeErrorsNameTheLayer) {
  const std::string net = "[net]\nwidth=32\nheight=32\nchannels=3\n";
  expect_error<core::ShapeError>(net + "[convolutional]\nfilters=4\n[convolutional]\nfilters=8\n[shortcut]\nfrom=-2\n",
                                 {"layer 2", "[shortcut]", "4x32x32", "8x32x32"});
  expect_error<core::ShapeError>(net + "[convolutional]\nfilters=20\n[yolo]\nclasses=2\nnum=3\n",
                                 {"layer 1", "[yolo]", "21"});
  expect_error<core::ShapeError>(net + "[convolutional]\nfilters=4\nsize=64\n", {"too small"});
  expect_error<core::ShapeError>(net + "[convolutional]\nfilters=4\ngroups=2\n", {"groups=2"});
}

// Darknet's own cfgs, as Debian's darknet package installs them.
class DarknetCfgs : public ::testing::TestWithParam<const char*> {};

TEST_P(DarknetCfgs, ParseAndInferShapes) {
  const std::string path = std::string("/usr/share/darknet/cfg/") + GetParam();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not installed (Debian package darknet)";
  const NetworkDef def = read_network_cfg(path);
  const auto shapes = infer_shapes(def, 3, 416, 416);
  std::vector<int> yolo_grids;
  for (std::size_t i = 0; i < def.layers.size(); ++i) {
    if (const auto* y = std::get_if<YoloLayer>(&def.layers[i].spec)) {
      yolo_grids.push_back(shapes[i].h);
      EXPECT_EQ(shapes[i].c, static_cast<int>(y->mask.size()) * (y->classes + 5));
    }
  }
  const std::string name = GetParam();
  if (name == "darknet53.cfg") {
    EXPECT_EQ(def.layers.size(), 78u);
    EXPECT_TRUE(yolo_grids.empty());
    EXPECT_EQ(shapes[73].c, 1024);
  } else if (name == "yolov3-tiny.cfg") {
    EXPECT_EQ(yolo_grids, (std::vector<int>{13, 26}));
  } else {
    EXPECT_EQ(yolo_grids, (std::vector<int>{13, 26, 52}));
  }
  // 320 is a multiple of 32 as well; 400 is not and must fail at a route.
  EXPECT_NO_THROW(infer_shapes(def, 3, 320, 320));
  if (!yolo_grids.empty()) {
    EXPECT_THROW(infer_shapes(def, 3, 400, 400), core::ShapeError);
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, DarknetCfgs,
                         ::testing::Values("yolov3.cfg", "yolov3-voc.cfg", "yolov3-tiny.cfg", "yolov3-spp.cfg",
                                           "darknet53.cfg"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace models
