#include "data/dataset_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "data/anchors.h"

namespace data {

namespace {
// YOLOv3's COCO anchors at 416, three per head, stride 8 first.
const Anchor kDefaultAnchors[9] = {{10, 13},  {16, 30},  {33, 23},   {30, 61},  {62, 45},
                                   {59, 119}, {116, 90}, {156, 198}, {373, 326}};
}  // namespace

DatasetStats compute_stats(const Dataset& dataset, int size) {
  DatasetStats st;
  st.per_class.assign(dataset.classes.size(), 0);
  st.head_histogram.assign(3, std::vector<std::int64_t>(kSizeBins.size(), 0));
  const float scale = static_cast<float>(size) / 416.0f;
  for (const ImageRecord& r : dataset.images) {
    ++st.images;
    std::int64_t targets = 0;
    for (const Object& o : r.objects) {
      if (o.crowd) ++st.crowd;
      if (o.difficult) ++st.difficult;
      if (o.crowd || o.difficult) continue;
      ++targets;
      ++st.boxes;
      if (o.label >= 0 && o.label < static_cast<int>(st.per_class.size())) ++st.per_class[o.label];
      const Anchor shape{o.box.width() * size / std::max(1, r.width), o.box.height() * size / std::max(1, r.height)};
      int best = 0;
      float best_iou = -1;
      for (int a = 0; a < 9; ++a) {
        const float iou = shape_iou(shape, {kDefaultAnchors[a].w * scale, kDefaultAnchors[a].h * scale});
        if (iou > best_iou) {
          best_iou = iou;
          best = a;
        }
      }
      const float side = std::sqrt(shape.w * shape.h);
      const auto bin = std::upper_bound(kSizeBins.begin(), kSizeBins.end(), static_cast<int>(side)) - kSizeBins.begin();
      ++st.head_histogram[best / 3][std::min<std::size_t>(bin, kSizeBins.size() - 1)];
    }
    if (targets == 0) ++st.empty_images;
  }
  return st;
}

std::string format_stats(const Dataset& dataset, const DatasetStats& st, int size) {
  std::string s = fmt::format("dataset {}\n  images: {} ({} without training boxes)\n", dataset.spec, st.images,
                              st.empty_images);
  s += fmt::format("  boxes: {} training targets, {} difficult, {} crowd\n", st.boxes, st.difficult, st.crowd);
  s += "  boxes per class:\n";
  for (std::size_t c = 0; c < dataset.classes.size(); ++c) {
    s += fmt::format("    {:>3} {:<20} {:>8}\n", c, dataset.classes[c], st.per_class[c]);
  }
  s += fmt::format("  box size histogram by head (sqrt(w*h) in pixels at input {}):\n    {:<10}", size, "head");
  int lo = 0;
  for (const int hi : kSizeBins) {
    s += fmt::format(" {:>9}", hi >= (1 << 30) ? fmt::format(">={}", lo) : fmt::format("{}-{}", lo, hi));
    lo = hi;
  }
  s += "\n";
  const char* heads[3] = {"stride 8", "stride 16", "stride 32"};
  for (int h = 0; h < 3; ++h) {
    s += fmt::format("    {:<10}", heads[h]);
    for (const auto count : st.head_histogram[h]) s += fmt::format(" {:>9}", count);
    s += "\n";
  }
  s += fmt::format("  skipped: {}\n", dataset.skipped.size());
  for (const SkippedFile& f : dataset.skipped) s += fmt::format("    {}\n", f.reason);
  return s;
}

}  // namespace data
