#include "models/yolov3.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "models/cfg_reader.h"
#include "models/cfg_writer.h"
#include "models/darknet_network.h"
#include "models/detection_loss.h"

namespace models {
namespace {

using core::DType;
using core::Tape;
using core::Tensor;

YoloV3Options narrow(int classes = 3) {
  YoloV3Options o;
  o.num_classes = classes;
  o.width = 1.0 / 16;
  o.input_size = 64;
  return o;
}

DetectionTargets targets(int n, DType dtype) {
  // Two boxes per image, one padding row; centres inside the 64x64 input.
  std::vector<double> boxes, scores;
  std::vector<std::int32_t> labels;
  for (int i = 0; i < n; ++i) {
    boxes.insert(boxes.end(), {0.31, 0.42, 0.5, 0.36, 0.72, 0.63, 0.12, 0.2, 0, 0, 0, 0});
    labels.insert(labels.end(), {1, 2, 0});
    scores.insert(scores.end(), {1, 0.8, 1});
  }
  return {Tensor::from_vector({n, 3, 4}, boxes, dtype), Tensor::from_ints({n, 3}, labels),
          Tensor::from_vector({n, 3}, scores, dtype)};
}

TEST(YoloV3, GeneratorReproducesDarknetsYolov3Cfg) {
  const std::string path = "/usr/share/darknet/cfg/yolov3.cfg";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not installed (Debian package darknet)";
  NetworkDef shipped = read_network_cfg(path);
  const GeneratedNetwork built = yolov3(YoloV3Options{});
  // Training-only [yolo] keys (jitter, random, ...) are the data pipeline's business.
  for (std::size_t i = 0; i < shipped.layers.size(); ++i) {
    if (auto* y = std::get_if<YoloLayer>(&shipped.layers[i].spec)) {
      const auto& b = std::get<YoloLayer>(built.def.layers[i].spec);
      y->jitter = b.jitter;
      y->random = b.random;
      y->truth_thresh = b.truth_thresh;
      y->max_boxes = b.max_boxes;
    }
  }
  EXPECT_EQ(layers_to_cfg(built.def), layers_to_cfg(shipped));
}

TEST(YoloV3, NarrowModelHeadsHaveTheThreeStrides) {
  DarknetNetwork net(yolov3(narrow()).def, {}, yolov3(narrow()).names);
  std::mt19937_64 rng(1);
  Tape tape(Tape::Mode::inference);
  const auto out = net.forward(tape, Tensor::uniform({2, 3, 64, 96}, DType::f32, rng));
  ASSERT_EQ(out.heads.size(), 3u);
  EXPECT_EQ(out.heads[0].shape(), (core::Shape{2, 24, 2, 3}));
  EXPECT_EQ(out.heads[1].shape(), (core::Shape{2, 24, 4, 6}));
  EXPECT_EQ(out.heads[2].shape(), (core::Shape{2, 24, 8, 12}));
  EXPECT_EQ(net.yolo_strides(64, 96), (std::vector<int>{32, 16, 8}));
}

TEST(YoloV3, ParameterNamesAreStableAndRoleBased) {
  const GeneratedNetwork g = yolov3(narrow());
  DarknetNetwork net(g.def, {}, g.names);
  std::vector<std::string> names;
  for (const auto& [n, t] : net.named_parameters()) names.push_back(n);
  for (const char* want : {"backbone.stem.conv.weight", "backbone.stage3.block8.conv2.bn.weight",
                           "neck.level1.lateral.conv.weight", "head.level2.out.conv.bias"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_EQ(net.darknet_conv_tensors().size(), 75u);
  bool has_running_var = false;
  for (const auto& [n, t] : net.named_buffers()) has_running_var |= n == "backbone.stem.bn.running_var";
  EXPECT_TRUE(has_running_var);
}

TEST(YoloV3, CfgBuiltAndBuiltInGiveTheSameOutputsFromOneWeightsFile) {
  const GeneratedNetwork g = yolov3(narrow());
  DarknetNetwork builtin(g.def, {.init_seed = 1}, g.names);
  const NetworkDef parsed = cfg_to_network_def(parse_cfg_text(network_def_to_cfg(g.def), "exported.cfg"));
  DarknetNetwork from_cfg(parsed, {.init_seed = 2});
  const std::string weights = serialize_darknet_weights(builtin.darknet_conv_tensors(), 0);
  EXPECT_TRUE(parse_darknet_weights(weights, "w", from_cfg.darknet_conv_tensors()).complete());
  builtin.set_training(false);
  from_cfg.set_training(false);
  std::mt19937_64 rng(3);
  const Tensor x = Tensor::uniform({1, 3, 64, 64}, DType::f32, rng);
  Tape tape(Tape::Mode::inference);
  const auto a = builtin.forward(tape, x).heads;
  const auto b = from_cfg.forward(tape, x).heads;
  for (int h = 0; h < 3; ++h) EXPECT_EQ(a[h].to_double_vector(), b[h].to_double_vector()) << "head " << h;
}

TEST(YoloV3, InputSizesMustBeMultiplesOf32) {
  const GeneratedNetwork g = yolov3(narrow());
  DarknetNetwork net(g.def, {}, g.names);
  Tape tape(Tape::Mode::inference);
  EXPECT_THROW(net.forward(tape, Tensor::zeros({1, 3, 64, 80}, DType::f32)), core::ShapeError);
  EXPECT_THROW(net.forward(tape, Tensor::zeros({1, 4, 64, 64}, DType::f32)), core::ShapeError);
  YoloV3Options bad = narrow();
  bad.input_size = 100;
  EXPECT_THROW(yolov3(bad), core::ValueError);
  bad = narrow();
  bad.masks = {{0, 1, 9}, {3}, {4}};
  EXPECT_THROW(yolov3(bad), core::ValueError);
}

TEST(YoloV3, LossBackwardReachesEveryParameter) {
  const GeneratedNetwork g = yolov3(narrow());
  DarknetNetwork net(g.def, {}, g.names);
  std::mt19937_64 rng(4);
  Tape tape;
  const auto out = net.forward(tape, Tensor::uniform({2, 3, 64, 64}, DType::f32, rng));
  const DetectionLoss loss = detection_loss(tape, net, out.heads, 64, 64, targets(2, DType::f32));
  ASSERT_TRUE(std::isfinite(loss.loss.item()));
  EXPECT_GT(loss.loss.item(), 0);
  tape.backward(loss.loss);
  for (const auto& [name, p] : net.named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
  }
  EXPECT_EQ(loss.head_parts.size(), 3u);
}

// Signs of every leaky conv output: leaky ReLU keeps the sign of its input,
// so a changed sign means a step crossed the kink at zero.
std::vector<bool> kink_sides(const DarknetNetwork& net, const DarknetNetwork::Output& out) {
  std::vector<bool> sides;
  for (std::size_t i = 0; i < out.layers.size(); ++i) {
    const auto* c = std::get_if<ConvLayer>(&net.def().layers[i].spec);
    if (!c || c->activation != Activation::leaky) continue;
    const double* p = out.layers[i].data<double>();
    for (std::int64_t k = 0; k < out.layers[i].numel(); ++k) sides.push_back(p[k] > 0);
  }
  return sides;
}

// A directional float64 check of the whole narrow model with the loss heads:
// for seeded random unit directions v over all parameters and the input,
// <grad, v> must match the central difference of the loss along v (eps 1e-6, relative
// 1e-6), and likewise for 100 sampled single entries. Leaky ReLU's kink is
// the one non-smooth point a step can cross; a direction or entry whose
// +-eps steps change any leaky unit's side is redrawn (and counted), so the
// comparison runs only where the loss is differentiable along the step.
TEST(IntegrationYoloV3, DirectionalGradientCheckInFloat64) {
  const GeneratedNetwork g = yolov3(narrow(2));
  DarknetNetwork net(g.def, {.dtype = DType::f64}, g.names);
  std::mt19937_64 rng(5);
  Tensor x = Tensor::uniform({2, 3, 64, 64}, DType::f64, rng);
  x.set_requires_grad();
  const DetectionTargets t = targets(2, DType::f64);
  struct Eval {
    double loss;
    std::vector<bool> sides;
  };
  auto evaluate = [&](Tape& tape) {
    const auto out = net.forward(tape, x, /*keep_all_layers=*/true);
    const Tensor loss = detection_loss(tape, net, out.heads, 64, 64, t).loss;
    return std::make_pair(loss, kink_sides(net, out));
  };
  Tape tape;
  auto [loss, base_sides] = evaluate(tape);
  tape.backward(loss);

  std::vector<Tensor> leaves{x};
  for (const auto& [n, p] : net.named_parameters()) leaves.push_back(p);
  std::vector<Tensor> grads, saved;
  for (const auto& l : leaves) {
    grads.push_back(l.grad().clone());
    saved.push_back(l.clone());
  }
  // Loss at saved + step * v; v[k] undefined means "leave tensor k alone".
  auto shifted = [&](const std::vector<Tensor>& v, double step) {
    for (std::size_t k = 0; k < leaves.size(); ++k) {
      if (!v[k].defined()) continue;
      double* p = leaves[k].mutable_data<double>();
      const double* s = saved[k].data<double>();
      const double* d = v[k].data<double>();
      for (std::int64_t i = 0; i < leaves[k].numel(); ++i) p[i] = s[i] + step * d[i];
    }
    Tape inference(Tape::Mode::inference);
    auto [l, sides] = evaluate(inference);
    return Eval{l.item(), sides};
  };
  auto check = [&](const std::vector<Tensor>& v, const std::string& what) {
    double analytic = 0;
    for (std::size_t k = 0; k < leaves.size(); ++k) {
      if (!v[k].defined()) continue;
      const auto gv = grads[k].to_double_vector();
      const auto vv = v[k].to_double_vector();
      for (std::size_t i = 0; i < gv.size(); ++i) analytic += gv[i] * vv[i];
    }
    const double eps = 1e-6;
    const Eval plus = shifted(v, eps), minus = shifted(v, -eps);
    shifted(v, 0);
    if (plus.sides != base_sides || minus.sides != base_sides) return false;  // crossed a kink: redraw
    const double numeric = (plus.loss - minus.loss) / (2 * eps);
    // Absolute floor: the loss (~200) is known to ~1e-14 relative, so its
    // central difference carries about 2e-16 * 200 / 1e-6 = 4e-8 of roundoff.
    EXPECT_NEAR(analytic, numeric, 1e-6 * std::abs(numeric) + 2e-7) << what;
    return true;
  };

  int directions = 0, redrawn = 0;
  while (directions < 5 && redrawn < 20) {
    // Unit-norm directions: a step of eps then moves the whole model by eps.
    std::vector<Tensor> v;
    double norm2 = 0;
    for (const auto& l : leaves) {
      v.push_back(Tensor::randn(l.shape(), DType::f64, rng));
      for (double e : v.back().to_double_vector()) norm2 += e * e;
    }
    for (auto& d : v) {
      double* p = d.mutable_data<double>();
      for (std::int64_t i = 0; i < d.numel(); ++i) p[i] /= std::sqrt(norm2);
    }
    if (check(v, "direction " + std::to_string(directions))) ++directions;
    else ++redrawn;
  }
  EXPECT_EQ(directions, 5) << redrawn << " directions crossed a leaky kink";

  std::size_t total = 0;
  for (const auto& l : leaves) total += static_cast<std::size_t>(l.numel());
  std::uniform_int_distribution<std::size_t> pick(0, total - 1);
  int entries = 0;
  redrawn = 0;
  while (entries < 100 && redrawn < 100) {
    std::size_t flat = pick(rng), k = 0;
    while (flat >= static_cast<std::size_t>(leaves[k].numel())) flat -= static_cast<std::size_t>(leaves[k++].numel());
    std::vector<Tensor> v(leaves.size());
    v[k] = Tensor::zeros(leaves[k].shape(), DType::f64);
    v[k].mutable_data<double>()[flat] = 1.0;
    if (check(v, "leaf " + std::to_string(k) + " entry " + std::to_string(flat))) ++entries;
    else ++redrawn;
  }
  EXPECT_EQ(entries, 100) << redrawn << " entries crossed a leaky kink";
  std::printf("directional check: 5 directions, 100 entries, %d entries redrawn at kinks\n", redrawn);
}

}  // namespace
}  // namespace models
