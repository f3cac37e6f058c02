// The synthetic data set: layout, agreement between formats, determinism.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/dataset_spec.h"
#include "data/image.h"
#include "data/shapes_writer.h"
#include "tests/data/fixture.h"

namespace {

namespace fs = std::filesystem;
using data_test::TempDir;

data::ShapesOptions small(const std::string& out) {
  data::ShapesOptions o;
  o.out = out;
  o.images = 10;
  o.size = 96;
  o.seed = 5;
  return o;
}

TEST(Shapes, WritesTheContractLayoutAndSplits) {
  TempDir dir;
  std::ostringstream log;
  const auto summary = data::write_shapes_dataset(small(dir.str()), log);
  EXPECT_EQ(summary.train, 8);
  EXPECT_EQ(summary.val, 1);
  EXPECT_EQ(summary.test, 1);
  for (const char* p : {"classes.txt", "voc/classes.txt", "voc/Annotations/000000.xml", "voc/JPEGImages/000009.jpg",
                        "voc/ImageSets/Main/train.txt", "voc/ImageSets/Main/val.txt", "voc/ImageSets/Main/test.txt",
                        "coco/images/000003.jpg", "coco/annotations/instances_train.json",
                        "coco/annotations/instances_val.json", "coco/annotations/instances_test.json",
                        "darknet/images/000001.jpg", "darknet/labels/000001.txt", "darknet/train.txt",
                        "darknet/val.txt", "darknet/test.txt"}) {
    EXPECT_TRUE(fs::exists(dir / p)) << p;
  }
  EXPECT_EQ(core::read_file(dir / "classes.txt"), "circle\nrectangle\ntriangle\ndiamond\ncross\nstar\n");
}

TEST(Shapes, TheThreeFormatsAgreeOnEveryBox) {
  TempDir dir;
  std::ostringstream log;
  data::write_shapes_dataset(small(dir.str()), log);
  for (const char* split : {"train", "val", "test"}) {
    const auto voc = data::read_dataset("voc:" + (dir / "voc") + ":" + split, {});
    const auto coco = data::read_dataset("coco:" + (dir / "coco/annotations/instances_") + split + ".json", {});
    const auto dn = data::read_dataset("darknet:" + (dir / "darknet/") + split + ".txt", {});
    ASSERT_TRUE(voc.skipped.empty() && coco.skipped.empty() && dn.skipped.empty());
    ASSERT_EQ(voc.images.size(), coco.images.size());
    ASSERT_EQ(voc.images.size(), dn.images.size());
    EXPECT_EQ(voc.classes, coco.classes);
    EXPECT_EQ(voc.classes, dn.classes);
    for (std::size_t i = 0; i < voc.images.size(); ++i) {
      const auto &a = voc.images[i], &b = coco.images[i], &c = dn.images[i];
      EXPECT_EQ(a.width, b.width);
      EXPECT_EQ(a.height, c.height);
      ASSERT_EQ(a.objects.size(), b.objects.size());
      ASSERT_EQ(a.objects.size(), c.objects.size());
      for (std::size_t k = 0; k < a.objects.size(); ++k) {
        const auto &x = a.objects[k].box, &y = b.objects[k].box, &z = c.objects[k].box;
        EXPECT_EQ(a.objects[k].label, b.objects[k].label);
        EXPECT_EQ(a.objects[k].label, c.objects[k].label);
        EXPECT_FALSE(b.objects[k].crowd);
        EXPECT_EQ(x.x1, y.x1);
        EXPECT_EQ(x.y2, y.y2);
        EXPECT_NEAR(x.x1, z.x1, 0.01f);  // Darknet's normalised text carries 6 decimals
        EXPECT_NEAR(x.y2, z.y2, 0.01f);
      }
    }
  }
}

TEST(Shapes, ImagesVaryInSizeWithSTheLongerSideAndHaveObjectsOfManyScales) {
  data::ShapesOptions o = small("");
  float smallest = 1, largest = 0;
  int sizes_differ = 0;
  for (int i = 0; i < 40; ++i) {
    const auto s = data::render_shapes_image(o, i);
    EXPECT_EQ(std::max(s.image.width, s.image.height), 96);
    sizes_differ += s.image.width != s.image.height;
    EXPECT_FALSE(s.targets.empty());
    for (const auto& t : s.targets) {
      const float rel = std::max(t.box.width(), t.box.height()) / 96.0f;
      smallest = std::min(smallest, rel);
      largest = std::max(largest, rel);
    }
  }
  EXPECT_GT(sizes_differ, 10);
  EXPECT_LT(smallest, 0.1f);
  EXPECT_GT(largest, 0.4f);
}

TEST(Shapes, SameSeedSameBytes) {
  TempDir a, b;
  std::ostringstream log;
  auto o = small(a.str());
  o.format = "coco";
  data::write_shapes_dataset(o, log);
  o.out = b.str();
  data::write_shapes_dataset(o, log);
  for (const char* p : {"coco/annotations/instances_train.json", "coco/images/000004.jpg", "classes.txt"}) {
    EXPECT_EQ(core::read_file(a / p), core::read_file(b / p)) << p;
  }
  EXPECT_FALSE(fs::exists(a / "voc"));
}

TEST(Shapes, BadOptionsAreConfigErrors) {
  std::ostringstream log;
  auto o = small("/tmp/unused");
  o.classes = 7;
  EXPECT_THROW(data::write_shapes_dataset(o, log), core::ConfigError);
  o.classes = 3;
  o.format = "yolo";
  EXPECT_THROW(data::write_shapes_dataset(o, log), core::ConfigError);
}

}  // namespace
