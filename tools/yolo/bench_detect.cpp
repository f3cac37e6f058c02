#include "tools/yolo/bench_detect.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "data/image.h"
#include "data/text.h"
#include "models/detect/detector.h"
#include "models/letterbox.h"
#include "tools/yolo/cfg_model.h"
#include "tools/yolo/inference_model.h"

namespace yolo {

namespace {

using Clock = std::chrono::steady_clock;

// Darknet's sample picture where the darknet package put it.
constexpr const char* kDarknetDog = "/usr/share/darknet/data/dog.jpg";

std::vector<float> parse_thresholds(const std::string& text) {
  std::vector<float> out;
  for (const std::string& part : data::split_on(text, ',')) {
    const std::optional<double> v = data::parse_number(part);
    if (!v || !(*v >= 0 && *v < 1)) {
      throw core::ConfigError(fmt::format("bench detect: --thresh '{}': each threshold must be a number in [0, 1)", text));
    }
    out.push_back(static_cast<float>(*v));
  }
  return out;
}

data::Image bench_image(const std::string& path, std::ostream& log) {
  if (!path.empty()) return data::load_image(path);
  if (std::filesystem::exists(kDarknetDog)) return data::load_image(kDarknetDog);
  log << "bench detect: no --image and no " << kDarknetDog << "; using a generated 640x480 picture\n";
  data::Image im(640, 480);
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> u(0, 255);
  for (float& v : im.pixels) v = u(rng);
  return im;
}

template <class F>
double median_seconds(int runs, F&& f) {
  std::vector<double> s;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    f();
    s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

}  // namespace

void run_bench_detect(const BenchDetectArgs& args, std::ostream& out, std::ostream& log) {
  if (args.steps < 1) throw core::ConfigError(fmt::format("bench detect: --steps must be at least 1, got {}", args.steps));
  const std::vector<float> thresholds = parse_thresholds(args.thresholds);
  if (args.threads > 0) omp_set_num_threads(args.threads);
  const models::Model model = load_inference_model({args.weights, args.cfg}, log);
  models::DetectOptions options = models::default_detect_options(model);
  if (args.size != 0) options.net_width = options.net_height = args.size;
  check_input_size(model.network->def(), options.net_height, options.net_width, "the input size");
  options.nms = models::parse_nms_method(args.nms);
  options.pre_nms_top_k = args.pre_nms_top_k;
  options.max_dets = args.max_dets;
  model.network->release_unfolded_weights();  // as yolo detect runs

  const data::Image image = bench_image(args.image, log);
  const std::vector<core::Tensor> images = {models::darknet_planar_image(image.width, image.height, image.pixels.data())};
  std::vector<core::Tensor> heads = models::forward_heads(model, images, options);  // warm-up
  const double forward_s = median_seconds(args.steps, [&] { heads = models::forward_heads(model, images, options); });
  const int classes = model.network->yolo_layers().front().classes;
  log << fmt::format("bench detect: {} ({} classes) at {}x{}, {} threads, {} NMS; forward {:.4f} s (median of {})\n",
                     model.network->def().source, classes, options.net_width, options.net_height, omp_get_max_threads(),
                     args.nms, forward_s, args.steps);
  nlohmann::json rows = nlohmann::json::array();
  for (const float t : thresholds) {
    options.thresh = t;
    std::size_t detections = 0;
    models::detections_from_heads(model, heads, images, options);  // warm-up
    const double post_s = median_seconds(args.steps, [&] {
      detections = models::detections_from_heads(model, heads, images, options).front().size();
    });
    log << fmt::format("  thresh {:<6g} decode + NMS {:.4f} s = {:5.1f}% of the forward, {} detections\n", t, post_s,
                       100.0 * post_s / forward_s, detections);
    rows.push_back({{"thresh", t}, {"post_s", post_s}, {"ratio", post_s / forward_s}, {"detections", detections}});
  }
  if (args.json) {
    out << nlohmann::json{{"network", model.network->def().source}, {"classes", classes}, {"size", options.net_width},
                          {"threads", omp_get_max_threads()}, {"nms", args.nms}, {"forward_s", forward_s},
                          {"thresholds", rows}}
               .dump()
        << "\n";
  }
}

}  // namespace yolo
