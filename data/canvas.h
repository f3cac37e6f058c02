// Pictures drawn with cairo: an image surface and its drawing context owned
// together, text in DejaVu Sans (Debian's fonts-dejavu-core, found through
// fontconfig), and the way back to an Image for PNG encoding. Every picture
// the project writes (detections, previews, training plots, evaluation
// plots) is drawn through this class.
#pragma once

#include <cairo.h>

#include <string>

#include "data/image.h"

namespace data {

struct Rgb {
  double r = 0, g = 0, b = 0;  // 0..1
};

// Size of a piece of text as cairo lays it out.
struct TextSize {
  double width = 0;
  double ascent = 0;   // above the baseline, for the font as a whole
  double descent = 0;  // below the baseline
  double height() const { return ascent + descent; }
};

class Canvas {
 public:
  // A blank canvas filled with `background`.
  Canvas(int width, int height, Rgb background = {1, 1, 1});
  // A canvas holding a copy of `image` (values rounded and clamped to 0..255).
  explicit Canvas(const Image& image);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() const { return cr_; }
  int width() const { return width_; }
  int height() const { return height_; }

  void set_colour(Rgb c) const { cairo_set_source_rgb(cr_, c.r, c.g, c.b); }
  // The sans-serif face at `pixels` font size (cairo's em size in pixels).
  void set_font(double pixels, bool bold = false) const;
  TextSize measure(const std::string& text) const;
  // Text whose top-left corner of the font box is (x, y), in the current colour.
  void text_at(double x, double y, const std::string& text) const;
  void fill_rect(double x, double y, double w, double h) const;

  // The pixels as an Image (0..255).
  Image to_image() const;

 private:
  int width_ = 0, height_ = 0;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

// Black or white, whichever reads better on `background`.
Rgb text_colour_on(Rgb background);

}  // namespace data
