#include "models/detect/nms.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cstddef>
#include <numeric>

#include "core/error.h"

namespace models {

namespace {

// Overlap of two segments given by centre and length (Darknet's overlap()).
float overlap(float c1, float len1, float c2, float len2) {
  const float left = std::max(c1 - len1 / 2, c2 - len2 / 2);
  const float right = std::min(c1 + len1 / 2, c2 + len2 / 2);
  return right - left;
}

}  // namespace

float box_iou(const DecodedBox& a, const DecodedBox& b) {
  const float w = overlap(a.x, a.w, b.x, b.w), h = overlap(a.y, a.h, b.y, b.h);
  if (w <= 0 || h <= 0) return 0.0f;
  const float inter = w * h;
  const float uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

void nms_sort(std::vector<DecodedBox>& boxes, float iou_thresh) {
  // Darknet swaps zero-objectness boxes to the end; they never carry a
  // probability, so dropping them changes nothing else.
  std::erase_if(boxes, [](const DecodedBox& b) { return b.objectness == 0; });
  if (boxes.empty()) return;
  const std::size_t classes = boxes.front().prob.size();
  std::vector<std::size_t> order(boxes.size());
  for (std::size_t k = 0; k < classes; ++k) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Darknet uses qsort, whose tie order is unspecified; a stable sort makes
    // ours reproducible.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t i, std::size_t j) { return boxes[i].prob[k] > boxes[j].prob[k]; });
    for (std::size_t i = 0; i < order.size(); ++i) {
      const DecodedBox& a = boxes[order[i]];
      if (a.prob[k] == 0) continue;
      for (std::size_t j = i + 1; j < order.size(); ++j) {
        DecodedBox& b = boxes[order[j]];
        if (b.prob[k] != 0 && box_iou(a, b) > iou_thresh) b.prob[k] = 0;
      }
    }
  }
}

NmsMethod parse_nms_method(const std::string& name) {
  if (name == "bounded") return NmsMethod::bounded;
  if (name == "darknet") return NmsMethod::darknet;
  throw core::ConfigError(fmt::format("NMS method '{}': expected bounded or darknet", name));
}

namespace {

struct Candidate {
  float score = 0;
  std::uint32_t box = 0;
};

ImageDetection image_detection(const DecodedBox& b, int label, float score, float W, float H) {
  // Clipped as Darknet's validate_detector clips what it writes.
  ImageDetection d;
  d.x1 = std::clamp((b.x - b.w / 2) * W, 0.0f, W);
  d.y1 = std::clamp((b.y - b.h / 2) * H, 0.0f, H);
  d.x2 = std::clamp((b.x + b.w / 2) * W, 0.0f, W);
  d.y2 = std::clamp((b.y + b.h / 2) * H, 0.0f, H);
  d.label = label;
  d.score = score;
  return d;
}

// One class: the best pre_nms_top_k candidates, sorted once, suppressed
// greedily against the kept ones (the first overlap ends the check).
std::vector<Candidate> suppress_class(std::vector<Candidate> cands, const std::vector<DecodedBox>& boxes,
                                      const NmsOptions& options) {
  // Best score first; ties keep box order, as the stable sort of do_nms_sort does.
  auto better = [](const Candidate& a, const Candidate& b) { return a.score > b.score || (a.score == b.score && a.box < b.box); };
  const std::size_t top_k = options.pre_nms_top_k > 0 ? static_cast<std::size_t>(options.pre_nms_top_k) : cands.size();
  if (cands.size() > top_k) {
    std::nth_element(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(top_k), cands.end(), better);
    cands.resize(top_k);
  }
  std::sort(cands.begin(), cands.end(), better);
  const std::size_t cap = options.max_dets > 0 ? static_cast<std::size_t>(options.max_dets) : cands.size();
  std::vector<Candidate> kept;
  for (const Candidate& c : cands) {
    if (kept.size() == cap) break;
    const DecodedBox& a = boxes[c.box];
    bool suppressed = false;
    for (const Candidate& k : kept) {
      if (box_iou(boxes[k.box], a) > options.iou) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(c);
  }
  return kept;
}

// Below this many candidates in all, a second thread costs more than it saves.
constexpr std::size_t kParallelCandidates = 4096;

}  // namespace

std::vector<ImageDetection> bounded_nms(const std::vector<DecodedBox>& boxes, int image_width, int image_height,
                                        float thresh, const NmsOptions& options) {
  if (boxes.empty()) return {};
  const std::size_t classes = boxes.front().prob.size();
  std::vector<std::vector<Candidate>> by_class(classes);
  std::size_t total = 0;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const std::vector<float>& prob = boxes[i].prob;
    for (std::size_t k = 0; k < classes; ++k) {
      if (prob[k] > thresh) by_class[k].push_back({prob[k], static_cast<std::uint32_t>(i)});
    }
  }
  for (const auto& c : by_class) total += c.size();
  std::vector<std::vector<Candidate>> kept(classes);
  const int n = static_cast<int>(classes);
#pragma omp parallel for schedule(dynamic, 1) if (total >= kParallelCandidates && omp_get_max_threads() > 1)
  for (int k = 0; k < n; ++k) {
    const auto kk = static_cast<std::size_t>(k);
    if (!by_class[kk].empty()) kept[kk] = suppress_class(std::move(by_class[kk]), boxes, options);
  }

  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  std::vector<std::pair<Candidate, int>> all;
  for (std::size_t k = 0; k < classes; ++k) {
    for (const Candidate& c : kept[k]) all.emplace_back(c, static_cast<int>(k));
  }
  // Best first; ties in box order, then class order, as to_image_detections orders them.
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    if (a.first.score != b.first.score) return a.first.score > b.first.score;
    if (a.first.box != b.first.box) return a.first.box < b.first.box;
    return a.second < b.second;
  });
  if (options.max_dets > 0 && all.size() > static_cast<std::size_t>(options.max_dets)) {
    all.resize(static_cast<std::size_t>(options.max_dets));
  }
  std::vector<ImageDetection> out;
  out.reserve(all.size());
  for (const auto& [c, label] : all) out.push_back(image_detection(boxes[c.box], label, c.score, W, H));
  return out;
}

std::vector<ImageDetection> to_image_detections(const std::vector<DecodedBox>& boxes, int image_width,
                                                int image_height, float thresh, int max_dets) {
  const float W = static_cast<float>(image_width), H = static_cast<float>(image_height);
  std::vector<ImageDetection> out;
  for (const DecodedBox& b : boxes) {
    for (std::size_t k = 0; k < b.prob.size(); ++k) {
      if (b.prob[k] > thresh) out.push_back(image_detection(b, static_cast<int>(k), b.prob[k], W, H));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ImageDetection& a, const ImageDetection& b) { return a.score > b.score; });
  if (max_dets > 0 && out.size() > static_cast<std::size_t>(max_dets)) out.resize(static_cast<std::size_t>(max_dets));
  return out;
}

}  // namespace models
