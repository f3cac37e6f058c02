#include "train/eval/evaluate_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/fault_injection.h"
#include "data/image.h"
#include "models/detect/detector.h"
#include "models/letterbox.h"
#include "train/eval/eval_datasets.h"

namespace train {

EvalMetric parse_eval_metric(const std::string& name) {
  if (name == "voc") return EvalMetric::voc;
  if (name == "coco") return EvalMetric::coco;
  throw core::ConfigError(fmt::format("eval.metric '{}': expected voc or coco", name));
}

ModelEvalOptions model_eval_options(const EvalConfig& config) {
  ModelEvalOptions o;
  o.metric = parse_eval_metric(config.metric);
  o.score_thresh = config.score_thresh;
  o.nms_iou = config.nms_iou;
  o.nms = models::parse_nms_method(config.nms);
  o.pre_nms_top_k = config.pre_nms_top_k;
  o.max_dets = config.max_dets;
  o.voc_iou_strict = config.voc_iou_strict;
  return o;
}

std::string describe(const EvalTiming& t) {
  const std::string share =
      t.forward_s > 0 ? fmt::format(" ({:.1f}% of the forward)", 100.0 * t.postprocess_s / t.forward_s) : "";
  return fmt::format("forward {:.2f} s, decode + NMS {:.2f} s{}, reading images {:.2f} s, scoring {:.2f} s", t.forward_s,
                     t.postprocess_s, share, t.read_s, t.score_s);
}

namespace {

// fn()'s result; the seconds it took are added to `total`.
template <class Fn>
auto timed(double& total, Fn&& fn) {
  const auto start = std::chrono::steady_clock::now();
  auto result = fn();
  total += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void check_options(const ModelEvalOptions& o) {
  if (!(o.score_thresh >= 0 && o.score_thresh < 1)) {
    throw core::ConfigError(fmt::format("eval: score_thresh {} must be in [0, 1)", o.score_thresh));
  }
  if (!(o.nms_iou >= 0 && o.nms_iou <= 1)) throw core::ConfigError(fmt::format("eval: nms_iou {} must be in [0, 1]", o.nms_iou));
  if (o.max_dets < 0) throw core::ConfigError(fmt::format("eval: max_dets {} must not be negative", o.max_dets));
  if (o.pre_nms_top_k < 0) {
    throw core::ConfigError(fmt::format("eval: pre_nms_top_k {} must not be negative", o.pre_nms_top_k));
  }
  if (o.shards < 1 || o.shard < 0 || o.shard >= o.shards) {
    throw core::ConfigError(fmt::format("eval: shard {} is not in [0, {})", o.shard, o.shards));
  }
  if (o.batch_size < 1) throw core::ConfigError(fmt::format("eval: batch size {} must be at least 1", o.batch_size));
  if (o.input_size < 0 || o.input_size % 32 != 0) {
    throw core::ConfigError(fmt::format("eval: input size {} must be a multiple of 32", o.input_size));
  }
}

std::vector<Detection> run_detector(const models::Model& model, const data::Dataset& ds, const ModelEvalOptions& o,
                                    EvalTiming& timing) {
  models::DetectOptions detect = models::default_detect_options(model);
  if (o.input_size > 0) detect.net_width = detect.net_height = o.input_size;
  detect.thresh = static_cast<float>(o.score_thresh);
  detect.nms_iou = static_cast<float>(o.nms_iou);
  detect.nms = o.nms;
  detect.pre_nms_top_k = o.pre_nms_top_k;
  detect.max_dets = o.max_dets;

  std::vector<Detection> detections;
  const std::size_t total = ds.images.size(), batch = static_cast<std::size_t>(o.batch_size);
  for (std::size_t start = 0; start < total; start += batch) {
    if (static_cast<int>((start / batch) % static_cast<std::size_t>(o.shards)) != o.shard) continue;
    const std::size_t end = std::min(total, start + batch);
    const std::vector<core::Tensor> images = timed(timing.read_s, [&] {
      std::vector<core::Tensor> loaded;
      for (std::size_t i = start; i < end; ++i) {
        const data::Image im = data::load_image(ds.images[i].path);
        loaded.push_back(models::darknet_planar_image(im.width, im.height, im.pixels.data()));
      }
      return loaded;
    });
    const std::vector<core::Tensor> heads = timed(timing.forward_s, [&] { return models::forward_heads(model, images, detect); });
    const auto per_image =
        timed(timing.postprocess_s, [&] { return models::detections_from_heads(model, heads, images, detect); });
    for (std::size_t b = 0; b < per_image.size(); ++b) {
      for (const models::ImageDetection& d : per_image[b]) {
        detections.push_back({start + b, d.label, d.x1, d.y1, double(d.x2) - d.x1, double(d.y2) - d.y1, d.score});
      }
    }
    if (o.progress) o.progress(end, total);
    core::fault_point("eval.batch");
  }
  return detections;
}

}  // namespace

namespace {

// Ground truth for the evaluation pictures, whatever the metric: crowd
// regions count as difficult objects (neither hit nor miss), and images are
// told apart by position, so COCO sets with repeated file names work too.
VocGroundTruth picture_ground_truth(const data::Dataset& ds) {
  VocGroundTruth gt;
  gt.classes = ds.classes;
  for (const data::ImageRecord& r : ds.images) {
    gt.image_names.push_back(r.name);
    auto& objects = gt.objects.emplace_back();
    for (const data::Object& o : r.objects) {
      objects.push_back({o.box.x1, o.box.y1, o.box.x2, o.box.y2, o.label, o.difficult || o.crowd});
    }
  }
  return gt;
}

}  // namespace

ModelEvalResult evaluate_model(const models::Model& model, const data::Dataset& ds, const ModelEvalOptions& options) {
  check_options(options);
  const std::vector<models::YoloLayer> layers = model.network->yolo_layers();
  const int classes = layers.empty() ? 0 : layers.front().classes;
  if (static_cast<std::size_t>(classes) != ds.classes.size()) {
    throw core::ConfigError(fmt::format("eval: the model predicts {} classes, data set {} has {}", classes, ds.spec,
                                        ds.classes.size()));
  }
  ModelEvalResult r;
  r.metric = options.metric;
  r.detections = run_detector(model, ds, options, r.timing);
  const auto scoring_start = std::chrono::steady_clock::now();
  if (options.gather) {
    r.detections = options.gather(r.detections);
    // Each image was one process's: ordering by image restores the order of
    // a single process.
    std::stable_sort(r.detections.begin(), r.detections.end(),
                     [](const Detection& a, const Detection& b) { return a.image < b.image; });
  }
  r.counts = {ds.images.size(), r.detections.size(), 0};
  if (options.metric == EvalMetric::voc) {
    const VocGroundTruth gt = voc_ground_truth(ds);
    VocOptions vo;
    vo.strict_iou = options.voc_iou_strict;
    r.voc = evaluate_voc(gt, r.detections, vo);
    r.keys = voc_detection_keys(gt);
    r.metrics = voc_metrics_object(*r.voc, r.counts);
    r.primary = r.voc->map_area.value_or(-1.0);
  } else {
    const CocoGroundTruth gt = coco_ground_truth(ds);
    r.coco = evaluate_coco(gt, r.detections);
    r.keys = coco_detection_keys(gt);
    r.metrics = coco_metrics_object(*r.coco, r.counts, options.per_category);
    r.primary = r.coco->stats[0];
  }
  r.details = compute_eval_details(picture_ground_truth(ds), r.detections);
  r.timing.score_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - scoring_start).count();
  return r;
}

}  // namespace train
