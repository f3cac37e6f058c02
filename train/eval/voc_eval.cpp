#include "train/eval/voc_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace train {

namespace {

// Per-detection outcome in ranked order; ignored detections (best match a
// difficult object) never reach this list: the devkit drops them from the
// curve (docs/evaluation.md, 'Difficult objects').
struct Outcome {
  bool tp = false;
};

void check_detections(const VocGroundTruth& gt, const std::vector<Detection>& detections) {
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    if (d.image >= gt.image_names.size()) {
      throw core::ValueError(fmt::format("evaluate_voc: detection {} names image index {}, but there are {} images", i,
                                         d.image, gt.image_names.size()));
    }
    if (d.label < 0 || static_cast<std::size_t>(d.label) >= gt.classes.size()) {
      throw core::ValueError(fmt::format("evaluate_voc: detection {} has label {}, but there are {} classes", i,
                                         d.label, gt.classes.size()));
    }
  }
}

VocClassResult evaluate_class(const VocGroundTruth& gt, int label, const std::vector<const Detection*>& dets,
                              const VocOptions& options) {
  VocClassResult result;
  result.name = gt.classes[static_cast<std::size_t>(label)];
  result.num_detections = dets.size();
  for (const auto& objects : gt.objects) {
    for (const VocObject& o : objects) result.npos += (o.label == label && !o.difficult) ? 1 : 0;
  }
  if (result.npos == 0) return result;

  // "detected" flags per image, sized lazily: most images never see this class.
  std::vector<std::vector<char>> matched(gt.objects.size());
  std::vector<Outcome> outcomes;
  outcomes.reserve(dets.size());
  for (const Detection* d : dets) {
    const VocObject box{d->x, d->y, d->x + d->w, d->y + d->h, label, false};
    const auto& objects = gt.objects[d->image];
    // Best IoU over every object of the class, difficult and already matched
    // ones included; the devkit's `ov > ovmax` keeps the first on a tie.
    double best = -1;
    std::size_t best_j = 0;
    for (std::size_t j = 0; j < objects.size(); ++j) {
      if (objects[j].label != label) continue;
      const double iou = voc_iou(box, objects[j]);
      if (iou > 0 && iou > best) {
        best = iou;
        best_j = j;
      }
    }
    const bool hit = options.strict_iou ? best > 0.5 : best >= 0.5;
    if (!hit) {
      outcomes.push_back({false});
      continue;
    }
    if (objects[best_j].difficult) continue;  // neither TP nor FP
    auto& flags = matched[d->image];
    if (flags.empty()) flags.assign(objects.size(), 0);
    if (flags[best_j]) {
      outcomes.push_back({false});  // duplicate: no fallback to a second-best object
    } else {
      flags[best_j] = 1;
      outcomes.push_back({true});
    }
  }

  std::vector<double> recall(outcomes.size()), precision(outcomes.size());
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    (outcomes[i].tp ? tp : fp) += 1;
    recall[i] = tp / result.npos;
    precision[i] = tp / (tp + fp);
  }
  result.ap_11point = voc_ap_11point(recall, precision);
  result.ap_area = voc_ap_area(recall, precision);
  result.recall = std::move(recall);
  result.precision = std::move(precision);
  return result;
}

}  // namespace

double voc_iou(const VocObject& a, const VocObject& b) {
  const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + 1;
  const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + 1;
  if (!(iw > 0 && ih > 0)) return 0;
  // Same operation order as VOCevaldet.m, so ties at 0.5 land the same way.
  const double ua = (a.x2 - a.x1 + 1) * (a.y2 - a.y1 + 1) + (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1) - iw * ih;
  return iw * ih / ua;
}

double voc_ap_11point(const std::vector<double>& recall, const std::vector<double>& precision) {
  double ap = 0;
  for (int k = 0; k <= 10; ++k) {
    // 0.1 * k, not k / 10.0: 0.1 * 3 is 0.30000000000000004, as in the
    // devkit's 0:0.1:1 and numpy's arange, and it decides recall-0.3 cases.
    const double t = 0.1 * k;
    double p = 0;
    for (std::size_t i = 0; i < recall.size(); ++i) {
      if (recall[i] >= t) p = std::max(p, precision[i]);
    }
    ap += p / 11;
  }
  return ap;
}

double voc_ap_area(const std::vector<double>& recall, const std::vector<double>& precision) {
  // Sentinels: recall 0 and 1, precision 0 at both ends (VOCap.m).
  std::vector<double> r(recall.size() + 2), p(precision.size() + 2);
  r.front() = 0;
  r.back() = 1;
  p.front() = 0;
  p.back() = 0;
  std::copy(recall.begin(), recall.end(), r.begin() + 1);
  std::copy(precision.begin(), precision.end(), p.begin() + 1);
  for (std::size_t i = p.size() - 1; i-- > 0;) p[i] = std::max(p[i], p[i + 1]);
  double ap = 0;
  for (std::size_t i = 1; i < r.size(); ++i) {
    if (r[i] != r[i - 1]) ap += (r[i] - r[i - 1]) * p[i];
  }
  return ap;
}

VocMetrics evaluate_voc(const VocGroundTruth& gt, const std::vector<Detection>& detections,
                        const VocOptions& options) {
  check_detections(gt, detections);
  const std::size_t num_classes = gt.classes.size();
  std::vector<std::vector<const Detection*>> by_class(num_classes);
  for (const Detection& d : detections) by_class[static_cast<std::size_t>(d.label)].push_back(&d);

  VocMetrics metrics;
  double sum_11 = 0, sum_area = 0;
  int counted = 0;
  for (std::size_t c = 0; c < num_classes; ++c) {
    auto& dets = by_class[c];
    // Stable: equal scores keep file order, like MATLAB's sort(-confidence).
    std::stable_sort(dets.begin(), dets.end(), [](const Detection* a, const Detection* b) { return a->score > b->score; });
    VocClassResult r = evaluate_class(gt, static_cast<int>(c), dets, options);
    if (r.ap_11point) {
      sum_11 += *r.ap_11point;
      sum_area += *r.ap_area;
      ++counted;
    }
    metrics.per_class.push_back(std::move(r));
  }
  if (counted > 0) {
    metrics.map_11point = sum_11 / counted;
    metrics.map_area = sum_area / counted;
  }
  return metrics;
}

}  // namespace train
