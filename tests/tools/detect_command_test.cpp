// `yolo detect` end to end on a narrow random-weight model: with random
// weights the boxes are noise, so these tests check the plumbing (pictures
// and a valid results file, boxes inside their images, flags and errors).
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/atomic_file.h"
#include "data/image.h"
#include "tests/tools/inference_fixture.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;

using DetectCommand = InferenceFixture;

TEST_F(DetectCommand, FolderOfImagesWritesPicturesAndResults) {
  const std::string images = path("shapes/voc/JPEGImages");
  // A low threshold so that random weights still give boxes; --batch 8 runs
  // the 20 images in three forward passes.
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--images", images, "--thresh", "0.05", "--out-dir",
                 path("out"), "--json", path("dets.json"), "--batch", "8"}),
            0)
      << err_.str();
  std::size_t pictures = 0;
  for (const auto& e : fs::directory_iterator(images)) {
    const fs::path png = fs::path(path("out")) / (e.path().stem().string() + ".png");
    ASSERT_TRUE(fs::exists(png)) << png;
    const data::Image src = data::load_image(e.path().string()), drawn = data::load_image(png.string());
    EXPECT_EQ(drawn.width, src.width);
    EXPECT_EQ(drawn.height, src.height);
    ++pictures;
  }
  EXPECT_EQ(pictures, 20u);

  const nlohmann::json dets = nlohmann::json::parse(core::read_file(path("dets.json")));
  ASSERT_TRUE(dets.is_array());
  ASSERT_FALSE(dets.empty());
  for (const auto& d : dets) {
    const std::string stem = d.at("image_id").get<std::string>();
    const data::Image src = data::load_image(images + "/" + stem + ".jpg");
    const auto box = d.at("bbox").get<std::vector<double>>();
    ASSERT_EQ(box.size(), 4u);
    EXPECT_GE(box[0], 0.0);
    EXPECT_GE(box[1], 0.0);
    EXPECT_GE(box[2], 0.0);
    EXPECT_GE(box[3], 0.0);
    EXPECT_LE(box[0] + box[2], src.width + 1e-3);
    EXPECT_LE(box[1] + box[3], src.height + 1e-3);
    const std::string category = d.at("category").get<std::string>();
    EXPECT_TRUE(category == "circle" || category == "rectangle") << category;
    EXPECT_GT(d.at("score").get<double>(), 0.05);
  }
  EXPECT_NE(out_.str().find("0=circle"), std::string::npos) << out_.str();
}

TEST_F(DetectCommand, OneImageAndAListWithNames) {
  const std::string image = path("shapes/voc/JPEGImages/000000.jpg");
  ASSERT_TRUE(fs::exists(image));
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--image", image, "--out", path("one.png")}), 0)
      << err_.str();
  EXPECT_EQ(data::load_image(path("one.png")).width, data::load_image(image).width);

  // A list with a path relative to the list's folder, and --names.
  std::ofstream(path("list.txt")) << "shapes/voc/JPEGImages/000001.jpg\n\n" << image << "\n";
  std::ofstream(path("names.txt")) << "a\nb\n";
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--images", path("list.txt"), "--names", path("names.txt"),
                 "--thresh", "0.05", "--nms", "0.3", "--out-dir", path("listed"), "--json", path("l.json")}),
            0)
      << err_.str();
  EXPECT_TRUE(fs::exists(path("listed/000001.png")));
  EXPECT_TRUE(fs::exists(path("listed/000000.png")));
  for (const auto& d : nlohmann::json::parse(core::read_file(path("l.json")))) {
    const std::string category = d.at("category").get<std::string>();
    EXPECT_TRUE(category == "a" || category == "b") << category;
  }
}

TEST_F(DetectCommand, TrainingConfigForm) {
  // The network from the config, names from the checkpoint.
  const std::string image = path("shapes/voc/JPEGImages/000000.jpg");
  ASSERT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--config", write_config(), "--image", image, "--thresh",
                 "0.05", "--out", path("c.png"), "--json", path("c.json")}),
            0)
      << err_.str();
  EXPECT_TRUE(fs::exists(path("c.png")));
  EXPECT_NE(out_.str().find("1=rectangle"), std::string::npos) << out_.str();
  EXPECT_TRUE(nlohmann::json::parse(core::read_file(path("c.json"))).is_array());
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--config", write_config(), "--cfg", "x.cfg", "--image",
                 image, "--out", path("c.png")}),
            1);
}

TEST_F(DetectCommand, ClearErrors) {
  const std::string image = path("shapes/voc/JPEGImages/000000.jpg");
  // --out names one picture.
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--images", path("shapes/voc/JPEGImages"), "--out",
                 path("x.png")}),
            1);
  EXPECT_NE(err_.str().find("--out-dir"), std::string::npos) << err_.str();
  // Darknet weights do not describe the network.
  std::ofstream(path("fake.weights"), std::ios::binary) << std::string(64, '\0');
  EXPECT_EQ(run({"detect", "--weights", path("fake.weights"), "--image", image, "--out", path("x.png")}), 1);
  EXPECT_NE(err_.str().find("--cfg"), std::string::npos) << err_.str();
  // A names file with the wrong number of classes.
  std::ofstream(path("three.txt")) << "a\nb\nc\n";
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--image", image, "--names", path("three.txt"), "--out",
                 path("x.png")}),
            1);
  EXPECT_NE(err_.str().find("3 classes"), std::string::npos) << err_.str();
  // An input size that is not a multiple of 32.
  EXPECT_EQ(run({"detect", "--weights", path("tiny.ckpt"), "--image", image, "--size", "80", "--out", path("x.png")}), 1);
  EXPECT_NE(err_.str().find("multiple of 32"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace yolo
