#include "train/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "data/draw.h"
#include "data/image.h"
#include "train/run_dir.h"

namespace train {

namespace {

void line(data::Image& img, double x0, double y0, double x1, double y1, const float colour[3]) {
  const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const int x = static_cast<int>(std::lround(x0 + (x1 - x0) * t));
    const int y = static_cast<int>(std::lround(y0 + (y1 - y0) * t));
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
    float* p = img.at(x, y);
    for (int c = 0; c < 3; ++c) p[c] = colour[c];
  }
}

}  // namespace

void write_line_plot(const std::string& path, const Series& series, int width, int height) {
  data::Image img(width, height, 255.0f);
  const float axis[3] = {0, 0, 0};
  const float curve[3] = {30, 90, 200};
  const int left = 60, right = width - 10, top = 10, bottom = height - 30;
  line(img, left, top, left, bottom, axis);
  line(img, left, bottom, right, bottom, axis);
  if (!series.points.empty()) {
    double x_min = series.points.front().first, x_max = series.points.back().first;
    double y_min = series.points.front().second, y_max = y_min;
    for (const auto& [x, y] : series.points) {
      if (!std::isfinite(y)) continue;
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
    if (x_max <= x_min) x_max = x_min + 1;
    if (y_max <= y_min) y_max = y_min + 1e-12 + std::abs(y_min) * 1e-6;
    auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * (right - left); };
    auto py = [&](double y) { return bottom - (y - y_min) / (y_max - y_min) * (bottom - top); };
    for (std::size_t i = 1; i < series.points.size(); ++i) {
      const auto& [xa, ya] = series.points[i - 1];
      const auto& [xb, yb] = series.points[i];
      if (std::isfinite(ya) && std::isfinite(yb)) line(img, px(xa), py(ya), px(xb), py(yb), curve);
    }
    if (series.points.size() == 1) line(img, px(x_min) - 2, py(y_min), px(x_min) + 2, py(y_min), curve);
    data::draw_text(img, 2, top, fmt::format("{:.4g}", y_max), axis, 1);
    data::draw_text(img, 2, bottom - 8, fmt::format("{:.4g}", y_min), axis, 1);
    data::draw_text(img, left, bottom + 8, fmt::format("{:.0f}", x_min), axis, 1);
    data::draw_text(img, right - 40, bottom + 8, fmt::format("{:.0f}", x_max), axis, 1);
  }
  core::write_file_atomic(path, data::encode_png(img));
}

void plot_run(const std::string& run_dir, const std::string& map_key) {
  const RunDir run(run_dir);
  Series loss, lr, map;
  for (const auto& j : run.read_metrics()) {
    const double step = j.value("step", 0.0);
    if (j.contains("loss")) loss.points.emplace_back(step, j["loss"].get<double>());
    if (j.contains("lr")) lr.points.emplace_back(step, j["lr"].get<double>());
    if (j.contains("eval")) map.points.emplace_back(step, j["eval"].value(map_key, 0.0));
  }
  write_line_plot(run.plot_path("loss.png"), loss);
  write_line_plot(run.plot_path("lr.png"), lr);
  write_line_plot(run.plot_path("map.png"), map);
}

}  // namespace train
