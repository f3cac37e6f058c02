#include "train/eval/coco_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "core/error.h"

namespace train {

namespace {

constexpr int kT = 10;    // IoU thresholds
constexpr int kR = 101;   // recall points
constexpr int kA = 4;     // area ranges: all, small, medium, large
constexpr int kM = 3;     // max detections: 1, 10, 100
constexpr int kMaxDets[kM] = {1, 10, 100};
constexpr double kAreaRanges[kA][2] = {{0, 1e10}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e10}};

// np.linspace(.5, .95, 10): i * ((0.95 - 0.5) / 9) + 0.5 with the last set to
// exactly 0.95. Writing 0.5 + 0.05 * i differs in the last bit at i = 7, 8.
std::array<double, kT> iou_thresholds() {
  std::array<double, kT> t{};
  const double step = (0.95 - 0.5) / 9;
  for (int i = 0; i < kT; ++i) t[i] = i * step + 0.5;
  t[kT - 1] = 0.95;
  return t;
}

// np.linspace(0, 1, 101): i * 0.01, the last exactly 1.
std::array<double, kR> recall_thresholds() {
  std::array<double, kR> r{};
  for (int i = 0; i < kR; ++i) r[i] = i * (1.0 / 100);
  r[kR - 1] = 1.0;
  return r;
}

// One kept detection of one category, in the order accumulate() concatenates
// them: ascending image id, then score rank within its image.
struct Entry {
  double score = 0;
  int rank = 0;                          // position among its image's sorted detections (< 100)
  std::array<std::uint16_t, kA> tp{};    // bit t: true positive at threshold t
  std::array<std::uint16_t, kA> ignore{};
};

struct CategoryAccumulator {
  std::vector<Entry> entries;
  std::array<long, kA> num_positive{};   // cocoapi's npig: non-ignored gts
};

// evaluateImg for one (image, category): matches the image's sorted
// detections against its gts for every area range and threshold, appending
// one Entry per detection.
void evaluate_image_category(const std::vector<const Detection*>& dets, const std::vector<const CocoObject*>& gts,
                             const std::array<double, kT>& thresholds, CategoryAccumulator& acc) {
  const std::size_t D = dets.size(), G = gts.size();
  std::vector<double> ious(D * G);
  for (std::size_t d = 0; d < D; ++d) {
    for (std::size_t g = 0; g < G; ++g) ious[d * G + g] = coco_iou(*dets[d], *gts[g]);
  }
  const std::size_t first = acc.entries.size();
  for (std::size_t d = 0; d < D; ++d) {
    Entry e;
    e.score = dets[d]->score;
    e.rank = static_cast<int>(d);
    acc.entries.push_back(e);
  }

  std::vector<std::size_t> order(G);
  std::vector<char> ignored(G), gt_matched(G);
  for (int a = 0; a < kA; ++a) {
    const double lo = kAreaRanges[a][0], hi = kAreaRanges[a][1];
    for (std::size_t g = 0; g < G; ++g) {
      ignored[g] = gts[g]->crowd || gts[g]->area < lo || gts[g]->area > hi;
      acc.num_positive[a] += ignored[g] ? 0 : 1;
    }
    // Non-ignored gts first, each group in file order (a stable argsort).
    std::iota(order.begin(), order.end(), 0);
    std::stable_partition(order.begin(), order.end(), [&](std::size_t g) { return !ignored[g]; });

    for (int t = 0; t < kT; ++t) {
      std::fill(gt_matched.begin(), gt_matched.end(), 0);
      for (std::size_t d = 0; d < D; ++d) {
        // cocoapi caps the threshold at 1 - 1e-10 so IoU 1 can still match at 0.95.
        double best = std::min(thresholds[t], 1 - 1e-10);
        long m = -1;
        for (std::size_t g : order) {
          if (gt_matched[g] && !gts[g]->crowd) continue;
          // Once matched to a regular gt, ignored gts (sorted last) are not taken.
          if (m > -1 && !ignored[static_cast<std::size_t>(m)] && ignored[g]) break;
          const double iou = ious[d * G + g];
          if (iou < best) continue;
          best = iou;  // `>=` against the running best: the later gt wins a tie
          m = static_cast<long>(g);
        }
        Entry& e = acc.entries[first + d];
        const std::uint16_t bit = static_cast<std::uint16_t>(1u << t);
        const double det_area = dets[d]->w * dets[d]->h;
        const bool outside = det_area < lo || det_area > hi;
        // cocoapi records a match as the gt's id and tests it for non-zero,
        // so a match to an annotation with id 0 reads as "unmatched".
        bool matched = false, det_ignored = false;
        if (m >= 0) {
          const auto mg = static_cast<std::size_t>(m);
          gt_matched[mg] = 1;
          matched = gts[mg]->id != 0;
          det_ignored = ignored[mg];
        }
        if (!matched && outside) det_ignored = true;
        if (det_ignored) e.ignore[a] |= bit;
        else if (matched) e.tp[a] |= bit;
      }
    }
  }
}

// accumulate() for one category: fills precision [T][R] and recall [T] for
// every area range and max-detections setting; -1 where there are no gts.
void accumulate_category(const CategoryAccumulator& acc, const std::array<double, kR>& rec_thresholds,
                         std::vector<double>& precision, std::vector<double>& recall, std::size_t k,
                         std::size_t num_categories) {
  // Stable by descending score over entries already in image-id order: the
  // same order as numpy's mergesort of the concatenated scores.
  std::vector<std::uint32_t> order(acc.entries.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return acc.entries[a].score > acc.entries[b].score; });

  std::vector<double> rc, pr;
  rc.reserve(order.size());
  pr.reserve(order.size());
  for (int a = 0; a < kA; ++a) {
    const long npig = acc.num_positive[a];
    if (npig == 0) continue;
    for (int m = 0; m < kM; ++m) {
      for (int t = 0; t < kT; ++t) {
        const std::uint16_t bit = static_cast<std::uint16_t>(1u << t);
        rc.clear();
        pr.clear();
        double tp = 0, fp = 0;
        for (std::uint32_t i : order) {
          const Entry& e = acc.entries[i];
          // Ignored detections only repeat the previous curve point, so
          // dropping them changes neither precision nor recall.
          if (e.rank >= kMaxDets[m] || (e.ignore[a] & bit)) continue;
          ((e.tp[a] & bit) ? tp : fp) += 1;
          rc.push_back(tp / static_cast<double>(npig));
          pr.push_back(tp / (fp + tp + 2.220446049250313e-16));  // np.spacing(1)
        }
        recall[((static_cast<std::size_t>(t) * num_categories + k) * kA + a) * kM + m] = rc.empty() ? 0 : rc.back();
        for (std::size_t i = pr.size(); i-- > 1;) pr[i - 1] = std::max(pr[i - 1], pr[i]);
        std::size_t i = 0;
        for (int r = 0; r < kR; ++r) {
          while (i < rc.size() && rc[i] < rec_thresholds[r]) ++i;  // searchsorted, side='left'
          const double q = i < rc.size() ? pr[i] : 0;
          precision[(((static_cast<std::size_t>(t) * kR + r) * num_categories + k) * kA + a) * kM + m] = q;
        }
      }
    }
  }
}

}  // namespace

double coco_iou(const Detection& d, const CocoObject& g) {
  const double ga = g.w * g.h, da = d.w * d.h;
  const double w = std::min(d.w + d.x, g.w + g.x) - std::max(d.x, g.x);
  if (w <= 0) return 0;
  const double h = std::min(d.h + d.y, g.h + g.y) - std::max(d.y, g.y);
  if (h <= 0) return 0;
  const double i = w * h;
  const double u = g.crowd ? da : da + ga - i;
  return i / u;
}

namespace {

void check_inputs(const CocoGroundTruth& gt, const std::vector<Detection>& detections) {
  const std::size_t num_images = gt.image_ids.size(), K = gt.category_ids.size();
  if (gt.objects.size() != num_images) {
    throw core::ValueError(fmt::format("evaluate_coco: {} image ids but {} object lists", num_images, gt.objects.size()));
  }
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    if (d.image >= num_images || d.label < 0 || static_cast<std::size_t>(d.label) >= K) {
      throw core::ValueError(fmt::format("evaluate_coco: detection {} has image index {} and label {}, but there are "
                                         "{} images and {} categories", i, d.image, d.label, num_images, K));
    }
  }
}

// evaluate(): every (image, category) pair with detections or ground truth,
// images in id order, each category's best 100 detections of an image
// matched against its ground truth at every IoU threshold.
std::vector<CategoryAccumulator> match_all(const CocoGroundTruth& gt, const std::vector<Detection>& detections,
                                           const std::array<double, kT>& thresholds) {
  const std::size_t num_images = gt.image_ids.size(), K = gt.category_ids.size();
  // Detections per image in file order (a counting sort keeps it stable).
  std::vector<std::size_t> start(num_images + 1, 0);
  for (const Detection& d : detections) ++start[d.image + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<const Detection*> by_image(detections.size());
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (const Detection& d : detections) by_image[next[d.image]++] = &d;
  }
  std::vector<std::size_t> image_order(num_images);
  std::iota(image_order.begin(), image_order.end(), 0);
  std::sort(image_order.begin(), image_order.end(),
            [&](std::size_t a, std::size_t b) { return gt.image_ids[a] < gt.image_ids[b]; });

  std::vector<CategoryAccumulator> acc(K);
  std::vector<std::vector<const Detection*>> dets_of(K);
  std::vector<std::vector<const CocoObject*>> gts_of(K);
  std::vector<std::size_t> touched;
  for (std::size_t img : image_order) {
    touched.clear();
    for (std::size_t i = start[img]; i < start[img + 1]; ++i) {
      const auto k = static_cast<std::size_t>(by_image[i]->label);
      if (dets_of[k].empty() && gts_of[k].empty()) touched.push_back(k);
      dets_of[k].push_back(by_image[i]);
    }
    for (const CocoObject& o : gt.objects[img]) {
      if (o.label < 0 || static_cast<std::size_t>(o.label) >= K) {
        throw core::ValueError(fmt::format("evaluate_coco: annotation id {} has label {}, but there are {} categories",
                                           o.id, o.label, K));
      }
      const auto k = static_cast<std::size_t>(o.label);
      if (dets_of[k].empty() && gts_of[k].empty()) touched.push_back(k);
      gts_of[k].push_back(&o);
    }
    for (std::size_t k : touched) {
      auto& dets = dets_of[k];
      std::stable_sort(dets.begin(), dets.end(), [](const Detection* a, const Detection* b) { return a->score > b->score; });
      if (dets.size() > 100) dets.resize(100);  // maxDets[-1] per image and category
      evaluate_image_category(dets, gts_of[k], thresholds, acc[k]);
      dets.clear();
      gts_of[k].clear();
    }
  }
  return acc;
}

// accumulate()'s precision [T,R,K,A,M] and recall [T,K,A,M] tables (-1 where
// a category has no ground truth), and summarize()'s means over them.
struct Accumulated {
  std::size_t K = 0;
  std::vector<double> precision, recall;

  // The mean of the selected entries that are not -1 (-1 when none):
  // IoU threshold t_only (or all when < 0), categories [k_first, k_last),
  // area range a, max-detections index m.
  double mean_precision(int t_only, std::size_t k_first, std::size_t k_last, int a, int m) const {
    double sum = 0;
    long n = 0;
    for (int t = 0; t < kT; ++t) {
      if (t_only >= 0 && t != t_only) continue;
      for (int r = 0; r < kR; ++r) {
        for (std::size_t k = k_first; k < k_last; ++k) {
          const double v = precision[(((static_cast<std::size_t>(t) * kR + r) * K + k) * kA + a) * kM + m];
          if (v > -1) {
            sum += v;
            ++n;
          }
        }
      }
    }
    return n == 0 ? -1.0 : sum / static_cast<double>(n);
  }
  double mean_recall(std::size_t k_first, std::size_t k_last, int a, int m) const {
    double sum = 0;
    long n = 0;
    for (int t = 0; t < kT; ++t) {
      for (std::size_t k = k_first; k < k_last; ++k) {
        const double v = recall[((static_cast<std::size_t>(t) * K + k) * kA + a) * kM + m];
        if (v > -1) {
          sum += v;
          ++n;
        }
      }
    }
    return n == 0 ? -1.0 : sum / static_cast<double>(n);
  }
};

}  // namespace

CocoMetrics evaluate_coco(const CocoGroundTruth& gt, const std::vector<Detection>& detections) {
  check_inputs(gt, detections);
  const std::size_t K = gt.category_ids.size();
  const auto thresholds = iou_thresholds();
  const auto rec_thresholds = recall_thresholds();
  std::vector<CategoryAccumulator> acc = match_all(gt, detections, thresholds);

  Accumulated tables{K, std::vector<double>(static_cast<std::size_t>(kT) * kR * K * kA * kM, -1.0),
                     std::vector<double>(static_cast<std::size_t>(kT) * K * kA * kM, -1.0)};
  for (std::size_t k = 0; k < K; ++k) accumulate_category(acc[k], rec_thresholds, tables.precision, tables.recall, k, K);

  // summarize() finds AP50 and AP75 by comparing with the thresholds exactly;
  // 0.5 and 0.75 are both representable in the linspace above.
  const int t50 = static_cast<int>(std::find(thresholds.begin(), thresholds.end(), 0.5) - thresholds.begin());
  const int t75 = static_cast<int>(std::find(thresholds.begin(), thresholds.end(), 0.75) - thresholds.begin());
  auto ap = [&](std::size_t k0, std::size_t k1, int a) { return tables.mean_precision(-1, k0, k1, a, 2); };
  auto at_threshold = [&](int t, std::size_t k0, std::size_t k1) {
    return t < kT ? tables.mean_precision(t, k0, k1, 0, 2) : -1.0;
  };
  auto ar = [&](std::size_t k0, std::size_t k1, int a, int m) { return tables.mean_recall(k0, k1, a, m); };

  CocoMetrics metrics;
  metrics.stats = {ap(0, K, 0),        at_threshold(t50, 0, K), at_threshold(t75, 0, K), ap(0, K, 1),
                   ap(0, K, 2),        ap(0, K, 3),             ar(0, K, 0, 0),          ar(0, K, 0, 1),
                   ar(0, K, 0, 2),     ar(0, K, 1, 2),          ar(0, K, 2, 2),          ar(0, K, 3, 2)};
  for (std::size_t k = 0; k < K; ++k) {
    CocoCategoryResult c;
    c.name = k < gt.category_names.size() ? gt.category_names[k] : fmt::format("{}", gt.category_ids[k]);
    c.id = gt.category_ids[k];
    c.num_gts = static_cast<int>(acc[k].num_positive[0]);
    c.ap = ap(k, k + 1, 0);
    c.ap50 = at_threshold(t50, k, k + 1);
    c.ap75 = at_threshold(t75, k, k + 1);
    c.ar100 = ar(k, k + 1, 0, 2);
    metrics.per_category.push_back(std::move(c));
  }
  return metrics;
}

}  // namespace train
