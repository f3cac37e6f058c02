#include "tools/yolo/detect_command.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/progress.h"
#include "data/class_names.h"
#include "data/draw.h"
#include "data/text.h"
#include "data/image.h"
#include "models/detect/detector.h"
#include "models/letterbox.h"
#include "tools/yolo/cfg_model.h"
#include "tools/yolo/config_model.h"
#include "tools/yolo/detect_video.h"
#include "tools/yolo/inference_model.h"
#include "train/eval/detections_io.h"

namespace yolo {

namespace fs = std::filesystem;
using core::ConfigError;

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const std::set<std::string> kImageExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif", ".ppm", ".pgm"};
  return kImageExtensions.count(ext) > 0;
}

// --image, or every image file of a folder (sorted), or the lines of a list
// file (relative paths are tried as given, then beside the list).
std::vector<std::string> collect_images(const DetectArgs& args) {
  if (!args.image.empty()) return {args.image};
  std::vector<std::string> paths;
  if (fs::is_directory(args.images)) {
    for (const auto& entry : fs::directory_iterator(args.images)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) throw core::IoError(fmt::format("--images {}: the folder holds no image files", args.images));
    return paths;
  }
  std::ifstream in(args.images);
  if (!in) throw core::IoError(fmt::format("--images {}: neither a folder nor a readable list file", args.images));
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r"), last = line.find_last_not_of(" \t\r");
    if (first == std::string::npos) continue;
    fs::path p = line.substr(first, last - first + 1);
    if (p.is_relative() && !fs::exists(p)) p = fs::path(args.images).parent_path() / p;
    paths.push_back(p.string());
  }
  if (paths.empty()) throw core::IoError(fmt::format("--images {}: the list names no image", args.images));
  return paths;
}

void check_args(const DetectArgs& args) {
  if (args.weights.empty()) throw ConfigError("detect: --weights FILE is required");
  if (!args.cfg.empty() && !args.config.empty()) throw ConfigError("detect: give --cfg or --config, not both");
  const int inputs = int(!args.image.empty()) + int(!args.images.empty()) + int(!args.video.empty());
  if (inputs != 1) throw ConfigError("detect: give exactly one of --image IMG, --images DIR|LIST and --video IN");
  if (!args.video.empty()) {
    check_video_args(args);
  } else {
    if (args.every != 1) throw ConfigError("detect: --every N takes every N-th frame of a --video");
    if (args.out.empty() == args.out_dir.empty()) throw ConfigError("detect: give exactly one of --out OUT.png and --out-dir D");
    if (!args.out.empty() && args.image.empty()) throw ConfigError("detect: --out names one picture; use --out-dir D with --images");
  }
  if (!(args.thresh >= 0 && args.thresh < 1)) throw ConfigError(fmt::format("detect: --thresh {} must be in [0, 1)", args.thresh));
  if (!(args.nms_iou >= 0 && args.nms_iou <= 1)) {
    throw ConfigError(fmt::format("detect: --nms-iou {} must be in [0, 1]", args.nms_iou));
  }
  if (args.batch < 1) throw ConfigError(fmt::format("detect: --batch {} must be at least 1", args.batch));
}

std::vector<std::string> class_names(const DetectArgs& args, const models::Model& model, int classes, std::ostream& err) {
  std::vector<std::string> names;
  std::string from;
  if (!args.names.empty()) {
    names = data::read_class_names(args.names);
    from = args.names;
  } else if (!model.meta.class_names.empty()) {
    names = model.meta.class_names;
    from = args.weights;
  } else {
    fmt::print(err, "warning: {} carries no class names and --names is not given; classes are named by index\n",
               args.weights);
    for (int k = 0; k < classes; ++k) names.push_back(std::to_string(k));
    return names;
  }
  if (names.size() != static_cast<std::size_t>(classes)) {
    throw ConfigError(fmt::format("detect: {} names {} classes, the network predicts {}", from, names.size(), classes));
  }
  return names;
}

// --nms bounded|darknet, or a number (the IoU, as --nms took before --nms-iou).
void apply_nms_flags(const DetectArgs& args, models::DetectOptions& options) {
  options.nms_iou = args.nms_iou;
  options.pre_nms_top_k = args.pre_nms_top_k;
  options.max_dets = args.max_dets;
  const std::optional<double> iou = data::parse_number(args.nms);
  if (!iou) {
    options.nms = models::parse_nms_method(args.nms);
    return;
  }
  if (!(*iou >= 0 && *iou <= 1)) throw ConfigError(fmt::format("detect: --nms {} must be in [0, 1]", args.nms));
  options.nms_iou = static_cast<float>(*iou);
}

void print_class_names(const std::vector<std::string>& names, std::ostream& out) {
  fmt::print(out, "classes:");
  for (std::size_t k = 0; k < names.size(); ++k) fmt::print(out, " {}={}", k, names[k]);
  fmt::print(out, "\n");
}

// Output picture names: the image's stem, made unique when two inputs share it.
std::vector<std::string> unique_stems(const std::vector<std::string>& paths) {
  std::vector<std::string> stems;
  std::map<std::string, int> seen;
  for (const std::string& p : paths) {
    const std::string stem = fs::path(p).stem().string();
    const int k = seen[stem]++;
    stems.push_back(k == 0 ? stem : fmt::format("{}_{}", stem, k));
  }
  return stems;
}

// --config: the network the config trains, with the weights loaded by name
// (checkpoint) or in Darknet's layer order.
models::Model model_for_config(const DetectArgs& args, std::ostream& out) {
  models::Model model = model_from_config(args.config, args.weights, out);
  const models::WeightsLoadSummary w = models::load_weights_into(model, args.weights);
  fmt::print(out, "model: {} with {} ({})\n", args.config, args.weights, w.format);
  return model;
}

}  // namespace

void draw_detections(data::Image& image, const std::vector<models::ImageDetection>& dets,
                     const std::vector<std::string>& names) {
  // Best score first (as the detections come), so the best boxes' labels
  // keep their places and end on top.
  std::vector<data::LabelledBox> boxes;
  for (const models::ImageDetection& d : dets) {
    boxes.push_back(
        {data::Box{d.x1, d.y1, d.x2, d.y2}, d.label, data::box_label(names[static_cast<std::size_t>(d.label)], d.score)});
  }
  data::draw_labelled_boxes(image, boxes);
}

void run_detect_command(const DetectArgs& args, std::ostream& out, std::ostream& err) {
  check_args(args);
  const models::Model model = args.config.empty() ? load_inference_model({args.weights, args.cfg}, out)
                                                 : model_for_config(args, out);
  const std::vector<models::YoloLayer> layers = model.network->yolo_layers();
  if (layers.empty()) throw ConfigError(fmt::format("detect: {} has no [yolo] layers", model.network->def().source));
  const std::vector<std::string> names = class_names(args, model, layers.front().classes, err);

  models::DetectOptions options = models::default_detect_options(model);
  if (args.size != 0) options.net_width = options.net_height = args.size;
  check_input_size(model.network->def(), options.net_height, options.net_width,
                   args.size != 0 ? fmt::format("--size {}", args.size) : std::string("the model's input size"));
  options.thresh = args.thresh;
  apply_nms_flags(args, options);
  // Inference only from here: one copy of the folded weights, not two.
  model.network->release_unfolded_weights();
  if (!args.video.empty()) {
    print_class_names(names, out);
    run_video_detect(args, model, options, names, out, err);
    return;
  }

  const std::vector<std::string> paths = collect_images(args);
  const std::vector<std::string> stems = unique_stems(paths);
  if (!args.out_dir.empty()) fs::create_directories(args.out_dir);
  print_class_names(names, out);

  train::DetectionKeys keys;
  keys.naming = train::ResultsNaming::voc;
  keys.image_names = stems;
  keys.classes = names;
  std::vector<train::Detection> records;
  const std::size_t batch = static_cast<std::size_t>(args.batch);
  core::Progress progress(err, "detect", "images", paths.size() > 1 ? paths.size() : 0, core::Progress::is_terminal(2));
  for (std::size_t start = 0; start < paths.size(); start += batch) {
    const std::size_t end = std::min(paths.size(), start + batch);
    std::vector<data::Image> images;
    std::vector<core::Tensor> planar;
    for (std::size_t i = start; i < end; ++i) {
      images.push_back(data::load_image(paths[i]));
      planar.push_back(models::darknet_planar_image(images.back().width, images.back().height, images.back().pixels.data()));
    }
    const auto dets = models::detect_batch(model, planar, options);
    for (std::size_t b = 0; b < images.size(); ++b) {
      const std::size_t i = start + b;
      fmt::print(out, "{}: {} detections\n", paths[i], dets[b].size());
      for (const models::ImageDetection& d : dets[b]) {
        fmt::print(out, "  {}: {:.0f}% [{:.1f}, {:.1f}, {:.1f}, {:.1f}]\n", names[std::size_t(d.label)], 100.0 * d.score,
                   d.x1, d.y1, d.x2, d.y2);
        records.push_back({i, d.label, d.x1, d.y1, double(d.x2) - d.x1, double(d.y2) - d.y1, d.score});
      }
      draw_detections(images[b], dets[b], names);
      const std::string picture = args.out.empty() ? (fs::path(args.out_dir) / (stems[i] + ".png")).string() : args.out;
      data::write_bytes(picture, data::encode_png(images[b]));
    }
    progress.update(end);
  }
  if (!args.json.empty()) {
    train::write_detections(args.json, records, keys);
    fmt::print(out, "{} detections written to {}\n", records.size(), args.json);
  }
}

}  // namespace yolo
