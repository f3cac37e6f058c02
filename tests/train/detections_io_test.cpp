// Results files: reading (with the errors users will meet), dropping unknown
// categories, and an exact round trip through the writer.
#include "train/eval/detections_io.h"

#include <gtest/gtest.h>

#include <random>

#include "core/error.h"

namespace train {
namespace {

DetectionKeys coco_keys() {
  DetectionKeys k;
  k.naming = ResultsNaming::coco;
  k.image_ids = {42, 7};
  k.classes = {"person", "dog"};
  k.category_ids = {1, 18};
  return k;
}

DetectionKeys voc_keys() {
  DetectionKeys k;
  k.naming = ResultsNaming::voc;
  k.image_names = {"000005", "000007"};
  k.classes = {"cat", "dog"};
  k.unreadable_images = {"000009"};
  return k;
}

// The message of the IoError that parsing `json` throws, or "" if none.
std::string error_of(const std::string& json, const DetectionKeys& keys) {
  try {
    parse_detections(json, "dets.json", keys);
  } catch (const core::IoError& e) {
    return e.what();
  }
  return "";
}

TEST(DetectionsIo, ReadsCocoResults) {
  const auto f = parse_detections(
      R"([{"image_id": 7, "category_id": 18, "bbox": [1.5, 2, 3, 4], "score": 0.25, "segmentation": []},
          {"image_id": 42.0, "category_id": 1, "bbox": [0, 0, 0, 0], "score": 1}])",
      "dets.json", coco_keys());
  ASSERT_EQ(f.detections.size(), 2u);
  EXPECT_EQ(f.detections[0].image, 1u);
  EXPECT_EQ(f.detections[0].label, 1);
  EXPECT_DOUBLE_EQ(f.detections[0].x, 1.5);
  EXPECT_DOUBLE_EQ(f.detections[0].h, 4);
  EXPECT_DOUBLE_EQ(f.detections[0].score, 0.25);
  EXPECT_EQ(f.detections[1].image, 0u);  // 42.0 names image 42, as in Python
  EXPECT_EQ(f.num_read, 2u);
  EXPECT_EQ(f.num_dropped(), 0u);
}

TEST(DetectionsIo, EmptyArrayIsNoDetections) {
  EXPECT_TRUE(parse_detections(" [ ] ", "dets.json", coco_keys()).detections.empty());
}

TEST(DetectionsIo, UnknownCategoriesAreDroppedAndCounted) {
  const auto f = parse_detections(
      R"([{"image_id": 7, "category_id": 91, "bbox": [1, 2, 3, 4], "score": 0.5},
          {"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
          {"image_id": 42, "category_id": 91, "bbox": [1, 2, 3, 4], "score": 0.4}])",
      "dets.json", coco_keys());
  EXPECT_EQ(f.detections.size(), 1u);
  EXPECT_EQ(f.num_read, 3u);
  EXPECT_EQ(f.num_dropped(), 2u);
  EXPECT_EQ(f.dropped.at("category_id 91"), 2u);
}

TEST(DetectionsIo, ReadsVocResultsByNameOrIndex) {
  const auto f = parse_detections(
      R"([{"image_id": "000007", "category": "dog", "bbox": [10, 20, 30, 40], "score": 0.9},
          {"image_id": "000005", "category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.8},
          {"image_id": "000005", "category": "zebra", "bbox": [1, 2, 3, 4], "score": 0.7},
          {"image_id": "000009", "category": "cat", "bbox": [1, 2, 3, 4], "score": 0.6}])",
      "dets.json", voc_keys());
  ASSERT_EQ(f.detections.size(), 2u);
  EXPECT_EQ(f.detections[0].image, 1u);
  EXPECT_EQ(f.detections[0].label, 1);
  EXPECT_EQ(f.detections[1].label, 0);
  EXPECT_EQ(f.dropped.at("category \"zebra\""), 1u);
  // An image of the split whose XML could not be read: dropped, not an error.
  EXPECT_EQ(f.dropped.at("image \"000009\" (its annotation could not be read)"), 1u);
}

TEST(DetectionsIo, NotJsonIsAnError) {
  const std::string e = error_of("this is not json", coco_keys());
  EXPECT_NE(e.find("dets.json"), std::string::npos) << e;
  EXPECT_NE(error_of(R"([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5})", coco_keys()),
            "");  // truncated
  EXPECT_NE(error_of("", coco_keys()), "");
}

TEST(DetectionsIo, TopLevelMustBeAnArrayOfObjects) {
  EXPECT_NE(error_of(R"({"image_id": 7})", coco_keys()).find("must be a JSON array"), std::string::npos);
  EXPECT_NE(error_of(R"([1, 2])", coco_keys()).find("[0]: must be an object"), std::string::npos);
}

TEST(DetectionsIo, WrongTypesNameTheElementAndField) {
  const DetectionKeys keys = coco_keys();
  EXPECT_NE(error_of(R"([{"image_id": "7", "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}])", keys)
                .find("[0].image_id"),
            std::string::npos);
  const std::string bbox = error_of(R"([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},
                                        {"image_id": 7, "category_id": 1, "bbox": [1, "2", 3, 4], "score": 0.5}])",
                                    keys);
  EXPECT_NE(bbox.find("[1].bbox"), std::string::npos) << bbox;
  EXPECT_NE(error_of(R"([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3], "score": 0.5}])", keys)
                .find("expected 4"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4], "score": "high"}])", keys)
                .find("[0].score"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"image_id": 7.5, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}])", keys)
                .find("not an integer"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}])", keys).find("needs"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"image_id": 5, "category": "cat", "bbox": [1, 2, 3, 4], "score": 0.5}])", voc_keys())
                .find("must be a string"),
            std::string::npos);
}

TEST(DetectionsIo, NegativeSizeIsAnError) {
  const std::string e =
      error_of(R"([{"image_id": 7, "category_id": 1, "bbox": [10, 10, -2, 4], "score": 0.5}])", coco_keys());
  EXPECT_NE(e.find("[0].bbox"), std::string::npos) << e;
  EXPECT_NE(e.find("negative size"), std::string::npos) << e;
}

TEST(DetectionsIo, UnknownImageIsAnError) {
  const std::string coco =
      error_of(R"([{"image_id": 99, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}])", coco_keys());
  EXPECT_NE(coco.find("[0].image_id: image id 99 is not in the annotation file"), std::string::npos) << coco;
  const std::string voc =
      error_of(R"([{"image_id": "123456", "category": "cat", "bbox": [1, 2, 3, 4], "score": 0.5}])", voc_keys());
  EXPECT_NE(voc.find("image \"123456\" is not in the data set"), std::string::npos) << voc;
}

TEST(DetectionsIo, WriterRoundTripsExactly) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 1000);
  for (const DetectionKeys& keys : {coco_keys(), voc_keys()}) {
    std::vector<Detection> dets;
    for (int i = 0; i < 200; ++i) {
      dets.push_back({static_cast<std::size_t>(i % 2), i % 2, u(rng), u(rng), u(rng) / 7, u(rng) / 3, u(rng) / 1000});
    }
    dets.push_back({0, 0, 0.1 + 0.2, 1e-300, 0, 5e-324, 1});
    const auto back = parse_detections(format_detections(dets, keys), "round trip", keys);
    ASSERT_EQ(back.detections.size(), dets.size());
    for (std::size_t i = 0; i < dets.size(); ++i) {
      const Detection& a = dets[i];
      const Detection& b = back.detections[i];
      EXPECT_EQ(a.image, b.image);
      EXPECT_EQ(a.label, b.label);
      EXPECT_EQ(a.x, b.x);
      EXPECT_EQ(a.y, b.y);
      EXPECT_EQ(a.w, b.w);
      EXPECT_EQ(a.h, b.h);
      EXPECT_EQ(a.score, b.score);
    }
  }
}

TEST(DetectionsIo, WriterRejectsIndicesOutOfRange) {
  EXPECT_THROW(format_detections({{5, 0, 0, 0, 1, 1, 0.5}}, coco_keys()), core::ValueError);
}

}  // namespace
}  // namespace train
