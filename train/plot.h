// Line plots of training curves (loss, learning rate, mAP) as PNG files, so
// a run directory can be inspected without any plotting tool.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace train {

struct Series {
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

// Renders `series` into a width x height PNG (axes, the curve, min/max
// labels) and writes it atomically. An empty series gives an empty frame.
void write_line_plot(const std::string& path, const Series& series, int width = 480, int height = 300);

// Redraws run_dir/plots/{loss,lr,map}.png from run_dir/metrics.jsonl; `map_key`
// picks the evaluation number plotted ("mAP_area" for VOC, "AP" for COCO).
void plot_run(const std::string& run_dir, const std::string& map_key);

}  // namespace train
