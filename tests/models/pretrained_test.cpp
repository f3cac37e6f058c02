// Loading a file trained for another class count (or another network):
// what matches by name and shape is copied, the rest keeps the fresh
// initialisation, and a file that matches too little is refused.
#include "models/pretrained.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "models/cfg_file.h"
#include "models/cfg_reader.h"
#include "models/yolov3.h"

namespace models {
namespace {

using core::Tensor;

Model narrow_model(std::uint64_t seed, int classes, double width = 1.0 / 16) {
  YoloV3Options o;
  o.num_classes = classes;
  o.width = width;
  o.input_size = 64;
  GeneratedNetwork g = yolov3(o);
  ModelMeta meta;
  for (int c = 0; c < classes; ++c) meta.class_names.push_back("class" + std::to_string(c));
  meta.input_size = 64;
  return make_model(g.def, g.names, meta, {.init_seed = seed});
}

std::vector<double> values_of(const Model& m, const std::string& name) {
  for (const auto& [n, t] : m.network->state()) {
    if (n == name) return t.to_double_vector();
  }
  ADD_FAILURE() << "no tensor " << name;
  return {};
}

bool is_head_output(const std::string& name) { return name.find(".out.conv.") != std::string::npos; }

class Pretrained : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pretrained_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Loads `file` into a fresh model of `classes` classes and checks that
  // exactly the head outputs were skipped (with both shapes), that loaded
  // tensors equal the source's and skipped ones the fresh model's.
  PretrainedLoad check_class_change(const Model& source, const std::string& file, int classes) {
    const Model target = narrow_model(/*seed=*/9, classes);
    const Model fresh = narrow_model(/*seed=*/9, classes);
    const PretrainedLoad load = load_pretrained(target, file);
    EXPECT_EQ(load.skipped.size(), 6u);  // weight and bias of three output convs
    for (const SkippedTensor& s : load.skipped) {
      EXPECT_TRUE(is_head_output(s.name)) << s.name;
      EXPECT_EQ(s.model_shape[0], 3 * (classes + 5)) << s.name;
      EXPECT_TRUE(s.file_shape.has_value() && *s.file_shape != s.model_shape) << s.name;
    }
    for (const auto& [name, t] : target.network->state()) {
      if (is_head_output(name)) {
        EXPECT_EQ(t.to_double_vector(), values_of(fresh, name)) << name;
      } else {
        EXPECT_EQ(t.to_double_vector(), values_of(source, name)) << name;
      }
    }
    EXPECT_GT(load.loaded_share(), 0.8);
    EXPECT_LT(load.loaded_share(), 1.0);
    EXPECT_EQ(load.loaded_tensors + static_cast<int>(load.skipped.size()),
              static_cast<int>(target.network->state().size()));
    return load;
  }
  std::filesystem::path dir_;
};

TEST_F(Pretrained, CheckpointFromSixClassesToThree) {
  const Model six = narrow_model(1, 6);
  save_model_checkpoint(path("six.ckpt"), six);
  const PretrainedLoad load = check_class_change(six, path("six.ckpt"), 3);
  EXPECT_EQ(load.format, "checkpoint");
  EXPECT_EQ(load.file_class_names, six.meta.class_names);
  const std::string table = describe_pretrained_load(load, {"a", "b", "c"});
  EXPECT_NE(table.find("skipped 6 tensors"), std::string::npos) << table;
  EXPECT_NE(table.find("[33,"), std::string::npos) << table;  // the file's 3 x (6 + 5) filters
  EXPECT_NE(table.find("[24,"), std::string::npos) << table;  // the model's 3 x (3 + 5)
  EXPECT_NE(table.find("a, b, c"), std::string::npos) << table;
}

TEST_F(Pretrained, CheckpointFromThreeClassesToSix) {
  const Model three = narrow_model(2, 3);
  save_model_checkpoint(path("three.ckpt"), three);
  EXPECT_EQ(check_class_change(three, path("three.ckpt"), 6).file_classes, 3);
}

TEST_F(Pretrained, DarknetWeightsOfAnotherClassCount) {
  for (const auto& [from, to] : {std::pair{6, 3}, std::pair{3, 6}}) {
    const Model source = narrow_model(3, from);
    const std::string file = path("source.weights");
    save_darknet_weights(file, source.network->darknet_conv_tensors());
    const PretrainedLoad load = check_class_change(source, file, to);
    EXPECT_EQ(load.format, "darknet");
    EXPECT_EQ(load.file_classes, from);
  }
}

TEST_F(Pretrained, SameNetworkLoadsEverything) {
  const Model a = narrow_model(4, 3);
  save_model_checkpoint(path("a.ckpt"), a);
  const Model b = narrow_model(5, 3);
  const PretrainedLoad load = load_pretrained(b, path("a.ckpt"));
  EXPECT_TRUE(load.skipped.empty());
  EXPECT_DOUBLE_EQ(load.loaded_share(), 1.0);
  for (const auto& [name, t] : b.network->state()) EXPECT_EQ(t.to_double_vector(), values_of(a, name)) << name;
}

TEST_F(Pretrained, MovingAverageWeightsArePreferred) {
  const Model a = narrow_model(4, 3);
  std::vector<std::pair<std::string, Tensor>> ema;
  for (const auto& [name, p] : a.network->named_parameters()) {
    Tensor half = p.clone();
    float* v = half.mutable_data<float>();
    for (std::int64_t k = 0; k < half.numel(); ++k) v[k] *= 0.5f;
    ema.emplace_back("ema." + name, half);
  }
  save_model_checkpoint(path("a.ckpt"), a, ema);
  const Model b = narrow_model(5, 3);
  load_pretrained(b, path("a.ckpt"));
  const auto params = b.network->named_parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].second.to_double_vector(), ema[i].second.to_double_vector()) << params[i].first;
  }
  // Inference loads take the same weights.
  const LoadedCheckpoint back = load_model_checkpoint(path("a.ckpt"));
  EXPECT_EQ(back.model.network->named_parameters()[0].second.to_double_vector(), ema[0].second.to_double_vector());
}

TEST_F(Pretrained, BackboneOnlyDarknetFileFillsTheLeadingLayers) {
  const Model a = narrow_model(6, 3);
  std::vector<DarknetConvTensors> layers = a.network->darknet_conv_tensors();
  layers.resize(52);  // Darknet-53's convolutions, as darknet53.conv.74 holds
  save_darknet_weights(path("backbone.weights"), layers);
  const Model b = narrow_model(7, 3);
  const PretrainedLoad load = load_pretrained(b, path("backbone.weights"));
  EXPECT_GT(load.loaded_tensors, 0);
  for (const SkippedTensor& s : load.skipped) EXPECT_FALSE(s.file_shape.has_value()) << s.name;
  const std::string first = a.network->state().front().first;
  EXPECT_EQ(values_of(b, first), values_of(a, first));
}

TEST_F(Pretrained, AnotherWidthIsRefusedNamingTheFile) {
  const Model wide = narrow_model(1, 3, 1.0 / 8);
  save_model_checkpoint(path("wide.ckpt"), wide);
  save_darknet_weights(path("wide.weights"), wide.network->darknet_conv_tensors());
  const Model target = narrow_model(2, 3);
  const std::string first = target.network->state().front().first;
  const std::vector<double> before = values_of(target, first);
  for (const std::string& file : {path("wide.ckpt"), path("wide.weights")}) {
    try {
      load_pretrained(target, file);
      ADD_FAILURE() << file << " was accepted";
    } catch (const core::IoError& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      // A checkpoint is matched by name and refused by the share; a .weights
      // file of no class count of this network is refused by its size.
      const bool named = file.ends_with(".ckpt");
      EXPECT_NE(std::string(e.what()).find(named ? "under the 50% a fine-tune needs" : "belong to a different network"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(values_of(target, first), before);  // nothing copied before the refusal
}

TEST(NetworkDefClasses, CfgClassCountChangesHeadsAndTheirConvs) {
  const NetworkDef def = cfg_to_network_def(parse_cfg_text(R"(
[net]
width=64
height=64
channels=3
[convolutional]
filters=8
size=3
stride=2
pad=1
activation=leaky
[convolutional]
filters=255
size=1
activation=linear
[yolo]
mask=0,1,2
anchors=10,14, 23,27, 37,58
classes=80
num=3
)",
                                                              "tiny.cfg"));
  EXPECT_EQ(yolo_class_count(def), 80);
  const NetworkDef three = with_class_count(def, 3);
  EXPECT_EQ(yolo_class_count(three), 3);
  EXPECT_EQ(std::get<ConvLayer>(three.layers[1].spec).filters, 24);
  EXPECT_EQ(std::get<ConvLayer>(three.layers[0].spec).filters, 8);
  EXPECT_NO_THROW(infer_shapes(three, 3, 64, 64));

  NetworkDef broken = def;
  std::get<ConvLayer>(broken.layers[1].spec).filters = 256;
  try {
    with_class_count(broken, 3);
    ADD_FAILURE() << "a [yolo] layer after 256 filters was resized";
  } catch (const core::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("tiny.cfg: the [yolo] layer 2 (line"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace models
