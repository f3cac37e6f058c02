// VOC reader on hand-written annotation files.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "core/error.h"
#include "data/class_names.h"
#include "data/dataset_spec.h"
#include "data/voc_reader.h"
#include "tests/data/fixture.h"

namespace {

using data_test::expect_error;
using data_test::TempDir;
using data_test::write_text;

std::string object_xml(const std::string& name, int difficult, const std::string& box) {
  return fmt::format("<object><name>{}</name><difficult>{}</difficult><bndbox>{}</bndbox></object>", name, difficult,
                     box);
}

std::string annotation_xml(const std::string& file, int w, int h, const std::string& objects) {
  return fmt::format("<annotation><filename>{}</filename><size><width>{}</width><height>{}</height><depth>3</depth>"
                     "</size>{}</annotation>",
                     file, w, h, objects);
}

const std::string kDogBox = "<xmin>10</xmin><ymin>20</ymin><xmax>30</xmax><ymax>44</ymax>";

// One year folder with images 000001 (dog + difficult cat) and 000002 (person).
void write_year(const std::string& dir) {
  write_text(dir + "/Annotations/000001.xml",
             annotation_xml("000001.jpg", 48, 64,
                            object_xml("dog", 0, kDogBox) +
                                object_xml("cat", 1, "<xmin>1</xmin><ymin>2</ymin><xmax>48</xmax><ymax>64</ymax>")));
  write_text(dir + "/Annotations/000002.xml",
             annotation_xml("000002.jpg", 40, 30,
                            object_xml("person", 0, "<xmin>5.5</xmin><ymin>6</ymin><xmax>20</xmax><ymax>29</ymax>")));
  data_test::write_png(dir + "/JPEGImages/000001.jpg", 48, 64);
  data_test::write_png(dir + "/JPEGImages/000002.jpg", 40, 30);
  write_text(dir + "/ImageSets/Main/train.txt", "000001\n");
  write_text(dir + "/ImageSets/Main/val.txt", "000002\n");
  write_text(dir + "/ImageSets/Main/trainval.txt", "000001\n000002\n");
}

TEST(VocReader, ReadsBoxesLabelsAndDifficultFlags) {
  TempDir dir;
  write_year(dir.str());
  const auto rec = data::read_voc_annotation(dir / "Annotations/000001.xml", dir / "JPEGImages", data::voc_classes());
  EXPECT_EQ(rec.width, 48);
  EXPECT_EQ(rec.height, 64);
  EXPECT_EQ(rec.name, "000001");
  EXPECT_EQ(rec.path, dir / "JPEGImages/000001.jpg");
  ASSERT_EQ(rec.objects.size(), 2u);
  EXPECT_EQ(rec.objects[0].label, data::find_class(data::voc_classes(), "dog"));
  EXPECT_EQ(rec.objects[0].label, 11);
  EXPECT_FALSE(rec.objects[0].difficult);
  EXPECT_FLOAT_EQ(rec.objects[0].box.x1, 10);
  EXPECT_FLOAT_EQ(rec.objects[0].box.y1, 20);
  EXPECT_FLOAT_EQ(rec.objects[0].box.x2, 30);
  EXPECT_FLOAT_EQ(rec.objects[0].box.y2, 44);
  EXPECT_EQ(rec.objects[1].label, 7);  // cat
  EXPECT_TRUE(rec.objects[1].difficult);
}

TEST(VocReader, SpecCombinesSplitsAndYearsAndUsesClassesTxt) {
  TempDir dir;
  write_year(dir / "VOC2007");
  write_year(dir / "VOC2012");
  const auto one = data::read_dataset("voc:" + (dir / "VOC2007") + ":train", {});
  EXPECT_EQ(one.images.size(), 1u);
  const auto both = data::read_dataset("voc:" + (dir / "VOC2007") + ":train+val", {});
  EXPECT_EQ(both.images.size(), 2u);
  const auto devkit = data::read_dataset("voc:" + dir.str(), {});  // trainval of both years
  EXPECT_EQ(devkit.images.size(), 4u);
  EXPECT_EQ(devkit.classes.size(), 20u);
  EXPECT_TRUE(devkit.skipped.empty());

  write_text(dir / "VOC2007/classes.txt", "person\ndog\n\ncat\n");
  const auto custom = data::read_dataset("voc:" + (dir / "VOC2007") + ":trainval", {});
  ASSERT_EQ(custom.classes, (std::vector<std::string>{"person", "dog", "cat"}));
  EXPECT_EQ(custom.images[0].objects[0].label, 1);
  EXPECT_EQ(custom.images[1].objects[0].label, 0);
}

TEST(VocReader, MalformedFilesAreErrorsNamingFileAndProblem) {
  TempDir dir;
  const auto& classes = data::voc_classes();
  auto check = [&](const std::string& name, const std::string& xml, std::initializer_list<std::string> frags) {
    write_text(dir / name, xml);
    expect_error<core::IoError>([&] { data::read_voc_annotation(dir / name, dir.str(), classes); }, frags);
  };
  check("broken.xml", "<annotation><size><width>4</width></size>", {"broken.xml", "not well formed"});
  check("nosize.xml", "<annotation><filename>a.jpg</filename></annotation>", {"nosize.xml", "<size>"});
  check("nowidth.xml", "<annotation><size><height>4</height></size></annotation>", {"nowidth.xml", "<width>"});
  check("badnum.xml", annotation_xml("a.jpg", 48, 64, object_xml("dog", 0, "<xmin>1</xmin><ymin>a</ymin>"
                                                                          "<xmax>3</xmax><ymax>4</ymax>")),
        {"badnum.xml", "<ymin>", "not a number"});
  check("noxmax.xml", annotation_xml("a.jpg", 48, 64, object_xml("dog", 0, "<xmin>1</xmin><ymin>2</ymin><ymax>4</ymax>")),
        {"noxmax.xml", "object 1", "<xmax>"});
  check("unknown.xml", annotation_xml("a.jpg", 48, 64, object_xml("unicorn", 0, kDogBox)),
        {"unknown.xml", "unknown class name 'unicorn'"});
  check("negative.xml",
        annotation_xml("a.jpg", 48, 64, object_xml("dog", 0, "<xmin>30</xmin><ymin>2</ymin><xmax>10</xmax><ymax>4</ymax>")),
        {"negative.xml", "negative or zero size"});
  check("outside.xml",
        annotation_xml("a.jpg", 48, 64, object_xml("dog", 0, "<xmin>3</xmin><ymin>2</ymin><xmax>90</xmax><ymax>4</ymax>")),
        {"outside.xml", "outside the 48x64 image"});
  // Numbers beyond int's or float's range are rejected before conversion
  // (fuzz_voc_xml: 2.5e36 as a width was undefined behaviour).
  check("hugesize.xml",
        "<annotation><filename>a.jpg</filename><size><width>2.5e36</width><height>4</height></size></annotation>",
        {"hugesize.xml", "<size>", "not a positive size"});
  check("hugebox.xml",
        annotation_xml("a.jpg", 48, 64, object_xml("dog", 0, "<xmin>1e300</xmin><ymin>2</ymin><xmax>90</xmax><ymax>4</ymax>")),
        {"hugebox.xml", "<xmin>", "outside any image"});
}

TEST(VocReader, MissingFolderOrRootIsAnError) {
  TempDir dir;
  write_text(dir / "noroot.xml", "<notes/>");
  expect_error<core::IoError>([&] { data::read_voc_annotation(dir / "noroot.xml", dir.str(), data::voc_classes()); },
                              {"noroot.xml: no <annotation> root element"});
  expect_error<core::IoError>([&] { data::read_dataset("voc:" + (dir / "novoc"), {}); },
                              {"novoc: neither a VOC year folder (with Annotations/) nor a VOCdevkit folder"});
}

TEST(VocReader, BadEntriesAreSkippedAndCountedWhileReadingADataSet) {
  TempDir dir;
  write_year(dir.str());
  write_text(dir / "Annotations/000003.xml", "<annotation>");                                  // not well formed
  write_text(dir / "Annotations/000004.xml", annotation_xml("000004.jpg", 20, 20, ""));        // image missing
  write_text(dir / "ImageSets/Main/all.txt", "000001\n000003\n000004\n000005\n000002\n");     // 000005: no XML
  const auto ds = data::read_dataset("voc:" + dir.str() + ":all", {});
  ASSERT_EQ(ds.images.size(), 2u);
  ASSERT_EQ(ds.skipped.size(), 3u);
  EXPECT_NE(ds.skipped[0].reason.find("000003.xml"), std::string::npos);
  EXPECT_NE(ds.skipped[1].reason.find("000004.jpg"), std::string::npos);
  EXPECT_NE(ds.skipped[1].reason.find("does not exist"), std::string::npos);
  EXPECT_NE(ds.skipped[2].reason.find("000005.xml"), std::string::npos);
  expect_error<core::IoError>([&] { data::read_dataset("voc:" + dir.str() + ":nosuchsplit", {}); },
                              {"nosuchsplit", "does not exist"});
}

TEST(VocReader, EmptyImagesAreKeptOrSkippedByOption) {
  TempDir dir;
  write_year(dir.str());
  write_text(dir / "Annotations/000009.xml", annotation_xml("000009.jpg", 20, 20, ""));
  data_test::write_png(dir / "JPEGImages/000009.jpg", 20, 20);
  write_text(dir / "ImageSets/Main/e.txt", "000001\n000009\n");
  EXPECT_EQ(data::read_dataset("voc:" + dir.str() + ":e", {}).images.size(), 2u);
  data::ReadOptions skip_empty;
  skip_empty.keep_empty_images = false;
  EXPECT_EQ(data::read_dataset("voc:" + dir.str() + ":e", skip_empty).images.size(), 1u);
}

}  // namespace
