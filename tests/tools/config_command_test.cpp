// `yolo config` end to end, in-process: the merged result with -o overrides
// (loadable again), the defaults listing in text and Markdown, and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tools/yolo/cli.h"
#include "train/config_loader.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;

class ConfigCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("config_command_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "yolo");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  std::string write(const std::string& rel, const std::string& text) const {
    std::ofstream((dir_ / rel)) << text;
    return (dir_ / rel).string();
  }

  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(ConfigCommand, PrintsTheMergedConfigWithOverrides) {
  write("base.yml", "model:\n  width: 0.5\n  input_size: 320\n");
  const std::string top = write("top.yml", "_BASE_: base.yml\ndata: {train: 'voc:a', val: 'voc:b'}\n");
  ASSERT_EQ(run({"config", "--config", top, "-o", "model.width=0.25", "-o", "schedule.milestones=[3,4]"}), 0)
      << err_.str();
  const std::string printed = out_.str();
  EXPECT_NE(printed.find("  width: 0.25\n  input_size: 320\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("  milestones: [3.0, 4.0]\n"), std::string::npos) << printed;
  // What it prints loads back to the same config.
  const std::string again = write("again.yml", printed);
  EXPECT_EQ(train::dump_config(train::load_config(again)), printed);
}

TEST_F(ConfigCommand, DefaultsListEveryKey) {
  ASSERT_EQ(run({"config", "--defaults"}), 0) << err_.str();
  const std::string text = out_.str();
  for (const auto& k : train::config_keys()) EXPECT_NE(text.find(k.name), std::string::npos) << k.name;
  EXPECT_NE(text.find("train.max_steps"), std::string::npos);
  ASSERT_EQ(run({"config", "--defaults", "--markdown"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), train::config_reference_markdown());
}

TEST_F(ConfigCommand, ErrorsGoToStderrWithExitStatus1) {
  const std::string top = write("top.yml", "data: {train: 'voc:a', val: 'voc:b'}\nmodel:\n  widht: 1\n");
  EXPECT_EQ(run({"config", "--config", top}), 1);
  EXPECT_NE(err_.str().find(top + ":3:3: unknown key 'model.widht'"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"config", "--config", top, "-o", "nonsense"}), 1);
  EXPECT_EQ(run({"config"}), 1);
  EXPECT_NE(err_.str().find("--defaults"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace yolo
