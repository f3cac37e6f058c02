// `yolo make-shapes`, `yolo data --preview` and `yolo anchors` end to end,
// in-process, on a tiny synthetic data set.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "data/image.h"
#include "tools/yolo/cli.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;

class DataCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("data_commands_test_" + std::to_string(std::random_device{}()));
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

  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(DataCommands, MakeShapesThenDataPreviewAndAnchors) {
  ASSERT_EQ(run({"make-shapes", "--out", path("s"), "--images", "20", "--size", "96", "--seed", "2"}), 0) << err_.str();
  EXPECT_TRUE(fs::exists(path("s/voc/ImageSets/Main/train.txt")));

  ASSERT_EQ(run({"data", "--dataset", "voc:" + path("s/voc") + ":train", "--preview", path("p.png"), "--size", "64",
                 "--count", "4"}),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("images: 16"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("stride 32"), std::string::npos);
  const data::Image preview = data::load_image(path("p.png"));
  EXPECT_GT(preview.width, 4 * 64);  // a 4-tile grid of 64-pixel samples

  ASSERT_EQ(run({"anchors", "--dataset", "coco:" + path("s/coco/annotations/instances_train.json"), "--k", "3",
                 "--size", "64"}),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("mean best IoU"), std::string::npos);
  EXPECT_NE(out_.str().find("anchors: [["), std::string::npos);
}

TEST_F(DataCommands, BadSpecsAndOptionsFailWithMessages) {
  EXPECT_EQ(run({"data", "--dataset", "pascal:" + path("x")}), 1);
  EXPECT_NE(err_.str().find("unknown format 'pascal'"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"anchors", "--dataset", "voc:" + path("missing")}), 1);
  EXPECT_NE(err_.str().find("missing"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"make-shapes", "--out", path("t"), "--classes", "9"}), 1);
  EXPECT_NE(err_.str().find("--classes 9"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace yolo
