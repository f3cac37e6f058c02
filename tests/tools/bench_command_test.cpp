// `yolo bench` in-process on a small two-head cfg: the JSON contract, the
// profile, the written cfg and the errors for bad flags.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "models/cfg_reader.h"
#include "models/network_summary.h"
#include "ops/backend/dnnl.h"
#include "tools/yolo/cli.h"

namespace yolo {
namespace {

namespace fs = std::filesystem;

const char* kCfg = R"([net]
width=64
height=64
channels=3
batch=4
subdivisions=2

[convolutional]
batch_normalize=1
filters=8
size=3
stride=2
pad=1
activation=leaky

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[shortcut]
from=-2
activation=linear

[convolutional]
filters=14
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=0,1
anchors=10,13,16,30,33,23
classes=2
num=3

[route]
layers=-3

[upsample]
stride=2

[convolutional]
filters=14
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=1,2
anchors=10,13,16,30,33,23
classes=2
num=3
)";

class BenchCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bench_command_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    std::ofstream(path("net.cfg")) << kCfg;
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
  nlohmann::json last_json_line() const {
    std::istringstream lines(out_.str());
    std::string line, last;
    while (std::getline(lines, line)) {
      if (!line.empty()) last = line;
    }
    return nlohmann::json::parse(last);
  }
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(BenchCommand, TrainReportsTheJsonContract) {
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--steps", "3", "--threads", "1", "--json"}), 0)
      << err_.str();
  const auto j = last_json_line();
  // Size and batch come from the cfg: 64 x 64, batch / subdivisions = 2.
  EXPECT_EQ(j.at("size"), 64);
  EXPECT_EQ(j.at("batch"), 2);
  EXPECT_EQ(j.at("threads"), 1);
  EXPECT_EQ(j.at("step_s").size(), 3u);
  const double median = j.at("median_step_s");
  EXPECT_NEAR(j.at("images_per_s").get<double>(), 2 / median, 1e-9 * (2 / median));
  const double flop = static_cast<double>(models::summarize_network(models::read_network_cfg(path("net.cfg")), 64, 64).flops);
  EXPECT_NEAR(j.at("gflops_per_s").get<double>(), 3 * flop / 1e9 * 2 / median, 1e-6 * j.at("gflops_per_s").get<double>());
  EXPECT_GT(j.at("sgemm_gflops_per_s").get<double>(), 0);
  EXPECT_NEAR(j.at("peak_fraction").get<double>(),
              j.at("gflops_per_s").get<double>() / j.at("sgemm_gflops_per_s").get<double>(), 1e-12);
  EXPECT_GT(j.at("peak_rss_mb").get<double>(), 1);
  EXPECT_GT(j.at("first_step_s").get<double>(), 0);
  EXPECT_EQ(j.at("loss"), "squares");
  EXPECT_EQ(j.at("new_size"), 96);
  EXPECT_NEAR(j.at("new_size_step_ratio").get<double>(), j.at("new_size_step_s").get<double>() / median, 1e-9);
}

TEST_F(BenchCommand, SizeBatchAndLossFlagsApply) {
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--size", "96", "--batch", "3", "--steps", "1",
                 "--threads", "1", "--loss", "yolo", "--json"}),
            0)
      << err_.str();
  const auto j = last_json_line();
  EXPECT_EQ(j.at("size"), 96);
  EXPECT_EQ(j.at("batch"), 3);
  EXPECT_EQ(j.at("loss"), "yolo");
}

// --subdivisions N: a step is N passes accumulated into one update, so
// images/s counts N x batch images per step; train only.
TEST_F(BenchCommand, SubdivisionsCountEveryPassOfAStep) {
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--batch", "2", "--subdivisions", "3", "--steps", "2",
                 "--threads", "1", "--json"}),
            0)
      << err_.str();
  const auto j = last_json_line();
  EXPECT_EQ(j.at("batch"), 2);
  EXPECT_EQ(j.at("subdivisions"), 3);
  const double median = j.at("median_step_s");
  EXPECT_NEAR(j.at("images_per_s").get<double>(), 6 / median, 1e-9 * (6 / median));
  EXPECT_NE(err_.str().find("batch 2 x 3 passes a step"), std::string::npos) << err_.str();
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--steps", "1", "--threads", "1", "--json"}), 0);
  EXPECT_EQ(last_json_line().at("subdivisions"), 1);
  EXPECT_EQ(run({"bench", "forward", "--cfg", path("net.cfg"), "--subdivisions", "2"}), 1);
  EXPECT_NE(err_.str().find("--subdivisions is for bench train"), std::string::npos) << err_.str();
  EXPECT_NE(run({"bench", "train", "--cfg", path("net.cfg"), "--subdivisions", "0"}), 0);
  if (ops::backend::bf16_supported()) {  // where the passes keep their bf16 weights
    ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--subdivisions", "2", "--precision", "bf16",
                   "--steps", "1", "--threads", "1", "--json"}),
              0)
        << err_.str();
    EXPECT_EQ(last_json_line().at("subdivisions"), 2);
  }
}

// --multiscale-steps: each step at a random size from size - 64 (at least
// 32) to size + 64 by 32, in the JSON per step and summarised in the log.
TEST_F(BenchCommand, MultiscaleStepsAreReportedAtTheirSizes) {
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--size", "96", "--steps", "1", "--threads", "1",
                 "--multiscale-steps", "6", "--json"}),
            0)
      << err_.str();
  const auto j = last_json_line();
  const auto& steps = j.at("multiscale_steps");
  ASSERT_EQ(steps.size(), 6u);
  std::set<int> seen;
  for (const auto& step : steps) {
    const int size = step.at("size");
    EXPECT_TRUE(size >= 32 && size <= 160 && size % 32 == 0) << size;
    seen.insert(size);
    EXPECT_GT(step.at("step_s").get<double>(), 0);
    EXPECT_TRUE(step.contains("page_faults"));
  }
  EXPECT_GE(seen.size(), 2u) << "every step at one size";
  EXPECT_NE(err_.str().find("multi-scale: 6 steps at random sizes"), std::string::npos) << err_.str();
  // Every size the bench steps at was prepared first, largest first.
  EXPECT_EQ(j.at("prepared").at("sizes"), nlohmann::json({160, 128, 96, 64, 32}));
  EXPECT_GT(j.at("prepared").at("seconds").get<double>(), 0);
  EXPECT_GT(j.at("prepared").at("primitives").get<int>(), 0);
  EXPECT_GT(j.at("new_size_steady_step_s").get<double>(), 0);
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--steps", "1", "--threads", "1", "--json"}), 0);
  EXPECT_FALSE(last_json_line().contains("multiscale_steps"));
  EXPECT_EQ(last_json_line().at("prepared").at("sizes").size(), 2u) << "the size and size + 32";
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--steps", "1", "--threads", "1", "--no-prepare",
                 "--json"}),
            0);
  EXPECT_FALSE(last_json_line().contains("prepared"));
}

TEST_F(BenchCommand, ForwardHasNoLossAndCountsOneForward) {
  ASSERT_EQ(run({"bench", "forward", "--cfg", path("net.cfg"), "--batch", "1", "--steps", "2", "--threads", "1",
                 "--json"}),
            0)
      << err_.str();
  const auto j = last_json_line();
  EXPECT_FALSE(j.contains("loss"));
  // The size and size + 32 prepared for inference, unless --no-prepare.
  EXPECT_EQ(j.at("prepared").at("sizes"), nlohmann::json({96, 64}));
  ASSERT_EQ(run({"bench", "forward", "--cfg", path("net.cfg"), "--batch", "1", "--steps", "1", "--threads", "1",
                 "--no-prepare", "--json"}),
            0);
  EXPECT_FALSE(last_json_line().contains("prepared"));
  const double flop = static_cast<double>(models::summarize_network(models::read_network_cfg(path("net.cfg")), 64, 64).flops);
  EXPECT_NEAR(j.at("gflops_per_s").get<double>(), flop / 1e9 * j.at("images_per_s").get<double>(),
              1e-6 * j.at("gflops_per_s").get<double>());
}

TEST_F(BenchCommand, ProfileNamesTheNetworksOps) {
  ASSERT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--steps", "1", "--threads", "1", "--profile"}), 0)
      << err_.str();
  // Per step: 4 convolutions, 2 fused batch norm + leaky ReLU blocks, one upsample.
  const std::string log = err_.str();
  for (const char* op : {"conv2d", "batch_norm_leaky", "upsample_nearest2d", "add"}) {
    EXPECT_NE(log.find(op), std::string::npos) << op << " missing from\n" << log;
  }
  std::istringstream lines(log);
  std::string line;
  int conv_calls = -1;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    int calls = 0;
    if (fields >> name >> calls && name == "conv2d") conv_calls = calls;
  }
  EXPECT_EQ(conv_calls, 4) << log;
}

TEST_F(BenchCommand, WrittenCfgDescribesTheSameNetwork) {
  ASSERT_EQ(run({"bench", "forward", "--cfg", path("net.cfg"), "--steps", "1", "--threads", "1", "--write-cfg",
                 path("copy.cfg")}),
            0)
      << err_.str();
  const auto a = models::summarize_network(models::read_network_cfg(path("net.cfg")), 64, 64);
  const auto b = models::summarize_network(models::read_network_cfg(path("copy.cfg")), 64, 64);
  EXPECT_EQ(a.flops, b.flops);
  EXPECT_EQ(a.parameters, b.parameters);
  EXPECT_EQ(a.layers.size(), b.layers.size());
}

TEST_F(BenchCommand, BadFlagsAreNamed) {
  EXPECT_EQ(run({"bench", "train", "--steps", "1"}), 1);
  EXPECT_NE(err_.str().find("exactly one of --cfg"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"bench", "train", "--cfg", path("net.cfg"), "--size", "80"}), 1);
  EXPECT_NE(err_.str().find("--size 80"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"bench", "train", "--cfg", path("missing.cfg")}), 1);
  EXPECT_NE(err_.str().find("missing.cfg"), std::string::npos) << err_.str();
  EXPECT_NE(run({"bench", "sideways", "--cfg", path("net.cfg")}), 0);
}

// bf16 runs where the CPU has AVX512-BF16 and is refused with the reason
// elsewhere, never emulated.
TEST_F(BenchCommand, Bf16RunsOrIsRefusedWithTheReason) {
  const int rc = run({"bench", "train", "--cfg", path("net.cfg"), "--precision", "bf16", "--steps", "1",
                      "--threads", "1", "--json"});
  if (!ops::backend::bf16_supported()) {
    EXPECT_EQ(rc, 1);
    EXPECT_NE(err_.str().find("AVX512-BF16"), std::string::npos) << err_.str();
    GTEST_SKIP() << "this CPU lacks AVX512-BF16: " << err_.str();
  }
  ASSERT_EQ(rc, 0) << err_.str();
  EXPECT_EQ(last_json_line().at("precision"), "bf16");
}

}  // namespace
}  // namespace yolo
