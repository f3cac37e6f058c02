// Charts as PNG pictures, drawn with cairo through data::Canvas: line
// panels (training curves, precision-recall curves) with a title, axis
// names, tick labels and a legend, and heat maps with a value in each cell
// (the confusion matrix). train/plot.cpp decides what is drawn; this file
// only knows how.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/canvas.h"

namespace train {

struct Curve {
  std::string name;                                 // legend entry
  std::vector<std::pair<double, double>> points;    // (x, y); non-finite y are skipped
};

struct LinePanel {
  std::string title, x_label, y_label;
  std::vector<Curve> curves;
  std::optional<double> x_min, x_max, y_min, y_max;  // fixed limits; otherwise from the data
  bool markers = false;         // a dot at every point (a curve of one point always gets one)
  bool legend_outside = false;  // legend in a column right of the plot (many curves)
};

struct Heatmap {
  std::string title, x_label, y_label;
  std::vector<std::string> row_names, column_names;
  std::vector<std::vector<double>> values;  // [row][column], 0..1; NaN leaves the cell blank
};

// A rectangle on a canvas, in pixels.
struct Area {
  double x = 0, y = 0, width = 0, height = 0;
};

// Text sizes every chart uses (pixels): all at least 12.
inline constexpr double kTitlePx = 17, kLabelPx = 14, kTickPx = 12.5;

void draw_line_panel(const data::Canvas& canvas, const LinePanel& panel, Area area);
void draw_heatmap(const data::Canvas& canvas, const Heatmap& map, Area area);

// Panels in rows of `columns`, each panel_width x panel_height, written
// atomically as one PNG. An empty slot at the end stays blank.
void write_line_panels(const std::string& path, const std::vector<LinePanel>& panels, int columns, int panel_width,
                       int panel_height);
void write_heatmap(const std::string& path, const Heatmap& map, int width, int height);

// Ticks at 1, 2 or 5 times a power of ten covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target);

// The colour of the i-th curve of a panel.
data::Rgb curve_colour(std::size_t i);

}  // namespace train
