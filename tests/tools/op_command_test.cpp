// `yolo op` end to end, in-process: inputs and outputs go through .npy files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/npy.h"
#include "core/tape.h"
#include "ops/batch_norm2d.h"
#include "ops/binary.h"
#include "ops/unary.h"
#include "ops/shape_ops.h"
#include "tools/yolo/cli.h"

namespace yolo {
namespace {

using core::DType;
using core::Tensor;
namespace fs = std::filesystem;

class OpCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("op_command_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string save(const std::string& name, const Tensor& t) {
    const std::string path = (dir_ / (name + ".npy")).string();
    core::write_npy(path, t);
    return path;
  }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "yolo");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out_.str("");
    err_.str("");
    return run_cli(static_cast<int>(argv.size()), argv.data(), out_, err_);
  }

  Tensor load(const std::string& name) { return core::read_npy((dir_ / "out" / (name + ".npy")).string()); }
  std::string out_dir() const { return (dir_ / "out").string(); }

  fs::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(OpCommand, MulWritesOutputAndBroadcastGradients) {
  std::mt19937_64 rng(1);
  const Tensor a = Tensor::randn({2, 3}, DType::f64, rng);
  const Tensor b = Tensor::randn({3}, DType::f64, rng);
  const Tensor g = Tensor::randn({2, 3}, DType::f64, rng);
  ASSERT_EQ(run({"op", "mul", "--in", "a=" + save("a", a), "--in", "b=" + save("b", b), "--grad-out", save("g", g),
                 "--out", out_dir()}),
            0)
      << err_.str();

  Tensor la = a.clone(), lb = b.clone();
  la.set_requires_grad();
  lb.set_requires_grad();
  core::Tape tape;
  const Tensor y = ops::mul(tape, la, lb);
  tape.backward(y, g);
  EXPECT_EQ(load("y").to_double_vector(), y.to_double_vector());
  EXPECT_EQ(load("grad_a").to_double_vector(), la.grad().to_double_vector());
  EXPECT_EQ(load("grad_b").to_double_vector(), lb.grad().to_double_vector());
  EXPECT_EQ(load("grad_b").shape(), b.shape());
}

// The fused op through the command: y and running statistics equal to
// batch_norm2d then leaky_relu, gradients written for x, weight and bias.
TEST_F(OpCommand, BatchNormLeakyWritesStatisticsAndGradients) {
  std::mt19937_64 rng(2);
  const Tensor x = Tensor::randn({2, 3, 4, 5}, DType::f64, rng);
  const Tensor w = Tensor::uniform({3}, DType::f64, rng, 0.5, 1.5), b = Tensor::randn({3}, DType::f64, rng);
  const Tensor mean = Tensor::zeros({3}, DType::f64), var = Tensor::ones({3}, DType::f64);
  const Tensor g = Tensor::randn({2, 3, 4, 5}, DType::f64, rng);
  ASSERT_EQ(run({"op", "batch_norm_leaky", "--in", "x=" + save("x", x), "--in", "weight=" + save("w", w), "--in",
                 "bias=" + save("b", b), "--in", "running_mean=" + save("m", mean), "--in", "running_var=" + save("v", var),
                 "--attr", "slope=0.2", "--attr", "momentum=0.5", "--grad-out", save("g", g), "--out", out_dir()}),
            0)
      << err_.str();
  Tensor lx = x.clone();
  lx.set_requires_grad();
  core::Tape tape;
  const auto bn = ops::batch_norm2d(tape, lx, w, b, mean, var, {.momentum = 0.5});
  const Tensor y = ops::leaky_relu(tape, bn.y, {0.2});
  tape.backward(y, g);
  auto near = [](const Tensor& a, const Tensor& e) {
    const auto va = a.to_double_vector(), ve = e.to_double_vector();
    ASSERT_EQ(va.size(), ve.size());
    for (std::size_t i = 0; i < va.size(); ++i) EXPECT_NEAR(va[i], ve[i], 1e-12) << i;
  };
  near(load("y"), y);
  near(load("running_mean_out"), bn.running_mean);
  near(load("running_var_out"), bn.running_var);
  near(load("grad_x"), lx.grad());
  for (const char* f : {"grad_weight", "grad_bias"}) EXPECT_TRUE(fs::exists(dir_ / "out" / (std::string(f) + ".npy"))) << f;
}

TEST_F(OpCommand, VariadicConcatWithAttribute) {
  const Tensor x0 = Tensor::from_vector({1, 2}, {1, 2}, DType::f32);
  const Tensor x1 = Tensor::from_vector({2, 2}, {3, 4, 5, 6}, DType::f32);
  const Tensor g = Tensor::from_vector({3, 2}, {1, 2, 3, 4, 5, 6}, DType::f32);
  ASSERT_EQ(run({"op", "concat", "--in", "x1=" + save("x1", x1), "--in", "x0=" + save("x0", x0), "--attr", "axis=0",
                 "--grad-out", save("g", g), "--out", out_dir()}),
            0)
      << err_.str();
  EXPECT_EQ(load("y").to_double_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(load("y").dtype(), DType::f32);
  EXPECT_EQ(load("grad_x0").to_double_vector(), (std::vector<double>{1, 2}));
  EXPECT_EQ(load("grad_x1").to_double_vector(), (std::vector<double>{3, 4, 5, 6}));
}

TEST_F(OpCommand, NoGradientFilesWithoutGradOut) {
  const std::string x = save("x", Tensor::ones({2}, DType::f64));
  ASSERT_EQ(run({"op", "leaky_relu", "--in", "x=" + x, "--attr", "slope=0.2", "--out", out_dir()}), 0) << err_.str();
  EXPECT_TRUE(fs::exists(dir_ / "out" / "y.npy"));
  EXPECT_FALSE(fs::exists(dir_ / "out" / "grad_x.npy"));
}

TEST_F(OpCommand, ListPrintsEveryOp) {
  ASSERT_EQ(run({"op", "--list"}), 0);
  EXPECT_NE(out_.str().find("leaky_relu"), std::string::npos);
  EXPECT_NE(out_.str().find("attr slope : float = 0.1"), std::string::npos);
}

TEST_F(OpCommand, ErrorsNameTheOpAndTheProblem) {
  const std::string x = save("x", Tensor::ones({2}, DType::f64));
  const std::string x32 = save("x32", Tensor::ones({2}, DType::f32));
  const std::string labels = save("l", Tensor::from_ints({2}, {1, 2}));
  struct Case {
    std::vector<std::string> args;
    const char* fragment;
  };
  const std::vector<Case> cases = {
      {{"op", "frobnicate", "--out", out_dir()}, "unknown op 'frobnicate'"},
      {{"op", "exp", "--in", "x=" + x, "--attr", "slope=1", "--out", out_dir()}, "unknown attribute 'slope'"},
      {{"op", "pow", "--in", "x=" + x, "--out", out_dir()}, "required attribute 'exponent'"},
      {{"op", "pow", "--in", "x=" + x, "--attr", "exponent=two", "--out", out_dir()}, "exponent=two"},
      {{"op", "exp", "--in", "y=" + x, "--out", out_dir()}, "unknown input 'y'"},
      {{"op", "add", "--in", "a=" + x, "--out", out_dir()}, "required input 'b'"},
      {{"op", "add", "--in", "a=" + x, "--in", "b=" + x32, "--out", out_dir()}, "share one dtype"},
      {{"op", "exp", "--in", "x=" + labels, "--out", out_dir()}, "float32 or float64"},
      {{"op", "exp", "--in", "x=" + (dir_ / "missing.npy").string(), "--out", out_dir()}, "missing.npy"},
      {{"op", "exp", "--in", "x=" + x, "--grad-out", x32, "--out", out_dir()}, "--grad-out"},
      {{"op", "add", "--in", "a=" + x, "--in", "b=" + save("b3", Tensor::ones({3}, DType::f64)), "--out", out_dir()},
       "cannot be broadcast"},
      {{"op", "concat", "--in", "x1=" + x, "--out", out_dir()}, "without gaps"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(run(c.args), 0) << c.fragment;
    EXPECT_NE(err_.str().find(c.fragment), std::string::npos) << "stderr: " << err_.str();
  }
}

TEST_F(OpCommand, NotNpyAndTruncatedFilesAreRejected) {
  const std::string junk = (dir_ / "junk.npy").string();
  {
    std::ofstream(junk) << "plain text";
  }
  EXPECT_NE(run({"op", "exp", "--in", "x=" + junk, "--out", out_dir()}), 0);
  EXPECT_NE(err_.str().find("not a .npy file"), std::string::npos) << err_.str();

  const std::string bytes = core::serialize_npy(Tensor::ones({8}, DType::f64));
  const std::string cut = (dir_ / "cut.npy").string();
  {
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 5);
  }
  EXPECT_NE(run({"op", "exp", "--in", "x=" + cut, "--out", out_dir()}), 0);
  EXPECT_NE(err_.str().find("truncated"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace yolo
