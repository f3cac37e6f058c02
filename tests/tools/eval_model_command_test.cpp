// Model-mode `yolo eval` end to end on a narrow random-weight model and the
// tiny shapes data set, in VOC and COCO form: metrics.json with the
// contract's keys and a results file the results-file form scores again.
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/atomic_file.h"
#include "tests/tools/inference_fixture.h"

namespace yolo {
namespace {

using EvalModelCommand = InferenceFixture;

TEST_F(EvalModelCommand, VocSplitMetricsAndDetections) {
  const std::string spec = "voc:" + path("shapes/voc") + ":val";
  ASSERT_EQ(run({"eval", "--weights", path("tiny.ckpt"), "--dataset", spec, "--save-detections", path("dets.json"),
                 "--out", path("metrics.json"), "--batch", "1"}),
            0)
      << err_.str();
  EXPECT_NE(out_.str().find("mAP"), std::string::npos) << out_.str();
  EXPECT_NE(err_.str().find("eval: 2 images in"), std::string::npos) << err_.str();  // the progress's last line
  const nlohmann::json m = nlohmann::json::parse(core::read_file(path("metrics.json")));
  for (const char* key : {"mAP_11point", "mAP_area", "per_class", "num_images", "num_detections", "dropped_detections"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  EXPECT_EQ(m.at("num_images").get<int>(), 2);
  EXPECT_TRUE(m.at("per_class").contains("circle"));
  const nlohmann::json dets = nlohmann::json::parse(core::read_file(path("dets.json")));
  ASSERT_TRUE(dets.is_array());
  EXPECT_EQ(dets.size(), m.at("num_detections").get<std::size_t>());
  EXPECT_LE(dets.size(), 2u * 100);  // max_dets per image

  // The saved detections score the same through the results-file form.
  ASSERT_EQ(run({"eval", "--dataset", spec, "--detections", path("dets.json"), "--out", path("again.json")}), 0)
      << err_.str();
  const nlohmann::json again = nlohmann::json::parse(core::read_file(path("again.json")));
  EXPECT_EQ(again.at("mAP_area"), m.at("mAP_area"));
  EXPECT_EQ(again.at("num_detections"), m.at("num_detections"));
}

TEST_F(EvalModelCommand, CocoAnnotations) {
  ASSERT_EQ(run({"eval", "--weights", path("tiny.ckpt"), "--dataset",
                 "coco:" + path("shapes/coco/annotations/instances_val.json"), "--out", path("metrics.json")}),
            0)
      << err_.str();
  const nlohmann::json m = nlohmann::json::parse(core::read_file(path("metrics.json")));
  for (const char* key : {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
                          "num_images", "num_detections", "dropped_detections"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  EXPECT_EQ(m.at("num_images").get<int>(), 2);
}

TEST_F(EvalModelCommand, TrainingConfigForm) {
  // --config names the model and the data set; --split picks data.val (default) or data.train.
  const std::string config = write_config();
  ASSERT_EQ(run({"eval", "--config", config, "--weights", path("tiny.ckpt"), "--out", path("val.json")}), 0) << err_.str();
  EXPECT_EQ(nlohmann::json::parse(core::read_file(path("val.json"))).at("num_images").get<int>(), 2);
  ASSERT_EQ(run({"eval", "--config", config, "--split", "train", "--weights", path("tiny.ckpt"), "--out",
                 path("train.json")}),
            0)
      << err_.str();
  const nlohmann::json m = nlohmann::json::parse(core::read_file(path("train.json")));
  EXPECT_EQ(m.at("num_images").get<int>(), 16);
  EXPECT_TRUE(m.contains("mAP_area"));
  EXPECT_EQ(run({"eval", "--config", config, "--split", "test", "--weights", path("tiny.ckpt")}), 1);
  EXPECT_NE(err_.str().find("--split"), std::string::npos) << err_.str();
}

TEST_F(EvalModelCommand, ClearErrors) {
  const std::string spec = "voc:" + path("shapes/voc") + ":val";
  EXPECT_EQ(run({"eval", "--weights", path("tiny.ckpt"), "--dataset", spec, "--detections", path("d.json")}), 1);
  EXPECT_NE(err_.str().find("--detections"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"eval", "--weights", path("tiny.ckpt")}), 1);
  EXPECT_NE(err_.str().find("--dataset"), std::string::npos) << err_.str();
  // A VOC folder whose classes.txt names more classes than the model predicts.
  std::ofstream(path("shapes/voc/classes.txt")) << "circle\nrectangle\ntriangle\n";
  EXPECT_EQ(run({"eval", "--weights", path("tiny.ckpt"), "--dataset", spec}), 1);
  EXPECT_NE(err_.str().find("2 classes"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace yolo
