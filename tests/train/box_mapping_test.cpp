// Mapping boxes from network-input pixels back to the original image.
#include "train/eval/box_mapping.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace train {
namespace {

TEST(BoxMapping, LetterboxOfALandscapeImage) {
  // 640x480 into 416x416: scale 0.65, content 416x312, pasted at y = 52.
  const InputGeometry g = letterbox_geometry(640, 480, 416, 416);
  EXPECT_EQ(g.content_width, 416);
  EXPECT_EQ(g.content_height, 312);
  EXPECT_EQ(g.offset_x, 0);
  EXPECT_EQ(g.offset_y, 52);
  // Input box (104, 104)-(208, 156): x / 0.65, (y - 52) / 0.65 -> (160, 80)-(320, 160).
  Detection d;
  d.score = 0.7;
  map_box_to_image(104, 104, 208, 156, g, d);
  EXPECT_NEAR(d.x, 160, 1e-9);
  EXPECT_NEAR(d.y, 80, 1e-9);
  EXPECT_NEAR(d.w, 160, 1e-9);
  EXPECT_NEAR(d.h, 80, 1e-9);
  EXPECT_EQ(d.score, 0.7);  // untouched
}

TEST(BoxMapping, LetterboxRoundTripsThroughTheForwardTransform) {
  // A box in a 500x375 image, moved forward with input = p * scale + offset
  // and mapped back, returns to where it started.
  const InputGeometry g = letterbox_geometry(500, 375, 608, 608);
  const double sx = g.content_width / 500, sy = g.content_height / 375;
  Detection d;
  map_box_to_image(48 * sx + g.offset_x, 240 * sy + g.offset_y, 195 * sx + g.offset_x, 371 * sy + g.offset_y, g, d);
  EXPECT_NEAR(d.x, 48, 1e-9);
  EXPECT_NEAR(d.y, 240, 1e-9);
  EXPECT_NEAR(d.w, 147, 1e-9);
  EXPECT_NEAR(d.h, 131, 1e-9);
}

TEST(BoxMapping, StretchAndClipping) {
  // 640x480 stretched to 320x320: x * 2, y * 1.5. The box leaves the input on
  // the right and in the padding-free top; it is clipped to the image.
  const InputGeometry g = stretch_geometry(640, 480, 320, 320);
  Detection d;
  map_box_to_image(-10, 100, 400, 200, g, d);
  EXPECT_NEAR(d.x, 0, 1e-12);
  EXPECT_NEAR(d.y, 150, 1e-12);
  EXPECT_NEAR(d.w, 640, 1e-12);
  EXPECT_NEAR(d.h, 150, 1e-12);
  // Entirely in the letterbox padding above the content: zero height.
  const InputGeometry lb = letterbox_geometry(640, 480, 416, 416);
  map_box_to_image(10, 0, 50, 40, lb, d);
  EXPECT_EQ(d.h, 0);
}

TEST(BoxMapping, RejectsEmptySizes) {
  EXPECT_THROW(letterbox_geometry(0, 480, 416, 416), core::ValueError);
  EXPECT_THROW(stretch_geometry(640, 480, 416, -1), core::ValueError);
}

}  // namespace
}  // namespace train
