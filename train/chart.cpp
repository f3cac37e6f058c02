#include "train/chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/atomic_file.h"
#include "data/draw.h"
#include "data/image.h"

namespace train {

namespace {

using data::Canvas;
using data::Rgb;

constexpr Rgb kBlack{0, 0, 0}, kGrid{0.88, 0.88, 0.88}, kFrame{0.35, 0.35, 0.35};

struct Range {
  double lo = 0, hi = 1;
};

// Data range of the curves' finite points along x (first) or y (second).
std::optional<Range> data_range(const std::vector<Curve>& curves, bool along_y) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Curve& c : curves) {
    for (const auto& [x, y] : c.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      const double v = along_y ? y : x;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!(lo <= hi)) return std::nullopt;
  return Range{lo, hi};
}

// The range an axis shows: fixed limits where given, else the data's with a
// margin, widened when all points share one value.
Range axis_range(std::optional<Range> data, std::optional<double> fixed_lo, std::optional<double> fixed_hi,
                 double margin) {
  Range r = data.value_or(Range{0, 1});
  if (r.hi - r.lo <= std::abs(r.hi) * 1e-9) {
    const double half = r.hi == 0 ? 1 : std::abs(r.hi) * 0.1;
    r = {r.lo - half, r.hi + half};
  } else {
    const double pad = (r.hi - r.lo) * margin;
    r = {r.lo - pad, r.hi + pad};
  }
  if (fixed_lo) r.lo = *fixed_lo;
  if (fixed_hi) r.hi = *fixed_hi;
  if (r.hi <= r.lo) r.hi = r.lo + 1;
  return r;
}

std::string format_tick(double v, double step) {
  if (std::abs(v) < step * 1e-6) return "0";
  if (std::abs(v) >= 1e6 || step < 1e-4) return fmt::format("{:.1e}", v);
  if (step >= 1) return fmt::format("{:.0f}", v);
  const int decimals = static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return fmt::format("{:.{}f}", v, decimals);
}

// Maps data coordinates to pixels inside the plot rectangle.
struct Mapping {
  Area plot;
  Range x, y;
  double px(double v) const { return plot.x + (v - x.lo) / (x.hi - x.lo) * plot.width; }
  double py(double v) const { return plot.y + plot.height - (v - y.lo) / (y.hi - y.lo) * plot.height; }
};

void centred_text(const Canvas& canvas, double cx, double y, const std::string& text) {
  canvas.text_at(cx - canvas.measure(text).width / 2, y, text);
}

// Text rotated a quarter turn counter-clockwise, centred on (cx, cy).
void vertical_text(const Canvas& canvas, double cx, double cy, const std::string& text) {
  const data::TextSize size = canvas.measure(text);
  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  cairo_translate(cr, cx, cy);
  cairo_rotate(cr, -M_PI / 2);
  canvas.text_at(-size.width / 2, -size.height() / 2, text);
  cairo_restore(cr);
}

void draw_axes(const Canvas& canvas, const Mapping& m, const std::vector<double>& xt, const std::vector<double>& yt) {
  cairo_t* cr = canvas.cr();
  const Area& p = m.plot;
  const double x_step = xt.size() > 1 ? xt[1] - xt[0] : 1, y_step = yt.size() > 1 ? yt[1] - yt[0] : 1;
  cairo_set_line_width(cr, 1);
  canvas.set_colour(kGrid);
  for (double v : xt) {
    cairo_move_to(cr, std::round(m.px(v)) + 0.5, p.y);
    cairo_line_to(cr, std::round(m.px(v)) + 0.5, p.y + p.height);
  }
  for (double v : yt) {
    cairo_move_to(cr, p.x, std::round(m.py(v)) + 0.5);
    cairo_line_to(cr, p.x + p.width, std::round(m.py(v)) + 0.5);
  }
  cairo_stroke(cr);
  canvas.set_colour(kFrame);
  cairo_rectangle(cr, std::round(p.x) + 0.5, std::round(p.y) + 0.5, std::round(p.width), std::round(p.height));
  cairo_stroke(cr);
  canvas.set_colour(kBlack);
  canvas.set_font(kTickPx);
  for (double v : xt) centred_text(canvas, m.px(v), p.y + p.height + 4, format_tick(v, x_step));
  for (double v : yt) {
    const std::string t = format_tick(v, y_step);
    const data::TextSize size = canvas.measure(t);
    canvas.text_at(p.x - 5 - size.width, m.py(v) - size.height() / 2, t);
  }
}

void draw_curves(const Canvas& canvas, const LinePanel& panel, const Mapping& m) {
  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  cairo_rectangle(cr, m.plot.x, m.plot.y, m.plot.width, m.plot.height);
  cairo_clip(cr);
  cairo_set_line_width(cr, 2);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (std::size_t i = 0; i < panel.curves.size(); ++i) {
    const Curve& c = panel.curves[i];
    canvas.set_colour(curve_colour(i));
    bool pen_down = false;
    for (const auto& [x, y] : c.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) {
        pen_down = false;
        continue;
      }
      if (pen_down) cairo_line_to(cr, m.px(x), m.py(y));
      else cairo_move_to(cr, m.px(x), m.py(y));
      pen_down = true;
    }
    cairo_stroke(cr);
    if (!panel.markers && c.points.size() != 1) continue;
    for (const auto& [x, y] : c.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      cairo_new_sub_path(cr);
      cairo_arc(cr, m.px(x), m.py(y), 4, 0, 2 * M_PI);
    }
    cairo_fill(cr);
  }
  cairo_restore(cr);
}

constexpr double kSwatch = 22, kLegendPad = 6;

double legend_width(const Canvas& canvas, const std::vector<Curve>& curves) {
  canvas.set_font(kTickPx);
  double w = 0;
  for (const Curve& c : curves) w = std::max(w, canvas.measure(c.name).width);
  return w + kSwatch + 3 * kLegendPad;
}

// How many of the curves' points fall inside a rectangle (in pixels).
int points_inside(const LinePanel& panel, const Mapping& m, Area r) {
  int n = 0;
  for (const Curve& c : panel.curves) {
    for (const auto& [x, y] : c.points) {
      const double px = m.px(x), py = m.py(y);
      n += (px >= r.x && px <= r.x + r.width && py >= r.y && py <= r.y + r.height) ? 1 : 0;
    }
  }
  return n;
}

void draw_legend(const Canvas& canvas, const LinePanel& panel, const Mapping& m, Area panel_area) {
  cairo_t* cr = canvas.cr();
  canvas.set_font(kTickPx);
  const double row = kTickPx * 1.5;
  const double w = legend_width(canvas, panel.curves), h = row * static_cast<double>(panel.curves.size()) + kLegendPad;
  Area box;
  if (panel.legend_outside) {
    box = {m.plot.x + m.plot.width + 10, m.plot.y, w, h};
  } else {
    // The corner of the plot that hides the fewest points.
    const Area p = m.plot;
    const Area corners[4] = {{p.x + p.width - w - 6, p.y + 6, w, h},
                             {p.x + p.width - w - 6, p.y + p.height - h - 6, w, h},
                             {p.x + 6, p.y + 6, w, h},
                             {p.x + 6, p.y + p.height - h - 6, w, h}};
    box = corners[0];
    int fewest = points_inside(panel, m, box);
    for (const Area& c : corners) {
      const int n = points_inside(panel, m, c);
      if (n < fewest) {
        fewest = n;
        box = c;
      }
    }
  }
  box.height = std::min(box.height, panel_area.y + panel_area.height - box.y - 4);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  canvas.fill_rect(box.x, box.y, box.width, box.height);
  cairo_set_line_width(cr, 1);
  canvas.set_colour(kGrid);
  cairo_rectangle(cr, box.x + 0.5, box.y + 0.5, box.width, box.height);
  cairo_stroke(cr);
  for (std::size_t i = 0; i < panel.curves.size(); ++i) {
    const double y = box.y + kLegendPad / 2 + row * static_cast<double>(i);
    if (y + row > box.y + box.height + 1) break;
    canvas.set_colour(curve_colour(i));
    cairo_set_line_width(cr, 2.5);
    cairo_move_to(cr, box.x + kLegendPad, y + row / 2);
    cairo_line_to(cr, box.x + kLegendPad + kSwatch, y + row / 2);
    cairo_stroke(cr);
    canvas.set_colour(kBlack);
    const data::TextSize size = canvas.measure(panel.curves[i].name);
    canvas.text_at(box.x + 2 * kLegendPad + kSwatch, y + (row - size.height()) / 2, panel.curves[i].name);
  }
}

double widest_tick(const Canvas& canvas, const std::vector<double>& ticks) {
  canvas.set_font(kTickPx);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  double w = 0;
  for (double v : ticks) w = std::max(w, canvas.measure(format_tick(v, step)).width);
  return w;
}

void write_canvas(const std::string& path, const Canvas& canvas) {
  core::write_file_atomic(path, data::encode_png(canvas.to_image()));
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo) || target < 1) return {lo};
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) ticks.push_back(k * step);
  return ticks;
}

data::Rgb curve_colour(std::size_t i) {
  // A ten-colour qualitative palette, then the class colours.
  constexpr Rgb kPalette[10] = {{0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
                                {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
                                {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}};
  return i < 10 ? kPalette[i] : data::class_colour(static_cast<int>(i));
}

void draw_line_panel(const Canvas& canvas, const LinePanel& panel, Area area) {
  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  cairo_rectangle(cr, area.x, area.y, area.width, area.height);
  cairo_clip(cr);
  canvas.set_colour({1, 1, 1});
  canvas.fill_rect(area.x, area.y, area.width, area.height);

  const Range x = axis_range(data_range(panel.curves, false), panel.x_min, panel.x_max, panel.markers ? 0.03 : 0.0);
  const Range y = axis_range(data_range(panel.curves, true), panel.y_min, panel.y_max, 0.05);
  const std::vector<double> xt = nice_ticks(x.lo, x.hi, 6), yt = nice_ticks(y.lo, y.hi, 5);
  const double title_h = kTitlePx * 1.4, label_h = kLabelPx * 1.3, tick_h = kTickPx * 1.3;
  const bool legend = panel.curves.size() > 1;
  const double legend_w = legend && panel.legend_outside ? legend_width(canvas, panel.curves) + 16 : 0;
  Area plot;
  plot.x = area.x + 8 + label_h + 8 + widest_tick(canvas, yt) + 6;
  plot.y = area.y + 8 + title_h + 6;
  plot.width = std::max(10.0, area.x + area.width - 16 - legend_w - plot.x);
  plot.height = std::max(10.0, area.y + area.height - 8 - label_h - 4 - tick_h - 4 - plot.y);
  const Mapping m{plot, x, y};

  canvas.set_colour(kBlack);
  canvas.set_font(kTitlePx, true);
  centred_text(canvas, area.x + area.width / 2, area.y + 8, panel.title);
  canvas.set_font(kLabelPx);
  centred_text(canvas, plot.x + plot.width / 2, area.y + area.height - 8 - label_h, panel.x_label);
  vertical_text(canvas, area.x + 8 + label_h / 2, plot.y + plot.height / 2, panel.y_label);
  draw_axes(canvas, m, xt, yt);
  if (!data_range(panel.curves, true)) {
    canvas.set_font(kLabelPx);
    canvas.set_colour(kFrame);
    centred_text(canvas, plot.x + plot.width / 2, plot.y + plot.height / 2 - kLabelPx / 2, "no data yet");
  }
  draw_curves(canvas, panel, m);
  if (legend) draw_legend(canvas, panel, m, area);
  cairo_restore(cr);
}

void write_line_panels(const std::string& path, const std::vector<LinePanel>& panels, int columns, int panel_width,
                       int panel_height) {
  const int n = std::max<int>(1, static_cast<int>(panels.size()));
  columns = std::clamp(columns, 1, n);
  const int rows = (n + columns - 1) / columns;
  const Canvas canvas(columns * panel_width, rows * panel_height);
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const int col = static_cast<int>(i) % columns, row = static_cast<int>(i) / columns;
    draw_line_panel(canvas, panels[i],
                    {double(col * panel_width), double(row * panel_height), double(panel_width), double(panel_height)});
  }
  write_canvas(path, canvas);
}

namespace {

// White through to dark blue as the value goes from 0 to 1.
Rgb heat_colour(double v) {
  v = std::clamp(v, 0.0, 1.0);
  const Rgb lo{0.97, 0.98, 1.0}, hi{0.03, 0.19, 0.42};
  return {lo.r + (hi.r - lo.r) * v, lo.g + (hi.g - lo.g) * v, lo.b + (hi.b - lo.b) * v};
}

double widest(const Canvas& canvas, const std::vector<std::string>& texts) {
  double w = 0;
  for (const std::string& t : texts) w = std::max(w, canvas.measure(t).width);
  return w;
}

// Cells wide enough for "0.00" at the tick size carry their value.
constexpr double kCellForText = 34;

void draw_cells(const Canvas& canvas, const Heatmap& map, Area grid, double cell) {
  cairo_t* cr = canvas.cr();
  canvas.set_font(kTickPx);
  for (std::size_t r = 0; r < map.row_names.size(); ++r) {
    for (std::size_t c = 0; c < map.column_names.size(); ++c) {
      const double v = r < map.values.size() && c < map.values[r].size() ? map.values[r][c] : NAN;
      const double x = grid.x + static_cast<double>(c) * cell, y = grid.y + static_cast<double>(r) * cell;
      const Rgb fill = std::isfinite(v) ? heat_colour(v) : Rgb{0.93, 0.93, 0.93};
      canvas.set_colour(fill);
      canvas.fill_rect(x, y, cell, cell);
      if (!std::isfinite(v) || v == 0 || cell < kCellForText) continue;
      canvas.set_colour(data::text_colour_on(fill));
      const std::string t = v < 0.005 ? "<0.01" : fmt::format("{:.2f}", v);
      const data::TextSize size = canvas.measure(t);
      canvas.text_at(x + (cell - size.width) / 2, y + (cell - size.height()) / 2, t);
    }
  }
  canvas.set_colour(kFrame);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, std::round(grid.x) + 0.5, std::round(grid.y) + 0.5, std::round(grid.width), std::round(grid.height));
  cairo_stroke(cr);
}

}  // namespace

void draw_heatmap(const Canvas& canvas, const Heatmap& map, Area area) {
  canvas.set_colour({1, 1, 1});
  canvas.fill_rect(area.x, area.y, area.width, area.height);
  const double rows = std::max<double>(1, static_cast<double>(map.row_names.size()));
  const double cols = std::max<double>(1, static_cast<double>(map.column_names.size()));
  canvas.set_font(kTickPx);
  const double row_w = widest(canvas, map.row_names) + 8, col_h = widest(canvas, map.column_names) + 8;
  const double title_h = kTitlePx * 1.4, label_h = kLabelPx * 1.3;
  const double left = area.x + 8 + label_h + 6 + row_w, top = area.y + 8 + title_h + 8;
  const double cell = std::max(4.0, std::min((area.x + area.width - 16 - left) / cols,
                                             (area.y + area.height - 8 - label_h - 6 - col_h - top) / rows));
  const Area grid{left, top, cell * cols, cell * rows};

  canvas.set_colour(kBlack);
  canvas.set_font(kTitlePx, true);
  centred_text(canvas, area.x + area.width / 2, area.y + 8, map.title);
  draw_cells(canvas, map, grid, cell);
  canvas.set_colour(kBlack);
  canvas.set_font(kTickPx);
  for (std::size_t r = 0; r < map.row_names.size(); ++r) {
    const data::TextSize size = canvas.measure(map.row_names[r]);
    canvas.text_at(grid.x - 6 - size.width, grid.y + (static_cast<double>(r) + 0.5) * cell - size.height() / 2,
                   map.row_names[r]);
  }
  // Column names read upwards, right-aligned under their column.
  for (std::size_t c = 0; c < map.column_names.size(); ++c) {
    const data::TextSize size = canvas.measure(map.column_names[c]);
    cairo_save(canvas.cr());
    cairo_translate(canvas.cr(), grid.x + (static_cast<double>(c) + 0.5) * cell, grid.y + grid.height + 6);
    cairo_rotate(canvas.cr(), -M_PI / 2);
    canvas.text_at(-size.width, -size.height() / 2, map.column_names[c]);
    cairo_restore(canvas.cr());
  }
  canvas.set_font(kLabelPx);
  centred_text(canvas, grid.x + grid.width / 2, grid.y + grid.height + 6 + col_h + 4, map.x_label);
  vertical_text(canvas, area.x + 8 + label_h / 2, grid.y + grid.height / 2, map.y_label);
}

void write_heatmap(const std::string& path, const Heatmap& map, int width, int height) {
  const Canvas canvas(width, height);
  draw_heatmap(canvas, map, {0, 0, double(width), double(height)});
  write_canvas(path, canvas);
}

}  // namespace train
