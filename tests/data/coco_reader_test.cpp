// COCO reader: non-contiguous category ids, crowd boxes, options and errors.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/coco_reader.h"
#include "data/dataset_spec.h"
#include "tests/data/fixture.h"

namespace {

using data_test::expect_error;
using data_test::TempDir;
using data_test::write_text;

// Categories out of order with gaps (90, 1, 5); image 7 has a crowd box and
// a normal one, image 3 only a crowd box, image 12 nothing.
const char* kJson = R"({
  "info": {"description": "test"},
  "categories": [{"id": 90, "name": "toothbrush"}, {"id": 1, "name": "person"}, {"id": 5, "name": "airplane"}],
  "images": [
    {"id": 7, "file_name": "a.png", "width": 40, "height": 30},
    {"id": 3, "file_name": "b.png", "width": 20, "height": 20},
    {"id": 12, "file_name": "c.png", "width": 10, "height": 10}
  ],
  "annotations": [
    {"id": 100, "image_id": 7, "category_id": 5, "bbox": [2, 3, 10.5, 6], "area": 50.0, "iscrowd": 0,
     "segmentation": [[2, 3, 12, 3, 12, 9]]},
    {"id": 101, "image_id": 7, "category_id": 90, "bbox": [0, 0, 40, 30], "area": 900, "iscrowd": 1,
     "segmentation": {"counts": [1, 2], "size": [30, 40]}},
    {"id": 102, "image_id": 3, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 20, "iscrowd": 1}
  ]
})";

void write_images(const TempDir& dir) {
  data_test::write_png(dir / "images/a.png", 40, 30);
  data_test::write_png(dir / "images/b.png", 20, 20);
  data_test::write_png(dir / "images/c.png", 10, 10);
}

TEST(CocoReader, MapsCategoriesContiguouslyAndKeepsCrowdFlags) {
  TempDir dir;
  write_text(dir / "annotations/instances_x.json", kJson);
  write_images(dir);
  const auto ds = data::read_coco(dir / "annotations/instances_x.json", dir / "images", {});
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"person", "airplane", "toothbrush"}));
  EXPECT_EQ(ds.category_ids, (std::vector<std::int64_t>{1, 5, 90}));
  ASSERT_EQ(ds.images.size(), 3u);
  const auto& a = ds.images[0];
  EXPECT_EQ(a.id, 7);
  EXPECT_EQ(a.path, dir / "images/a.png");
  ASSERT_EQ(a.objects.size(), 2u);
  EXPECT_EQ(a.objects[0].label, 1);
  EXPECT_FLOAT_EQ(a.objects[0].box.x1, 2);
  EXPECT_FLOAT_EQ(a.objects[0].box.y1, 3);
  EXPECT_FLOAT_EQ(a.objects[0].box.x2, 12.5f);
  EXPECT_FLOAT_EQ(a.objects[0].box.y2, 9);
  EXPECT_FLOAT_EQ(a.objects[0].area, 50);
  EXPECT_EQ(a.objects[0].id, 100);
  EXPECT_FALSE(a.objects[0].crowd);
  EXPECT_EQ(a.objects[1].label, 2);
  EXPECT_TRUE(a.objects[1].crowd);
  EXPECT_TRUE(ds.skipped.empty());
}

TEST(CocoReader, ImagesWithoutTrainingBoxesAreKeptOrSkippedByOption) {
  TempDir dir;
  write_text(dir / "annotations/instances_x.json", kJson);
  write_images(dir);
  data::ReadOptions skip;
  skip.keep_empty_images = false;
  // Image 3 has only a crowd box and image 12 none: neither is a training image.
  const auto ds = data::read_coco(dir / "annotations/instances_x.json", dir / "images", skip);
  ASSERT_EQ(ds.images.size(), 1u);
  EXPECT_EQ(ds.images[0].id, 7);
}

TEST(CocoReader, SpecFindsTheImageFolderByDefault) {
  TempDir dir;
  write_text(dir / "annotations/instances_x.json", kJson);
  write_images(dir);
  const auto ds = data::read_dataset("coco:" + (dir / "annotations/instances_x.json"), {});
  EXPECT_EQ(ds.images.size(), 3u);
  EXPECT_TRUE(ds.skipped.empty());
}

TEST(CocoReader, BadAnnotationsAndMissingImagesAreSkippedWithReasons) {
  TempDir dir;
  write_text(dir / "bad.json", R"({"images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 30},
                                             {"id": 2, "file_name": "gone.png", "width": 9, "height": 9}],
    "annotations": [
      {"id": 1, "image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1]},
      {"id": 2, "image_id": 1, "category_id": 77, "bbox": [0, 0, 1, 1]},
      {"id": 3, "image_id": 1, "category_id": 1, "bbox": [5, 5, -2, 3]},
      {"id": 4, "image_id": 1, "category_id": 1, "bbox": [30, 5, 50, 3]},
      {"id": 5, "image_id": 1, "category_id": 1, "bbox": [3, 5, 2, 3]}],
    "categories": [{"id": 1, "name": "thing"}]})");
  data_test::write_png(dir / "img/a.png", 40, 30);
  const auto ds = data::read_coco(dir / "bad.json", dir / "img", {});
  ASSERT_EQ(ds.images.size(), 1u);
  ASSERT_EQ(ds.images[0].objects.size(), 1u);
  EXPECT_EQ(ds.images[0].objects[0].id, 5);
  ASSERT_EQ(ds.skipped.size(), 5u);
  EXPECT_NE(ds.skipped[0].reason.find("image_id 99"), std::string::npos);
  EXPECT_NE(ds.skipped[1].reason.find("category_id 77"), std::string::npos);
  EXPECT_NE(ds.skipped[2].reason.find("negative or zero size"), std::string::npos);
  EXPECT_NE(ds.skipped[3].reason.find("outside the 40x30 image"), std::string::npos);
  EXPECT_NE(ds.skipped[4].reason.find("gone.png"), std::string::npos);
  for (int i = 0; i < 4; ++i) EXPECT_NE(ds.skipped[i].reason.find("bad.json"), std::string::npos);
}

TEST(CocoReader, WrongTypesAndBrokenJsonAreErrorsNamingFileAndElement) {
  TempDir dir;
  auto check = [&](const std::string& name, const std::string& json, std::initializer_list<std::string> frags) {
    write_text(dir / name, json);
    expect_error<core::IoError>([&] { data::read_coco(dir / name, dir.str(), {}); }, frags);
  };
  const std::string cats = R"("categories": [{"id": 1, "name": "a"}])";
  check("t1.json", R"({"images": [{"id": "7"}], "annotations": [], )" + cats + "}", {"t1.json", "images[0].id"});
  check("t2.json", R"({"images": [], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": "wide"}], )" +
                       cats + "}",
        {"t2.json", "annotations[0].bbox"});
  check("t3.json", R"({"images": [], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]}], )" +
                       cats + "}",
        {"t3.json", "annotations[0].bbox", "3 numbers"});
  check("t4.json", R"({"images": [], "annotations": [], "categories": [{"id": 1}]})", {"t4.json", "categories[0]", "name"});
  check("t5.json", R"({"images": [], "annotations": [)", {"t5.json"});
  check("t6.json", "not json", {"t6.json"});
  check("t7.json", R"({"images": {}, "annotations": [], )" + cats + "}", {"t7.json", "images"});
  check("t8.json", R"({"annotations": [], )" + cats + "}", {"t8.json", "no \"images\""});
  expect_error<core::IoError>([&] { data::read_coco(dir / "none.json", dir.str(), {}); }, {"none.json"});
}

}  // namespace
