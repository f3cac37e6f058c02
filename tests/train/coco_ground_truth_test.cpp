// The evaluator's COCO annotation reader: what cocoapi keeps, it keeps.
#include "train/eval/coco_ground_truth.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace train {
namespace {

constexpr const char* kFile = R"({
  "info": {"year": 2017},
  "images": [{"id": 9, "file_name": "a.jpg", "width": 100, "height": 80}, {"id": 3, "file_name": "b.jpg"}],
  "categories": [{"id": 18, "name": "dog"}, {"id": 1, "name": "person"}],
  "annotations": [
    {"id": 5, "image_id": 3, "category_id": 18, "bbox": [0.1, 0.2, 10.25, 0], "area": 0, "iscrowd": 0},
    {"id": 6, "image_id": 3, "category_id": 1, "bbox": [-5, 70, 300, 40], "area": 1200.5, "iscrowd": 1},
    {"id": 7, "image_id": 9, "category_id": 1, "bbox": [1, 2, 3, 4]},
    {"id": 8, "image_id": 4, "category_id": 1, "bbox": [1, 2, 3, 4], "area": 12},
    {"id": 9, "image_id": 9, "category_id": 77, "bbox": [1, 2, 3, 4], "area": 12}
  ]
})";

TEST(CocoGroundTruth, KeepsWhatCocoapiKeeps) {
  const auto f = parse_coco_ground_truth(kFile, "gt.json");
  const CocoGroundTruth& gt = f.gt;
  EXPECT_EQ(gt.image_ids, (std::vector<std::int64_t>{9, 3}));
  EXPECT_EQ(gt.category_ids, (std::vector<std::int64_t>{1, 18}));  // sorted by id
  EXPECT_EQ(gt.category_names, (std::vector<std::string>{"person", "dog"}));
  ASSERT_EQ(gt.objects[1].size(), 2u);
  // A zero-height box and a box outside its image stay, unlike in training.
  EXPECT_EQ(gt.objects[1][0].id, 5);
  EXPECT_EQ(gt.objects[1][0].label, 1);
  EXPECT_DOUBLE_EQ(gt.objects[1][0].w, 10.25);
  EXPECT_DOUBLE_EQ(gt.objects[1][0].x, 0.1);  // double precision, not float
  EXPECT_TRUE(gt.objects[1][1].crowd);
  EXPECT_DOUBLE_EQ(gt.objects[1][1].area, 1200.5);
  // No area: w*h, counted.
  ASSERT_EQ(gt.objects[0].size(), 1u);
  EXPECT_DOUBLE_EQ(gt.objects[0][0].area, 12);
  EXPECT_EQ(f.num_missing_area, 1u);
  // Unknown image 4 and category 77: skipped with a reason each.
  ASSERT_EQ(f.skipped.size(), 2u);
  EXPECT_NE(f.skipped[0].find("image_id 4"), std::string::npos);
  EXPECT_NE(f.skipped[1].find("category_id 77"), std::string::npos);
}

TEST(CocoGroundTruth, ErrorsNameTheElement) {
  auto message = [](const std::string& json) {
    try {
      parse_coco_ground_truth(json, "gt.json");
    } catch (const core::IoError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message("not json").find("gt.json"), std::string::npos);
  EXPECT_NE(message(R"({"images": [], "categories": []})").find("no \"annotations\""), std::string::npos);
  const std::string bbox = message(
      R"({"images": [{"id": 1}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, "x", 3, 4]}]})");
  EXPECT_NE(bbox.find("annotations[0].bbox"), std::string::npos) << bbox;
  EXPECT_NE(message(R"({"images": [{"id": 1}, {"id": 1}], "categories": [], "annotations": []})").find("twice"),
            std::string::npos);
}

}  // namespace
}  // namespace train
