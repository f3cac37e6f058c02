// The ONNX exporter (deploy/onnx_export.h): every exported graph passes ONNX's
// own checker and strict shape inference (what Python's
// onnx.checker.check_model(full_check=True) runs), and the shapes ONNX
// infers for the outputs are the heads' shapes. The numbers themselves are
// compared with `yolo forward` in two runtimes by onnx_runtimes_check.py.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/error.h"
#include "deploy/onnx_export.h"
#include "models/cfg_reader.h"
#include "models/yolov3.h"
#include "tools/yolo/cli.h"

namespace deploy {
namespace {

namespace fs = std::filesystem;
using Shapes = std::map<std::string, std::vector<std::int64_t>>;

models::Model narrow_yolov3(bool mean_std) {
  models::YoloV3Options o;
  o.num_classes = 2;
  o.width = 1.0 / 16;
  o.input_size = 64;
  const models::GeneratedNetwork g = models::yolov3(o);
  models::ModelMeta meta;
  meta.class_names = {"disc", "square"};
  meta.input_size = 64;
  meta.mean_std = mean_std;
  return models::make_model(g.def, g.names, meta, {.init_seed = 3});
}

// A Darknet cfg using every exported layer kind: conv with and without batch
// norm, Darknet's asymmetric maxpool, shortcut, upsample, a two-layer route
// and two heads with 3 classes.
constexpr char kSmallCfg[] = R"([net]
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
stride=1

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=relu

[shortcut]
from=-2
activation=linear

[maxpool]
size=2
stride=2

[convolutional]
filters=16
size=3
stride=2
pad=1
activation=leaky

[convolutional]
filters=16
size=3
stride=2
pad=1
activation=logistic

[convolutional]
filters=16
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=0,1
anchors=10,14, 23,27, 37,58
classes=3
num=3

[route]
layers=-3

[upsample]
stride=2

[route]
layers=-1,5

[convolutional]
filters=8
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=2
anchors=10,14, 23,27, 37,58
classes=3
num=3
)";

class OnnxExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("onnx_export_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

  models::Model small_cfg_model() const {
    std::ofstream(path("small.cfg")) << kSmallCfg;
    models::ModelMeta meta;
    meta.bn_style = models::BnStyle::darknet;
    meta.class_names = {"a", "b", "c"};
    return models::make_model(models::read_network_cfg(path("small.cfg")), {}, meta, {.init_seed = 4});
  }

  fs::path dir_;
};

std::vector<std::int64_t> dims_of(const onnx::ValueInfoProto& v) {
  std::vector<std::int64_t> dims;
  for (const auto& d : v.type().tensor_type().shape().dim()) dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return dims;
}

// The checker, then strict shape inference on the model as written (a
// declared output shape that disagrees with inference throws), then on a
// copy whose outputs have no shape: what ONNX infers for them is returned.
Shapes check_and_infer_outputs(const onnx::ModelProto& model) {
  onnx::checker::check_model(model);
  const onnx::ShapeInferenceOptions strict{/*check_type=*/true, /*error_mode=*/1, /*data_prop=*/true};
  onnx::ModelProto declared = model;
  onnx::shape_inference::InferShapes(declared, onnx::OpSchemaRegistry::Instance(), strict);
  onnx::ModelProto bare = model;
  for (auto& out : *bare.mutable_graph()->mutable_output()) out.mutable_type()->mutable_tensor_type()->clear_shape();
  onnx::shape_inference::InferShapes(bare, onnx::OpSchemaRegistry::Instance(), strict);
  Shapes shapes;
  for (const auto& out : bare.graph().output()) shapes[out.name()] = dims_of(out);
  return shapes;
}

std::string metadata(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& p : m.metadata_props()) {
    if (p.key() == key) return p.value();
  }
  return "(absent)";
}

TEST_F(OnnxExportTest, BuiltInNetworkRawHeadsPassTheCheckerWithInferredShapes) {
  const models::Model model = narrow_yolov3(false);
  const OnnxExport e = export_onnx(model, {.size = 96});
  const Shapes shapes = check_and_infer_outputs(e.model);
  // 3 anchors x (5 + 2 classes) per head, grids 96/32, 96/16, 96/8.
  const Shapes expected = {{"stride_32", {1, 21, 3, 3}}, {"stride_16", {1, 21, 6, 6}}, {"stride_8", {1, 21, 12, 12}}};
  EXPECT_EQ(shapes, expected);
  ASSERT_EQ(e.outputs.size(), 3u);
  EXPECT_EQ(e.outputs[0].name, "stride_32");
  EXPECT_EQ(e.model.opset_import(0).version(), kOnnxOpset);
  EXPECT_EQ(e.model.graph().input(0).name(), "images");
  EXPECT_EQ(dims_of(e.model.graph().input(0)), (std::vector<std::int64_t>{1, 3, 96, 96}));
  EXPECT_EQ(metadata(e.model, "class_names"), R"(["disc","square"])");
  EXPECT_EQ(metadata(e.model, "anchors"), "[[[116.0,90.0],[156.0,198.0],[373.0,326.0]],[[30.0,61.0],[62.0,45.0],"
                                          "[59.0,119.0]],[[10.0,13.0],[16.0,30.0],[33.0,23.0]]]");
  EXPECT_EQ(metadata(e.model, "strides"), "[32,16,8]");
  // Without input.mean_std the image goes straight into the first conv;
  // batch norm is folded, so no BatchNormalization node exists.
  EXPECT_EQ(e.model.graph().node(0).op_type(), "Conv");
  EXPECT_EQ(e.model.graph().node(0).input(0), "images");
  for (const auto& n : e.model.graph().node()) EXPECT_NE(n.op_type(), "BatchNormalization");
}

TEST_F(OnnxExportTest, MeanStdNormalisationIsInsideTheGraph) {
  const models::Model model = narrow_yolov3(true);
  const OnnxExport e = export_onnx(model, {.size = 64});
  check_and_infer_outputs(e.model);
  const auto& nodes = e.model.graph().node();
  // A per-channel 1x1 convolution (3 groups) before the first layer.
  ASSERT_GE(nodes.size(), 2);
  EXPECT_EQ(nodes[0].op_type(), "Conv");
  EXPECT_EQ(nodes[0].input(0), "images");
  EXPECT_EQ(nodes[0].output(0), "input_normalised");
  EXPECT_EQ(nodes[1].op_type(), "Conv");
  EXPECT_EQ(nodes[1].input(0), "input_normalised");
}

TEST_F(OnnxExportTest, SmallCfgWithEveryLayerKind) {
  const OnnxExport e = export_onnx(small_cfg_model(), {.size = 128});
  const Shapes shapes = check_and_infer_outputs(e.model);
  // Head 1: 2 anchors x (5 + 3) channels after four stride-2 layers (grid
  // 128/16); head 2: 1 anchor on the upsampled grid, stride 8.
  const Shapes expected = {{"stride_16", {1, 16, 8, 8}}, {"stride_8", {1, 8, 16, 16}}};
  EXPECT_EQ(shapes, expected);
  std::map<std::string, int> ops;
  for (const auto& n : e.model.graph().node()) ++ops[n.op_type()];
  for (const char* op : {"Conv", "LeakyRelu", "Relu", "Sigmoid", "MaxPool", "Add", "Resize", "Concat"}) {
    EXPECT_GT(ops[op], 0) << op;
  }
  // Darknet's maxpool of size 2, stride 1 pads one pixel after, none before.
  for (const auto& n : e.model.graph().node()) {
    if (n.op_type() != "MaxPool" || n.attribute_size() == 0) continue;
    for (const auto& a : n.attribute()) {
      if (a.name() == "strides" && a.ints(0) == 1) {
        for (const auto& p : n.attribute()) {
          if (p.name() == "pads") {
            EXPECT_EQ(std::vector<std::int64_t>(p.ints().begin(), p.ints().end()),
                      (std::vector<std::int64_t>{0, 0, 1, 1}));
          }
        }
      }
    }
  }
}

TEST_F(OnnxExportTest, DecodedOutputWithASymbolicBatch) {
  const OnnxExport e = export_onnx(small_cfg_model(), {.size = 64, .batch = 0, .decode = true});
  const Shapes shapes = check_and_infer_outputs(e.model);
  // Rows: 4x4 cells x 2 anchors + 8x8 cells x 1 anchor; 4 + 1 + 3 per row.
  const Shapes expected = {{"detections", {-1, 4 * 4 * 2 + 8 * 8 * 1, 8}}};
  EXPECT_EQ(shapes, expected);
  const auto& in = e.model.graph().input(0).type().tensor_type().shape().dim(0);
  const auto& out = e.model.graph().output(0).type().tensor_type().shape().dim(0);
  EXPECT_EQ(in.dim_param(), "batch");
  EXPECT_EQ(out.dim_param(), "batch");
}

TEST_F(OnnxExportTest, FixedBatchAndTheFileOnDisk) {
  const OnnxExport e = export_onnx(narrow_yolov3(false), {.size = 64, .batch = 3, .decode = true});
  write_onnx(path("m.onnx"), e.model);
  onnx::checker::check_model(path("m.onnx"));  // parses the file with protobuf
  onnx::ModelProto back;
  std::ifstream in(path("m.onnx"), std::ios::binary);
  ASSERT_TRUE(back.ParseFromIstream(&in));
  const Shapes shapes = check_and_infer_outputs(back);
  const Shapes expected = {{"detections", {3, 3 * (2 * 2 + 4 * 4 + 8 * 8), 7}}};
  EXPECT_EQ(shapes, expected);
}

TEST_F(OnnxExportTest, RefusesWhatItCannotExpress) {
  const models::Model model = narrow_yolov3(false);
  try {
    export_onnx(model, {.size = 100});
    FAIL() << "size 100 accepted";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("input size 100 must be a positive multiple of 32"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(export_onnx(model, {.size = 64, .batch = -1}), core::ConfigError);

  std::ofstream(path("classifier.cfg")) << "[net]\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters=6\n"
                                           "size=1\nstride=1\npad=1\nactivation=leaky\n\n[avgpool]\n\n[yolo]\nmask=0\n"
                                           "anchors=8,8\nclasses=1\nnum=1\n";
  try {
    export_onnx(models::make_model(models::read_network_cfg(path("classifier.cfg")), {}, {}), {.size = 32});
    FAIL() << "avgpool accepted";
  } catch (const core::Error& e) {
    EXPECT_NE(std::string(e.what()).find("classifier.cfg layer 1 (avgpool, line 13) cannot be exported"),
              std::string::npos) << e.what();
  }
}

class ExportCommand : public OnnxExportTest {
 protected:
  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "yolo");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return yolo::run_cli(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }
  std::ostringstream out_, err_;
};

TEST_F(ExportCommand, WritesAModelFromACheckpointAndGivesClearErrors) {
  models::save_model_checkpoint(path("tiny.ckpt"), narrow_yolov3(false));
  ASSERT_EQ(run({"export", "--weights", path("tiny.ckpt"), "--format", "onnx", "--out", path("m.onnx")}), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("output stride_8: [1,21,8,8]"), std::string::npos) << out_.str();
  onnx::checker::check_model(path("m.onnx"));

  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--size", "100"}, "--size 100 must be a positive multiple of 32"},
      {{"--format", "tflite"}, "unknown --format 'tflite' (supported: onnx)"},
      {{"--batch", "0"}, "--batch '0': expected a positive count (e.g. 1) or 'dynamic'"},
      {{"--batch", "many"}, "--batch 'many'"},
      {{"--cfg", path("absent.cfg"), "--config", path("absent.yml")}, "at most one of --cfg"},
  };
  for (const auto& [extra, message] : bad) {
    std::vector<std::string> args = {"export", "--weights", path("tiny.ckpt"), "--out", path("bad.onnx")};
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_EQ(run(args), 1) << message;
    EXPECT_NE(err_.str().find(message), std::string::npos) << err_.str();
    EXPECT_FALSE(fs::exists(path("bad.onnx"))) << message;
  }
  std::ofstream(path("darknet.weights"), std::ios::binary) << std::string(20, '\0');
  EXPECT_EQ(run({"export", "--weights", path("darknet.weights"), "--out", path("bad.onnx")}), 1);
  EXPECT_NE(err_.str().find("give --cfg FILE.cfg too"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace deploy
