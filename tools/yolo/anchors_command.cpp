#include "tools/yolo/anchors_command.h"

#include <fmt/format.h>

#include <cmath>

#include "data/anchors.h"
#include "data/dataset_spec.h"

namespace yolo {

void run_anchors_command(const AnchorsArgs& args, std::ostream& out) {
  const data::Dataset ds = data::read_dataset(args.dataset, data::ReadOptions{});
  const auto shapes = data::box_shapes(ds, args.size);
  const data::AnchorResult result = data::kmeans_anchors(shapes, args.k, args.seed);
  out << fmt::format("anchors for {}: k={}, input {}, {} boxes, {} iterations\n", ds.spec, args.k, args.size,
                     shapes.size(), result.iterations);
  std::string yaml, darknet;
  for (std::size_t i = 0; i < result.anchors.size(); ++i) {
    const long w = std::lround(result.anchors[i].w), h = std::lround(result.anchors[i].h);
    out << fmt::format("  {:>2}: {:>4} x {:<4} (area {})\n", i, w, h, w * h);
    yaml += fmt::format("{}[{}, {}]", i == 0 ? "" : ", ", w, h);
    darknet += fmt::format("{}{},{}", i == 0 ? "" : ",  ", w, h);
  }
  out << fmt::format("mean best IoU: {:.4f}\n", result.mean_best_iou);
  out << "config:     anchors: [" << yaml << "]\n";
  out << "darknet:    anchors = " << darknet << "\n";
}

}  // namespace yolo
