// The `--config FILE.yml` form of `yolo forward` and `yolo summary`: a narrow
// built-in YOLOv3 whose class count comes from a tiny generated data set, and
// a config that names a Darknet cfg.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/npy.h"
#include "tools/yolo/cli.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;
using core::Tensor;

class ForwardConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("forward_config_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
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
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }
  static void write(const std::string& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(ForwardConfig, BuiltInModelTakesItsClassesFromTheDataSet) {
  ASSERT_EQ(run({"make-shapes", "--out", path("s"), "--images", "10", "--size", "64", "--classes", "2", "--seed",
                 "1"}),
            0)
      << err_.str();
  write(path("c.yml"), "model:\n  width: 0.0625\n  input_size: 64\ndata:\n  train: voc:" + path("s/voc") +
                           ":train\n  val: voc:" + path("s/voc") + ":val\n");
  std::mt19937_64 rng(5);
  core::write_npy(path("x.npy"), Tensor::uniform({1, 3, 64, 96}, core::DType::f32, rng));
  ASSERT_EQ(run({"forward", "--config", path("c.yml"), "--input", path("x.npy"), "--dump", path("d")}), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("classes: 2"), std::string::npos) << out_.str();
  // Three heads of 3 anchors x (5 + 2 classes) at strides 32, 16, 8.
  EXPECT_EQ(core::read_npy(path("d/head_0.npy")).shape(), (core::Shape{1, 21, 2, 3}));
  EXPECT_EQ(core::read_npy(path("d/head_1.npy")).shape(), (core::Shape{1, 21, 4, 6}));
  EXPECT_EQ(core::read_npy(path("d/head_2.npy")).shape(), (core::Shape{1, 21, 8, 12}));

  ASSERT_EQ(run({"summary", "--config", path("c.yml")}), 0) << err_.str();
  EXPECT_NE(out_.str().find("input: 64x64 (HxW), 107 layers"), std::string::npos) << out_.str();
}

TEST_F(ForwardConfig, ConfigNamingACfgAndBadCombinations) {
  write(path("n.cfg"), "[net]\nwidth=32\nheight=32\nchannels=3\n\n[convolutional]\nfilters=6\nsize=1\nstride=1\n"
                       "pad=1\nactivation=linear\n\n[yolo]\nmask=0\nanchors=8,8\nclasses=1\nnum=1\n");
  write(path("c.yml"), "model:\n  cfg: " + path("n.cfg") + "\ndata:\n  train: voc:" + path("absent") +
                           "\n  val: voc:" + path("absent") + "\n");
  ASSERT_EQ(run({"summary", "--config", path("c.yml"), "--size", "64"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("6x64x64"), std::string::npos) << out_.str();

  EXPECT_EQ(run({"summary", "--cfg", path("n.cfg"), "--config", path("c.yml")}), 1);
  EXPECT_NE(err_.str().find("exactly one of --cfg"), std::string::npos) << err_.str();
  write(path("bad.yml"), "model:\n  widht: 2\n");
  EXPECT_EQ(run({"forward", "--config", path("bad.yml"), "--input", path("x.npy"), "--dump", path("e")}), 1);
  EXPECT_NE(err_.str().find("bad.yml"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace yolo
