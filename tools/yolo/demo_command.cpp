#include "tools/yolo/demo_command.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "core/tape.h"
#include "ops/binary.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/unary.h"

namespace yolo {

using core::DType;
using core::Tape;
using core::Tensor;

double run_demo(const DemoArgs& args, std::ostream& out) {
  // Regress y = sin(3x) on 64 points with a 1-32-1 leaky-ReLU network.
  std::mt19937_64 rng(args.seed);
  constexpr int kPoints = 64;
  constexpr int kHidden = 32;
  std::vector<double> xs(kPoints), ys(kPoints);
  for (int i = 0; i < kPoints; ++i) {
    xs[i] = -1.0 + 2.0 * i / (kPoints - 1);
    ys[i] = std::sin(3.0 * xs[i]);
  }
  const Tensor x = Tensor::from_vector({kPoints, 1}, xs, DType::f32);
  const Tensor target = Tensor::from_vector({kPoints, 1}, ys, DType::f32);

  std::vector<Tensor> params = {
      Tensor::randn({1, kHidden}, DType::f32, rng, 0.0, 1.0),
      Tensor::zeros({kHidden}, DType::f32),
      Tensor::randn({kHidden, 1}, DType::f32, rng, 0.0, 1.0 / std::sqrt(double(kHidden))),
      Tensor::zeros({1}, DType::f32),
  };
  for (auto& p : params) p.set_requires_grad();

  double loss_value = 0.0;
  for (int step = 0; step <= args.steps; ++step) {
    Tape tape;
    Tensor h = ops::leaky_relu(tape, ops::add(tape, ops::matmul(tape, x, params[0]), params[1]));
    Tensor pred = ops::add(tape, ops::matmul(tape, h, params[2]), params[3]);
    Tensor diff = ops::sub(tape, pred, target);
    Tensor loss = ops::mean(tape, ops::mul(tape, diff, diff));
    loss_value = loss.item();
    if (step % (args.steps / 10 > 0 ? args.steps / 10 : 1) == 0) out << fmt::format("step {:4d}  loss {:.6f}\n", step, loss_value);
    if (step == args.steps) break;
    tape.backward(loss);
    for (auto& p : params) {
      float* w = p.mutable_data<float>();
      const float* g = p.grad().data<float>();
      for (std::int64_t i = 0; i < p.numel(); ++i) w[i] -= static_cast<float>(args.learning_rate) * g[i];
      p.zero_grad();
    }
  }
  return loss_value;
}

}  // namespace yolo
