#include "data/draw.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace data {

namespace {

// Twenty colours that stay apart from each other and from typical photos.
constexpr unsigned char kColours[20][3] = {
    {255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49}, {72, 249, 10},  {146, 204, 23},
    {61, 219, 134}, {26, 147, 52},   {0, 212, 187},  {44, 153, 168}, {0, 194, 255},  {52, 69, 147},  {100, 115, 255},
    {0, 24, 236},   {132, 56, 255},  {82, 0, 133},   {203, 56, 255}, {255, 149, 200}, {255, 55, 199}};

void draw_box(const Canvas& canvas, const LabelledBox& item, const LabelStyle& style) {
  cairo_t* cr = canvas.cr();
  const double half = style.line_width / 2;
  canvas.set_colour(class_colour(item.label));
  cairo_set_line_width(cr, style.line_width);
  cairo_rectangle(cr, item.box.x1 + half, item.box.y1 + half, std::max(0.0, double(item.box.width()) - style.line_width),
                  std::max(0.0, double(item.box.height()) - style.line_width));
  cairo_stroke(cr);
}

// The area of `r` that the labels placed before it would share with it.
double covered_area(const LabelRect& r, const std::vector<LabelRect>& placed) {
  double area = 0;
  for (const LabelRect& p : placed) {
    const double w = std::min(r.x + r.w, p.x + p.w) - std::max(r.x, p.x);
    const double h = std::min(r.y + r.h, p.y + p.h) - std::max(r.y, p.y);
    if (w > 0 && h > 0) area += w * h;
  }
  return area;
}

void draw_label(const Canvas& canvas, const LabelledBox& item, const LabelRect& at, double pad) {
  const Rgb colour = class_colour(item.label);
  canvas.set_colour(colour);
  canvas.fill_rect(at.x, at.y, at.w, at.h);
  canvas.set_colour(text_colour_on(colour));
  canvas.text_at(at.x + pad, at.y + pad / 2, item.text);
}

}  // namespace

Rgb class_colour(int label) {
  const unsigned char* c = kColours[((label % 20) + 20) % 20];
  return {c[0] / 255.0, c[1] / 255.0, c[2] / 255.0};
}

std::string box_label(const std::string& class_name, double score) {
  return score >= 0 ? fmt::format("{} {:.2f}", class_name, score) : class_name;
}

LabelStyle label_style_for(int width, int height) {
  const double side = std::min(width, height);
  return {std::max(12.0, std::round(side / 32)), std::max(2.0, std::round(side / 300))};
}

LabelRect place_label(int picture_width, int picture_height, const Box& box, double label_w, double label_h,
                      const std::vector<LabelRect>& placed) {
  const double max_y = std::max(0.0, picture_height - label_h);
  double y = box.y1 - label_h;
  const bool above_box = y >= 0;
  if (!above_box) y = std::max(0.0, double(box.y1));
  const LabelRect first{std::clamp(double(box.x1), 0.0, std::max(0.0, picture_width - label_w)),
                        std::min(y, max_y), label_w, label_h};
  // Drawing stays quick when --max-dets 0 keeps thousands of boxes: the
  // search is quadratic in the labels before it.
  if (placed.size() >= kMaxMovedLabels) return first;
  std::vector<double> candidates{first.y};
  for (const LabelRect& p : placed) {
    if (p.x >= first.x + first.w || first.x >= p.x + p.w) continue;  // not in the way at any height
    candidates.push_back(p.y - label_h);
    candidates.push_back(p.y + p.h);
  }
  // Away from the box first: up from a label above it, so stacked labels
  // stay off the object; down from one inside it (no room above).
  const auto away = [&](double c) { return above_box ? c <= first.y : c >= first.y; };
  std::stable_sort(candidates.begin(), candidates.end(), [&](double a, double b) {
    if (away(a) != away(b)) return away(a);
    return std::abs(a - first.y) < std::abs(b - first.y);
  });
  // The first free place, else the one that covers the least of the others.
  LabelRect best = first;
  double best_covered = covered_area(first, placed);
  for (const double candidate : candidates) {
    if (candidate < 0 || candidate > max_y) continue;
    LabelRect moved = first;
    moved.y = candidate;
    const double covered = covered_area(moved, placed);
    if (covered == 0) return moved;
    if (covered < best_covered) {
      best = moved;
      best_covered = covered;
    }
  }
  return best;
}

void draw_labelled_boxes(Image& image, const std::vector<LabelledBox>& boxes) {
  if (boxes.empty()) return;
  const Canvas canvas(image);
  const LabelStyle style = label_style_for(image.width, image.height);
  canvas.set_font(style.font_px, true);
  // Every box line first, then the labels, so no line crosses a label. The
  // boxes come most important first (detections: best score first): lines
  // and labels are drawn in reverse, so the first ends on top, and labels
  // are placed in order, so the first keeps its place and later ones move
  // clear of it.
  for (auto b = boxes.rbegin(); b != boxes.rend(); ++b) draw_box(canvas, *b, style);
  const double pad = std::round(style.font_px * 0.25);
  std::vector<const LabelledBox*> labelled;  // the boxes with a text, in order
  std::vector<LabelRect> placed;             // their labels' places
  for (const LabelledBox& b : boxes) {
    if (b.text.empty()) continue;
    const TextSize size = canvas.measure(b.text);
    const double w = size.width + 2 * pad, h = size.height() + pad;
    placed.push_back(place_label(canvas.width(), canvas.height(), b.box, w, h, placed));
    labelled.push_back(&b);
  }
  for (std::size_t i = placed.size(); i-- > 0;) draw_label(canvas, *labelled[i], placed[i], pad);
  image = canvas.to_image();
}

Image make_grid(const std::vector<Image>& tiles, int cols, int pad) {
  if (tiles.empty()) return Image(1, 1);
  int tw = 0, th = 0;
  for (const Image& t : tiles) {
    tw = std::max(tw, t.width);
    th = std::max(th, t.height);
  }
  const int n = static_cast<int>(tiles.size());
  cols = std::max(1, std::min(cols, n));
  const int rows = (n + cols - 1) / cols;
  Image grid(cols * tw + (cols + 1) * pad, rows * th + (rows + 1) * pad, 64.0f);
  for (int i = 0; i < n; ++i) {
    const int ox = pad + (i % cols) * (tw + pad), oy = pad + (i / cols) * (th + pad);
    for (int y = 0; y < tiles[i].height; ++y) std::copy_n(tiles[i].at(0, y), tiles[i].width * 3, grid.at(ox, oy + y));
  }
  return grid;
}

Image render_batch_row(const Batch& batch, int row, const NormalizeParams& normalize,
                       const std::vector<std::string>& class_names) {
  const int S = batch.size;
  const auto B = batch.gt_box.size(1);
  Image im(S, S);
  const float* src = batch.images.data<float>() + static_cast<std::size_t>(row) * 3 * S * S;
  const std::size_t plane = static_cast<std::size_t>(S) * S;
  for (int c = 0; c < 3; ++c) {
    const float m = normalize.mean_std ? normalize.mean[c] : 0.0f, s = normalize.mean_std ? normalize.std[c] : 1.0f;
    for (std::size_t i = 0; i < plane; ++i) im.pixels[i * 3 + c] = (src[c * plane + i] * s + m) * 255.0f;
  }
  const float* box = batch.gt_box.data<float>() + row * B * 4;
  const std::int32_t* label = batch.gt_label.data<std::int32_t>() + row * B;
  const float* score = batch.gt_score.data<float>() + row * B;
  std::vector<std::pair<float, LabelledBox>> scored;
  for (std::int64_t t = 0; t < B; ++t) {
    const float* b = box + t * 4;
    if (b[2] < 1e-6f || b[3] < 1e-6f) continue;  // padding row
    const Box px{(b[0] - b[2] / 2) * S, (b[1] - b[3] / 2) * S, (b[0] + b[2] / 2) * S, (b[1] + b[3] / 2) * S};
    const auto k = static_cast<std::size_t>(label[t]);
    const std::string name = k < class_names.size() ? class_names[k] : std::to_string(label[t]);
    scored.push_back({score[t], {px, label[t], box_label(name, score[t])}});
  }
  // Most important first, as draw_labelled_boxes wants: the higher mixup
  // weight first (a sample's boxes come before its mixup partner's).
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<LabelledBox> boxes;
  for (auto& entry : scored) boxes.push_back(std::move(entry.second));
  draw_labelled_boxes(im, boxes);
  return im;
}

}  // namespace data
