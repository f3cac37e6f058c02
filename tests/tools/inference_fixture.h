// Shared by the `yolo detect` and model-mode `yolo eval` tests: a temporary
// folder with a tiny shapes data set (64-pixel images, 2 classes) and a
// narrow YOLOv3 checkpoint (width 1/16, input 64) with random weights, plus
// an in-process runner for the command line.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "data/shapes.h"
#include "data/shapes_writer.h"
#include "models/model_file.h"
#include "models/yolov3.h"
#include "tools/yolo/cli.h"

namespace yolo {

class InferenceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("inference_test_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    data::ShapesOptions shapes;
    shapes.out = path("shapes");
    shapes.images = 20;  // 16 train, 2 val, 2 test
    shapes.classes = 2;
    shapes.size = 64;
    shapes.seed = 5;
    std::ostringstream log;
    data::write_shapes_dataset(shapes, log);

    models::YoloV3Options o;
    o.num_classes = 2;
    o.width = 1.0 / 16;
    o.input_size = 64;
    const models::GeneratedNetwork g = models::yolov3(o);
    models::ModelMeta meta;
    meta.class_names = data::shape_class_names(2);
    meta.input_size = 64;
    const models::Model model = models::make_model(g.def, g.names, meta, {.init_seed = 11});
    models::save_model_checkpoint(path("tiny.ckpt"), model);
  }
  // A training config describing the same narrow model and data set.
  std::string write_config() const {
    const std::string file = path("tiny.yml");
    std::ofstream(file) << "model:\n  width: 0.0625\n  input_size: 64\ndata:\n  train: voc:" << path("shapes/voc")
                        << ":train\n  val: voc:" << path("shapes/voc") << ":val\n";
    return file;
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "yolo");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

  std::filesystem::path dir_;
  std::ostringstream out_, err_;
};

}  // namespace yolo
