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
  EXPECT_EQ(first_bottom, 69) << "the first label left its place just above its box";
  // Directly above it (the row between may be shared by both labels' edges).
  EXPECT_GE(first_top - second_bottom, 1);
  EXPECT_LE(first_top - second_bottom, 2) << "the second label is not stacked on the first";
}

TEST(Draw, LabelsWithNoFreePlaceLeftKeepTheFirstOnTop) {
  // More coincident boxes than the picture has rows of labels for: the
  // first label stays on top at its own place, inside its box at the
  // picture's top edge, and the second takes the one free place, below it.
  Image image(120, 40, 0.0f);
  std::vector<LabelledBox> boxes;
  for (int i = 0; i < 6; ++i) boxes.push_back({Box{10, 0, 110, 40}, i, box_label("star", 0.9 - 0.1 * i)});
  draw_labelled_boxes(image, boxes);
  const int x = 12, end = 37;  // the labels' left margin, right of the box lines and above their bottoms
  int first_top = 0, first_bottom = 0, second_top = 0, second_bottom = 0;
  EXPECT_GE(rows_of_colour(image, x, end, class_colour(0), &first_top, &first_bottom), 12);
  EXPECT_EQ(first_top, 0) << "the first label left its place";
  EXPECT_GE(rows_of_colour(image, x, end, class_colour(1), &second_top, &second_bottom), 12)
      << "the second did not find the free place below";
  EXPECT_GE(second_top - first_bottom, 1);
  EXPECT_LE(second_top - first_bottom, 2) << "the second label is not directly below the first";
}

// place_label on its own: exact places, whatever the font.
TEST(PlaceLabel, MovesAwayFromItsBoxToTheNearestFreePlace) {
  const Box box{0, 50, 60, 90};  // room above: the label's first place is y 40
  EXPECT_EQ(place_label(100, 100, box, 50, 10, {}).y, 40);
  EXPECT_EQ(place_label(100, 100, box, 50, 10, {{0, 40, 50, 10}}).y, 30) << "up, away from the box";
  EXPECT_EQ(place_label(100, 100, box, 50, 10, {{0, 40, 50, 10}, {0, 30, 50, 10}}).y, 20);
  // No room above the highest: towards the box, just below the label in the way.
  EXPECT_EQ(place_label(100, 100, box, 50, 10, {{0, 40, 50, 10}, {0, 30, 50, 10}, {0, 0, 50, 30}}).y, 50);
  // A label beside it is not in the way.
  EXPECT_EQ(place_label(100, 100, box, 50, 10, {{50, 40, 50, 10}}).y, 40);
}

TEST(PlaceLabel, InsideItsBoxItMovesDown) {
  const Box box{0, 0, 60, 90};  // no room above: inside the box's top edge, y 0
  EXPECT_EQ(place_label(100, 100, box, 50, 10, {{10, 0, 50, 10}}).y, 10);
}

TEST(PlaceLabel, WithNoFreePlaceItCoversTheLeastOfTheOthers) {
  // A 30-px picture: rows 0-10 and 10-20 are taken whole, 20-30 half.
  const Box box{0, 0, 50, 30};
  const std::vector<LabelRect> placed{{0, 0, 50, 10}, {0, 10, 50, 10}, {25, 20, 50, 10}};
  const LabelRect at = place_label(100, 30, box, 50, 10, placed);
  EXPECT_EQ(at.y, 20);
  EXPECT_EQ(at.x, 0);
}

TEST(PlaceLabel, StaysOnThePictureAndStopsMovingPastTheCap) {
  EXPECT_EQ(place_label(100, 100, Box{90, 95, 100, 100}, 50, 10, {}).x, 50) << "left of the right edge";
  EXPECT_EQ(place_label(40, 8, Box{0, 0, 40, 8}, 50, 10, {}).x, 0) << "wider than the picture: its left edge";
  EXPECT_EQ(place_label(40, 8, Box{0, 0, 40, 8}, 50, 10, {}).y, 0) << "taller than the picture: its top edge";
  const std::vector<LabelRect> pile(kMaxMovedLabels, LabelRect{0, 40, 50, 10});
  EXPECT_EQ(place_label(100, 100, Box{0, 50, 60, 90}, 50, 10, pile).y, 40);
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
