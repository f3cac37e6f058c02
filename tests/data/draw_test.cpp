// Labels drawn with cairo: real text inside a filled label of the box's
// colour, at a readable size, and pictures that survive the round trip
// through a cairo surface.
#include "data/draw.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace data {
namespace {

bool near(const float* p, Rgb c, float tolerance) {
  return std::abs(p[0] - c.r * 255) <= tolerance && std::abs(p[1] - c.g * 255) <= tolerance &&
         std::abs(p[2] - c.b * 255) <= tolerance;
}

TEST(Draw, LabelTextIsDrawnInsideAFilledLabelOfTheBoxColour) {
  Image image(240, 180, 128.0f);
  const Box box{40, 70, 160, 150};
  draw_labelled_boxes(image, {{box, 0, box_label("star", 0.97)}});
  const Rgb fill = class_colour(0);
  const Rgb ink = text_colour_on(fill);
  ASSERT_GT(std::abs(ink.g - fill.g), 0.5) << "the text must stand out from its label";

  // The label sits on the box's top edge, above it: rows of fill colour there.
  int label_rows = 0, ink_pixels = 0, fill_pixels = 0;
  for (int y = 0; y < static_cast<int>(box.y1); ++y) {
    bool row_has_fill = false;
    for (int x = static_cast<int>(box.x1); x < static_cast<int>(box.x2); ++x) {
      if (near(image.at(x, y), fill, 2)) {
        ++fill_pixels;
        row_has_fill = true;
      }
      if (near(image.at(x, y), ink, 40)) ++ink_pixels;
    }
    label_rows += row_has_fill ? 1 : 0;
  }
  EXPECT_GE(label_rows, 12) << "text at least 12 px high needs a label at least that tall";
  EXPECT_GT(fill_pixels, 300);
  EXPECT_GT(ink_pixels, 40) << "no pixels of the text colour inside the label";
  // Outside the label and the box the picture is untouched.
  EXPECT_TRUE(near(image.at(200, 20), {128 / 255.0, 128 / 255.0, 128 / 255.0}, 0.5f));
  EXPECT_TRUE(near(image.at(100, 110), {128 / 255.0, 128 / 255.0, 128 / 255.0}, 0.5f)) << "inside the box";
  // The outline: the box's left edge is in the class colour.
  EXPECT_TRUE(near(image.at(static_cast<int>(box.x1), 120), fill, 2));
}

TEST(Draw, LabelOfABoxAtTheTopGoesInsideTheBoxAndStaysOnThePicture) {
  Image image(100, 100, 0.0f);
  draw_labelled_boxes(image, {{Box{70, 0, 100, 40}, 3, box_label("star", 0.5)}});
  const Rgb fill = class_colour(3);
  int fill_top_rows = 0;
  for (int y = 0; y < 12; ++y) fill_top_rows += near(image.at(99, y), fill, 2) ? 1 : 0;
  EXPECT_EQ(fill_top_rows, 12) << "the label is moved inside the box and left of the right edge";
}

TEST(Draw, NoBoxLineCrossesALabel) {
  // The second box's top edge runs through the first box's label: labels
  // are drawn after every line, so the label keeps only its fill and text.
  Image image(200, 120, 0.0f);
  const Box first{20, 40, 180, 110}, second{10, 30, 190, 100};
  draw_labelled_boxes(image, {{first, 0, box_label("star", 0.97)}, {second, 1, ""}});
  const Rgb fill = class_colour(0), ink = text_colour_on(fill), line = class_colour(1);
  int fill_pixels = 0, line_pixels = 0;
  for (int x = 22; x < 60; ++x) {
    const float* p = image.at(x, 31);  // inside the label, on the second box's edge
    fill_pixels += near(p, fill, 2) ? 1 : 0;
    line_pixels += near(p, line, 2) && !near(p, ink, 40) ? 1 : 0;
  }
  EXPECT_GT(fill_pixels, 10);
  EXPECT_EQ(line_pixels, 0) << "the second box's line is drawn over the first box's label";
}

// Rows of column x above row `end` whose pixel has the colour.
int rows_of_colour(const Image& image, int x, int end, Rgb colour, int* first_row, int* last_row) {
  int rows = 0;
  *first_row = image.height;
  *last_row = -1;
  for (int y = 0; y < end; ++y) {
    if (!near(image.at(x, y), colour, 2)) continue;
    ++rows;
    *first_row = std::min(*first_row, y);
    *last_row = std::max(*last_row, y);
  }
  return rows;
}

TEST(Draw, TwoClassesOnOneObjectKeepBothLabelsInSight) {
  // Two classes found on one object: boxes with about the same corner. The
  // second label goes just above the first instead of under it.
  Image image(240, 180, 0.0f);
  draw_labelled_boxes(image, {{Box{40, 70, 160, 150}, 0, box_label("star", 0.97)},
                              {Box{41, 71, 159, 150}, 1, box_label("moon", 0.41)}});
  int first_top = 0, first_bottom = 0, second_top = 0, second_bottom = 0;
  const int x = 42, end = 70;  // in both labels' left margins, above the boxes' lines
  EXPECT_GE(rows_of_colour(image, x, end, class_colour(0), &first_top, &first_bottom), 12);
  EXPECT_GE(rows_of_colour(image, x, end, class_colour(1), &second_top, &second_bottom), 12)
      << "the second label is hidden under the first";
  EXPECT_LT(second_bottom, first_top) << "the second label is stacked above the first";
  EXPECT_LT(first_top, 70) << "the first label keeps its place above its box";
}

TEST(Draw, LabelsWithNoFreePlaceLeftKeepTheFirstOnTop) {
  // More coincident boxes than the picture has rows of labels for: every
  // label is drawn somewhere on the picture, and the first stays on top at
  // its own place, inside its box at the picture's top edge.
  Image image(120, 40, 0.0f);
  std::vector<LabelledBox> boxes;
  for (int i = 0; i < 6; ++i) boxes.push_back({Box{10, 0, 110, 40}, i, box_label("star", 0.9 - 0.1 * i)});
  draw_labelled_boxes(image, boxes);
  int top = 0, bottom = 0;
  const int end = 37;  // above the boxes' bottom lines
  EXPECT_GE(rows_of_colour(image, 20, end, class_colour(0), &top, &bottom), 12);
  EXPECT_LE(top, 1) << "the first label left its place";
  EXPECT_GE(rows_of_colour(image, 20, end, class_colour(1), &top, &bottom), 12)
      << "the second found the free place below";
}

TEST(Draw, LabelStyleKeepsTextReadableOnSmallAndLargePictures) {
  EXPECT_GE(label_style_for(64, 64).font_px, 12);
  EXPECT_GE(label_style_for(256, 256).font_px, 12);
  EXPECT_GT(label_style_for(1920, 1080).font_px, label_style_for(256, 256).font_px);
  EXPECT_GE(label_style_for(64, 64).line_width, 2);
  EXPECT_EQ(box_label("star", 0.974), "star 0.97");
  EXPECT_EQ(box_label("star", -1), "star");
}

TEST(Draw, CanvasRoundTripKeepsPixels) {
  Image image(7, 5);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<float>((i * 37) % 256);
  image.pixels[0] = 300.0f;  // clamped
  const Image back = Canvas(image).to_image();
  ASSERT_EQ(back.width, 7);
  ASSERT_EQ(back.height, 5);
  EXPECT_EQ(back.pixels[0], 255.0f);
  for (std::size_t i = 1; i < image.pixels.size(); ++i) EXPECT_EQ(back.pixels[i], image.pixels[i]) << i;
}

TEST(Draw, TextColourFollowsTheLabelBrightness) {
  const Rgb dark = text_colour_on({0.1, 0.1, 0.3}), light = text_colour_on({1, 0.9, 0.2});
  EXPECT_EQ(dark.r, 1);
  EXPECT_EQ(light.r, 0);
}

}  // namespace
}  // namespace data
