#include "models/model_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "models/yolov3.h"

namespace models {
namespace {

using core::DType;
using core::Tape;
using core::Tensor;

Model narrow_model(std::uint64_t seed, int classes = 2) {
  YoloV3Options o;
  o.num_classes = classes;
  o.width = 1.0 / 16;
  o.input_size = 64;
  GeneratedNetwork g = yolov3(o);
  ModelMeta meta;
  meta.class_names = classes == 2 ? std::vector<std::string>{"circle", "square"} : std::vector<std::string>(classes, "c");
  meta.bn_style = BnStyle::darknet;
  meta.input_size = 64;
  return make_model(g.def, g.names, meta, {.init_seed = seed});
}

class ModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("model_file_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(ModelFile, CheckpointIsSelfDescribing) {
  const Model a = narrow_model(1);
  save_model_checkpoint(path("a.ckpt"), a, {{"optimizer.step", Tensor::from_ints({1}, {7})}}, R"({"epoch":3})");
  const LoadedCheckpoint back = load_model_checkpoint(path("a.ckpt"));
  EXPECT_EQ(back.model.meta.class_names, a.meta.class_names);
  EXPECT_EQ(back.model.meta.bn_style, BnStyle::darknet);
  EXPECT_EQ(back.extra_json, R"({"epoch":3})");
  EXPECT_EQ(back.file.get("optimizer.step").to_int_vector(), std::vector<std::int32_t>{7});
  a.network->set_training(false);
  back.model.network->set_training(false);
  std::mt19937_64 rng(2);
  const Tensor x = Tensor::uniform({1, 3, 64, 64}, DType::f32, rng);
  Tape tape(Tape::Mode::inference);
  const auto ya = a.network->forward(tape, x).heads;
  const auto yb = back.model.network->forward(tape, x).heads;
  for (std::size_t h = 0; h < ya.size(); ++h) EXPECT_EQ(ya[h].to_double_vector(), yb[h].to_double_vector());
}

TEST_F(ModelFile, WeightsLoadTellsFormatsApartAndChecksShapes) {
  const Model a = narrow_model(1);
  const Model b = narrow_model(2);
  save_darknet_weights(path("a.weights"), a.network->darknet_conv_tensors());
  const auto s = load_weights_into(b, path("a.weights"));
  EXPECT_EQ(s.format, "darknet");
  EXPECT_EQ(s.layers_filled, 75);
  save_model_checkpoint(path("a.ckpt"), a);
  EXPECT_EQ(load_weights_into(b, path("a.ckpt")).format, "checkpoint");

  const Model other = narrow_model(3, 5);  // different head width
  try {
    load_weights_into(other, path("a.ckpt"));
    FAIL();
  } catch (const core::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("head.level0.out.conv.weight"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_weights_into(other, path("a.weights")), core::IoError);
}

}  // namespace
}  // namespace models
