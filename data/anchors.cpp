#include "data/anchors.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "core/error.h"
#include "data/rng.h"

namespace data {

float shape_iou(const Anchor& a, const Anchor& b) {
  const float inter = std::min(a.w, b.w) * std::min(a.h, b.h);
  const float uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0;
}

std::vector<Anchor> box_shapes(const Dataset& dataset, int size) {
  std::vector<Anchor> shapes;
  for (const ImageRecord& r : dataset.images) {
    if (r.width <= 0 || r.height <= 0) continue;
    const float sx = static_cast<float>(size) / r.width, sy = static_cast<float>(size) / r.height;
    for (const Object& o : r.objects) {
      if (o.crowd || o.difficult) continue;
      shapes.push_back({o.box.width() * sx, o.box.height() * sy});
    }
  }
  return shapes;
}

double mean_best_iou(const std::vector<Anchor>& shapes, const std::vector<Anchor>& anchors) {
  if (shapes.empty()) return 0;
  double total = 0;
  for (const Anchor& s : shapes) {
    float best = 0;
    for (const Anchor& a : anchors) best = std::max(best, shape_iou(s, a));
    total += best;
  }
  return total / static_cast<double>(shapes.size());
}

namespace {

int nearest(const Anchor& s, const std::vector<Anchor>& centres) {
  int best = 0;
  float best_iou = -1;
  for (int c = 0; c < static_cast<int>(centres.size()); ++c) {
    const float iou = shape_iou(s, centres[c]);
    if (iou > best_iou) {
      best_iou = iou;
      best = c;
    }
  }
  return best;
}

float median(std::vector<float>& v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

}  // namespace

AnchorResult kmeans_anchors(const std::vector<Anchor>& shapes, int k, std::uint64_t seed, int max_iterations) {
  if (k <= 0) throw core::ValueError(fmt::format("anchors: k must be positive, got {}", k));
  if (shapes.size() < static_cast<std::size_t>(k)) {
    throw core::ValueError(fmt::format("anchors: {} boxes are too few for k = {} clusters", shapes.size(), k));
  }
  std::mt19937 rng = make_rng(seed, 0, 0, RngPurpose::sample);
  const auto n = static_cast<std::uint32_t>(shapes.size());
  // k-means++: each next centre drawn with probability proportional to its
  // squared distance from the centres so far.
  std::vector<Anchor> centres{shapes[uniform_index(rng, n)]};
  std::vector<double> dist(shapes.size());
  while (static_cast<int>(centres.size()) < k) {
    double total = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      float best = 0;
      for (const Anchor& c : centres) best = std::max(best, shape_iou(shapes[i], c));
      dist[i] = (1.0 - best) * (1.0 - best);
      total += dist[i];
    }
    if (total <= 0) {
      throw core::ValueError(fmt::format("anchors: fewer than k = {} distinct box shapes", k));
    }
    double target = uniform(rng, 0.0f, 1.0f) * total;
    std::size_t pick = 0;
    for (; pick + 1 < shapes.size(); ++pick) {
      target -= dist[pick];
      if (target < 0 && dist[pick] > 0) break;
    }
    centres.push_back(shapes[pick]);
  }

  AnchorResult result;
  std::vector<int> assign(shapes.size(), -1);
  for (result.iterations = 1; result.iterations <= max_iterations; ++result.iterations) {
    bool changed = false;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const int c = nearest(shapes[i], centres);
      changed |= c != assign[i];
      assign[i] = c;
    }
    if (!changed) break;
    for (int c = 0; c < k; ++c) {
      std::vector<float> ws, hs;
      for (std::size_t i = 0; i < shapes.size(); ++i) {
        if (assign[i] == c) {
          ws.push_back(shapes[i].w);
          hs.push_back(shapes[i].h);
        }
      }
      if (!ws.empty()) centres[c] = {median(ws), median(hs)};  // an empty cluster keeps its centre
    }
  }
  result.iterations = std::min(result.iterations, max_iterations);
  std::sort(centres.begin(), centres.end(), [](const Anchor& a, const Anchor& b) { return a.w * a.h < b.w * b.h; });
  result.anchors = centres;
  result.mean_best_iou = mean_best_iou(shapes, centres);
  return result;
}

}  // namespace data
