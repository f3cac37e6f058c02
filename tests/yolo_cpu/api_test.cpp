// The public API of libyolo_cpu.so (yolo_cpu/yolo_cpu.h) against the
// framework it wraps: errors reach the caller as yolo_cpu::Error with a
// message naming what is wrong, and detection through the API equals
// models::detect_batch on the same model and image. The test links the
// shared library and, for the reference, the static libraries too; the
// library's copies are hidden, so each side runs its own.
#include "yolo_cpu/yolo_cpu.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/image.h"
#include "models/detect/detector.h"
#include "models/letterbox.h"
#include "tests/tools/inference_fixture.h"
#include "tools/yolo/inference_model.h"

namespace {

namespace fs = std::filesystem;
using yolo_cpu::Detection;
using yolo_cpu::Detector;

// EXPECT_THROW plus a look at the message.
template <typename Call>
void expect_error(Call&& call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "no yolo_cpu::Error; expected one mentioning \"" << fragment << "\"";
  } catch (const yolo_cpu::Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// An image file's pixels as the interleaved bytes a caller would pass.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> bytes;
};

RgbImage rgb_bytes(const std::string& path) {
  const data::Image image = data::load_image(path);
  RgbImage rgb{image.width, image.height, {}};
  for (float v : image.pixels) rgb.bytes.push_back(static_cast<std::uint8_t>(v));
  return rgb;
}

class YoloCpuApi : public yolo::InferenceFixture {
 protected:
  std::string image_path() const { return path("shapes/voc/JPEGImages/000003.jpg"); }
};

TEST_F(YoloCpuApi, MissingFilesAndBadOptionsThrowErrorsNamingThem) {
  expect_error([&] { Detector::load(path("missing.ckpt")); }, path("missing.ckpt"));
  expect_error([&] { Detector::load(path("missing.cfg"), path("tiny.ckpt")); }, path("missing.cfg"));
  std::ofstream(path("darknet.weights"), std::ios::binary) << std::string(64, '\1');
  expect_error([&] { Detector::load(path("darknet.weights")); }, "cfg");
  expect_error([&] { Detector::load(path("tiny.ckpt"), {.score_threshold = 1.5f}); }, "score_threshold 1.5");
  expect_error([&] { Detector::load(path("tiny.ckpt"), {.nms_iou = -0.1f}); }, "nms_iou");
  expect_error([&] { Detector::load(path("tiny.ckpt"), {.input_size = 50}); }, "multiple of 32");
  // Errors derive from std::runtime_error, as the header promises.
  EXPECT_THROW(Detector::load(""), std::runtime_error);
}

TEST_F(YoloCpuApi, WrongBufferSizeStrideOrImageSizeIsRefused) {
  const Detector detector = Detector::load(path("tiny.ckpt"));
  const std::vector<std::uint8_t> bytes(10 * 8 * 3, 128);
  expect_error([&] { detector.detect(bytes.data(), bytes.size() - 1, 10, 8); }, "needs 240 bytes, the buffer holds 239");
  expect_error([&] { detector.detect(bytes.data(), bytes.size(), 10, 8, 31); }, "needs 247 bytes");
  expect_error([&] { detector.detect(bytes.data(), bytes.size(), 10, 8, 29); }, "stride 29 is below width * 3 = 30");
  expect_error([&] { detector.detect(bytes.data(), bytes.size(), 0, 8); }, "0x8");
  expect_error([&] { detector.detect(nullptr, 0, 10, 8); }, "null");
  // The exact size passes.
  EXPECT_NO_THROW(detector.detect(bytes.data(), bytes.size(), 10, 8));
}

TEST_F(YoloCpuApi, ClassNamesInputSizeAndOptionsComeFromTheCheckpoint) {
  const Detector detector = Detector::load(path("tiny.ckpt"), {.score_threshold = 0.25f});
  EXPECT_EQ(detector.class_names(), (std::vector<std::string>{"circle", "rectangle"}));
  EXPECT_EQ(detector.input_size(), 64);
  EXPECT_FLOAT_EQ(detector.options().score_threshold, 0.25f);
  EXPECT_EQ(Detector::load(path("tiny.ckpt"), {.input_size = 96}).input_size(), 96);
  EXPECT_STREQ(yolo_cpu::version(), YOLO_CPU_VERSION_STRING);
}

TEST_F(YoloCpuApi, DetectEqualsTheInternalDetector) {
  const yolo_cpu::DetectorOptions options{.score_threshold = 0.05f, .nms_iou = 0.4f, .max_detections = 50};
  const Detector detector = Detector::load(path("tiny.ckpt"), options);
  const RgbImage rgb = rgb_bytes(image_path());
  const std::vector<Detection> got = detector.detect(rgb.bytes.data(), rgb.bytes.size(), rgb.width, rgb.height);

  std::ostringstream log;
  const models::Model model = yolo::load_inference_model({path("tiny.ckpt"), ""}, log);
  models::DetectOptions reference = models::default_detect_options(model);
  reference.thresh = 0.05f;
  reference.nms_iou = 0.4f;
  reference.max_dets = 50;
  const data::Image image = data::load_image(image_path());
  const core::Tensor planar = models::darknet_planar_image(image.width, image.height, image.pixels.data());
  const std::vector<models::ImageDetection> want = models::detect_batch(model, {planar}, reference).at(0);

  ASSERT_FALSE(want.empty()) << "a random model gives boxes at threshold 0.05; nothing to compare otherwise";
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k].class_id, want[k].label) << "box " << k;
    EXPECT_EQ(got[k].class_name, model.meta.class_names.at(std::size_t(want[k].label))) << "box " << k;
    EXPECT_NEAR(got[k].score, want[k].score, 1e-6) << "box " << k;
    EXPECT_NEAR(got[k].x1, want[k].x1, 1e-4) << "box " << k;
    EXPECT_NEAR(got[k].y1, want[k].y1, 1e-4) << "box " << k;
    EXPECT_NEAR(got[k].x2, want[k].x2, 1e-4) << "box " << k;
    EXPECT_NEAR(got[k].y2, want[k].y2, 1e-4) << "box " << k;
  }
}

TEST_F(YoloCpuApi, RowStrideGivesTheSameBoxesAsPackedRows) {
  const Detector detector = Detector::load(path("tiny.ckpt"), {.score_threshold = 0.05f});
  const RgbImage rgb = rgb_bytes(image_path());
  const std::size_t row = std::size_t(rgb.width) * 3, pitch = row + 7;
  // Padding bytes that would show up in the boxes if they were read as pixels.
  std::vector<std::uint8_t> padded(pitch * std::size_t(rgb.height), 255);
  for (int y = 0; y < rgb.height; ++y) {
    std::copy_n(rgb.bytes.begin() + std::ptrdiff_t(y * row), row, padded.begin() + std::ptrdiff_t(y * pitch));
  }
  const auto packed = detector.detect(rgb.bytes.data(), rgb.bytes.size(), rgb.width, rgb.height);
  const auto strided = detector.detect(padded.data(), padded.size(), rgb.width, rgb.height, int(pitch));
  ASSERT_FALSE(packed.empty());
  ASSERT_EQ(packed.size(), strided.size());
  for (std::size_t k = 0; k < packed.size(); ++k) {
    EXPECT_EQ(packed[k].class_id, strided[k].class_id);
    EXPECT_FLOAT_EQ(packed[k].score, strided[k].score);
    EXPECT_FLOAT_EQ(packed[k].x1, strided[k].x1);
    EXPECT_FLOAT_EQ(packed[k].y2, strided[k].y2);
  }
}

TEST_F(YoloCpuApi, MovedFromDetectorThrows) {
  Detector detector = Detector::load(path("tiny.ckpt"));
  const Detector moved = std::move(detector);
  EXPECT_EQ(moved.input_size(), 64);
  expect_error([&] { (void)detector.class_names(); }, "moved from");  // NOLINT(bugprone-use-after-move)
}

TEST_F(YoloCpuApi, TrainRejectsABadConfigNamingTheKey) {
  const std::string config = write_config();
  expect_error([&] { yolo_cpu::train(config, path("run"), {"train.max_stepz=1"}); }, "train.max_stepz");
  expect_error([&] { yolo_cpu::train(path("missing.yml"), path("run")); }, path("missing.yml"));
  expect_error([&] { yolo_cpu::train(config, path("run"), {}, {.resume = true, .overwrite = true}); }, "resume");
  EXPECT_FALSE(fs::exists(path("run/metrics.jsonl")));
}

// A one-step run through the API: its summary, a checkpoint the Detector
// loads, and a second run refused in the same folder unless overwrite.
using IntegrationYoloCpuTrain = YoloCpuApi;

TEST_F(IntegrationYoloCpuTrain, OneStepRunSummaryAndCheckpoint) {
  const std::string config = write_config();
  const std::vector<std::string> overrides = {
      "train.max_steps=1", "train.batch_size=2", "train.subdivisions=1", "train.threads=1", "data.workers=1",
      "data.augment.multiscale.enabled=false", "eval.interval=0", "log.interval=1"};
  const yolo_cpu::TrainSummary s = yolo_cpu::train(config, path("run"), overrides);
  EXPECT_EQ(s.steps, 1);
  EXPECT_TRUE(std::isfinite(s.last_loss));
  EXPECT_GT(s.last_loss, 0);
  ASSERT_TRUE(s.last_eval.count("mAP_area")) << s.last_eval_json;
  EXPECT_GE(s.last_eval.at("mAP_area"), 0.0);
  EXPECT_NE(s.last_eval_json.find("\"mAP_area\""), std::string::npos);
  ASSERT_TRUE(fs::exists(s.checkpoint)) << s.checkpoint;
  EXPECT_EQ(Detector::load(s.checkpoint).class_names().size(), 2u);

  expect_error([&] { yolo_cpu::train(config, path("run"), overrides); }, "already holds a run");
  EXPECT_EQ(yolo_cpu::train(config, path("run"), overrides, {.overwrite = true}).steps, 1);
}

}  // namespace
