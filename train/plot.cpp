#include "train/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/atomic_file.h"
#include "core/error.h"
#include "ops/yolo_loss.h"
#include "train/chart.h"
#include "train/run_dir.h"
#include "train/training_evaluation.h"

namespace train {

namespace fs = std::filesystem;

namespace {

using nlohmann::json;

constexpr int kPanelWidth = 440, kPanelHeight = 340;  // results.png's panels
constexpr int kSingleWidth = 800, kSingleHeight = 540;

// The loss parts metrics.jsonl records per head (its keys), with their panel
// titles, in the order of ops::YoloLossPart.
constexpr std::array<std::pair<const char*, const char*>, ops::kYoloLossNumParts> kParts = [] {
  std::array<std::pair<const char*, const char*>, ops::kYoloLossNumParts> parts{};
  parts[ops::kYoloLossXY] = {"xy", "x/y loss"};
  parts[ops::kYoloLossWH] = {"wh", "w/h loss"};
  parts[ops::kYoloLossObjectness] = {"objectness", "Objectness loss"};
  parts[ops::kYoloLossClass] = {"class", "Class loss"};
  return parts;
}();

// Every curve a run's metrics.jsonl holds.
struct RunCurves {
  Curve loss{"loss", {}};
  Curve lr{"learning rate", {}};
  std::map<int, std::map<std::string, Curve>, std::greater<>> heads;  // stride (32 first) -> part -> curve
  std::vector<Curve> metrics;                                         // one per evaluation metric
};

double number_or_nan(const json& j, const std::string& key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

RunCurves read_curves(const RunDir& run) {
  RunCurves c;
  const std::vector<json> lines = run.read_metrics();
  const bool coco = std::any_of(lines.begin(), lines.end(), [](const json& j) {
    return j.contains("eval") && j["eval"].is_object() && j["eval"].contains("AP");
  });
  for (const std::string& key : headline_metric_keys(coco ? EvalMetric::coco : EvalMetric::voc)) {
    c.metrics.push_back({key, {}});
  }
  for (const json& j : lines) {
    const double step = j.value("step", 0.0);
    if (j.contains("loss")) c.loss.points.emplace_back(step, number_or_nan(j, "loss"));
    if (j.contains("lr")) c.lr.points.emplace_back(step, number_or_nan(j, "lr"));
    if (j.contains("loss_heads") && j["loss_heads"].is_object()) {
      for (const auto& [stride, parts] : j["loss_heads"].items()) {
        const int s = std::atoi(stride.c_str());
        for (const auto& [key, title] : kParts) {
          Curve& curve = c.heads[s][key];
          curve.name = fmt::format("stride {}", s);
          curve.points.emplace_back(step, number_or_nan(parts, key));
        }
      }
    }
    if (j.contains("eval") && j["eval"].is_object()) {
      for (Curve& m : c.metrics) m.points.emplace_back(step, number_or_nan(j["eval"], m.name));
    }
  }
  return c;
}

LinePanel panel(std::string title, std::string y_label, std::vector<Curve> curves) {
  LinePanel p;
  p.title = std::move(title);
  p.x_label = "step";
  p.y_label = std::move(y_label);
  p.curves = std::move(curves);
  return p;
}

LinePanel metric_panel(std::string title, std::vector<Curve> curves) {
  LinePanel p = panel(std::move(title), "value", std::move(curves));
  p.y_min = 0;
  p.y_max = 1;
  p.markers = true;
  return p;
}

std::vector<LinePanel> results_panels(const RunCurves& c) {
  std::vector<LinePanel> panels = {panel("Total loss", "loss", {c.loss})};
  for (const auto& [key, title] : kParts) {
    std::vector<Curve> per_head;
    for (const auto& [stride, parts] : c.heads) per_head.push_back(parts.at(key));
    panels.push_back(panel(title, "loss", per_head));
  }
  panels.push_back(panel("Learning rate", "learning rate", {c.lr}));
  for (const Curve& m : c.metrics) panels.push_back(metric_panel(m.name + " (validation)", {m}));
  return panels;
}

LinePanel pr_panel(const EvalDetails& details, const std::string& caption) {
  LinePanel p;
  double sum = 0;
  int counted = 0;
  for (std::size_t k = 0; k < details.curves.size(); ++k) {
    const ClassCurve& c = details.curves[k];
    Curve curve{fmt::format("{} AP50 {:.3f}", c.name, c.ap50), {}};
    if (c.npos == 0) curve.name = fmt::format("{} (no objects)", c.name);
    for (std::size_t i = 0; i < c.recall.size(); ++i) curve.points.emplace_back(c.recall[i], c.precision[i]);
    p.curves.push_back(std::move(curve));
    if (c.npos > 0) {
      sum += c.ap50;
      ++counted;
    }
  }
  const std::string mean = counted > 0 ? fmt::format("mAP50 {:.3f}", sum / counted) : "no objects";
  p.title = fmt::format("Precision-recall at IoU 0.5, {}{}", mean, caption.empty() ? "" : ", " + caption);
  p.x_label = "recall";
  p.y_label = "precision";
  p.x_min = p.y_min = 0;
  p.x_max = p.y_max = 1;
  p.legend_outside = true;
  return p;
}

Heatmap confusion_heatmap(const ConfusionMatrix& cm, const std::string& caption) {
  Heatmap h;
  h.title = fmt::format("Confusion matrix, score >= {:g}, IoU >= {:g}, rows sum to 1{}", cm.score_thresh, cm.iou,
                        caption.empty() ? "" : ", " + caption);
  h.x_label = "predicted class";
  h.y_label = "true class";
  h.row_names = cm.classes;
  h.row_names.push_back("background");
  h.column_names = h.row_names;
  h.values = normalise_rows(cm.counts);
  // Background predicted as background is not counted; the cell stays blank.
  if (!h.values.empty()) h.values.back().back() = NAN;
  return h;
}

}  // namespace

void write_eval_plots(const EvalDetails& details, const std::string& dir, const std::string& caption) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw core::IoError(fmt::format("cannot create {}: {}", dir, ec.message()));
  const int rows = static_cast<int>(details.curves.size());
  write_line_panels((fs::path(dir) / "pr_curve.png").string(), {pr_panel(details, caption)}, 1,
                    std::max(900, kSingleWidth + 200), std::max(600, 140 + rows * 19));
  const int n = static_cast<int>(details.confusion.classes.size()) + 1;
  const int cell = n <= 12 ? 64 : n <= 31 ? 40 : 18;
  const int side = 240 + n * cell;
  write_heatmap((fs::path(dir) / "confusion_matrix.png").string(), confusion_heatmap(details.confusion, caption),
                std::max(760, side), std::max(600, side));
}

void plot_run(const std::string& run_dir) {
  const RunDir run(run_dir);
  const RunCurves c = read_curves(run);
  const std::vector<LinePanel> panels = results_panels(c);
  write_line_panels(run.plot_path("results.png"), panels, (static_cast<int>(panels.size()) + 1) / 2, kPanelWidth,
                    kPanelHeight);
  write_line_panels(run.plot_path("loss.png"), {panel("Total training loss", "loss", {c.loss})}, 1, kSingleWidth,
                    kSingleHeight);
  write_line_panels(run.plot_path("lr.png"), {panel("Learning rate", "learning rate", {c.lr})}, 1, kSingleWidth,
                    kSingleHeight);
  write_line_panels(run.plot_path("map.png"), {metric_panel("Validation metrics", c.metrics)}, 1, kSingleWidth,
                    kSingleHeight);
  const std::string latest = run.latest_eval_details();
  if (latest.empty()) return;
  const EvalDetails details = eval_details_from_json(json::parse(core::read_file(latest), nullptr, false), latest);
  const std::string stem = fs::path(latest).stem().string();  // step_NNNNNN
  write_eval_plots(details, run.plot_path(""), fmt::format("step {}", std::atoll(stem.c_str() + 5)));
}

}  // namespace train
