// `yolo eval` end to end on tiny VOC and COCO sets: the metrics.json keys
// (a contract), warnings, and the refusal of the model-running form.
#include "tools/yolo/eval_command.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("yolo_eval_cmd_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  return keys;
}

TEST(EvalCommand, VocFolderWithMalformedAnnotation) {
  const fs::path dir = temp_dir("voc");
  write(dir / "Annotations" / "000001.xml",
        "<annotation><size><width>100</width><height>80</height></size>"
        "<object><name>dog</name><difficult>0</difficult><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>49</xmax>"
        "<ymax>39</ymax></bndbox></object></annotation>");
  write(dir / "Annotations" / "000002.xml", "<annotation><size>");
  write(dir / "ImageSets" / "Main" / "test.txt", "000001\n000002\n");
  // The hit on 000001 (x, y, w, h = 10, 10, 39, 29 -> corners 10..49, 10..39),
  // one detection on the unreadable 000002 and one of an unknown class.
  write(dir / "dets.json", R"([
    {"image_id": "000001", "category": "dog", "bbox": [10, 10, 39, 29], "score": 0.9},
    {"image_id": "000002", "category": "dog", "bbox": [1, 1, 5, 5], "score": 0.8},
    {"image_id": "000001", "category": "unicorn", "bbox": [1, 1, 5, 5], "score": 0.7}])");
  EvalArgs args;
  args.dataset = "voc:" + dir.string();
  args.detections = (dir / "dets.json").string();
  args.classes = "cat,dog";
  args.out = (dir / "metrics.json").string();
  std::ostringstream out, err;
  run_eval_command(args, out, err);
  EXPECT_NE(err.str().find("000002.xml"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("dropped 2 of 3"), std::string::npos) << err.str();
  EXPECT_NE(out.str().find("mAP"), std::string::npos);

  const auto j = nlohmann::ordered_json::parse(core::read_file(args.out));
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"mAP_11point", "mAP_area", "per_class", "num_images",
                                                  "num_detections", "dropped_detections"}));
  EXPECT_DOUBLE_EQ(j["mAP_area"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["per_class"]["dog"]["ap_area"].get<double>(), 1.0);
  EXPECT_EQ(j["per_class"]["dog"]["npos"].get<int>(), 1);
  EXPECT_TRUE(j["per_class"]["cat"]["ap_11point"].is_null());
  EXPECT_TRUE(j["per_class"]["cat"]["ap_area"].is_null());
  EXPECT_EQ(j["num_images"].get<int>(), 1);
  EXPECT_EQ(j["num_detections"].get<int>(), 1);
  EXPECT_EQ(j["dropped_detections"].get<int>(), 2);
  fs::remove_all(dir);
}

TEST(EvalCommand, CocoWithPerCategory) {
  const fs::path dir = temp_dir("coco");
  write(dir / "gt.json", R"({"images": [{"id": 1}, {"id": 2}],
    "categories": [{"id": 3, "name": "cat"}, {"id": 5, "name": "dog"}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [0, 0, 100, 100], "area": 10000, "iscrowd": 0}]})");
  write(dir / "dets.json", R"([{"image_id": 1, "category_id": 3, "bbox": [0, 0, 100, 100], "score": 0.9},
    {"image_id": 2, "category_id": 91, "bbox": [0, 0, 10, 10], "score": 0.5}])");
  EvalArgs args;
  args.dataset = "coco:" + (dir / "gt.json").string();
  args.detections = (dir / "dets.json").string();
  args.out = (dir / "metrics.json").string();
  args.per_category = true;
  std::ostringstream out, err;
  run_eval_command(args, out, err);
  const auto j = nlohmann::ordered_json::parse(core::read_file(args.out));
  EXPECT_EQ(keys_of(j), (std::vector<std::string>{"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100",
                                                  "ARs", "ARm", "ARl", "num_images", "num_detections",
                                                  "dropped_detections", "per_category"}));
  EXPECT_DOUBLE_EQ(j["AP"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["APs"].get<double>(), -1.0);
  EXPECT_DOUBLE_EQ(j["per_category"]["cat"]["AP"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["per_category"]["dog"]["AP"].get<double>(), -1.0);
  EXPECT_EQ(j["dropped_detections"].get<int>(), 1);
  EXPECT_NE(err.str().find("category_id 91"), std::string::npos) << err.str();
  EXPECT_NE(out.str().find("maxDets=100"), std::string::npos);
  fs::remove_all(dir);
}

TEST(EvalCommand, RefusesWhatItCannotDo) {
  EvalArgs model;
  model.cfg = "yolov3.cfg";
  model.weights = "yolov3.weights";
  model.dataset = "voc:/tmp";
  std::ostringstream out, err;
  // The model-running form runs (tests/tools/eval_model_command_test.cpp);
  // here its weights file is missing.
  EXPECT_THROW(run_eval_command(model, out, err), core::IoError);
  model.dataset.clear();
  EXPECT_THROW(run_eval_command(model, out, err), core::ConfigError);
  EvalArgs no_dets;
  no_dets.dataset = "voc:/tmp";
  EXPECT_THROW(run_eval_command(no_dets, out, err), core::ConfigError);
  EvalArgs darknet;
  darknet.dataset = "darknet:list.txt";
  darknet.detections = "dets.json";
  EXPECT_THROW(run_eval_command(darknet, out, err), core::ConfigError);
}

}  // namespace
}  // namespace yolo
