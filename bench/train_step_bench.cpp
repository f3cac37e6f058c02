// Training-step throughput of the built-in YOLOv3: forward, the three
// yolo_loss heads, backward, for a given width multiplier, input size and
// batch. Reports the median of several steps after warm-up, in images/s and
// in GFLOP/s (a training step counted as 3 x the forward's conv FLOPs).
//   train_step_bench [--width 1] [--size 416] [--batch 4] [--classes 80] [--steps 5] [--warmup 2]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <variant>

#include "core/tape.h"
#include "models/darknet_network.h"
#include "models/detection_loss.h"
#include "models/yolov3.h"

namespace {

double conv_gflop(const models::NetworkDef& def, int size) {
  const auto shapes = models::infer_shapes(def, 3, size, size);
  double flop = 0;
  int in_c = 3;
  for (std::size_t i = 0; i < def.layers.size(); ++i) {
    if (const auto* c = std::get_if<models::ConvLayer>(&def.layers[i].spec)) {
      flop += 2.0 * shapes[i].c * shapes[i].h * shapes[i].w * (in_c / c->groups) * c->size * c->size;
    }
    in_c = shapes[i].c;
  }
  return flop / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  double width = 1.0;
  int size = 416, batch = 4, classes = 80, steps = 5, warmup = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--width") width = std::stod(argv[i + 1]);
    else if (k == "--size") size = std::stoi(argv[i + 1]);
    else if (k == "--batch") batch = std::stoi(argv[i + 1]);
    else if (k == "--classes") classes = std::stoi(argv[i + 1]);
    else if (k == "--steps") steps = std::stoi(argv[i + 1]);
    else if (k == "--warmup") warmup = std::stoi(argv[i + 1]);
  }
  models::YoloV3Options o;
  o.num_classes = classes;
  o.width = width;
  o.input_size = size;
  const auto g = models::yolov3(o);
  models::DarknetNetwork net(g.def, {}, g.names);
  std::mt19937_64 rng(0);
  const core::Tensor x = core::Tensor::uniform({batch, 3, size, size}, core::DType::f32, rng);
  std::vector<double> boxes, scores;
  std::vector<std::int32_t> labels;
  for (int n = 0; n < batch; ++n) {
    for (int b = 0; b < 8; ++b) {
      boxes.insert(boxes.end(), {0.1 + 0.1 * b, 0.5, 0.05 + 0.03 * b, 0.08 + 0.02 * b});
      labels.push_back(b % classes);
      scores.push_back(1.0);
    }
  }
  const models::DetectionTargets t{core::Tensor::from_vector({batch, 8, 4}, boxes, core::DType::f32),
                                   core::Tensor::from_ints({batch, 8}, labels),
                                   core::Tensor::from_vector({batch, 8}, scores, core::DType::f32)};
  std::vector<double> seconds;
  double fwd_s = 0;
  for (int s = 0; s < warmup + steps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    core::Tape tape;
    const auto out = net.forward(tape, x);
    const auto t1 = std::chrono::steady_clock::now();
    const auto loss = models::detection_loss(tape, net, out.heads, size, size, t);
    tape.backward(loss.loss);
    net.zero_grad();
    const auto t2 = std::chrono::steady_clock::now();
    if (s >= warmup) {
      seconds.push_back(std::chrono::duration<double>(t2 - t0).count());
      fwd_s += std::chrono::duration<double>(t1 - t0).count();
    }
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double gflop = conv_gflop(g.def, size);
  fmt::print("yolov3 width {} size {} batch {} classes {}: step {:.3f} s (forward {:.3f} s), {:.2f} images/s, "
             "forward {:.2f} GFLOP/image, {:.1f} GFLOP/s (3 x forward)\n",
             width, size, batch, classes, median, fwd_s / steps, batch / median, gflop, 3 * gflop * batch / median);
  return 0;
}
