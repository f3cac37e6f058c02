#include "data/canvas.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/error.h"

namespace data {

namespace {

// fontconfig resolves the family; fonts-dejavu-core provides it on Debian.
constexpr const char* kFontFamily = "DejaVu Sans";

std::uint8_t to_byte(float v) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width <= 0 || height <= 0) {
    throw core::ValueError(fmt::format("Canvas: size {}x{} must be positive", width, height));
  }
  surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cr_ = cairo_create(surface_);
  if (cairo_status(cr_) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_status(cr_));
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
    throw core::Error(fmt::format("Canvas: cairo could not make a {}x{} surface: {}", width, height, why));
  }
  set_colour(background);
  cairo_paint(cr_);
}

Canvas::Canvas(const Image& image) : Canvas(image.width, image.height) {
  cairo_surface_flush(surface_);
  unsigned char* base = cairo_image_surface_get_data(surface_);
  const int stride = cairo_image_surface_get_stride(surface_);
  for (int y = 0; y < height_; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(base + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < width_; ++x) {
      const float* p = image.at(x, y);
      row[x] = (std::uint32_t{to_byte(p[0])} << 16) | (std::uint32_t{to_byte(p[1])} << 8) | to_byte(p[2]);
    }
  }
  cairo_surface_mark_dirty(surface_);
}

Canvas::~Canvas() {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

void Canvas::set_font(double pixels, bool bold) const {
  cairo_select_font_face(cr_, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, pixels);
}

TextSize Canvas::measure(const std::string& text) const {
  cairo_text_extents_t te;
  cairo_font_extents_t fe;
  cairo_text_extents(cr_, text.c_str(), &te);
  cairo_font_extents(cr_, &fe);
  return {te.x_advance, fe.ascent, fe.descent};
}

void Canvas::text_at(double x, double y, const std::string& text) const {
  cairo_font_extents_t fe;
  cairo_font_extents(cr_, &fe);
  cairo_move_to(cr_, x, y + fe.ascent);
  cairo_show_text(cr_, text.c_str());
  cairo_new_path(cr_);
}

void Canvas::fill_rect(double x, double y, double w, double h) const {
  cairo_rectangle(cr_, x, y, w, h);
  cairo_fill(cr_);
}

Image Canvas::to_image() const {
  cairo_surface_flush(surface_);
  const unsigned char* base = cairo_image_surface_get_data(surface_);
  const int stride = cairo_image_surface_get_stride(surface_);
  Image image(width_, height_);
  for (int y = 0; y < height_; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(base + static_cast<std::ptrdiff_t>(y) * stride);
    for (int x = 0; x < width_; ++x) {
      float* p = image.at(x, y);
      p[0] = static_cast<float>((row[x] >> 16) & 0xff);
      p[1] = static_cast<float>((row[x] >> 8) & 0xff);
      p[2] = static_cast<float>(row[x] & 0xff);
    }
  }
  return image;
}

Rgb text_colour_on(Rgb background) {
  // Relative luminance (Rec. 709 weights) of the label's fill.
  const double luminance = 0.2126 * background.r + 0.7152 * background.g + 0.0722 * background.b;
  return luminance > 0.55 ? Rgb{0, 0, 0} : Rgb{1, 1, 1};
}

}  // namespace data
