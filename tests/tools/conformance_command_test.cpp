// `yolo conformance yolo_loss FILE.json`, in-process, on small vector files
// written here: the worked example of docs/yolo_loss.md passes in both dtypes,
// a wrong expected value fails with a non-zero exit, and broken files are
// reported as errors. The dev vectors themselves run through ctest.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/yolo/cli.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;

// The worked example as a vector file; expected values are the hand-checked
// figures. `loss_offset` corrupts the expected loss.
std::string worked_example_json(double loss_offset = 0.0, const std::string& extra_case_keys = "") {
  std::vector<double> x(48, 0.0), dx(48, 0.0);
  auto at = [](int c, int k, int l) { return (c * 2 + k) * 2 + l; };
  x[at(4, 1, 0)] = 1.0;
  x[at(2, 1, 0)] = -0.5;
  dx[at(0, 1, 0)] = (0.5 - 0.6) * 1.6;
  dx[at(1, 1, 0)] = (0.5 - 0.2) * 1.6;
  dx[at(2, 1, 0)] = -1.6;
  dx[at(3, 1, 0)] = 1.6;
  dx[at(5, 1, 0)] = 0.5 - 0.975;
  dx[at(4, 1, 0)] = 1.0 / (1.0 + std::exp(-1.0)) - 1.0;
  dx[at(4, 0, 1)] = dx[at(4, 1, 1)] = 0.5;
  for (int hw = 0; hw < 4; ++hw) dx[at(10, hw / 2, hw % 2)] = 0.5;
  return fmt::format(
      R"({{"format": "yolo_loss_vectors/1", "seed": 0, "notes": [], "future_key": {{"a": 1}},
  "cases": [{{"name": "worked_example", "note": "the worked example of docs/yolo_loss.md", {}
    "attrs": {{"anchors": [10, 13, 16, 30], "anchor_mask": [0, 1], "class_num": 1, "ignore_thresh": 0.3,
              "downsample_ratio": 8, "use_label_smooth": true, "scale_x_y": 1.0}},
    "x": {{"shape": [1, 12, 2, 2], "data": [{}]}},
    "gt_box": {{"shape": [1, 1, 4], "data": [0.3, 0.6, 0.5, 0.8]}},
    "gt_label": {{"shape": [1, 1], "data": [0]}},
    "gt_score": null,
    "dloss": {{"shape": [1], "data": [1.0]}},
    "expected": {{"loss": {{"shape": [1], "data": [{}]}},
                 "objectness_mask": {{"shape": [1, 2, 2, 2], "data": [-1, 0, 1, 0, 0, 0, 0, 0]}},
                 "gt_match_mask": {{"shape": [1, 1], "data": [0]}},
                 "dx": {{"shape": [1, 12, 2, 2], "data": [{}]}}}},
    "float32_safe": true, "margins": {{}}, "stats": {{"anything": [1, 2]}}}}]}})",
      extra_case_keys, fmt::join(x, ", "), 7.851139945584474 + loss_offset, fmt::join(dx, ", "));
}

class ConformanceCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("conformance_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text) {
    const std::string path = (dir_ / "vectors.json").string();
    std::ofstream(path) << text;
    return path;
  }

  int run(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"yolo"};
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(ConformanceCommand, WorkedExamplePassesInBothDtypes) {
  EXPECT_EQ(run({"conformance", "yolo_loss", write(worked_example_json())}), 0) << out_.str() << err_.str();
  EXPECT_NE(out_.str().find("PASS worked_example float64"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("PASS worked_example float32"), std::string::npos) << out_.str();
  EXPECT_TRUE(out_.str().ends_with("2 passed, 0 failed\n")) << out_.str();
}

TEST_F(ConformanceCommand, WrongExpectedLossFails) {
  // 1e-8 relative: beyond float64's 1e-10, within float32's 1e-5.
  EXPECT_EQ(run({"conformance", "yolo_loss", write(worked_example_json(7.85e-8))}), 1);
  EXPECT_NE(out_.str().find("FAIL worked_example float64"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("PASS worked_example float32"), std::string::npos) << out_.str();
  EXPECT_TRUE(out_.str().ends_with("1 passed, 1 failed\n")) << out_.str();
}

TEST_F(ConformanceCommand, CaseRejectedByTheOpFailsAndOthersStillRun) {
  std::string text = worked_example_json();
  // A second case whose gt centre lies outside the image (rejected by this project).
  const auto begin = text.find("{\"name\"");
  const auto end = text.rfind("]}");
  std::string bad = text.substr(begin, end - begin);
  bad.replace(bad.find("worked_example"), 14, "outside_image");
  bad.replace(bad.find("[0.3, 0.6, 0.5, 0.8]"), 20, "[1.0, 0.6, 0.5, 0.8]");
  text.insert(end, ", " + bad);
  EXPECT_EQ(run({"conformance", "yolo_loss", write(text)}), 1);
  EXPECT_NE(out_.str().find("FAIL outside_image float64: yolo_loss: gt_box[0, 0]"), std::string::npos) << out_.str();
  EXPECT_TRUE(out_.str().ends_with("2 passed, 2 failed\n")) << out_.str();
}

TEST_F(ConformanceCommand, BrokenFilesAreErrors) {
  EXPECT_EQ(run({"conformance", "yolo_loss", (dir_ / "missing.json").string()}), 1);
  EXPECT_NE(err_.str().find("cannot open"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"conformance", "yolo_loss", write("{\"format\": ")}), 1);
  EXPECT_NE(err_.str().find("is not valid JSON"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"conformance", "yolo_loss", write(R"({"format": "other/2", "cases": []})")}), 1);
  EXPECT_NE(err_.str().find("\"other/2\""), std::string::npos) << err_.str();
  EXPECT_EQ(run({"conformance", "conv2d", write(worked_example_json())}), 1);
  EXPECT_NE(err_.str().find("no conformance vectors are defined for op 'conv2d'"), std::string::npos) << err_.str();
}

TEST_F(ConformanceCommand, MalformedCaseCountsAsAFailure) {
  std::string text = worked_example_json();
  text.replace(text.find("\"shape\": [1, 1, 4]"), 18, "\"shape\": [1, 2, 4]");
  EXPECT_EQ(run({"conformance", "yolo_loss", write(text)}), 1);
  EXPECT_NE(out_.str().find("FAIL worked_example: gt_box has 4 values for shape [1,2,4]"), std::string::npos)
      << out_.str();
  EXPECT_TRUE(out_.str().ends_with("0 passed, 1 failed\n")) << out_.str();
}

}  // namespace
}  // namespace yolo
