// Loading a VOC folder for scoring: class-name sources, images that need not
// exist, and a malformed annotation that is reported and skipped.
#include "train/eval/eval_datasets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/error.h"

namespace train {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string annotation(const std::string& objects) {
  return "<annotation><size><width>100</width><height>80</height><depth>3</depth></size>" + objects + "</annotation>";
}

std::string object(const std::string& name, int x1, int y1, int x2, int y2, bool difficult) {
  return "<object><name>" + name + "</name><difficult>" + (difficult ? "1" : "0") + "</difficult><bndbox><xmin>" +
         std::to_string(x1) + "</xmin><ymin>" + std::to_string(y1) + "</ymin><xmax>" + std::to_string(x2) +
         "</xmax><ymax>" + std::to_string(y2) + "</ymax></bndbox></object>";
}

// A year folder with three test images (no JPEGImages at all): 000001 holds
// a dog and a difficult cat, 000002 is not well-formed XML, 000003 is empty.
fs::path make_voc_folder(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("yolo_eval_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  write(dir / "Annotations" / "000001.xml",
        annotation(object("dog", 10, 10, 49, 39, false) + object("cat", 60, 20, 90, 70, true)));
  write(dir / "Annotations" / "000002.xml", "<annotation><size><width>100</width>");
  write(dir / "Annotations" / "000003.xml", annotation(""));
  write(dir / "ImageSets" / "Main" / "test.txt", "000001\n000002\n000003\n");
  write(dir / "ImageSets" / "Main" / "val.txt", "000003\n");
  return dir;
}

TEST(VocFolderEval, MalformedAnnotationIsReportedAndSkipped) {
  const fs::path dir = make_voc_folder("malformed");
  const VocEvalSet set = load_voc_eval_set(dir.string(), "test", {"cat", "dog"});
  EXPECT_EQ(set.gt.image_names, (std::vector<std::string>{"000001", "000003"}));
  ASSERT_EQ(set.skipped.size(), 1u);
  EXPECT_NE(set.skipped[0].path.find("000002.xml"), std::string::npos);
  EXPECT_FALSE(set.skipped[0].reason.empty());
  EXPECT_EQ(set.unreadable_images, (std::vector<std::string>{"000002"}));
  EXPECT_EQ(set.classes_from, "--classes");
  ASSERT_EQ(set.gt.objects[0].size(), 2u);
  EXPECT_EQ(set.gt.objects[0][0].label, 1);  // dog
  EXPECT_DOUBLE_EQ(set.gt.objects[0][0].x2, 49);
  EXPECT_TRUE(set.gt.objects[0][1].difficult);
  // Its detections are dropped, not rejected as an unknown image.
  const DetectionKeys keys = voc_detection_keys(set);
  EXPECT_EQ(keys.unreadable_images, set.unreadable_images);
  fs::remove_all(dir);
}

TEST(VocFolderEval, ClassNamesFromFileThenFlagThenVocDefaults) {
  const fs::path dir = make_voc_folder("classes");
  EXPECT_EQ(load_voc_eval_set(dir.string(), "val", {}).gt.classes.size(), 20u);  // the VOC classes
  EXPECT_EQ(load_voc_eval_set(dir.string(), "val", {"dog", "cat"}).gt.classes, (std::vector<std::string>{"dog", "cat"}));
  write(dir / "classes.txt", "cat\ndog\nbird\n");
  const VocEvalSet from_file = load_voc_eval_set(dir.string(), "val", {"dog", "cat"});
  EXPECT_EQ(from_file.gt.classes, (std::vector<std::string>{"cat", "dog", "bird"}));
  EXPECT_NE(from_file.classes_from.find("classes.txt"), std::string::npos);
  fs::remove_all(dir);
}

TEST(VocFolderEval, MissingSplitOrFolderIsAnError) {
  const fs::path dir = make_voc_folder("missing");
  EXPECT_THROW(load_voc_eval_set(dir.string(), "trainval", {}), core::IoError);
  EXPECT_THROW(load_voc_eval_set((dir / "nope").string(), "test", {}), core::IoError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace train
