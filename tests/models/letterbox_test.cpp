// Darknet's letterbox re-implementation on hand-made images whose expected
// pixels are worked out in the comments (docs/darknet_format.md, 'Letterbox').
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "models/letterbox.h"

namespace models {
namespace {

using core::Tensor;

Tensor image(int c, int h, int w, const std::vector<double>& v) {
  return Tensor::from_vector({c, h, w}, v, core::DType::f32);
}

float at(const Tensor& t, int c, int y, int x) {
  return t.data<float>()[(static_cast<std::size_t>(c) * t.size(1) + y) * t.size(2) + x];
}

TEST(Letterbox, GeometryFollowsDarknetsIntegerArithmetic) {
  // dog.jpg 768x576 into 416x416: width fills, 576*416/768 = 312, offset 52.
  LetterboxGeometry g = letterbox_geometry(768, 576, 416, 416);
  EXPECT_EQ(g.new_w, 416);
  EXPECT_EQ(g.new_h, 312);
  EXPECT_EQ(g.dx, 0);
  EXPECT_EQ(g.dy, 52);
  // A tall image: height fills, 100*320/333 = 96 (truncated), offset (320-96)/2 = 112.
  g = letterbox_geometry(100, 333, 320, 320);
  EXPECT_EQ(g.new_h, 320);
  EXPECT_EQ(g.new_w, 96);
  EXPECT_EQ(g.dx, 112);
  EXPECT_EQ(g.dy, 0);
  // Odd margin: (416 - 415) / 2 = 0 with the extra column on the right.
  g = letterbox_geometry(415, 416, 416, 416);
  EXPECT_EQ(g.new_w, 415);
  EXPECT_EQ(g.dx, 0);
  EXPECT_THROW(letterbox_geometry(0, 5, 32, 32), core::ValueError);
}

TEST(Letterbox, ResizeIsCornerAlignedBilinearWithDarknetsEdges) {
  // One row 0, 3, 6 (W=3) to width 5: scale (3-1)/(5-1) = 0.5, so sources
  // 0, 0.5, 1, 1.5 and the last column copies the last pixel.
  const Tensor row = image(1, 1, 3, {0, 3, 6});
  const Tensor wide = darknet_resize(row, 5, 1);
  const float want[] = {0, 1.5f, 3, 4.5f, 6};
  for (int x = 0; x < 5; ++x) EXPECT_FLOAT_EQ(at(wide, 0, 0, x), want[x]) << x;

  // Two rows 0 and 8 (H=2) to height 3: scale 0.5, rows at 0, 0.5, and the
  // last row keeps only (1-dy)*row[iy] with sy = 2*0.5 = 1 exactly -> row 1.
  const Tensor col = image(1, 2, 1, {0, 8});
  const Tensor tall = darknet_resize(col, 1, 3);
  EXPECT_FLOAT_EQ(at(tall, 0, 0, 0), 0);
  EXPECT_FLOAT_EQ(at(tall, 0, 1, 0), 4);
  EXPECT_FLOAT_EQ(at(tall, 0, 2, 0), 8);

  // Same size: every pixel comes back bit for bit.
  std::vector<double> v;
  for (int i = 0; i < 2 * 4 * 5; ++i) v.push_back(std::sin(i) * 0.5 + 0.5);
  const Tensor im = image(2, 4, 5, v);
  const Tensor same = darknet_resize(im, 5, 4);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(same.data<float>()[i], im.data<float>()[i]) << i;

  EXPECT_THROW(darknet_resize(Tensor::zeros({3, 4}, core::DType::f32), 2, 2), core::ShapeError);
  EXPECT_THROW(darknet_resize(im, 0, 2), core::ValueError);
}

TEST(Letterbox, PastesOnAHalfGreyCanvasAtTheIntegerOffset) {
  // A 4x2 (WxH) image into 4x4: width fills, new_h = 2*4/4 = 2, dy = 1.
  std::vector<double> v(3 * 2 * 4);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i) / 32.0;
  const Tensor im = image(3, 2, 4, v);
  const Tensor boxed = darknet_letterbox(im, 4, 4);
  ASSERT_EQ(boxed.shape(), (core::Shape{3, 4, 4}));
  for (int c = 0; c < 3; ++c) {
    for (int x = 0; x < 4; ++x) {
      EXPECT_EQ(at(boxed, c, 0, x), 0.5f);
      EXPECT_EQ(at(boxed, c, 3, x), 0.5f);
      EXPECT_EQ(at(boxed, c, 1, x), at(im, c, 0, x));
      EXPECT_EQ(at(boxed, c, 2, x), at(im, c, 1, x));
    }
  }
}

TEST(Letterbox, PlanarImageDividesBytesBy255) {
  // Two pixels, interleaved RGB on the 0..255 scale.
  const float rgb[] = {0, 51, 255, 102, 204, 1};
  const Tensor t = darknet_planar_image(2, 1, rgb);
  ASSERT_EQ(t.shape(), (core::Shape{3, 1, 2}));
  EXPECT_EQ(at(t, 0, 0, 0), 0.0f);
  EXPECT_EQ(at(t, 1, 0, 0), static_cast<float>(51 / 255.0));
  EXPECT_EQ(at(t, 2, 0, 0), 1.0f);
  EXPECT_EQ(at(t, 0, 0, 1), static_cast<float>(102 / 255.0));
  EXPECT_EQ(at(t, 1, 0, 1), static_cast<float>(204 / 255.0));
  EXPECT_EQ(at(t, 2, 0, 1), static_cast<float>(1 / 255.0));
}

}  // namespace
}  // namespace models
