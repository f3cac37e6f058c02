// Darknet list + labels/*.txt + names.
#include <gtest/gtest.h>

#include "core/error.h"
#include "data/darknet_reader.h"
#include "data/dataset_spec.h"
#include "tests/data/fixture.h"

namespace {

using data_test::expect_error;
using data_test::TempDir;
using data_test::write_text;

TEST(DarknetReader, LabelPathFollowsDarknetsRule) {
  EXPECT_EQ(data::darknet_label_path("/d/images/train/a.jpg"), "/d/labels/train/a.txt");
  EXPECT_EQ(data::darknet_label_path("/d/VOC/JPEGImages/x.png"), "/d/VOC/labels/x.txt");
  EXPECT_EQ(data::darknet_label_path("rel/b.jpeg"), "rel/b.txt");
}

TEST(DarknetReader, ReadsListLabelsAndNames) {
  TempDir dir;
  data_test::write_png(dir / "images/a.png", 40, 20);
  data_test::write_png(dir / "images/b.png", 10, 10);
  // Box centre (0.5, 0.5), size (0.25, 0.5) of 40x20 -> (15, 5)..(25, 15).
  write_text(dir / "labels/a.txt", "1 0.5 0.5 0.25 0.5\n\n0 0.1 0.2 0.2 0.4\n");
  write_text(dir / "list.txt", "images/a.png\n" + (dir / "images/b.png") + "\n");
  write_text(dir / "obj.names", "cat\ndog\n");
  const auto ds = data::read_dataset("darknet:" + (dir / "list.txt"), {});
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(ds.images.size(), 2u);
  const auto& a = ds.images[0];
  EXPECT_EQ(a.width, 40);
  EXPECT_EQ(a.height, 20);
  ASSERT_EQ(a.objects.size(), 2u);
  EXPECT_EQ(a.objects[0].label, 1);
  EXPECT_FLOAT_EQ(a.objects[0].box.x1, 15);
  EXPECT_FLOAT_EQ(a.objects[0].box.y1, 5);
  EXPECT_FLOAT_EQ(a.objects[0].box.x2, 25);
  EXPECT_FLOAT_EQ(a.objects[0].box.y2, 15);
  EXPECT_TRUE(ds.images[1].objects.empty());  // no label file: no boxes
  const auto named = data::read_dataset("darknet:" + (dir / "list.txt") + ":" + (dir / "obj.names"), {});
  EXPECT_EQ(named.images.size(), 2u);
}

TEST(DarknetReader, MalformedLabelFilesAreErrorsNamingFileAndLine) {
  TempDir dir;
  auto check = [&](const std::string& text, std::initializer_list<std::string> frags) {
    write_text(dir / "l.txt", text);
    expect_error<core::IoError>([&] { data::read_darknet_labels(dir / "l.txt", 40, 20, 2); }, frags);
  };
  check("0 0.5 0.5 0.1\n", {"l.txt:1", "4 columns, expected 5"});
  check("0 0.5 0.5 0.1 0.1\n1 0.5 0.5 0.1 0.1 7\n", {"l.txt:2", "6 columns"});
  check("2 0.5 0.5 0.1 0.1\n", {"l.txt:1", "class id '2'"});
  check("0.5 0.5 0.5 0.1 0.1\n", {"l.txt:1", "class id"});
  check("0 0.5 x 0.1 0.1\n", {"l.txt:1", "'x', not a number"});
  // Found by fuzz_darknet_labels: the id was converted to int before its
  // range was checked (UBSan: 1.33333e+39 is outside the range of int).
  check("1333333333333333333333333333333333333333 0.5 0.5 0.1 0.1\n", {"l.txt:1", "class id '1333333333333333333333333333333333333333' is not an integer in [0, 2)"});
  check("0 0.5 0.5 -0.1 0.1\n", {"l.txt:1", "negative or zero size"});
  check("0 0.9 0.5 0.5 0.1\n", {"l.txt:1", "outside the 40x20 image"});
}

TEST(DarknetReader, BadEntriesAreSkippedWithReasons) {
  TempDir dir;
  data_test::write_png(dir / "images/a.png", 8, 8);
  data_test::write_png(dir / "images/b.png", 8, 8);
  write_text(dir / "labels/b.txt", "0 0.5 0.5\n");
  write_text(dir / "list.txt", "images/a.png\nimages/missing.png\nimages/b.png\n");
  write_text(dir / "classes.txt", "thing\n");
  const auto ds = data::read_dataset("darknet:" + (dir / "list.txt"), {});
  ASSERT_EQ(ds.images.size(), 1u);
  ASSERT_EQ(ds.skipped.size(), 2u);
  EXPECT_NE(ds.skipped[0].reason.find("missing.png"), std::string::npos);
  EXPECT_NE(ds.skipped[1].reason.find("b.txt:1"), std::string::npos);
  TempDir bare;
  write_text(bare / "list.txt", "x.png\n");
  expect_error<core::IoError>([&] { data::read_dataset("darknet:" + (bare / "list.txt"), {}); }, {"list.txt", "names"});
}

TEST(DatasetSpec, ParsesTheThreeFormsAndRejectsOthers) {
  const auto voc = data::parse_dataset_spec("voc:/d/VOC2007:trainval");
  EXPECT_EQ(voc.format, data::DatasetFormat::voc);
  EXPECT_EQ(voc.path, "/d/VOC2007");
  EXPECT_EQ(voc.extra, "trainval");
  const auto coco = data::parse_dataset_spec("coco:a.json");
  EXPECT_EQ(coco.format, data::DatasetFormat::coco);
  EXPECT_EQ(coco.extra, "");
  EXPECT_EQ(data::parse_dataset_spec("darknet:l.txt:x.names").extra, "x.names");
  expect_error<core::ConfigError>([] { data::parse_dataset_spec("yolo:/x"); }, {"yolo:/x", "unknown format"});
  expect_error<core::ConfigError>([] { data::parse_dataset_spec("/just/a/path"); }, {"/just/a/path"});
  expect_error<core::ConfigError>([] { data::parse_dataset_spec("voc:"); }, {"voc:"});
  expect_error<core::ConfigError>([] { data::parse_dataset_spec("voc:a:b:c"); }, {"voc:a:b:c"});
}

}  // namespace
