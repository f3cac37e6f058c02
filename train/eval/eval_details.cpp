#include "train/eval/eval_details.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "core/error.h"

namespace train {

namespace {

constexpr int kCurvePoints = 100;

// The precision envelope (best precision at this recall or more), sampled at
// recall 0, 0.01, ... up to the largest recall reached, which ends the curve.
ClassCurve sampled_curve(const VocClassResult& r) {
  ClassCurve c{r.name, r.npos, r.ap_area.value_or(0), {}, {}};
  if (r.recall.empty()) return c;
  std::vector<double> envelope = r.precision;
  for (std::size_t i = envelope.size() - 1; i-- > 0;) envelope[i] = std::max(envelope[i], envelope[i + 1]);
  const double max_recall = r.recall.back();
  std::size_t at = 0;
  for (int k = 0; k <= kCurvePoints; ++k) {
    const double level = static_cast<double>(k) / kCurvePoints;
    if (level > max_recall) break;
    while (at < r.recall.size() && r.recall[at] < level) ++at;
    c.recall.push_back(level);
    c.precision.push_back(envelope[at]);
  }
  if (c.recall.empty() || c.recall.back() < max_recall) {
    c.recall.push_back(max_recall);
    c.precision.push_back(envelope.back());
  }
  return c;
}

VocObject corners(const Detection& d) { return {d.x, d.y, d.x + d.w, d.y + d.h, d.label, false}; }

// One image's detections (score >= threshold) against its objects.
void confuse_image(const std::vector<VocObject>& objects, const std::vector<const Detection*>& dets,
                   ConfusionMatrix& cm) {
  const std::size_t background = cm.classes.size();
  std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;  // (IoU, detection, object)
  std::vector<char> on_difficult(dets.size(), 0);
  for (std::size_t d = 0; d < dets.size(); ++d) {
    for (std::size_t o = 0; o < objects.size(); ++o) {
      const double iou = voc_iou(corners(*dets[d]), objects[o]);
      if (iou < cm.iou) continue;
      if (objects[o].difficult) on_difficult[d] = 1;
      else pairs.emplace_back(iou, d, o);
    }
  }
  std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::vector<char> det_used(dets.size(), 0), obj_used(objects.size(), 0);
  for (const auto& [iou, d, o] : pairs) {
    if (det_used[d] || obj_used[o]) continue;
    det_used[d] = obj_used[o] = 1;
    ++cm.counts[static_cast<std::size_t>(objects[o].label)][static_cast<std::size_t>(dets[d]->label)];
  }
  for (std::size_t o = 0; o < objects.size(); ++o) {
    if (!obj_used[o] && !objects[o].difficult) ++cm.counts[static_cast<std::size_t>(objects[o].label)][background];
  }
  // A detection on a difficult object is neither right nor wrong, as in the metric.
  for (std::size_t d = 0; d < dets.size(); ++d) {
    if (!det_used[d] && !on_difficult[d]) ++cm.counts[background][static_cast<std::size_t>(dets[d]->label)];
  }
}

ConfusionMatrix confusion_matrix(const VocGroundTruth& gt, const std::vector<Detection>& detections,
                                 double score_thresh, double iou) {
  ConfusionMatrix cm;
  cm.score_thresh = score_thresh;
  cm.iou = iou;
  cm.classes = gt.classes;
  const std::size_t k = gt.classes.size() + 1;
  cm.counts.assign(k, std::vector<long long>(k, 0));
  std::vector<std::vector<const Detection*>> by_image(gt.objects.size());
  for (const Detection& d : detections) {
    if (d.score >= score_thresh && d.image < by_image.size()) by_image[d.image].push_back(&d);
  }
  for (std::size_t i = 0; i < gt.objects.size(); ++i) confuse_image(gt.objects[i], by_image[i], cm);
  return cm;
}

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& source) {
  if (!j.is_object() || !j.contains(key)) {
    throw core::ValueError(fmt::format("{}: evaluation details lack \"{}\"", source, key));
  }
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw core::ValueError(fmt::format("{}: evaluation details have a \"{}\" of the wrong type", source, key));
  }
}

}  // namespace

EvalDetails compute_eval_details(const VocGroundTruth& gt, const std::vector<Detection>& detections,
                                 double score_thresh, double iou) {
  EvalDetails details;
  const VocMetrics voc = evaluate_voc(gt, detections);
  for (const VocClassResult& r : voc.per_class) details.curves.push_back(sampled_curve(r));
  details.confusion = confusion_matrix(gt, detections, score_thresh, iou);
  return details;
}

nlohmann::json to_json(const EvalDetails& details) {
  nlohmann::json curves = nlohmann::json::array();
  for (const ClassCurve& c : details.curves) {
    curves.push_back({{"class", c.name}, {"npos", c.npos}, {"ap50", c.ap50}, {"recall", c.recall},
                      {"precision", c.precision}});
  }
  const ConfusionMatrix& cm = details.confusion;
  return {{"pr_curves", curves},
          {"confusion_matrix",
           {{"score_thresh", cm.score_thresh}, {"iou", cm.iou}, {"classes", cm.classes}, {"counts", cm.counts}}}};
}

EvalDetails eval_details_from_json(const nlohmann::json& j, const std::string& source) {
  EvalDetails d;
  for (const nlohmann::json& c : field<nlohmann::json>(j, "pr_curves", source)) {
    ClassCurve curve{field<std::string>(c, "class", source), field<int>(c, "npos", source),
                     field<double>(c, "ap50", source), field<std::vector<double>>(c, "recall", source),
                     field<std::vector<double>>(c, "precision", source)};
    if (curve.recall.size() != curve.precision.size()) {
      throw core::ValueError(fmt::format("{}: class {} has {} recall and {} precision values", source, curve.name,
                                         curve.recall.size(), curve.precision.size()));
    }
    d.curves.push_back(std::move(curve));
  }
  const auto cm = field<nlohmann::json>(j, "confusion_matrix", source);
  d.confusion.score_thresh = field<double>(cm, "score_thresh", source);
  d.confusion.iou = field<double>(cm, "iou", source);
  d.confusion.classes = field<std::vector<std::string>>(cm, "classes", source);
  d.confusion.counts = field<std::vector<std::vector<long long>>>(cm, "counts", source);
  const std::size_t k = d.confusion.classes.size() + 1;
  const bool square = d.confusion.counts.size() == k &&
                      std::all_of(d.confusion.counts.begin(), d.confusion.counts.end(), [k](const auto& row) { return row.size() == k; });
  if (!square) {
    throw core::ValueError(fmt::format("{}: the confusion matrix must be {}x{} for {} classes plus background", source,
                                       k, k, k - 1));
  }
  return d;
}

std::vector<std::vector<double>> normalise_rows(const std::vector<std::vector<long long>>& counts) {
  std::vector<std::vector<double>> out;
  for (const auto& row : counts) {
    long long sum = 0;
    for (long long v : row) sum += v;
    std::vector<double> r(row.size(), 0.0);
    for (std::size_t i = 0; sum > 0 && i < row.size(); ++i) r[i] = static_cast<double>(row[i]) / static_cast<double>(sum);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace train
