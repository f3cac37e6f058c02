#include "tools/yolo/eval_command.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <memory>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "data/dataset_spec.h"
#include "tools/yolo/inference_model.h"
#include "train/config_loader.h"
#include "train/eval/coco_ground_truth.h"
#include "train/eval/detections_io.h"
#include "train/eval/eval_datasets.h"
#include "train/eval/evaluate_model.h"
#include "train/plot.h"
#include "train/eval/metrics_json.h"
#include "train/trainer.h"

namespace yolo {

using core::ConfigError;

namespace {

std::vector<std::string> parse_class_list(const std::string& text) {
  std::vector<std::string> names;
  if (text.empty()) return names;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    const auto first = name.find_first_not_of(" \t"), last = name.find_last_not_of(" \t");
    if (first == std::string::npos) throw ConfigError(fmt::format("--classes '{}': empty class name", text));
    names.push_back(name.substr(first, last - first + 1));
  }
  if (text.back() == ',') throw ConfigError(fmt::format("--classes '{}': empty class name", text));
  return names;
}

void warn_dropped(const train::DetectionsFile& file, const std::string& path, std::ostream& err) {
  if (file.dropped.empty()) return;
  fmt::print(err, "warning: {}: dropped {} of {} detections:\n", path, file.num_dropped(), file.num_read);
  for (const auto& [reason, count] : file.dropped) fmt::print(err, "  {} x {}\n", count, reason);
}

std::string format_ap(const std::optional<double>& v) { return v ? fmt::format("{:.4f}", *v) : std::string("   -"); }

void print_voc_table(const train::VocMetrics& m, const train::VocOptions& options, std::ostream& out) {
  fmt::print(out, "VOC detection AP (IoU {} 0.5)\n", options.strict_iou ? ">" : ">=");
  fmt::print(out, "{:<20} {:>7} {:>9} {:>9}\n", "class", "npos", "AP 11pt", "AP area");
  for (const auto& c : m.per_class) {
    fmt::print(out, "{:<20} {:>7} {:>9} {:>9}\n", c.name, c.npos, format_ap(c.ap_11point), format_ap(c.ap_area));
  }
  fmt::print(out, "{:<20} {:>7} {:>9} {:>9}\n", "mAP", "", format_ap(m.map_11point), format_ap(m.map_area));
}

void print_coco_table(const train::CocoMetrics& m, bool per_category, std::ostream& out) {
  // The layout of cocoapi's summarize(), so the lines can be compared by eye.
  struct Row { const char* kind; const char* iou; const char* area; int max_dets; };
  const Row rows[12] = {{"Average Precision  (AP)", "0.50:0.95", "all", 100}, {"Average Precision  (AP)", "0.50", "all", 100},
                        {"Average Precision  (AP)", "0.75", "all", 100},      {"Average Precision  (AP)", "0.50:0.95", "small", 100},
                        {"Average Precision  (AP)", "0.50:0.95", "medium", 100}, {"Average Precision  (AP)", "0.50:0.95", "large", 100},
                        {"Average Recall     (AR)", "0.50:0.95", "all", 1},   {"Average Recall     (AR)", "0.50:0.95", "all", 10},
                        {"Average Recall     (AR)", "0.50:0.95", "all", 100}, {"Average Recall     (AR)", "0.50:0.95", "small", 100},
                        {"Average Recall     (AR)", "0.50:0.95", "medium", 100}, {"Average Recall     (AR)", "0.50:0.95", "large", 100}};
  for (int i = 0; i < 12; ++i) {
    fmt::print(out, " {:<23} @[ IoU={:<9} | area={:>6} | maxDets={:>3} ] = {:.3f}   ({})\n", rows[i].kind, rows[i].iou,
               rows[i].area, rows[i].max_dets, m.stats[static_cast<std::size_t>(i)], train::kCocoStatNames[static_cast<std::size_t>(i)]);
  }
  if (!per_category) return;
  fmt::print(out, "\n{:<24} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}\n", "category", "id", "gts", "AP", "AP50", "AP75", "AR100");
  for (const auto& c : m.per_category) {
    fmt::print(out, "{:<24} {:>6} {:>7} {:>7.3f} {:>7.3f} {:>7.3f} {:>7.3f}\n", c.name, c.id, c.num_gts, c.ap, c.ap50,
               c.ap75, c.ar100);
  }
}

void write_metrics(const std::string& path, const std::string& json, std::ostream& out) {
  if (path.empty()) return;
  core::write_file_atomic(path, json);
  fmt::print(out, "metrics written to {}\n", path);
}

// --plots DIR: the precision/recall curves and the confusion matrix.
void write_plots(const EvalArgs& args, const train::VocGroundTruth& gt, const std::vector<train::Detection>& dets,
                 std::ostream& out) {
  if (args.plots.empty()) return;
  train::write_eval_plots(train::compute_eval_details(gt, dets), args.plots, "");
  fmt::print(out, "plots written to {}/pr_curve.png and confusion_matrix.png\n", args.plots);
}

// COCO ground truth in the form the pictures take: crowd regions are
// neither hit nor miss, as difficult objects are for VOC.
train::VocGroundTruth picture_ground_truth(const train::CocoGroundTruth& coco) {
  train::VocGroundTruth gt;
  gt.classes = coco.category_names;
  for (std::size_t i = 0; i < coco.image_ids.size(); ++i) {
    gt.image_names.push_back(std::to_string(coco.image_ids[i]));
    auto& objects = gt.objects.emplace_back();
    for (const train::CocoObject& o : coco.objects[i]) objects.push_back({o.x, o.y, o.x + o.w, o.y + o.h, o.label, o.crowd});
  }
  return gt;
}

void eval_voc(const EvalArgs& args, const data::DatasetSpec& spec, std::ostream& out, std::ostream& err) {
  const std::vector<std::string> classes = parse_class_list(args.classes);
  const std::string split = spec.extra.empty() ? "test" : spec.extra;
  const train::VocEvalSet set = train::load_voc_eval_set(spec.path, split, classes);
  if (!classes.empty() && set.classes_from != "--classes" && classes != set.gt.classes) {
    fmt::print(err, "warning: class names come from {}; --classes is ignored\n", set.classes_from);
  }
  for (const data::SkippedFile& s : set.skipped) fmt::print(err, "warning: skipped {}: {}\n", s.path, s.reason);
  const train::DetectionsFile dets = train::read_detections(args.detections, train::voc_detection_keys(set));
  warn_dropped(dets, args.detections, err);

  train::VocOptions options;
  options.strict_iou = args.voc_iou_strict;
  const train::VocMetrics metrics = train::evaluate_voc(set.gt, dets.detections, options);
  fmt::print(out, "{}: {} images ({} skipped), {} classes from {}; {} detections\n", args.dataset,
             set.gt.image_names.size(), set.skipped.size(), set.gt.classes.size(), set.classes_from,
             dets.detections.size());
  print_voc_table(metrics, options, out);
  const train::EvalCounts counts{set.gt.image_names.size(), dets.detections.size(), dets.num_dropped()};
  write_metrics(args.out, train::voc_metrics_json(metrics, counts), out);
  write_plots(args, set.gt, dets.detections, out);
}

void eval_coco(const EvalArgs& args, const data::DatasetSpec& spec, std::ostream& out, std::ostream& err) {
  if (args.voc_iou_strict) throw ConfigError("--voc-iou-strict applies to voc: data sets only");
  const train::CocoGroundTruthFile gt_file = train::read_coco_ground_truth(spec.path);
  const train::CocoGroundTruth& gt = gt_file.gt;
  if (!gt_file.skipped.empty()) {
    fmt::print(err, "warning: {}: {} annotations name an unknown image or category and are left out (first: {})\n",
               spec.path, gt_file.skipped.size(), gt_file.skipped.front());
  }
  if (gt_file.num_missing_area > 0) {
    fmt::print(err, "warning: {}: {} annotations have no \"area\"; their box area w*h decides the area range\n",
               spec.path, gt_file.num_missing_area);
  }
  const train::DetectionsFile dets = train::read_detections(args.detections, train::coco_detection_keys(gt));
  warn_dropped(dets, args.detections, err);

  const train::CocoMetrics metrics = train::evaluate_coco(gt, dets.detections);
  fmt::print(out, "{}: {} images, {} categories; {} detections\n", args.dataset, gt.image_ids.size(),
             gt.category_ids.size(), dets.detections.size());
  print_coco_table(metrics, args.per_category, out);
  const train::EvalCounts counts{gt.image_ids.size(), dets.detections.size(), dets.num_dropped()};
  write_metrics(args.out, train::coco_metrics_json(metrics, counts, args.per_category), out);
  write_plots(args, picture_ground_truth(gt), dets.detections, out);
}

void run_model_eval(const EvalArgs& args, const models::Model& model, const data::Dataset& ds,
                    train::ModelEvalOptions options, std::ostream& out, std::ostream& err);

void eval_model(const EvalArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.detections.empty()) {
    throw ConfigError("--detections scores an existing results file; it cannot be combined with --weights");
  }
  if (!args.classes.empty()) throw ConfigError("--classes applies to scoring a results file; the data set names its classes");
  if (!args.config.empty()) {
    if (!args.cfg.empty() || !args.dataset.empty()) {
      throw ConfigError("--config describes the model and the data set: leave out --cfg and --dataset");
    }
    if (args.voc_iou_strict) throw ConfigError("--voc-iou-strict: with --config set eval.voc_iou_strict in the config");
    const train::TrainConfig config = train::load_config(args.config);
    const std::string split = args.split.empty() ? "val" : args.split;
    if (split != "val" && split != "train") throw ConfigError(fmt::format("--split '{}': expected val or train", split));
    const std::string& spec = split == "val" ? config.data.val : config.data.train;
    if (spec.empty()) throw ConfigError(fmt::format("{}: data.{} is empty", args.config, split));
    const data::Dataset ds = train::load_train_dataset(config, spec, split == "val" ? train::DataRole::val : train::DataRole::train, out);
    const models::Model model = load_config_model(config, args.weights, ds.classes, out);
    train::ModelEvalOptions options = train::model_eval_options(config.eval);
    run_model_eval(args, model, ds, options, out, err);
    return;
  }
  if (!args.split.empty()) throw ConfigError("--split chooses a split of --config's data set; with --dataset put the split in the SPEC");
  if (args.dataset.empty()) throw ConfigError("--dataset SPEC is required with --cfg/--weights (or use --config)");
  const data::DatasetSpec spec = data::parse_dataset_spec(args.dataset);
  const train::EvalMetric metric = spec.format == data::DatasetFormat::coco ? train::EvalMetric::coco : train::EvalMetric::voc;
  if (args.voc_iou_strict && metric == train::EvalMetric::coco) throw ConfigError("--voc-iou-strict applies to VOC-style data sets only");

  const models::Model model = load_inference_model({args.weights, args.cfg}, out);
  // VOC specs without a split are evaluated on `test`, as in the results-file form.
  const data::Dataset ds = data::read_dataset(args.dataset, data::ReadOptions{}, "test");
  train::ModelEvalOptions options;
  options.metric = metric;
  options.voc_iou_strict = args.voc_iou_strict;
  run_model_eval(args, model, ds, options, out, err);
}

// Detects on every image of `ds`, prints the table, writes what was asked.
void run_model_eval(const EvalArgs& args, const models::Model& model, const data::Dataset& ds,
                    train::ModelEvalOptions options, std::ostream& out, std::ostream& err) {
  // Inference only from here: one copy of the folded weights, not two.
  model.network->release_unfolded_weights();
  for (const data::SkippedFile& s : ds.skipped) fmt::print(err, "warning: skipped {}: {}\n", s.path, s.reason);
  options.per_category = args.per_category;
  if (!args.nms.empty()) options.nms = models::parse_nms_method(args.nms);
  if (args.pre_nms_top_k >= 0) options.pre_nms_top_k = args.pre_nms_top_k;
  if (args.max_dets >= 0) options.max_dets = args.max_dets;
  options.batch_size = args.batch;
  options.input_size = args.size;
  auto progress = std::make_shared<core::Progress>(err, "eval", "images", ds.images.size(), core::Progress::is_terminal(2));
  options.progress = [progress](std::size_t done, std::size_t) { progress->update(done); };
  fmt::print(out, "{}: {} images, {} classes\n", ds.spec, ds.images.size(), ds.classes.size());
  const train::ModelEvalResult r = train::evaluate_model(model, ds, options);
  fmt::print(out, "{} detections (score > {}, {} NMS at IoU {}{}, at most {} per image)\n", r.detections.size(),
             options.score_thresh, options.nms == models::NmsMethod::darknet ? "Darknet's" : "bounded", options.nms_iou,
             options.nms == models::NmsMethod::darknet ? "" : fmt::format(", {} candidates per class", options.pre_nms_top_k),
             options.max_dets);
  fmt::print(out, "time: {}\n", train::describe(r.timing));
  if (r.voc) {
    train::VocOptions vo;
    vo.strict_iou = options.voc_iou_strict;
    print_voc_table(*r.voc, vo, out);
  } else {
    print_coco_table(*r.coco, args.per_category, out);
  }
  if (!args.save_detections.empty()) {
    train::write_detections(args.save_detections, r.detections, r.keys);
    fmt::print(out, "detections written to {}\n", args.save_detections);
  }
  write_metrics(args.out, r.metrics.dump(2) + "\n", out);
  if (!args.plots.empty()) {
    train::write_eval_plots(r.details, args.plots, "");
    fmt::print(out, "plots written to {}/pr_curve.png and confusion_matrix.png\n", args.plots);
  }
}

}  // namespace

void run_eval_command(const EvalArgs& args, std::ostream& out, std::ostream& err) {
  const bool model_form = !args.cfg.empty() || !args.config.empty() || !args.weights.empty() ||
                          !args.save_detections.empty() || !args.split.empty();
  if (model_form) {
    eval_model(args, out, err);
    return;
  }
  if (args.dataset.empty()) throw ConfigError("--dataset SPEC is required (voc:DIR[:SPLIT] or coco:ANNOTATIONS.json)");
  if (args.detections.empty()) throw ConfigError("--detections dets.json is required (COCO results format)");
  const data::DatasetSpec spec = data::parse_dataset_spec(args.dataset);
  switch (spec.format) {
    case data::DatasetFormat::voc:
      eval_voc(args, spec, out, err);
      return;
    case data::DatasetFormat::coco:
      if (!args.classes.empty()) throw ConfigError("--classes applies to voc: data sets only (COCO names its categories)");
      eval_coco(args, spec, out, err);
      return;
    case data::DatasetFormat::darknet:
      throw ConfigError(fmt::format("--dataset '{}': yolo eval scores voc: and coco: data sets; darknet lists carry "
                                    "no difficult or crowd flags", args.dataset));
  }
}

}  // namespace yolo
