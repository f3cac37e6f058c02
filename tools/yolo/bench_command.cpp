#include "tools/yolo/bench_command.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/tape.h"
#include "data/augment_resize.h"
#include "models/cfg_writer.h"
#include "models/detection_loss.h"
#include "models/network_summary.h"
#include "models/size_preparation.h"
#include "ops/backend/dnnl.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "tools/yolo/cfg_model.h"
#include "tools/yolo/config_model.h"
#include "tools/yolo/machine_peak.h"
#include "train/config_loader.h"
#include "train/optimizer.h"

namespace yolo {

namespace {

using core::Tensor;
using Clock = std::chrono::steady_clock;

void check_args(const BenchArgs& a) {
  if (a.mode != "train" && a.mode != "forward") {
    throw core::ConfigError(fmt::format("bench: mode must be train or forward, got '{}'", a.mode));
  }
  if (a.cfg.empty() == a.config.empty()) {
    throw core::ConfigError("bench: give exactly one of --cfg FILE.cfg and --config FILE.yml");
  }
  if (a.precision != "fp32" && a.precision != "bf16") {
    throw core::ConfigError(fmt::format("bench: --precision must be fp32 or bf16, got '{}'", a.precision));
  }
  if (a.loss != "squares" && a.loss != "yolo") {
    throw core::ConfigError(fmt::format("bench: --loss must be squares or yolo, got '{}'", a.loss));
  }
  if (a.steps < 1) throw core::ConfigError(fmt::format("bench: --steps must be at least 1, got {}", a.steps));
  if (a.subdivisions < 1) {
    throw core::ConfigError(fmt::format("bench: --subdivisions must be at least 1, got {}", a.subdivisions));
  }
  if (a.subdivisions > 1 && a.mode != "train") {
    throw core::ConfigError("bench: --subdivisions is for bench train (passes accumulated per optimizer update)");
  }
  if (a.multiscale_steps < 0) {
    throw core::ConfigError(fmt::format("bench: --multiscale-steps must be 0 or more, got {}", a.multiscale_steps));
  }
  // Emulated bf16 would be slower than fp32 and prove nothing.
  if (a.precision == "bf16" && !ops::backend::bf16_supported()) {
    throw core::ConfigError("bench: --precision bf16 needs a CPU with AVX512-BF16, which this one lacks");
  }
}

// Eight boxes per image spread over the frame, so every head gets targets.
models::DetectionTargets synthetic_targets(int batch, int classes) {
  constexpr int boxes_per_image = 8;
  std::vector<double> boxes, scores;
  std::vector<std::int32_t> labels;
  for (int n = 0; n < batch; ++n) {
    for (int b = 0; b < boxes_per_image; ++b) {
      boxes.insert(boxes.end(), {0.1 + 0.1 * b, 0.5, 0.05 + 0.03 * b, 0.08 + 0.02 * b});
      labels.push_back(b % classes);
      scores.push_back(1.0);
    }
  }
  return {Tensor::from_vector({batch, boxes_per_image, 4}, boxes, core::DType::f32),
          Tensor::from_ints({batch, boxes_per_image}, labels),
          Tensor::from_vector({batch, boxes_per_image}, scores, core::DType::f32)};
}


// loss = sum over heads of mean(head^2): a loss with the detector's
// gradient shapes and none of its cost, as the PyTorch peer uses.
Tensor squares_loss(core::Tape& tape, const std::vector<Tensor>& heads) {
  Tensor total;
  for (const auto& h : heads) {
    const Tensor m = ops::mean(tape, ops::mul(tape, h, h));
    total = total.defined() ? ops::add(tape, total, m) : m;
  }
  return total;
}

void print_profile(const core::OpProfile& profile, int steps, std::ostream& log) {
  std::vector<std::pair<std::string, core::OpProfile::Entry>> rows(profile.ops.begin(), profile.ops.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.forward_s + a.second.backward_s > b.second.forward_s + b.second.backward_s;
  });
  double total = 0;
  for (const auto& r : rows) total += r.second.forward_s + r.second.backward_s;
  log << fmt::format("{:<22} {:>7} {:>12} {:>12} {:>7}\n", "op (per step)", "calls", "forward ms", "backward ms",
                     "share");
  for (const auto& [op, e] : rows) {
    log << fmt::format("{:<22} {:>7} {:>12.2f} {:>12.2f} {:>6.1f}%\n", op, e.calls / steps,
                       1e3 * e.forward_s / steps, 1e3 * e.backward_s / steps,
                       100.0 * (e.forward_s + e.backward_s) / std::max(total, 1e-12));
  }
}

// The network to time with its input size and batch: --size and --batch,
// else the cfg's (width; batch / subdivisions) or the config's.
struct BenchModel {
  models::Model model;
  int size = 0, batch = 0;
};

BenchModel load_bench_model(const BenchArgs& args, std::ostream& log) {
  int size = args.size, batch = args.batch;
  std::optional<models::Model> model;
  if (!args.cfg.empty()) {
    model = model_from_cfg(args.cfg);
    const auto& net = model->network->def().net;
    if (size == 0) size = net.width;
    if (batch == 0) batch = std::max(1, net.batch / std::max(1, net.subdivisions));
  } else {
    const train::TrainConfig config = train::load_config(args.config);
    model = model_from_config(args.config, "", log);
    if (size == 0) size = config.model.input_size;
    if (batch == 0) batch = config.train.batch_size;
  }
  const models::NetworkDef& def = model->network->def();
  check_input_size(def, size, size, fmt::format("--size {}", size));
  if (batch < 1) throw core::ConfigError(fmt::format("bench: --batch must be at least 1, got {}", batch));
  if (!args.write_cfg.empty()) {
    core::write_file_atomic(args.write_cfg, models::network_def_to_cfg(def));
    log << "bench: wrote the network to " << args.write_cfg << "\n";
  }
  return {std::move(*model), size, batch};
}

struct BenchTimes {
  std::vector<double> step_s;  // the measured steps
  double first_step_s = 0;     // the first warm-up: primitives created, buffers faulted in
  double median_s = 0;
  double peak_rss_mib = 0;     // after the measured steps
  int new_size = 0;
  double new_size_step_s = 0;  // the first step at new_size
  double new_size_second_s = 0;  // the step after it, at the same size
  double new_size_steady_s = 0;  // the median of the three steps after it (steady at new_size)
  // Page faults (minor: a fresh page mapped and zeroed), per step.
  long first_step_faults = 0, steady_step_faults = 0, new_size_faults = 0;
  core::OpProfile profile;     // with --profile
};

struct MultiScaleStep {
  int size = 0;
  double seconds = 0;
  long faults = 0;
};

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// One training step or forward of the bench's network, timed, with the
// page faults it took.
class StepRunner {
 public:
  StepRunner(const BenchArgs& args, BenchModel& bench) : args_(args), network_(*bench.model.network) {
    train_ = args.mode == "train";
    const auto yolo_layers = network_.yolo_layers();
    if (yolo_layers.empty()) throw core::ConfigError(fmt::format("bench: {} has no [yolo] layer", network_.def().source));
    targets_ = synthetic_targets(bench.batch, yolo_layers.front().classes);
    network_.set_training(train_);
    network_.set_bf16(args.precision == "bf16");
    sgd_.type = "sgd";  // SGD, momentum 0.9, weight decay 5e-4 on every parameter, as the peer
    sgd_.decay_bias_and_bn = true;
    // Training only: its momentum buffers (one more copy of the weights)
    // would count in a forward's peak RSS.
    if (train_) optimizer_ = train::make_optimizer(sgd_, network_.named_parameters());
    // As yolo detect runs it: one copy of the folded weights, not two.
    if (!train_) network_.release_unfolded_weights();
  }

  // Seconds of one step on `input` (input_size square); faults() then
  // holds its page faults.
  double operator()(const Tensor& input, int input_size, core::OpProfile* prof) {
    const long faults0 = minor_page_faults();
    const auto t0 = Clock::now();
    if (train_) {
      // As the trainer runs accumulated passes: weights converted once.
      std::optional<ops::backend::KeepConvertedWeights> same_weights;
      if (args_.subdivisions > 1) same_weights.emplace();
      for (int pass = 0; pass < args_.subdivisions; ++pass) {
        core::Tape tape;
        if (prof) tape.set_profile(prof);
        const auto fwd = network_.forward(tape, input);
        // Each pass's share of the update, as the trainer scales it.
        const Tensor l = loss(tape, fwd.heads, input_size);
        tape.backward(args_.subdivisions > 1 ? ops::mul_scalar(tape, l, 1.0 / args_.subdivisions) : l);
      }
      same_weights.reset();
      optimizer_->step(sgd_.lr);
      network_.zero_grad();
    } else {
      core::Tape tape(core::Tape::Mode::inference);
      if (prof) tape.set_profile(prof);
      const auto fwd = network_.forward(tape, input);
      for (const auto& h : fwd.heads) (void)h.data<float>();  // heads in plain layout, as a caller reads them
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    faults_ = minor_page_faults() - faults0;
    return seconds;
  }
  long faults() const { return faults_; }

  // The step's loss (--loss) of the heads at a square input of `size`.
  Tensor loss(core::Tape& tape, const std::vector<Tensor>& heads, int size) const {
    if (args_.loss == "squares") return squares_loss(tape, heads);
    return models::detection_loss(tape, network_, heads, size, size, targets_).loss;
  }

  // Readies every size the bench will step at before its first step, as
  // `yolo train` does (models/size_preparation.h); forward: as a caller
  // meeting several sizes would, with prepare_inference_sizes.
  std::optional<models::SizePreparation> prepare(const std::vector<int>& sizes, int batch) {
    if (!args_.prepare) return std::nullopt;
    if (!train_) return models::prepare_inference_sizes(network_, sizes, batch);
    return models::prepare_training_sizes(network_, sizes, batch, [this](core::Tape& tape, const auto& heads, int size) {
      return loss(tape, heads, size);
    });
  }

 private:
  const BenchArgs& args_;
  models::DarknetNetwork& network_;
  bool train_ = false;
  models::DetectionTargets targets_;
  train::OptimizerConfig sgd_;
  std::unique_ptr<train::Optimizer> optimizer_;
  long faults_ = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The random images of time_steps: at the size, and at size + 32. Made
// before the sizes are prepared, as a training run's first batches are
// loaded before, so the buffers the preparation leaves are those the steps
// take (inputs made afterwards would take some of them, and the steps then
// grow others, faulting in fresh pages).
struct BenchInputs {
  Tensor x, x_new;
};
BenchInputs make_inputs(const BenchModel& bench) {
  const int channels = bench.model.network->def().net.channels;
  std::mt19937_64 rng(0);
  BenchInputs in;
  in.x = Tensor::uniform({bench.batch, channels, bench.size, bench.size}, core::DType::f32, rng);
  in.x_new = Tensor::uniform({bench.batch, channels, bench.size + 32, bench.size + 32}, core::DType::f32, rng);
  return in;
}

// Two warm-ups, args.steps measured steps, then four steps at size + 32:
// multi-scale training meets a new input size now and then, and its first
// step pays for new primitives and buffers unless the size was prepared.
BenchTimes time_steps(const BenchArgs& args, const BenchModel& bench, const BenchInputs& in, StepRunner& run_step) {
  const Tensor& x = in.x;
  constexpr int warmups = 2;
  BenchTimes t;
  for (int s = 0; s < warmups + args.steps; ++s) {
    const bool measured = s >= warmups;
    const double step_s = run_step(x, bench.size, measured && args.profile ? &t.profile : nullptr);
    if (s == 0) {
      t.first_step_s = step_s;
      t.first_step_faults = run_step.faults();
    }
    if (measured) t.step_s.push_back(step_s);
  }
  t.steady_step_faults = run_step.faults();
  t.peak_rss_mib = peak_rss_mib();  // before the larger new-size step
  t.new_size = bench.size + 32;
  const Tensor& x_new = in.x_new;
  t.new_size_step_s = run_step(x_new, t.new_size, nullptr);
  t.new_size_faults = run_step.faults();
  // One later step would make the ratio as noisy as two single steps are
  // (10% and more here); the median of three steadies the denominator.
  std::vector<double> after{run_step(x_new, t.new_size, nullptr), run_step(x_new, t.new_size, nullptr),
                            run_step(x_new, t.new_size, nullptr)};
  t.new_size_second_s = after.front();
  t.new_size_steady_s = median(after);
  t.median_s = median(t.step_s);
  return t;
}

// The sizes --multiscale-steps steps at: size - 64 (at least 32) to
// size + 64 by 32.
std::vector<int> multiscale_sizes(int size) {
  return data::input_size_choices({.enabled = true, .min_size = std::max(32, size - 64), .max_size = size + 64,
                                   .step = 32, .size = size});
}

// --multiscale-steps: after the steps above, one step at each size from
// size - 64 (at least 32) to size + 64 in steps of 32, so every size's
// primitives exist, then N steps at a random size each, as multi-scale
// training draws one per batch. The buffers settle during the first of
// those; the second half shows what a settled run pays per step.
std::vector<MultiScaleStep> time_multiscale(const BenchArgs& args, BenchModel& bench, StepRunner& run_step) {
  if (args.multiscale_steps == 0) return {};
  const std::vector<int> sizes = multiscale_sizes(bench.size);
  const int channels = bench.model.network->def().net.channels;
  std::mt19937_64 rng(1);
  std::vector<Tensor> inputs;
  for (int s : sizes) inputs.push_back(Tensor::uniform({bench.batch, channels, s, s}, core::DType::f32, rng));
  for (std::size_t k = 0; k < sizes.size(); ++k) (void)run_step(inputs[k], sizes[k], nullptr);
  std::vector<MultiScaleStep> steps;
  for (int i = 0; i < args.multiscale_steps; ++i) {
    const std::size_t k = rng() % sizes.size();
    const double seconds = run_step(inputs[k], sizes[k], nullptr);
    steps.push_back({sizes[k], seconds, run_step.faults()});
  }
  return steps;
}

// Mean step time and page faults of the second half of the multi-scale
// steps (buffers settle in the first half).
void print_multiscale(const std::vector<MultiScaleStep>& steps, std::ostream& log) {
  const std::size_t from = steps.size() / 2, count = steps.size() - from;
  double seconds = 0, faults = 0;
  int smallest = steps.front().size, largest = steps.front().size;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    smallest = std::min(smallest, steps[i].size);
    largest = std::max(largest, steps[i].size);
    if (i < from) continue;
    seconds += steps[i].seconds;
    faults += static_cast<double>(steps[i].faults);
  }
  log << fmt::format("multi-scale: {} steps at random sizes {}..{}; the last {}: mean step {:.4f} s, {:.0f} page "
                     "faults per step\n",
                     steps.size(), smallest, largest, count, seconds / count, faults / count);
}

}  // namespace

void run_bench_command(const BenchArgs& args, std::ostream& out, std::ostream& log) {
  check_args(args);
  const int threads = args.threads > 0 ? args.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  omp_set_num_threads(threads);
  BenchModel bench = load_bench_model(args, log);
  const models::NetworkDef& def = bench.model.network->def();
  const int size = bench.size, batch = bench.batch;

  const double sgemm = measure_sgemm_gflops();
  const double gflop_per_image = static_cast<double>(models::summarize_network(def, size, size).flops) / 1e9;
  const bool train = args.mode == "train";
  log << fmt::format("bench {}: {} at {}x{}, batch {}{}, {} threads, {}, loss {}; sgemm peak {:.1f} GFLOP/s\n",
                     args.mode, def.source, size, size, batch,
                     args.subdivisions > 1 ? fmt::format(" x {} passes a step", args.subdivisions) : "", threads,
                     args.precision, train ? args.loss : "none", sgemm);
  StepRunner run_step(args, bench);
  std::vector<int> sizes{size, size + 32};
  if (args.multiscale_steps > 0) sizes = multiscale_sizes(size);
  const BenchInputs inputs = make_inputs(bench);
  const auto prepared = run_step.prepare(sizes, batch);
  if (prepared) {
    log << fmt::format("prepared {} input sizes ({}..{}) in {:.2f} s: {} primitives\n", prepared->sizes.size(),
                       prepared->sizes.back(), prepared->sizes.front(), prepared->seconds, prepared->primitives);
  }
  const BenchTimes t = time_steps(args, bench, inputs, run_step);
  const std::vector<MultiScaleStep> multiscale = time_multiscale(args, bench, run_step);
  const int subdivisions = train ? args.subdivisions : 1;
  const double images_per_s = batch * subdivisions / t.median_s;
  const double gflops = (train ? 3.0 : 1.0) * gflop_per_image * images_per_s;

  if (args.profile) print_profile(t.profile, args.steps, log);
  log << fmt::format("first step at the new size {}: {:.3f} s ({:.2f} x the median step, {:.2f} x the median of the "
                     "next three at {}); page faults: first step {}, last measured step {}, first step at {} {}\n",
                     t.new_size, t.new_size_step_s, t.new_size_step_s / t.median_s,
                     t.new_size_step_s / t.new_size_steady_s, t.new_size, t.first_step_faults, t.steady_step_faults,
                     t.new_size, t.new_size_faults);
  log << fmt::format("{}: median step {:.4f} s over {} steps (first step {:.3f} s), {:.2f} images/s, {:.1f} GFLOP/s "
                     "({:.0f}% of sgemm; {:.3f} GFLOP per image{}), peak RSS {:.0f} MiB\n",
                     args.mode, t.median_s, args.steps, t.first_step_s, images_per_s, gflops, 100.0 * gflops / sgemm,
                     gflop_per_image, train ? ", a step counted as 3 x forward" : "", t.peak_rss_mib);
  if (!multiscale.empty()) print_multiscale(multiscale, log);
  if (!args.json) return;
  nlohmann::json j;
  j["mode"] = args.mode;
  j["network"] = def.source;
  j["size"] = size;
  j["batch"] = batch;
  if (train) j["subdivisions"] = subdivisions;
  j["threads"] = threads;
  j["precision"] = args.precision;
  if (train) j["loss"] = args.loss;
  j["steps"] = args.steps;
  j["step_s"] = t.step_s;
  j["median_step_s"] = t.median_s;
  j["images_per_s"] = images_per_s;
  j["gflop_per_image"] = gflop_per_image;
  j["gflops_per_s"] = gflops;
  j["sgemm_gflops_per_s"] = sgemm;
  j["peak_fraction"] = gflops / sgemm;
  j["peak_rss_mb"] = t.peak_rss_mib;
  j["first_step_s"] = t.first_step_s;
  j["new_size"] = t.new_size;
  j["new_size_step_s"] = t.new_size_step_s;
  j["new_size_step_ratio"] = t.new_size_step_s / t.median_s;
  j["new_size_second_step_s"] = t.new_size_second_s;
  j["new_size_steady_step_s"] = t.new_size_steady_s;
  j["new_size_vs_steady_ratio"] = t.new_size_step_s / t.new_size_steady_s;
  if (prepared) {
    j["prepared"] = {{"sizes", prepared->sizes}, {"seconds", prepared->seconds}, {"primitives", prepared->primitives}};
  }
  j["page_faults"] = {{"first_step", t.first_step_faults},
                      {"steady_step", t.steady_step_faults},
                      {"new_size_step", t.new_size_faults}};
  if (!multiscale.empty()) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& m : multiscale) steps.push_back({{"size", m.size}, {"step_s", m.seconds}, {"page_faults", m.faults}});
    j["multiscale_steps"] = steps;
  }
  out << j.dump() << "\n";
}

}  // namespace yolo
